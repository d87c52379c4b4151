//! Chromium 156's real ClientHello (captured by tests/chromium-capture/capture.sh, see
//! tests/data/chromium-156/README.md): 1413 bytes with an X25519MLKEM768 key share, split over
//! two datagrams. Our server endpoint must reassemble it and answer, in either arrival order:
//! in DTLS 1.3 with a ServerHello on X25519MLKEM768 (no HelloRetryRequest for the key share;
//! only the optional cookie exchange asks for one), in DTLS 1.2 with HelloVerifyRequest /
//! ServerHello.
#![allow(clippy::unwrap_used)] // test code: a panic is a failed test

mod common;

use std::time::Instant;

use common::{cert, config, endpoint};
use rtcweb_dtls::{HashFunction, Role, State, VersionPolicy, fingerprint_of};

const HELLO_1: &[u8] = include_bytes!("data/chromium-156/client-hello-1.bin");
const HELLO_2: &[u8] = include_bytes!("data/chromium-156/client-hello-2.bin");

/// RFC 8446 section 4.1.3: the ServerHello.random that marks a HelloRetryRequest.
const HRR_RANDOM: [u8; 32] = [
    0xCF, 0x21, 0xAD, 0x74, 0xE5, 0x9A, 0x61, 0x11, 0xBE, 0x1D, 0x8C, 0x02, 0x1E, 0x65, 0xB8, 0x91,
    0xC2, 0xA2, 0x11, 0x16, 0x7A, 0xBB, 0x8C, 0x5E, 0x07, 0x9E, 0x09, 0xE2, 0xC8, 0xA8, 0x33, 0x9C,
];

const CLIENT_HELLO: u8 = 1;
const SERVER_HELLO: u8 = 2;
const HELLO_VERIFY_REQUEST: u8 = 3;

struct Record<'a> {
    content_type: u8,
    epoch: u16,
    body: &'a [u8],
}

fn records(mut d: &[u8]) -> Vec<Record<'_>> {
    let mut out = Vec::new();
    while d.len() >= 13 && d[0] < 32 {
        let len = usize::from(u16::from_be_bytes([d[11], d[12]]));
        let body = &d[13..13 + len];
        out.push(Record {
            content_type: d[0],
            epoch: u16::from_be_bytes([d[3], d[4]]),
            body,
        });
        d = &d[13 + len..];
    }
    out
}

/// Handshake header fields: (msg_type, total length, fragment offset, fragment bytes).
fn handshake(body: &[u8]) -> (u8, usize, usize, &[u8]) {
    let u24 = |b: &[u8]| (usize::from(b[0]) << 16) | (usize::from(b[1]) << 8) | usize::from(b[2]);
    let frag_len = u24(&body[9..12]);
    (
        body[0],
        u24(&body[1..4]),
        u24(&body[6..9]),
        &body[12..12 + frag_len],
    )
}

/// Extensions of a ClientHello or ServerHello body, as (type, data).
fn extensions(hello: &[u8], is_client_hello: bool) -> Vec<(u16, &[u8])> {
    let mut pos = 2 + 32;
    pos += 1 + usize::from(hello[pos]); // session id
    if is_client_hello {
        pos += 1 + usize::from(hello[pos]); // cookie
        pos += 2 + usize::from(u16::from_be_bytes([hello[pos], hello[pos + 1]])); // suites
        pos += 1 + usize::from(hello[pos]); // compression methods
    } else {
        pos += 2 + 1; // suite, compression
    }
    let end = pos + 2 + usize::from(u16::from_be_bytes([hello[pos], hello[pos + 1]]));
    pos += 2;
    let mut out = Vec::new();
    while pos < end {
        let t = u16::from_be_bytes([hello[pos], hello[pos + 1]]);
        let len = usize::from(u16::from_be_bytes([hello[pos + 2], hello[pos + 3]]));
        out.push((t, &hello[pos + 4..pos + 4 + len]));
        pos += 4 + len;
    }
    out
}

/// The capture really is what the issue describes; checks the test data, not our code.
#[test]
fn capture_is_chromium_156_hybrid_client_hello() {
    let mut body = Vec::new();
    for d in [HELLO_1, HELLO_2] {
        let recs = records(d);
        assert_eq!(recs.len(), 1);
        assert_eq!((recs[0].content_type, recs[0].epoch), (22, 0));
        let (msg_type, total, offset, frag) = handshake(recs[0].body);
        assert_eq!((msg_type, total, offset), (CLIENT_HELLO, 1413, body.len()));
        body.extend_from_slice(frag);
    }
    assert_eq!(body.len(), 1413);
    assert_eq!(HELLO_1.len(), 1200);
    let ext = extensions(&body, true);
    let get = |t: u16| {
        ext.iter()
            .find(|(et, _)| *et == t)
            .map(|(_, d)| *d)
            .unwrap()
    };
    // supported_versions: DTLS 1.3 (0xfefc) and 1.2 (0xfefd).
    assert_eq!(get(43), [4, 0xfe, 0xfc, 0xfe, 0xfd]);
    // key_share: X25519MLKEM768 (0x11ec, 1216 bytes) then x25519 (0x001d).
    let ks = get(51);
    assert_eq!(ks[2..6], [0x11, 0xec, 0x04, 0xc0]);
    assert_eq!(ks[2 + 4 + 1216..2 + 4 + 1216 + 4], [0x00, 0x1d, 0x00, 0x20]);
    // use_srtp: AES128_CM_SHA1_80, AEAD_AES_256_GCM, AEAD_AES_128_GCM, in that order.
    assert_eq!(get(14), [0, 6, 0, 1, 0, 8, 0, 7, 0]);
}

/// Feeds the two datagrams (in `order`) to a fresh server; returns its first answer.
fn answer(version: VersionPolicy, cookie: bool, order: [&[u8]; 2]) -> Vec<u8> {
    answer_with(version, cookie, true, order)
}

fn answer_with(
    version: VersionPolicy,
    cookie: bool,
    post_quantum: bool,
    order: [&[u8]; 2],
) -> Vec<u8> {
    let mut cfg = config(version, 21);
    cfg.server_cookie = cookie;
    cfg.post_quantum = post_quantum;
    let c = cert(1);
    // Any fingerprint: the exchange stops long before certificates.
    let fp = fingerprint_of(HashFunction::Sha256, b"chromium");
    let now = Instant::now();
    let mut server = endpoint(&cfg, &c, Role::Server, vec![fp], now).unwrap();
    assert!(server.poll_transmit().is_none());
    server.handle_input(now, order[0]);
    assert!(
        server.poll_transmit().is_none(),
        "answered half a ClientHello"
    );
    assert_eq!(server.state(), &State::Handshaking);
    server.handle_input(now, order[1]);
    assert_eq!(
        server.state(),
        &State::Handshaking,
        "{version:?} cookie {cookie}"
    );
    server
        .poll_transmit()
        .unwrap_or_else(|| panic!("{version:?} cookie {cookie}: no answer"))
}

fn first_handshake_message(datagram: &[u8]) -> (u8, Vec<u8>) {
    let recs = records(datagram);
    let rec = recs.first().expect("a record");
    assert_eq!((rec.content_type, rec.epoch), (22, 0));
    let (msg_type, total, offset, frag) = handshake(rec.body);
    assert_eq!(offset, 0);
    assert!(frag.len() <= total);
    (msg_type, frag.to_vec())
}

/// With the (optional) stateless cookie, the HelloRetryRequest asks for the cookie only: no
/// key_share group is requested, so Chromium's retry keeps its hybrid share.
#[test]
fn cookie_retry_does_not_ask_for_another_group() {
    for order in [[HELLO_1, HELLO_2], [HELLO_2, HELLO_1]] {
        for version in [VersionPolicy::Auto, VersionPolicy::Dtls13] {
            let (msg_type, hello) = first_handshake_message(&answer(version, true, order));
            assert_eq!(msg_type, SERVER_HELLO, "{version:?}");
            assert_eq!(
                hello[2..34],
                HRR_RANDOM,
                "{version:?}: not a HelloRetryRequest"
            );
            let ext = extensions(&hello, false);
            // supported_versions selects DTLS 1.3; a cookie (44) is asked for; no key_share.
            assert!(ext.contains(&(43, &[0xfe, 0xfc][..])), "{version:?}");
            assert!(ext.iter().any(|(t, _)| *t == 44), "{version:?}");
            assert!(!ext.iter().any(|(t, _)| *t == 51), "{version:?}: {ext:?}");
        }
    }
}

/// Without the cookie (what PeerConnection configures: ICE has already checked the address),
/// the first answer is the ServerHello on X25519MLKEM768: ML-KEM-768 ciphertext (1088) and
/// X25519 public key (32). No HelloRetryRequest, no extra round trip.
#[test]
fn server_answers_the_hybrid_share_without_retry() {
    for order in [[HELLO_1, HELLO_2], [HELLO_2, HELLO_1]] {
        for version in [VersionPolicy::Auto, VersionPolicy::Dtls13] {
            let (msg_type, hello) = first_handshake_message(&answer(version, false, order));
            assert_eq!(msg_type, SERVER_HELLO, "{version:?}");
            assert_ne!(hello[2..34], HRR_RANDOM, "{version:?}: a HelloRetryRequest");
            let ext = extensions(&hello, false);
            assert!(ext.contains(&(43, &[0xfe, 0xfc][..])), "{version:?}");
            let ks = ext.iter().find(|(t, _)| *t == 51).expect("key_share").1;
            assert_eq!(ks[..4], [0x11, 0xec, 0x04, 0x60], "{version:?}");
            assert_eq!(ks.len(), 4 + 1088 + 32, "{version:?}");
        }
    }
}

/// With `post_quantum` off, the same hello gets x25519, Chromium's second share.
#[test]
fn server_without_post_quantum_picks_x25519() {
    for order in [[HELLO_1, HELLO_2], [HELLO_2, HELLO_1]] {
        let (msg_type, hello) =
            first_handshake_message(&answer_with(VersionPolicy::Auto, false, false, order));
        assert_eq!(msg_type, SERVER_HELLO);
        assert_ne!(hello[2..34], HRR_RANDOM);
        let ext = extensions(&hello, false);
        assert!(ext.contains(&(43, &[0xfe, 0xfc][..])));
        let ks = ext.iter().find(|(t, _)| *t == 51).expect("key_share").1;
        assert_eq!(ks[..4], [0x00, 0x1d, 0x00, 0x20]);
    }
}

#[test]
fn dtls12_server_falls_back_from_the_hybrid_hello() {
    for order in [[HELLO_1, HELLO_2], [HELLO_2, HELLO_1]] {
        let (msg_type, _) = first_handshake_message(&answer(VersionPolicy::Dtls12, true, order));
        assert_eq!(msg_type, HELLO_VERIFY_REQUEST);

        let (msg_type, hello) =
            first_handshake_message(&answer(VersionPolicy::Dtls12, false, order));
        assert_eq!(msg_type, SERVER_HELLO);
        assert_eq!(hello[..2], [0xfe, 0xfd], "server_version DTLS 1.2");
        // use_srtp: dimpl as a 1.2 server takes AEAD_AES_256_GCM although Chromium lists
        // AES128_CM_SHA1_80 first.
        let ext = extensions(&hello, false);
        assert!(ext.contains(&(14, &[0, 2, 0, 8, 0][..])), "{:?}", ext);
    }
}
