//! TURN server core: arbitrary datagrams from arbitrary sources (clients over UDP/TCP and
//! peers on relay addresses), time jumps, closed connections and failed relay binds. One
//! operation signs fuzzer-chosen attributes with genuine long-term credentials and a fresh
//! nonce, so the authenticated paths (Allocate, Refresh, CreatePermission, ChannelBind with
//! any attributes) are reached too. Bandwidth limits (per allocation and per user, tiny so
//! they bite) are on for some inputs, and one operation replaces the credentials as a reload
//! does. Must never panic; state and queues stay bounded; the metrics agree with the state.
#![no_main]

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use libfuzzer_sys::fuzz_target;
use rtcweb_stun::{
    Attribute, AttributeType, Class, IntegrityKey, Message, MessageBuilder, MessageType, Method,
    PasswordAlgorithm, TransactionId,
};
use rtcweb_turn_server::{
    AuthConfig, BandwidthLimit, Event, FiveTuple, Protocol, RestSecret, Rfc5780, Server,
    ServerConfig, StaticUsers,
};

const REALM: &str = "fuzz.example";
const MAX_ALLOCATIONS: usize = 8;

fn tuple(sel: u8) -> FiveTuple {
    let transport = match sel & 3 {
        0 | 1 => Protocol::Udp,
        2 => Protocol::Tcp,
        _ => Protocol::Tls,
    };
    let client = SocketAddr::from((
        [198, 51, 100, 1 + (sel >> 2 & 3)],
        5000 + u16::from(sel >> 4 & 1),
    ));
    let server = if sel & 0x40 == 0 {
        "203.0.113.1:3478"
    } else {
        "203.0.113.2:3479"
    };
    FiveTuple::new(transport, client, server.parse().expect("literal"))
}

fn nonce_for(server: &mut Server, now: Instant, t: FiveTuple) -> Option<String> {
    let mut buf = [0u8; 64];
    let mut b = MessageBuilder::new(
        &mut buf,
        MessageType::new(Method::ALLOCATE, Class::Request),
        TransactionId([0; 12]),
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

fuzz_target!(|data: &[u8]| {
    let start = Instant::now();
    let mut now = start;
    let mut config = ServerConfig::new(REALM);
    config.relay_ipv4 = Some("203.0.113.1".parse().expect("literal"));
    config.relay_ipv6 = Some("2001:db8::1".parse().expect("literal"));
    config.min_port = 50000;
    config.max_port = 50015;
    config.max_allocations = MAX_ALLOCATIONS;
    config.max_permissions = 4;
    config.max_channels = 4;
    config.max_queued_transmits = 64;
    config.sha256_password_algorithm = data.first().is_some_and(|b| b & 1 == 1);
    config.peer_policy.allow_private = data.first().is_some_and(|b| b & 2 == 2);
    if data.first().is_some_and(|b| b & 4 == 4) {
        config.allocation_bandwidth = Some(BandwidthLimit {
            bytes_per_second: 200,
            burst: 300,
        });
    }
    if data.first().is_some_and(|b| b & 8 == 8) {
        config.user_bandwidth = Some(BandwidthLimit {
            bytes_per_second: 100,
            burst: 150,
        });
    }
    config.rfc5780 = Rfc5780::new(
        "203.0.113.1:3478".parse().expect("literal"),
        "203.0.113.2:3479".parse().expect("literal"),
    )
    .ok();
    let mut users = StaticUsers::new();
    users.insert_password("alice", "wonderland").expect("valid");
    let auth = AuthConfig {
        users: Some(Box::new(users)),
        rest_secrets: vec![RestSecret::new(b"s".to_vec())],
        ..AuthConfig::default()
    };
    let Ok(mut server) = Server::new(config, auth, start, 1_700_000_000, [1; 32]) else {
        return;
    };
    let key = IntegrityKey::long_term("alice", REALM, "wonderland", PasswordAlgorithm::Md5)
        .expect("valid");
    let mut relays: Vec<SocketAddr> = Vec::new();
    let mut bind_ok = true;
    let mut rest = data.get(1..).unwrap_or(&[]);
    let mut tid = 0u32;
    while let Some((&op, tail)) = rest.split_first() {
        rest = tail;
        let (&sel, tail) = match rest.split_first() {
            Some(x) => x,
            None => (&0, rest),
        };
        rest = tail;
        let len = usize::from(rest.first().copied().unwrap_or(0));
        let chunk = rest.get(1..1 + len).unwrap_or(rest.get(1..).unwrap_or(&[]));
        match op % 7 {
            0 => server.handle_client(now, tuple(sel), chunk),
            1 => {
                let relay = relays
                    .get(usize::from(sel) % relays.len().max(1))
                    .copied()
                    .unwrap_or_else(|| "203.0.113.1:50000".parse().expect("literal"));
                let peer = SocketAddr::from(([198, 51, 100, 9 + (sel & 1)], 7000));
                server.handle_peer(now, relay, peer, chunk);
            }
            2 => {
                now += Duration::from_secs(u64::from(sel) * 4);
                if server.poll_timeout().is_some_and(|t| t <= now) {
                    server.handle_timeout(now);
                }
            }
            3 => {
                // A request signed with genuine credentials, carrying fuzzer-chosen attributes.
                let t = tuple(sel);
                let Some(nonce) = nonce_for(&mut server, now, t) else {
                    continue;
                };
                let method = [
                    Method::ALLOCATE,
                    Method::REFRESH,
                    Method::CREATE_PERMISSION,
                    Method::CHANNEL_BIND,
                ][usize::from(sel >> 5 & 3)];
                tid += 1;
                let mut id = [0u8; 12];
                id[..4].copy_from_slice(&tid.to_be_bytes());
                let mut buf = vec![0u8; 1024];
                let Ok(mut b) = MessageBuilder::new(
                    &mut buf,
                    MessageType::new(method, Class::Request),
                    TransactionId(id),
                ) else {
                    continue;
                };
                if sel & 0x80 == 0 {
                    // Usually start from a valid request, so the fuzzer's attributes go on top
                    // of one that would succeed and the relay paths are reached.
                    let peer = SocketAddr::from(([198, 51, 100, 9 + (sel & 1)], 7000));
                    let _ = match method {
                        Method::ALLOCATE => b.attribute(&Attribute::RequestedTransport(17)),
                        Method::CHANNEL_BIND => b
                            .attribute(&Attribute::ChannelNumber(0x4000 + u16::from(sel & 3)))
                            .and_then(|()| b.attribute(&Attribute::XorPeerAddress(peer))),
                        Method::CREATE_PERMISSION => b.attribute(&Attribute::XorPeerAddress(peer)),
                        _ => Ok(()),
                    };
                }
                let mut attrs = chunk;
                while let [t0, t1, l, body @ ..] = attrs {
                    let n = usize::from(*l).min(body.len());
                    let _ =
                        b.raw_attribute(AttributeType(u16::from_be_bytes([*t0, *t1])), &body[..n]);
                    attrs = &body[n..];
                }
                let ok = b.attribute(&Attribute::Username("alice")).is_ok()
                    && b.attribute(&Attribute::Realm(REALM)).is_ok()
                    && b.attribute(&Attribute::Nonce(&nonce)).is_ok()
                    && b.message_integrity(&key).is_ok();
                if ok {
                    let n = b.finish();
                    server.handle_client(now, t, &buf[..n]);
                }
            }
            4 => server.handle_connection_closed(now, tuple(sel)),
            5 => {
                // A reload: alice stays or goes, the REST secret changes or not.
                let mut users = StaticUsers::new();
                if sel & 1 == 0 {
                    users.insert_password("alice", "wonderland").expect("valid");
                }
                server.set_auth(AuthConfig {
                    users: Some(Box::new(users)),
                    rest_secrets: vec![RestSecret::new(vec![b's' + (sel >> 1 & 1)])],
                    ..AuthConfig::default()
                });
            }
            _ => bind_ok = sel & 1 == 0,
        }
        rest = rest.get(1 + len..).unwrap_or(&[]);
        while let Some(e) = server.poll_event() {
            match e {
                Event::BindRelay { id, addr, reserve } => {
                    if bind_ok {
                        relays.push(addr);
                        relays.extend(reserve);
                    }
                    server.handle_relay_bound(now, id, bind_ok);
                }
                Event::ReleaseRelay { addr } => relays.retain(|r| *r != addr),
                _ => {}
            }
        }
        let s = server.stats();
        let m = server.metrics(now);
        assert_eq!(m.allocations_total(), s.allocations);
        assert!(m.users <= s.allocations + s.pending_allocations);
        assert!(m.permissions <= 4 * s.allocations && m.channels <= 4 * s.allocations);
        assert!(s.queued_transmits <= 64);
        assert!(s.allocations + s.pending_allocations + s.reservations <= MAX_ALLOCATIONS + 1);
        assert!(relays.len() <= 2 * (MAX_ALLOCATIONS + 1));
        while server.poll_transmit().is_some() {}
    }
});
