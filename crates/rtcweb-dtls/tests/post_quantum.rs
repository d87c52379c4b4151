//! X25519MLKEM768 between our own endpoints: negotiated when both sides have it, x25519 when
//! either does not, the same keys on both sides, every datagram within the MTU. The group is
//! read from the server's first answer on the wire (ServerHello or HelloRetryRequest).
#![allow(clippy::unwrap_used)] // test code: a panic is a failed test

mod common;

use std::cell::RefCell;
use std::rc::Rc;

use common::{Pair, config, connected_keys};
use rtcweb_dtls::{DtlsVersion, Event, VersionPolicy};

const X25519MLKEM768: u16 = 0x11EC;
const X25519: u16 = 0x001D;

/// RFC 8446 section 4.1.3: the ServerHello.random of a HelloRetryRequest.
const HRR_RANDOM_START: [u8; 4] = [0xCF, 0x21, 0xAD, 0x74];

/// What the server's first handshake message says about the key exchange.
#[derive(Debug, PartialEq, Eq)]
enum FirstAnswer {
    /// ServerHello with a key_share of this group and this many key bytes.
    ServerHello { group: u16, key_len: usize },
    /// HelloRetryRequest asking for this group (`None`: no key_share extension).
    Retry { group: Option<u16> },
}

fn u16_at(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_be_bytes([*b.get(at)?, *b.get(at + 1)?]))
}

/// Reads the first fragment of the first record of `datagram` as a DTLS 1.3 ServerHello (the
/// header fields of the key_share fit in it even when the hybrid share is cut by the MTU).
fn first_answer(datagram: &[u8]) -> Option<FirstAnswer> {
    if *datagram.first()? != 22 {
        return None;
    }
    let body = datagram.get(13 + 12..)?;
    if datagram.get(13)? != &2 {
        return None; // not a ServerHello
    }
    let retry = body.get(2..6)? == HRR_RANDOM_START;
    let mut pos = 2 + 32;
    pos += 1 + usize::from(*body.get(pos)?); // legacy_session_id_echo
    pos += 2 + 1; // cipher_suite, legacy_compression_method
    let end = pos + 2 + usize::from(u16_at(body, pos)?);
    pos += 2;
    while pos + 4 <= end {
        let (ext, len) = (u16_at(body, pos)?, usize::from(u16_at(body, pos + 2)?));
        if ext == 51 {
            let group = u16_at(body, pos + 4)?;
            return Some(if retry {
                FirstAnswer::Retry { group: Some(group) }
            } else {
                FirstAnswer::ServerHello {
                    group,
                    key_len: usize::from(u16_at(body, pos + 6)?),
                }
            });
        }
        pos += 4 + len;
    }
    retry.then_some(FirstAnswer::Retry { group: None })
}

/// Connects a client and a server with the given versions and `post_quantum` settings;
/// returns the server's first answer and checks the connection and its keys.
fn negotiate(
    version: VersionPolicy,
    client_pq: bool,
    server_pq: bool,
    seed: u64,
) -> Option<FirstAnswer> {
    let mut client_cfg = config(version, seed);
    client_cfg.post_quantum = client_pq;
    let mut server_cfg = config(version, seed + 1000);
    server_cfg.post_quantum = server_pq;
    // As PeerConnection configures it: ICE has checked the address, no cookie round trip.
    server_cfg.server_cookie = false;
    let mut pair = Pair::new(&client_cfg, &server_cfg);
    let seen: Rc<RefCell<Vec<Vec<u8>>>> = Rc::default();
    let log = seen.clone();
    pair.drop_to_client = Box::new(move |_, d| {
        log.borrow_mut().push(d.to_vec());
        false
    });
    pair.connect();
    let ctx = format!("{version:?} client pq {client_pq} server pq {server_pq}");
    assert!(pair.max_datagram <= client_cfg.mtu, "{ctx}");
    let ck = connected_keys(&pair.client_events).expect("client keys");
    let sk = connected_keys(&pair.server_events).expect("server keys");
    assert_eq!(ck.local, sk.remote, "{ctx}");
    assert_eq!(ck.remote, sk.local, "{ctx}");
    let version_of = |events: &[Event]| {
        events.iter().find_map(|e| match e {
            Event::Connected { version, .. } => Some(*version),
            _ => None,
        })
    };
    if version != VersionPolicy::Dtls12 {
        assert_eq!(version_of(&pair.client_events), Some(DtlsVersion::Dtls13));
        assert_eq!(version_of(&pair.server_events), Some(DtlsVersion::Dtls13));
    }
    let first = seen.borrow().first().cloned().expect("server answered");
    first_answer(&first)
}

#[test]
fn both_sides_negotiate_the_hybrid_in_one_round_trip() {
    for (i, version) in [VersionPolicy::Auto, VersionPolicy::Dtls13]
        .into_iter()
        .enumerate()
    {
        assert_eq!(
            negotiate(version, true, true, i as u64),
            Some(FirstAnswer::ServerHello {
                group: X25519MLKEM768,
                key_len: 1088 + 32
            }),
            "{version:?}"
        );
    }
}

#[test]
fn a_client_without_the_hybrid_gets_x25519_without_retry() {
    for (i, version) in [VersionPolicy::Auto, VersionPolicy::Dtls13]
        .into_iter()
        .enumerate()
    {
        assert_eq!(
            negotiate(version, false, true, 10 + i as u64),
            Some(FirstAnswer::ServerHello {
                group: X25519,
                key_len: 32
            }),
            "{version:?}"
        );
    }
}

/// Our client sends one key share, the hybrid; a DTLS 1.3 server without it asks for x25519
/// (one more round trip) and the handshake completes on x25519.
#[test]
fn a_server_without_the_hybrid_asks_for_x25519() {
    for (i, version) in [VersionPolicy::Auto, VersionPolicy::Dtls13]
        .into_iter()
        .enumerate()
    {
        assert_eq!(
            negotiate(version, true, false, 20 + i as u64),
            Some(FirstAnswer::Retry {
                group: Some(X25519)
            }),
            "{version:?}"
        );
    }
}

/// DTLS 1.2 never uses the hybrid: the hybrid ClientHello of an Auto client still gets an
/// ECDHE DTLS 1.2 handshake from a 1.2-only server, with matching keys.
#[test]
fn dtls12_is_unaffected() {
    let mut client_cfg = config(VersionPolicy::Auto, 30);
    client_cfg.post_quantum = true;
    let server_cfg = config(VersionPolicy::Dtls12, 31);
    let mut pair = Pair::new(&client_cfg, &server_cfg);
    pair.connect();
    assert!(pair.max_datagram <= client_cfg.mtu);
    assert_eq!(pair.client.version(), Some(DtlsVersion::Dtls12));
    let ck = connected_keys(&pair.client_events).expect("client keys");
    let sk = connected_keys(&pair.server_events).expect("server keys");
    assert_eq!(ck.local, sk.remote);
    assert_eq!(negotiate(VersionPolicy::Dtls12, true, true, 32), None);
}

/// At an MTU where the hybrid ServerHello (about 1.2 KB) is fragmented, the Auto client still
/// reads the version from the first fragment (patches/dimpl patch 5) and connects.
#[test]
fn a_fragmented_hybrid_server_hello_is_read_as_dtls13() {
    for (i, mtu) in [600, 1000, 256].into_iter().enumerate() {
        let mut cfg = config(VersionPolicy::Auto, 40 + i as u64);
        cfg.mtu = mtu;
        cfg.server_cookie = false;
        let mut pair = Pair::new(&cfg, &cfg);
        pair.connect();
        assert!(pair.max_datagram <= mtu, "mtu {mtu}");
        assert_eq!(
            pair.client.version(),
            Some(DtlsVersion::Dtls13),
            "mtu {mtu}"
        );
        let ck = connected_keys(&pair.client_events).expect("client keys");
        let sk = connected_keys(&pair.server_events).expect("server keys");
        assert_eq!(ck.local, sk.remote, "mtu {mtu}");
    }
}

/// The server's first flight now spans several datagrams; the Auto client (what
/// PeerConnection uses) takes them in any order: patch 5 keeps what overtakes the ServerHello
/// and hands it on once the version is known, so no retransmission is needed. (dimpl's
/// 1.3-only client drops records it cannot decrypt yet and recovers them by retransmission;
/// unchanged.)
#[test]
fn an_auto_client_takes_the_server_flight_in_any_order() {
    use rtcweb_dtls::{Role, State};
    for post_quantum in [true, false] {
        for reverse in [false, true] {
            let ctx = format!("post_quantum {post_quantum} reverse {reverse}");
            let (cc, sc) = (common::cert(1), common::cert(2));
            let mut client_cfg = config(VersionPolicy::Auto, 50);
            client_cfg.post_quantum = post_quantum;
            let mut server_cfg = config(VersionPolicy::Auto, 51);
            server_cfg.server_cookie = false;
            if !post_quantum {
                // Without the hybrid the flight fits one datagram at 1200 bytes.
                server_cfg.mtu = 500;
            }
            let now = std::time::Instant::now();
            let mut client = common::endpoint(
                &client_cfg,
                &cc,
                Role::Client,
                vec![sc.fingerprint().clone()],
                now,
            )
            .unwrap();
            let mut server = common::endpoint(
                &server_cfg,
                &sc,
                Role::Server,
                vec![cc.fingerprint().clone()],
                now,
            )
            .unwrap();
            // Everything happens at `now`: no timer fires, so nothing is retransmitted.
            let mut server_flights = 0;
            for _ in 0..4 {
                let hello: Vec<Vec<u8>> = std::iter::from_fn(|| client.poll_transmit()).collect();
                for d in &hello {
                    server.handle_input(now, d);
                }
                let mut flight: Vec<Vec<u8>> =
                    std::iter::from_fn(|| server.poll_transmit()).collect();
                if flight.len() > 1 {
                    server_flights += 1;
                }
                if reverse {
                    flight.reverse();
                }
                for d in &flight {
                    client.handle_input(now, d);
                }
            }
            assert!(server_flights >= 1, "{ctx}: the flight was one datagram");
            assert_eq!(client.state(), &State::Connected, "{ctx}");
            assert_eq!(server.state(), &State::Connected, "{ctx}");
            assert_eq!(client.version(), Some(DtlsVersion::Dtls13), "{ctx}");
        }
    }
}
