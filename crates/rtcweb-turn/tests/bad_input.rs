//! Untrusted input to the TURN client: garbage, truncation, forged or misdirected responses,
//! unknown transactions, broken streams. Nothing panics and nothing changes state wrongly.
#![allow(clippy::unwrap_used)]

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use rtcweb_stun::{
    Attribute, Class, ErrorCode, IntegrityKey, Message, MessageBuilder, MessageType, Method,
    PasswordAlgorithm, TransactionId,
};
use rtcweb_turn::{
    AllocationState, Client, ClientConfig, Credentials, Datagram, Event, Failure, Protocol,
};

const SERVER: &str = "203.0.113.1:3478";
const LOCAL: &str = "192.0.2.10:40000";

/// `data` arriving from `from` on the client's socket.
fn from(from: SocketAddr, data: &[u8]) -> Datagram<'_> {
    Datagram::udp(from, LOCAL.parse().unwrap(), data)
}

fn client(transport: Protocol) -> Client {
    let creds = Credentials::LongTerm {
        username: "alice".into(),
        password: "pw".into(),
    };
    Client::new(
        ClientConfig::new(SERVER.parse().unwrap(), transport, creds),
        LOCAL.parse().unwrap(),
        [1; 32],
    )
}

fn response(
    tid: TransactionId,
    method: Method,
    class: Class,
    attrs: &[Attribute<'_>],
    key: Option<&IntegrityKey>,
) -> Vec<u8> {
    let mut buf = vec![0u8; 512];
    let mut b = MessageBuilder::new(&mut buf, MessageType::new(method, class), tid).unwrap();
    for a in attrs {
        b.attribute(a).unwrap();
    }
    if let Some(k) = key {
        b.message_integrity(k).unwrap();
    }
    let n = b.finish();
    buf.truncate(n);
    buf
}

/// A 401 answer to `request` with REALM and NONCE, without integrity.
fn challenge(request: &[u8], reason: &str) -> Vec<u8> {
    response(
        tid_of(request),
        Method::ALLOCATE,
        Class::ErrorResponse,
        &[
            Attribute::ErrorCode(ErrorCode { code: 401, reason }),
            Attribute::Realm("example.org"),
            Attribute::Nonce("n1"),
        ],
        None,
    )
}

/// A client over `transport` that has started allocating, with its first request's octets.
fn allocating(transport: Protocol, now: Instant) -> (Client, Vec<u8>) {
    let mut c = client(transport);
    c.allocate(now).unwrap();
    let first = c.poll_transmit().unwrap().payload;
    (c, first)
}

fn tid_of(bytes: &[u8]) -> TransactionId {
    Message::new_checked(bytes).unwrap().transaction_id()
}

fn key() -> IntegrityKey {
    IntegrityKey::long_term("alice", "example.org", "pw", PasswordAlgorithm::Md5).unwrap()
}

/// Runs the client to the authenticated Allocate and returns it with that request's octets.
fn challenged(now: Instant) -> (Client, Vec<u8>) {
    let server: SocketAddr = SERVER.parse().unwrap();
    let (mut c, first) = allocating(Protocol::Udp, now);
    c.handle_input(now, from(server, &challenge(&first, "Unauthenticated")));
    let second = c.poll_transmit().unwrap().payload;
    assert!(Message::new_checked(&second[..]).unwrap().has_integrity());
    (c, second)
}

fn success(tid: TransactionId, key: &IntegrityKey) -> Vec<u8> {
    response(
        tid,
        Method::ALLOCATE,
        Class::SuccessResponse,
        &[
            Attribute::XorRelayedAddress("203.0.113.1:50000".parse().unwrap()),
            Attribute::XorMappedAddress("198.51.100.1:1234".parse().unwrap()),
            Attribute::Lifetime(600),
        ],
        Some(key),
    )
}

#[test]
fn garbage_truncated_and_oversized_datagrams_are_ignored() {
    let now = Instant::now();
    let server: SocketAddr = SERVER.parse().unwrap();
    let (mut c, req) = challenged(now);
    let good = success(tid_of(&req), &key());
    let mut junk: Vec<Vec<u8>> = vec![
        vec![],
        vec![0xFF; 3],
        vec![0; 20],
        vec![0x40, 0x00, 0xFF, 0xFF],
        vec![0xAB; 70_000],
    ];
    for cut in 0..good.len() {
        junk.push(good[..cut].to_vec());
    }
    let mut long = good.clone();
    long.extend_from_slice(&[0; 8]);
    junk.push(long);
    let mut x = 0x1234_5678u32;
    for _ in 0..2000 {
        let len = (x % 120) as usize;
        let mut d = Vec::with_capacity(len);
        for _ in 0..len {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            d.push(x as u8);
        }
        // Half of them get a valid STUN header so the attribute parsers see garbage too.
        if d.len() >= 20 && x.is_multiple_of(2) {
            let body = (d.len() - 20) as u8 & !3;
            d[..8].copy_from_slice(&[0x01, 0x13, 0, body, 0x21, 0x12, 0xA4, 0x42]);
        }
        junk.push(d);
    }
    for d in &junk {
        c.handle_input(now, from(server, d));
    }
    assert_eq!(c.state(), AllocationState::Allocating);
    assert!(c.poll_event().is_none());
    c.handle_input(now, from(server, &good));
    assert!(matches!(c.poll_event(), Some(Event::Allocated { .. })));
}

#[test]
fn wrong_integrity_is_ignored_without_state_change() {
    let now = Instant::now();
    let server: SocketAddr = SERVER.parse().unwrap();
    let (mut c, req) = challenged(now);
    let forged = success(tid_of(&req), &IntegrityKey::short_term("attacker"));
    c.handle_input(now, from(server, &forged));
    assert_eq!(c.state(), AllocationState::Allocating);
    assert_eq!(c.outstanding_requests(), 1);
    assert!(c.poll_event().is_none());
    // A success without any integrity is not accepted for an authenticated request either.
    let bare = response(
        tid_of(&req),
        Method::ALLOCATE,
        Class::SuccessResponse,
        &[Attribute::XorRelayedAddress(
            "203.0.113.1:50000".parse().unwrap(),
        )],
        None,
    );
    c.handle_input(now, from(server, &bare));
    assert_eq!(c.state(), AllocationState::Allocating);
    // The request keeps being retransmitted.
    c.handle_timeout(now + Duration::from_millis(500));
    assert_eq!(c.poll_transmit().unwrap().payload, req);
    // The genuine answer still works.
    c.handle_input(now, from(server, &success(tid_of(&req), &key())));
    assert!(matches!(c.poll_event(), Some(Event::Allocated { .. })));
}

#[test]
fn unknown_transactions_and_strangers_are_dropped() {
    let now = Instant::now();
    let server: SocketAddr = SERVER.parse().unwrap();
    let (mut c, req) = challenged(now);
    c.handle_input(now, from(server, &success(TransactionId([9; 12]), &key())));
    let stranger: SocketAddr = "198.51.100.66:3478".parse().unwrap();
    c.handle_input(now, from(stranger, &success(tid_of(&req), &key())));
    assert_eq!(c.state(), AllocationState::Allocating);
    assert!(c.poll_event().is_none());
    // A response of the wrong method with the right id is ignored as well.
    let wrong_method = response(
        tid_of(&req),
        Method::REFRESH,
        Class::SuccessResponse,
        &[],
        Some(&key()),
    );
    c.handle_input(now, from(server, &wrong_method));
    assert_eq!(c.state(), AllocationState::Allocating);
}

#[test]
fn unknown_channel_and_malformed_data_indications_are_ignored() {
    let now = Instant::now();
    let server: SocketAddr = SERVER.parse().unwrap();
    let (mut c, req) = challenged(now);
    c.handle_input(now, from(server, &success(tid_of(&req), &key())));
    let _ = c.poll_event();
    c.handle_input(now, from(server, &[0x40, 0x01, 0x00, 0x02, 1, 2, 0, 0]));
    let no_data = response(
        TransactionId([3; 12]),
        Method::DATA,
        Class::Indication,
        &[Attribute::XorPeerAddress("198.51.100.9:1".parse().unwrap())],
        None,
    );
    c.handle_input(now, from(server, &no_data));
    assert!(c.poll_event().is_none());
}

#[test]
fn tcp_stream_reassembly_and_broken_stream() {
    let now = Instant::now();
    let server: SocketAddr = SERVER.parse().unwrap();
    let (mut c, first) = allocating(Protocol::Tcp, now);
    // Over TCP nothing is retransmitted.
    c.handle_timeout(now + Duration::from_secs(10));
    assert!(c.poll_transmit().is_none());
    // Deliver the challenge one octet at a time.
    for b in &challenge(&first, "Unauthenticated") {
        c.handle_input(now, from(server, std::slice::from_ref(b)));
    }
    let second = c.poll_transmit().unwrap().payload;
    let ok = success(tid_of(&second), &key());
    // Success plus a padded ChannelData for an unknown channel, in two odd pieces.
    let mut stream = ok.clone();
    stream.extend_from_slice(&[0x40, 0x00, 0x00, 0x01, 0xAA, 0, 0, 0]);
    c.handle_input(now, from(server, &stream[..7]));
    c.handle_input(now, from(server, &stream[7..]));
    assert!(matches!(c.poll_event(), Some(Event::Allocated { .. })));
    // One huge read (a near-maximal STUN indication plus 100 ChannelData frames, 250 kB) is
    // taken in stride: the decoder is fed piecewise.
    let mut big = response(
        TransactionId([4; 12]),
        Method::DATA,
        Class::Indication,
        &[],
        None,
    );
    let body = vec![0u8; 60_000];
    big[2..4].copy_from_slice(&((60_000 + 4) as u16).to_be_bytes());
    big.extend_from_slice(&[0x80, 0x01, 0xEA, 0x60]);
    big.extend_from_slice(&body);
    for _ in 0..100 {
        big.extend_from_slice(&[0x40, 0x00, 0x07, 0xD0]);
        big.extend_from_slice(&[0u8; 2000]);
    }
    c.handle_input(now, from(server, &big));
    assert_eq!(c.state(), AllocationState::Allocated);
    assert!(c.poll_event().is_none());
    // Garbage on the stream: the allocation is lost, cleanly.
    c.handle_input(now, from(server, &[0xC0, 0, 0, 0]));
    assert_eq!(
        c.poll_event(),
        Some(Event::AllocationLost(Failure::BrokenStream))
    );
    assert_eq!(c.state(), AllocationState::Closed);
    c.handle_input(now, from(server, &ok));
    assert!(c.poll_event().is_none());
}

#[test]
fn tcp_channel_data_is_padded() {
    let now = Instant::now();
    let server: SocketAddr = SERVER.parse().unwrap();
    let (mut c, first) = allocating(Protocol::Tls, now);
    c.handle_input(now, from(server, &challenge(&first, "")));
    let second = c.poll_transmit().unwrap().payload;
    c.handle_input(now, from(server, &success(tid_of(&second), &key())));
    let peer: SocketAddr = "198.51.100.9:4000".parse().unwrap();
    let ch = c.bind_channel(now, peer).unwrap();
    let bind = c.poll_transmit().unwrap().payload;
    c.handle_input(
        now,
        from(
            server,
            &response(
                tid_of(&bind),
                Method::CHANNEL_BIND,
                Class::SuccessResponse,
                &[],
                Some(&key()),
            ),
        ),
    );
    c.send_to(peer, b"abcde").unwrap();
    let out = c.poll_transmit().unwrap().payload;
    assert_eq!(out.len(), 12, "4 header + 5 data + 3 padding");
    assert_eq!(u16::from_be_bytes([out[0], out[1]]), ch);
}
