//! Moving bytes between the layers: RFC 7983 demultiplexing of what arrives, routing of
//! what DTLS and SRTP produce over the selected ICE pair, timers, and ICE/DTLS events.
//! [`Transport`] is the ICE agent and the DTLS endpoint's life, owned here.

use std::net::SocketAddr;
use std::time::Instant;

use rtcweb_core::{Candidate, Fingerprint, Role};
use rtcweb_dtls::{DtlsContext, DtlsEndpoint, DtlsVersion, Event as DtlsEvent};
use rtcweb_ice::{ConnectionState as IceState, IceAgent, IceEvent, IceRole, Received};
use tracing::{debug, warn};

use super::PeerConnection;
use crate::demux::{Demux, classify};
use crate::error::Error;
use crate::event::{Event, PeerConnectionState, Protocol, Transmit};
use crate::signaling::IceCandidateInit;
use rtcweb_core::Datagram;

/// DTLS datagrams kept from before the answer (see `hold_early_dtls`).
const MAX_EARLY_DTLS_DATAGRAMS: usize = 4;
/// Their total size.
const MAX_EARLY_DTLS_BYTES: usize = 8 * 1024;

/// The transport of the (bundled) connection: the ICE agent and the DTLS endpoint over it.
pub(super) struct Transport {
    ice: IceAgent,
    /// The agent's connection state, as its last event said.
    ice_state: IceState,
    gathering: Gathering,
    dtls_context: DtlsContext,
    dtls: Dtls,
}

/// Whether candidates are gathered yet.
enum Gathering {
    /// Before the first local description: the owner's addresses wait here.
    NotStarted {
        pending: Vec<SocketAddr>,
    },
    Started,
}

/// The life of the DTLS endpoint.
enum Dtls {
    /// No endpoint yet. It is made once a negotiation fixed `params` (our DTLS role and the
    /// peer's fingerprints) and ICE has a pair; records that arrive before then are held in
    /// `early` (see `hold_early_dtls`).
    Waiting {
        params: Option<(Role, Vec<Fingerprint>)>,
        early: Vec<Vec<u8>>,
    },
    /// The endpoint runs; `version` is set once it connected.
    Running {
        /// Boxed: the endpoint is large, and the other states need none of its size.
        endpoint: Box<DtlsEndpoint>,
        role: Role,
        version: Option<DtlsVersion>,
    },
    /// The endpoint failed, or could not be made: the connection failed.
    Failed { version: Option<DtlsVersion> },
    /// The connection closed before an endpoint was made.
    Closed,
}

impl Transport {
    pub(super) fn new(ice: IceAgent, dtls_context: DtlsContext) -> Self {
        Self {
            ice,
            ice_state: IceState::New,
            gathering: Gathering::NotStarted {
                pending: Vec::new(),
            },
            dtls_context,
            dtls: Dtls::Waiting {
                params: None,
                early: Vec::new(),
            },
        }
    }

    /// Adds a host address, or keeps it until gathering starts; whether it was added now.
    pub(super) fn add_local_address(&mut self, now: Instant, addr: SocketAddr) -> bool {
        match &mut self.gathering {
            Gathering::Started => {
                self.ice.add_host_address(now, addr);
                true
            }
            Gathering::NotStarted { pending } => {
                if !pending.contains(&addr) {
                    pending.push(addr);
                }
                false
            }
        }
    }

    /// Starts gathering (once), with the addresses given before.
    pub(super) fn start_gathering(&mut self, now: Instant) {
        if let Gathering::NotStarted { pending } =
            std::mem::replace(&mut self.gathering, Gathering::Started)
        {
            for addr in pending {
                self.ice.add_host_address(now, addr);
            }
            self.ice.start_gathering(now);
        }
    }

    pub(super) fn ice_state(&self) -> IceState {
        self.ice_state
    }

    pub(super) fn gathering_state(&self) -> rtcweb_ice::GatheringState {
        self.ice.gathering_state()
    }

    pub(super) fn selected_pair(&self) -> Option<(Candidate, Candidate)> {
        self.ice
            .selected_pair()
            .map(|(l, r)| (l.clone(), r.clone()))
    }

    pub(super) fn pair_stats(&self) -> Vec<rtcweb_ice::PairStats> {
        self.ice.pair_stats()
    }

    /// Takes the ICE role a description implies, unless we are ICE-lite (always controlled).
    pub(super) fn set_ice_role(&mut self, role: IceRole) {
        if !self.ice.is_lite() {
            self.ice.set_role(role);
        }
    }

    pub(super) fn local_ice_ufrag(&self) -> &str {
        &self.ice.local_credentials().ufrag
    }

    pub(super) fn remote_ice_credentials(&self) -> Option<&rtcweb_ice::Credentials> {
        self.ice.remote_credentials()
    }

    /// Restarts ICE with new local credentials.
    pub(super) fn restart_ice(&mut self, now: Instant, local: rtcweb_ice::Credentials) {
        self.ice.restart(now, local);
    }

    /// The peer's ICE parameters from its description.
    pub(super) fn set_remote_ice(
        &mut self,
        now: Instant,
        lite: bool,
        credentials: rtcweb_ice::Credentials,
    ) {
        self.ice.set_remote_lite(lite);
        self.ice.set_remote_credentials(now, credentials);
    }

    pub(super) fn add_remote_candidate(
        &mut self,
        now: Instant,
        candidate: Candidate,
    ) -> Result<(), Error> {
        self.ice.add_remote_candidate(now, candidate)?;
        Ok(())
    }

    pub(super) fn end_of_remote_candidates(&mut self, now: Instant) {
        self.ice.end_of_remote_candidates(now);
    }

    pub(super) fn resolve_mdns(&mut self, now: Instant, name: &str, ip: std::net::IpAddr) {
        self.ice.resolve_mdns(now, name, ip);
    }

    /// Takes the DTLS role and the peer's fingerprints from the first negotiation that has
    /// them; later ones do not change them.
    pub(super) fn set_dtls_params(&mut self, role: Role, fingerprints: &[Fingerprint]) {
        if let Dtls::Waiting { params, .. } = &mut self.dtls
            && params.is_none()
        {
            *params = Some((role, fingerprints.to_vec()));
        }
    }

    /// Our DTLS role, once the endpoint runs.
    pub(super) fn dtls_role(&self) -> Option<Role> {
        match &self.dtls {
            Dtls::Running { role, .. } => Some(*role),
            _ => None,
        }
    }

    pub(super) fn dtls_connected(&self) -> bool {
        matches!(&self.dtls, Dtls::Running { endpoint, .. }
            if *endpoint.state() == rtcweb_dtls::State::Connected)
    }

    pub(super) fn dtls_version(&self) -> Option<DtlsVersion> {
        match &self.dtls {
            Dtls::Running { version, .. } | Dtls::Failed { version } => *version,
            _ => None,
        }
    }

    /// The W3C `dtlsState`.
    pub(super) fn dtls_state_name(&self) -> &'static str {
        match &self.dtls {
            Dtls::Waiting { .. } => "new",
            Dtls::Failed { .. } => "failed",
            Dtls::Closed => "closed",
            Dtls::Running { endpoint, .. } => match endpoint.state() {
                rtcweb_dtls::State::Handshaking => "connecting",
                rtcweb_dtls::State::Connected => "connected",
                rtcweb_dtls::State::Closed => "closed",
                _ => "failed",
            },
        }
    }

    /// Encrypts an SCTP packet; its record is then in [`Transport::poll_dtls_transmit`].
    /// Without a running endpoint the packet is dropped.
    pub(super) fn dtls_send(&mut self, packet: &[u8]) {
        if let Dtls::Running { endpoint, .. } = &mut self.dtls
            && let Err(e) = endpoint.send(packet)
        {
            debug!(error = %e, "SCTP packet not sent over DTLS");
        }
    }

    pub(super) fn poll_dtls_transmit(&mut self) -> Option<Vec<u8>> {
        match &mut self.dtls {
            Dtls::Running { endpoint, .. } => endpoint.poll_transmit(),
            _ => None,
        }
    }

    /// No endpoint will be made any more: held records are dropped.
    pub(super) fn drop_early_dtls(&mut self) {
        if matches!(self.dtls, Dtls::Waiting { .. }) {
            self.dtls = Dtls::Closed;
        }
    }

    /// Sends `close_notify` on a running endpoint.
    pub(super) fn close_dtls(&mut self) {
        if let Dtls::Running { endpoint, .. } = &mut self.dtls {
            endpoint.close();
        }
    }

    pub(super) fn close_ice(&mut self, now: Instant) {
        self.ice.close(now);
    }

    /// `connectionState` of an open connection (W3C: ICE and DTLS together).
    pub(super) fn connection_state(&self) -> PeerConnectionState {
        if matches!(self.dtls, Dtls::Failed { .. }) || self.ice_state == IceState::Failed {
            PeerConnectionState::Failed
        } else if self.ice_state == IceState::Disconnected {
            PeerConnectionState::Disconnected
        } else if matches!(self.ice_state, IceState::Connected | IceState::Completed)
            && self.dtls_connected()
        {
            PeerConnectionState::Connected
        } else if self.ice_state == IceState::New && matches!(self.dtls, Dtls::Waiting { .. }) {
            PeerConnectionState::New
        } else {
            PeerConnectionState::Connecting
        }
    }

    fn poll_timeout(&self) -> Option<Instant> {
        let dtls = match &self.dtls {
            Dtls::Running { endpoint, .. } => endpoint.poll_timeout(),
            _ => None,
        };
        [self.ice.poll_timeout(), dtls].into_iter().flatten().min()
    }

    fn handle_timeout(&mut self, now: Instant) {
        if self.ice.poll_timeout().is_some_and(|t| t <= now) {
            self.ice.handle_timeout(now);
        }
        if let Dtls::Running { endpoint, .. } = &mut self.dtls
            && endpoint.poll_timeout().is_some_and(|t| t <= now)
        {
            endpoint.handle_timeout(now);
        }
    }
}

impl PeerConnection {
    /// Feeds a datagram that arrived on one of our sockets (or, for a TURN server reached
    /// over TCP/TLS, the stream octets from that server).
    pub fn handle_input(&mut self, now: Instant, input: Datagram<'_>) {
        if self.closed {
            return;
        }
        self.outbox.count_received(input.payload.len());
        if let Received::Data(data) = self.transport.ice.handle_input(now, input) {
            self.demux(now, data);
        }
        self.pump(now);
    }

    fn demux(&mut self, now: Instant, data: &[u8]) {
        match classify(data) {
            Demux::Dtls => {
                self.ensure_dtls(now);
                match &mut self.transport.dtls {
                    Dtls::Running { endpoint, .. } => endpoint.handle_input(now, data),
                    Dtls::Waiting { early, .. } => hold_early_dtls(early, data),
                    Dtls::Failed { .. } | Dtls::Closed => {}
                }
            }
            Demux::Rtp => self.receive_srtp(now, data),
            _ => {}
        }
    }

    /// Handles whatever is due at `now`.
    pub fn handle_timeout(&mut self, now: Instant) {
        self.transport.handle_timeout(now);
        self.data.handle_timeout(now);
        self.handle_media_timeout(now);
        self.pump(now);
    }

    /// When [`PeerConnection::handle_timeout`] must next be called.
    pub fn poll_timeout(&self) -> Option<Instant> {
        [
            self.transport.poll_timeout(),
            self.data.poll_timeout(),
            self.media_timeout(),
        ]
        .into_iter()
        .flatten()
        .min()
    }

    /// Moves every layer's output where it belongs. Called after every input.
    pub(super) fn pump(&mut self, now: Instant) {
        self.drain_ice(now);
        self.ensure_dtls(now);
        self.drain_dtls(now);
        self.drain_sctp(now);
        self.drain_ice(now);
        self.update_state();
    }

    fn drain_ice(&mut self, now: Instant) {
        while let Some(event) = self.transport.ice.poll_event() {
            match event {
                IceEvent::LocalCandidate(c) => {
                    // The W3C event carries the candidate as its string; JSEP takes it typed.
                    let init = IceCandidateInit {
                        candidate: c.to_string(),
                        sdp_mid: self.negotiation.candidate_mid().map(str::to_owned),
                        sdp_m_line_index: Some(0),
                        username_fragment: Some(self.transport.local_ice_ufrag().to_owned()),
                    };
                    self.negotiation.add_local_candidate(c);
                    self.push_event(Event::IceCandidate(Some(init)));
                }
                IceEvent::GatheringState(s) => {
                    self.push_event(Event::IceGatheringState(s));
                    if s == rtcweb_ice::GatheringState::Complete {
                        self.negotiation.end_of_local_candidates();
                        self.push_event(Event::IceCandidate(None));
                    }
                }
                IceEvent::ConnectionState(s) => {
                    self.transport.ice_state = s;
                    self.push_event(Event::IceConnectionState(s));
                }
                IceEvent::SelectedPair { local, remote } => {
                    self.push_event(Event::SelectedCandidatePair { local, remote });
                }
                IceEvent::ResolveMdns(name) => {
                    debug!(%name, "remote mDNS candidate needs resolving");
                    self.push_event(Event::ResolveMdns(name));
                }
                // What the peer sent through a TURN relay.
                IceEvent::Data(data) => self.demux(now, &data),
                _ => {}
            }
        }
        while let Some(t) = self.transport.ice.poll_transmit() {
            self.push_transmit(Transmit {
                source: t.source,
                destination: t.destination,
                payload: t.payload,
                protocol: t.protocol,
            });
        }
    }

    /// Creates the DTLS endpoint once an answer fixed the role and fingerprints and ICE has
    /// a pair to send on, in either role: a server that answered a ClientHello before then
    /// would have its reply dropped (no route yet) and wait for the peer's retransmission.
    /// Records that come earlier are held (`hold_early_dtls`) and fed to it then.
    fn ensure_dtls(&mut self, now: Instant) {
        let t = &mut self.transport;
        let Dtls::Waiting {
            params: Some((role, fingerprints)),
            early,
        } = &mut t.dtls
        else {
            return;
        };
        if self.closed || !matches!(t.ice_state, IceState::Connected | IceState::Completed) {
            return;
        }
        let role = *role;
        t.dtls = match DtlsEndpoint::new(&t.dtls_context, role, fingerprints.clone(), now) {
            Ok(mut endpoint) => {
                debug!(?role, held = early.len(), "DTLS endpoint created");
                for datagram in std::mem::take(early) {
                    endpoint.handle_input(now, &datagram);
                }
                Dtls::Running {
                    endpoint: Box::new(endpoint),
                    role,
                    version: None,
                }
            }
            Err(e) => {
                warn!(error = %e, "DTLS endpoint could not be created");
                Dtls::Failed { version: None }
            }
        };
    }

    pub(super) fn drain_dtls(&mut self, now: Instant) {
        let Dtls::Running { endpoint, .. } = &mut self.transport.dtls else {
            return;
        };
        let mut events = Vec::new();
        while let Some(e) = endpoint.poll_event() {
            events.push(e);
        }
        while let Some(datagram) = self.transport.poll_dtls_transmit() {
            self.send_app(now, datagram);
        }
        for e in events {
            match e {
                DtlsEvent::Connected { version, srtp } => {
                    if let Dtls::Running { version: v, .. } = &mut self.transport.dtls {
                        *v = Some(version);
                    }
                    if let Some(keys) = srtp {
                        self.srtp.start(keys);
                    }
                    self.push_event(Event::DtlsConnected {
                        version,
                        srtp_profile: self.srtp.profile(),
                    });
                    self.start_sctp(now);
                }
                DtlsEvent::ApplicationData(data) => self.data.handle_input(now, &data),
                DtlsEvent::Failed(e) => {
                    warn!(error = %e, "DTLS failed");
                    self.transport.dtls = Dtls::Failed {
                        version: self.transport.dtls_version(),
                    };
                }
                DtlsEvent::Closed => {
                    debug!("DTLS closed by the peer");
                }
            }
        }
    }

    /// Sends DTLS records or SRTP packets over the selected pair: straight from the owner's
    /// socket when the pair is direct, through the TURN allocation when it is relayed.
    pub(super) fn send_app(&mut self, now: Instant, payload: Vec<u8>) {
        if let Some((source, destination)) = self.transport.ice.send_route(now) {
            self.push_transmit(Transmit {
                source,
                destination,
                payload,
                protocol: Protocol::Udp,
            });
        } else if self.transport.ice.send_data(now, &payload) {
            self.drain_ice(now);
        }
    }
}

/// Keeps a DTLS record that arrives before the endpoint exists (before the answer fixed role
/// and fingerprints, or before our ICE side has a route): a peer that answers
/// `a=setup:active` (Chromium, libdatachannel) sends its ClientHello as soon as one of its
/// own checks succeeds, often before its answer reaches us. Dropping it would cost a
/// retransmission timeout (1 s). Bounded: a ClientHello flight is one or two datagrams,
/// and what does not fit is dropped (the peer retransmits).
fn hold_early_dtls(early: &mut Vec<Vec<u8>>, data: &[u8]) {
    let held: usize = early.iter().map(Vec::len).sum();
    if early.len() < MAX_EARLY_DTLS_DATAGRAMS && held + data.len() <= MAX_EARLY_DTLS_BYTES {
        early.push(data.to_vec());
    }
}
