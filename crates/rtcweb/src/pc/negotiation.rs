//! Offer/answer: the W3C calls, and what applying a description does to ICE and DTLS.

use std::net::IpAddr;
use std::time::Instant;

use rtcweb_core::{Candidate, Transport};
use rtcweb_ice::IceRole;
use rtcweb_jsep::{JsepEvent, OfferOptions, TransceiverId, TransceiverInit};
use tracing::debug;

use super::PeerConnection;
use crate::error::Error;
use crate::event::Event;
use crate::signaling::{IceCandidateInit, SdpType, SessionDescription};

impl PeerConnection {
    /// `createOffer()`.
    pub fn create_offer(&mut self) -> Result<SessionDescription, Error> {
        let sdp = self.jsep.create_offer(OfferOptions::default())?;
        Ok(SessionDescription::offer(sdp))
    }

    /// `createOffer({iceRestart: true})`.
    pub fn create_offer_with_ice_restart(&mut self) -> Result<SessionDescription, Error> {
        let sdp = self.jsep.create_offer(OfferOptions { ice_restart: true })?;
        Ok(SessionDescription::offer(sdp))
    }

    /// `createAnswer()`.
    pub fn create_answer(&mut self) -> Result<SessionDescription, Error> {
        let sdp = self.jsep.create_answer()?;
        Ok(SessionDescription::answer(sdp))
    }

    /// `setLocalDescription(description)`. Gathering starts with the first local
    /// description, as in browsers.
    pub fn set_local_description(
        &mut self,
        now: Instant,
        description: &SessionDescription,
    ) -> Result<(), Error> {
        self.jsep.set_local_description(description.to_jsep())?;
        if description.sdp_type == SdpType::Offer
            && !self.ice.is_lite()
            && self.jsep.remote_description().is_none()
        {
            self.ice.set_role(IceRole::Controlling);
        }
        self.apply_local_credentials(now);
        if self.candidate_mid.is_none() {
            self.candidate_mid = self.first_mid();
        }
        if !self.gathering_started {
            self.gathering_started = true;
            for addr in std::mem::take(&mut self.pending_addresses) {
                self.ice.add_host_address(now, addr);
            }
            self.ice.start_gathering(now);
        }
        self.after_description(now);
        Ok(())
    }

    /// `setRemoteDescription(description)`.
    pub fn set_remote_description(
        &mut self,
        now: Instant,
        description: &SessionDescription,
    ) -> Result<(), Error> {
        self.jsep.set_remote_description(description.to_jsep())?;
        if description.sdp_type == SdpType::Rollback {
            self.after_description(now);
            return Ok(());
        }
        if description.sdp_type == SdpType::Offer
            && !self.ice.is_lite()
            && self.jsep.local_description().is_none()
        {
            self.ice.set_role(IceRole::Controlled);
        }
        self.apply_remote_ice(now)?;
        self.after_description(now);
        Ok(())
    }

    /// `addIceCandidate(candidate)`: an empty candidate string is end-of-candidates.
    pub fn add_ice_candidate(
        &mut self,
        now: Instant,
        init: &IceCandidateInit,
    ) -> Result<(), Error> {
        if init.candidate.trim().is_empty() {
            self.ice.end_of_remote_candidates(now);
            self.pump(now);
            return Ok(());
        }
        // The W3C string is parsed here, once: JSEP and ICE get the same typed candidate.
        let candidate: Candidate = init.candidate.parse()?;
        if let Some(mid) = init.sdp_mid.as_deref() {
            // Keep the remote description complete; an unknown mid is not fatal for ICE.
            let _ = self.jsep.add_remote_candidate(mid, candidate.clone());
        }
        if !self.remote_section_carries_transport(init) {
            // A candidate of an m= section bundled into another's transport (RFC 8843): a
            // peer that gathers per section until BUNDLE is negotiated (Firefox's default
            // `balanced` policy) trickles candidates of transports it closes once the answer
            // accepts BUNDLE. Paired, one could be nominated while the peer runs DTLS on
            // the BUNDLE tag's transport, and our records would go to a closed socket.
            debug!(candidate = %init.candidate, mid = ?init.sdp_mid, "candidate of a bundled m= section kept, not paired");
            return Ok(());
        }
        if candidate.transport != Transport::Udp {
            // A well-formed candidate this agent cannot use (ICE-TCP is not implemented):
            // `addIceCandidate` succeeds for it in browsers too, and Firefox trickles TCP
            // candidates in every call. It stays in the remote description, unpaired.
            debug!(candidate = %init.candidate, "TCP candidate kept, not paired (no ICE-TCP)");
            return Ok(());
        }
        self.ice.add_remote_candidate(now, candidate)?;
        self.pump(now);
        Ok(())
    }

    /// The answer to [`Event::ResolveMdns`].
    pub fn resolve_mdns(&mut self, now: Instant, name: &str, ip: IpAddr) {
        self.ice.resolve_mdns(now, name, ip);
        self.pump(now);
    }

    /// `restartIce()`: the next offer carries new ICE credentials.
    pub fn restart_ice(&mut self) {
        self.jsep.restart_ice();
        self.drain_jsep_events();
    }

    /// `addTransceiver(kind, {direction})`.
    pub fn add_transceiver(
        &mut self,
        kind: rtcweb_jsep::sdp::MediaKind,
        direction: rtcweb_jsep::sdp::Direction,
    ) -> TransceiverId {
        let mut init = TransceiverInit::new(kind, direction);
        if matches!(
            direction,
            rtcweb_jsep::sdp::Direction::SendRecv | rtcweb_jsep::sdp::Direction::SendOnly
        ) {
            let send = self.media.new_send_params(&init.kind);
            init.send = Some(send);
        }
        let id = self.jsep.add_transceiver(init);
        if let Some(ssrc) = self
            .jsep
            .transceiver(id)
            .and_then(|t| t.send.as_ref()?.ssrc)
        {
            self.media.sending.insert(id, ssrc);
        }
        self.drain_jsep_events();
        id
    }

    /// `transceiver.direction = direction`. A direction that sends gives the transceiver a
    /// sender (SSRC, msid, as `addTrack` would) when it has none: this is how an answerer
    /// sends on a transceiver that the remote offer created (those start `recvonly`).
    pub fn set_direction(
        &mut self,
        transceiver: TransceiverId,
        direction: rtcweb_jsep::sdp::Direction,
    ) -> Result<(), Error> {
        let t = self
            .jsep
            .transceiver(transceiver)
            .ok_or(Error::Unknown("transceiver"))?;
        if direction.sends() && t.send.is_none() {
            let send = self.media.new_send_params(&t.kind);
            let ssrc = send.ssrc;
            self.jsep.set_send(transceiver, Some(send))?;
            if let Some(ssrc) = ssrc {
                self.media.sending.insert(transceiver, ssrc);
            }
        }
        self.jsep.set_direction(transceiver, direction)?;
        self.drain_jsep_events();
        Ok(())
    }

    /// Local credentials changed (a restart offer or answer was applied): restart ICE.
    fn apply_local_credentials(&mut self, now: Instant) {
        let creds = self.jsep.local_ice_credentials().clone();
        if self.ice.local_credentials().ufrag != creds.ufrag
            && let Ok(c) = rtcweb_ice::Credentials::new(&creds.ufrag, &creds.pwd)
        {
            debug!("ICE restart with new local credentials");
            self.jsep.restart_local_candidates();
            self.ice.restart(now, c);
        }
    }

    /// Hands the remote description's ICE parameters to the agent: credentials (a change
    /// is the peer restarting ICE), lite, candidates, end-of-candidates.
    fn apply_remote_ice(&mut self, now: Instant) -> Result<(), Error> {
        let Some(remote) = self.jsep.remote_description() else {
            return Ok(());
        };
        let Some(index) = remote.media.iter().position(|m| !m.is_rejected()) else {
            return Ok(());
        };
        let lite = remote.ice.lite;
        let creds = remote
            .ice_credentials(index)
            .map(|(u, p)| (u.to_owned(), p.to_owned()));
        let section = &remote.media[index];
        let candidates = section.candidates.clone();
        // A peer that does not announce trickle (RFC 8838 section 4) put every candidate in
        // its description: there are no more to come.
        let trickles = remote
            .ice
            .options
            .iter()
            .chain(&section.ice.options)
            .any(|o| o == "trickle");
        let end = section.end_of_candidates || !trickles;
        if let Some((ufrag, pwd)) = creds {
            let creds = rtcweb_ice::Credentials::new(&ufrag, &pwd)?;
            let restarted = self
                .ice
                .remote_credentials()
                .is_some_and(|old| *old != creds);
            if restarted {
                // The peer restarted; our answer carries new credentials too. JSEP drew
                // them with this offer: the agent restarts once, with them, and keeps the
                // offer's credentials and candidates. (Restarting with the old ones here
                // made setting the answer restart the agent a second time, which forgot
                // the offer's credentials: the answerer never connected again.)
                let ours = self
                    .jsep
                    .pending_answer_ice_credentials()
                    .unwrap_or(self.jsep.local_ice_credentials())
                    .clone();
                let fresh = rtcweb_ice::Credentials::new(&ours.ufrag, &ours.pwd)?;
                self.jsep.restart_local_candidates();
                self.ice.restart(now, fresh);
            }
            self.ice.set_remote_lite(lite);
            self.ice.set_remote_credentials(now, creds);
        }
        for c in candidates {
            // Every candidate parsed with the description (one that did not refused it);
            // what the agent cannot use (another component, TCP) is left out here.
            if let Err(e) = self.ice.add_remote_candidate(now, c) {
                debug!(error = %e, "remote candidate not used");
            }
        }
        if end {
            self.ice.end_of_remote_candidates(now);
        }
        Ok(())
    }

    /// After any description: take the negotiated DTLS parameters, raise JSEP's events.
    fn after_description(&mut self, now: Instant) {
        if let Some(n) = self.jsep.negotiated() {
            let transport = n.media.iter().find(|m| !m.rejected);
            // JSEP refused a description without a usable fingerprint, so a negotiated
            // transport always has one.
            if let Some(m) = transport
                && self.dtls_params.is_none()
                && !m.remote_fingerprints.is_empty()
            {
                self.dtls_params = Some((m.dtls_role, m.remote_fingerprints.clone()));
            }
            self.media
                .on_negotiated(now, n, self.jsep.transceivers(), &mut self.events);
            if let Some(sctp) = n
                .media
                .iter()
                .find(|m| !m.rejected)
                .and(n.media.iter().find_map(|m| m.sctp.filter(|_| !m.rejected)))
            {
                self.data.sctp_params = Some(sctp);
            }
        }
        // A data section negotiated after DTLS came up (a renegotiation that added it):
        // the association starts now, not at a DTLS connect that already happened.
        if self
            .dtls
            .as_ref()
            .is_some_and(|d| *d.state() == rtcweb_dtls::State::Connected)
        {
            self.start_sctp(now);
        }
        self.drain_jsep_events();
        self.pump(now);
    }

    pub(crate) fn drain_jsep_events(&mut self) {
        while let Some(e) = self.jsep.poll_event() {
            match e {
                JsepEvent::SignalingStateChange(s) => self.push_event(Event::SignalingState(s)),
                JsepEvent::NegotiationNeeded => self.push_event(Event::NegotiationNeeded),
                _ => {}
            }
        }
    }

    /// Whether a trickled candidate belongs to the remote m= section whose transport ICE
    /// uses: the first one not rejected, the section `apply_remote_ice` takes candidates
    /// from (under BUNDLE, the tag). A candidate naming no section, or any section before
    /// there is a remote description, is taken as the transport's.
    fn remote_section_carries_transport(&self, init: &IceCandidateInit) -> bool {
        let Some(remote) = self.jsep.remote_description() else {
            return true;
        };
        let Some(index) = remote.media.iter().position(|m| !m.is_rejected()) else {
            return true;
        };
        match (init.sdp_mid.as_deref(), init.sdp_m_line_index) {
            (Some(mid), _) if remote.media.iter().any(|m| m.mid.as_deref() == Some(mid)) => {
                remote.media[index].mid.as_deref() == Some(mid)
            }
            (_, Some(line)) if usize::from(line) < remote.media.len() => usize::from(line) == index,
            _ => true,
        }
    }

    fn first_mid(&self) -> Option<String> {
        self.jsep.local_description().and_then(|d| {
            d.media
                .iter()
                .find(|m| !m.is_rejected())
                .and_then(|m| m.mid.clone())
        })
    }
}
