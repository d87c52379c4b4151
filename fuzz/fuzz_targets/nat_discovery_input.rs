//! RFC 5780 discovery: arbitrary datagrams on arbitrary local sockets and timeouts.
#![no_main]

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use libfuzzer_sys::fuzz_target;
use rtcweb_turn::nat::{DiscoveryConfig, NatDiscovery};

fuzz_target!(|data: &[u8]| {
    let server: SocketAddr = "203.0.113.1:3478".parse().expect("literal");
    let start = Instant::now();
    let mut config = DiscoveryConfig::new(server);
    config.lifetime_probes = vec![Duration::from_secs(1)];
    let mut d = NatDiscovery::new(start, config, [0; 32]);
    let mut now = start;
    let mut rest = data;
    while let Some((&head, tail)) = rest.split_first() {
        let len = usize::from(head >> 2).min(tail.len());
        let (chunk, next) = tail.split_at(len);
        rest = next;
        while let Some(t) = d.poll_transmit() {
            // Echo our own request back as a hairpin would, sometimes.
            if head & 1 == 1 {
                d.handle_input(now, t.socket, t.destination, &t.data);
            }
        }
        d.handle_input(now, usize::from(head & 3), server, chunk);
        if let Some(t) = d.poll_timeout() {
            now = now.max(t);
            d.handle_timeout(now);
        }
    }
});
