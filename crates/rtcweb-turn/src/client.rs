//! The sans-IO TURN client (RFC 8656): one allocation on one server.
//!
//! Driven like every rtcweb state machine: [`Client::handle_input`] with what the server sent,
//! [`Client::handle_timeout`] when [`Client::poll_timeout`] has passed, and
//! [`Client::poll_transmit`] / [`Client::poll_event`] for what to send and what happened.
//!
//! Timers: the allocation is refreshed one minute before it expires (half-way for lifetimes
//! under two minutes), each permission every 4 minutes (they last 5) and each channel every
//! 9 minutes (they last 10).
//!
//! Untrusted input: responses to unknown transactions are dropped; a response whose
//! MESSAGE-INTEGRITY does not verify is ignored without any state change (the request keeps
//! being retransmitted); challenges (401/438) and redirections are bounded per request.

mod allocation;

use std::collections::{BTreeMap, VecDeque};
use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

use rtcweb_core::{Datagram, Rng, SansIo, Seed};
use rtcweb_stun::channel_data::{self, ChannelData};
use rtcweb_stun::framing::StreamDecoder;
use rtcweb_stun::{
    Attribute, AttributeType, Class, ClientTransaction, ErrorCode, Message, MessageBuilder,
    MessageType, Method, TransactionConfig, TransactionId, TransactionState,
};

use self::allocation::{Allocation, Channel, Permission, Phase};
use crate::auth::Auth;
use crate::error::{Error, Result};
use crate::request::{Kind, build};
use crate::types::{ClientConfig, Event, Failure, Transmit};

/// How long a permission lasts on the server (RFC 8656 section 9).
pub const PERMISSION_LIFETIME: Duration = Duration::from_secs(300);
/// When the client refreshes a permission.
pub const PERMISSION_REFRESH: Duration = Duration::from_secs(240);
/// How long a channel binding lasts on the server (RFC 8656 section 12).
pub const CHANNEL_LIFETIME: Duration = Duration::from_secs(600);
/// When the client refreshes a channel binding.
pub const CHANNEL_REFRESH: Duration = Duration::from_secs(540);
/// Wait after 508 Insufficient Capacity before allocating again (RFC 8656 section 7.4).
pub const CAPACITY_BACKOFF: Duration = Duration::from_secs(60);

/// Outstanding requests at most; more is refused with [`Error::TooManyRequests`].
pub const MAX_REQUESTS: usize = 64;
/// Queued outgoing datagrams at most; more is refused with [`Error::TooManyRequests`].
pub const MAX_TRANSMITS: usize = 1024;
/// Queued events at most; further Data events are dropped (and counted) until polled.
pub const MAX_EVENTS: usize = 1024;
/// Requests sent over UDP before a transaction fails (RFC 8489's Rc is 7)...
const UDP_REQUESTS: u32 = 11;
/// ...no more than this apart, so that they still span RFC 8489's 39.5 s.
const UDP_MAX_INTERVAL: Duration = Duration::from_secs(4);

#[derive(Debug)]
struct Request {
    kind: Kind,
    bytes: Vec<u8>,
    tx: ClientTransaction,
    challenges: u32,
    authenticated: bool,
}

/// Where the allocation stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AllocationState {
    /// `allocate` not called yet (or failed).
    Idle,
    /// Allocate in progress.
    Allocating,
    /// Allocated; refreshed automatically.
    Allocated,
    /// Refresh with LIFETIME 0 sent.
    Deallocating,
    /// Released or lost; the client is done.
    Closed,
}

/// A TURN client for one allocation.
#[derive(Debug)]
pub struct Client {
    config: ClientConfig,
    /// The local socket we talk to the server from.
    local: SocketAddr,
    server: SocketAddr,
    rng: Rng,
    auth: Auth,
    /// Where the allocation stands, with what exists in that state.
    phase: Phase,
    requests: BTreeMap<TransactionId, Request>,
    transmits: VecDeque<Transmit>,
    events: VecDeque<Event>,
    decoder: StreamDecoder,
    dropped_events: u64,
}

fn error_code(msg: &Message<&[u8]>) -> (u16, String) {
    match msg.attribute(AttributeType::ERROR_CODE) {
        Some(Ok(Attribute::ErrorCode(ErrorCode { code, reason }))) => (code, reason.to_string()),
        _ => (0, String::new()),
    }
}

impl Client {
    /// A client talking to the server from local socket `local`; `seed` feeds the CSPRNG
    /// for transaction ids (seed it from the OS in production, from a constant in tests).
    pub fn new(config: ClientConfig, local: SocketAddr, seed: impl Into<Seed>) -> Self {
        Client {
            local,
            server: config.server,
            auth: Auth::new(config.credentials.clone()),
            config,
            rng: Rng::new(seed),
            phase: Phase::Idle {
                backoff_until: None,
            },
            requests: BTreeMap::new(),
            transmits: VecDeque::new(),
            events: VecDeque::new(),
            decoder: StreamDecoder::new(),
            dropped_events: 0,
        }
    }

    /// The server the client currently talks to.
    pub fn server(&self) -> SocketAddr {
        self.server
    }

    /// The allocation's state.
    pub fn state(&self) -> AllocationState {
        self.phase.state()
    }

    /// The relayed transport address, once allocated (and until released or lost).
    pub fn relayed_address(&self) -> Option<SocketAddr> {
        self.phase.allocation().map(|a| a.relayed)
    }

    /// The realm the server announced.
    pub fn realm(&self) -> Option<&str> {
        self.auth.realm()
    }

    /// Data events dropped because the event queue was full.
    pub fn dropped_events(&self) -> u64 {
        self.dropped_events
    }

    /// Outstanding requests (for tests and diagnostics).
    pub fn outstanding_requests(&self) -> usize {
        self.requests.len()
    }

    /// Whether a channel to `peer` is bound and confirmed.
    pub fn channel_for(&self, peer: SocketAddr) -> Option<u16> {
        self.phase.allocation()?.channel_for(peer)
    }

    /// Whether a permission for `peer` is installed.
    pub fn has_permission(&self, peer: IpAddr) -> bool {
        self.phase
            .allocation()
            .and_then(|a| a.permissions.get(&peer))
            .is_some_and(|p| p.installed)
    }

    /// Starts allocating.
    pub fn allocate(&mut self, now: Instant) -> Result<()> {
        match self.phase {
            Phase::Allocating { .. } | Phase::Allocated(_) => {
                return Err(Error::AlreadyAllocating);
            }
            Phase::Idle {
                backoff_until: Some(t),
            } if now < t => return Err(Error::Backoff),
            _ => {}
        }
        self.phase = Phase::Allocating { redirects: 0 };
        self.start(now, Kind::Allocate, 0)
    }

    /// Installs a permission for `peer` (and keeps refreshing it).
    pub fn create_permission(&mut self, now: Instant, peer: IpAddr) -> Result<()> {
        if self.allocated()?.permissions.contains_key(&peer) {
            return Ok(());
        }
        self.start(now, Kind::CreatePermission { peer }, 0)?;
        self.allocated_mut()?
            .permissions
            .insert(peer, Permission::default());
        Ok(())
    }

    /// Binds a channel to `peer` (which also installs a permission) and returns its number.
    /// Data goes as Send indications until [`Event::ChannelBound`].
    pub fn bind_channel(&mut self, now: Instant, peer: SocketAddr) -> Result<u16> {
        let allocation = self.allocated()?;
        if allocation.relayed.is_ipv4() != peer.is_ipv4() {
            return Err(Error::PeerFamilyMismatch(peer));
        }
        if let Some(n) = allocation.channel_to(peer) {
            return Ok(n);
        }
        let channel = self
            .allocated_mut()?
            .free_channel()
            .ok_or(Error::NoFreeChannel)?;
        self.start(now, Kind::ChannelBind { peer, channel }, 0)?;
        let allocation = self.allocated_mut()?;
        allocation.channels.insert(
            channel,
            Channel {
                peer,
                confirmed: false,
                refresh_at: None,
            },
        );
        allocation.permissions.entry(peer.ip()).or_default();
        Ok(channel)
    }

    /// Sends `data` to `peer` through the relay: ChannelData if a channel is bound, a Send
    /// indication otherwise. A permission for the peer's IP must have been requested.
    pub fn send_to(&mut self, peer: SocketAddr, data: &[u8]) -> Result<()> {
        let allocation = self.allocated()?;
        if allocation.relayed.is_ipv4() != peer.is_ipv4() {
            return Err(Error::PeerFamilyMismatch(peer));
        }
        if !allocation.permissions.contains_key(&peer.ip()) {
            return Err(Error::NoPermission(peer));
        }
        if self.transmits.len() >= MAX_TRANSMITS {
            return Err(Error::TooManyRequests);
        }
        if data.len() > 0xFFFF - 64 {
            return Err(Error::DataTooLarge(data.len()));
        }
        let out = if let Some(channel) = self.channel_for(peer) {
            let mut buf = vec![0u8; 4 + data.len() + 3];
            let n =
                channel_data::encode(&mut buf, channel, data, self.config.transport.is_stream())?;
            buf.truncate(n);
            buf
        } else {
            let mut buf = vec![0u8; 20 + 24 + 4 + data.len() + 3];
            let tid = self.new_tid();
            let typ = MessageType::new(Method::SEND, Class::Indication);
            let mut b = MessageBuilder::new(&mut buf, typ, tid)?;
            b.attribute(&Attribute::XorPeerAddress(peer))?;
            b.attribute(&Attribute::Data(data))?;
            let n = b.finish();
            buf.truncate(n);
            buf
        };
        self.transmits.push_back(self.transmit(out));
        Ok(())
    }

    /// Refreshes the allocation now rather than when its timer says: a check that the
    /// server still holds it for this 5-tuple (after a path change, a NAT rebinding, or when
    /// the owner suspects the server restarted). [`Event::Refreshed`] or
    /// [`Event::AllocationLost`] follows; nothing is sent when a refresh is already out.
    pub fn refresh(&mut self, now: Instant) -> Result<()> {
        self.allocated()?;
        if self
            .requests
            .values()
            .any(|r| matches!(r.kind, Kind::Refresh { .. }))
        {
            return Ok(());
        }
        let lifetime = self.config.requested_lifetime.unwrap_or(600).max(1);
        self.start(now, Kind::Refresh { lifetime }, 0)
    }

    /// Releases the allocation (Refresh with LIFETIME 0).
    pub fn deallocate(&mut self, now: Instant) -> Result<()> {
        if !self.phase.start_deallocating() {
            return Err(Error::NoAllocation);
        }
        self.requests
            .retain(|_, r| matches!(r.kind, Kind::Allocate));
        self.start(now, Kind::Refresh { lifetime: 0 }, 0)
    }

    /// The allocation, when new requests may use it.
    fn allocated(&self) -> Result<&Allocation> {
        self.phase.allocated().ok_or(Error::NoAllocation)
    }

    /// [`Client::allocated`], mutably.
    fn allocated_mut(&mut self) -> Result<&mut Allocation> {
        self.phase.allocated_mut().ok_or(Error::NoAllocation)
    }

    fn new_tid(&mut self) -> TransactionId {
        let mut id = [0u8; 12];
        self.rng.fill(&mut id);
        TransactionId(id)
    }

    fn transaction_config(&self) -> TransactionConfig {
        if self.config.transport.is_stream() {
            TransactionConfig::reliable()
        } else {
            // RFC 8489's 39.5 s, but the doubling stops at 4 s: 11 requests instead of 7.
            // After the server restarts, an Allocate that meets a burst of loss is
            // otherwise next sent 8 and then 16 s later (the soak's hour saw a client
            // reallocate 31.6 s after the 401: its seventh and last request was the first to arrive).
            TransactionConfig {
                rto: self.config.rto,
                rc: UDP_REQUESTS,
                max_interval: Some(UDP_MAX_INTERVAL),
                ..TransactionConfig::default()
            }
        }
    }

    /// Builds and queues a request.
    fn start(&mut self, now: Instant, kind: Kind, challenges: u32) -> Result<()> {
        if self.requests.len() >= MAX_REQUESTS {
            return Err(Error::TooManyRequests);
        }
        let tid = self.new_tid();
        let (bytes, authenticated) = build(&self.config, &self.auth, kind, tid)?;
        let tx = ClientTransaction::new(now, tid, self.transaction_config());
        tracing::debug!(?kind, ?tid, authenticated, "TURN request");
        self.requests.insert(
            tid,
            Request {
                kind,
                bytes,
                tx,
                challenges,
                authenticated,
            },
        );
        Ok(())
    }

    /// Feeds what arrived: a datagram over UDP, stream octets over TCP/TLS (plaintext, after
    /// the driver's TLS). Anything not from the server is ignored.
    pub fn handle_input(&mut self, now: Instant, input: Datagram<'_>) {
        let (from, data) = (input.source, input.payload);
        if from != self.server {
            tracing::debug!(%from, "TURN: ignoring data not from the server");
            return;
        }
        if !self.config.transport.is_stream() {
            self.handle_frame(now, data);
            return;
        }
        // Feed the decoder in pieces and drain it in between, so that what it holds stays under
        // one maximal frame plus one piece however large the driver's reads are.
        for piece in data.chunks(4096) {
            if matches!(self.phase, Phase::Closed) || self.decoder.push(piece).is_err() {
                self.stream_broken();
                return;
            }
            loop {
                let frame = match self.decoder.next_frame() {
                    Ok(Some((_, f))) => f.to_vec(),
                    Ok(None) => break,
                    Err(_) => {
                        self.stream_broken();
                        return;
                    }
                };
                self.handle_frame(now, &frame);
            }
        }
    }

    fn stream_broken(&mut self) {
        let event = match self.phase {
            Phase::Allocating { .. } => Event::AllocationFailed(Failure::BrokenStream),
            Phase::Allocated(_) | Phase::Deallocating(_) => {
                Event::AllocationLost(Failure::BrokenStream)
            }
            Phase::Idle { .. } | Phase::Closed => return,
        };
        self.close(event);
    }

    fn close(&mut self, event: Event) {
        // The allocation goes, and its permissions and channels with it.
        self.phase = Phase::Closed;
        self.requests.clear();
        self.push_event(event);
    }

    fn push_event(&mut self, event: Event) {
        if self.events.len() >= MAX_EVENTS && matches!(event, Event::Data { .. }) {
            self.dropped_events += 1;
            return;
        }
        self.events.push_back(event);
    }

    fn handle_frame(&mut self, now: Instant, data: &[u8]) {
        if channel_data::is_channel_data(data) {
            let Ok(cd) = ChannelData::new_checked(data) else {
                return;
            };
            let Some(ch) = self
                .phase
                .allocation()
                .and_then(|a| a.channels.get(&cd.channel_number()))
            else {
                return;
            };
            let event = Event::Data {
                peer: ch.peer,
                data: cd.data().to_vec(),
            };
            self.push_event(event);
            return;
        }
        let Ok(msg) = Message::new_checked(data) else {
            tracing::debug!("TURN: dropping malformed message");
            return;
        };
        match msg.class() {
            Class::Indication if msg.method() == Method::DATA => {
                let peer = match msg.attribute(AttributeType::XOR_PEER_ADDRESS) {
                    Some(Ok(Attribute::XorPeerAddress(p))) => p,
                    _ => return,
                };
                let payload = match msg.attribute(AttributeType::DATA) {
                    Some(Ok(Attribute::Data(d))) => d.to_vec(),
                    _ => return,
                };
                self.push_event(Event::Data {
                    peer,
                    data: payload,
                });
            }
            Class::SuccessResponse | Class::ErrorResponse => self.handle_response(now, &msg),
            _ => {}
        }
    }

    fn handle_response(&mut self, now: Instant, msg: &Message<&[u8]>) {
        let tid = msg.transaction_id();
        let Some(req) = self.requests.get(&tid) else {
            tracing::debug!(?tid, "TURN: response for unknown transaction dropped");
            return;
        };
        if msg.method() != req.kind.method() {
            return;
        }
        if req.authenticated {
            let verified = match self.auth.key() {
                Some(key) if msg.has_integrity() || msg.has_integrity_sha256() => {
                    msg.verify_integrity(key).is_ok()
                }
                // Error answers (401, 438, ...) may come without integrity; successes may not.
                _ => msg.class() == Class::ErrorResponse,
            };
            if !verified {
                tracing::debug!(?tid, "TURN: response failed integrity, ignored");
                return;
            }
        }
        let Some(mut req) = self.requests.remove(&tid) else {
            return;
        };
        req.tx.handle_response();
        if msg.class() == Class::SuccessResponse {
            self.on_success(now, req.kind, msg);
        } else {
            self.on_error(now, req, msg);
        }
    }

    fn on_success(&mut self, now: Instant, kind: Kind, msg: &Message<&[u8]>) {
        match kind {
            Kind::Allocate => {
                if !matches!(self.phase, Phase::Allocating { .. }) {
                    return;
                }
                let relayed = match msg.attribute(AttributeType::XOR_RELAYED_ADDRESS) {
                    Some(Ok(Attribute::XorRelayedAddress(a))) => a,
                    _ => {
                        self.phase = Phase::Idle {
                            backoff_until: None,
                        };
                        self.push_event(Event::AllocationFailed(Failure::MalformedResponse));
                        return;
                    }
                };
                let mapped = match msg.attribute(AttributeType::XOR_MAPPED_ADDRESS) {
                    Some(Ok(Attribute::XorMappedAddress(a))) => Some(a),
                    _ => None,
                };
                let lifetime = self.lifetime_of(msg);
                self.phase = Phase::Allocated(Allocation::new(relayed, now, lifetime));
                self.push_event(Event::Allocated {
                    relayed,
                    mapped,
                    lifetime,
                });
            }
            Kind::Refresh { lifetime: 0 } => self.close(Event::Deallocated),
            Kind::Refresh { .. } => {
                let lifetime = self.lifetime_of(msg);
                if let Some(a) = self.phase.allocation_mut() {
                    a.refreshed(now, lifetime);
                    self.push_event(Event::Refreshed { lifetime });
                }
            }
            Kind::CreatePermission { peer } => {
                let allocation = self.phase.allocation_mut();
                if allocation.is_some_and(|a| a.permission_installed(now, peer)) {
                    self.push_event(Event::PermissionCreated { peer });
                }
            }
            Kind::ChannelBind { peer, channel } => {
                let allocation = self.phase.allocation_mut();
                if allocation.is_some_and(|a| a.channel_bound(now, channel, peer)) {
                    self.push_event(Event::ChannelBound { peer, channel });
                }
            }
        }
    }

    fn lifetime_of(&self, msg: &Message<&[u8]>) -> Duration {
        match msg.attribute(AttributeType::LIFETIME) {
            Some(Ok(Attribute::Lifetime(s))) => Duration::from_secs(u64::from(s)),
            _ => Duration::from_secs(u64::from(self.config.requested_lifetime.unwrap_or(600))),
        }
    }

    fn on_error(&mut self, now: Instant, req: Request, msg: &Message<&[u8]>) {
        let (code, reason) = error_code(msg);
        tracing::debug!(kind = ?req.kind, code, %reason, "TURN error response");
        let retry = match code {
            ErrorCode::UNAUTHENTICATED => {
                if req.challenges >= self.config.max_challenges {
                    Err(Failure::ChallengeLoop)
                } else {
                    self.auth.challenge(msg, req.authenticated, &mut self.rng)
                }
            }
            ErrorCode::STALE_NONCE => {
                if req.challenges >= self.config.max_challenges {
                    Err(Failure::ChallengeLoop)
                } else {
                    self.auth.stale_nonce(msg, &mut self.rng)
                }
            }
            ErrorCode::TRY_ALTERNATE if req.kind == Kind::Allocate => {
                match msg.attribute(AttributeType::ALTERNATE_SERVER) {
                    Some(Ok(Attribute::AlternateServer(alt))) => match &mut self.phase {
                        Phase::Allocating { redirects }
                            if *redirects < self.config.max_redirects =>
                        {
                            *redirects += 1;
                            self.server = alt;
                            self.auth.reset();
                            self.decoder = StreamDecoder::new();
                            self.push_event(Event::Redirected { server: alt });
                            Ok(())
                        }
                        _ => Err(Failure::ChallengeLoop),
                    },
                    _ => Err(Failure::MalformedResponse),
                }
            }
            _ => Err(Failure::ErrorResponse { code, reason }),
        };
        match retry {
            Ok(()) => {
                if self.start(now, req.kind, req.challenges + 1).is_err() {
                    self.fail(now, req.kind, Failure::ChallengeLoop);
                }
            }
            Err(failure) => self.fail(now, req.kind, failure),
        }
    }

    fn fail(&mut self, now: Instant, kind: Kind, failure: Failure) {
        match kind {
            Kind::Allocate => {
                if matches!(self.phase, Phase::Allocating { .. }) {
                    let at_capacity = matches!(
                        failure,
                        Failure::ErrorResponse {
                            code: ErrorCode::INSUFFICIENT_CAPACITY,
                            ..
                        }
                    );
                    self.phase = Phase::Idle {
                        backoff_until: at_capacity.then(|| now + CAPACITY_BACKOFF),
                    };
                    self.push_event(Event::AllocationFailed(failure));
                }
            }
            // Deallocation is best effort: whatever the answer, the allocation is gone for us.
            Kind::Refresh { lifetime: 0 } => self.close(Event::Deallocated),
            Kind::Refresh { .. } => self.close(Event::AllocationLost(failure)),
            Kind::CreatePermission { peer } => {
                if let Some(a) = self.phase.allocation_mut() {
                    a.permissions.remove(&peer);
                }
                self.push_event(Event::PermissionFailed { peer, failure });
            }
            Kind::ChannelBind { peer, channel } => {
                if let Some(a) = self.phase.allocation_mut() {
                    a.channels.remove(&channel);
                }
                self.push_event(Event::ChannelBindFailed { peer, failure });
            }
        }
    }

    /// Advances timers: retransmissions, transaction timeouts and refreshes.
    pub fn handle_timeout(&mut self, now: Instant) {
        let mut timed_out = Vec::new();
        for (tid, req) in self.requests.iter_mut() {
            req.tx.handle_timeout(now);
            if req.tx.state() == TransactionState::TimedOut {
                timed_out.push(*tid);
            }
        }
        for tid in timed_out {
            if let Some(req) = self.requests.remove(&tid) {
                self.fail(now, req.kind, Failure::Timeout);
            }
        }
        let Some(a) = self.phase.allocated() else {
            return;
        };
        if now >= a.expires {
            self.close(Event::AllocationLost(Failure::Expired));
            return;
        }
        let refresh_due = now >= a.refresh_at;
        let due_permissions = a.due_permissions(now);
        let due_channels = a.due_channels(now);
        let in_flight =
            |s: &Self, f: &dyn Fn(&Kind) -> bool| s.requests.values().any(|r| f(&r.kind));
        if refresh_due && !in_flight(self, &|k| matches!(k, Kind::Refresh { .. })) {
            let lifetime = self.config.requested_lifetime.unwrap_or(600).max(1);
            let _ = self.start(now, Kind::Refresh { lifetime }, 0);
        }
        for peer in due_permissions {
            if !in_flight(self, &|k| *k == Kind::CreatePermission { peer })
                && self.start(now, Kind::CreatePermission { peer }, 0).is_ok()
                && let Some(p) = self
                    .phase
                    .allocation_mut()
                    .and_then(|a| a.permissions.get_mut(&peer))
            {
                p.refresh_at = None;
            }
        }
        for (channel, peer) in due_channels {
            if self
                .start(now, Kind::ChannelBind { peer, channel }, 0)
                .is_ok()
                && let Some(c) = self
                    .phase
                    .allocation_mut()
                    .and_then(|a| a.channels.get_mut(&channel))
            {
                c.refresh_at = None;
            }
        }
    }

    /// The next moment [`Client::handle_timeout`] must run.
    pub fn poll_timeout(&self) -> Option<Instant> {
        let mut next: Option<Instant> = None;
        let mut consider = |t: Option<Instant>| {
            if let Some(t) = t {
                next = Some(next.map_or(t, |n| n.min(t)));
            }
        };
        for r in self.requests.values() {
            consider(r.tx.poll_timeout());
        }
        if let Some(a) = self.phase.allocated() {
            consider(Some(a.expires));
            let refreshing = self
                .requests
                .values()
                .any(|r| matches!(r.kind, Kind::Refresh { .. }));
            if !refreshing {
                consider(Some(a.refresh_at));
            }
            consider(a.next_refresh());
        }
        next
    }

    /// The next octets to send.
    pub fn poll_transmit(&mut self) -> Option<Transmit> {
        let due = self
            .requests
            .values_mut()
            .find_map(|req| req.tx.poll_transmit().then(|| req.bytes.clone()));
        match due {
            Some(bytes) => Some(self.transmit(bytes)),
            None => self.transmits.pop_front(),
        }
    }

    /// `payload` from our socket to the server, on the configured transport.
    fn transmit(&self, payload: Vec<u8>) -> Transmit {
        Transmit {
            source: self.local,
            destination: self.server,
            protocol: self.config.transport,
            payload,
        }
    }

    /// The next event.
    pub fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }
}

impl SansIo for Client {
    type Input<'a> = Datagram<'a>;
    type Transmit = Transmit;
    type Event = Event;

    fn handle_input(&mut self, now: Instant, input: Datagram<'_>) {
        Client::handle_input(self, now, input);
    }
    fn handle_timeout(&mut self, now: Instant) {
        Client::handle_timeout(self, now);
    }
    fn poll_transmit(&mut self, _now: Instant) -> Option<Transmit> {
        Client::poll_transmit(self)
    }
    fn poll_event(&mut self) -> Option<Event> {
        Client::poll_event(self)
    }
    fn poll_timeout(&self) -> Option<Instant> {
        Client::poll_timeout(self)
    }
}
