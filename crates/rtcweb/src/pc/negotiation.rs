//! Offer/answer: the W3C calls, and what applying a description does to ICE and DTLS.
//! [`Negotiation`] is the JSEP state, owned here.

use std::net::IpAddr;
use std::time::Instant;

use rtcweb_core::{Candidate, Transport};
use rtcweb_ice::IceRole;
use rtcweb_jsep::{Jsep, JsepEvent, OfferOptions, TransceiverId, TransceiverInit};
use tracing::debug;

use super::PeerConnection;
use crate::error::Error;
use crate::event::Event;
use crate::signaling::{IceCandidateInit, SdpType, SessionDescription};

/// Offer/answer state.
pub(super) struct Negotiation {
    jsep: Jsep,
    /// The mid candidates are signalled with (the first m= section: BUNDLE), from the first
    /// local description on.
    candidate_mid: Option<String>,
}

impl Negotiation {
    pub(super) fn new(jsep: Jsep) -> Self {
        Self {
            jsep,
            candidate_mid: None,
        }
    }

    pub(super) fn signaling_state(&self) -> rtcweb_jsep::SignalingState {
        self.jsep.signaling_state()
    }

    pub(super) fn transceivers(&self) -> &[rtcweb_jsep::Transceiver] {
        self.jsep.transceivers()
    }

    pub(super) fn candidate_mid(&self) -> Option<&str> {
        self.candidate_mid.as_deref()
    }

    /// A candidate we gathered, for the local description.
    pub(super) fn add_local_candidate(&mut self, candidate: Candidate) {
        self.jsep.add_local_candidate(candidate);
    }

    pub(super) fn end_of_local_candidates(&mut self) {
        self.jsep.end_of_local_candidates();
    }

    /// The first data channel asks for an `m=application` section.
    pub(super) fn add_data_channel(&mut self) {
        self.jsep.add_data_channel();
    }

    /// The current local description's SDP.
    pub(super) fn local_description_sdp(&self) -> Option<String> {
        self.jsep.local_description().map(|d| d.to_sdp())
    }

    pub(super) fn close(&mut self) {
        self.jsep.close();
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

impl PeerConnection {
    /// `createOffer()`.
    pub fn create_offer(&mut self) -> Result<SessionDescription, Error> {
        let sdp = self
            .negotiation
            .jsep
            .create_offer(OfferOptions::default())?;
        Ok(SessionDescription::offer(sdp))
    }

    /// `createOffer({iceRestart: true})`.
    pub fn create_offer_with_ice_restart(&mut self) -> Result<SessionDescription, Error> {
        let sdp = self
            .negotiation
            .jsep
            .create_offer(OfferOptions { ice_restart: true })?;
        Ok(SessionDescription::offer(sdp))
    }

    /// `createAnswer()`.
    pub fn create_answer(&mut self) -> Result<SessionDescription, Error> {
        let sdp = self.negotiation.jsep.create_answer()?;
        Ok(SessionDescription::answer(sdp))
    }

    /// `setLocalDescription(description)`. Gathering starts with the first local
    /// description, as in browsers.
    pub fn set_local_description(
        &mut self,
        now: Instant,
        description: &SessionDescription,
    ) -> Result<(), Error> {
        self.negotiation
            .jsep
            .set_local_description(description.to_jsep())?;
        if description.sdp_type == SdpType::Offer
            && self.negotiation.jsep.remote_description().is_none()
        {
            self.transport.set_ice_role(IceRole::Controlling);
        }
        self.apply_local_credentials(now);
        if self.negotiation.candidate_mid.is_none() {
            self.negotiation.candidate_mid = self.negotiation.first_mid();
        }
        self.transport.start_gathering(now);
        self.after_description(now);
        Ok(())
    }

    /// `setRemoteDescription(description)`.
    pub fn set_remote_description(
        &mut self,
        now: Instant,
        description: &SessionDescription,
    ) -> Result<(), Error> {
        self.negotiation
            .jsep
            .set_remote_description(description.to_jsep())?;
        if description.sdp_type == SdpType::Rollback {
            self.after_description(now);
            return Ok(());
        }
        if description.sdp_type == SdpType::Offer
            && self.negotiation.jsep.local_description().is_none()
        {
            self.transport.set_ice_role(IceRole::Controlled);
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
            self.transport.end_of_remote_candidates(now);
            self.pump(now);
            return Ok(());
        }
        // The W3C string is parsed here, once: JSEP and ICE get the same typed candidate.
        let candidate: Candidate = init.candidate.parse()?;
        if let Some(mid) = init.sdp_mid.as_deref() {
            // Keep the remote description complete; an unknown mid is not fatal for ICE.
            let _ = self
                .negotiation
                .jsep
                .add_remote_candidate(mid, candidate.clone());
        }
        if candidate.transport != Transport::Udp {
            // A well-formed candidate this agent cannot use (ICE-TCP is not implemented):
            // `addIceCandidate` succeeds for it in browsers too, and Firefox trickles TCP
            // candidates in every call. It stays in the remote description, unpaired.
            debug!(candidate = %init.candidate, "TCP candidate kept, not paired (no ICE-TCP)");
            return Ok(());
        }
        self.transport.add_remote_candidate(now, candidate)?;
        self.pump(now);
        Ok(())
    }

    /// The answer to [`Event::ResolveMdns`].
    pub fn resolve_mdns(&mut self, now: Instant, name: &str, ip: IpAddr) {
        self.transport.resolve_mdns(now, name, ip);
        self.pump(now);
    }

    /// `restartIce()`: the next offer carries new ICE credentials.
    pub fn restart_ice(&mut self) {
        self.negotiation.jsep.restart_ice();
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
        let id = self.negotiation.jsep.add_transceiver(init);
        if let Some(ssrc) = self
            .negotiation
            .jsep
            .transceiver(id)
            .and_then(|t| t.send.as_ref()?.ssrc)
        {
            self.media.record_sender(id, ssrc);
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
            .negotiation
            .jsep
            .transceiver(transceiver)
            .ok_or(Error::Unknown("transceiver"))?;
        if direction.sends() && t.send.is_none() {
            let send = self.media.new_send_params(&t.kind);
            let ssrc = send.ssrc;
            self.negotiation.jsep.set_send(transceiver, Some(send))?;
            if let Some(ssrc) = ssrc {
                self.media.record_sender(transceiver, ssrc);
            }
        }
        self.negotiation
            .jsep
            .set_direction(transceiver, direction)?;
        self.drain_jsep_events();
        Ok(())
    }

    /// Local credentials changed (a restart offer or answer was applied): restart ICE.
    fn apply_local_credentials(&mut self, now: Instant) {
        let creds = self.negotiation.jsep.local_ice_credentials().clone();
        if self.transport.local_ice_ufrag() != creds.ufrag
            && let Ok(c) = rtcweb_ice::Credentials::new(&creds.ufrag, &creds.pwd)
        {
            debug!("ICE restart with new local credentials");
            self.negotiation.jsep.restart_local_candidates();
            self.transport.restart_ice(now, c);
        }
    }

    /// Hands the remote description's ICE parameters to the agent: credentials (a change
    /// is the peer restarting ICE), lite, candidates, end-of-candidates.
    fn apply_remote_ice(&mut self, now: Instant) -> Result<(), Error> {
        let Some(remote) = self.negotiation.jsep.remote_description() else {
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
                .transport
                .remote_ice_credentials()
                .is_some_and(|old| *old != creds);
            if restarted {
                // The peer restarted; our answer carries new credentials too. JSEP drew
                // them with this offer: the agent restarts once, with them, and keeps the
                // offer's credentials and candidates. (Restarting with the old ones here
                // made setting the answer restart the agent a second time, which forgot
                // the offer's credentials: the answerer never connected again.)
                let ours = self
                    .negotiation
                    .jsep
                    .pending_answer_ice_credentials()
                    .unwrap_or(self.negotiation.jsep.local_ice_credentials())
                    .clone();
                let fresh = rtcweb_ice::Credentials::new(&ours.ufrag, &ours.pwd)?;
                self.negotiation.jsep.restart_local_candidates();
                self.transport.restart_ice(now, fresh);
            }
            self.transport.set_remote_ice(now, lite, creds);
        }
        for c in candidates {
            // Every candidate parsed with the description (one that did not refused it);
            // what the agent cannot use (another component, TCP) is left out here.
            if let Err(e) = self.transport.add_remote_candidate(now, c) {
                debug!(error = %e, "remote candidate not used");
            }
        }
        if end {
            self.transport.end_of_remote_candidates(now);
        }
        Ok(())
    }

    /// After any description: take the negotiated DTLS parameters, raise JSEP's events.
    fn after_description(&mut self, now: Instant) {
        if let Some(n) = self.negotiation.jsep.negotiated() {
            let transport = n.media.iter().find(|m| !m.rejected);
            // JSEP refused a description without a usable fingerprint, so a negotiated
            // transport always has one.
            if let Some(m) = transport
                && !m.remote_fingerprints.is_empty()
            {
                self.transport
                    .set_dtls_params(m.dtls_role, &m.remote_fingerprints);
            }
            self.media.on_negotiated(
                now,
                n,
                self.negotiation.jsep.transceivers(),
                &mut self.outbox,
            );
            if let Some(sctp) = n
                .media
                .iter()
                .find(|m| !m.rejected)
                .and(n.media.iter().find_map(|m| m.sctp.filter(|_| !m.rejected)))
            {
                self.data.set_params(sctp);
            }
        }
        // A data section negotiated after DTLS came up (a renegotiation that added it):
        // the association starts now, not at a DTLS connect that already happened.
        if self.transport.dtls_connected() {
            self.start_sctp(now);
        }
        self.drain_jsep_events();
        self.pump(now);
    }

    pub(super) fn drain_jsep_events(&mut self) {
        while let Some(e) = self.negotiation.jsep.poll_event() {
            match e {
                JsepEvent::SignalingStateChange(s) => self.push_event(Event::SignalingState(s)),
                JsepEvent::NegotiationNeeded => self.push_event(Event::NegotiationNeeded),
                _ => {}
            }
        }
    }
}
