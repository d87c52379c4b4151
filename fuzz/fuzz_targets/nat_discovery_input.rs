//! RFC 5780 discovery: arbitrary datagrams on arbitrary local sockets and timeouts.
#![no_main]

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use libfuzzer_sys::fuzz_target;
use rtcweb_turn::Datagram;
use rtcweb_turn::nat::{DiscoveryConfig, NatDiscovery};

fuzz_target!(|data: &[u8]| {
    let server: SocketAddr = "203.0.113.1:3478".parse().expect("literal");
    let start = Instant::now();
    let sockets: [SocketAddr; 4] =
        [0, 1, 2, 3].map(|i| SocketAddr::from(([192, 0, 2, 1], 40000 + i)));
    let mut config = DiscoveryConfig::new(server, sockets);
    config.lifetime_probes = vec![Duration::from_secs(1)];
    let mut d = NatDiscovery::new(config, start, [0; 32]);
    let mut now = start;
    let mut rest = data;
    while let Some((&head, tail)) = rest.split_first() {
        let len = usize::from(head >> 2).min(tail.len());
        let (chunk, next) = tail.split_at(len);
        rest = next;
        while let Some(t) = d.poll_transmit() {
            // Echo our own request back as a hairpin would, sometimes.
            if head & 1 == 1 {
                d.handle_input(now, Datagram::udp(t.destination, t.source, &t.payload));
            }
        }
        let socket = sockets[usize::from(head & 3)];
        d.handle_input(now, Datagram::udp(server, socket, chunk));
        if let Some(t) = d.poll_timeout() {
            now = now.max(t);
            d.handle_timeout(now);
        }
    }
});
