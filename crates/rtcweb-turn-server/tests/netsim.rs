//! Our TURN client (rtcweb-turn) against our server on the deterministic network simulator:
//! through NAT boxes, with every credential kind, refreshes and expiries on virtual time, and
//! a flood of spoofed Allocate requests.
#![allow(clippy::unwrap_used)] // test helpers unwrap what the test itself set up

mod common;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use common::*;
use rtcweb_netsim::{
    Echo, Filtering, HostId, Mapping, NatConfig, Network, Node, Simulation, Transmit,
};
use rtcweb_stun::{Attribute, IntegrityKey, Method, TransactionId};
use rtcweb_turn::oauth::{AsRsAlgorithm, TokenBlock, encrypt_token};
use rtcweb_turn::{AllocationState, Client, ClientConfig, Credentials, Event, Protocol};
use rtcweb_turn_server::{AuthConfig, OAuthKey, RestSecret, StaticUsers};

const SERVER: &str = "203.0.113.1:3478";
const PEER: &str = "198.51.100.9:4000";
const REST_SECRET: &[u8] = b"rest-secret";
const AS_RS_KEY: [u8; 16] = [0x5a; 16];

fn all_auth() -> AuthConfig {
    let mut users = StaticUsers::new();
    users.insert_password("alice", "wonderland").unwrap();
    AuthConfig {
        users: Some(Box::new(users)),
        rest_secrets: vec![RestSecret::new(REST_SECRET.to_vec())],
        oauth_keys: vec![OAuthKey::new("kid-1", AS_RS_KEY.to_vec()).unwrap()],
    }
}

fn long_term() -> Credentials {
    Credentials::LongTerm {
        username: "alice".into(),
        password: "wonderland".into(),
    }
}

fn rest(expiry: u64) -> Credentials {
    Credentials::rest(REST_SECRET, "alice", expiry)
}

fn oauth_self_issued(lifetime: u32) -> Credentials {
    Credentials::OAuthSelfIssued {
        kid: "kid-1".into(),
        as_rs_key: AS_RS_KEY.to_vec(),
        algorithm: AsRsAlgorithm::A128Gcm,
        server_name: None,
        session_key: vec![0x11; 20],
        issued_at_unix: UNIX_START,
        lifetime,
    }
}

fn oauth_issued() -> Credentials {
    let block = TokenBlock {
        mac_key: vec![0x22; 20],
        timestamp: UNIX_START << 16,
        lifetime: 3600,
    };
    let token = encrypt_token(&AS_RS_KEY, AsRsAlgorithm::A128Gcm, REALM, [3; 12], &block).unwrap();
    Credentials::OAuth {
        kid: "kid-1".into(),
        session_key: vec![0x22; 20],
        token,
    }
}

struct World {
    sim: Simulation,
    client: HostId,
    server: HostId,
    peer: HostId,
    nat: Option<rtcweb_netsim::NatId>,
}

fn world(
    creds: Credentials,
    nat: Option<NatConfig>,
    tweak: impl FnOnce(&mut ClientConfig),
) -> World {
    let start = Instant::now();
    let mut net = Network::new(start, 11);
    let inet = net.internet();
    let server = net.add_host("turn", inet, &[ip("203.0.113.1")]);
    let peer = net.add_host("peer", inet, &[ip("198.51.100.9")]);
    let (nat_id, client, local) = match nat {
        Some(cfg) => {
            let (id, lan) = net.add_nat(cfg, inet, ip("198.51.100.200"));
            (
                Some(id),
                net.add_host("client", lan, &[ip("192.168.1.2")]),
                "192.168.1.2:40000",
            )
        }
        None => (
            None,
            net.add_host("client", inet, &[ip("198.51.100.20")]),
            "198.51.100.20:40000",
        ),
    };
    let mut sim = Simulation::new(net);
    sim.attach(
        server,
        ServerHost::new(config("203.0.113.1"), all_auth(), start),
    );
    sim.attach(peer, Echo::default());
    let mut cc = ClientConfig::new(SERVER.parse().unwrap(), Protocol::Udp, creds);
    tweak(&mut cc);
    sim.attach(
        client,
        TurnHost::new(Client::new(cc, local.parse().unwrap(), [5; 32])),
    );
    World {
        sim,
        client,
        server,
        peer,
        nat: nat_id,
    }
}

impl World {
    fn host(&mut self) -> &mut TurnHost {
        self.sim.endpoint_mut::<TurnHost>(self.client)
    }
    fn turn(&mut self) -> &mut ServerHost {
        self.sim.endpoint_mut::<ServerHost>(self.server)
    }
    fn run(&mut self, secs: u64, done: impl Fn(&TurnHost) -> bool) -> bool {
        let c = self.client;
        let deadline = self.sim.now() + Duration::from_secs(secs);
        self.sim
            .run_until(deadline, |s| done(s.endpoint::<TurnHost>(c)))
    }
    fn allocate(&mut self) -> SocketAddr {
        let now = self.sim.now();
        self.host().inner.allocate(now).unwrap();
        assert!(
            self.run(5, |h| h.has(|e| matches!(e, Event::Allocated { .. }))),
            "{:?}",
            self.host().events
        );
        self.host().inner.relayed_address().unwrap()
    }
}

fn nats() -> Vec<(&'static str, Option<NatConfig>)> {
    vec![
        ("no NAT", None),
        (
            "full cone",
            Some(NatConfig::new(
                Mapping::EndpointIndependent,
                Filtering::EndpointIndependent,
            )),
        ),
        (
            "port restricted",
            Some(NatConfig::new(
                Mapping::EndpointIndependent,
                Filtering::AddressAndPortDependent,
            )),
        ),
        (
            "symmetric",
            Some(NatConfig::new(
                Mapping::AddressAndPortDependent,
                Filtering::AddressAndPortDependent,
            )),
        ),
    ]
}

#[test]
fn every_credential_kind_through_every_nat() {
    let kinds: Vec<(&str, Credentials)> = vec![
        ("long-term", long_term()),
        ("REST", rest(UNIX_START + 86_400)),
        ("OAuth self-issued", oauth_self_issued(3600)),
        ("OAuth issued", oauth_issued()),
    ];
    for (kind, creds) in &kinds {
        for (nat_name, nat) in nats() {
            let mut w = world(creds.clone(), nat, |_| {});
            let relayed = w.allocate();
            assert_eq!(relayed.ip(), ip("203.0.113.1"), "{kind} / {nat_name}");
            let mapped = w.host().events.iter().find_map(|(_, e)| match e {
                Event::Allocated { mapped, .. } => *mapped,
                _ => None,
            });
            let expect_ip = if w.nat.is_some() {
                "198.51.100.200"
            } else {
                "198.51.100.20"
            };
            assert_eq!(mapped.unwrap().ip(), ip(expect_ip), "{kind} / {nat_name}");

            let peer: SocketAddr = PEER.parse().unwrap();
            let now = w.sim.now();
            w.host().inner.create_permission(now, peer.ip()).unwrap();
            assert!(
                w.run(5, |h| h.inner.has_permission(peer.ip())),
                "{kind} / {nat_name}"
            );
            w.host().inner.send_to(peer, b"by indication").unwrap();
            assert!(w.run(5, |h| data(h).len() == 1), "{kind} / {nat_name}");
            let now = w.sim.now();
            let ch = w.host().inner.bind_channel(now, peer).unwrap();
            assert!(w.run(5, |h| h.inner.channel_for(peer) == Some(ch)));
            w.host().inner.send_to(peer, b"by channel").unwrap();
            assert!(w.run(5, |h| data(h).len() == 2), "{kind} / {nat_name}");
            assert_eq!(
                data(w.host()),
                vec![b"by indication".to_vec(), b"by channel".to_vec()]
            );
            // The peer saw the relayed address, not the client.
            assert_eq!(w.sim.endpoint::<Echo>(w.peer).sources(), [relayed, relayed]);

            let now = w.sim.now();
            w.host().inner.deallocate(now).unwrap();
            assert!(
                w.run(5, |h| h.has(|e| *e == Event::Deallocated)),
                "{kind} / {nat_name}"
            );
            let s = w.turn().0.server().stats();
            assert_eq!((s.allocations, s.pending_allocations), (0, 0));
            assert!(w.turn().0.relays_open() == 0, "relay socket released");
        }
    }
}

#[test]
fn refreshes_keep_an_allocation_for_an_hour_and_it_expires_once_the_client_is_gone() {
    let nat = NatConfig::new(
        Mapping::EndpointIndependent,
        Filtering::AddressAndPortDependent,
    );
    let mut w = world(long_term(), Some(nat), |c| c.requested_lifetime = Some(600));
    w.allocate();
    let peer: SocketAddr = PEER.parse().unwrap();
    let now = w.sim.now();
    w.host().inner.bind_channel(now, peer).unwrap();
    w.sim.run_for(Duration::from_secs(3600));
    assert_eq!(w.host().inner.state(), AllocationState::Allocated);
    assert!(
        !w.host().has(|e| matches!(e, Event::AllocationLost(_))),
        "{:?}",
        w.host().events
    );
    let refreshes = w
        .host()
        .events
        .iter()
        .filter(|(_, e)| matches!(e, Event::Refreshed { .. }))
        .count();
    assert!(refreshes >= 6, "{refreshes} refreshes");
    // Nonces are 10 minutes old at most: the client met 438s and retried transparently.
    w.host().inner.send_to(peer, b"after an hour").unwrap();
    assert!(w.run(5, |h| data(h).len() == 1));
    assert_eq!(w.turn().0.server().stats().allocations, 1);

    // The client vanishes: the allocation, its permission and channel expire on their own.
    let client = w.client;
    w.sim.net_mut().set_blackhole(Node::Host(client), true);
    w.sim.run_for(Duration::from_secs(601));
    let s = w.turn().0.server().stats();
    assert_eq!((s.allocations, s.timers), (0, 0), "{s:?}");
    assert!(w.turn().0.relays_open() == 0);
}

#[test]
fn rest_credentials_stop_working_at_their_expiry() {
    // Valid for 15 minutes: the first refresh (at ~9 minutes) works, the next is refused.
    let mut w = world(rest(UNIX_START + 900), None, |_| {});
    w.allocate();
    assert!(w.run(700, |h| h.has(|e| matches!(e, Event::Refreshed { .. }))));
    assert!(
        w.run(1200, |h| h.has(|e| matches!(e, Event::AllocationLost(_)))),
        "{:?}",
        w.host().events
    );
    let lost_at = w
        .host()
        .events
        .iter()
        .find_map(|(t, e)| matches!(e, Event::AllocationLost(_)).then_some(*t))
        .unwrap();
    assert!(lost_at - w.sim.net().start() > Duration::from_secs(900));
}

#[test]
fn oauth_token_lifetime_is_enforced() {
    let mut w = world(oauth_self_issued(700), None, |_| {});
    w.allocate();
    assert!(
        w.run(700, |h| h.has(|e| matches!(e, Event::Refreshed { .. }))),
        "first refresh within the token's life"
    );
    assert!(
        w.run(1200, |h| h.has(|e| matches!(e, Event::AllocationLost(_)))),
        "{:?}",
        w.host().events
    );
}

#[test]
fn a_relay_port_taken_by_another_process_is_replaced() {
    let mut w = world(long_term(), None, |_| {});
    w.turn().0.refuse_next_binds(2);
    let relayed = w.allocate();
    assert!(w.turn().0.is_relay(&relayed));
    assert_eq!(w.turn().0.relays_open(), 1);
}

/// Sends `n` Allocate requests from spoofed sources: half bare, half with made-up
/// credentials (random nonce, a key nobody has).
fn flood(n: u32) -> Raw {
    let mut raw = Raw::default();
    let key = IntegrityKey::from_bytes(b"not a real key");
    for i in 0..n {
        let a = (i >> 16) as u8;
        let from: SocketAddr = format!("198.18.{a}.{}:{}", (i >> 8) as u8, 1024 + (i & 0xff))
            .parse()
            .unwrap();
        let mut id = [0u8; 12];
        id[..4].copy_from_slice(&i.to_be_bytes());
        let creds = (i % 2 == 1).then(|| Creds {
            username: format!("user{i}"),
            key: key.clone(),
            nonce: format!("nonce{i}"),
            token: None,
        });
        let data = request(
            Method::ALLOCATE,
            TransactionId(id),
            &[Attribute::RequestedTransport(17)],
            creds.as_ref(),
        );
        raw.out
            .push_back(Transmit::udp(from, SERVER.parse().unwrap(), data));
    }
    raw
}

#[test]
fn a_flood_of_spoofed_allocates_leaves_nothing_behind() {
    let mut w = world(long_term(), None, |_| {});
    let net = w.sim.net_mut();
    let inet = net.internet();
    let attacker = net.add_host("attacker", inet, &[ip("198.18.0.1")]);
    w.sim.attach(attacker, flood(20_000));
    let mut peak = 0;
    let server = w.server;
    w.sim.run_until(w.sim.now() + Duration::from_secs(2), |s| {
        let st = s.endpoint::<ServerHost>(server).0.server().stats();
        peak = peak.max(st.queued_transmits + st.queued_events);
        st.allocations + st.pending_allocations + st.timers + st.reservations > 0
    });
    assert!(
        w.sim.endpoint::<Raw>(attacker).out.is_empty(),
        "the whole flood was sent"
    );
    let s = w.turn().0.server().stats();
    assert_eq!(
        (
            s.allocations,
            s.pending_allocations,
            s.timers,
            s.reservations
        ),
        (0, 0, 0, 0),
        "{s:?}"
    );
    assert!(
        peak <= w.turn().0.server().config().max_queued_transmits,
        "queues bounded: {peak}"
    );
    assert!(w.turn().0.relays_open() == 0);
    // The real client still gets in, during or after the flood.
    w.sim.attach(attacker, flood(5_000));
    w.allocate();
    assert_eq!(w.turn().0.server().stats().allocations, 1);
}
