//! The server core driven directly with crafted requests: authentication failures (401, 438,
//! 400), 437, 441, 403, quotas (486, 508), attribute errors (420, 440, 442, 443), EVEN-PORT and
//! RESERVATION-TOKEN, permission and channel expiry, RFC 5780 Binding, REST and OAuth.
#![allow(clippy::unwrap_used)] // test helpers unwrap what the test itself set up

mod common;

use std::net::SocketAddr;
use std::time::Duration;

use common::*;
use rtcweb_stun::attributes::AddressFamily;
use rtcweb_stun::channel_data;
use rtcweb_stun::{Attribute, Class, Method};
use rtcweb_turn::oauth::{AsRsAlgorithm, TokenBlock, encrypt_token};
use rtcweb_turn_server::{
    AuthConfig, DeleteReason, Event, FiveTuple, OAuthKey, Protocol, RestSecret, Rfc5780,
    ServerConfig, StaticUsers,
};

const SERVER: &str = "203.0.113.1:3478";
const RELAY: &str = "203.0.113.1";

fn users() -> AuthConfig {
    let mut u = StaticUsers::new();
    u.insert_password("alice", "wonderland").unwrap();
    u.insert_password("bob", "builder").unwrap();
    u.insert_password("carol", "singer").unwrap();
    AuthConfig::users(u)
}

fn bench(tweak: impl FnOnce(&mut ServerConfig)) -> Bench {
    let mut c = config(RELAY);
    tweak(&mut c);
    Bench::new(c, users())
}

const T: u8 = 17;

/// UDP from `client` to the server's primary address.
fn to_server(client: &str) -> FiveTuple {
    udp(client, SERVER)
}

const ALICE: (&str, &str) = ("alice", "wonderland");
const BOB: (&str, &str) = ("bob", "builder");
const CAROL: (&str, &str) = ("carol", "singer");

/// Allocates for `user` from `tuple`, returning the credentials used and the answer.
fn allocate(
    b: &mut Bench,
    tuple: FiveTuple,
    (user, pass): (&str, &str),
    extra: &[Attribute<'_>],
) -> (Creds, Answer) {
    let nonce = b.nonce(tuple);
    let creds = Creds::long_term(user, pass, &nonce);
    let mut attrs = vec![Attribute::RequestedTransport(T)];
    attrs.extend_from_slice(extra);
    let a = b.ask(
        tuple,
        &request(Method::ALLOCATE, tid(1), &attrs, Some(&creds)),
    );
    (creds, a)
}

#[test]
fn unauthenticated_allocate_gets_401_with_nonce_and_nothing_is_kept() {
    let mut b = bench(|_| {});
    let t = to_server("198.51.100.7:5000");
    let a = b.allocate_udp(t, tid(1), None);
    assert_eq!((a.class, a.code), (Class::ErrorResponse, Some(401)));
    assert_eq!(a.realm.as_deref(), Some(REALM));
    assert!(a.nonce.is_some());
    assert!(!a.signed);
    let s = b.server.stats();
    assert_eq!(
        (
            s.allocations,
            s.pending_allocations,
            s.timers,
            s.reservations
        ),
        (0, 0, 0, 0)
    );
}

#[test]
fn wrong_password_gets_401_and_no_allocation() {
    let mut b = bench(|_| {});
    let t = to_server("198.51.100.7:5000");
    let (_, a) = allocate(&mut b, t, ("alice", "not-the-password"), &[]);
    assert_eq!(a.code, Some(401));
    assert!(a.nonce.is_some());
    let (_, a) = allocate(&mut b, t, ("mallory", "wonderland"), &[]);
    assert_eq!(a.code, Some(401), "unknown user");
    assert_eq!(b.server.stats().allocations, 0);
    assert!(b.bound.is_empty());
    // Credentials without NONCE are a bad request.
    let nonce = b.nonce(t);
    let mut c = Creds::long_term("alice", "wonderland", &nonce);
    c.nonce = String::new();
    let a = b.allocate_udp(t, tid(2), Some(&c));
    assert_eq!(a.code, Some(438), "an empty nonce is not ours");
}

#[test]
fn stale_nonce_gets_438_then_the_fresh_one_works() {
    let mut b = bench(|_| {});
    let t = to_server("198.51.100.7:5000");
    let nonce = b.nonce(t);
    b.advance(Duration::from_secs(601));
    let creds = Creds::long_term("alice", "wonderland", &nonce);
    let a = b.allocate_udp(t, tid(1), Some(&creds));
    assert_eq!(a.code, Some(438));
    let fresh = a.nonce.unwrap();
    assert_ne!(fresh, nonce);
    // A nonce given to another address is not accepted either.
    let other = to_server("198.51.100.8:5000");
    let a = b.allocate_udp(
        other,
        tid(2),
        Some(&Creds::long_term("alice", "wonderland", &fresh)),
    );
    assert_eq!(a.code, Some(438));
    let creds = Creds::long_term("alice", "wonderland", &fresh);
    let a = b.allocate_udp(t, tid(1), Some(&creds));
    assert_eq!(a.class, Class::SuccessResponse, "{a:?}");
    assert!(a.signed);
    assert_eq!(a.mapped, Some(t.client));
    assert_eq!(a.lifetime, Some(600));
    assert_eq!(a.relayed.unwrap().ip(), ip(RELAY));
}

#[test]
fn another_five_tuple_gets_437_and_retransmissions_are_answered_alike() {
    let mut b = bench(|_| {});
    let t = to_server("198.51.100.7:5000");
    let (creds, first) = allocate(&mut b, t, ALICE, &[]);
    assert_eq!(first.class, Class::SuccessResponse);
    // The same Allocate again (a retransmission): the same relayed address.
    let again = b.allocate_udp(t, tid(1), Some(&creds));
    assert_eq!(again.relayed, first.relayed);
    assert_eq!(b.server.stats().allocations, 1);
    // Another Allocate on the same 5-tuple: 437.
    let a = b.allocate_udp(t, tid(2), Some(&creds));
    assert_eq!(a.code, Some(437));
    assert!(a.signed, "errors after authentication are signed");
    // Refresh from another 5-tuple (another port) with valid credentials: 437.
    let other = to_server("198.51.100.7:5001");
    let nonce = b.nonce(other);
    let c2 = Creds::long_term("alice", "wonderland", &nonce);
    let a = b.refresh(other, tid(3), &[], &c2);
    assert_eq!(a.code, Some(437));
    let a = b.create_permission(other, tid(4), &[addr("198.51.100.9:1")], &c2);
    assert_eq!(a.code, Some(437));
    // Another user cannot touch alice's allocation from her 5-tuple either: 441.
    let c3 = Creds::long_term("bob", "builder", &creds.nonce);
    let a = b.refresh(t, tid(5), &[Attribute::Lifetime(0)], &c3);
    assert_eq!(a.code, Some(441));
    assert!(a.signed, "signed with bob's key: he did authenticate");
    assert_eq!(b.server.stats().allocations, 1);
}

#[test]
fn denied_peers_get_403() {
    let mut b = bench(|_| {});
    let t = to_server("198.51.100.7:5000");
    let (creds, _) = allocate(&mut b, t, ALICE, &[]);
    for peer in [
        "127.0.0.1:9",
        "10.0.0.1:9",
        "192.168.1.1:9",
        "169.254.0.1:9",
        "224.0.0.1:9",
        "0.0.0.0:9",
    ] {
        let p: SocketAddr = peer.parse().unwrap();
        let a = b.create_permission(t, tid(2), &[p], &creds);
        assert_eq!(a.code, Some(403), "{peer}");
        let a = b.channel_bind(t, tid(3), 0x4000, p, &creds);
        assert_eq!(a.code, Some(403), "{peer}");
    }
    // One denied address among allowed ones fails the whole request.
    let peers = [addr("198.51.100.9:1"), addr("127.0.0.1:1")];
    let a = b.create_permission(t, tid(4), &peers, &creds);
    assert_eq!(a.code, Some(403));
    let a = b.create_permission(t, tid(5), &[addr("198.51.100.9:1")], &creds);
    assert_eq!(a.class, Class::SuccessResponse);
    // IPv6 peer on an IPv4 allocation: 443.
    let a = b.create_permission(t, tid(6), &[addr("[2001:db8::1]:1")], &creds);
    assert_eq!(a.code, Some(443));
    // With loopback allowed (tests on one machine) it works.
    let mut b = bench(|c| c.peer_policy.allow_loopback = true);
    let (creds, _) = allocate(&mut b, t, ALICE, &[]);
    let a = b.create_permission(t, tid(2), &[addr("127.0.0.1:9")], &creds);
    assert_eq!(a.class, Class::SuccessResponse);
}

#[test]
fn quotas_per_user_486_and_in_total_508() {
    let mut b = bench(|c| {
        c.max_allocations_per_user = 2;
        c.max_allocations = 3;
    });
    for port in [5000, 5001] {
        let (_, a) = allocate(
            &mut b,
            to_server(&format!("198.51.100.7:{port}")),
            ALICE,
            &[],
        );
        assert_eq!(a.class, Class::SuccessResponse);
    }
    let (_, a) = allocate(&mut b, to_server("198.51.100.7:5002"), ALICE, &[]);
    assert_eq!(a.code, Some(486));
    let (_, a) = allocate(&mut b, to_server("198.51.100.8:5000"), BOB, &[]);
    assert_eq!(a.class, Class::SuccessResponse);
    let (_, a) = allocate(&mut b, to_server("198.51.100.9:5000"), CAROL, &[]);
    assert_eq!(a.code, Some(508));
    assert_eq!(b.server.stats().allocations, 3);
    // Deallocating one of alice's frees her quota.
    let t = to_server("198.51.100.7:5000");
    let nonce = b.nonce(t);
    let c = Creds::long_term("alice", "wonderland", &nonce);
    let a = b.refresh(t, tid(7), &[Attribute::Lifetime(0)], &c);
    assert_eq!((a.class, a.lifetime), (Class::SuccessResponse, Some(0)));
    assert!(b.events.iter().any(|e| matches!(
        e,
        Event::AllocationDeleted {
            reason: DeleteReason::Deallocated,
            ..
        }
    )));
    let (_, a) = allocate(&mut b, to_server("198.51.100.7:5003"), ALICE, &[]);
    assert_eq!(a.class, Class::SuccessResponse);
    // A refresh of the deleted allocation: 437.
    let a = b.refresh(t, tid(8), &[], &c);
    assert_eq!(a.code, Some(437));
}

#[test]
fn attribute_errors() {
    let mut b = bench(|_| {});
    let t = to_server("198.51.100.7:5000");
    let nonce = b.nonce(t);
    let c = Creds::long_term("alice", "wonderland", &nonce);
    let ask = |b: &mut Bench, attrs: &[Attribute<'_>]| {
        b.ask(t, &request(Method::ALLOCATE, tid(1), attrs, Some(&c)))
            .code
    };
    assert_eq!(ask(&mut b, &[]), Some(400), "no REQUESTED-TRANSPORT");
    assert_eq!(ask(&mut b, &[Attribute::RequestedTransport(6)]), Some(442));
    let unknown = Attribute::Unknown {
        typ: rtcweb_stun::AttributeType(0x7f01),
        value: b"x",
    };
    let a = b.ask(
        t,
        &request(
            Method::ALLOCATE,
            tid(1),
            &[Attribute::RequestedTransport(T), unknown],
            Some(&c),
        ),
    );
    assert_eq!((a.code, a.unknown.clone()), (Some(420), vec![0x7f01]));
    assert_eq!(
        ask(
            &mut b,
            &[
                Attribute::RequestedTransport(T),
                Attribute::RequestedAddressFamily(AddressFamily::V6)
            ]
        ),
        Some(440)
    );
    assert_eq!(
        ask(
            &mut b,
            &[
                Attribute::RequestedTransport(T),
                Attribute::EvenPort(false),
                Attribute::ReservationToken(&[1; 8])
            ]
        ),
        Some(400)
    );
    assert_eq!(
        ask(
            &mut b,
            &[
                Attribute::RequestedTransport(T),
                Attribute::ReservationToken(&[1; 8])
            ]
        ),
        Some(508),
        "unknown token"
    );
    // An unknown method is a bad request; a request without credentials for Binding works.
    let a = b.ask(t, &request(Method(0x0fe), tid(2), &[], None));
    assert_eq!(a.code, Some(400));
    assert_eq!(b.server.stats().allocations, 0);
}

#[test]
fn ipv6_allocations() {
    let mut b = bench(|c| c.relay_ipv6 = Some(ip("2001:db8::1")));
    let t = to_server("198.51.100.7:5000");
    let (creds, a) = allocate(
        &mut b,
        t,
        ALICE,
        &[Attribute::RequestedAddressFamily(AddressFamily::V6)],
    );
    assert_eq!(a.class, Class::SuccessResponse, "{a:?}");
    let relay = a.relayed.unwrap();
    assert_eq!(relay.ip(), ip("2001:db8::1"));
    let a = b.create_permission(t, tid(2), &[addr("198.51.100.9:1")], &creds);
    assert_eq!(a.code, Some(443));
    let peer: SocketAddr = "[2001:db8:1::9]:7000".parse().unwrap();
    let a = b.create_permission(t, tid(3), &[peer], &creds);
    assert_eq!(a.class, Class::SuccessResponse);
    let a = b.refresh(
        t,
        tid(4),
        &[Attribute::RequestedAddressFamily(AddressFamily::V4)],
        &creds,
    );
    assert_eq!(a.code, Some(443));
    b.peer_sends(relay, peer, b"hello v6");
    assert_eq!(b.out.len(), 1);
    let m = rtcweb_stun::Message::new_checked(&b.out[0].payload[..]).unwrap();
    assert_eq!(m.method(), Method::DATA);
}

#[test]
fn even_port_and_reservation_token() {
    let mut b = bench(|c| {
        c.min_port = 50000;
        c.max_port = 50019;
    });
    let (_, a) = allocate(
        &mut b,
        to_server("198.51.100.7:5000"),
        ALICE,
        &[Attribute::EvenPort(true)],
    );
    let relay = a.relayed.unwrap();
    assert_eq!(relay.port() % 2, 0);
    let token = a.token.expect("R bit gives a token");
    assert!(
        b.bound
            .contains(&SocketAddr::new(relay.ip(), relay.port() + 1)),
        "the next port is held"
    );
    let (_, a) = allocate(
        &mut b,
        to_server("198.51.100.7:5001"),
        ALICE,
        &[Attribute::ReservationToken(&token)],
    );
    assert_eq!(a.relayed.unwrap().port(), relay.port() + 1);
    assert_eq!(b.server.stats().reservations, 0);
    // A token used twice is gone.
    let (_, a) = allocate(
        &mut b,
        to_server("198.51.100.7:5002"),
        ALICE,
        &[Attribute::ReservationToken(&token)],
    );
    assert_eq!(a.code, Some(508));
    // An unused reservation is released after 30 s.
    let (_, a) = allocate(
        &mut b,
        to_server("198.51.100.8:5000"),
        BOB,
        &[Attribute::EvenPort(true)],
    );
    let r = a.relayed.unwrap();
    let held = SocketAddr::new(r.ip(), r.port() + 1);
    assert!(b.bound.contains(&held));
    b.advance(Duration::from_secs(31));
    assert!(!b.bound.contains(&held));
    assert!(b.bound.contains(&r));
    // Without the R bit: an even port, no token.
    let (_, a) = allocate(
        &mut b,
        to_server("198.51.100.9:5000"),
        CAROL,
        &[Attribute::EvenPort(false)],
    );
    assert_eq!(a.relayed.unwrap().port() % 2, 0);
    assert_eq!(a.token, None);
}

fn data_to(b: &Bench, peer: SocketAddr) -> Vec<Vec<u8>> {
    b.out
        .iter()
        .filter(|t| t.destination == peer)
        .map(|t| t.payload.clone())
        .collect()
}

#[test]
fn permissions_and_channels_expire() {
    let mut b = bench(|_| {});
    let t = to_server("198.51.100.7:5000");
    let (creds, a) = allocate(&mut b, t, ALICE, &[Attribute::Lifetime(3600)]);
    assert_eq!(a.lifetime, Some(3600));
    let relay = a.relayed.unwrap();
    let peer: SocketAddr = "198.51.100.9:7000".parse().unwrap();
    let a = b.channel_bind(t, tid(2), 0x4001, peer, &creds);
    assert_eq!(a.class, Class::SuccessResponse);
    let mut cd = vec![0u8; 64];
    let n = channel_data::encode(&mut cd, 0x4001, b"ping", false).unwrap();
    cd.truncate(n);
    b.client_sends(t, &cd);
    assert_eq!(data_to(&b, peer), vec![b"ping".to_vec()]);
    b.peer_sends(relay, peer, b"pong");
    assert_eq!(b.out.len(), 1);
    let back = channel_data::ChannelData::new_checked(&b.out[0].payload[..]).unwrap();
    assert_eq!((back.channel_number(), back.data()), (0x4001, &b"pong"[..]));
    // A peer without permission is not heard.
    b.peer_sends(relay, addr("198.51.100.10:1"), b"stranger");
    assert!(b.out.is_empty());

    // The permission lasts 300 s: after that, nothing passes either way.
    b.advance(Duration::from_secs(301));
    b.out.clear();
    b.server.handle_client(b.now, t, &cd);
    b.server.handle_peer(b.now, relay, peer, b"pong");
    b.pump();
    assert!(b.out.is_empty(), "{:?}", b.out);

    // A CreatePermission brings it back; the channel (600 s) still holds.
    let a = b.create_permission(t, tid(3), &[peer], &creds);
    assert_eq!(a.class, Class::SuccessResponse);
    b.client_sends(t, &cd);
    assert_eq!(data_to(&b, peer).len(), 1);

    // At 601 s the channel is gone: peer data comes as a Data indication, ChannelData drops.
    b.advance(Duration::from_secs(300));
    let mut creds = creds;
    creds.nonce = b.nonce(t);
    let a = b.create_permission(t, tid(4), &[peer], &creds);
    assert_eq!(a.class, Class::SuccessResponse);
    b.out.clear();
    b.server.handle_client(b.now, t, &cd);
    b.server.handle_peer(b.now, relay, peer, b"pong");
    b.pump();
    assert_eq!(b.out.len(), 1);
    assert_eq!(
        parse_indication(&b.out[0].payload),
        (peer, b"pong".to_vec())
    );
    // During the cooldown neither number nor peer can be bound elsewhere...
    let other: SocketAddr = "198.51.100.11:7000".parse().unwrap();
    let a = b.channel_bind(t, tid(5), 0x4001, other, &creds);
    assert_eq!(a.code, Some(400));
    let a = b.channel_bind(t, tid(6), 0x4002, peer, &creds);
    assert_eq!(a.code, Some(400));
    // ...and afterwards they can.
    b.advance(Duration::from_secs(301));
    let a = b.channel_bind(t, tid(7), 0x4001, other, &creds);
    assert_eq!(a.class, Class::SuccessResponse);
    let a = b.channel_bind(t, tid(8), 0x3fff, peer, &creds);
    assert_eq!(a.code, Some(400), "channel number out of range");
}

fn parse_indication(data: &[u8]) -> (SocketAddr, Vec<u8>) {
    let m = rtcweb_stun::Message::new_checked(data).unwrap();
    assert_eq!((m.class(), m.method()), (Class::Indication, Method::DATA));
    let peer = match m.attribute(rtcweb_stun::AttributeType::XOR_PEER_ADDRESS) {
        Some(Ok(Attribute::XorPeerAddress(p))) => p,
        other => panic!("{other:?}"),
    };
    (
        peer,
        m.get(rtcweb_stun::AttributeType::DATA).unwrap().to_vec(),
    )
}

#[test]
fn allocation_expires_and_its_relay_is_released() {
    let mut b = bench(|_| {});
    let t = to_server("198.51.100.7:5000");
    let (_, a) = allocate(&mut b, t, ALICE, &[]);
    let relay = a.relayed.unwrap();
    assert!(b.bound.contains(&relay));
    b.advance(Duration::from_secs(599));
    assert!(b.bound.contains(&relay));
    b.advance(Duration::from_secs(2));
    assert!(!b.bound.contains(&relay));
    assert!(b.events.iter().any(|e| matches!(
        e,
        Event::AllocationDeleted {
            reason: DeleteReason::Expired,
            ..
        }
    )));
    let s = b.server.stats();
    assert_eq!((s.allocations, s.timers), (0, 0));
}

#[test]
fn tcp_connection_close_deletes_the_allocation() {
    let mut b = bench(|_| {});
    let t = FiveTuple::new(
        Protocol::Tcp,
        "198.51.100.7:5000".parse().unwrap(),
        SERVER.parse().unwrap(),
    );
    let (creds, a) = allocate(&mut b, t, ALICE, &[]);
    assert_eq!(a.class, Class::SuccessResponse);
    let relay = a.relayed.unwrap();
    let peer: SocketAddr = "198.51.100.9:7000".parse().unwrap();
    b.channel_bind(t, tid(2), 0x4001, peer, &creds);
    b.peer_sends(relay, peer, b"abcde");
    assert_eq!(b.out[0].protocol, Protocol::Tcp);
    assert_eq!(
        b.out[0].payload.len(),
        12,
        "ChannelData is padded on streams"
    );
    b.server.handle_connection_closed(b.now, t);
    b.pump();
    assert!(!b.bound.contains(&relay));
    assert_eq!(b.server.stats().allocations, 0);
}

#[test]
fn binding_with_and_without_rfc5780() {
    let mut b = bench(|_| {});
    let t = to_server("198.51.100.7:5000");
    let a = b.binding(t, tid(1), &[]);
    assert_eq!(
        (a.class, a.mapped, a.other),
        (Class::SuccessResponse, Some(t.client), None)
    );
    let change = Attribute::ChangeRequest {
        change_ip: true,
        change_port: false,
    };
    let a = b.binding(t, tid(2), &[change]);
    assert_eq!(
        (a.code, a.unknown.clone()),
        (Some(420), vec![0x0003]),
        "RFC 5780 is off by default"
    );

    let mut b = bench(|c| {
        c.rfc5780 = Some(
            Rfc5780::new(SERVER.parse().unwrap(), "203.0.113.2:3479".parse().unwrap()).unwrap(),
        )
    });
    let a = b.binding(t, tid(3), &[]);
    assert_eq!(a.origin, Some(SERVER.parse().unwrap()));
    assert_eq!(a.other, Some("203.0.113.2:3479".parse().unwrap()));
    for (ip, port, from) in [
        (true, false, "203.0.113.2:3478"),
        (false, true, "203.0.113.1:3479"),
        (true, true, "203.0.113.2:3479"),
    ] {
        let change = Attribute::ChangeRequest {
            change_ip: ip,
            change_port: port,
        };
        b.client_sends(t, &request(Method::BINDING, tid(4), &[change], None));
        assert_eq!(b.out.len(), 1);
        assert_eq!(b.out[0].source, from.parse().unwrap());
        assert_eq!(parse(&b.out[0].payload).origin, Some(from.parse().unwrap()));
    }
    // On the alternate address, OTHER-ADDRESS is the primary.
    let alt = udp("198.51.100.7:5000", "203.0.113.2:3479");
    assert_eq!(
        b.binding(alt, tid(5), &[]).other,
        Some(SERVER.parse().unwrap())
    );
    // RESPONSE-PORT sends the answer to another port of the client.
    let port = [Attribute::ResponsePort(6000)];
    b.client_sends(t, &request(Method::BINDING, tid(6), &port, None));
    assert_eq!(b.out[0].destination, "198.51.100.7:6000".parse().unwrap());
}

fn rest_auth(secrets: Vec<RestSecret>) -> AuthConfig {
    AuthConfig {
        rest_secrets: secrets,
        ..AuthConfig::default()
    }
}

#[test]
fn rest_secrets_rotation_and_expiry() {
    let old = RestSecret {
        secret: b"old".to_vec(),
        not_after_unix: Some(UNIX_START + 100),
    };
    let new = RestSecret::new(b"new".to_vec());
    let mut b = Bench::new(config(RELAY), rest_auth(vec![old, new]));
    let try_with = |b: &mut Bench, port: u16, secret: &[u8], expiry: u64| {
        let t = to_server(&format!("198.51.100.7:{port}"));
        let (u, p) = rtcweb_turn::credentials::rest_credentials(secret, "alice", expiry);
        allocate(b, t, (&u, &p), &[]).1
    };
    assert_eq!(
        try_with(&mut b, 5000, b"old", UNIX_START + 3600).class,
        Class::SuccessResponse
    );
    assert_eq!(
        try_with(&mut b, 5001, b"new", UNIX_START + 3600).class,
        Class::SuccessResponse
    );
    assert_eq!(
        try_with(&mut b, 5002, b"other", UNIX_START + 3600).code,
        Some(401)
    );
    assert_eq!(
        try_with(&mut b, 5003, b"new", UNIX_START - 1).code,
        Some(401),
        "expired username"
    );
    b.advance(Duration::from_secs(101));
    assert_eq!(
        try_with(&mut b, 5004, b"old", UNIX_START + 3600).code,
        Some(401),
        "retired secret"
    );
    assert_eq!(
        try_with(&mut b, 5005, b"new", UNIX_START + 3600).class,
        Class::SuccessResponse
    );

    // Refreshing after the username's expiry fails with 401.
    let t = to_server("198.51.100.8:5000");
    let (u, p) = rtcweb_turn::credentials::rest_credentials(b"new", "bob", UNIX_START + 200);
    let (mut creds, a) = allocate(&mut b, t, (&u, &p), &[]);
    assert_eq!(a.class, Class::SuccessResponse);
    assert_eq!(
        b.refresh(t, tid(2), &[], &creds).class,
        Class::SuccessResponse
    );
    b.advance(Duration::from_secs(100));
    creds.nonce = b.nonce(to_server("198.51.100.8:5000"));
    assert_eq!(b.refresh(t, tid(3), &[], &creds).code, Some(401));
}

#[test]
fn oauth_tokens() {
    let as_rs = vec![7u8; 16];
    let mut key = OAuthKey::new("kid1", as_rs.clone()).unwrap();
    key.server_name = Some("turn.example.org".into());
    let auth = AuthConfig {
        oauth_keys: vec![key],
        ..AuthConfig::default()
    };
    let mut c = config(RELAY);
    c.third_party_authorization = Some("https://as.example.org".into());
    let mut b = Bench::new(c, auth);
    let token = |issued: u64, lifetime: u32, aad: &str| {
        let block = TokenBlock {
            mac_key: vec![9; 20],
            timestamp: issued << 16,
            lifetime,
        };
        encrypt_token(&as_rs, AsRsAlgorithm::A128Gcm, aad, [1; 12], &block).unwrap()
    };
    let try_with = |b: &mut Bench, port: u16, kid: &str, tok: Vec<u8>| {
        let t = to_server(&format!("198.51.100.7:{port}"));
        let nonce = b.nonce(t);
        let creds = Creds {
            username: kid.into(),
            key: rtcweb_stun::IntegrityKey::from_bytes(&[9; 20]),
            nonce,
            token: Some(tok),
        };
        let a = b.allocate_udp(t, tid(1), Some(&creds));
        (creds, a)
    };
    let (creds, a) = try_with(
        &mut b,
        5000,
        "kid1",
        token(UNIX_START, 300, "turn.example.org"),
    );
    assert_eq!(a.class, Class::SuccessResponse, "{a:?}");
    assert_eq!(
        try_with(
            &mut b,
            5001,
            "kid2",
            token(UNIX_START, 300, "turn.example.org")
        )
        .1
        .code,
        Some(401),
        "unknown kid"
    );
    assert_eq!(
        try_with(&mut b, 5002, "kid1", token(UNIX_START, 300, "other"))
            .1
            .code,
        Some(401),
        "wrong server name"
    );
    assert_eq!(
        try_with(
            &mut b,
            5003,
            "kid1",
            token(UNIX_START - 1000, 300, "turn.example.org")
        )
        .1
        .code,
        Some(401),
        "expired"
    );
    let mut bad = token(UNIX_START, 300, "turn.example.org");
    bad[20] ^= 1;
    assert_eq!(
        try_with(&mut b, 5004, "kid1", bad).1.code,
        Some(401),
        "tampered"
    );
    // The allocation ends with the token: a refresh after its lifetime is refused.
    let t = to_server("198.51.100.7:5000");
    b.advance(Duration::from_secs(301));
    let mut c2 = creds.clone();
    c2.nonce = b.nonce(t);
    assert_eq!(b.refresh(t, tid(2), &[], &c2).code, Some(401));
}

#[test]
fn sha256_password_algorithm() {
    let mut b = bench(|c| c.sha256_password_algorithm = true);
    let t = to_server("198.51.100.7:5000");
    let nonce = b.nonce(t);
    assert!(nonce.starts_with("obMatJos2"));
    // An RFC 5389 client (no PASSWORD-ALGORITHM) still gets in with MD5.
    let c = Creds::long_term("alice", "wonderland", &nonce);
    let a = b.allocate_udp(t, tid(1), Some(&c));
    assert_eq!(a.class, Class::SuccessResponse);
}
