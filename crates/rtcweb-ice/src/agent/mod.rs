//! The ICE agent: its public face, composed of parts that each own their state. Each part
//! lives in its own file with private fields, and the agent passes it what it needs from
//! the others as arguments:
//!
//! - `gather`: the local candidates, server-reflexive gathering and the gathering state;
//! - `peer`: the peer's credentials and candidates for the current session;
//! - `checks`: the check list, pacing, nomination and the selected pair (`outbound` and
//!   `inbound` are the agent's glue that sends and answers checks with it);
//! - `consent`: RFC 7675 consent freshness and keepalives on the selected pair;
//! - `relay`: the TURN allocations;
//! - `outbox`: the datagrams and events for the owner.
//!
//! The agent's own fields (role, credentials, connection state, the route kept during a
//! restart) are set in this file only. The glue that runs one part with another sits in
//! `outbound` and `inbound` (checks) or next to the part it drives (`consent`, `relay`).

mod checks;
mod consent;
mod gather;
mod inbound;
mod outbound;
mod outbox;
mod peer;
mod relay;
use std::net::{IpAddr, SocketAddr};
use std::time::Instant;

use rtcweb_stun::{Class, IntegrityKey, Message, Method, is_stun};
use tracing::{debug, trace};

use crate::config::{Credentials, IceConfig, IceRole};
use crate::error::Error;
use crate::event::{ConnectionState, GatheringState, IceEvent};
use crate::{Candidate, CandidateAddress};
use rtcweb_core::{Datagram, Rng, SansIo, Seed, Transmit};

use self::checks::{Candidates, CheckList};
use self::consent::Consent;
use self::gather::Gatherer;
use self::outbox::Outbox;
use self::peer::Peer;
use self::relay::Relays;

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
    config: IceConfig,
    rng: Rng,
    role: IceRole,
    tie_breaker: u64,
    local_credentials: Credentials,
    /// HMAC key of our password, scheduled once (every incoming check uses it).
    local_key: IntegrityKey,
    state: ConnectionState,
    /// During an ICE restart: the route data keeps using until a new pair is selected.
    previous_route: Option<(SocketAddr, SocketAddr)>,
    gatherer: Gatherer,
    peer: Peer,
    checks: CheckList,
    consent: Consent,
    relays: Relays,
    outbox: Outbox,
}

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
            gatherer: Gatherer::new(config.policy),
            config,
            rng,
            role,
            tie_breaker,
            local_key: IntegrityKey::short_term(&local_credentials.pwd),
            local_credentials,
            state: ConnectionState::New,
            previous_route: None,
            peer: Peer::default(),
            checks: CheckList::default(),
            consent: Consent::default(),
            relays: Relays::default(),
            outbox: Outbox::default(),
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
        self.peer.credentials()
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
        self.gatherer.state()
    }

    /// Local candidates gathered so far (those signalled to the peer).
    pub fn local_candidates(&self) -> impl Iterator<Item = &Candidate> {
        self.gatherer.signalled_candidates()
    }

    /// The selected pair, as (local, remote) candidates.
    pub fn selected_pair(&self) -> Option<(&Candidate, &Candidate)> {
        let (local, remote) = self.checks.ends(self.checks.selected()?);
        Some((
            self.gatherer.candidates()[local].cand(),
            self.peer.candidates()[remote].cand(),
        ))
    }

    /// Adds a local address the owner has a UDP socket bound to. It becomes a host
    /// candidate (signalled unless the policy is relay-only) and the base for
    /// server-reflexive candidates.
    pub fn add_host_address(&mut self, now: Instant, addr: SocketAddr) {
        if let Some(idx) = self.gatherer.add_host(addr, &mut self.outbox) {
            self.pair_local(now, idx);
        }
    }

    /// Starts gathering server-reflexive candidates from every host address. Call after the
    /// host addresses are added; `GatheringState::Complete` follows when every server has
    /// answered or timed out.
    pub fn start_gathering(&mut self, now: Instant) {
        if self.gatherer.state() != GatheringState::New {
            return;
        }
        self.gatherer
            .set_state(GatheringState::Gathering, &mut self.outbox);
        if !self.config.lite {
            self.gatherer.start_server_reflexive(
                now,
                &self.config,
                &mut self.rng,
                &mut self.outbox,
            );
            let bases = self.gatherer.host_sockets();
            self.relays
                .start(now, &self.config, &bases, &mut self.rng, &mut self.outbox);
            self.drain_relays(now);
        }
        self.check_gathering_complete();
    }

    /// The peer's credentials, from its description.
    pub fn set_remote_credentials(&mut self, now: Instant, credentials: Credentials) {
        if !self.peer.set_credentials(credentials) {
            return;
        }
        self.schedule_checks(now);
        self.update_state(now);
    }

    /// Whether the peer is ICE-lite (`a=ice-lite`). Facing a lite peer, a full agent is
    /// controlling (RFC 8445 section 6.1.1).
    pub fn set_remote_lite(&mut self, lite: bool) {
        self.peer.set_lite(lite);
        if lite && !self.config.lite {
            self.set_role(IceRole::Controlling);
        }
    }

    /// Adds a remote candidate (from the description or trickled). A candidate that does
    /// not parse is the caller's error for that candidate only; this one is checked for
    /// what the agent can use.
    pub fn add_remote_candidate(&mut self, now: Instant, cand: Candidate) -> Result<(), Error> {
        let mdns = match &cand.address {
            CandidateAddress::Mdns { name, .. } => Some(name.clone()),
            CandidateAddress::Ip(_) => None,
        };
        let Some(idx) = self.peer.add(cand, self.config.max_remote_candidates)? else {
            return Ok(());
        };
        if let Some(name) = mdns {
            self.outbox.push_event(IceEvent::ResolveMdns(name));
        }
        self.pair_remote(now, idx);
        self.update_state(now);
        Ok(())
    }

    /// The peer will send no more candidates (RFC 8838 end-of-candidates).
    pub fn end_of_remote_candidates(&mut self, now: Instant) {
        self.peer.set_end_of_candidates();
        self.update_state(now);
    }

    /// The answer to [`IceEvent::ResolveMdns`]: every remote candidate with that name gets
    /// the address.
    pub fn resolve_mdns(&mut self, now: Instant, name: &str, ip: IpAddr) {
        for i in self.peer.resolve_mdns(name, ip) {
            self.pair_remote(now, i);
        }
        self.update_state(now);
    }

    /// ICE restart (RFC 8445 section 9): new local credentials, the peer's candidates and
    /// credentials forgotten until it signals new ones, checks from scratch. Data keeps
    /// flowing on the old selected pair until a new one is selected.
    pub fn restart(&mut self, now: Instant, credentials: Credentials) {
        self.previous_route = self.send_route_inner().or(self.previous_route);
        self.set_local_credentials(credentials);
        self.peer = Peer::default();
        self.checks.reset();
        self.consent = Consent::default();
        let regather = self.gatherer.state() != GatheringState::New && !self.config.lite;
        self.gatherer.forget_session(regather);
        if regather {
            // Gather again (RFC 8445 section 9 allows keeping the candidates, but a restart
            // usually follows a path change): a NAT may have rebound (new server-reflexive
            // address) or a TURN server lost our allocation. Server-reflexive candidates are
            // asked for anew; allocations are checked and made again where lost, and
            // relayed candidates of dead allocations are forgotten.
            self.gatherer.start_server_reflexive(
                now,
                &self.config,
                &mut self.rng,
                &mut self.outbox,
            );
            if self.relays.regather(now, &mut self.rng, &mut self.outbox)
                && self.gatherer.state() == GatheringState::Complete
            {
                self.gatherer
                    .set_state(GatheringState::Gathering, &mut self.outbox);
            }
            self.drain_relays(now);
            self.gatherer.keep_relayed(&self.relays.live());
        }
        // Data keeps the old route only if we still own its local end.
        if self.previous_route.is_some_and(|(local, _)| {
            !self.gatherer.is_host_socket(local) && !self.relays.owns(local)
        }) {
            self.previous_route = None;
        }
        let signalled: Vec<Candidate> = self.local_candidates().cloned().collect();
        for c in signalled {
            self.outbox.push_event(IceEvent::LocalCandidate(c));
        }
        if regather && (self.gatherer.is_asking() || !self.relays.settled()) {
            self.gatherer
                .set_state(GatheringState::Gathering, &mut self.outbox);
        }
        if self.gatherer.state() == GatheringState::Complete {
            // Said again for the new session's signaling.
            self.outbox
                .push_event(IceEvent::GatheringState(GatheringState::Complete));
        }
        self.update_state(now);
    }

    /// Stops everything, releasing TURN allocations (their Refresh with lifetime 0 is the
    /// last thing [`IceAgent::poll_transmit`] yields); state `Closed`.
    pub fn close(&mut self, now: Instant) {
        self.checks.close();
        self.gatherer.stop_asking();
        self.outbox.clear_transmits();
        self.relays.release(now, &mut self.outbox);
        self.drain_relays(now);
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
        if !self.gatherer.is_host_socket(local) {
            return None;
        }
        self.consent.note_sent(now);
        Some((local, remote))
    }

    /// Queues application data on the selected pair, directly or through its TURN relay;
    /// it comes out of [`IceAgent::poll_transmit`]. Returns `false` when there is no route.
    pub fn send_data(&mut self, now: Instant, payload: &[u8]) -> bool {
        let Some((local, remote)) = self.send_route_inner() else {
            return false;
        };
        self.consent.note_sent(now);
        self.send_via(now, local, remote, payload.to_vec());
        true
    }

    /// The selected route as (local key, remote address): the local key is the host socket,
    /// or the relayed address of a relayed candidate.
    fn send_route_inner(&self) -> Option<(SocketAddr, SocketAddr)> {
        if self.is_closed() || self.consent.is_lost() {
            return None;
        }
        match self.checks.selected() {
            Some(i) => self.pair_route(i),
            None => self.previous_route,
        }
    }

    /// Pair `i`'s route as (local key, remote address), once the remote one is known.
    fn pair_route(&self, i: usize) -> Option<(SocketAddr, SocketAddr)> {
        let (local, remote) = self.checks.ends(i);
        Some((
            self.gatherer.candidates()[local].key(),
            self.peer.candidates()[remote].addr()?,
        ))
    }

    fn is_closed(&self) -> bool {
        self.state == ConnectionState::Closed
    }

    /// Feeds a datagram that arrived on one of our sockets (or stream octets from a TURN
    /// server over TCP/TLS). Application data from the peer comes back as
    /// [`Received::Data`]; data through a relay as [`IceEvent::Data`].
    pub fn handle_input<'a>(&mut self, now: Instant, input: Datagram<'a>) -> Received<'a> {
        let (local, remote, bytes) = (input.destination, input.source, input.payload);
        if self.is_closed() {
            return Received::Dropped;
        }
        if let Some(i) = self.relays.route(local, remote) {
            self.relays.handle_input(now, i, bytes, &mut self.outbox);
            self.drain_relays(now);
            self.update_state(now);
            return Received::Consumed;
        }
        if !is_stun(bytes) {
            return if self.peer.knows(remote)
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
        if self.is_closed() {
            return;
        }
        if self.gatherer.handle_timeout(now, &mut self.outbox) {
            self.check_gathering_complete();
        }
        self.relays.handle_timeout(now, &mut self.outbox);
        self.drain_relays(now);
        self.check_timeouts(now);
        self.pace_checks(now);
        self.maybe_nominate(now);
        self.consent_tick(now);
        self.update_state(now);
    }

    /// When [`IceAgent::handle_timeout`] must next be called.
    pub fn poll_timeout(&self) -> Option<Instant> {
        if self.is_closed() {
            return None;
        }
        [
            self.gatherer.poll_timeout(),
            self.relays.poll_timeout(),
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
        self.outbox.poll_transmit()
    }

    /// The next event.
    pub fn poll_event(&mut self) -> Option<IceEvent> {
        self.outbox.poll_event()
    }

    /// `Complete` once every STUN server answered and every relay settled.
    fn check_gathering_complete(&mut self) {
        let settled = self.relays.settled();
        self.gatherer.check_complete(settled, &mut self.outbox);
    }

    fn set_state(&mut self, state: ConnectionState) {
        if self.state != state {
            debug!(from = ?self.state, to = ?state, "ICE connection state");
            self.state = state;
            self.outbox.push_event(IceEvent::ConnectionState(state));
        }
    }

    fn switch_role(&mut self, role: IceRole) {
        self.role = role;
        let cands = Candidates::of(&self.gatherer, &self.peer);
        self.checks.recompute_priorities(cands, role);
        self.outbox.push_event(IceEvent::RoleChanged(role));
    }

    /// Selects pair `i` for data: consent starts on it, a relayed one gets a TURN channel.
    fn select(&mut self, now: Instant, i: usize) {
        self.checks.select(i);
        self.previous_route = None;
        self.consent.start(now);
        let (l, r) = self.checks.ends(i);
        let (l, r) = (&self.gatherer.candidates()[l], &self.peer.candidates()[r]);
        let (local, remote) = (l.cand().clone(), r.cand().clone());
        debug!(local = %local, remote = %remote, "selected pair");
        if l.is_relayed()
            && let Some(peer) = r.addr()
        {
            let key = l.key();
            self.relays.bind_channel(now, key, peer, &mut self.outbox);
        }
        self.outbox
            .push_event(IceEvent::SelectedPair { local, remote });
    }

    /// Counts of pairs by state, for tests and stats: (frozen, waiting, in progress,
    /// succeeded, failed).
    pub fn pair_counts(&self) -> [usize; 5] {
        self.checks.counts()
    }

    /// Every candidate pair with its state (for `getStats`).
    pub fn pair_stats(&self) -> Vec<crate::pair::PairStats> {
        self.checks
            .stats(Candidates::of(&self.gatherer, &self.peer))
    }

    /// How many remote candidates the agent holds (signalled and peer-reflexive).
    pub fn remote_candidate_count(&self) -> usize {
        self.peer.candidates().len()
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
            self.outbox.push_event(IceEvent::Data(data.to_vec()));
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
