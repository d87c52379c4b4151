//! Applying descriptions: the transitions of setLocalDescription and setRemoteDescription,
//! completing an exchange, and rollback.

use super::{Created, Jsep, MLine, Owner, Saved, Transceiver, max_mid_number, normalise, validate};
use crate::jsep::types::{Description, JsepEvent, SdpType, SignalingState};
use crate::sdp::SessionDescription;
use crate::{Error, Result};

impl Jsep {
    pub(super) fn apply_local(&mut self, desc: Description) -> Result<()> {
        match desc.sdp_type {
            SdpType::Rollback => {
                self.rollback();
                Ok(())
            }
            SdpType::Offer => {
                let created = self
                    .last_offer
                    .clone()
                    .ok_or_else(|| Error::InvalidModification("no offer was created".into()))?;
                let sd = self.local_text(&desc.sdp, &created)?;
                self.enter_pending();
                self.adopt_mlines(&created.mlines);
                self.next_mid = self.next_mid.max(max_mid_number(&created.mlines));
                self.pending_local = Some(sd);
                self.set_state(SignalingState::HaveLocalOffer);
                Ok(())
            }
            SdpType::Answer | SdpType::Pranswer => {
                let created = self
                    .last_answer
                    .clone()
                    .ok_or_else(|| Error::InvalidModification("no answer was created".into()))?;
                let sd = self.local_text(&desc.sdp, &created)?;
                let offer = self
                    .pending_remote
                    .clone()
                    .ok_or_else(|| Error::Operation("no remote offer to answer".into()))?;
                let restart = self.ice_changed(&offer);
                self.local_ice = created.ice.clone();
                self.negotiated = Some(self.compute_negotiated(&sd, &offer, false, restart));
                self.push_event(JsepEvent::Negotiated);
                if desc.sdp_type == SdpType::Answer {
                    self.restart_ice = None;
                    self.answer_ice = None;
                    self.finish(sd, offer, false);
                } else {
                    self.pending_local = Some(sd);
                    self.set_state(SignalingState::HaveLocalPranswer);
                }
                Ok(())
            }
        }
    }

    pub(super) fn apply_remote(&mut self, desc: Description) -> Result<()> {
        if desc.sdp_type == SdpType::Rollback {
            self.rollback();
            return Ok(());
        }
        let sd = SessionDescription::parse_with_limits(&desc.sdp, &self.config.limits)?;
        match desc.sdp_type {
            SdpType::Offer => {
                if self.state == SignalingState::HaveLocalOffer {
                    // W3C: an offer while ours is pending rolls ours back (perfect negotiation).
                    self.rollback();
                }
                self.validate_offer(&sd)?;
                self.answer_ice = self.ice_changed(&sd).then(|| {
                    self.restart_ice
                        .clone()
                        .unwrap_or_else(|| super::rng::ice_credentials(&mut self.rng))
                });
                self.enter_pending();
                self.associate_remote_offer(&sd);
                self.pending_remote = Some(sd);
                self.set_state(SignalingState::HaveRemoteOffer);
                Ok(())
            }
            SdpType::Answer | SdpType::Pranswer => {
                let offer = self
                    .pending_local
                    .clone()
                    .ok_or_else(|| Error::Operation("no local offer to match".into()))?;
                validate::answer_matches_offer(&offer, &sd)?;
                let restart = self.ice_changed(&sd) || self.restart_ice.is_some();
                if let Some(created) = &self.last_offer
                    && created.sdp == offer.to_sdp()
                {
                    self.local_ice = created.ice.clone();
                }
                self.negotiated = Some(self.compute_negotiated(&offer, &sd, true, restart));
                self.push_event(JsepEvent::Negotiated);
                if desc.sdp_type == SdpType::Answer {
                    self.restart_ice = None;
                    self.finish(offer, sd, true);
                } else {
                    self.pending_remote = Some(sd);
                    self.set_state(SignalingState::HaveRemotePranswer);
                }
                Ok(())
            }
            SdpType::Rollback => Ok(()),
        }
    }

    /// Completes an exchange: descriptions become current, rejections stop transceivers.
    pub(super) fn finish(
        &mut self,
        local: SessionDescription,
        remote: SessionDescription,
        we_offered: bool,
    ) {
        self.we_offered = we_offered;
        let rejected: Vec<bool> = local
            .media
            .iter()
            .zip(remote.media.iter())
            .map(|(l, r)| l.is_rejected() || r.is_rejected())
            .collect();
        for (i, ml) in self.mlines.iter_mut().enumerate() {
            let is_rejected = rejected.get(i).copied().unwrap_or(true);
            ml.rejected = is_rejected;
            if is_rejected {
                if let Owner::Transceiver(id) = ml.owner
                    && let Some(t) = self.transceivers.iter_mut().find(|t| t.id == id)
                {
                    t.stopped = true;
                    t.stopping = false;
                    t.current_direction = None;
                }
                ml.owner = Owner::Nobody;
            }
        }
        if let Some(n) = &self.negotiated {
            for nm in &n.media {
                if let Some(t) = nm
                    .transceiver
                    .and_then(|id| self.transceivers.iter_mut().find(|t| t.id == id))
                    && !nm.rejected
                {
                    t.current_direction = Some(nm.direction);
                }
            }
        }
        // A stopped transceiver gives up its m= section for good.
        for t in &mut self.transceivers {
            if t.stopped {
                t.mline = None;
            }
        }
        self.current_local = Some(local);
        self.current_remote = Some(remote);
        self.pending_local = None;
        self.pending_remote = None;
        self.saved = None;
        self.set_state(SignalingState::Stable);
    }

    /// Rollback (RFC 8829 section 4.1.10.2): back to the last stable state.
    pub(super) fn rollback(&mut self) {
        if let Some(saved) = self.saved.take() {
            let kept: Vec<Transceiver> = self
                .transceivers
                .iter()
                .filter(|t| {
                    !saved.transceivers.iter().any(|s| s.id == t.id) && !t.created_by_remote
                })
                .map(|t| Transceiver {
                    mid: None,
                    mline: None,
                    ..t.clone()
                })
                .collect();
            let mut restored = saved.transceivers.clone();
            // Keep what the application changed meanwhile (direction, stop, sender).
            for r in &mut restored {
                if let Some(now) = self.transceivers.iter().find(|t| t.id == r.id) {
                    r.direction = now.direction;
                    r.send = now.send.clone();
                    r.stopping = now.stopping;
                }
            }
            restored.extend(kept);
            self.transceivers = restored;
            self.mlines = saved.mlines;
            self.next_mid = saved.next_mid;
        }
        self.pending_local = None;
        self.pending_remote = None;
        self.answer_ice = None;
        self.set_state(SignalingState::Stable);
    }

    pub(super) fn enter_pending(&mut self) {
        if self.state == SignalingState::Stable && self.saved.is_none() {
            self.saved = Some(Box::new(Saved {
                transceivers: self.transceivers.clone(),
                mlines: self.mlines.clone(),
                next_mid: self.next_mid,
            }));
        }
    }

    /// Makes the offer's m= structure ours: mids and m-line indexes of transceivers.
    pub(super) fn adopt_mlines(&mut self, mlines: &[MLine]) {
        for (i, ml) in mlines.iter().enumerate() {
            if let Owner::Transceiver(id) = ml.owner
                && let Some(t) = self.transceivers.iter_mut().find(|t| t.id == id)
            {
                t.mid = ml.mid.clone();
                t.mline = Some(i);
            }
        }
        self.mlines = mlines.to_vec();
    }

    pub(super) fn local_text(&self, text: &str, created: &Created) -> Result<SessionDescription> {
        if !text.is_empty() && normalise(text) != normalise(&created.sdp) {
            return Err(Error::InvalidModification(
                "SDP differs from the one last created".into(),
            ));
        }
        SessionDescription::parse_with_limits(&created.sdp, &self.config.limits)
    }
}
