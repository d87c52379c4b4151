//! RFC 7635 OAuth on TURN: the self-contained token codec of `rtcweb-turn` and the TURN
//! server's token path with two configured AS-RS keys (A128GCM with the realm as associated
//! data, A256GCM with a server name).
//!
//! The token codec: arbitrary bytes never decrypt; a token minted from fuzzer-chosen fields
//! decrypts to them, and any flipped bit or truncation makes it fail.
//!
//! The server: the run may first allocate with our own `rtcweb-turn` client holding
//! self-issued OAuth credentials (it must succeed). Then operations: raw datagrams; requests
//! signed by the fuzzer with MESSAGE-INTEGRITY, a fresh nonce and a kid, carrying a genuine
//! token minted from fuzzer bytes (times around now, any session key), a genuine token with
//! one byte changed, or raw bytes as ACCESS-TOKEN; time jumps; closed connections. Checks:
//! no panic; bounded state; a success answer only ever goes to a request whose token is
//! genuine, current and signed with its session key (or, on an allocation, signed with the
//! key the allocation was made with), and that answer is signed with the same key; a
//! well-formed first Allocate with such a token succeeds.
#![no_main]

use std::collections::HashMap;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use libfuzzer_sys::fuzz_target;
use rtcweb_stun::{
    Attribute, AttributeType, Class, IntegrityKey, Message, MessageBuilder, MessageType, Method,
    TransactionId,
};
use rtcweb_turn::oauth::{AsRsAlgorithm, TokenBlock, decrypt_token, encrypt_token};
use rtcweb_turn_server::{
    AuthConfig, Event, FiveTuple, OAuthKey, Protocol, Server, ServerConfig, StaticUsers,
};

const REALM: &str = "oauth.fuzz.example";
const SERVER_NAME: &str = "turn.fuzz.example";
const UNIX0: u64 = 1_700_000_000;
const MAX_ALLOCATIONS: usize = 8;

/// The configured keys: kid, key, algorithm, the associated data the server uses.
const KEYS: [(&str, &[u8], AsRsAlgorithm, &str); 2] = [
    ("kid-a", &[0x11; 16], AsRsAlgorithm::A128Gcm, REALM),
    ("kid-b", &[0x22; 32], AsRsAlgorithm::A256Gcm, SERVER_NAME),
];

struct Input<'a>(&'a [u8]);

impl<'a> Input<'a> {
    fn byte(&mut self) -> u8 {
        let Some((&b, rest)) = self.0.split_first() else {
            return 0;
        };
        self.0 = rest;
        b
    }
    fn bytes(&mut self, n: usize) -> &'a [u8] {
        let (head, rest) = self.0.split_at(n.min(self.0.len()));
        self.0 = rest;
        head
    }
    /// A length byte, then that many bytes.
    fn chunk(&mut self) -> &'a [u8] {
        let n = usize::from(self.byte());
        self.bytes(n)
    }
    fn u32(&mut self) -> u32 {
        u32::from_be_bytes([self.byte(), self.byte(), self.byte(), self.byte()])
    }
    fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// The codec on its own.
fn token_codec(input: &mut Input<'_>) {
    let raw = input.chunk();
    for (_, key, alg, aad) in KEYS {
        // Without the key the fuzzer cannot make a token that authenticates (a 128-bit tag).
        assert!(decrypt_token(key, alg, aad, raw).is_err(), "forged token");
    }
    let block = TokenBlock {
        mac_key: input.chunk().to_vec(),
        timestamp: u64::from(input.u32()) << 16 | u64::from(input.byte()),
        lifetime: input.u32(),
    };
    let mut nonce = [0u8; 12];
    nonce.copy_from_slice(&[input.bytes(12), &[0; 12]].concat()[..12]);
    let (_, key, alg, aad) = KEYS[usize::from(input.byte() & 1)];
    let token = encrypt_token(key, alg, aad, nonce, &block).expect("a short key encrypts");
    assert_eq!(decrypt_token(key, alg, aad, &token).as_ref(), Ok(&block));
    let at = usize::from(input.byte()) % token.len();
    let mut bad = token.clone();
    bad[at] ^= 1 << (input.byte() & 7);
    assert!(
        decrypt_token(key, alg, aad, &bad).is_err(),
        "flipped byte {at}"
    );
    assert!(
        decrypt_token(key, alg, aad, &token[..at]).is_err(),
        "cut at {at}"
    );
    assert!(decrypt_token(key, alg, "other.example", &token).is_err());
}

fn tuple(sel: u8) -> FiveTuple {
    let transport = if sel & 1 == 0 {
        Protocol::Udp
    } else {
        Protocol::Tcp
    };
    let client = SocketAddr::from(([198, 51, 100, 1 + (sel >> 1 & 3)], 5000));
    FiveTuple::new(
        transport,
        client,
        "203.0.113.1:3478".parse().expect("literal"),
    )
}

fn server(with_users: bool) -> Server {
    let mut config = ServerConfig::new(REALM);
    config.relay_ipv4 = Some("203.0.113.1".parse().expect("literal"));
    config.min_port = 50000;
    config.max_port = 50015;
    config.max_allocations = MAX_ALLOCATIONS;
    config.max_queued_transmits = 64;
    let oauth_keys = KEYS
        .iter()
        .map(|(kid, key, _, aad)| {
            let mut k = OAuthKey::new(*kid, key.to_vec()).expect("key length");
            if *aad != REALM {
                k.server_name = Some((*aad).to_owned());
            }
            k
        })
        .collect();
    let mut users = StaticUsers::new();
    users.insert_password("kid-c", "password").expect("valid");
    let auth = AuthConfig {
        users: with_users.then(|| Box::new(users) as _),
        oauth_keys,
        ..AuthConfig::default()
    };
    Server::new(config, auth, base(), UNIX0, [7; 32]).expect("valid config")
}

/// One fixed instant for every run, so runs replay the same.
fn base() -> Instant {
    static BASE: std::sync::OnceLock<Instant> = std::sync::OnceLock::new();
    *BASE.get_or_init(Instant::now)
}

/// Relays always bind; returns nothing, the events are consumed.
fn drain_events(server: &mut Server, now: Instant) {
    while let Some(e) = server.poll_event() {
        if let Event::BindRelay { id, .. } = e {
            server.handle_relay_bound(now, id, true);
        }
    }
}

fn nonce_for(server: &mut Server, now: Instant, t: FiveTuple) -> Option<String> {
    let mut buf = [0u8; 64];
    let mut b = MessageBuilder::new(
        &mut buf,
        MessageType::new(Method::ALLOCATE, Class::Request),
        TransactionId([0xee; 12]),
    )
    .ok()?;
    b.attribute(&Attribute::RequestedTransport(17)).ok()?;
    let n = b.finish();
    server.handle_client(now, t, &buf[..n]);
    let mut nonce = None;
    while let Some(out) = server.poll_transmit() {
        if let Ok(m) = Message::new_checked(&out.payload[..])
            && let Some(Ok(Attribute::Nonce(s))) = m.attribute(AttributeType::NONCE)
        {
            nonce = Some(s.to_string());
        }
    }
    nonce
}

/// Our own client, self-issuing its token, allocates through the server.
fn client_allocates(
    server: &mut Server,
    now: &mut Instant,
    kid: usize,
    authorized: &mut Authorized,
) {
    let (kid, key, algorithm, aad) = KEYS[kid];
    let t = tuple(0);
    let creds = rtcweb_turn::Credentials::OAuthSelfIssued {
        kid: kid.into(),
        as_rs_key: key.to_vec(),
        algorithm,
        server_name: (aad != REALM).then(|| aad.to_owned()),
        session_key: vec![0x5a; 20],
        issued_at_unix: UNIX0,
        lifetime: 3600,
    };
    let config = rtcweb_turn::ClientConfig::new(t.server, rtcweb_turn::Protocol::Udp, creds);
    let mut client = rtcweb_turn::Client::new(config, t.client, [3; 32]);
    client.allocate(*now).expect("allocate");
    let mut allocated = false;
    for _ in 0..8 {
        while let Some(x) = client.poll_transmit() {
            server.handle_client(*now, t, &x.payload);
        }
        drain_events(server, *now);
        while let Some(x) = server.poll_transmit() {
            client.handle_input(
                *now,
                rtcweb_turn::Datagram::udp(t.server, t.client, &x.payload),
            );
        }
        while let Some(e) = client.poll_event() {
            allocated |= matches!(e, rtcweb_turn::Event::Allocated { .. });
        }
        *now += Duration::from_millis(10);
    }
    assert!(allocated, "our client with a valid token did not allocate");
    authorized.insert(t, (kid, vec![0x5a; 20]));
}

/// Whether two keys give the same HMAC-SHA1: a key shorter than the block (64 octets) is
/// padded with zeros, so `[1]` and `[1, 0]` are one key (the fuzzer found that out).
fn same_hmac_key(a: &[u8], b: &[u8]) -> bool {
    let trim = |k: &[u8]| -> Vec<u8> {
        if k.len() > 64 {
            return k.to_vec();
        }
        let end = k.iter().rposition(|b| *b != 0).map_or(0, |i| i + 1);
        k[..end].to_vec()
    };
    trim(a) == trim(b)
}

/// The kid and session key each allocation was authorized with: later requests on the
/// allocation may be signed with that key whatever token they carry (the server keeps the
/// key of an authenticated allocation, as for long-term credentials).
type Authorized = HashMap<FiveTuple, (&'static str, Vec<u8>)>;

fn signed_request(
    server: &mut Server,
    now: Instant,
    input: &mut Input<'_>,
    tid: u32,
    authorized: &mut Authorized,
) {
    let sel = input.byte();
    let how = input.byte();
    let t = tuple(sel);
    let Some(nonce) = nonce_for(server, now, t) else {
        return;
    };
    let kid_index = usize::from(how & 3);
    let (kid, as_rs_key, algorithm, aad) = match KEYS.get(kid_index) {
        Some(k) => *k,
        // An unknown kid, or a user of the user store.
        None => ("kid-c", &[0x33u8; 16][..], AsRsAlgorithm::A128Gcm, REALM),
    };
    let unix = server.unix_time(now);
    let block = TokenBlock {
        mac_key: input.chunk().to_vec(),
        timestamp: unix.wrapping_add(u64::from(input.byte())).wrapping_sub(128) << 16,
        lifetime: u32::from(input.byte()) * 8,
    };
    let nonce12 = [how; 12];
    let Ok(mut token) = encrypt_token(as_rs_key, algorithm, aad, nonce12, &block) else {
        return;
    };
    let mut genuine = kid_index < KEYS.len();
    match how >> 2 & 3 {
        0 | 1 => {}
        2 => {
            let at = usize::from(input.byte()) % token.len();
            token[at] ^= input.byte() | 1;
            genuine = false;
        }
        _ => {
            token = input.chunk().to_vec();
            genuine = false;
        }
    }
    // Usually signed with the token's session key, else with the fuzzer's.
    let key_bytes = if how & 0x10 == 0 {
        block.mac_key.clone()
    } else {
        input.chunk().to_vec()
    };
    let integrity = IntegrityKey::from_bytes(&key_bytes);
    let method = [
        Method::ALLOCATE,
        Method::REFRESH,
        Method::CREATE_PERMISSION,
        Method::CHANNEL_BIND,
    ][usize::from(how >> 5 & 3)];
    let mut id = [0u8; 12];
    id[..4].copy_from_slice(&tid.to_be_bytes());
    let mut buf = vec![0u8; 1500];
    let Ok(mut b) = MessageBuilder::new(
        &mut buf,
        MessageType::new(method, Class::Request),
        TransactionId(id),
    ) else {
        return;
    };
    let peer = SocketAddr::from(([203, 0, 113, 9], 7000));
    let _ = match method {
        Method::ALLOCATE => b.attribute(&Attribute::RequestedTransport(17)),
        Method::CHANNEL_BIND => b
            .attribute(&Attribute::ChannelNumber(0x4000))
            .and_then(|()| b.attribute(&Attribute::XorPeerAddress(peer))),
        Method::CREATE_PERMISSION => b.attribute(&Attribute::XorPeerAddress(peer)),
        _ => Ok(()),
    };
    let extra = if how & 0x80 != 0 { input.chunk() } else { &[] };
    let mut attrs = extra;
    while let [t0, t1, l, body @ ..] = attrs {
        let n = usize::from(*l).min(body.len());
        let _ = b.raw_attribute(AttributeType(u16::from_be_bytes([*t0, *t1])), &body[..n]);
        attrs = &body[n..];
    }
    let written = b.attribute(&Attribute::Username(kid)).is_ok()
        && b.attribute(&Attribute::Realm(REALM)).is_ok()
        && b.attribute(&Attribute::Nonce(&nonce)).is_ok()
        && b.attribute(&Attribute::AccessToken(&token)).is_ok()
        && b.message_integrity(&integrity).is_ok();
    if !written {
        return;
    }
    let n = b.finish();
    let had_allocation = server.relayed_address(&t).is_some();
    server.handle_client(now, t, &buf[..n]);
    drain_events(server, now);
    // Authorized by the token: genuine, current, signed with its session key.
    let by_token = genuine
        && block.is_valid_at(unix)
        && !block.mac_key.is_empty()
        && same_hmac_key(&key_bytes, &block.mac_key);
    // Authorized by the allocation: same kid, signed with the key it was allocated with.
    let by_allocation = had_allocation
        && authorized
            .get(&t)
            .is_some_and(|(k, key)| *k == kid && same_hmac_key(key, &key_bytes));
    let mut answered_success = false;
    while let Some(out) = server.poll_transmit() {
        let Ok(m) = Message::new_checked(&out.payload[..]) else {
            continue;
        };
        if m.transaction_id() != TransactionId(id) || m.class() != Class::SuccessResponse {
            continue;
        }
        answered_success = true;
        // A success is only for the holder of a genuine, current token's session key (or
        // of the key its allocation was authorized with)...
        assert!(
            by_token || by_allocation,
            "success without a valid token or the allocation's key"
        );
        // ...and is signed with that key.
        m.verify_integrity(&integrity)
            .expect("the answer is signed with the request's key");
        if method == Method::ALLOCATE {
            authorized.insert(t, (kid, key_bytes.clone()));
        }
    }
    if by_token
        && method == Method::ALLOCATE
        && extra.is_empty()
        && !had_allocation
        && server.stats().allocations < MAX_ALLOCATIONS
    {
        assert!(answered_success, "a valid token's Allocate was refused");
    }
}

fuzz_target!(|data: &[u8]| {
    let mut input = Input(data);
    let mode = input.byte();
    token_codec(&mut input);

    let mut server = server(mode & 1 == 1);
    let mut now = base();
    let mut authorized = Authorized::new();
    if mode & 2 == 2 {
        client_allocates(
            &mut server,
            &mut now,
            usize::from(mode >> 2 & 1),
            &mut authorized,
        );
    }
    let mut tid = 0u32;
    while !input.is_empty() {
        match input.byte() % 5 {
            0 => {
                let t = tuple(input.byte());
                server.handle_client(now, t, input.chunk());
            }
            1 | 2 => {
                tid += 1;
                signed_request(&mut server, now, &mut input, tid, &mut authorized);
            }
            3 => {
                now += Duration::from_secs(u64::from(input.byte()) * 4);
                if server.poll_timeout().is_some_and(|t| t <= now) {
                    server.handle_timeout(now);
                }
            }
            _ => server.handle_connection_closed(now, tuple(input.byte())),
        }
        drain_events(&mut server, now);
        while server.poll_transmit().is_some() {}
        let s = server.stats();
        assert!(s.queued_transmits <= 64);
        assert!(s.allocations + s.pending_allocations + s.reservations <= MAX_ALLOCATIONS + 1);
    }
});
