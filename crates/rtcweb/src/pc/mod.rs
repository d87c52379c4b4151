//! The `PeerConnection`: one sans-IO object per peer, composing JSEP, ICE, DTLS, SRTP and
//! SCTP. This module holds its state and the W3C-shaped API; `transport` moves bytes
//! between the layers, `negotiation` applies descriptions to them, and `media` handles RTP.

mod media;
mod media_resilience;
mod negotiation;
mod rtp_session;
mod transport;

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::time::Instant;

use rtcweb_core::{Candidate, Fingerprint, Role};
use rtcweb_dtls::{DtlsConfig, DtlsContext, DtlsEndpoint, DtlsVersion};
use rtcweb_ice::{IceAgent, IceConfig, IceRole, TransportPolicy};
use rtcweb_jsep::{Jsep, JsepConfig};
use tracing::debug;

use crate::config::{IceCredential, IceServerUrl, IceTransportPolicy, RtcConfiguration, Scheme};
use crate::error::Error;
use crate::event::{Event, PeerConnectionState, Transmit};

/// Most queued events and transmits before the oldest are dropped: an owner that stops
/// polling must not make the connection grow without bound.
const MAX_QUEUED: usize = 4096;
/// Most events taken from SCTP into the queue at once (see `pull_sctp_events`).
pub(crate) const SCTP_EVENTS_QUEUED: usize = MAX_QUEUED / 4;

/// A WebRTC peer connection as a state machine.
///
/// The owner (a driver such as `rtcweb-tokio`, or a test) binds UDP sockets and reports
/// their addresses with [`PeerConnection::add_local_address`], feeds every datagram to
/// [`PeerConnection::handle_input`], sends what [`PeerConnection::poll_transmit`] yields,
/// calls [`PeerConnection::handle_timeout`] at [`PeerConnection::poll_timeout`], and reacts
/// to [`PeerConnection::poll_event`]. Offer/answer follows the W3C API.
pub struct PeerConnection {
    pub(crate) jsep: Jsep,
    pub(crate) ice: IceAgent,
    pub(crate) dtls_context: DtlsContext,
    pub(crate) dtls: Option<DtlsEndpoint>,
    /// Made from `srtp_keys` on first use: a connection without media never needs one, and
    /// it is the largest part of a connection (two directions of cipher and replay state).
    pub(crate) srtp: Option<Box<rtcweb_srtp::Session>>,
    /// SRTP keys from the DTLS handshake, until `srtp` is made from them.
    pub(crate) srtp_keys: Option<rtcweb_dtls::SrtpKeyingMaterial>,
    pub(crate) srtp_profile: Option<&'static str>,
    pub(crate) dtls_version: Option<DtlsVersion>,
    /// DTLS role and the peer's fingerprints, once an answer fixed them.
    pub(crate) dtls_params: Option<(Role, Vec<Fingerprint>)>,
    pub(crate) dtls_failed: bool,
    /// DTLS datagrams that came before the endpoint existed (see `hold_early_dtls`).
    pub(crate) early_dtls: Vec<Vec<u8>>,
    pub(crate) gathering_started: bool,
    /// Local addresses given before gathering started.
    pub(crate) pending_addresses: Vec<SocketAddr>,
    pub(crate) closed: bool,
    pub(crate) state: PeerConnectionState,
    pub(crate) ice_state: rtcweb_ice::ConnectionState,
    /// The mid candidates are signalled with (the first m= section: BUNDLE).
    pub(crate) candidate_mid: Option<String>,
    pub(crate) media: media::MediaState,
    pub(crate) data: crate::data_channel::DataState,

    pub(crate) out: VecDeque<Transmit>,
    pub(crate) events: VecDeque<Event>,
    pub(crate) stats: Counters,
    /// Buffers handed back with [`PeerConnection::recycle`], for the next datagram or RTP
    /// packet (see there).
    pub(crate) buffers: Vec<Vec<u8>>,
}

/// Transport-level counters for getStats.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Counters {
    pub(crate) bytes_sent: u64,
    pub(crate) bytes_received: u64,
    pub(crate) packets_sent: u64,
    pub(crate) packets_received: u64,
}

impl std::fmt::Debug for PeerConnection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PeerConnection")
            .field("state", &self.state)
            .field("signaling", &self.jsep.signaling_state())
            .field("ice", &self.ice_state)
            .finish_non_exhaustive()
    }
}

/// Buffers [`PeerConnection::recycle`] keeps at most.
pub const MAX_POOLED_BUFFERS: usize = 256;

/// Labels that give each layer its own stream from [`RtcConfiguration::seed`].
const SEED_DTLS: u64 = 1;
const SEED_ICE: u64 = 2;
const SEED_JSEP: u64 = 3;
const SEED_MEDIA: u64 = 4;
const SEED_SCTP: u64 = 5;

impl PeerConnection {
    /// A new connection. ICE server URLs must carry IP addresses (see
    /// [`RtcConfiguration::resolve_with`]).
    pub fn new(config: RtcConfiguration) -> Result<Self, Error> {
        let dtls_context = match config.dtls_context.clone() {
            Some(shared) => shared,
            None => {
                let mut dtls_config = Self::dtls_config();
                dtls_config.rng_seed = Some(config.seed.derive(SEED_DTLS));
                DtlsContext::new(dtls_config, config.certificate.clone())?
            }
        };
        let mut jsep_config = JsepConfig {
            bundle_policy: config.bundle_policy,
            ice_lite: config.ice_lite,
            fingerprints: vec![dtls_context.certificate().fingerprint().clone()],
            seed: config.seed.derive(SEED_JSEP),
            answer_setup: Role::from(config.dtls_answer_role).into(),
            ..JsepConfig::default()
        };
        if config.media.mode == crate::config::MediaMode::Session {
            (jsep_config.audio_codecs, jsep_config.video_codecs) =
                rtp_session::session_codecs(&config.media);
        }
        let jsep = Jsep::new(jsep_config);
        let ice_config = ice_config(&config)?;
        let mut ice = IceAgent::new(
            ice_config,
            IceRole::Controlled,
            config.seed.derive(SEED_ICE),
        );
        let creds = jsep.local_ice_credentials();
        ice.set_local_credentials(rtcweb_ice::Credentials::new(&creds.ufrag, &creds.pwd)?);
        Ok(Self {
            jsep,
            ice,
            dtls_context,
            dtls: None,
            srtp: None,
            srtp_keys: None,
            srtp_profile: None,
            dtls_version: None,
            dtls_params: None,
            dtls_failed: false,
            early_dtls: Vec::new(),
            gathering_started: false,
            pending_addresses: Vec::new(),
            closed: false,
            state: PeerConnectionState::New,
            ice_state: rtcweb_ice::ConnectionState::New,
            candidate_mid: None,
            media: media::MediaState::new(config.seed.derive(SEED_MEDIA), config.media.clone()),
            data: crate::data_channel::DataState::new(config.seed.derive(SEED_SCTP)),

            out: VecDeque::new(),
            events: VecDeque::new(),
            stats: Counters::default(),
            buffers: Vec::new(),
        })
    }

    /// The DTLS settings of a connection (also what to prepare a shared
    /// [`RtcConfiguration::dtls_context`] with): the defaults, but no stateless cookie
    /// exchange as a server. The cookie proves that a client can receive at its address
    /// before the server spends work on it (RFC 6347 4.2.1, RFC 9147 5.1); under ICE the
    /// connectivity checks, authenticated with the password from the signaled description,
    /// have already proved that, and our records only ever go to the ICE-selected pair, so
    /// the exchange would only add a round trip to every connection.
    pub fn dtls_config() -> DtlsConfig {
        let mut config = DtlsConfig::default();
        config.server_cookie = false;
        config
    }

    /// Adds a local address the owner has a UDP socket bound to: a host candidate. As in
    /// browsers, candidates are gathered (and signalled) from the first
    /// `setLocalDescription` on; addresses added before wait until then.
    pub fn add_local_address(&mut self, now: Instant, addr: SocketAddr) {
        if self.gathering_started {
            self.ice.add_host_address(now, addr);
            self.pump(now);
        } else if !self.pending_addresses.contains(&addr) {
            self.pending_addresses.push(addr);
        }
    }

    /// `signalingState`.
    pub fn signaling_state(&self) -> rtcweb_jsep::SignalingState {
        self.jsep.signaling_state()
    }

    /// `connectionState`.
    pub fn connection_state(&self) -> PeerConnectionState {
        self.state
    }

    /// `iceConnectionState`.
    pub fn ice_connection_state(&self) -> rtcweb_ice::ConnectionState {
        self.ice_state
    }

    /// `iceGatheringState`.
    pub fn ice_gathering_state(&self) -> rtcweb_ice::GatheringState {
        self.ice.gathering_state()
    }

    /// The selected candidate pair: local, remote.
    pub fn selected_candidate_pair(&self) -> Option<(Candidate, Candidate)> {
        self.ice
            .selected_pair()
            .map(|(l, r)| (l.clone(), r.clone()))
    }

    /// The negotiated DTLS version, once connected.
    pub fn dtls_version(&self) -> Option<DtlsVersion> {
        self.dtls_version
    }

    /// The SRTP protection profile in use, once DTLS is connected.
    pub fn srtp_profile(&self) -> Option<&'static str> {
        self.srtp_profile
    }

    /// The transceivers, as JSEP sees them.
    pub fn transceivers(&self) -> &[rtcweb_jsep::Transceiver] {
        self.jsep.transceivers()
    }

    /// `close()`: stops everything. TURN allocations are released by the transmits that
    /// follow.
    pub fn close(&mut self, now: Instant) {
        if self.closed {
            return;
        }
        if let Some(m) = self.media.session.as_mut() {
            m.session.close(now);
        }
        self.flush_media(now);
        self.closed = true;
        self.early_dtls.clear();
        if let Some(sctp) = self.data.sctp.as_mut() {
            sctp.shutdown(now);
        }
        self.drain_sctp(now);
        if let Some(dtls) = self.dtls.as_mut() {
            dtls.close();
        }
        self.drain_dtls(now);
        self.jsep.close();
        self.ice.close(now);
        self.pump(now);
        self.update_state();
    }

    pub(crate) fn push_event(&mut self, event: Event) {
        if self.events.len() >= MAX_QUEUED {
            self.events.pop_front();
        }
        self.events.push_back(event);
    }

    pub(crate) fn push_transmit(&mut self, t: Transmit) {
        if self.out.len() >= MAX_QUEUED {
            self.out.pop_front();
        }
        self.stats.bytes_sent += t.payload.len() as u64;
        self.stats.packets_sent += 1;
        self.out.push_back(t);
    }

    /// The next event.
    pub fn poll_event(&mut self) -> Option<Event> {
        if self.events.is_empty() {
            self.flush_data();
        }
        if self.events.is_empty() {
            self.pull_sctp_events();
        }
        self.events.pop_front()
    }

    pub(crate) fn queued_events(&self) -> usize {
        self.events.len()
    }

    /// The next datagram (or stream octets) to send.
    pub fn poll_transmit(&mut self) -> Option<Transmit> {
        if self.out.is_empty() {
            self.flush_data();
        }
        self.out.pop_front()
    }

    /// Hands back a buffer the connection gave out (a [`Transmit`]'s payload once sent, an
    /// [`Event::Rtp`]/[`Event::Rtcp`] packet once read), so that the next RTP packet sent
    /// or received reuses it instead of allocating. Optional: a buffer not handed back is
    /// simply freed. At most [`MAX_POOLED_BUFFERS`] are kept, and none larger than 64 KiB.
    pub fn recycle(&mut self, mut buffer: Vec<u8>) {
        if self.buffers.len() < MAX_POOLED_BUFFERS && buffer.capacity() <= 65_536 {
            buffer.clear();
            self.buffers.push(buffer);
        }
    }

    /// A buffer for a datagram of up to `len` octets: a recycled one if there is one.
    pub(crate) fn take_buffer(&mut self, len: usize) -> Vec<u8> {
        match self.buffers.pop() {
            Some(mut b) => {
                b.reserve(len);
                b
            }
            None => Vec::with_capacity(len.max(1500)),
        }
    }

    /// Recomputes `connectionState` (W3C: ICE and DTLS together).
    pub(crate) fn update_state(&mut self) {
        use rtcweb_ice::ConnectionState as Ice;
        let dtls_up = self
            .dtls
            .as_ref()
            .is_some_and(|d| *d.state() == rtcweb_dtls::State::Connected);
        let state = if self.closed {
            PeerConnectionState::Closed
        } else if self.dtls_failed || self.ice_state == Ice::Failed {
            PeerConnectionState::Failed
        } else if self.ice_state == Ice::Disconnected {
            PeerConnectionState::Disconnected
        } else if matches!(self.ice_state, Ice::Connected | Ice::Completed) && dtls_up {
            PeerConnectionState::Connected
        } else if self.ice_state == Ice::New && self.dtls.is_none() {
            PeerConnectionState::New
        } else {
            PeerConnectionState::Connecting
        };
        if state != self.state {
            debug!(from = ?self.state, to = ?state, "connection state");
            self.state = state;
            self.push_event(Event::ConnectionState(state));
        }
    }
}

/// Turns the configuration's ICE servers into the agent's STUN and TURN server lists.
fn ice_config(config: &RtcConfiguration) -> Result<IceConfig, Error> {
    let mut ice = IceConfig {
        lite: config.ice_lite,
        policy: match config.ice_transport_policy {
            IceTransportPolicy::All => TransportPolicy::All,
            IceTransportPolicy::Relay => TransportPolicy::Relay,
        },
        ..IceConfig::default()
    };
    for server in &config.ice_servers {
        for url in &server.urls {
            let parsed = IceServerUrl::parse(url)?;
            let addr = parsed
                .socket_addr()
                .ok_or_else(|| Error::UnresolvedHost(parsed.host.clone()))?;
            match parsed.scheme {
                Scheme::Stun => ice.stun_servers.push(addr),
                Scheme::Stuns => debug!(url, "stuns: is not used for gathering"),
                Scheme::Turn | Scheme::Turns => {
                    let credential = server
                        .credential
                        .as_ref()
                        .ok_or_else(|| Error::MissingTurnCredentials(url.clone()))?;
                    let credentials = match credential {
                        IceCredential::Password { username, password } => {
                            rtcweb_turn::Credentials::LongTerm {
                                username: username.clone(),
                                password: password.clone(),
                            }
                        }
                        IceCredential::RestSecret {
                            secret,
                            user,
                            expiry_unix,
                        } => rtcweb_turn::Credentials::rest(secret, user, *expiry_unix),
                        IceCredential::OAuth {
                            kid,
                            mac_key,
                            access_token,
                        } => rtcweb_turn::Credentials::OAuth {
                            kid: kid.clone(),
                            session_key: mac_key.clone(),
                            token: access_token.clone(),
                        },
                    };
                    let transport = match (parsed.scheme, parsed.transport) {
                        (Scheme::Turns, _) => rtcweb_turn::Protocol::Tls,
                        (_, crate::config::UrlTransport::Tcp) => rtcweb_turn::Protocol::Tcp,
                        _ => rtcweb_turn::Protocol::Udp,
                    };
                    ice.turn_servers.push(rtcweb_turn::ClientConfig::new(
                        addr,
                        transport,
                        credentials,
                    ));
                }
            }
        }
    }
    Ok(ice)
}

impl rtcweb_core::SansIo for PeerConnection {
    type Input<'a> = rtcweb_core::Datagram<'a>;
    type Transmit = Transmit;
    type Event = Event;

    fn handle_input(&mut self, now: Instant, input: rtcweb_core::Datagram<'_>) {
        PeerConnection::handle_input(self, now, input);
    }
    fn handle_timeout(&mut self, now: Instant) {
        PeerConnection::handle_timeout(self, now);
    }
    fn poll_transmit(&mut self, _now: Instant) -> Option<Transmit> {
        PeerConnection::poll_transmit(self)
    }
    fn poll_event(&mut self) -> Option<Event> {
        PeerConnection::poll_event(self)
    }
    fn poll_timeout(&self) -> Option<Instant> {
        PeerConnection::poll_timeout(self)
    }
}
