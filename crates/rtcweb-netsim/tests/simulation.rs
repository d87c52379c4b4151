//! The event loop: endpoints with timers and datagrams on virtual time.

#![allow(clippy::unwrap_used)] // test helpers unwrap what the test itself set up

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use rtcweb_netsim::{
    Datagram, Echo, Filtering, LinkParams, Mapping, NatConfig, Network, Node, SansIo, Simulation,
    Transmit,
};

/// Sends a keepalive every `interval` to `to` and records every reply's arrival time.
struct Keepalive {
    local: SocketAddr,
    to: SocketAddr,
    interval: Duration,
    next: Instant,
    replies: Vec<Instant>,
    pending: bool,
}

impl SansIo for Keepalive {
    type Input<'a> = Datagram<'a>;
    type Transmit = Transmit;
    type Event = ();
    fn poll_event(&mut self) -> Option<()> {
        None
    }
    fn handle_input(&mut self, now: Instant, _: Datagram<'_>) {
        self.replies.push(now);
    }
    fn handle_timeout(&mut self, now: Instant) {
        if now >= self.next {
            self.pending = true;
            self.next = now + self.interval;
        }
    }
    fn poll_transmit(&mut self, _: Instant) -> Option<Transmit> {
        std::mem::take(&mut self.pending)
            .then(|| Transmit::udp(self.local, self.to, b"ka".to_vec()))
    }
    fn poll_timeout(&self) -> Option<Instant> {
        Some(self.next)
    }
}

fn behind_nat(
    interval: Duration,
    timeout: Duration,
    port_preservation: bool,
) -> (Simulation, rtcweb_netsim::HostId, rtcweb_netsim::HostId) {
    let start = Instant::now();
    let mut net = Network::new(start, 1);
    let inet = net.internet();
    let server = net.add_host("server", inet, &["203.0.113.1".parse().unwrap()]);
    let mut cfg = NatConfig::new(
        Mapping::AddressAndPortDependent,
        Filtering::AddressAndPortDependent,
    );
    cfg.mapping_timeout = timeout;
    cfg.port_preservation = port_preservation;
    let (_, lan) = net.add_nat(cfg, inet, "198.51.100.1".parse().unwrap());
    let client = net.add_host("client", lan, &["10.0.0.2".parse().unwrap()]);
    net.set_link(
        Node::Host(client),
        LinkParams::with_latency(Duration::from_millis(25)),
    );
    let mut sim = Simulation::new(net);
    sim.attach(
        client,
        Keepalive {
            local: "10.0.0.2:4000".parse().unwrap(),
            to: "203.0.113.1:3478".parse().unwrap(),
            interval,
            next: start,
            replies: Vec::new(),
            pending: false,
        },
    );
    sim.attach(server, Echo::default());
    (sim, client, server)
}

#[test]
fn minutes_of_virtual_time_run_instantly_and_exactly() {
    let (mut sim, client, server) =
        behind_nat(Duration::from_secs(15), Duration::from_secs(30), true);
    let start = sim.now();
    let wall = std::time::Instant::now();
    sim.run_for(Duration::from_secs(600));
    assert!(wall.elapsed() < Duration::from_secs(5));
    let replies = &sim.endpoint::<Keepalive>(client).replies;
    // A keepalive at 0, 15, ..., 600 s (41 of them; the one at 600 s is still in flight),
    // each answered 50 ms later (25 ms each way on the client's link).
    assert_eq!(replies.len(), 40);
    for (i, t) in replies.iter().enumerate() {
        assert_eq!(
            *t - start,
            Duration::from_secs(15 * i as u64) + Duration::from_millis(50)
        );
    }
    // Keepalives within the mapping timeout keep one mapping: the server sees one source.
    let seen = sim.endpoint::<Echo>(server).sources();
    assert!(seen.windows(2).all(|w| w[0] == w[1]));
    assert_eq!(sim.elapsed(), Duration::from_secs(600));
}

#[test]
fn keepalives_slower_than_the_mapping_timeout_change_the_mapping() {
    // Without port preservation a new mapping gets a new port (with it, the NAT would
    // hand out the internal port again).
    let (mut sim, _, server) = behind_nat(Duration::from_secs(40), Duration::from_secs(30), false);
    sim.run_for(Duration::from_secs(200));
    let seen = sim.endpoint::<Echo>(server).sources();
    assert_eq!(seen.len(), 5);
    assert!(seen.windows(2).all(|w| w[0] != w[1]), "{seen:?}");
}

#[test]
fn run_until_stops_at_the_condition_or_the_deadline() {
    let (mut sim, client, _) = behind_nat(Duration::from_secs(1), Duration::from_secs(30), true);
    let start = sim.now();
    assert!(sim.run_until(start + Duration::from_secs(60), |s| {
        s.endpoint::<Keepalive>(client).replies.len() == 3
    }));
    assert_eq!(sim.now() - start, Duration::from_millis(2050));
    assert!(!sim.run_until(start + Duration::from_secs(5), |_| false));
    assert_eq!(sim.now() - start, Duration::from_secs(5));
}

#[test]
fn an_endpoint_with_nothing_to_do_ends_the_run() {
    let start = Instant::now();
    let mut net = Network::new(start, 1);
    let inet = net.internet();
    let h = net.add_host("idle", inet, &["203.0.113.9".parse().unwrap()]);
    let mut sim = Simulation::new(net);
    sim.attach(h, Echo::default());
    assert!(!sim.step());
    assert!(!sim.run_until(start + Duration::from_secs(3600), |_| false));
}
