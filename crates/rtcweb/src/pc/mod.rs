//! The `PeerConnection`: one sans-IO object per peer, composing JSEP, ICE, DTLS, SRTP and
//! SCTP. This module holds its state and the W3C-shaped API; `transport` moves bytes
//! between the layers, `negotiation` applies descriptions to them, and `media` handles RTP.

mod data;
mod media;
mod media_resilience;
mod negotiation;
mod outbox;
mod report;
mod rtp_codecs;
mod rtp_session;
mod srtp;
mod transport;

use std::net::SocketAddr;
use std::time::Instant;

use rtcweb_core::{Candidate, Role};
use rtcweb_dtls::{DtlsConfig, DtlsContext, DtlsVersion};
use rtcweb_ice::{IceAgent, IceConfig, IceRole, TransportPolicy};
use rtcweb_jsep::{Jsep, JsepConfig};
use tracing::debug;

use crate::config::{IceCredential, IceServerUrl, IceTransportPolicy, RtcConfiguration, Scheme};
use crate::error::Error;
use crate::event::{Event, PeerConnectionState, Transmit};

use data::DataState;
pub use outbox::MAX_POOLED_BUFFERS;
pub(crate) use rtp_session::MediaSession;

/// A WebRTC peer connection as a state machine.
///
/// The owner (a driver such as `rtcweb-tokio`, or a test) binds UDP sockets and reports
/// their addresses with [`PeerConnection::add_local_address`], feeds every datagram to
/// [`PeerConnection::handle_input`], sends what [`PeerConnection::poll_transmit`] yields,
/// calls [`PeerConnection::handle_timeout`] at [`PeerConnection::poll_timeout`], and reacts
/// to [`PeerConnection::poll_event`]. Offer/answer follows the W3C API.
///
/// Each concern is a part with its own state, owned (and only changed) by its module:
/// offer/answer in `negotiation`, ICE and DTLS in `transport`, SRTP keys in `srtp`, RTP in
/// `media`, the SCTP association in `data`, the owner's queues in `outbox`. This module
/// composes them and derives `connectionState` from them.
pub struct PeerConnection {
    negotiation: negotiation::Negotiation,
    transport: transport::Transport,
    srtp: srtp::Srtp,
    media: media::MediaState,
    data: DataState,
    outbox: outbox::Outbox,
    /// `close()` was called: the input that makes `state` closed for good.
    closed: bool,
    /// The `connectionState` last reported.
    state: PeerConnectionState,
}

impl std::fmt::Debug for PeerConnection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PeerConnection")
            .field("state", &self.state)
            .field("signaling", &self.negotiation.signaling_state())
            .field("ice", &self.transport.ice_state())
            .finish_non_exhaustive()
    }
}

/// Labels that give each layer its own stream from [`RtcConfiguration::seed`].
const SEED_DTLS: u64 = 1;
const SEED_ICE: u64 = 2;
const SEED_JSEP: u64 = 3;
const SEED_MEDIA: u64 = 4;

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
                rtp_codecs::session_codecs(&config.media);
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
            negotiation: negotiation::Negotiation::new(jsep),
            transport: transport::Transport::new(ice, dtls_context),
            srtp: srtp::Srtp::default(),
            media: media::MediaState::new(config.seed.derive(SEED_MEDIA), config.media.clone()),
            data: DataState::default(),
            outbox: outbox::Outbox::default(),
            closed: false,
            state: PeerConnectionState::New,
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
        if self.transport.add_local_address(now, addr) {
            self.pump(now);
        }
    }

    /// `signalingState`.
    pub fn signaling_state(&self) -> rtcweb_jsep::SignalingState {
        self.negotiation.signaling_state()
    }

    /// `connectionState`.
    pub fn connection_state(&self) -> PeerConnectionState {
        self.state
    }

    /// `iceConnectionState`.
    pub fn ice_connection_state(&self) -> rtcweb_ice::ConnectionState {
        self.transport.ice_state()
    }

    /// `iceGatheringState`.
    pub fn ice_gathering_state(&self) -> rtcweb_ice::GatheringState {
        self.transport.gathering_state()
    }

    /// The selected candidate pair: local, remote.
    pub fn selected_candidate_pair(&self) -> Option<(Candidate, Candidate)> {
        self.transport.selected_pair()
    }

    /// The negotiated DTLS version, once connected.
    pub fn dtls_version(&self) -> Option<DtlsVersion> {
        self.transport.dtls_version()
    }

    /// The SRTP protection profile in use, once DTLS is connected.
    pub fn srtp_profile(&self) -> Option<&'static str> {
        self.srtp.profile()
    }

    /// The transceivers, as JSEP sees them.
    pub fn transceivers(&self) -> &[rtcweb_jsep::Transceiver] {
        self.negotiation.transceivers()
    }

    /// `close()`: stops everything. TURN allocations are released by the transmits that
    /// follow.
    pub fn close(&mut self, now: Instant) {
        if self.closed {
            return;
        }
        self.media.close(now);
        self.flush_media(now);
        self.closed = true;
        self.transport.drop_early_dtls();
        self.data.shutdown(now);
        self.drain_sctp(now);
        self.transport.close_dtls();
        self.drain_dtls(now);
        self.negotiation.close();
        self.transport.close_ice(now);
        self.pump(now);
        self.update_state();
    }

    pub(super) fn push_event(&mut self, event: Event) {
        self.outbox.push_event(event);
    }

    pub(super) fn push_transmit(&mut self, t: Transmit) {
        self.outbox.push_transmit(t);
    }

    /// The next event.
    pub fn poll_event(&mut self) -> Option<Event> {
        if self.outbox.queued_events() == 0 {
            self.flush_data();
        }
        if self.outbox.queued_events() == 0 {
            self.pull_sctp_events();
        }
        self.outbox.pop_event()
    }

    /// The next datagram (or stream octets) to send.
    pub fn poll_transmit(&mut self) -> Option<Transmit> {
        if !self.outbox.has_transmits() {
            self.flush_data();
        }
        self.outbox.pop_transmit()
    }

    /// Hands back a buffer the connection gave out (a [`Transmit`]'s payload once sent, an
    /// [`Event::Rtp`]/[`Event::Rtcp`] packet once read), so that the next RTP packet sent
    /// or received reuses it instead of allocating. Optional: a buffer not handed back is
    /// simply freed. At most [`MAX_POOLED_BUFFERS`] are kept, and none larger than 64 KiB.
    pub fn recycle(&mut self, buffer: Vec<u8>) {
        self.outbox.recycle(buffer);
    }

    /// Recomputes `connectionState` (W3C: ICE and DTLS together).
    pub(super) fn update_state(&mut self) {
        let state = if self.closed {
            PeerConnectionState::Closed
        } else {
            self.transport.connection_state()
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
