//! [`Server`]: the sans-IO STUN/TURN server. This file holds its state, the inputs, the relay
//! paths (ChannelData, Send and Data indications), timers and output queues; the request
//! handlers are in `requests.rs`.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap, VecDeque};
use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

use rtcweb_core::Rng;
use rtcweb_stun::{
    Attribute, AttributeType, Class, Message, MessageBuilder, MessageType, Method, TransactionId,
};

use crate::allocation::{Allocation, Identity};
use crate::auth::Authenticator;
use crate::bandwidth::admit;
use crate::config::ServerConfig;
use crate::credentials::AuthConfig;
use crate::error::Result;
use crate::metrics::{Counters, Direction, Metrics, QuotaRefusal};
use crate::nonce::NonceKey;
use crate::ports::PortPool;
use crate::types::{BindId, DeleteReason, Event, FiveTuple, Protocol, Stats, Transmit};
use crate::users::UserTable;

/// How long a port kept by EVEN-PORT's R bit waits for its RESERVATION-TOKEN (RFC 8656
/// section 7.2 suggests about 30 seconds).
pub const RESERVATION_LIFETIME: Duration = Duration::from_secs(30);
/// Informational events kept for `poll_event` before new ones are dropped.
pub const MAX_EVENTS: usize = 1024;
/// How many ports are tried when the driver fails to bind one.
pub(crate) const MAX_BIND_ATTEMPTS: u8 = 4;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Timer {
    Allocation(FiveTuple),
    Reservation([u8; 8]),
}

/// An authenticated Allocate waiting for the driver to bind its relay socket.
#[derive(Debug)]
pub(crate) struct Pending {
    pub tuple: FiveTuple,
    pub request: RequestInfo,
    pub identity: Identity,
    pub lifetime: Duration,
    pub addr: SocketAddr,
    pub reserve: Option<SocketAddr>,
    pub even: bool,
    pub attempts: u8,
    /// The client went away (TCP closed) while the driver was binding.
    pub cancelled: bool,
    pub family_error: bool,
}

#[derive(Debug, Clone, Copy)]
pub(crate) struct Reservation {
    pub addr: SocketAddr,
    pub expires: Instant,
}

/// What a response must copy from its request.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RequestInfo {
    pub method: Method,
    pub tid: TransactionId,
    pub fingerprint: bool,
    pub sha256: bool,
}

/// The embeddable STUN/TURN server: feed it what arrives on the listening sockets
/// ([`Server::handle_client`]) and on relay sockets ([`Server::handle_peer`]); send what
/// [`Server::poll_transmit`] returns; bind and release relay sockets as
/// [`Server::poll_event`] asks; call [`Server::handle_timeout`] at [`Server::poll_timeout`].
///
/// ```
/// use std::time::Instant;
/// use rtcweb_turn_server::{AuthConfig, FiveTuple, Server, ServerConfig, StaticUsers, Protocol};
/// let mut users = StaticUsers::new();
/// users.insert_password("alice", "wonderland")?;
/// let mut config = ServerConfig::new("example.org");
/// config.relay_ipv4 = Some("203.0.113.1".parse().unwrap());
/// let now = Instant::now();
/// let mut server = Server::new(config, AuthConfig::users(users), now, 1_700_000_000, [7; 32])?;
/// // A Binding request is answered with the address it came from.
/// let request = [0x00, 0x01, 0x00, 0x00, 0x21, 0x12, 0xa4, 0x42, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12];
/// let tuple = FiveTuple::new(Protocol::Udp, "198.51.100.7:5000".parse().unwrap(), "203.0.113.1:3478".parse().unwrap());
/// server.handle_client(now, tuple, &request);
/// let out = server.poll_transmit().unwrap();
/// assert_eq!(out.destination, tuple.client);
/// # Ok::<(), rtcweb_turn_server::Error>(())
/// ```
pub struct Server {
    pub(crate) config: ServerConfig,
    pub(crate) auth: Authenticator,
    pub(crate) rng: Rng,
    epoch: Instant,
    epoch_unix: u64,
    pub(crate) allocs: HashMap<FiveTuple, Allocation>,
    pub(crate) by_relay: HashMap<SocketAddr, FiveTuple>,
    pub(crate) users: UserTable,
    pub(crate) pending: HashMap<BindId, Pending>,
    pub(crate) pending_by_tuple: HashMap<FiveTuple, (BindId, TransactionId)>,
    pub(crate) reservations: HashMap<[u8; 8], Reservation>,
    pub(crate) pool_v4: Option<PortPool>,
    pub(crate) pool_v6: Option<PortPool>,
    timers: BinaryHeap<Reverse<(Instant, Timer)>>,
    transmits: VecDeque<Transmit>,
    commands: VecDeque<Event>,
    events: VecDeque<Event>,
    pub(crate) next_bind: u64,
    pub(crate) stats: Stats,
    pub(crate) counters: Counters,
    /// Unix time of the request being handled (nonces in its answer are issued at it).
    pub(crate) request_unix: u64,
}

impl core::fmt::Debug for Server {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Server")
            .field("realm", &self.config.realm)
            .field("stats", &self.stats())
            .finish()
    }
}

impl Server {
    /// A server. `now` and `unix_now` (seconds since the Unix epoch, read by the driver) tie
    /// the monotonic clock to wall time for REST expiries, OAuth tokens and nonces; `seed`
    /// feeds port choice and reservation tokens (take it from the OS in production).
    pub fn new(
        config: ServerConfig,
        auth: AuthConfig,
        now: Instant,
        unix_now: u64,
        seed: impl Into<rtcweb_core::Seed>,
    ) -> Result<Self> {
        config.validate()?;
        let pool = |ip: Option<IpAddr>| ip.map(|_| PortPool::new(config.min_port, config.max_port));
        let (pool_v4, pool_v6) = (pool(config.relay_ipv4), pool(config.relay_ipv6));
        let auth = Authenticator {
            auth,
            realm: config.realm.clone(),
            nonces: NonceKey::new(
                &config.nonce_secret,
                config.nonce_lifetime.as_secs(),
                config.sha256_password_algorithm,
            ),
            sha256: config.sha256_password_algorithm,
        };
        Ok(Server {
            config,
            auth,
            rng: Rng::new(seed),
            epoch: now,
            epoch_unix: unix_now,
            allocs: HashMap::new(),
            by_relay: HashMap::new(),
            users: UserTable::default(),
            pending: HashMap::new(),
            pending_by_tuple: HashMap::new(),
            reservations: HashMap::new(),
            pool_v4,
            pool_v6,
            timers: BinaryHeap::new(),
            transmits: VecDeque::new(),
            commands: VecDeque::new(),
            events: VecDeque::new(),
            next_bind: 0,
            stats: Stats::default(),
            counters: Counters::default(),
            request_unix: unix_now,
        })
    }

    /// The configuration.
    pub fn config(&self) -> &ServerConfig {
        &self.config
    }

    /// Re-anchors wall time (call it now and then so a stepped system clock is followed).
    pub fn set_unix_time(&mut self, now: Instant, unix_now: u64) {
        self.epoch = now;
        self.epoch_unix = unix_now;
    }

    /// Wall time at `now`, in Unix seconds.
    pub fn unix_time(&self, now: Instant) -> u64 {
        self.epoch_unix
            .saturating_add(now.saturating_duration_since(self.epoch).as_secs())
    }

    /// Counters and queue sizes.
    pub fn stats(&self) -> Stats {
        Stats {
            allocations: self.allocs.len(),
            pending_allocations: self.pending.len(),
            reservations: self.reservations.len(),
            timers: self.timers.len(),
            queued_transmits: self.transmits.len(),
            queued_events: self.events.len() + self.commands.len(),
            relayed_to_peers: self.counters.relayed_packets[Direction::ToPeer as usize],
            relayed_to_clients: self.counters.relayed_packets[Direction::ToClient as usize],
            ..self.stats
        }
    }

    /// Counters and gauges for an operator; gauges (permissions and channels in force) are
    /// computed for `now`, walking every allocation, so call it at scrape time, not per
    /// datagram.
    pub fn metrics(&self, now: Instant) -> Metrics {
        let mut m = Metrics {
            counters: self.counters,
            pending_allocations: self.pending.len(),
            reservations: self.reservations.len(),
            users: self.users.len(),
            queued_transmits: self.transmits.len(),
            dropped_transmits: self.stats.dropped_transmits,
            dropped_events: self.stats.dropped_events,
            dropped_input: self.stats.dropped_input,
            ..Metrics::default()
        };
        for (tuple, a) in &self.allocs {
            m.count_allocation(tuple.transport);
            let (perms, chans) = a.live_counts(now);
            m.permissions += perms;
            m.channels += chans;
        }
        m
    }

    /// Replaces the credentials (long-term users, REST secrets, OAuth keys), as a driver does
    /// on SIGHUP. Allocations are kept: each holds the key it was made with, so its client
    /// goes on refreshing, binding and relaying (a REST or OAuth credential still ends at its
    /// expiry); from now on new allocations authenticate against `auth` only.
    pub fn set_auth(&mut self, auth: AuthConfig) {
        self.auth.auth = auth;
        self.counters.auth_reloads += 1;
    }

    /// The relayed address of the allocation of `tuple`, if it has one.
    pub fn relayed_address(&self, tuple: &FiveTuple) -> Option<SocketAddr> {
        self.allocs.get(tuple).map(|a| a.relay)
    }

    // ---- inputs -------------------------------------------------------------------------

    /// A datagram (UDP) or one frame (TCP/TLS, cut with [`rtcweb_stun::framing`]) from a
    /// client: STUN requests and indications, or ChannelData.
    pub fn handle_client(&mut self, now: Instant, tuple: FiveTuple, data: &[u8]) {
        if rtcweb_stun::channel_data::is_channel_data(data) {
            self.client_channel_data(now, &tuple, data);
            return;
        }
        let Ok(msg) = Message::new_checked(data) else {
            self.stats.dropped_input += 1;
            return;
        };
        if msg.has_fingerprint() && msg.verify_fingerprint().is_err() {
            self.stats.dropped_input += 1;
            return;
        }
        match (msg.class(), msg.method()) {
            (Class::Request, _) => self.handle_request(now, &tuple, &msg),
            (Class::Indication, Method::SEND) => self.send_indication(now, &tuple, &msg),
            _ => self.stats.dropped_input += 1,
        }
    }

    /// A datagram from `peer` arrived on the relay socket bound on `relay`.
    pub fn handle_peer(&mut self, now: Instant, relay: SocketAddr, peer: SocketAddr, data: &[u8]) {
        let Some(tuple) = self.by_relay.get(&relay).copied() else {
            self.stats.dropped_input += 1;
            return;
        };
        let Some(alloc) = self.allocs.get_mut(&tuple) else {
            self.stats.dropped_input += 1;
            return;
        };
        if !alloc.has_permission(peer.ip(), now) {
            self.stats.dropped_input += 1;
            return;
        }
        let user = match self.config.user_bandwidth {
            Some(_) => self.users.buckets(alloc.user),
            None => None,
        };
        let d = Direction::ToClient;
        if let Err(scope) = admit(alloc.bandwidth.as_mut(), user, now, d, data.len()) {
            self.counters.limited(scope, d, data.len());
            return;
        }
        let channel = alloc
            .channel_by_peer
            .get(&peer)
            .copied()
            .filter(|n| alloc.is_live_channel(*n, now).is_some());
        let out = match channel {
            Some(number) => crate::channel::encode(number, data, tuple.transport.is_stream()),
            None => data_indication(&mut self.rng, peer, data),
        };
        match out {
            Some(out) => {
                let queued = self.push_transmit(Transmit {
                    protocol: tuple.transport,
                    source: tuple.server,
                    destination: tuple.client,
                    payload: out,
                });
                if queued {
                    self.counters.relayed(d, data.len());
                }
            }
            None => self.stats.dropped_input += 1,
        }
    }

    /// The driver's answer to [`Event::BindRelay`]: `true` if the socket (and the reserved
    /// one) is bound.
    pub fn handle_relay_bound(&mut self, now: Instant, id: BindId, bound: bool) {
        let Some(mut p) = self.pending.remove(&id) else {
            return;
        };
        if self
            .pending_by_tuple
            .get(&p.tuple)
            .is_some_and(|(b, _)| *b == id)
        {
            self.pending_by_tuple.remove(&p.tuple);
        }
        if p.cancelled {
            if bound {
                self.release_addr(p.addr);
                if let Some(r) = p.reserve {
                    self.release_addr(r);
                }
            } else {
                self.free_port(p.addr);
                if let Some(r) = p.reserve {
                    self.free_port(r);
                }
            }
            self.user_release(&p.identity.username);
            return;
        }
        if !bound {
            // Another process holds the port: try another one, a few times.
            self.free_port(p.addr);
            if let Some(r) = p.reserve {
                self.free_port(r);
            }
            p.attempts += 1;
            if p.attempts < MAX_BIND_ATTEMPTS
                && let Some((addr, reserve)) =
                    self.pick_relay(p.addr.ip(), p.even, p.reserve.is_some())
            {
                p.addr = addr;
                p.reserve = reserve;
                self.request_bind(p);
                return;
            }
            self.user_release(&p.identity.username);
            let key = p.identity.key.clone();
            self.counters.quota_refusal(QuotaRefusal::RelayPorts);
            tracing::info!(client = %p.tuple, user = %p.identity.username, "no relay port could be bound");
            self.error(&p.tuple, p.tuple.client, &p.request, 508, Some(&key));
            return;
        }
        self.finish_allocation(now, p);
    }

    /// The client's TCP or TLS connection closed: its allocation goes (RFC 8656 section 5).
    pub fn handle_connection_closed(&mut self, _now: Instant, tuple: FiveTuple) {
        if let Some((id, _)) = self.pending_by_tuple.remove(&tuple)
            && let Some(p) = self.pending.get_mut(&id)
        {
            p.cancelled = true;
        }
        if self.allocs.contains_key(&tuple) {
            self.delete(&tuple, DeleteReason::ConnectionClosed);
        }
    }

    /// Expires allocations, permissions, channels and reservations whose time has come.
    pub fn handle_timeout(&mut self, now: Instant) {
        while let Some(Reverse((at, timer))) = self.timers.peek().copied() {
            if at > now {
                break;
            }
            self.timers.pop();
            match timer {
                Timer::Allocation(tuple) => {
                    let Some(a) = self.allocs.get_mut(&tuple) else {
                        continue;
                    };
                    if a.scheduled != at {
                        continue;
                    }
                    if a.expires <= now {
                        self.delete(&tuple, DeleteReason::Expired);
                        continue;
                    }
                    a.sweep(now);
                    let next = a.next_deadline();
                    a.scheduled = next;
                    self.timers.push(Reverse((next, Timer::Allocation(tuple))));
                }
                Timer::Reservation(token) => {
                    if let Some(r) = self.reservations.get(&token)
                        && r.expires <= now
                    {
                        let addr = r.addr;
                        self.reservations.remove(&token);
                        self.release_addr(addr);
                    }
                }
            }
        }
    }

    /// When [`Server::handle_timeout`] must next be called.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.timers.peek().map(|Reverse((at, _))| *at)
    }

    /// The next datagram to send.
    pub fn poll_transmit(&mut self) -> Option<Transmit> {
        self.transmits.pop_front()
    }

    /// The next event: relay socket commands first, then informational events.
    pub fn poll_event(&mut self) -> Option<Event> {
        self.commands
            .pop_front()
            .or_else(|| self.events.pop_front())
    }

    // ---- relay paths --------------------------------------------------------------------

    fn client_channel_data(&mut self, now: Instant, tuple: &FiveTuple, data: &[u8]) {
        let Some((number, payload)) = crate::channel::parse(data) else {
            self.stats.dropped_input += 1;
            return;
        };
        let Some(alloc) = self.allocs.get_mut(tuple) else {
            self.stats.dropped_input += 1;
            return;
        };
        let Some(peer) = alloc.is_live_channel(number, now) else {
            self.stats.dropped_input += 1;
            return;
        };
        if !alloc.has_permission(peer.ip(), now) {
            self.stats.dropped_input += 1;
            return;
        }
        let user = match self.config.user_bandwidth {
            Some(_) => self.users.buckets(alloc.user),
            None => None,
        };
        let d = Direction::ToPeer;
        if let Err(scope) = admit(alloc.bandwidth.as_mut(), user, now, d, payload.len()) {
            self.counters.limited(scope, d, payload.len());
            return;
        }
        let relay = alloc.relay;
        self.relay_to_peer(relay, peer, payload);
    }

    fn send_indication(&mut self, now: Instant, tuple: &FiveTuple, msg: &Message<&[u8]>) {
        let Some(alloc) = self.allocs.get_mut(tuple) else {
            self.stats.dropped_input += 1;
            return;
        };
        let peer = match msg.attribute(AttributeType::XOR_PEER_ADDRESS) {
            Some(Ok(Attribute::XorPeerAddress(p))) => p,
            _ => {
                self.stats.dropped_input += 1;
                return;
            }
        };
        let Some(data) = msg.get(AttributeType::DATA) else {
            self.stats.dropped_input += 1;
            return;
        };
        if peer.is_ipv4() != alloc.relay.is_ipv4() || !alloc.has_permission(peer.ip(), now) {
            self.stats.dropped_input += 1;
            return;
        }
        let user = match self.config.user_bandwidth {
            Some(_) => self.users.buckets(alloc.user),
            None => None,
        };
        let d = Direction::ToPeer;
        if let Err(scope) = admit(alloc.bandwidth.as_mut(), user, now, d, data.len()) {
            self.counters.limited(scope, d, data.len());
            return;
        }
        let relay = alloc.relay;
        self.relay_to_peer(relay, peer, data);
    }

    /// Client data leaves the relayed address for `peer` as a plain UDP datagram.
    fn relay_to_peer(&mut self, relay: SocketAddr, peer: SocketAddr, data: &[u8]) {
        let queued = self.push_transmit(Transmit {
            protocol: Protocol::Udp,
            source: relay,
            destination: peer,
            payload: data.to_vec(),
        });
        if queued {
            self.counters.relayed(Direction::ToPeer, data.len());
        }
    }

    // ---- plumbing shared with requests.rs ------------------------------------------------

    /// Queues `t`; `false` (and counted) when the queue is full.
    pub(crate) fn push_transmit(&mut self, t: Transmit) -> bool {
        if self.transmits.len() >= self.config.max_queued_transmits {
            self.stats.dropped_transmits += 1;
            return false;
        }
        self.transmits.push_back(t);
        true
    }

    pub(crate) fn push_event(&mut self, e: Event) {
        if self.events.len() >= MAX_EVENTS {
            self.stats.dropped_events += 1;
            return;
        }
        self.events.push_back(e);
    }

    pub(crate) fn schedule(&mut self, tuple: FiveTuple) {
        if let Some(a) = self.allocs.get_mut(&tuple) {
            let next = a.next_deadline();
            if next < a.scheduled {
                a.scheduled = next;
                self.timers.push(Reverse((next, Timer::Allocation(tuple))));
            }
        }
    }

    pub(crate) fn schedule_reservation(&mut self, token: [u8; 8], at: Instant) {
        self.timers.push(Reverse((at, Timer::Reservation(token))));
    }

    pub(crate) fn schedule_new(&mut self, tuple: FiveTuple, at: Instant) {
        self.timers.push(Reverse((at, Timer::Allocation(tuple))));
    }

    fn pool_for(&mut self, ip: IpAddr) -> Option<&mut PortPool> {
        if ip.is_ipv4() {
            self.pool_v4.as_mut()
        } else {
            self.pool_v6.as_mut()
        }
    }

    /// A free relay address on `ip` (and the next one when `pair`), marked taken.
    pub(crate) fn pick_relay(
        &mut self,
        ip: IpAddr,
        even: bool,
        pair: bool,
    ) -> Option<(SocketAddr, Option<SocketAddr>)> {
        let (pool, rng) = match ip {
            IpAddr::V4(_) => (self.pool_v4.as_mut()?, &mut self.rng),
            IpAddr::V6(_) => (self.pool_v6.as_mut()?, &mut self.rng),
        };
        let port = pool.pick(rng, even, pair)?;
        let reserve = pair.then(|| SocketAddr::new(ip, port + 1));
        Some((SocketAddr::new(ip, port), reserve))
    }

    fn free_port(&mut self, addr: SocketAddr) {
        if let Some(p) = self.pool_for(addr.ip()) {
            p.release(addr.port());
        }
    }

    /// Frees the port and tells the driver to close its socket.
    pub(crate) fn release_addr(&mut self, addr: SocketAddr) {
        self.free_port(addr);
        self.commands.push_back(Event::ReleaseRelay { addr });
    }

    pub(crate) fn request_bind(&mut self, p: Pending) {
        let id = BindId(self.next_bind);
        self.next_bind += 1;
        self.commands.push_back(Event::BindRelay {
            id,
            addr: p.addr,
            reserve: p.reserve,
        });
        self.pending_by_tuple.insert(p.tuple, (id, p.request.tid));
        self.pending.insert(id, p);
    }

    pub(crate) fn user_release(&mut self, username: &str) {
        self.users.release(username);
    }

    pub(crate) fn delete(&mut self, tuple: &FiveTuple, reason: DeleteReason) {
        let Some(a) = self.allocs.remove(tuple) else {
            return;
        };
        self.by_relay.remove(&a.relay);
        self.user_release(&a.identity.username);
        self.release_addr(a.relay);
        self.counters.deleted(reason);
        tracing::debug!(client = %tuple, relay = %a.relay, user = %a.identity.username, ?reason, "allocation deleted");
        self.push_event(Event::AllocationDeleted {
            tuple: *tuple,
            relay: a.relay,
            username: a.identity.username,
            reason,
        });
    }

    /// Builds a message; `None` only if the buffer was too small (it is sized to fit).
    pub(crate) fn build(
        &self,
        typ: MessageType,
        tid: TransactionId,
        capacity: usize,
        attrs: impl FnOnce(&mut MessageBuilder<'_>) -> rtcweb_stun::Result<()>,
        sign: Option<(&rtcweb_stun::IntegrityKey, bool)>,
        fingerprint: bool,
    ) -> Option<Vec<u8>> {
        let software = self.config.software.as_deref();
        let mut buf = vec![0u8; capacity + software.map_or(0, |s| s.len() + 8) + 96];
        let mut b = MessageBuilder::new(&mut buf, typ, tid).ok()?;
        attrs(&mut b).ok()?;
        if let Some(s) = software {
            b.attribute(&Attribute::Software(s)).ok()?;
        }
        match sign {
            Some((key, false)) => b.message_integrity(key).ok()?,
            Some((key, true)) => b.message_integrity_sha256(key).ok()?,
            None => {}
        }
        if fingerprint {
            b.fingerprint().ok()?;
        }
        let n = b.finish();
        buf.truncate(n);
        Some(buf)
    }
}

/// A Data indication carrying `data` from `peer` (RFC 8656 section 11.4), `None` if it does
/// not fit in one message.
fn data_indication(rng: &mut Rng, peer: SocketAddr, data: &[u8]) -> Option<Vec<u8>> {
    let mut tid = [0u8; 12];
    rng.fill(&mut tid);
    let mut buf = vec![0u8; 20 + 24 + 4 + data.len() + 4];
    let typ = MessageType::new(Method::DATA, Class::Indication);
    let mut b = MessageBuilder::new(&mut buf, typ, TransactionId(tid)).ok()?;
    b.attribute(&Attribute::XorPeerAddress(peer)).ok()?;
    b.attribute(&Attribute::Data(data)).ok()?;
    let n = b.finish();
    buf.truncate(n);
    Some(buf)
}
