//! INITs that cross (RFC 9260 section 5.2.1). Both ends send INIT: the DTLS client as always,
//! the DTLS server because `server_initiates` is set (as Chromium, aiortc and pion do). The
//! INITs meet in flight, one arrives before the other side's is sent or after it was
//! answered, packets are lost, and the peer may ignore our INIT altogether and wait for an
//! answer to its own (what werift does when its ICE role makes it the initiator). Every time
//! exactly one association must come up: each side connects once, every packet after the
//! INITs carries the other side's Initiate Tag, nothing is aborted, channels created on both
//! sides open, with even ids on the DTLS client and odd ones on the server, and carry
//! messages both ways. Back to back without DTLS, and over DTLS on rtcweb-netsim.
#![allow(clippy::unwrap_used)] // test helpers unwrap what the test itself set up

mod common;

use std::collections::{BTreeSet, VecDeque};
use std::time::{Duration, Instant};

use common::{Host, TwoHosts, messages, next_timeout, opened};
use rtcweb_netsim::{LinkParams, Loss, Node, Simulation};
use rtcweb_sctp::{
    ChannelId, ChannelOptions, Event, Role, SctpConfig, SctpTransport, TransportState,
};

const INIT: u8 = 1;
const INIT_ACK: u8 = 2;
const ABORT: u8 = 6;

// ---- the tests' own look at the wire (RFC 9260 section 3) ----

fn first_chunk(p: &[u8]) -> Option<u8> {
    p.get(12).copied()
}

fn vtag(p: &[u8]) -> u32 {
    u32::from_be_bytes(p[4..8].try_into().unwrap())
}

/// The Initiate Tag of an INIT or INIT ACK.
fn initiate_tag(p: &[u8]) -> u32 {
    u32::from_be_bytes(p[16..20].try_into().unwrap())
}

fn chunk_types(p: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut i = 12;
    while i + 4 <= p.len() {
        let len = usize::from(u16::from_be_bytes([p[i + 2], p[i + 3]]));
        if len < 4 {
            break;
        }
        out.push(p[i]);
        i += (len + 3) & !3;
    }
    out
}

fn is_init(p: &[u8]) -> bool {
    first_chunk(p) == Some(INIT)
}

fn answered_an_init(sent: &[Vec<u8>]) -> bool {
    sent.iter().any(|p| first_chunk(p) == Some(INIT_ACK))
}

/// The one Initiate Tag a side used in all its INITs and INIT ACKs.
fn own_tag(sent: &[Vec<u8>], who: &str) -> u32 {
    let tags: BTreeSet<u32> = sent
        .iter()
        .filter(|p| matches!(first_chunk(p), Some(INIT | INIT_ACK)))
        .map(|p| initiate_tag(p))
        .collect();
    assert_eq!(tags.len(), 1, "{who} used Initiate Tags {tags:x?}");
    tags.into_iter().next().unwrap()
}

/// One association on the wire: each side kept one tag, every packet but INIT carries the
/// other side's, INITs carry 0, and nobody aborted.
fn assert_one_association(client: &[Vec<u8>], server: &[Vec<u8>]) {
    let (tc, ts) = (own_tag(client, "client"), own_tag(server, "server"));
    for (sent, peer, who) in [(client, ts, "client"), (server, tc, "server")] {
        for p in sent {
            let want = if is_init(p) { 0 } else { peer };
            assert_eq!(
                vtag(p),
                want,
                "{who} sent {:?} with tag {:x}",
                chunk_types(p),
                vtag(p)
            );
            assert!(!chunk_types(p).contains(&ABORT), "{who} aborted");
        }
    }
}

fn connected_once(events: &[Event], who: &str) {
    let n = events.iter().filter(|e| **e == Event::Connected).count();
    assert_eq!(n, 1, "{who} connected {n} times");
}

fn config(server_initiates: bool) -> SctpConfig {
    let mut c = common::config();
    c.server_initiates = server_initiates;
    c
}

// ---- back to back, no DTLS, packets moved by the test ----

struct Side {
    sctp: SctpTransport,
    events: Vec<Event>,
    /// Every packet this side sent.
    sent: Vec<Vec<u8>>,
    /// Sent and not yet delivered.
    in_flight: VecDeque<Vec<u8>>,
    channel: ChannelId,
}

impl Side {
    /// A transport with one channel created before the association, so it opens with it.
    fn new(now: Instant, role: Role, server_initiates: bool) -> Side {
        let mut sctp = SctpTransport::new(config(server_initiates), role).unwrap();
        let channel = sctp
            .create_channel(now, ChannelOptions::new(format!("{role:?}")))
            .unwrap();
        Side {
            sctp,
            events: Vec::new(),
            sent: Vec::new(),
            in_flight: VecDeque::new(),
            channel,
        }
    }

    fn pump(&mut self, now: Instant) {
        while let Some(p) = self.sctp.poll_transmit(now) {
            self.sent.push(p.to_vec());
            self.in_flight.push_back(p.to_vec());
        }
        while let Some(e) = self.sctp.poll_event() {
            self.events.push(e);
        }
    }
}

/// A client and a server that also initiates, with seeded loss and a filter for what the
/// server ignores.
struct Wire {
    now: Instant,
    client: Side,
    server: Side,
    loss: f64,
    rng: rtcweb_netsim::Rng,
    /// The server ignores these packets from the client (werift ignores our INIT).
    server_ignores: fn(&[u8]) -> bool,
}

impl Wire {
    fn new(loss: f64, seed: u64) -> Wire {
        let now = Instant::now();
        Wire {
            now,
            client: Side::new(now, Role::Client, false),
            server: Side::new(now, Role::Server, true),
            loss,
            rng: rtcweb_netsim::Rng::new(seed),
            server_ignores: |_| false,
        }
    }

    fn lost(&mut self) -> bool {
        self.rng.chance(self.loss)
    }

    /// Delivers the packets in flight to the server for which `pick` holds, in order.
    fn deliver_to_server(&mut self, pick: impl Fn(&[u8]) -> bool) {
        let mut keep = VecDeque::new();
        while let Some(p) = self.client.in_flight.pop_front() {
            if !pick(&p) {
                keep.push_back(p);
            } else if !self.lost() && !(self.server_ignores)(&p) {
                self.server.sctp.handle_input(self.now, &p);
            }
        }
        self.client.in_flight = keep;
    }

    /// Delivers the packets in flight to the client for which `pick` holds, in order.
    fn deliver_to_client(&mut self, pick: impl Fn(&[u8]) -> bool) {
        let mut keep = VecDeque::new();
        while let Some(p) = self.server.in_flight.pop_front() {
            if !pick(&p) {
                keep.push_back(p);
            } else if !self.lost() {
                self.client.sctp.handle_input(self.now, &p);
            }
        }
        self.server.in_flight = keep;
    }

    fn pump(&mut self) {
        self.client.pump(self.now);
        self.server.pump(self.now);
    }

    /// Moves packets (and, when idle, the clock) until `done` or 10 virtual minutes.
    fn run_until(&mut self, done: impl Fn(&Wire) -> bool) -> bool {
        let deadline = self.now + Duration::from_secs(600);
        loop {
            self.pump();
            if done(self) {
                return true;
            }
            if self.client.in_flight.is_empty()
                && self.server.in_flight.is_empty()
                && !next_timeout(
                    &mut self.now,
                    deadline,
                    &mut self.client.sctp,
                    &mut self.server.sctp,
                )
            {
                return false;
            }
            self.deliver_to_server(|_| true);
            self.deliver_to_client(|_| true);
        }
    }

    /// Runs to the end and checks everything the module doc promises.
    fn finish(&mut self, what: &str) {
        let (c, s) = (self.client.channel, self.server.channel);
        assert_eq!(c.0 % 2, 0, "the DTLS client's channel id is even");
        assert_eq!(s.0 % 2, 1, "the DTLS server's channel id is odd");
        let up = self.run_until(|w| {
            [&w.client.events, &w.server.events]
                .iter()
                .all(|e| opened(e, c) && opened(e, s))
        });
        if !up {
            for side in [&self.client, &self.server] {
                eprintln!("{:?} {:?}", side.sctp.state(), side.events);
                for p in &side.sent {
                    let detail = match first_chunk(p) {
                        Some(0) => format!(
                            "tsn {} stream {}",
                            u32::from_be_bytes(p[16..20].try_into().unwrap()),
                            u16::from_be_bytes(p[20..22].try_into().unwrap())
                        ),
                        Some(3) => {
                            format!("cum {}", u32::from_be_bytes(p[16..20].try_into().unwrap()))
                        }
                        Some(1) | Some(2) => format!(
                            "tag {:x} tsn {}",
                            initiate_tag(p),
                            u32::from_be_bytes(p[28..32].try_into().unwrap())
                        ),
                        _ => String::new(),
                    };
                    eprintln!("  {:x} {:?} {detail}", vtag(p), chunk_types(p));
                }
            }
        }
        assert!(up, "{what}: channels did not open on both sides");
        self.client
            .sctp
            .send_text(self.now, c, "from the client")
            .unwrap();
        self.server
            .sctp
            .send_text(self.now, s, "from the server")
            .unwrap();
        let delivered = self.run_until(|w| {
            !messages(&w.server.events, c).is_empty() && !messages(&w.client.events, s).is_empty()
        });
        assert!(delivered, "{what}: messages did not arrive");
        assert_eq!(
            messages(&self.server.events, c)[0].text(),
            Some("from the client")
        );
        assert_eq!(
            messages(&self.client.events, s)[0].text(),
            Some("from the server")
        );
        // A while longer: retransmitted INITs or cookies must not disturb anything.
        let end = self.now + Duration::from_secs(120);
        self.run_until(|w| w.now >= end);
        for side in [&self.client, &self.server] {
            assert_eq!(side.sctp.state(), TransportState::Connected, "{what}");
        }
        connected_once(&self.client.events, "client");
        connected_once(&self.server.events, "server");
        assert_one_association(&self.client.sent, &self.server.sent);
    }
}

#[test]
fn inits_that_cross_in_flight_make_one_association() {
    let mut w = Wire::new(0.0, 1);
    w.client.sctp.start(w.now).unwrap();
    w.server.sctp.start(w.now).unwrap();
    w.pump();
    assert!(w.client.in_flight.iter().any(|p| is_init(p)));
    assert!(w.server.in_flight.iter().any(|p| is_init(p)));
    // Each INIT reaches the other side while its own is unanswered.
    w.deliver_to_server(|_| true);
    w.deliver_to_client(|_| true);
    w.finish("crossing in flight");
    assert!(answered_an_init(&w.client.sent) && answered_an_init(&w.server.sent));
}

#[test]
fn peer_init_that_arrives_before_ours_is_sent() {
    let mut w = Wire::new(0.0, 2);
    w.server.sctp.start(w.now).unwrap();
    w.server.pump(w.now);
    // The client starts (its INIT is queued, not yet polled) and takes the server's INIT.
    w.client.sctp.start(w.now).unwrap();
    w.deliver_to_client(|_| true);
    w.finish("peer INIT before ours is sent");
    assert!(answered_an_init(&w.client.sent));
}

#[test]
fn peer_init_that_arrives_after_it_answered_ours() {
    let mut w = Wire::new(0.0, 3);
    w.client.sctp.start(w.now).unwrap();
    w.server.sctp.start(w.now).unwrap();
    w.pump();
    // The server answers the client's INIT; its INIT ACK overtakes its own INIT.
    w.deliver_to_server(|_| true);
    w.server.pump(w.now);
    w.deliver_to_client(|p| first_chunk(p) == Some(INIT_ACK));
    w.client.pump(w.now);
    assert!(
        w.client.sent.iter().any(|p| first_chunk(p) == Some(10)),
        "COOKIE ECHO sent"
    );
    // Now the server's INIT: the client is in COOKIE-ECHOED.
    w.deliver_to_client(|_| true);
    w.finish("peer INIT after its INIT ACK");
    // Answered as RFC 9260 section 5.2.1 says for COOKIE-ECHOED (an INIT ACK with the same
    // tags); one association results all the same (`finish`).
    assert!(answered_an_init(&w.client.sent), "answered");
}

#[test]
fn peer_init_that_arrives_after_the_association_is_up() {
    let mut w = Wire::new(0.0, 4);
    w.client.sctp.start(w.now).unwrap();
    w.server.sctp.start(w.now).unwrap();
    w.server.pump(w.now);
    let late: Vec<Vec<u8>> = w.server.in_flight.drain(..).collect();
    assert!(late.iter().all(|p| is_init(p)));
    w.finish("before the late INIT");
    let sent = w.client.sent.len();
    for p in &late {
        w.client.sctp.handle_input(w.now, p);
    }
    w.client.pump(w.now);
    // Answered as RFC 9260 section 5.2.2 says: an INIT ACK with a new tag, which the peer,
    // already established, discards. The association carries on.
    let answers = w.client.sent.split_off(sent);
    assert!(!answers.is_empty(), "answered");
    assert!(answers.iter().all(|p| first_chunk(p) == Some(INIT_ACK)));
    // Its new tag belongs to no association: left out of the one-association check.
    w.finish("after the late INIT");
}

#[test]
fn peer_that_ignores_our_init_and_waits_for_an_answer_to_its_own() {
    // werift as the offerer: ICE-controlling, so it sends INIT and drops ours.
    let mut w = Wire::new(0.0, 5);
    w.server_ignores = is_init;
    w.client.sctp.start(w.now).unwrap();
    w.server.sctp.start(w.now).unwrap();
    w.finish("peer ignores our INIT");
    // Up through the peer's handshake alone: we answered, it never did.
    assert!(answered_an_init(&w.client.sent) && !answered_an_init(&w.server.sent));
}

#[test]
fn peer_that_ignores_our_init_sent_its_own_first() {
    let mut w = Wire::new(0.0, 6);
    w.server_ignores = is_init;
    w.server.sctp.start(w.now).unwrap();
    w.server.pump(w.now);
    w.client.sctp.start(w.now).unwrap();
    w.deliver_to_client(|_| true);
    w.finish("peer ignores our INIT, sent its own first");
    assert!(answered_an_init(&w.client.sent) && !answered_an_init(&w.server.sent));
}

#[test]
fn crossing_inits_under_loss() {
    for seed in 0..150 {
        for ignores in [false, true] {
            let mut w = Wire::new(0.3, seed);
            if ignores {
                w.server_ignores = is_init;
            }
            w.client.sctp.start(w.now).unwrap();
            w.server.sctp.start(w.now).unwrap();
            w.finish(&format!(
                "30 % loss, seed {seed}, peer ignores INIT: {ignores}"
            ));
        }
    }
}

// ---- over DTLS on rtcweb-netsim ----

/// Client `a` and initiating server `b` over DTLS across a lossy, jittery, reordering path.
fn over_dtls(loss: f64, seed: u64, server_ignores_init: bool) {
    let start = Instant::now();
    let TwoHosts {
        mut net,
        a,
        b,
        host_a: mut ha,
        host_b: mut hb,
    } = TwoHosts::new(start, seed, common::config());
    let path = LinkParams {
        latency: Duration::from_millis(20),
        jitter: Duration::from_millis(8),
        duplicate: 0.05,
        reorder: 0.1,
        reorder_delay: Duration::from_millis(30),
        loss: Loss::Random(loss),
        ..LinkParams::default()
    };
    net.set_link(Node::Host(a), path.clone());
    net.set_link(Node::Host(b), path);
    hb.sctp = SctpTransport::new(config(true), Role::Server).unwrap();
    let ca = ha
        .sctp
        .create_channel(start, ChannelOptions::new("a"))
        .unwrap();
    let cb = hb
        .sctp
        .create_channel(start, ChannelOptions::new("b"))
        .unwrap();
    assert_eq!((ca.0 % 2, cb.0 % 2), (0, 1), "stream ids by DTLS role");
    ha.record_sctp = true;
    hb.record_sctp = true;
    if server_ignores_init {
        // What b ignores, a's side never delivers.
        ha.drop_sctp = Some(is_init);
    }
    let mut sim = Simulation::new(net);
    sim.attach(a, ha);
    sim.attach(b, hb);
    let what = format!("DTLS, loss {loss}, seed {seed}, peer ignores INIT: {server_ignores_init}");
    let mut sent = false;
    let done = sim.run_until(start + Duration::from_secs(600), |s| {
        let now = s.now();
        let open = |h: &Host| opened(&h.events, ca) && opened(&h.events, cb);
        if !sent && open(s.endpoint::<Host>(a)) && open(s.endpoint::<Host>(b)) {
            sent = true;
            let ha = s.endpoint_mut::<Host>(a);
            ha.sctp.send_text(now, ca, "from a").unwrap();
            let hb = s.endpoint_mut::<Host>(b);
            hb.sctp.send_text(now, cb, "from b").unwrap();
        }
        !messages(&s.endpoint::<Host>(b).events, ca).is_empty()
            && !messages(&s.endpoint::<Host>(a).events, cb).is_empty()
    });
    assert!(done, "{what}: channels did not carry a message both ways");
    // Let stray retransmissions play out.
    let end = sim.now() + Duration::from_secs(60);
    sim.run_until(end, |_| false);
    let (ha, hb) = (sim.endpoint::<Host>(a), sim.endpoint::<Host>(b));
    assert!(!ha.dtls_failed && !hb.dtls_failed, "{what}");
    connected_once(&ha.events, "a");
    connected_once(&hb.events, "b");
    assert_eq!(ha.sctp.state(), TransportState::Connected, "{what}");
    assert_eq!(hb.sctp.state(), TransportState::Connected, "{what}");
    assert_one_association(&ha.sctp_sent, &hb.sctp_sent);
}

#[test]
fn crossing_inits_over_dtls() {
    for seed in 0..4 {
        over_dtls(0.0, seed, false);
        over_dtls(0.0, seed, true);
    }
}

#[test]
fn crossing_inits_over_dtls_with_loss() {
    for seed in 0..12 {
        over_dtls(0.2, seed, seed % 2 == 1);
    }
}
