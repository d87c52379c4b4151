//! The ICE agent: its state, its public face, and the event/timeout plumbing. The protocol
//! work lives in the submodules: `checks` (outgoing connectivity checks and nomination),
//! `inbound` (incoming checks), `gather` (server-reflexive candidates) and `consent`
//! (RFC 7675 consent freshness, keepalives and the connection state).

mod checks;
mod consent;
mod gather;
mod inbound;
mod relay;
use std::collections::VecDeque;
use std::net::{IpAddr, SocketAddr};
use std::time::Instant;

use rtcweb_stun::{Class, IntegrityKey, Message, Method, is_stun};
use tracing::{debug, trace};

use crate::config::{Credentials, IceConfig, IceRole, TransportPolicy};
use crate::error::Error;
use crate::event::{ConnectionState, GatheringState, IceEvent};
use crate::pair::{Pair, PairState};
use crate::{
    Candidate, CandidateAddress, CandidateKind, Transport, foundation, local_preference, priority,
};
use rtcweb_core::{Datagram, Protocol, Rng, SansIo, Seed, Transmit};

use self::consent::Consent;
use self::gather::GatherTask;
use self::relay::Relay;

/// A local candidate and where its packets really leave from.
#[derive(Debug, Clone)]
pub(crate) struct LocalCandidate {
    pub(crate) cand: Candidate,
    /// The local socket packets of this candidate are sent from.
    pub(crate) socket: SocketAddr,
    /// The base (RFC 8445 section 5.1.1.1): the host address for host, server-reflexive
    /// and peer-reflexive candidates, the relayed address for relayed ones.
    pub(crate) base: SocketAddr,
    /// The TURN allocation a relayed candidate lives on.
    pub(crate) relay: Option<usize>,
}

impl LocalCandidate {
    /// The address the agent knows this candidate by in pairs and when datagrams arrive:
    /// the socket for host candidates, the relayed address for relayed ones.
    pub(crate) fn key(&self) -> SocketAddr {
        if self.relay.is_some() {
            self.base
        } else {
            self.socket
        }
    }
}

/// A remote candidate, resolved or waiting for mDNS.
#[derive(Debug, Clone)]
pub(crate) struct RemoteCandidate {
    pub(crate) cand: Candidate,
    pub(crate) addr: Option<SocketAddr>,
}

/// What a received datagram was, from [`IceAgent::handle_input`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Received<'a> {
    /// A STUN message for the agent; it has been handled.
    Consumed,
    /// Application data (DTLS, SRTP, ...) from a known remote candidate. (Data that came
    /// through a TURN relay is an [`IceEvent::Data`].)
    Data(&'a [u8]),
    /// Dropped: malformed, unauthenticated, or from an unknown address.
    Dropped,
}

/// A sans-IO ICE agent (RFC 8445) for one data stream with one component, the shape WebRTC
/// uses (BUNDLE and rtcp-mux).
///
/// The owner supplies local socket addresses ([`IceAgent::add_host_address`]), the peer's
/// credentials and candidates, every received datagram and the time; the agent gathers
/// server-reflexive candidates, runs the checks, nominates, keeps consent, and says where
/// application data should go ([`IceAgent::send_route`]).
///
/// ```
/// use std::time::Instant;
/// use rtcweb_ice::{IceAgent, IceConfig, IceEvent, IceRole};
///
/// let now = Instant::now();
/// let mut agent = IceAgent::new(IceConfig::default(), IceRole::Controlling, 7);
/// agent.add_host_address(now, "192.0.2.10:5000".parse().unwrap());
/// agent.start_gathering(now);
/// assert!(matches!(agent.poll_event(), Some(IceEvent::LocalCandidate(_))));
/// ```
#[derive(Debug)]
pub struct IceAgent {
    pub(crate) config: IceConfig,
    pub(crate) rng: Rng,
    pub(crate) role: IceRole,
    pub(crate) tie_breaker: u64,
    pub(crate) local_credentials: Credentials,
    pub(crate) remote_credentials: Option<Credentials>,
    /// HMAC keys of the two passwords, scheduled once (every check uses one).
    pub(crate) local_key: IntegrityKey,
    pub(crate) remote_key: Option<IntegrityKey>,
    pub(crate) remote_lite: bool,
    pub(crate) locals: Vec<LocalCandidate>,
    pub(crate) remotes: Vec<RemoteCandidate>,
    pub(crate) pairs: Vec<Pair>,
    pub(crate) triggered: VecDeque<usize>,
    pub(crate) next_check_at: Option<Instant>,
    pub(crate) gather_tasks: Vec<GatherTask>,
    pub(crate) relays: Vec<Relay>,
    pub(crate) gathering_state: GatheringState,
    pub(crate) state: ConnectionState,
    pub(crate) selected: Option<usize>,
    /// During an ICE restart: the route data keeps using until a new pair is selected.
    pub(crate) previous_route: Option<(SocketAddr, SocketAddr)>,
    pub(crate) first_valid_at: Option<Instant>,
    /// Round-trip time of the first successful check.
    pub(crate) rtt: Option<std::time::Duration>,
    pub(crate) nominating: Option<usize>,
    pub(crate) remote_end_of_candidates: bool,
    pub(crate) consent: Consent,
    pub(crate) host_count: usize,
    pub(crate) prflx_remote_count: usize,
    pub(crate) transmits: VecDeque<Transmit>,
    pub(crate) events: VecDeque<IceEvent>,
}

/// Most queued transmits before old ones are dropped; a stalled owner must not make the
/// agent grow without bound.
const MAX_QUEUED_TRANSMITS: usize = 256;
/// Most queued events, likewise.
const MAX_QUEUED_EVENTS: usize = 1024;

impl IceAgent {
    /// A new agent with random local credentials and tie-breaker drawn from `seed`. The
    /// driver seeds from the OS; tests seed with a constant.
    pub fn new(config: IceConfig, role: IceRole, seed: impl Into<Seed>) -> Self {
        let mut rng = Rng::new(seed);
        let tie_breaker = rng.next_u64();
        let local_credentials = Credentials::random(&mut || rng.next_u64());
        let role = if config.lite {
            IceRole::Controlled
        } else {
            role
        };
        Self {
            config,
            rng,
            role,
            tie_breaker,
            local_key: IntegrityKey::short_term(&local_credentials.pwd),
            local_credentials,
            remote_credentials: None,
            remote_key: None,
            remote_lite: false,
            locals: Vec::new(),
            remotes: Vec::new(),
            pairs: Vec::new(),
            triggered: VecDeque::new(),
            next_check_at: None,
            gather_tasks: Vec::new(),
            relays: Vec::new(),
            gathering_state: GatheringState::New,
            state: ConnectionState::New,
            selected: None,
            previous_route: None,
            first_valid_at: None,
            rtt: None,
            nominating: None,
            remote_end_of_candidates: false,
            consent: Consent::default(),
            host_count: 0,
            prflx_remote_count: 0,
            transmits: VecDeque::new(),
            events: VecDeque::new(),
        }
    }

    /// Our credentials, for the local description.
    pub fn local_credentials(&self) -> &Credentials {
        &self.local_credentials
    }

    /// Replaces our credentials (before any check is sent; use [`IceAgent::restart`] later).
    pub fn set_local_credentials(&mut self, credentials: Credentials) {
        self.local_key = IntegrityKey::short_term(&credentials.pwd);
        self.local_credentials = credentials;
    }

    /// The peer's credentials, once known.
    pub fn remote_credentials(&self) -> Option<&Credentials> {
        self.remote_credentials.as_ref()
    }

    /// The current role.
    pub fn role(&self) -> IceRole {
        self.role
    }

    /// Sets the role (the offerer is controlling). A lite agent stays controlled.
    pub fn set_role(&mut self, role: IceRole) {
        if !self.config.lite && role != self.role {
            self.switch_role(role);
        }
    }

    /// Whether this agent is ICE-lite.
    pub fn is_lite(&self) -> bool {
        self.config.lite
    }

    /// The connection state.
    pub fn state(&self) -> ConnectionState {
        self.state
    }

    /// The gathering state.
    pub fn gathering_state(&self) -> GatheringState {
        self.gathering_state
    }

    /// Local candidates gathered so far (those signalled to the peer).
    pub fn local_candidates(&self) -> impl Iterator<Item = &Candidate> {
        self.locals
            .iter()
            .map(|l| &l.cand)
            .filter(|c| self.signalled(c))
    }

    /// The selected pair, as (local, remote) candidates.
    pub fn selected_pair(&self) -> Option<(&Candidate, &Candidate)> {
        let p = &self.pairs[self.selected?];
        Some((&self.locals[p.local].cand, &self.remotes[p.remote].cand))
    }

    /// Adds a local address the owner has a UDP socket bound to. It becomes a host
    /// candidate (signalled unless the policy is relay-only) and the base for
    /// server-reflexive candidates.
    pub fn add_host_address(&mut self, now: Instant, addr: SocketAddr) {
        if self
            .locals
            .iter()
            .any(|l| l.cand.kind == CandidateKind::Host && l.socket == addr)
        {
            return;
        }
        let family_index = self
            .locals
            .iter()
            .filter(|l| l.cand.kind == CandidateKind::Host && l.socket.is_ipv4() == addr.is_ipv4())
            .count();
        let cand = Candidate {
            foundation: foundation(CandidateKind::Host, addr.ip(), None),
            component: 1,
            transport: Transport::Udp,
            priority: priority(
                CandidateKind::Host,
                local_preference(addr.ip(), family_index),
                1,
            ),
            address: CandidateAddress::Ip(addr),
            kind: CandidateKind::Host,
            related: None,
            extensions: Vec::new(),
        };
        self.host_count += 1;
        let idx = self.push_local(LocalCandidate {
            cand,
            socket: addr,
            base: addr,
            relay: None,
        });
        self.pair_local(now, idx);
    }

    /// Starts gathering server-reflexive candidates from every host address. Call after the
    /// host addresses are added; `GatheringState::Complete` follows when every server has
    /// answered or timed out.
    pub fn start_gathering(&mut self, now: Instant) {
        if self.gathering_state != GatheringState::New {
            return;
        }
        self.set_gathering_state(GatheringState::Gathering);
        if !self.config.lite {
            self.start_server_reflexive(now);
            self.start_relays(now);
        }
        self.check_gathering_complete();
    }

    /// The peer's credentials, from its description.
    pub fn set_remote_credentials(&mut self, now: Instant, credentials: Credentials) {
        if self.remote_credentials.as_ref() == Some(&credentials) {
            return;
        }
        self.remote_key = Some(IntegrityKey::short_term(&credentials.pwd));
        self.remote_credentials = Some(credentials);
        self.schedule_checks(now);
        self.update_state(now);
    }

    /// Whether the peer is ICE-lite (`a=ice-lite`). Facing a lite peer, a full agent is
    /// controlling (RFC 8445 section 6.1.1).
    pub fn set_remote_lite(&mut self, lite: bool) {
        self.remote_lite = lite;
        if lite && !self.config.lite {
            self.set_role(IceRole::Controlling);
        }
    }

    /// Adds a remote candidate (from the description or trickled). A candidate that does
    /// not parse is the caller's error for that candidate only; this one is checked for
    /// what the agent can use.
    pub fn add_remote_candidate(&mut self, now: Instant, cand: Candidate) -> Result<(), Error> {
        if cand.component != 1 {
            return Err(Error::UnsupportedComponent(cand.component));
        }
        if cand.transport != Transport::Udp {
            return Err(Error::UnsupportedTransport("tcp".into()));
        }
        if self.remotes.len() >= self.config.max_remote_candidates {
            return Err(Error::TooManyCandidates);
        }
        if self
            .remotes
            .iter()
            .any(|r| r.cand.address == cand.address && r.cand.kind != CandidateKind::PeerReflexive)
        {
            return Ok(());
        }
        // A signalled candidate for an address already learned as peer-reflexive takes
        // over its place (RFC 8445 section 7.3.1.3 allows the update).
        let addr = cand.addr();
        if let Some(i) = self.remotes.iter().position(|r| {
            r.cand.kind == CandidateKind::PeerReflexive && addr.is_some() && r.addr == addr
        }) {
            self.remotes[i].cand = cand;
            return Ok(());
        }
        if let CandidateAddress::Mdns { name, .. } = &cand.address {
            self.push_event(IceEvent::ResolveMdns(name.clone()));
        }
        self.remotes.push(RemoteCandidate { cand, addr });
        let idx = self.remotes.len() - 1;
        self.pair_remote(now, idx);
        self.update_state(now);
        Ok(())
    }

    /// The peer will send no more candidates (RFC 8838 end-of-candidates).
    pub fn end_of_remote_candidates(&mut self, now: Instant) {
        self.remote_end_of_candidates = true;
        self.update_state(now);
    }

    /// The answer to [`IceEvent::ResolveMdns`]: every remote candidate with that name gets
    /// the address.
    pub fn resolve_mdns(&mut self, now: Instant, name: &str, ip: IpAddr) {
        let matching: Vec<usize> = self
            .remotes
            .iter()
            .enumerate()
            .filter(|(_, r)| {
                r.addr.is_none()
                    && matches!(&r.cand.address, CandidateAddress::Mdns { name: n, .. } if n.eq_ignore_ascii_case(name))
            })
            .map(|(i, _)| i)
            .collect();
        for i in matching {
            if let CandidateAddress::Mdns { port, .. } = self.remotes[i].cand.address {
                self.remotes[i].addr = Some(SocketAddr::new(ip, port));
                self.pair_remote(now, i);
            }
        }
        self.update_state(now);
    }

    /// ICE restart (RFC 8445 section 9): new local credentials, the peer's candidates and
    /// credentials forgotten until it signals new ones, checks from scratch. Data keeps
    /// flowing on the old selected pair until a new one is selected.
    pub fn restart(&mut self, now: Instant, credentials: Credentials) {
        self.previous_route = self.send_route_inner().or(self.previous_route);
        self.local_key = IntegrityKey::short_term(&credentials.pwd);
        self.local_credentials = credentials;
        self.remote_credentials = None;
        self.remote_key = None;
        self.remote_lite = false;
        self.remotes.clear();
        self.pairs.clear();
        self.triggered.clear();
        self.selected = None;
        self.nominating = None;
        self.first_valid_at = None;
        self.rtt = None;
        self.remote_end_of_candidates = false;
        self.prflx_remote_count = 0;
        self.consent = Consent::default();
        // Learned peer-reflexive locals belong to the old session.
        self.locals
            .retain(|l| l.cand.kind != CandidateKind::PeerReflexive);
        let regather = self.gathering_state != GatheringState::New && !self.config.lite;
        if regather {
            // Gather again (RFC 8445 section 9 allows keeping the candidates, but a restart
            // usually follows a path change): a NAT may have rebound (new server-reflexive
            // address) or a TURN server lost our allocation. Server-reflexive candidates are
            // asked for anew; allocations are checked and made again where lost.
            self.locals
                .retain(|l| l.cand.kind != CandidateKind::ServerReflexive);
            self.gather_tasks.clear();
            self.start_server_reflexive(now);
            self.regather_relays(now);
        }
        // Data keeps the old route only if we still own its local end.
        if self.previous_route.is_some_and(|(local, _)| {
            !self.is_host_socket(local) && !self.relays.iter().any(|r| r.relayed == Some(local))
        }) {
            self.previous_route = None;
        }
        let signalled: Vec<Candidate> = self.local_candidates().cloned().collect();
        for c in signalled {
            self.push_event(IceEvent::LocalCandidate(c));
        }
        if regather && (!self.gather_tasks.is_empty() || !self.relays_settled()) {
            self.set_gathering_state(GatheringState::Gathering);
        }
        if self.gathering_state == GatheringState::Complete {
            // Said again for the new session's signaling.
            self.push_event(IceEvent::GatheringState(GatheringState::Complete));
        }
        self.update_state(now);
    }

    /// Whether `addr` is one of the owner's sockets (a host candidate's).
    pub(crate) fn is_host_socket(&self, addr: SocketAddr) -> bool {
        self.locals
            .iter()
            .any(|l| l.cand.kind == CandidateKind::Host && l.socket == addr)
    }
    /// Stops everything, releasing TURN allocations (their Refresh with lifetime 0 is the
    /// last thing [`IceAgent::poll_transmit`] yields); state `Closed`.
    pub fn close(&mut self, now: Instant) {
        self.pairs.clear();
        self.triggered.clear();
        self.gather_tasks.clear();
        self.transmits.clear();
        self.release_relays(now);
        self.selected = None;
        self.previous_route = None;
        self.set_state(ConnectionState::Closed);
    }
    /// Where application data goes now when it can go directly, as (local socket, remote
    /// address), so the owner can send from its own buffer. `None` before a pair is
    /// selected, after consent is lost, once closed, and when the selected pair is relayed
    /// (then use [`IceAgent::send_data`]).
    pub fn send_route(&mut self, now: Instant) -> Option<(SocketAddr, SocketAddr)> {
        let (local, remote) = self.send_route_inner()?;
        // Relayed (use send_data), or the relayed address of a lost allocation.
        if !self.is_host_socket(local) {
            return None;
        }
        self.consent.last_sent = Some(now);
        Some((local, remote))
    }

    /// Queues application data on the selected pair, directly or through its TURN relay;
    /// it comes out of [`IceAgent::poll_transmit`]. Returns `false` when there is no route.
    pub fn send_data(&mut self, now: Instant, payload: &[u8]) -> bool {
        let Some((local, remote)) = self.send_route_inner() else {
            return false;
        };
        self.consent.last_sent = Some(now);
        self.send_via(now, local, remote, payload.to_vec());
        true
    }

    /// The selected route as (local key, remote address): the local key is the host socket,
    /// or the relayed address of a relayed candidate.
    fn send_route_inner(&self) -> Option<(SocketAddr, SocketAddr)> {
        if matches!(self.state, ConnectionState::Closed) || self.consent.lost {
            return None;
        }
        match self.selected {
            Some(i) => {
                let p = &self.pairs[i];
                Some((self.locals[p.local].key(), self.remotes[p.remote].addr?))
            }
            None => self.previous_route,
        }
    }

    /// Feeds a datagram that arrived on one of our sockets (or stream octets from a TURN
    /// server over TCP/TLS). Application data from the peer comes back as
    /// [`Received::Data`]; data through a relay as [`IceEvent::Data`].
    pub fn handle_input<'a>(&mut self, now: Instant, input: Datagram<'a>) -> Received<'a> {
        let (local, remote, bytes) = (input.destination, input.source, input.payload);
        if self.state == ConnectionState::Closed {
            return Received::Dropped;
        }
        if let Some(i) = self.relay_for(local, remote) {
            let received = self.handle_relay_input(now, i, bytes);
            self.update_state(now);
            return received;
        }
        if !is_stun(bytes) {
            return if self.remotes.iter().any(|r| r.addr == Some(remote))
                || self.previous_route.is_some_and(|(_, r)| r == remote)
            {
                Received::Data(bytes)
            } else {
                trace!(%remote, "data from an unknown address dropped");
                Received::Dropped
            };
        }
        let Ok(msg) = Message::new_checked(bytes) else {
            return Received::Dropped;
        };
        let handled = match (msg.method(), msg.class()) {
            (Method::BINDING, Class::Request) => self.handle_request(now, local, remote, &msg),
            (Method::BINDING, Class::SuccessResponse | Class::ErrorResponse) => {
                self.handle_response(now, local, remote, &msg)
            }
            // Keepalive indications need no answer.
            (Method::BINDING, Class::Indication) => true,
            _ => false,
        };
        self.update_state(now);
        if handled {
            Received::Consumed
        } else {
            Received::Dropped
        }
    }

    /// Handles whatever is due at `now` (retransmissions, paced checks, consent).
    pub fn handle_timeout(&mut self, now: Instant) {
        if self.state == ConnectionState::Closed {
            return;
        }
        self.gather_timeouts(now);
        self.relay_timeouts(now);
        self.check_timeouts(now);
        self.pace_checks(now);
        self.maybe_nominate(now);
        self.consent_tick(now);
        self.update_state(now);
    }

    /// When [`IceAgent::handle_timeout`] must next be called.
    pub fn poll_timeout(&self) -> Option<Instant> {
        if self.state == ConnectionState::Closed {
            return None;
        }
        [
            self.gather_timeout(),
            self.relay_timeout(),
            self.checks_timeout(),
            self.nomination_timeout(),
            self.consent_timeout(),
        ]
        .into_iter()
        .flatten()
        .min()
    }

    /// The next datagram to send.
    pub fn poll_transmit(&mut self) -> Option<Transmit> {
        self.transmits.pop_front()
    }

    /// The next event.
    pub fn poll_event(&mut self) -> Option<IceEvent> {
        self.events.pop_front()
    }
    pub(crate) fn send_with(
        &mut self,
        source: SocketAddr,
        destination: SocketAddr,
        payload: Vec<u8>,
        protocol: Protocol,
    ) {
        if self.transmits.len() >= MAX_QUEUED_TRANSMITS {
            self.transmits.pop_front();
        }
        self.transmits.push_back(Transmit {
            source,
            destination,
            payload,
            protocol,
        });
    }

    /// Queues an event. When the owner is not polling and the queue is full, relayed data
    /// is what goes (the newest, or the oldest to make room for a state change): a lost
    /// datagram is what the layers above expect of a network, a lost state change is not.
    pub(crate) fn push_event(&mut self, event: IceEvent) {
        if self.events.len() >= MAX_QUEUED_EVENTS {
            if matches!(event, IceEvent::Data(_)) {
                return;
            }
            match self
                .events
                .iter()
                .position(|e| matches!(e, IceEvent::Data(_)))
            {
                Some(i) => {
                    self.events.remove(i);
                }
                None => {
                    self.events.pop_front();
                }
            }
        }
        self.events.push_back(event);
    }

    /// Whether a local candidate is told to the peer (relay-only hides the others, and
    /// peer-reflexive locals are never signalled).
    fn signalled(&self, c: &Candidate) -> bool {
        match c.kind {
            CandidateKind::PeerReflexive => false,
            CandidateKind::Relayed => true,
            _ => self.config.policy == TransportPolicy::All,
        }
    }

    pub(crate) fn push_local(&mut self, local: LocalCandidate) -> usize {
        if self.signalled(&local.cand) {
            self.push_event(IceEvent::LocalCandidate(local.cand.clone()));
        }
        self.locals.push(local);
        self.locals.len() - 1
    }

    pub(crate) fn set_gathering_state(&mut self, state: GatheringState) {
        if self.gathering_state != state {
            self.gathering_state = state;
            self.push_event(IceEvent::GatheringState(state));
        }
    }

    pub(crate) fn set_state(&mut self, state: ConnectionState) {
        if self.state != state {
            debug!(from = ?self.state, to = ?state, "ICE connection state");
            self.state = state;
            self.push_event(IceEvent::ConnectionState(state));
        }
    }

    pub(crate) fn switch_role(&mut self, role: IceRole) {
        self.role = role;
        self.recompute_pair_priorities();
        self.push_event(IceEvent::RoleChanged(role));
    }

    /// Counts of pairs by state, for tests and stats: (frozen, waiting, in progress,
    /// succeeded, failed).
    pub fn pair_counts(&self) -> [usize; 5] {
        let mut out = [0; 5];
        for p in &self.pairs {
            out[match p.state {
                PairState::Frozen => 0,
                PairState::Waiting => 1,
                PairState::InProgress => 2,
                PairState::Succeeded => 3,
                PairState::Failed => 4,
            }] += 1;
        }
        out
    }

    /// Every candidate pair with its state (for `getStats`).
    pub fn pair_stats(&self) -> Vec<crate::pair::PairStats> {
        self.pairs
            .iter()
            .enumerate()
            .map(|(i, p)| crate::pair::PairStats {
                local: self.locals[p.local].cand.clone(),
                remote: self.remotes[p.remote].cand.clone(),
                state: p.state,
                nominated: p.nominated,
                selected: self.selected == Some(i),
                rtt: p.rtt,
            })
            .collect()
    }

    /// How many remote candidates the agent holds (signalled and peer-reflexive).
    pub fn remote_candidate_count(&self) -> usize {
        self.remotes.len()
    }
}

impl SansIo for IceAgent {
    type Input<'a> = Datagram<'a>;
    type Transmit = Transmit;
    type Event = IceEvent;

    /// As [`IceAgent::handle_input`], with data on a direct path queued as
    /// [`IceEvent::Data`] too (a copy), so that a generic owner sees all of it in one place.
    fn handle_input(&mut self, now: Instant, input: Datagram<'_>) {
        if let Received::Data(data) = IceAgent::handle_input(self, now, input) {
            self.push_event(IceEvent::Data(data.to_vec()));
        }
    }
    fn handle_timeout(&mut self, now: Instant) {
        IceAgent::handle_timeout(self, now);
    }
    fn poll_transmit(&mut self, _now: Instant) -> Option<Transmit> {
        IceAgent::poll_transmit(self)
    }
    fn poll_event(&mut self) -> Option<IceEvent> {
        IceAgent::poll_event(self)
    }
    fn poll_timeout(&self) -> Option<Instant> {
        IceAgent::poll_timeout(self)
    }
}
