//! The TURN client against a test TURN server on the deterministic network simulator.
#![allow(clippy::unwrap_used)]

mod common;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use common::{FakeTurn, ServerAuth, TurnHost, data_count};
use rtcweb_netsim::Echo;
use rtcweb_netsim::{Filtering, HostId, LinkParams, Loss, Mapping, NatConfig, Network, Simulation};
use rtcweb_stun::Method;
use rtcweb_turn::oauth::AsRsAlgorithm;
use rtcweb_turn::{AllocationState, Client, ClientConfig, Credentials, Event, Failure, Protocol};

const SERVER: &str = "203.0.113.1:3478";
const PEER: &str = "198.51.100.9:4000";

struct World {
    sim: Simulation,
    start: Instant,
    client: HostId,
    server: HostId,
    peer: HostId,
}

fn long_term() -> Credentials {
    Credentials::LongTerm {
        username: "alice".into(),
        password: "wonderland".into(),
    }
}

fn users() -> ServerAuth {
    ServerAuth::Users(vec![("alice".into(), "wonderland".into())])
}

/// Client behind a port-restricted cone NAT, server and an echo peer on the internet.
fn world(
    creds: Credentials,
    auth: ServerAuth,
    tweak: impl FnOnce(&mut FakeTurn, &mut ClientConfig),
) -> World {
    let start = Instant::now();
    let mut net = Network::new(start, 7);
    let inet = net.internet();
    let server = net.add_host(
        "turn",
        inet,
        &[
            "203.0.113.1".parse().unwrap(),
            "203.0.113.2".parse().unwrap(),
        ],
    );
    let peer = net.add_host("peer", inet, &["198.51.100.9".parse().unwrap()]);
    let nat = NatConfig::new(
        Mapping::EndpointIndependent,
        Filtering::AddressAndPortDependent,
    );
    let (_, lan) = net.add_nat(nat, inet, "198.51.100.200".parse().unwrap());
    let client = net.add_host("client", lan, &["192.168.1.2".parse().unwrap()]);
    let mut sim = Simulation::new(net);
    let mut fake = FakeTurn::new(SERVER.parse().unwrap(), auth);
    let local: SocketAddr = "192.168.1.2:40000".parse().unwrap();
    let mut config = ClientConfig::new(SERVER.parse().unwrap(), Protocol::Udp, creds);
    tweak(&mut fake, &mut config);
    sim.attach(server, fake);
    sim.attach(peer, Echo::default());
    sim.attach(client, TurnHost::new(Client::new(config, local, [5; 32])));
    World {
        sim,
        start,
        client,
        server,
        peer,
    }
}

impl World {
    fn host(&mut self) -> &mut TurnHost {
        self.sim.endpoint_mut::<TurnHost>(self.client)
    }
    fn turn(&self) -> &FakeTurn {
        self.sim.endpoint::<FakeTurn>(self.server)
    }
    fn run(&mut self, secs: u64, done: impl Fn(&TurnHost) -> bool) -> bool {
        let c = self.client;
        let deadline = self.sim.now() + Duration::from_secs(secs);
        self.sim
            .run_until(deadline, |s| done(s.endpoint::<TurnHost>(c)))
    }
    fn allocate(&mut self) {
        let now = self.sim.now();
        self.host().inner.allocate(now).unwrap();
        assert!(
            self.run(5, |h| h.has(|e| matches!(e, Event::Allocated { .. }))),
            "{:?}",
            self.host().events
        );
    }
}

#[test]
fn allocate_permission_channel_and_echo() {
    let mut w = world(long_term(), users(), |_, _| {});
    w.allocate();
    let (relayed, mapped) = match &w.host().events[0].1 {
        Event::Allocated {
            relayed, mapped, ..
        } => (*relayed, *mapped),
        e => panic!("{e:?}"),
    };
    assert_eq!(relayed.ip().to_string(), "203.0.113.1");
    assert_eq!(
        mapped.unwrap().ip().to_string(),
        "198.51.100.200",
        "seen through the NAT"
    );
    // The exchange took one challenge: Allocate, 401, Allocate, success.
    assert_eq!(w.turn().log.len(), 1);

    let peer: SocketAddr = PEER.parse().unwrap();
    let now = w.sim.now();
    // No permission yet: refused locally.
    assert!(w.host().inner.send_to(peer, b"x").is_err());
    w.host().inner.create_permission(now, peer.ip()).unwrap();
    assert!(w.run(5, |h| h.inner.has_permission(peer.ip())));

    // Send indication -> peer echoes -> Data indication.
    w.host().inner.send_to(peer, b"via indication").unwrap();
    assert!(w.run(5, |h| data_count(h) == 1));

    let now = w.sim.now();
    let ch = w.host().inner.bind_channel(now, peer).unwrap();
    assert!(w.run(5, |h| h.inner.channel_for(peer) == Some(ch)));
    w.host().inner.send_to(peer, b"via channel").unwrap();
    assert!(w.run(5, |h| data_count(h) == 2));
    let datas: Vec<Vec<u8>> = w
        .host()
        .events
        .iter()
        .filter_map(|(_, e)| match e {
            Event::Data { peer: p, data } if *p == peer => Some(data.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(
        datas,
        vec![b"via indication".to_vec(), b"via channel".to_vec()]
    );
    assert_eq!(w.sim.endpoint::<Echo>(w.peer).received(), 2);
}

#[test]
fn refreshes_keep_allocation_permissions_and_channels_alive_for_an_hour() {
    let mut w = world(long_term(), users(), |_, c| {
        c.requested_lifetime = Some(300)
    });
    w.allocate();
    let peer: SocketAddr = PEER.parse().unwrap();
    let now = w.sim.now();
    w.host().inner.bind_channel(now, peer).unwrap();
    w.host()
        .inner
        .create_permission(now, "198.51.100.10".parse().unwrap())
        .unwrap();
    w.sim.run_for(Duration::from_secs(3600));
    assert_eq!(w.host().inner.state(), AllocationState::Allocated);
    assert!(!w.host().has(|e| matches!(e, Event::AllocationLost(_))));

    let log = w.turn().log.clone();
    let times = |m: Method| -> Vec<Instant> {
        log.iter()
            .filter(|(_, mm, _)| *mm == m)
            .map(|(t, _, _)| *t)
            .collect()
    };
    let gaps = |ts: &[Instant]| -> Vec<Duration> { ts.windows(2).map(|w| w[1] - w[0]).collect() };
    let refreshes = times(Method::REFRESH);
    assert!(refreshes.len() >= 14, "{} refreshes", refreshes.len());
    // Lifetime 300 s: refreshed a minute before expiry.
    assert!(
        gaps(&refreshes)
            .iter()
            .all(|g| *g == Duration::from_secs(240)),
        "{:?}",
        gaps(&refreshes)
    );
    let perms = times(Method::CREATE_PERMISSION);
    assert!(perms.len() >= 14);
    assert!(gaps(&perms).iter().all(|g| *g < Duration::from_secs(300)));
    let binds = times(Method::CHANNEL_BIND);
    assert!(binds.len() >= 6);
    assert!(
        gaps(&binds).iter().all(|g| *g < Duration::from_secs(600)),
        "{:?}",
        gaps(&binds)
    );

    // After an hour the channel still carries data.
    w.host().inner.send_to(peer, b"still here").unwrap();
    assert!(w.run(5, |h| data_count(h) == 1));
}

#[test]
fn works_under_loss_with_retransmissions() {
    let mut w = world(long_term(), users(), |_, _| {});
    let lossy = LinkParams {
        loss: Loss::Random(0.3),
        ..LinkParams::default()
    };
    w.sim
        .net_mut()
        .set_link(rtcweb_netsim::Node::Host(w.client), lossy);
    let now = w.sim.now();
    w.host().inner.allocate(now).unwrap();
    assert!(
        w.run(60, |h| h.has(|e| matches!(e, Event::Allocated { .. }))),
        "{:?}",
        w.host().events
    );
}

#[test]
fn stale_nonce_is_retried() {
    let mut w = world(long_term(), users(), |s, _| s.stale_nonce_once = true);
    w.allocate();
    assert_eq!(w.turn().nonce, "nonce-1");
}

#[test]
fn sha256_password_algorithm_is_negotiated() {
    let mut w = world(long_term(), users(), |s, _| s.offer_sha256 = true);
    w.allocate();
    // The server offered [SHA-256, MD5] and accepts both: the client must pick SHA-256 (its
    // first choice it supports) and echo the list unchanged (RFC 8489 9.2.4, bid-down
    // protection) on every authenticated request.
    let offered: &[u8] = &[0, 2, 0, 0, 0, 1, 0, 0];
    let seen = &w.turn().auth_seen;
    assert!(!seen.is_empty());
    for (algorithm, echoed) in seen {
        assert_eq!(*algorithm, Some(2), "PASSWORD-ALGORITHM: {seen:?}");
        assert_eq!(
            echoed.as_deref(),
            Some(offered),
            "PASSWORD-ALGORITHMS: {seen:?}"
        );
    }
}

#[test]
fn md5_stays_without_an_offer() {
    let mut w = world(long_term(), users(), |_, _| {});
    w.allocate();
    // No PASSWORD-ALGORITHMS from the server: RFC 5389 behaviour, neither attribute sent.
    assert!(
        w.turn().auth_seen.iter().all(|s| *s == (None, None)),
        "{:?}",
        w.turn().auth_seen
    );
}

#[test]
fn wrong_password_fails_clearly() {
    let creds = Credentials::LongTerm {
        username: "alice".into(),
        password: "nope".into(),
    };
    let mut w = world(creds, users(), |_, _| {});
    let now = w.sim.now();
    w.host().inner.allocate(now).unwrap();
    assert!(w.run(5, |h| {
        h.has(|e| *e == Event::AllocationFailed(Failure::Unauthorized))
    }));
    assert_eq!(w.host().inner.state(), AllocationState::Idle);
}

#[test]
fn challenge_loop_is_bounded() {
    // The server rotates its nonce on every failure, so "same nonce" never says "wrong
    // password": the bound on challenges ends it.
    let creds = Credentials::LongTerm {
        username: "alice".into(),
        password: "nope".into(),
    };
    let mut w = world(creds, users(), |s, _| s.rotate_nonce_on_401 = true);
    let now = w.sim.now();
    w.host().inner.allocate(now).unwrap();
    assert!(w.run(5, |h| {
        h.has(|e| *e == Event::AllocationFailed(Failure::ChallengeLoop))
    }));
    assert_eq!(w.host().inner.outstanding_requests(), 0);
}

#[test]
fn error_answers_486_and_508() {
    for code in [486u16, 508] {
        let mut w = world(long_term(), users(), |s, _| s.answer_allocate = Some(code));
        let now = w.sim.now();
        w.host().inner.allocate(now).unwrap();
        assert!(w.run(5, |h| h.has(|e| matches!(e, Event::AllocationFailed(Failure::ErrorResponse { code: c, .. }) if *c == code))));
        let now = w.sim.now();
        let again = w.host().inner.allocate(now);
        if code == 508 {
            assert_eq!(again, Err(rtcweb_turn::Error::Backoff));
            w.sim.run_for(Duration::from_secs(61));
            let now = w.sim.now();
            assert!(w.host().inner.allocate(now).is_ok());
        } else {
            assert!(again.is_ok());
        }
    }
}

#[test]
fn try_alternate_300_redirects() {
    let alt: SocketAddr = "203.0.113.2:3478".parse().unwrap();
    let mut w = world(long_term(), users(), |s, _| s.redirect = Some(alt));
    // The same fake answers on the alternate address too.
    let start = w.start;
    let _ = start;
    // Move the server's listening address to the alternate after the redirect.
    let now = w.sim.now();
    w.host().inner.allocate(now).unwrap();
    assert!(w.run(5, |h| h.has(|e| matches!(e, Event::Redirected { .. }))));
    assert_eq!(w.host().inner.server(), alt);
    let server = w.server;
    w.sim.endpoint_mut::<FakeTurn>(server).addr = alt;
    assert!(w.run(5, |h| h.has(|e| matches!(e, Event::Allocated { .. }))));
    assert_eq!(
        w.host().inner.relayed_address().unwrap().ip().to_string(),
        "203.0.113.1"
    );
}

#[test]
fn allocation_mismatch_437() {
    let mut w = world(long_term(), users(), |s, _| s.answer_allocate = Some(437));
    let now = w.sim.now();
    w.host().inner.allocate(now).unwrap();
    assert!(w.run(5, |h| h.has(|e| matches!(
        e,
        Event::AllocationFailed(Failure::ErrorResponse { code: 437, .. })
    ))));
    // A Refresh answered 437 means the allocation is gone.
    let mut w = world(long_term(), users(), |_, c| {
        c.requested_lifetime = Some(120)
    });
    w.allocate();
    let server = w.server;
    w.sim.endpoint_mut::<FakeTurn>(server).allocs.clear();
    assert!(w.run(200, |h| h.has(|e| matches!(
        e,
        Event::AllocationLost(Failure::ErrorResponse { code: 437, .. })
    ))));
    assert_eq!(w.host().inner.state(), AllocationState::Closed);
}

#[test]
fn server_silence_times_out_and_expiry_is_noticed() {
    let mut w = world(long_term(), users(), |s, _| s.drop_all = true);
    let now = w.sim.now();
    w.host().inner.allocate(now).unwrap();
    assert!(w.run(60, |h| {
        h.has(|e| *e == Event::AllocationFailed(Failure::Timeout))
    }));
    // RFC 8489 timing: the failure is reported 39.5 s after the first request.
    let at = w.host().events.last().unwrap().0;
    assert_eq!(at - w.start, Duration::from_millis(39_500));
}

#[test]
fn deallocate_releases() {
    let mut w = world(long_term(), users(), |_, _| {});
    w.allocate();
    let now = w.sim.now();
    w.host().inner.deallocate(now).unwrap();
    assert!(w.run(5, |h| h.has(|e| *e == Event::Deallocated)));
    assert!(w.turn().allocs.is_empty());
    assert_eq!(w.host().inner.state(), AllocationState::Closed);
}

#[test]
fn turn_rest_credentials() {
    let secret = b"north".to_vec();
    let now_unix = 1_800_000_000;
    let creds = Credentials::rest(&secret, "bob", now_unix + 3600);
    let mut w = world(
        creds,
        ServerAuth::Rest {
            secret: secret.clone(),
            now_unix,
        },
        |_, _| {},
    );
    w.allocate();
    // Expired REST credentials are refused.
    let creds = Credentials::rest(&secret, "bob", now_unix - 1);
    let mut w = world(creds, ServerAuth::Rest { secret, now_unix }, |_, _| {});
    let now = w.sim.now();
    w.host().inner.allocate(now).unwrap();
    assert!(w.run(5, |h| h.has(|e| matches!(e, Event::AllocationFailed(_)))));
}

#[test]
fn oauth_self_contained_token() {
    let as_rs_key = vec![0x42; 16];
    let creds = Credentials::OAuthSelfIssued {
        kid: "kid-1".into(),
        as_rs_key: as_rs_key.clone(),
        algorithm: AsRsAlgorithm::A128Gcm,
        server_name: None,
        session_key: vec![0x17; 20],
        issued_at_unix: 1_800_000_000,
        lifetime: 3600,
    };
    let mut w = world(
        creds,
        ServerAuth::OAuth {
            kid: "kid-1".into(),
            as_rs_key,
        },
        |_, _| {},
    );
    w.allocate();
    // A token under the wrong AS-RS key is refused.
    let creds = Credentials::OAuthSelfIssued {
        kid: "kid-1".into(),
        as_rs_key: vec![0x43; 16],
        algorithm: AsRsAlgorithm::A128Gcm,
        server_name: None,
        session_key: vec![0x17; 20],
        issued_at_unix: 1_800_000_000,
        lifetime: 3600,
    };
    let mut w = world(
        creds,
        ServerAuth::OAuth {
            kid: "kid-1".into(),
            as_rs_key: vec![0x42; 16],
        },
        |_, _| {},
    );
    let now = w.sim.now();
    w.host().inner.allocate(now).unwrap();
    assert!(w.run(5, |h| h.has(|e| matches!(e, Event::AllocationFailed(_)))));
}
