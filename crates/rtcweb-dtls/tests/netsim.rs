//! The handshake over rtcweb-netsim's simulated network: latency, jitter and heavy loss on a
//! virtual clock. Lost flights must be retransmitted on virtual time until both sides hold
//! the same keys, deterministically per seed.
#![allow(clippy::unwrap_used)] // test code: a panic is a failed test

mod common;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use common::{cert, config, connected_keys, endpoint};
use rtcweb_dtls::{DtlsEndpoint, DtlsVersion, Event, Role, State, VersionPolicy};
use rtcweb_netsim::{
    Datagram, DropReason, LinkParams, Loss, Network, Node, SansIo, Simulation, Transmit,
};

/// A DTLS endpoint on a simulated host, talking to one peer address.
struct Host {
    dtls: DtlsEndpoint,
    local: SocketAddr,
    peer: SocketAddr,
    events: Vec<Event>,
    sent: usize,
    /// When the handshake clock started: the client's start, the server's first datagram.
    clock_started: Option<Instant>,
    /// When the state left `Handshaking`.
    ended: Option<Instant>,
}

impl Host {
    fn after(&mut self, now: Instant) {
        self.events
            .extend(std::iter::from_fn(|| self.dtls.poll_event()));
        if self.ended.is_none() && self.dtls.state() != &State::Handshaking {
            self.ended = Some(now);
        }
    }
}

impl SansIo for Host {
    type Input<'a> = Datagram<'a>;
    type Transmit = Transmit;
    type Event = ();
    fn poll_event(&mut self) -> Option<()> {
        None
    }
    fn handle_input(&mut self, now: Instant, d: Datagram<'_>) {
        self.clock_started.get_or_insert(now);
        self.dtls.handle_input(now, d.payload);
        self.after(now);
    }
    fn handle_timeout(&mut self, now: Instant) {
        self.dtls.handle_timeout(now);
        self.after(now);
    }
    fn poll_transmit(&mut self, _now: Instant) -> Option<Transmit> {
        let payload = self.dtls.poll_transmit()?;
        self.sent += 1;
        Some(Transmit::udp(self.local, self.peer, payload))
    }
    fn poll_timeout(&self) -> Option<Instant> {
        self.dtls.poll_timeout()
    }
}

struct Outcome {
    connected: bool,
    elapsed: Duration,
    lost: u64,
    client_sent: usize,
    server_sent: usize,
    client: Vec<Event>,
    server: Vec<Event>,
    client_state: State,
    server_state: State,
    server_received: u64,
    /// How long each side spent from its handshake clock start to leaving `Handshaking`.
    client_took: Option<Duration>,
    server_took: Option<Duration>,
}

fn run(version: VersionPolicy, seed: u64, link: LinkParams) -> Outcome {
    let start = Instant::now();
    let mut net = Network::new(start, seed);
    let inet = net.internet();
    let (a_ip, b_ip) = (
        "198.51.100.1".parse().unwrap(),
        "198.51.100.2".parse().unwrap(),
    );
    let a = net.add_host("client", inet, &[a_ip]);
    let b = net.add_host("server", inet, &[b_ip]);
    net.set_link(Node::Host(a), link.clone());
    net.set_link(Node::Host(b), link);
    let (a_addr, b_addr) = (SocketAddr::new(a_ip, 5000), SocketAddr::new(b_ip, 5000));
    let (ca, cb) = (cert(1), cert(2));
    let cfg = config(version, seed);
    let client = endpoint(
        &cfg,
        &ca,
        Role::Client,
        vec![cb.fingerprint().clone()],
        start,
    )
    .unwrap();
    let server = endpoint(
        &cfg,
        &cb,
        Role::Server,
        vec![ca.fingerprint().clone()],
        start,
    )
    .unwrap();
    let mut sim = Simulation::new(net);
    let host = |dtls, local, peer, clock_started| Host {
        dtls,
        local,
        peer,
        events: Vec::new(),
        sent: 0,
        clock_started,
        ended: None,
    };
    sim.attach(a, host(client, a_addr, b_addr, Some(start)));
    sim.attach(b, host(server, b_addr, a_addr, None));
    // Until both are connected, or neither is still handshaking (a server that never heard
    // anything waits forever, so it does not count).
    let connected = sim.run_until(start + Duration::from_secs(120), |s| {
        let (c, v) = (s.endpoint::<Host>(a), s.endpoint::<Host>(b));
        let waiting = |h: &Host| h.dtls.state() == &State::Handshaking && h.clock_started.is_some();
        (c.dtls.state() == &State::Connected && v.dtls.state() == &State::Connected)
            || (!waiting(c) && !waiting(v))
    }) && sim.endpoint::<Host>(a).dtls.state() == &State::Connected
        && sim.endpoint::<Host>(b).dtls.state() == &State::Connected;
    Outcome {
        connected,
        elapsed: sim.elapsed(),
        lost: sim.net().trace().drops(DropReason::Loss),
        client_sent: sim.endpoint::<Host>(a).sent,
        server_sent: sim.endpoint::<Host>(b).sent,
        client: sim.endpoint::<Host>(a).events.clone(),
        server: sim.endpoint::<Host>(b).events.clone(),
        client_state: sim.endpoint::<Host>(a).dtls.state().clone(),
        server_state: sim.endpoint::<Host>(b).dtls.state().clone(),
        server_received: sim.endpoint::<Host>(b).dtls.stats().datagrams_received,
        client_took: took(sim.endpoint::<Host>(a)),
        server_took: took(sim.endpoint::<Host>(b)),
    }
}

fn took(h: &Host) -> Option<Duration> {
    Some(h.ended? - h.clock_started?)
}

fn assert_same_keys(o: &Outcome, ctx: &str) {
    let ck = connected_keys(&o.client).unwrap_or_else(|| panic!("{ctx}: client has no keys"));
    let sk = connected_keys(&o.server).unwrap_or_else(|| panic!("{ctx}: server has no keys"));
    assert_eq!(ck.local, sk.remote, "{ctx}");
    assert_eq!(ck.remote, sk.local, "{ctx}");
}

#[test]
fn clean_path_with_latency_takes_round_trips_only() {
    for version in [VersionPolicy::Dtls12, VersionPolicy::Dtls13] {
        let o = run(
            version,
            1,
            LinkParams::with_latency(Duration::from_millis(25)),
        );
        assert!(o.connected, "{version:?}");
        assert_same_keys(&o, &format!("{version:?}"));
        assert_eq!(o.lost, 0);
        // No timer fired: well under one RTO. 1.2 with cookie: 3 round trips of 100 ms
        // (two 25 ms links each way); 1.3 with cookie: 2 and a half.
        assert!(
            o.elapsed < Duration::from_millis(500),
            "{version:?}: {:?}",
            o.elapsed
        );
    }
}

/// 12 % loss on each access link (about 23 % per end-to-end datagram), plus jitter: every
/// seed still connects, by retransmitting on the virtual clock.
#[test]
fn loss_is_recovered_by_retransmission_on_virtual_time() {
    let lossy = LinkParams {
        latency: Duration::from_millis(20),
        jitter: Duration::from_millis(10),
        loss: Loss::Random(0.12),
        mtu: Some(1200),
        ..LinkParams::default()
    };
    let wall = Instant::now();
    let mut virtual_total = Duration::ZERO;
    let mut retransmitting_runs = 0;
    for version in [
        VersionPolicy::Dtls12,
        VersionPolicy::Dtls13,
        VersionPolicy::Auto,
    ] {
        let clean = run(
            version,
            0,
            LinkParams::with_latency(Duration::from_millis(20)),
        );
        for seed in 1..=12 {
            let ctx = format!("{version:?} seed {seed}");
            let o = run(version, seed, lossy.clone());
            assert!(
                o.connected,
                "{ctx}: not connected after {:?}, lost {}",
                o.elapsed, o.lost
            );
            assert_same_keys(&o, &ctx);
            let version_seen = o.client.iter().find_map(|e| match e {
                Event::Connected { version, .. } => Some(*version),
                _ => None,
            });
            let want = match version {
                VersionPolicy::Dtls12 => DtlsVersion::Dtls12,
                _ => DtlsVersion::Dtls13,
            };
            assert_eq!(version_seen, Some(want), "{ctx}");
            if o.lost > 0 && o.client_sent + o.server_sent > clean.client_sent + clean.server_sent {
                retransmitting_runs += 1;
                // A retransmission waits at least one (jittered) RTO of 1 s.
                assert!(
                    o.elapsed >= Duration::from_millis(750),
                    "{ctx}: {:?}",
                    o.elapsed
                );
            }
            virtual_total += o.elapsed;
        }
    }
    assert!(
        retransmitting_runs >= 12,
        "only {retransmitting_runs} runs lost a flight"
    );
    // Many virtual seconds, little real time: the clock is injected.
    assert!(virtual_total > Duration::from_secs(30), "{virtual_total:?}");
    assert!(
        wall.elapsed() < virtual_total / 4,
        "{:?} real",
        wall.elapsed()
    );
}

/// 35 % loss per link (58 % end to end): some handshakes cannot finish in time. Each run ends
/// cleanly: both connected with the same keys, or a side failed with `HandshakeTimeout` within
/// the 30 s handshake timeout. (When the last flight of DTLS 1.2 is lost for good, the server
/// may be connected while the client times out: DTLS has no way to learn that the peer gave
/// up.)
#[test]
fn extreme_loss_ends_connected_or_timed_out() {
    let lossy = LinkParams {
        latency: Duration::from_millis(20),
        loss: Loss::Random(0.35),
        ..LinkParams::default()
    };
    let (mut ok, mut timed_out) = (0, 0);
    for version in [VersionPolicy::Dtls12, VersionPolicy::Dtls13] {
        for seed in 100..120 {
            let ctx = format!("{version:?} seed {seed}");
            let o = run(version, seed, lossy.clone());
            if o.connected {
                assert_same_keys(&o, &ctx);
                ok += 1;
                continue;
            }
            timed_out += 1;
            let failed = State::Failed(rtcweb_dtls::Error::HandshakeTimeout);
            assert!(
                o.client_state == failed || o.server_state == failed,
                "{ctx}: {:?} / {:?}",
                o.client_state,
                o.server_state
            );
            for state in [&o.client_state, &o.server_state] {
                // A server that never received a datagram has nothing to time out: it waits,
                // idle (no timer), like a listening socket.
                let idle = state == &o.server_state
                    && state == &State::Handshaking
                    && o.server_received == 0;
                assert!(
                    state == &failed || state == &State::Connected || idle,
                    "{ctx}: {state:?}"
                );
            }
            // Each side gives up within the 30 s handshake timeout of its own clock start.
            for took in [o.client_took, o.server_took].into_iter().flatten() {
                assert!(took <= Duration::from_secs(30), "{ctx}: {took:?}");
            }
        }
    }
    assert!(
        ok > 0 && timed_out > 0,
        "connected {ok}, timed out {timed_out}"
    );
}

#[test]
fn same_seed_same_run() {
    let lossy = LinkParams {
        latency: Duration::from_millis(30),
        loss: Loss::Random(0.3),
        ..LinkParams::default()
    };
    let a = run(VersionPolicy::Dtls12, 7, lossy.clone());
    let b = run(VersionPolicy::Dtls12, 7, lossy);
    assert_eq!(
        (a.connected, a.elapsed, a.lost, a.client_sent, a.server_sent),
        (b.connected, b.elapsed, b.lost, b.client_sent, b.server_sent)
    );
}
