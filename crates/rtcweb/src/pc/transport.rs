//! Moving bytes between the layers: RFC 7983 demultiplexing of what arrives, routing of
//! what DTLS and SRTP produce over the selected ICE pair, timers, and ICE/DTLS events.

use std::time::Instant;

use rtcweb_dtls::{DtlsEndpoint, Event as DtlsEvent};
use rtcweb_ice::{IceEvent, Received};
use tracing::{debug, warn};

use super::PeerConnection;
use crate::demux::{Demux, classify};
use crate::event::{Event, Protocol, Transmit};
use crate::signaling::IceCandidateInit;
use rtcweb_core::Datagram;

/// DTLS datagrams kept from before the answer (see `hold_early_dtls`).
const MAX_EARLY_DTLS_DATAGRAMS: usize = 4;
/// Their total size.
const MAX_EARLY_DTLS_BYTES: usize = 8 * 1024;

impl PeerConnection {
    /// Feeds a datagram that arrived on one of our sockets (or, for a TURN server reached
    /// over TCP/TLS, the stream octets from that server).
    pub fn handle_input(&mut self, now: Instant, input: Datagram<'_>) {
        if self.closed {
            return;
        }
        self.stats.bytes_received += input.payload.len() as u64;
        self.stats.packets_received += 1;
        if let Received::Data(data) = self.ice.handle_input(now, input) {
            self.demux(now, data);
        }
        self.pump(now);
    }

    fn demux(&mut self, now: Instant, data: &[u8]) {
        match classify(data) {
            Demux::Dtls => {
                self.ensure_dtls(now);
                if let Some(dtls) = self.dtls.as_mut() {
                    dtls.handle_input(now, data);
                } else {
                    self.hold_early_dtls(data);
                }
            }
            Demux::Rtp => self.receive_srtp(now, data),
            _ => {}
        }
    }

    /// Handles whatever is due at `now`.
    pub fn handle_timeout(&mut self, now: Instant) {
        if self.ice.poll_timeout().is_some_and(|t| t <= now) {
            self.ice.handle_timeout(now);
        }
        if let Some(dtls) = self.dtls.as_mut()
            && dtls.poll_timeout().is_some_and(|t| t <= now)
        {
            dtls.handle_timeout(now);
        }
        if let Some(sctp) = self.data.sctp.as_mut()
            && sctp.poll_timeout().is_some_and(|t| t <= now)
        {
            sctp.handle_timeout(now);
        }
        self.handle_media_timeout(now);
        self.pump(now);
    }

    /// When [`PeerConnection::handle_timeout`] must next be called.
    pub fn poll_timeout(&self) -> Option<Instant> {
        [
            self.ice.poll_timeout(),
            self.dtls.as_ref().and_then(|d| d.poll_timeout()),
            self.data.sctp.as_ref().and_then(|s| s.poll_timeout()),
            // Data sent and not yet packetized: due now.
            self.data.flush_at,
            self.media_timeout(),
        ]
        .into_iter()
        .flatten()
        .min()
    }

    /// Moves every layer's output where it belongs. Called after every input.
    pub(crate) fn pump(&mut self, now: Instant) {
        self.drain_ice(now);
        self.ensure_dtls(now);
        self.drain_dtls(now);
        self.drain_sctp(now);
        self.drain_ice(now);
        self.update_state();
    }

    fn drain_ice(&mut self, now: Instant) {
        while let Some(event) = self.ice.poll_event() {
            match event {
                IceEvent::LocalCandidate(c) => {
                    // The W3C event carries the candidate as its string; JSEP takes it typed.
                    let init = IceCandidateInit {
                        candidate: c.to_string(),
                        sdp_mid: self.candidate_mid.clone(),
                        sdp_m_line_index: Some(0),
                        username_fragment: Some(self.ice.local_credentials().ufrag.clone()),
                    };
                    self.jsep.add_local_candidate(c);
                    self.push_event(Event::IceCandidate(Some(init)));
                }
                IceEvent::GatheringState(s) => {
                    self.push_event(Event::IceGatheringState(s));
                    if s == rtcweb_ice::GatheringState::Complete {
                        self.jsep.end_of_local_candidates();
                        self.push_event(Event::IceCandidate(None));
                    }
                }
                IceEvent::ConnectionState(s) => {
                    self.ice_state = s;
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
        while let Some(t) = self.ice.poll_transmit() {
            self.push_transmit(Transmit {
                source: t.source,
                destination: t.destination,
                payload: t.payload,
                protocol: t.protocol,
            });
        }
        let _ = now;
    }

    /// Creates the DTLS endpoint once an answer fixed the role and fingerprints and ICE has
    /// a pair to send on, in either role: a server that answered a ClientHello before then
    /// would have its reply dropped (no route yet) and wait for the peer's retransmission.
    /// Records that come earlier are held (`hold_early_dtls`) and fed to it then.
    pub(crate) fn ensure_dtls(&mut self, now: Instant) {
        if self.dtls.is_some() || self.closed {
            return;
        }
        let Some((role, fingerprints)) = self.dtls_params.clone() else {
            return;
        };
        let ice_up = matches!(
            self.ice_state,
            rtcweb_ice::ConnectionState::Connected | rtcweb_ice::ConnectionState::Completed
        );
        if !ice_up {
            return;
        }
        match DtlsEndpoint::new(&self.dtls_context, role, fingerprints, now) {
            Ok(mut d) => {
                debug!(?role, held = self.early_dtls.len(), "DTLS endpoint created");
                for datagram in std::mem::take(&mut self.early_dtls) {
                    d.handle_input(now, &datagram);
                }
                self.dtls = Some(d);
            }
            Err(e) => {
                warn!(error = %e, "DTLS endpoint could not be created");
                self.dtls_failed = true;
            }
        }
    }

    /// Keeps DTLS records that arrive before the endpoint exists (before the answer fixed
    /// role and fingerprints, or before our ICE side has a route): a peer that answers
    /// `a=setup:active` (Chromium, libdatachannel) sends its ClientHello as soon as one of
    /// its own checks succeeds, often before its answer reaches us. Dropping it would cost
    /// a retransmission timeout (1 s). Bounded: a ClientHello flight is one or two
    /// datagrams, and what does not fit is dropped (the peer retransmits).
    fn hold_early_dtls(&mut self, data: &[u8]) {
        let held: usize = self.early_dtls.iter().map(Vec::len).sum();
        if !self.closed
            && self.early_dtls.len() < MAX_EARLY_DTLS_DATAGRAMS
            && held + data.len() <= MAX_EARLY_DTLS_BYTES
        {
            self.early_dtls.push(data.to_vec());
        }
    }

    pub(crate) fn drain_dtls(&mut self, now: Instant) {
        let Some(dtls) = self.dtls.as_mut() else {
            return;
        };
        let mut events = Vec::new();
        while let Some(e) = dtls.poll_event() {
            events.push(e);
        }
        while let Some(datagram) = self.dtls.as_mut().and_then(|d| d.poll_transmit()) {
            self.send_app(now, datagram);
        }
        for e in events {
            match e {
                DtlsEvent::Connected { version, srtp } => {
                    self.dtls_version = Some(version);
                    if let Some(keys) = srtp {
                        self.start_srtp(keys);
                    }
                    self.push_event(Event::DtlsConnected {
                        version,
                        srtp_profile: self.srtp_profile,
                    });
                    self.start_sctp(now);
                }
                DtlsEvent::ApplicationData(data) => self.sctp_input(now, &data),
                DtlsEvent::Failed(e) => {
                    warn!(error = %e, "DTLS failed");
                    self.dtls_failed = true;
                }
                DtlsEvent::Closed => {
                    debug!("DTLS closed by the peer");
                }
            }
        }
    }

    /// Sends DTLS records or SRTP packets over the selected pair: straight from the owner's
    /// socket when the pair is direct, through the TURN allocation when it is relayed.
    pub(crate) fn send_app(&mut self, now: Instant, payload: Vec<u8>) {
        if let Some((source, destination)) = self.ice.send_route(now) {
            self.push_transmit(Transmit {
                source,
                destination,
                payload,
                protocol: Protocol::Udp,
            });
        } else if self.ice.send_data(now, &payload) {
            self.drain_ice(now);
        }
    }

    /// Keeps the SRTP keys; the session is made when media first needs it
    /// ([`PeerConnection::srtp_session`]).
    fn start_srtp(&mut self, keys: rtcweb_dtls::SrtpKeyingMaterial) {
        match rtcweb_srtp::ProtectionProfile::from_id(keys.profile.id()) {
            Ok(profile) => {
                self.srtp_profile = Some(profile.name());
                self.srtp_keys = Some(keys);
            }
            Err(e) => warn!(error = %e, "SRTP profile not supported"),
        }
    }

    /// The SRTP session, made from the DTLS keys on first use; `None` before DTLS is up.
    pub(crate) fn srtp_session(&mut self) -> Option<&mut rtcweb_srtp::Session> {
        if self.srtp.is_none() {
            let keys = self.srtp_keys.take()?;
            let result =
                rtcweb_srtp::ProtectionProfile::from_id(keys.profile.id()).and_then(|profile| {
                    let local =
                        rtcweb_srtp::MasterKey::new(profile, &keys.local.key, &keys.local.salt)?;
                    let remote =
                        rtcweb_srtp::MasterKey::new(profile, &keys.remote.key, &keys.remote.salt)?;
                    // Video needs a wider replay window than the default 64 (RTX and
                    // reordering).
                    let config = rtcweb_srtp::Config::default().with_replay_window(512);
                    rtcweb_srtp::Session::new(profile, &local, &remote, config)
                });
            match result {
                Ok(session) => self.srtp = Some(Box::new(session)),
                Err(e) => {
                    warn!(error = %e, "SRTP session could not be created");
                    return None;
                }
            }
        }
        self.srtp.as_deref_mut()
    }
}
