//! What an operator relies on, driven with crafted requests and virtual time: the metrics
//! counters (requests, relayed packets and bytes, auth failures by reason, quota refusals,
//! gauges), bandwidth limits per allocation and per user, and replacing credentials at run
//! time (SIGHUP in the binary) without touching allocations.
#![allow(clippy::unwrap_used)] // test helpers unwrap what the test itself set up

mod common;

use std::net::SocketAddr;
use std::time::Duration;

use common::*;
use rtcweb_stun::{
    Attribute, Class, MessageBuilder, MessageType, Method, TransactionId, channel_data,
};
use rtcweb_turn::credentials::rest_credentials;
use rtcweb_turn_server::{
    AuthConfig, AuthFailure, BandwidthLimit, DeleteReason, Direction, FiveTuple, LimitScope,
    Metrics, Protocol, QuotaRefusal, RequestKind, RestSecret, ServerConfig, StaticUsers,
};

const SERVER: &str = "203.0.113.1:3478";
const PEER: &str = "198.51.100.9:7000";

fn users(list: &[(&str, &str)]) -> AuthConfig {
    let mut u = StaticUsers::new();
    for (name, pass) in list {
        u.insert_password(name, pass).unwrap();
    }
    AuthConfig {
        users: Some(Box::new(u)),
        rest_secrets: vec![RestSecret::new(b"northwind".to_vec())],
        ..AuthConfig::default()
    }
}

fn bench(tweak: impl FnOnce(&mut ServerConfig)) -> Bench {
    let mut c = config("203.0.113.1");
    tweak(&mut c);
    Bench::new(c, users(&[("alice", "wonderland"), ("bob", "builder")]))
}

/// Allocates for `user` on `tuple` and binds channel 0x4001 to [`PEER`]; returns the
/// credentials and the relayed address.
fn allocate_with_channel(
    b: &mut Bench,
    tuple: FiveTuple,
    user: &str,
    pass: &str,
) -> (Creds, SocketAddr) {
    let nonce = b.nonce(tuple);
    let creds = Creds::long_term(user, pass, &nonce);
    let a = b.allocate_udp(tuple, tid(1), Some(&creds));
    assert_eq!(a.class, Class::SuccessResponse, "{a:?}");
    let a = b.channel_bind(tuple, tid(2), 0x4001, addr(PEER), &creds);
    assert_eq!(a.class, Class::SuccessResponse, "{a:?}");
    (creds, a_relay(b, tuple))
}

fn a_relay(b: &Bench, tuple: FiveTuple) -> SocketAddr {
    b.server.relayed_address(&tuple).unwrap()
}

fn channel_data(payload: &[u8]) -> Vec<u8> {
    let mut cd = vec![0u8; payload.len() + 8];
    let n = channel_data::encode(&mut cd, 0x4001, payload, false).unwrap();
    cd.truncate(n);
    cd
}

fn send_indication(peer: SocketAddr, payload: &[u8]) -> Vec<u8> {
    let mut buf = vec![0u8; payload.len() + 64];
    let typ = MessageType::new(Method::SEND, Class::Indication);
    let mut m = MessageBuilder::new(&mut buf, typ, TransactionId([5; 12])).unwrap();
    m.attribute(&Attribute::XorPeerAddress(peer)).unwrap();
    m.attribute(&Attribute::Data(payload)).unwrap();
    let n = m.finish();
    buf.truncate(n);
    buf
}

fn metrics(b: &Bench) -> Metrics {
    b.server.metrics(b.now)
}

#[test]
fn relayed_packets_and_payload_bytes_are_counted_each_way() {
    let mut b = bench(|_| {});
    let t = udp("198.51.100.7:5000", SERVER);
    let (creds, relay) = allocate_with_channel(&mut b, t, "alice", "wonderland");
    let a = b.create_permission(t, tid(3), &[addr("198.51.100.10:1")], &creds);
    assert_eq!(a.class, Class::SuccessResponse);
    // 50 ChannelData of 120 octets out, 50 echoes back; 3 Send indications of 1000 octets.
    for _ in 0..50 {
        b.client_sends(t, &channel_data(&[7; 120]));
        assert_eq!(b.out.len(), 1);
        b.peer_sends(relay, addr(PEER), &[8; 120]);
        assert_eq!(b.out.len(), 1);
    }
    for _ in 0..3 {
        b.client_sends(t, &send_indication(addr("198.51.100.10:1"), &[9; 1000]));
        assert_eq!(b.out.len(), 1);
    }
    // Nothing counted for what is not relayed: no permission, unknown channel.
    b.peer_sends(relay, addr("198.51.100.11:1"), &[0; 500]);
    b.client_sends(t, &{
        let mut cd = channel_data(&[0; 10]);
        cd[1] = 0x02; // channel 0x4002, not bound
        cd
    });
    assert!(b.out.is_empty());
    let m = metrics(&b);
    assert_eq!(m.relayed_packets(Direction::ToPeer), 53);
    assert_eq!(m.relayed_bytes(Direction::ToPeer), 50 * 120 + 3 * 1000);
    assert_eq!(m.relayed_packets(Direction::ToClient), 50);
    assert_eq!(m.relayed_bytes(Direction::ToClient), 50 * 120);
    assert_eq!(m.dropped_input, 2);
    let s = b.server.stats();
    assert_eq!((s.relayed_to_peers, s.relayed_to_clients), (53, 50));
    // Gauges: one UDP allocation, two permissions, one channel, one user.
    assert_eq!(m.allocations(Protocol::Udp), 1);
    assert_eq!(m.allocations(Protocol::Tcp), 0);
    assert_eq!((m.permissions, m.channels, m.users), (2, 1, 1));
    // Requests by method: Allocate twice (the 401 round and the real one), one ChannelBind,
    // one CreatePermission; the challenge is no failure.
    assert_eq!(m.requests(RequestKind::Allocate), 2);
    assert_eq!(m.requests(RequestKind::ChannelBind), 1);
    assert_eq!(m.requests(RequestKind::CreatePermission), 1);
    assert_eq!(m.requests(RequestKind::Refresh), 0);
    assert_eq!(m.auth_challenges(), 1);
    assert_eq!(m.error_responses(401), 1);
    assert!(AuthFailure::ALL.iter().all(|r| m.auth_failures(*r) == 0));
    assert_eq!(m.allocations_created(), 1);

    // Permissions expire at 300 s: the gauge follows `now`, before any sweep.
    b.now += Duration::from_secs(301);
    let m = metrics(&b);
    assert_eq!((m.permissions, m.channels), (0, 1));
    // Deallocating counts the reason and empties the gauges.
    let mut creds = creds;
    creds.nonce = b.nonce(t);
    let a = b.refresh(t, tid(9), &[Attribute::Lifetime(0)], &creds);
    assert_eq!(a.class, Class::SuccessResponse);
    let m = metrics(&b);
    assert_eq!(m.allocations_total(), 0);
    assert_eq!((m.permissions, m.channels, m.users), (0, 0, 0));
    assert_eq!(m.allocations_deleted(DeleteReason::Deallocated), 1);
    assert_eq!(m.allocations_deleted(DeleteReason::Expired), 0);
    assert_eq!(m.requests(RequestKind::Refresh), 1);
}

#[test]
fn auth_failures_are_counted_by_reason() {
    let mut b = bench(|_| {});
    let t = udp("198.51.100.7:5000", SERVER);
    let nonce = b.nonce(t);
    let ask = |b: &mut Bench, creds: &Creds, n: u8| b.allocate_udp(t, tid(n), Some(creds)).code;

    assert_eq!(
        ask(&mut b, &Creds::long_term("alice", "nope", &nonce), 1),
        Some(401)
    );
    assert_eq!(
        ask(&mut b, &Creds::long_term("mallory", "x", &nonce), 2),
        Some(401)
    );
    let stale = Creds::long_term("alice", "wonderland", "not-a-nonce");
    assert_eq!(ask(&mut b, &stale, 3), Some(438));
    let mut no_user = Creds::long_term("alice", "wonderland", &nonce);
    no_user.username = String::new();
    assert_eq!(
        ask(&mut b, &no_user, 4),
        Some(401),
        "an empty name is no user of ours"
    );
    // REST: an expired username, and a current one signed with another secret.
    let (old, pass) = rest_credentials(b"northwind", "carol", UNIX_START - 10);
    let expired = Creds {
        username: old.clone(),
        key: rtcweb_stun::IntegrityKey::long_term(
            &old,
            REALM,
            &pass,
            rtcweb_stun::PasswordAlgorithm::Md5,
        )
        .unwrap(),
        nonce: nonce.clone(),
        token: None,
    };
    assert_eq!(ask(&mut b, &expired, 5), Some(401));
    let (cur, pass) = rest_credentials(b"southwind", "carol", UNIX_START + 3600);
    let wrong = Creds {
        username: cur.clone(),
        key: rtcweb_stun::IntegrityKey::long_term(
            &cur,
            REALM,
            &pass,
            rtcweb_stun::PasswordAlgorithm::Md5,
        )
        .unwrap(),
        nonce: nonce.clone(),
        token: None,
    };
    assert_eq!(ask(&mut b, &wrong, 6), Some(401));
    // An allocation of alice's, then bob's valid credentials on its 5-tuple: 441.
    let good = Creds::long_term("alice", "wonderland", &nonce);
    assert_eq!(ask(&mut b, &good, 7), None);
    let a = b.refresh(t, tid(8), &[], &Creds::long_term("bob", "builder", &nonce));
    assert_eq!(a.code, Some(441));

    let m = metrics(&b);
    let got: Vec<(&str, u64)> = AuthFailure::ALL
        .iter()
        .map(|r| (r.label(), m.auth_failures(*r)))
        .filter(|(_, n)| *n > 0)
        .collect();
    assert_eq!(
        got,
        [
            ("stale_nonce", 1),
            ("unknown_user", 2),
            ("wrong_password", 2),
            ("expired", 1),
            ("wrong_credentials", 1),
        ]
    );
    assert_eq!(m.auth_challenges(), 1);
    assert_eq!(m.error_responses(401), 6);
    assert_eq!(m.error_responses(438), 1);
    assert_eq!(m.error_responses(441), 1);
}

#[test]
fn quota_refusals_are_counted_by_reason() {
    let mut b = bench(|c| {
        c.max_allocations_per_user = 1;
        c.max_allocations = 2;
        c.max_permissions = 1;
        c.max_channels = 1;
        c.min_port = 50000;
        c.max_port = 50001;
    });
    let t1 = udp("198.51.100.7:5000", SERVER);
    let (creds, _) = allocate_with_channel(&mut b, t1, "alice", "wonderland");
    // A second for alice: 486.
    let t2 = udp("198.51.100.7:5001", SERVER);
    let n = b.nonce(t2);
    let a = b.allocate_udp(
        t2,
        tid(1),
        Some(&Creds::long_term("alice", "wonderland", &n)),
    );
    assert_eq!(a.code, Some(486));
    // A second permission (the channel's peer holds the only one) and a second channel: 508.
    let a = b.create_permission(t1, tid(3), &[addr("198.51.100.10:1")], &creds);
    assert_eq!(a.code, Some(508));
    let a = b.channel_bind(t1, tid(4), 0x4002, addr("198.51.100.10:1"), &creds);
    assert_eq!(a.code, Some(508));
    // bob takes the second allocation; a third user (REST) finds the server full.
    let t3 = udp("198.51.100.8:5000", SERVER);
    let n = b.nonce(t3);
    let a = b.allocate_udp(t3, tid(1), Some(&Creds::long_term("bob", "builder", &n)));
    assert_eq!(a.class, Class::SuccessResponse);
    let t4 = udp("198.51.100.9:5000", SERVER);
    let n = b.nonce(t4);
    let (u, p) = rest_credentials(b"northwind", "carol", UNIX_START + 3600);
    let carol = Creds {
        username: u.clone(),
        key: rtcweb_stun::IntegrityKey::long_term(
            &u,
            REALM,
            &p,
            rtcweb_stun::PasswordAlgorithm::Md5,
        )
        .unwrap(),
        nonce: n,
        token: None,
    };
    let a = b.allocate_udp(t4, tid(1), Some(&carol));
    assert_eq!(a.code, Some(508));
    let m = metrics(&b);
    let got: Vec<(&str, u64)> = QuotaRefusal::ALL
        .iter()
        .map(|r| (r.label(), m.quota_refusals(*r)))
        .collect();
    assert_eq!(
        got,
        [
            ("user_allocations", 1),
            ("total_allocations", 1),
            ("relay_ports", 0),
            ("permissions", 1),
            ("channels", 1),
        ]
    );
    assert_eq!((m.error_responses(486), m.error_responses(508)), (1, 3));
    // Ports: two in the range, both taken; with room for a third allocation the port pool
    // is what refuses.
    let mut b = bench(|c| {
        c.min_port = 50000;
        c.max_port = 50000;
    });
    allocate_with_channel(&mut b, t1, "alice", "wonderland");
    let n = b.nonce(t3);
    let a = b.allocate_udp(t3, tid(1), Some(&Creds::long_term("bob", "builder", &n)));
    assert_eq!(a.code, Some(508));
    assert_eq!(metrics(&b).quota_refusals(QuotaRefusal::RelayPorts), 1);
    assert_eq!(
        metrics(&b).users,
        1,
        "bob's refused allocation holds no user entry"
    );
}

/// Offers `size`-octet datagrams every `gap` for `secs` virtual seconds on `tuple` (client
/// to peer) and returns how many octets reached the peer.
fn flood_to_peer(b: &mut Bench, tuple: FiveTuple, size: usize, gap: Duration, secs: u64) -> u64 {
    let cd = channel_data(&vec![1; size]);
    let end = b.now + Duration::from_secs(secs);
    let mut passed = 0;
    while b.now < end {
        b.client_sends(tuple, &cd);
        passed += b.out.iter().filter(|t| t.destination == addr(PEER)).count() as u64 * size as u64;
        b.now += gap;
    }
    passed
}

#[test]
fn allocation_bandwidth_limit_holds_over_virtual_time_each_way() {
    let limit = BandwidthLimit {
        bytes_per_second: 100_000,
        burst: 10_000,
    };
    let mut b = bench(|c| c.allocation_bandwidth = Some(limit));
    let t = udp("198.51.100.7:5000", SERVER);
    let (_, relay) = allocate_with_channel(&mut b, t, "alice", "wonderland");
    // 1000-octet datagrams every 2 ms (500,000 octets/s offered) for 10 s.
    let passed = flood_to_peer(&mut b, t, 1000, Duration::from_millis(2), 10);
    let allowed = 10_000 + 100_000 * 10;
    assert!(
        passed <= allowed && passed + 2000 > allowed,
        "{passed} vs {allowed}"
    );
    let m = metrics(&b);
    assert_eq!(m.relayed_bytes(Direction::ToPeer), passed);
    let offered = 5000 * 1000;
    assert_eq!(
        m.bandwidth_dropped_bytes(LimitScope::Allocation, Direction::ToPeer),
        offered - passed
    );
    assert_eq!(
        m.bandwidth_dropped_packets(LimitScope::Allocation, Direction::ToPeer),
        (offered - passed) / 1000
    );
    // The other direction has its own bucket, full after the idle time: a burst passes.
    let mut back = 0;
    for _ in 0..20 {
        b.peer_sends(relay, addr(PEER), &[2; 1000]);
        back += b.out.len();
    }
    assert_eq!(
        back, 10,
        "the 10,000-octet burst, then nothing at the same instant"
    );
    assert_eq!(
        metrics(&b).bandwidth_dropped_packets(LimitScope::Allocation, Direction::ToClient),
        10
    );
    // Under the rate, nothing is dropped: 1000 octets every 20 ms = 50,000 octets/s.
    b.now += Duration::from_secs(1);
    let before = metrics(&b).bandwidth_dropped_packets(LimitScope::Allocation, Direction::ToPeer);
    let passed = flood_to_peer(&mut b, t, 1000, Duration::from_millis(20), 5);
    assert_eq!(passed, 250 * 1000);
    assert_eq!(
        metrics(&b).bandwidth_dropped_packets(LimitScope::Allocation, Direction::ToPeer),
        before
    );
}

#[test]
fn user_bandwidth_limit_is_shared_by_the_users_allocations() {
    let limit = BandwidthLimit {
        bytes_per_second: 50_000,
        burst: 5_000,
    };
    let mut b = bench(|c| c.user_bandwidth = Some(limit));
    let a1 = udp("198.51.100.7:5000", SERVER);
    let a2 = udp("198.51.100.7:5001", SERVER);
    let bob = udp("198.51.100.8:5000", SERVER);
    allocate_with_channel(&mut b, a1, "alice", "wonderland");
    allocate_with_channel(&mut b, a2, "alice", "wonderland");
    allocate_with_channel(&mut b, bob, "bob", "builder");
    // Alice's two allocations and bob's each offer 500 octets every 2 ms for 10 s.
    let cd = channel_data(&[3; 500]);
    let (mut alice_passed, mut bob_passed) = (0u64, 0u64);
    let end = b.now + Duration::from_secs(10);
    while b.now < end {
        for t in [a1, a2, bob] {
            b.client_sends(t, &cd);
            let n = b.out.len() as u64 * 500;
            if t == bob {
                bob_passed += n;
            } else {
                alice_passed += n;
            }
        }
        b.now += Duration::from_millis(2);
    }
    let allowed = 5_000 + 50_000 * 10;
    assert!(
        alice_passed <= allowed && alice_passed + 1000 > allowed,
        "alice {alice_passed}"
    );
    assert!(
        bob_passed <= allowed && bob_passed + 1000 > allowed,
        "bob {bob_passed}"
    );
    let m = metrics(&b);
    assert_eq!(
        m.bandwidth_dropped_bytes(LimitScope::User, Direction::ToPeer),
        3 * 5000 * 500 - alice_passed - bob_passed
    );
    assert_eq!(
        m.bandwidth_dropped_packets(LimitScope::Allocation, Direction::ToPeer),
        0
    );
}

#[test]
fn new_credentials_apply_to_new_allocations_and_old_allocations_keep_working() {
    let mut b = bench(|_| {});
    let t = udp("198.51.100.7:5000", SERVER);
    let (creds, relay) = allocate_with_channel(&mut b, t, "alice", "wonderland");
    // Reload: alice is gone, dave is new, the REST secret changed.
    let mut reloaded = users(&[("dave", "diver")]);
    reloaded.rest_secrets = vec![RestSecret::new(b"southwind".to_vec())];
    b.server.set_auth(reloaded);
    assert_eq!(metrics(&b).auth_reloads(), 1);
    assert_eq!(metrics(&b).allocations_total(), 1);

    // Alice's allocation relays both ways, and refreshes, binds and permits with its key.
    b.client_sends(t, &channel_data(b"still here"));
    assert_eq!(b.out.len(), 1);
    assert_eq!(b.out[0].payload, b"still here");
    b.peer_sends(relay, addr(PEER), b"and back");
    assert_eq!(b.out.len(), 1);
    let a = b.refresh(t, tid(10), &[Attribute::Lifetime(600)], &creds);
    assert_eq!(a.class, Class::SuccessResponse, "{a:?}");
    let a = b.create_permission(t, tid(11), &[addr("198.51.100.10:1")], &creds);
    assert_eq!(a.class, Class::SuccessResponse, "{a:?}");
    // ...and lives on past the old lifetime (the refresh moved it).
    b.advance(Duration::from_secs(500));
    let mut creds = creds;
    creds.nonce = b.nonce(t);
    let a = b.refresh(t, tid(12), &[Attribute::Lifetime(600)], &creds);
    assert_eq!(a.class, Class::SuccessResponse, "{a:?}");
    b.advance(Duration::from_secs(200));
    assert_eq!(
        b.server.relayed_address(&t),
        Some(relay),
        "kept across the old expiry"
    );

    // A new allocation for alice is refused; dave and the new REST secret work.
    let t2 = udp("198.51.100.7:5001", SERVER);
    let n = b.nonce(t2);
    let a = b.allocate_udp(
        t2,
        tid(1),
        Some(&Creds::long_term("alice", "wonderland", &n)),
    );
    assert_eq!(a.code, Some(401));
    assert_eq!(metrics(&b).auth_failures(AuthFailure::UnknownUser), 1);
    let a = b.allocate_udp(t2, tid(2), Some(&Creds::long_term("dave", "diver", &n)));
    assert_eq!(a.class, Class::SuccessResponse, "{a:?}");
    let t3 = udp("198.51.100.8:5000", SERVER);
    let n = b.nonce(t3);
    let (u, p) = rest_credentials(b"southwind", "erin", UNIX_START + 7200);
    let erin = Creds {
        username: u.clone(),
        key: rtcweb_stun::IntegrityKey::long_term(
            &u,
            REALM,
            &p,
            rtcweb_stun::PasswordAlgorithm::Md5,
        )
        .unwrap(),
        nonce: n,
        token: None,
    };
    let a = b.allocate_udp(t3, tid(1), Some(&erin));
    assert_eq!(a.class, Class::SuccessResponse, "{a:?}");
    let m = metrics(&b);
    assert_eq!((m.allocations_total(), m.users), (3, 3));
    assert_eq!(m.allocations_deleted(DeleteReason::Expired), 0);
}
