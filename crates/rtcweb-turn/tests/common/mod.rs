//! Test-only counterparts: a minimal TURN server, an RFC 5780 STUN server, an echo peer, and
//! netsim endpoints wrapping the sans-IO client and the NAT discovery.
#![allow(dead_code, clippy::unwrap_used)]

use std::collections::{HashMap, VecDeque};
use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

use rtcweb_netsim::{Datagram, Recorder, SansIo, Transmit};
use rtcweb_stun::channel_data::{self, ChannelData};
use rtcweb_stun::{
    Attribute, AttributeType, Class, ErrorCode, IntegrityKey, Message, MessageBuilder, MessageType,
    Method, PasswordAlgorithm, TransactionId,
};
use rtcweb_turn::oauth::{AsRsAlgorithm, decrypt_token};
use rtcweb_turn::{Client, Event};

/// How the fake server authenticates.
#[derive(Clone)]
pub enum ServerAuth {
    /// Fixed users.
    Users(Vec<(String, String)>),
    /// TURN REST shared secret; `now_unix` is the server's idea of the time.
    Rest { secret: Vec<u8>, now_unix: u64 },
    /// OAuth: kid -> AS-RS key (AES-128-GCM); the realm is the token's associated data.
    OAuth { kid: String, as_rs_key: Vec<u8> },
}

#[derive(Debug)]
pub struct Alloc {
    pub relayed: SocketAddr,
    pub expires: Instant,
    pub perms: HashMap<IpAddr, Instant>,
    pub channels: HashMap<u16, (SocketAddr, Instant)>,
    pub key: IntegrityKey,
    /// The Allocate transaction that made it: a retransmission of it is answered with
    /// success again, not 437 (RFC 8656 section 7.2, as real servers do).
    pub tid: TransactionId,
    pub lifetime: u32,
}

/// A minimal TURN server (UDP), enough to exercise the client: long-term, REST and OAuth
/// auth, allocations, refresh, permissions, channels, Send/Data, ChannelData, and knobs to
/// answer 300/437/438/486/508.
pub struct FakeTurn {
    pub addr: SocketAddr,
    pub relay_ip: IpAddr,
    pub realm: String,
    pub nonce: String,
    pub auth: ServerAuth,
    pub allocs: HashMap<SocketAddr, Alloc>,
    next_port: u16,
    pub out: VecDeque<Transmit>,
    /// (time, method, lifetime if any) of every authenticated request accepted.
    pub log: Vec<(Instant, Method, Option<u32>)>,
    pub stale_nonce_once: bool,
    pub rotate_nonce_on_401: bool,
    pub answer_allocate: Option<u16>,
    pub redirect: Option<SocketAddr>,
    pub drop_all: bool,
    /// Offer PASSWORD-ALGORITHMS [SHA-256, MD5] in 401s (RFC 8489 9.2); either is then
    /// accepted, as a real server that offered both would.
    pub offer_sha256: bool,
    /// For every authenticated request accepted: the PASSWORD-ALGORITHM it named (`None`
    /// without the attribute) and the PASSWORD-ALGORITHMS list it echoed, as raw bytes.
    pub auth_seen: Vec<(Option<u16>, Option<Vec<u8>>)>,
    nonce_counter: u32,
}

impl FakeTurn {
    pub fn new(addr: SocketAddr, auth: ServerAuth) -> Self {
        FakeTurn {
            addr,
            relay_ip: addr.ip(),
            realm: "example.org".into(),
            nonce: "nonce-0".into(),
            auth,
            allocs: HashMap::new(),
            next_port: 50000,
            out: VecDeque::new(),
            log: Vec::new(),
            stale_nonce_once: false,
            rotate_nonce_on_401: false,
            answer_allocate: None,
            redirect: None,
            drop_all: false,
            offer_sha256: false,
            auth_seen: Vec::new(),
            nonce_counter: 0,
        }
    }

    fn send(&mut self, from: SocketAddr, to: SocketAddr, payload: Vec<u8>) {
        self.out.push_back(Transmit::udp(from, to, payload));
    }

    fn respond(
        &mut self,
        to: SocketAddr,
        req: &Message<&[u8]>,
        class: Class,
        attrs: &[Attribute<'_>],
        key: Option<&IntegrityKey>,
    ) {
        let mut buf = vec![0u8; 1500];
        let typ = MessageType::new(req.method(), class);
        let mut b = MessageBuilder::new(&mut buf, typ, req.transaction_id()).unwrap();
        for a in attrs {
            b.attribute(a).unwrap();
        }
        if let Some(k) = key {
            b.message_integrity(k).unwrap();
        }
        b.fingerprint().unwrap();
        let n = b.finish();
        buf.truncate(n);
        let from = self.addr;
        self.send(from, to, buf);
    }

    fn error(
        &mut self,
        to: SocketAddr,
        req: &Message<&[u8]>,
        code: u16,
        key: Option<&IntegrityKey>,
    ) {
        let realm = self.realm.clone();
        let nonce = self.nonce.clone();
        let mut attrs = vec![Attribute::ErrorCode(ErrorCode {
            code,
            reason: "test",
        })];
        if code == 401 || code == 438 {
            attrs.push(Attribute::Realm(&realm));
            attrs.push(Attribute::Nonce(&nonce));
        }
        let alt;
        if code == 300 {
            alt = self.redirect.unwrap();
            attrs.push(Attribute::AlternateServer(alt));
        }
        if code == 401 && self.offer_sha256 {
            let mut buf = vec![0u8; 200];
            let mut b = MessageBuilder::new(
                &mut buf,
                MessageType::new(req.method(), Class::ErrorResponse),
                req.transaction_id(),
            )
            .unwrap();
            for a in &attrs {
                b.attribute(a).unwrap();
            }
            b.password_algorithms(&[
                rtcweb_stun::attributes::RawPasswordAlgorithm {
                    algorithm: 2,
                    params: &[],
                },
                rtcweb_stun::attributes::RawPasswordAlgorithm {
                    algorithm: 1,
                    params: &[],
                },
            ])
            .unwrap();
            let n = b.finish();
            buf.truncate(n);
            let from = self.addr;
            self.send(from, to, buf);
            return;
        }
        self.respond(to, req, Class::ErrorResponse, &attrs, key);
    }

    fn key_for(&self, msg: &Message<&[u8]>) -> Option<IntegrityKey> {
        let user = match msg.attribute(AttributeType::USERNAME)? {
            Ok(Attribute::Username(u)) => u.to_string(),
            _ => return None,
        };
        let alg = match msg.attribute(AttributeType::PASSWORD_ALGORITHM) {
            Some(Ok(Attribute::PasswordAlgorithm(a))) if a.algorithm == 2 => {
                PasswordAlgorithm::Sha256
            }
            _ => PasswordAlgorithm::Md5,
        };
        match &self.auth {
            ServerAuth::Users(users) => {
                let (_, pass) = users.iter().find(|(u, _)| *u == user)?;
                IntegrityKey::long_term(&user, &self.realm, pass, alg).ok()
            }
            ServerAuth::Rest { secret, now_unix } => {
                let pass = rtcweb_turn::credentials::rest_check(secret, &user, *now_unix)?;
                IntegrityKey::long_term(&user, &self.realm, &pass, alg).ok()
            }
            ServerAuth::OAuth { kid, as_rs_key } => {
                if *kid != user {
                    return None;
                }
                let token = match msg.attribute(AttributeType::ACCESS_TOKEN)? {
                    Ok(Attribute::AccessToken(t)) => t,
                    _ => return None,
                };
                let block =
                    decrypt_token(as_rs_key, AsRsAlgorithm::A128Gcm, &self.realm, token).ok()?;
                Some(IntegrityKey::from_bytes(&block.mac_key))
            }
        }
    }

    /// Handles one datagram addressed to the server or to a relayed address.
    pub fn handle(&mut self, now: Instant, d: Datagram) {
        if self.drop_all {
            return;
        }
        if d.destination == self.addr {
            self.on_client_datagram(now, d);
        } else {
            self.on_peer_datagram(now, d);
        }
    }

    fn on_peer_datagram(&mut self, now: Instant, d: Datagram) {
        let Some((client, alloc)) = self.allocs.iter().find(|(_, a)| a.relayed == d.destination)
        else {
            return;
        };
        let client = *client;
        if alloc.expires <= now || alloc.perms.get(&d.source.ip()).is_none_or(|t| *t <= now) {
            return;
        }
        let channel = alloc
            .channels
            .iter()
            .find(|(_, (p, t))| *p == d.source && *t > now)
            .map(|(n, _)| *n);
        let payload = if let Some(ch) = channel {
            let mut buf = vec![0u8; d.payload.len() + 8];
            let n = channel_data::encode(&mut buf, ch, d.payload, false).unwrap();
            buf.truncate(n);
            buf
        } else {
            let mut buf = vec![0u8; d.payload.len() + 64];
            let tid = TransactionId([7; 12]);
            let mut b = MessageBuilder::new(
                &mut buf,
                MessageType::new(Method::DATA, Class::Indication),
                tid,
            )
            .unwrap();
            b.attribute(&Attribute::XorPeerAddress(d.source)).unwrap();
            b.attribute(&Attribute::Data(d.payload)).unwrap();
            let n = b.finish();
            buf.truncate(n);
            buf
        };
        let from = self.addr;
        self.send(from, client, payload);
    }

    fn on_client_datagram(&mut self, now: Instant, d: Datagram) {
        let client = d.source;
        if channel_data::is_channel_data(d.payload) {
            let Ok(cd) = ChannelData::new_checked(d.payload) else {
                return;
            };
            let Some(a) = self.allocs.get(&client) else {
                return;
            };
            let Some((peer, t)) = a.channels.get(&cd.channel_number()) else {
                return;
            };
            if *t > now && a.expires > now {
                let (relayed, peer, data) = (a.relayed, *peer, cd.data().to_vec());
                self.send(relayed, peer, data);
            }
            return;
        }
        let Ok(msg) = Message::new_checked(d.payload) else {
            return;
        };
        if msg.class() == Class::Indication && msg.method() == Method::SEND {
            let Some(a) = self.allocs.get(&client) else {
                return;
            };
            let (Some(Ok(Attribute::XorPeerAddress(peer))), Some(Ok(Attribute::Data(data)))) = (
                msg.attribute(AttributeType::XOR_PEER_ADDRESS),
                msg.attribute(AttributeType::DATA),
            ) else {
                return;
            };
            if a.perms.get(&peer.ip()).is_some_and(|t| *t > now) && a.expires > now {
                let relayed = a.relayed;
                self.send(relayed, peer, data.to_vec());
            }
            return;
        }
        if msg.class() != Class::Request {
            return;
        }
        if msg.method() == Method::ALLOCATE && !msg.has_integrity() && self.redirect.is_some() {
            self.error(client, &msg, 300, None);
            self.redirect = None;
            return;
        }
        // Authentication.
        if !msg.has_integrity() {
            return self.error(client, &msg, 401, None);
        }
        let Some(key) = self.key_for(&msg) else {
            return self.error(client, &msg, 401, None);
        };
        if msg.verify_message_integrity(&key).is_err() {
            if self.rotate_nonce_on_401 {
                self.nonce_counter += 1;
                self.nonce = format!("nonce-{}", self.nonce_counter);
            }
            return self.error(client, &msg, 401, None);
        }
        let nonce_ok = matches!(
            msg.attribute(AttributeType::NONCE),
            Some(Ok(Attribute::Nonce(n))) if n == self.nonce
        );
        if !nonce_ok || self.stale_nonce_once {
            if self.stale_nonce_once {
                self.stale_nonce_once = false;
                self.nonce_counter += 1;
                self.nonce = format!("nonce-{}", self.nonce_counter);
            }
            return self.error(client, &msg, 438, Some(&key));
        }
        let lifetime_attr = match msg.attribute(AttributeType::LIFETIME) {
            Some(Ok(Attribute::Lifetime(l))) => Some(l),
            _ => None,
        };
        self.log.push((now, msg.method(), lifetime_attr));
        let algorithm = match msg.attribute(AttributeType::PASSWORD_ALGORITHM) {
            Some(Ok(Attribute::PasswordAlgorithm(a))) => Some(a.algorithm),
            _ => None,
        };
        let echoed = match msg.attribute(AttributeType::PASSWORD_ALGORITHMS) {
            Some(Ok(Attribute::PasswordAlgorithms(l))) => Some(l.as_bytes().to_vec()),
            _ => None,
        };
        self.auth_seen.push((algorithm, echoed));
        match msg.method() {
            Method::ALLOCATE => {
                if let Some(code) = self.answer_allocate {
                    return self.error(client, &msg, code, Some(&key));
                }
                if let Some(a) = self.allocs.get(&client).filter(|a| a.expires > now) {
                    if a.tid != msg.transaction_id() {
                        return self.error(client, &msg, 437, Some(&key));
                    }
                    let (relayed, lifetime) = (a.relayed, a.lifetime);
                    return self.respond(
                        client,
                        &msg,
                        Class::SuccessResponse,
                        &[
                            Attribute::XorRelayedAddress(relayed),
                            Attribute::XorMappedAddress(client),
                            Attribute::Lifetime(lifetime),
                        ],
                        Some(&key),
                    );
                }
                let lifetime = lifetime_attr.unwrap_or(600).clamp(60, 3600);
                let relayed = SocketAddr::new(self.relay_ip, self.next_port);
                self.next_port += 1;
                self.allocs.insert(
                    client,
                    Alloc {
                        relayed,
                        expires: now + Duration::from_secs(u64::from(lifetime)),
                        perms: HashMap::new(),
                        channels: HashMap::new(),
                        key: key.clone(),
                        tid: msg.transaction_id(),
                        lifetime,
                    },
                );
                self.respond(
                    client,
                    &msg,
                    Class::SuccessResponse,
                    &[
                        Attribute::XorRelayedAddress(relayed),
                        Attribute::XorMappedAddress(client),
                        Attribute::Lifetime(lifetime),
                    ],
                    Some(&key),
                );
            }
            Method::REFRESH => {
                let Some(a) = self.allocs.get_mut(&client).filter(|a| a.expires > now) else {
                    return self.error(client, &msg, 437, Some(&key));
                };
                let lifetime = lifetime_attr.unwrap_or(600).min(3600);
                if lifetime == 0 {
                    self.allocs.remove(&client);
                } else {
                    a.expires = now + Duration::from_secs(u64::from(lifetime));
                }
                self.respond(
                    client,
                    &msg,
                    Class::SuccessResponse,
                    &[Attribute::Lifetime(lifetime)],
                    Some(&key),
                );
            }
            Method::CREATE_PERMISSION => {
                let Some(a) = self.allocs.get_mut(&client).filter(|a| a.expires > now) else {
                    return self.error(client, &msg, 437, Some(&key));
                };
                for attr in msg.attributes() {
                    if attr.typ == AttributeType::XOR_PEER_ADDRESS
                        && let Ok(Attribute::XorPeerAddress(p)) =
                            Attribute::parse(attr.typ, attr.value, &msg.transaction_id())
                    {
                        a.perms.insert(p.ip(), now + Duration::from_secs(300));
                    }
                }
                self.respond(client, &msg, Class::SuccessResponse, &[], Some(&key));
            }
            Method::CHANNEL_BIND => {
                let Some(a) = self.allocs.get_mut(&client).filter(|a| a.expires > now) else {
                    return self.error(client, &msg, 437, Some(&key));
                };
                let (
                    Some(Ok(Attribute::ChannelNumber(ch))),
                    Some(Ok(Attribute::XorPeerAddress(p))),
                ) = (
                    msg.attribute(AttributeType::CHANNEL_NUMBER),
                    msg.attribute(AttributeType::XOR_PEER_ADDRESS),
                )
                else {
                    return self.error(client, &msg, 400, Some(&key));
                };
                a.channels.insert(ch, (p, now + Duration::from_secs(600)));
                a.perms.insert(p.ip(), now + Duration::from_secs(300));
                self.respond(client, &msg, Class::SuccessResponse, &[], Some(&key));
            }
            _ => self.error(client, &msg, 400, Some(&key)),
        }
    }
}

impl SansIo for FakeTurn {
    type Input<'a> = Datagram<'a>;
    type Transmit = Transmit;
    type Event = ();
    fn poll_event(&mut self) -> Option<()> {
        None
    }
    fn handle_input(&mut self, now: Instant, d: Datagram<'_>) {
        self.handle(now, d);
    }
    fn handle_timeout(&mut self, _: Instant) {}
    fn poll_transmit(&mut self, _: Instant) -> Option<Transmit> {
        self.out.pop_front()
    }
    fn poll_timeout(&self) -> Option<Instant> {
        None
    }
}

/// The TURN client on a netsim host, with every event it raised.
pub type TurnHost = Recorder<Client>;

/// How many Data events the client raised.
pub fn data_count(h: &TurnHost) -> usize {
    h.count(|e| matches!(e, Event::Data { .. }))
}

/// An RFC 5780 STUN server on two IPs and two ports.
pub struct Stun5780 {
    pub primary: SocketAddr,
    pub other: SocketAddr,
    pub advertise_other: bool,
    out: VecDeque<Transmit>,
}

impl Stun5780 {
    pub fn new(primary: SocketAddr, other: SocketAddr) -> Self {
        Stun5780 {
            primary,
            other,
            advertise_other: true,
            out: VecDeque::new(),
        }
    }
}

impl SansIo for Stun5780 {
    type Input<'a> = Datagram<'a>;
    type Transmit = Transmit;
    type Event = ();
    fn poll_event(&mut self) -> Option<()> {
        None
    }
    fn handle_input(&mut self, _: Instant, d: Datagram<'_>) {
        let Ok(msg) = Message::new_checked(d.payload) else {
            return;
        };
        if msg.class() != Class::Request || msg.method() != Method::BINDING {
            return;
        }
        let (mut ip, mut port) = (d.destination.ip(), d.destination.port());
        if let Some(Ok(Attribute::ChangeRequest {
            change_ip,
            change_port,
        })) = msg.attribute(AttributeType::CHANGE_REQUEST)
        {
            let alt_ip = if ip == self.primary.ip() {
                self.other.ip()
            } else {
                self.primary.ip()
            };
            let alt_port = if port == self.primary.port() {
                self.other.port()
            } else {
                self.primary.port()
            };
            if change_ip {
                ip = alt_ip;
            }
            if change_port {
                port = alt_port;
            }
        }
        let from = SocketAddr::new(ip, port);
        let mut to = d.source;
        if let Some(Ok(Attribute::ResponsePort(p))) = msg.attribute(AttributeType::RESPONSE_PORT) {
            to = SocketAddr::new(d.source.ip(), p);
        }
        let mut buf = vec![0u8; 200];
        let mut b =
            MessageBuilder::new(&mut buf, MessageType::BINDING_SUCCESS, msg.transaction_id())
                .unwrap();
        b.attribute(&Attribute::XorMappedAddress(d.source)).unwrap();
        b.attribute(&Attribute::ResponseOrigin(from)).unwrap();
        if self.advertise_other {
            b.attribute(&Attribute::OtherAddress(self.other)).unwrap();
        }
        b.fingerprint().unwrap();
        let n = b.finish();
        buf.truncate(n);
        self.out.push_back(Transmit::udp(from, to, buf));
    }
    fn handle_timeout(&mut self, _: Instant) {}
    fn poll_transmit(&mut self, _: Instant) -> Option<Transmit> {
        self.out.pop_front()
    }
    fn poll_timeout(&self) -> Option<Instant> {
        None
    }
}
