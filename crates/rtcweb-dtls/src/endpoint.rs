//! [`DtlsEndpoint`]: one DTLS-SRTP association, sans-IO.

mod phase;

use rtcweb_core::SansIo;
use std::collections::VecDeque;
use std::time::{Duration, Instant};

use self::phase::{Failed, Handshake, Phase};
use crate::engine::{Engine, Output};
use crate::fingerprint::verify_certificate;
use crate::{DtlsContext, DtlsVersion, Error, Fingerprint, Role, SrtpKeyingMaterial};

/// Where an endpoint is in its life.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum State {
    /// The handshake is running.
    Handshaking,
    /// The handshake completed and the peer's certificate matched its fingerprint.
    Connected,
    /// `close_notify` was sent or received. Nothing more is delivered.
    Closed,
    /// The endpoint gave up; it sends nothing more and holds no keys.
    Failed(Error),
}

/// Something the application must know, from [`DtlsEndpoint::poll_event`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// The handshake completed and the peer is authenticated by its SDP fingerprint.
    Connected {
        /// The negotiated version.
        version: DtlsVersion,
        /// SRTP keys, when the peer negotiated `use_srtp` (every WebRTC peer does).
        srtp: Option<SrtpKeyingMaterial>,
    },
    /// Application data from the peer (an SCTP packet, for WebRTC data channels).
    ApplicationData(Vec<u8>),
    /// The peer sent `close_notify`; our reply (DTLS 1.2) is queued for transmission.
    Closed,
    /// The endpoint failed; see [`State::Failed`].
    Failed(Error),
}

/// Counters for diagnostics.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Stats {
    /// Datagrams passed to [`DtlsEndpoint::handle_input`].
    pub datagrams_received: u64,
    /// Datagrams handed out by [`DtlsEndpoint::poll_transmit`].
    pub datagrams_sent: u64,
    /// Datagrams dropped because the transmit queue was full.
    pub transmits_dropped: u64,
    /// Application data dropped because the event queue was full.
    pub application_data_dropped: u64,
}

/// A DTLS-SRTP endpoint for one ICE transport: runs the handshake in the [`Role`] that
/// `a=setup` gave, checks the peer certificate against its SDP fingerprints, exports SRTP keys
/// and carries application data (SCTP) once connected.
///
/// Sans-IO: datagrams come in through [`handle_input`](Self::handle_input), time through
/// `now` parameters, and everything to send or report is polled.
///
/// ```
/// # use std::time::{Instant, SystemTime};
/// # use rtcweb_dtls::*;
/// # fn cert(n: u8) -> Certificate {
/// #     Certificate::generate(&[n; 32], &[n; 16], SystemTime::UNIX_EPOCH, Certificate::DEFAULT_LIFETIME).unwrap()
/// # }
/// // Once per application (or per peer identity):
/// let alice = DtlsContext::new(DtlsConfig::default(), cert(1))?;
/// let bob = DtlsContext::new(DtlsConfig::default(), cert(2))?;
/// // Per connection, with the peer's a=fingerprint and the role from a=setup:
/// let now = Instant::now();
/// let bob_fp = bob.certificate().fingerprint().clone();
/// let alice_fp = alice.certificate().fingerprint().clone();
/// let mut a = DtlsEndpoint::new(&alice, Role::Client, vec![bob_fp], now)?;
/// let mut b = DtlsEndpoint::new(&bob, Role::Server, vec![alice_fp], now)?;
/// // Shuttle datagrams until both are connected (a real program uses sockets and timers).
/// while a.state() != &State::Connected || b.state() != &State::Connected {
///     while let Some(d) = a.poll_transmit() { b.handle_input(now, &d); }
///     while let Some(d) = b.poll_transmit() { a.handle_input(now, &d); }
/// }
/// let Some(Event::Connected { srtp: Some(keys), .. }) = a.poll_event() else { panic!() };
/// let Some(Event::Connected { srtp: Some(peer_keys), .. }) = b.poll_event() else { panic!() };
/// assert_eq!(keys.local, peer_keys.remote);
/// # Ok::<(), Error>(())
/// ```
pub struct DtlsEndpoint {
    /// `None` once failed: a failed engine is never called again, and its secrets go with it.
    engine: Option<Box<dyn Engine>>,
    core: Core,
}

/// Everything but the engine, so that the engine can drain into it.
struct Core {
    role: Role,
    handshake_timeout: Duration,
    mtu: usize,
    max_transmits: usize,
    max_events: usize,
    remote_fingerprints: Vec<Fingerprint>,
    /// Where the endpoint stands, with what exists in that state.
    phase: Phase,
    transmits: VecDeque<Vec<u8>>,
    events: VecDeque<Event>,
    engine_timeout: Option<Instant>,
    last_now: Instant,
    stats: Stats,
}

/// What one drain of the engine found that must be acted on after it: the endpoint changes
/// state between drains, never in the middle of one.
#[derive(Default)]
struct Drained {
    /// The engine completed its handshake.
    connected: bool,
    /// The peer sent `close_notify`.
    peer_closed: bool,
    /// A fatal error (a certificate matching no fingerprint); later outputs are ignored.
    failure: Option<Error>,
}

impl DtlsEndpoint {
    /// A new endpoint. `remote_fingerprints` are the peer's `a=fingerprint` values; at least
    /// one is required, since a peer that cannot be checked must not be keyed.
    ///
    /// A client starts its handshake at once: poll [`poll_transmit`](Self::poll_transmit).
    pub fn new(
        context: &DtlsContext,
        role: Role,
        remote_fingerprints: Vec<Fingerprint>,
        now: Instant,
    ) -> Result<Self, Error> {
        if remote_fingerprints.is_empty() {
            return Err(Error::NoRemoteFingerprint);
        }
        let config = context.config();
        let mut engine = context.factory().new_engine(role, now);
        // dimpl's DTLS 1.2 and 1.3 clients write their ClientHello on the first timeout call.
        engine.handle_timeout(now)?;
        let mut endpoint = DtlsEndpoint {
            engine: Some(engine),
            core: Core {
                role,
                handshake_timeout: config.handshake_timeout,
                mtu: config.mtu,
                max_transmits: config.max_queued_transmits,
                max_events: config.max_queued_events,
                remote_fingerprints,
                phase: Phase::Handshaking(Handshake {
                    // A server's clock starts with its first datagram, see `handle_input`.
                    deadline: role.is_client().then(|| now + config.handshake_timeout),
                    ..Handshake::default()
                }),
                transmits: VecDeque::new(),
                events: VecDeque::new(),
                engine_timeout: None,
                last_now: now,
                stats: Stats::default(),
            },
        };
        endpoint.pump();
        Ok(endpoint)
    }

    /// Feeds one received datagram (a DTLS record or several; RFC 7983 demultiplexing happens
    /// above). Ignored once closed or failed.
    pub fn handle_input(&mut self, now: Instant, datagram: &[u8]) {
        if !self.is_active() {
            return;
        }
        let now = self.core.advance(now);
        self.core.stats.datagrams_received += 1;
        if let Phase::Handshaking(handshake) = &mut self.core.phase
            && handshake.deadline.is_none()
        {
            // A server's clock starts with the first datagram, whatever it holds: garbage must
            // run out of time just like a stalled ClientHello.
            handshake.deadline = Some(now + self.core.handshake_timeout);
        }
        if self.check_deadline(now) {
            return;
        }
        // dimpl wants its clock refreshed before input at a new instant.
        let result = self.with_engine(|e| {
            e.handle_timeout(now)?;
            e.handle_datagram(datagram)
        });
        if let Err(e) = result {
            self.fail(e);
            return;
        }
        self.pump();
    }

    /// Advances time: retransmits flights and enforces the handshake timeout. Call it when
    /// [`poll_timeout`](Self::poll_timeout) has passed (calling early or late is harmless).
    pub fn handle_timeout(&mut self, now: Instant) {
        if !self.is_active() {
            return;
        }
        let now = self.core.advance(now);
        if self.check_deadline(now) {
            return;
        }
        if let Err(e) = self.with_engine(|e| e.handle_timeout(now)) {
            self.fail(e);
            return;
        }
        self.pump();
    }

    /// The next datagram to send, if any.
    pub fn poll_transmit(&mut self) -> Option<Vec<u8>> {
        let d = self.core.transmits.pop_front()?;
        self.core.stats.datagrams_sent += 1;
        Some(d)
    }

    /// The next event, if any.
    pub fn poll_event(&mut self) -> Option<Event> {
        self.core.events.pop_front()
    }

    /// When [`handle_timeout`](Self::handle_timeout) must be called next; `None` when closed
    /// or failed.
    pub fn poll_timeout(&self) -> Option<Instant> {
        if !self.is_active() {
            return None;
        }
        let deadline = match &self.core.phase {
            Phase::Handshaking(handshake) => handshake.deadline,
            _ => None,
        };
        match (self.core.engine_timeout, deadline) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// Encrypts `data` as one application-data record (for WebRTC, one SCTP packet) in one
    /// datagram. Records are never fragmented, so `data` must fit
    /// [`max_application_data`](Self::max_application_data), else
    /// [`Error::ApplicationDataTooLarge`] (not fatal).
    pub fn send(&mut self, data: &[u8]) -> Result<(), Error> {
        let Some(max) = self.max_application_data() else {
            return Err(Error::NotConnected);
        };
        if data.len() > max {
            return Err(Error::ApplicationDataTooLarge {
                len: data.len(),
                max,
            });
        }
        if let Err(e) = self.with_engine(|e| e.send_application_data(data)) {
            self.fail(e.clone());
            return Err(e);
        }
        self.pump();
        Ok(())
    }

    /// The largest [`send`](Self::send) that fits one datagram of the configured MTU, once
    /// connected: the MTU less the record overhead of the version, 37 bytes in DTLS 1.2 (13
    /// header, 8 explicit nonce, 16 tag; the AES-GCM suites WebRTC peers pick) and 22 in DTLS
    /// 1.3 (5 header with a 16-bit sequence number, 1 content type, 16 tag), as dimpl writes
    /// them.
    pub fn max_application_data(&self) -> Option<usize> {
        if !matches!(self.core.phase, Phase::Connected(_)) {
            return None;
        }
        let overhead = match self.version()? {
            DtlsVersion::Dtls12 => 37,
            DtlsVersion::Dtls13 => 22,
        };
        Some(self.core.mtu.saturating_sub(overhead))
    }

    /// Closes gracefully: when connected, queues `close_notify`; during the handshake, stops
    /// without sending anything. The endpoint is [`State::Closed`] afterwards.
    pub fn close(&mut self) {
        if !self.is_active() {
            return;
        }
        if let Err(e) = self.with_engine(|e| e.close()) {
            self.fail(e);
            return;
        }
        self.core.phase.close();
        self.pump();
    }

    /// The current state.
    pub fn state(&self) -> &State {
        self.core.phase.state()
    }

    /// Our role.
    pub fn role(&self) -> Role {
        self.core.role
    }

    /// The negotiated version, once the peer's hello decided it.
    pub fn version(&self) -> Option<DtlsVersion> {
        self.engine.as_ref()?.version()
    }

    /// SRTP keys, once connected (also delivered in [`Event::Connected`]).
    pub fn srtp_keying_material(&self) -> Option<&SrtpKeyingMaterial> {
        self.core.phase.session()?.srtp.as_ref()
    }

    /// The peer's certificate (DER), once it matched the SDP fingerprint.
    pub fn peer_certificate(&self) -> Option<&[u8]> {
        match &self.core.phase {
            Phase::Handshaking(handshake) => handshake.peer_certificate.as_deref(),
            phase => Some(phase.session()?.peer_certificate.as_slice()),
        }
    }

    /// Counters.
    pub fn stats(&self) -> Stats {
        self.core.stats
    }

    fn is_active(&self) -> bool {
        self.core.phase.is_active() && self.engine.is_some()
    }

    fn with_engine(
        &mut self,
        f: impl FnOnce(&mut dyn Engine) -> Result<(), Error>,
    ) -> Result<(), Error> {
        match self.engine.as_deref_mut() {
            Some(engine) => f(engine),
            None => Err(Error::NotConnected),
        }
    }

    /// Fails the handshake when its deadline passed. Returns whether it did.
    fn check_deadline(&mut self, now: Instant) -> bool {
        let expired = matches!(
            &self.core.phase,
            Phase::Handshaking(handshake) if handshake.deadline.is_some_and(|d| now >= d)
        );
        if expired {
            self.fail(Error::HandshakeTimeout);
        }
        expired
    }

    /// Moves everything the engine produced into our queues and applies the WebRTC checks.
    fn pump(&mut self) {
        let Some(engine) = self.engine.as_deref_mut() else {
            return;
        };
        let core = &mut self.core;
        let mut drained = Drained::default();
        engine.drain(&mut |output| core.on_output(output, &mut drained));
        if let Some(e) = drained.failure {
            self.fail(e);
            return;
        }
        if drained.connected && matches!(self.core.phase, Phase::Handshaking(_)) {
            let version = self.version();
            if let Err(e) = self.core.finish_handshake(version) {
                self.fail(e);
                return;
            }
        }
        if drained.peer_closed && !matches!(self.core.phase, Phase::Closed(_)) {
            self.core.phase.close();
            self.core.events.push_back(Event::Closed);
        }
    }

    fn fail(&mut self, error: Error) {
        tracing::debug!(%error, role = ?self.core.role, "DTLS endpoint failed");
        // Nothing of a failed handshake may leave: not a queued flight, not a key (the phase
        // that held the certificate and keys is dropped).
        self.engine = None;
        let core = &mut self.core;
        core.transmits.clear();
        core.phase = Phase::Failed(Failed::new(error.clone()));
        core.events.push_back(Event::Failed(error));
    }
}

impl Core {
    /// Clamps `now` so that time never runs backwards for the engine.
    fn advance(&mut self, now: Instant) -> Instant {
        self.last_now = self.last_now.max(now);
        self.last_now
    }

    fn on_output(&mut self, output: Output<'_>, drained: &mut Drained) {
        if drained.failure.is_some() {
            return;
        }
        match output {
            Output::Transmit(d) => {
                if self.transmits.len() < self.max_transmits {
                    self.transmits.push_back(d.to_vec());
                } else {
                    self.stats.transmits_dropped += 1;
                }
            }
            Output::Timeout(at) => self.engine_timeout = Some(at),
            // A certificate is always checked; once connected, the session keeps the one that
            // authenticated its handshake.
            Output::PeerCertificate(der) => {
                match verify_certificate(&self.remote_fingerprints, der) {
                    Ok(()) => {
                        if let Phase::Handshaking(handshake) = &mut self.phase {
                            handshake.peer_certificate = Some(der.to_vec());
                        }
                    }
                    Err(e) => drained.failure = Some(e),
                }
            }
            Output::SrtpKeyingMaterial { profile, exported } => {
                if let Phase::Handshaking(handshake) = &mut self.phase {
                    handshake.exported = Some((profile, exported.to_vec()));
                }
            }
            Output::Connected => drained.connected = true,
            Output::ApplicationData(d) => {
                if !matches!(self.phase, Phase::Connected(_)) && !drained.connected {
                    return;
                }
                if self.events.len() < self.max_events {
                    self.events.push_back(Event::ApplicationData(d.to_vec()));
                } else {
                    self.stats.application_data_dropped += 1;
                }
            }
            Output::CloseNotify => drained.peer_closed = true,
        }
    }

    /// Handshaking becomes connected; an error leaves the caller to fail the endpoint.
    fn finish_handshake(&mut self, version: Option<DtlsVersion>) -> Result<(), Error> {
        let Phase::Handshaking(handshake) = &mut self.phase else {
            return Ok(());
        };
        let (session, version) = std::mem::take(handshake).finish(self.role, version)?;
        let srtp = session.srtp.clone();
        self.phase = Phase::Connected(session);
        tracing::debug!(?version, profile = ?srtp.as_ref().map(|s| s.profile), "DTLS connected");
        // Connected goes before any application data that came in the same flight.
        let pos = self
            .events
            .iter()
            .position(|e| matches!(e, Event::ApplicationData(_)))
            .unwrap_or(self.events.len());
        self.events.insert(pos, Event::Connected { version, srtp });
        Ok(())
    }
}

impl SansIo for DtlsEndpoint {
    /// One datagram of DTLS records (demultiplexed by the layer above, RFC 7983).
    type Input<'a> = &'a [u8];
    /// One datagram of DTLS records, for the layer below to send.
    type Transmit = Vec<u8>;
    type Event = Event;

    fn handle_input(&mut self, now: Instant, datagram: &[u8]) {
        DtlsEndpoint::handle_input(self, now, datagram);
    }
    fn handle_timeout(&mut self, now: Instant) {
        DtlsEndpoint::handle_timeout(self, now);
    }
    fn poll_transmit(&mut self, _now: Instant) -> Option<Vec<u8>> {
        DtlsEndpoint::poll_transmit(self)
    }
    fn poll_event(&mut self) -> Option<Event> {
        DtlsEndpoint::poll_event(self)
    }
    fn poll_timeout(&self) -> Option<Instant> {
        DtlsEndpoint::poll_timeout(self)
    }
}
