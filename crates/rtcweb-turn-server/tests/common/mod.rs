//! Netsim endpoints around the server core (a driver that binds relays on the simulated
//! host), our TURN client, an echo peer, and a builder of raw requests for the security tests.
#![allow(dead_code, clippy::unwrap_used)] // test helpers unwrap what the test itself set up

use std::collections::{HashSet, VecDeque};
use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

use rtcweb_netsim::{Datagram, Recorder, SansIo, Transmit};
use rtcweb_stun::{
    Attribute, Class, IntegrityKey, Message, MessageBuilder, MessageType, Method,
    PasswordAlgorithm, TransactionId,
};
use rtcweb_turn::{Client, Event as ClientEvent};
use rtcweb_turn_server::{
    AuthConfig, Event, FiveTuple, Protocol, Server, ServerConfig, SimulatedHost,
};

pub const REALM: &str = "example.org";
pub const UNIX_START: u64 = 1_700_000_000;

/// The server core on a simulated host ([`SimulatedHost`]), checking one more invariant
/// of the core: nothing is sent from a relay address that is not bound.
pub struct ServerHost(pub SimulatedHost);

pub fn config(relay: &str) -> ServerConfig {
    let mut c = ServerConfig::new(REALM);
    c.relay_ipv4 = Some(relay.parse().unwrap());
    c.nonce_secret = [42; 32];
    c
}

impl ServerHost {
    pub fn new(config: ServerConfig, auth: AuthConfig, start: Instant) -> Self {
        ServerHost(SimulatedHost::new(
            Server::new(config, auth, start, UNIX_START, [9; 32]).unwrap(),
        ))
    }
}

impl SansIo for ServerHost {
    type Input<'a> = Datagram<'a>;
    type Transmit = Transmit;
    type Event = ();
    fn poll_event(&mut self) -> Option<()> {
        None
    }
    fn handle_input(&mut self, now: Instant, d: Datagram<'_>) {
        self.0.handle_input(now, d);
    }
    fn handle_timeout(&mut self, now: Instant) {
        self.0.handle_timeout(now);
    }
    fn poll_transmit(&mut self, now: Instant) -> Option<Transmit> {
        let t = self.0.poll_transmit(now)?;
        if t.source.port() != 3478 && t.source.port() != 3479 {
            assert!(self.0.is_relay(&t.source), "sent from unbound {}", t.source);
        }
        Some(t)
    }
    fn poll_timeout(&self) -> Option<Instant> {
        self.0.poll_timeout()
    }
}

/// Our TURN client on a simulated host, with every event it raised.
pub type TurnHost = Recorder<Client>;

/// The data the client received from peers, in order.
pub fn data(h: &TurnHost) -> Vec<Vec<u8>> {
    h.events
        .iter()
        .filter_map(|(_, e)| match e {
            ClientEvent::Data { data, .. } => Some(data.clone()),
            _ => None,
        })
        .collect()
}

/// Sends scripted datagrams and keeps what comes back (for raw-protocol tests and floods).
#[derive(Default)]
pub struct Raw {
    pub out: VecDeque<Transmit>,
    pub received: Vec<Transmit>,
}

impl SansIo for Raw {
    type Input<'a> = Datagram<'a>;
    type Transmit = Transmit;
    type Event = ();
    fn poll_event(&mut self) -> Option<()> {
        None
    }
    fn handle_input(&mut self, _: Instant, d: Datagram<'_>) {
        self.received
            .push(Transmit::udp(d.source, d.destination, d.payload.to_vec()));
    }
    fn handle_timeout(&mut self, _: Instant) {}
    fn poll_transmit(&mut self, _: Instant) -> Option<Transmit> {
        self.out.pop_front()
    }
    fn poll_timeout(&self) -> Option<Instant> {
        None
    }
}

/// Credentials a raw request is signed with.
#[derive(Clone)]
pub struct Creds {
    pub username: String,
    pub key: IntegrityKey,
    pub nonce: String,
    pub token: Option<Vec<u8>>,
}

impl Creds {
    pub fn long_term(user: &str, password: &str, nonce: &str) -> Self {
        Creds {
            username: user.into(),
            key: IntegrityKey::long_term(user, REALM, password, PasswordAlgorithm::Md5).unwrap(),
            nonce: nonce.into(),
            token: None,
        }
    }
}

pub fn tid(n: u8) -> TransactionId {
    TransactionId([n; 12])
}

/// A request of `method` with `attrs`, signed with `creds` when given, with FINGERPRINT.
pub fn request(
    method: Method,
    id: TransactionId,
    attrs: &[Attribute<'_>],
    creds: Option<&Creds>,
) -> Vec<u8> {
    let mut buf = vec![0u8; 2048];
    let mut b =
        MessageBuilder::new(&mut buf, MessageType::new(method, Class::Request), id).unwrap();
    for a in attrs {
        b.attribute(a).unwrap();
    }
    if let Some(c) = creds {
        b.attribute(&Attribute::Username(&c.username)).unwrap();
        b.attribute(&Attribute::Realm(REALM)).unwrap();
        b.attribute(&Attribute::Nonce(&c.nonce)).unwrap();
        if let Some(t) = &c.token {
            b.attribute(&Attribute::AccessToken(t)).unwrap();
        }
        b.message_integrity(&c.key).unwrap();
    }
    b.fingerprint().unwrap();
    let n = b.finish();
    buf.truncate(n);
    buf
}

/// The parts of a response the tests look at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    pub class: Class,
    pub method: Method,
    pub tid: TransactionId,
    pub code: Option<u16>,
    pub nonce: Option<String>,
    pub realm: Option<String>,
    pub relayed: Option<SocketAddr>,
    pub mapped: Option<SocketAddr>,
    pub lifetime: Option<u32>,
    pub token: Option<[u8; 8]>,
    pub signed: bool,
    pub unknown: Vec<u16>,
    pub origin: Option<SocketAddr>,
    pub other: Option<SocketAddr>,
}

pub fn parse(data: &[u8]) -> Answer {
    let m = Message::new_checked(data).unwrap();
    m.verify_fingerprint().unwrap();
    let mut a = Answer {
        class: m.class(),
        method: m.method(),
        tid: m.transaction_id(),
        code: None,
        nonce: None,
        realm: None,
        relayed: None,
        mapped: None,
        lifetime: None,
        token: None,
        signed: m.has_integrity(),
        unknown: Vec::new(),
        origin: None,
        other: None,
    };
    let tid = m.transaction_id();
    for raw in m.attributes() {
        match Attribute::parse(raw.typ, raw.value, &tid).unwrap() {
            Attribute::ErrorCode(e) => a.code = Some(e.code),
            Attribute::Nonce(n) => a.nonce = Some(n.into()),
            Attribute::Realm(r) => a.realm = Some(r.into()),
            Attribute::XorRelayedAddress(r) => a.relayed = Some(r),
            Attribute::XorMappedAddress(r) => a.mapped = Some(r),
            Attribute::Lifetime(l) => a.lifetime = Some(l),
            Attribute::ReservationToken(t) => a.token = Some(*t),
            Attribute::UnknownAttributes(u) => a.unknown = u.iter().map(|t| t.0).collect(),
            Attribute::ResponseOrigin(o) => a.origin = Some(o),
            Attribute::OtherAddress(o) => a.other = Some(o),
            _ => {}
        }
    }
    a
}

/// Drives a bare [`Server`] (no network): binds relays at once, collects transmits.
pub struct Bench {
    pub server: Server,
    pub now: Instant,
    pub out: Vec<rtcweb_turn_server::Transmit>,
    pub events: Vec<Event>,
    pub bound: HashSet<SocketAddr>,
}

impl Bench {
    pub fn new(config: ServerConfig, auth: AuthConfig) -> Self {
        let now = Instant::now();
        Bench {
            server: Server::new(config, auth, now, UNIX_START, [3; 32]).unwrap(),
            now,
            out: Vec::new(),
            events: Vec::new(),
            bound: HashSet::new(),
        }
    }

    pub fn pump(&mut self) {
        while let Some(e) = self.server.poll_event() {
            match &e {
                Event::BindRelay { id, addr, reserve } => {
                    self.bound.insert(*addr);
                    if let Some(r) = reserve {
                        self.bound.insert(*r);
                    }
                    self.server.handle_relay_bound(self.now, *id, true);
                }
                Event::ReleaseRelay { addr } => {
                    assert!(self.bound.remove(addr));
                }
                _ => {}
            }
            self.events.push(e);
        }
        while let Some(t) = self.server.poll_transmit() {
            self.out.push(t);
        }
    }

    /// Sends `data` from `tuple` and returns the single answer sent back to the client.
    pub fn ask(&mut self, tuple: FiveTuple, data: &[u8]) -> Answer {
        self.out.clear();
        self.server.handle_client(self.now, tuple, data);
        self.pump();
        let mine: Vec<_> = self
            .out
            .iter()
            .filter(|t| t.destination == tuple.client)
            .collect();
        assert_eq!(mine.len(), 1, "expected one answer, got {:?}", self.out);
        parse(&mine[0].payload)
    }

    pub fn advance(&mut self, d: Duration) {
        self.now += d;
        if self.server.poll_timeout().is_some_and(|t| t <= self.now) {
            self.server.handle_timeout(self.now);
        }
        self.pump();
    }

    /// A 401 challenge's nonce for `tuple`.
    pub fn nonce(&mut self, tuple: FiveTuple) -> String {
        let a = self.allocate_udp(tuple, tid(99), None);
        assert_eq!(a.code, Some(401));
        a.nonce.unwrap()
    }

    /// Feeds `data` from the client on `tuple`; `out` then holds all the server sent.
    pub fn client_sends(&mut self, tuple: FiveTuple, data: &[u8]) {
        self.out.clear();
        self.server.handle_client(self.now, tuple, data);
        self.pump();
    }

    /// Feeds `data` from `peer` to `relay`; `out` then holds all the server sent.
    pub fn peer_sends(&mut self, relay: SocketAddr, peer: SocketAddr, data: &[u8]) {
        self.out.clear();
        self.server.handle_peer(self.now, relay, peer, data);
        self.pump();
    }

    /// An Allocate with REQUESTED-TRANSPORT UDP and nothing else, signed when `creds` is given.
    pub fn allocate_udp(
        &mut self,
        tuple: FiveTuple,
        id: TransactionId,
        creds: Option<&Creds>,
    ) -> Answer {
        let attrs = [Attribute::RequestedTransport(17)];
        self.ask(tuple, &request(Method::ALLOCATE, id, &attrs, creds))
    }

    /// A CreatePermission with one XOR-PEER-ADDRESS per peer.
    pub fn create_permission(
        &mut self,
        tuple: FiveTuple,
        id: TransactionId,
        peers: &[SocketAddr],
        creds: &Creds,
    ) -> Answer {
        let attrs: Vec<_> = peers
            .iter()
            .map(|p| Attribute::XorPeerAddress(*p))
            .collect();
        self.ask(
            tuple,
            &request(Method::CREATE_PERMISSION, id, &attrs, Some(creds)),
        )
    }

    /// A ChannelBind of `number` to `peer`.
    pub fn channel_bind(
        &mut self,
        tuple: FiveTuple,
        id: TransactionId,
        number: u16,
        peer: SocketAddr,
        creds: &Creds,
    ) -> Answer {
        let attrs = [
            Attribute::ChannelNumber(number),
            Attribute::XorPeerAddress(peer),
        ];
        self.ask(
            tuple,
            &request(Method::CHANNEL_BIND, id, &attrs, Some(creds)),
        )
    }

    /// A Refresh with `attrs`.
    pub fn refresh(
        &mut self,
        tuple: FiveTuple,
        id: TransactionId,
        attrs: &[Attribute<'_>],
        creds: &Creds,
    ) -> Answer {
        self.ask(tuple, &request(Method::REFRESH, id, attrs, Some(creds)))
    }

    /// An unauthenticated Binding request with `attrs`.
    pub fn binding(
        &mut self,
        tuple: FiveTuple,
        id: TransactionId,
        attrs: &[Attribute<'_>],
    ) -> Answer {
        self.ask(tuple, &request(Method::BINDING, id, attrs, None))
    }
}

pub fn udp(client: &str, server: &str) -> FiveTuple {
    FiveTuple::new(
        Protocol::Udp,
        client.parse().unwrap(),
        server.parse().unwrap(),
    )
}

pub fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

pub fn addr(s: &str) -> SocketAddr {
    s.parse().unwrap()
}
