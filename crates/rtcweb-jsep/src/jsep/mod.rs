//! The JSEP session (RFC 8829): signaling states, offers and answers, rollback,
//! renegotiation, and the negotiated result per m= section.
//!
//! Sans-IO and clock-free: every call is a pure state transition; randomness (ICE
//! credentials, session id) comes from the configured seed. Failed calls leave the state
//! untouched (each mutating call works on a copy and commits on success).
//!
//! ```
//! use rtcweb_jsep::{Jsep, JsepConfig, SdpType, Description, SignalingState, TransceiverInit};
//! use rtcweb_jsep::sdp::{Direction, Fingerprint, HashFunction, MediaKind};
//! let fp = Fingerprint::new(HashFunction::Sha256, vec![0xab; 32]).unwrap();
//! let mut a = Jsep::new(JsepConfig { fingerprints: vec![fp.clone()], seed: 1.into(), ..Default::default() });
//! let mut b = Jsep::new(JsepConfig { fingerprints: vec![fp], seed: 2.into(), ..Default::default() });
//! a.add_transceiver(TransceiverInit::new(MediaKind::Audio, Direction::SendRecv));
//! a.add_data_channel();
//! let offer = a.create_offer(Default::default()).unwrap();
//! a.set_local_description(Description::new(SdpType::Offer, offer.clone())).unwrap();
//! b.set_remote_description(Description::new(SdpType::Offer, offer)).unwrap();
//! let answer = b.create_answer().unwrap();
//! b.set_local_description(Description::new(SdpType::Answer, answer.clone())).unwrap();
//! a.set_remote_description(Description::new(SdpType::Answer, answer)).unwrap();
//! assert_eq!(a.signaling_state(), SignalingState::Stable);
//! assert_eq!(a.negotiated().unwrap().media.len(), 2);
//! ```

mod apply;
mod build;
mod negotiated;
mod rng;
pub mod types;
mod validate;

use std::collections::VecDeque;

pub use types::*;

use crate::sdp::{Candidate, Direction, MediaKind, SessionDescription};
use crate::{Error, Result};
use rng::ice_credentials;
use rtcweb_core::Rng;

/// Who owns an m= section.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Owner {
    Transceiver(TransceiverId),
    Data,
    /// Rejected, or of a kind we do not handle.
    Nobody,
}

/// One m= section of the negotiated (or pending) structure.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct MLine {
    pub mid: Option<String>,
    pub kind: MediaKind,
    pub proto: String,
    pub formats: Vec<String>,
    pub owner: Owner,
    /// Rejected in the last applied description: may be recycled once stable.
    pub rejected: bool,
}

/// What `set_local_description` checks an offer or answer against.
#[derive(Debug, Clone)]
struct Created {
    sdp: String,
    mlines: Vec<MLine>,
    ice: IceCredentials,
}

/// The state a rollback returns to.
#[derive(Debug, Clone)]
struct Saved {
    transceivers: Vec<Transceiver>,
    mlines: Vec<MLine>,
    next_mid: u32,
}

/// A JSEP session: one side of an offer/answer negotiation.
#[derive(Debug, Clone)]
pub struct Jsep {
    config: JsepConfig,
    state: SignalingState,
    transceivers: Vec<Transceiver>,
    next_transceiver: usize,
    data_wanted: bool,
    mlines: Vec<MLine>,
    next_mid: u32,
    rng: Rng,
    session_id: u64,
    session_version: u64,
    /// Credentials of the current local description.
    local_ice: IceCredentials,
    /// Credentials of a pending or requested restart.
    restart_ice: Option<IceCredentials>,
    /// The credentials our answer to the pending remote offer carries when that offer
    /// restarts ICE: drawn when the offer is applied, so the ICE agent can restart once,
    /// with them, before the answer exists (see [`Jsep::pending_answer_ice_credentials`]).
    answer_ice: Option<IceCredentials>,
    local_candidates: Vec<Candidate>,
    local_end_of_candidates: bool,
    current_local: Option<SessionDescription>,
    current_remote: Option<SessionDescription>,
    pending_local: Option<SessionDescription>,
    pending_remote: Option<SessionDescription>,
    last_offer: Option<Created>,
    last_answer: Option<Created>,
    saved: Option<Box<Saved>>,
    negotiated: Option<Negotiated>,
    negotiation_needed: bool,
    /// Whether we made the offer of the last completed exchange.
    we_offered: bool,
    events: VecDeque<JsepEvent>,
}

/// Most events kept before the oldest are dropped (the owner is expected to poll).
const MAX_EVENTS: usize = 256;

impl Jsep {
    /// A new session in `stable` with no transceivers.
    pub fn new(config: JsepConfig) -> Self {
        let mut rng = Rng::new(config.seed);
        let local_ice = config
            .ice_credentials
            .clone()
            .unwrap_or_else(|| ice_credentials(&mut rng));
        let drawn = rng.next_u64() >> 1;
        let session_id = config.session_id.map_or(drawn, |id| id & (u64::MAX >> 1));
        Jsep {
            config,
            state: SignalingState::Stable,
            transceivers: Vec::new(),
            next_transceiver: 0,
            data_wanted: false,
            mlines: Vec::new(),
            next_mid: 0,
            rng,
            session_id,
            session_version: 1,
            local_ice,
            restart_ice: None,
            answer_ice: None,
            local_candidates: Vec::new(),
            local_end_of_candidates: false,
            current_local: None,
            current_remote: None,
            pending_local: None,
            pending_remote: None,
            last_offer: None,
            last_answer: None,
            saved: None,
            negotiated: None,
            negotiation_needed: false,
            we_offered: false,
            events: VecDeque::new(),
        }
    }

    /// The signaling state.
    pub fn signaling_state(&self) -> SignalingState {
        self.state
    }

    /// The configuration.
    pub fn config(&self) -> &JsepConfig {
        &self.config
    }

    /// All transceivers, in creation order.
    pub fn transceivers(&self) -> &[Transceiver] {
        &self.transceivers
    }

    /// One transceiver.
    pub fn transceiver(&self, id: TransceiverId) -> Option<&Transceiver> {
        self.transceivers.iter().find(|t| t.id == id)
    }

    /// `currentLocalDescription`
    pub fn current_local_description(&self) -> Option<&SessionDescription> {
        self.current_local.as_ref()
    }

    /// `currentRemoteDescription`
    pub fn current_remote_description(&self) -> Option<&SessionDescription> {
        self.current_remote.as_ref()
    }

    /// `pendingLocalDescription`
    pub fn pending_local_description(&self) -> Option<&SessionDescription> {
        self.pending_local.as_ref()
    }

    /// `pendingRemoteDescription`
    pub fn pending_remote_description(&self) -> Option<&SessionDescription> {
        self.pending_remote.as_ref()
    }

    /// `localDescription`: pending if any, else current.
    pub fn local_description(&self) -> Option<&SessionDescription> {
        self.pending_local.as_ref().or(self.current_local.as_ref())
    }

    /// `remoteDescription`: pending if any, else current.
    pub fn remote_description(&self) -> Option<&SessionDescription> {
        self.pending_remote
            .as_ref()
            .or(self.current_remote.as_ref())
    }

    /// The result of the last completed offer/answer (or applied pranswer).
    pub fn negotiated(&self) -> Option<&Negotiated> {
        self.negotiated.as_ref()
    }

    /// Our ICE credentials as currently in force (the pending restart's once offered).
    pub fn local_ice_credentials(&self) -> &IceCredentials {
        &self.local_ice
    }

    /// The ICE credentials our answer to the pending remote offer will carry, when that
    /// offer restarts ICE (its credentials differ from the current remote ones); `None`
    /// otherwise. Known from `set_remote_description` on, so that an ICE agent restarts
    /// once, with the credentials the answer will signal, rather than twice (once for the
    /// offer and again when the answer is set, which would forget what the offer said).
    pub fn pending_answer_ice_credentials(&self) -> Option<&IceCredentials> {
        self.answer_ice
            .as_ref()
            .filter(|_| self.state == SignalingState::HaveRemoteOffer)
    }

    /// Next event for the owner.
    pub fn poll_event(&mut self) -> Option<JsepEvent> {
        self.events.pop_front()
    }

    /// Whether an offer/answer exchange is needed (the W3C "negotiation-needed flag").
    pub fn is_negotiation_needed(&self) -> bool {
        self.negotiation_needed
    }

    /// "Perfect negotiation": whether an incoming offer collides with our own offer.
    /// The impolite peer ignores a colliding offer; the polite one just applies it
    /// (`set_remote_description` rolls our offer back implicitly).
    pub fn is_offer_collision(&self, making_offer: bool) -> bool {
        making_offer || self.state != SignalingState::Stable
    }

    /// addTransceiver / addTrack.
    pub fn add_transceiver(&mut self, init: TransceiverInit) -> TransceiverId {
        let id = TransceiverId(self.next_transceiver);
        self.next_transceiver += 1;
        let (codecs, exts) = self.defaults_for(&init.kind);
        self.transceivers.push(Transceiver {
            id,
            kind: init.kind,
            mid: None,
            direction: init.direction,
            current_direction: None,
            codecs: init.codecs.unwrap_or(codecs),
            header_extensions: init.header_extensions.unwrap_or(exts),
            send: init.send,
            stopping: false,
            stopped: false,
            created_by_remote: false,
            mline: None,
        });
        self.update_negotiation_needed();
        id
    }

    /// The first createDataChannel: asks for an `application` m= section.
    pub fn add_data_channel(&mut self) {
        if !self.data_wanted {
            self.data_wanted = true;
            self.update_negotiation_needed();
        }
    }

    /// Sets a transceiver's desired direction.
    pub fn set_direction(&mut self, id: TransceiverId, direction: Direction) -> Result<()> {
        self.transceiver_mut(id)?.direction = direction;
        self.update_negotiation_needed();
        Ok(())
    }

    /// Sets or clears what a transceiver sends.
    pub fn set_send(&mut self, id: TransceiverId, send: Option<SendParams>) -> Result<()> {
        self.transceiver_mut(id)?.send = send;
        Ok(())
    }

    /// `RTCRtpTransceiver.stop()`: the next offer rejects its m= section.
    pub fn stop_transceiver(&mut self, id: TransceiverId) -> Result<()> {
        let t = self.transceiver_mut(id)?;
        if t.mid.is_none() {
            // Never negotiated: nothing to reject, it is stopped at once.
            t.stopped = true;
            t.stopping = false;
        } else if !t.stopped {
            t.stopping = true;
        }
        t.direction = Direction::Inactive;
        self.update_negotiation_needed();
        Ok(())
    }

    /// `restartIce()`: the next offer carries new ICE credentials.
    pub fn restart_ice(&mut self) {
        if self.restart_ice.is_none() {
            self.restart_ice = Some(ice_credentials(&mut self.rng));
        }
        self.update_negotiation_needed();
    }

    /// A gathered local candidate; written in later descriptions and the local one.
    /// A candidate already known is not added twice.
    pub fn add_local_candidate(&mut self, candidate: Candidate) {
        if !self.local_candidates.contains(&candidate) {
            self.local_candidates.push(candidate.clone());
        }
        for sd in [self.pending_local.as_mut(), self.current_local.as_mut()]
            .into_iter()
            .flatten()
        {
            if let Some(m) = sd.media.iter_mut().find(|m| !m.is_rejected())
                && !m.candidates.contains(&candidate)
            {
                m.candidates.push(candidate.clone());
            }
        }
    }

    /// An ICE restart began a new session: the local candidates of the old one are
    /// forgotten, in later descriptions and in the local ones (the ICE agent signals every
    /// candidate of the new session again). Without this, every restart appended the
    /// candidates once more, and descriptions grew with the restarts (found by the soak).
    pub fn restart_local_candidates(&mut self) {
        self.local_candidates.clear();
        self.local_end_of_candidates = false;
        for sd in [self.pending_local.as_mut(), self.current_local.as_mut()]
            .into_iter()
            .flatten()
        {
            if let Some(m) = sd.media.iter_mut().find(|m| !m.is_rejected()) {
                m.candidates.clear();
                m.end_of_candidates = false;
            }
        }
    }

    /// Local gathering finished.
    pub fn end_of_local_candidates(&mut self) {
        self.local_end_of_candidates = true;
    }

    /// `addIceCandidate`: a trickled remote candidate for the m= section with `mid`.
    pub fn add_remote_candidate(&mut self, mid: &str, candidate: Candidate) -> Result<()> {
        let sd = self
            .pending_remote
            .as_mut()
            .or(self.current_remote.as_mut())
            .ok_or(Error::InvalidState {
                call: Call::SetRemote(SdpType::Offer),
                state: self.state,
            })?;
        let m = sd
            .media
            .iter_mut()
            .find(|m| m.mid.as_deref() == Some(mid))
            .ok_or_else(|| Error::Operation(format!("no m= section with mid {mid:?}")))?;
        if !m.candidates.contains(&candidate) {
            m.candidates.push(candidate.clone());
        }
        if let Some(n) = self.negotiated.as_mut() {
            for nm in n
                .media
                .iter_mut()
                .filter(|nm| nm.mid.as_deref() == Some(mid))
            {
                if !nm.remote_candidates.contains(&candidate) {
                    nm.remote_candidates.push(candidate.clone());
                }
            }
        }
        Ok(())
    }

    /// `close()`.
    pub fn close(&mut self) {
        if self.state == SignalingState::Closed {
            return;
        }
        for t in &mut self.transceivers {
            t.stopped = true;
            t.stopping = false;
            t.current_direction = None;
        }
        self.set_state(SignalingState::Closed);
        self.negotiation_needed = false;
    }

    /// `createOffer`.
    pub fn create_offer(&mut self, options: OfferOptions) -> Result<String> {
        self.check(Call::CreateOffer)?;
        if options.ice_restart && self.restart_ice.is_none() {
            self.restart_ice = Some(ice_credentials(&mut self.rng));
        }
        let ice = self
            .restart_ice
            .clone()
            .unwrap_or_else(|| self.local_ice.clone());
        let mut next_mid = self.next_mid;
        let mlines = self.plan_offer(&mut next_mid);
        self.session_version += 1;
        let sd = self.build_offer(&mlines, &ice);
        let sdp = sd.to_sdp();
        self.last_offer = Some(Created {
            sdp: sdp.clone(),
            mlines,
            ice,
        });
        Ok(sdp)
    }

    /// `createAnswer`.
    pub fn create_answer(&mut self) -> Result<String> {
        self.check(Call::CreateAnswer)?;
        let remote = self.pending_remote.clone().ok_or(Error::InvalidState {
            call: Call::CreateAnswer,
            state: self.state,
        })?;
        let ice = self.answer_ice(&remote);
        self.session_version += 1;
        let sd = self.build_answer(&remote, &ice);
        let sdp = sd.to_sdp();
        self.last_answer = Some(Created {
            sdp: sdp.clone(),
            mlines: self.mlines.clone(),
            ice,
        });
        Ok(sdp)
    }

    /// Parameterless `setLocalDescription()`: creates and applies an offer or answer as the
    /// state calls for. Returns the description applied.
    pub fn set_local_description_implicit(&mut self) -> Result<Description> {
        let desc = match self.state {
            SignalingState::Stable | SignalingState::HaveLocalOffer => {
                Description::new(SdpType::Offer, self.create_offer(OfferOptions::default())?)
            }
            SignalingState::HaveRemoteOffer | SignalingState::HaveLocalPranswer => {
                Description::new(SdpType::Answer, self.create_answer()?)
            }
            state => {
                return Err(Error::InvalidState {
                    call: Call::SetLocal(SdpType::Offer),
                    state,
                });
            }
        };
        self.set_local_description(desc.clone())?;
        Ok(desc)
    }

    /// `setLocalDescription`.
    pub fn set_local_description(&mut self, desc: Description) -> Result<()> {
        let call = Call::SetLocal(desc.sdp_type);
        self.check(call)?;
        let mut next = self.clone();
        next.apply_local(desc)?;
        *self = next;
        self.update_negotiation_needed();
        Ok(())
    }

    /// `setRemoteDescription`.
    pub fn set_remote_description(&mut self, desc: Description) -> Result<()> {
        let call = Call::SetRemote(desc.sdp_type);
        self.check(call)?;
        let mut next = self.clone();
        if let Err(e) = next.apply_remote(desc) {
            tracing::debug!(%call, error = %e, "remote description refused");
            return Err(e);
        }
        *self = next;
        self.update_negotiation_needed();
        Ok(())
    }

    /// Whether `call` is allowed in the current state (W3C webrtc-pc 4.4.1.5 and JSEP 3.2).
    pub fn check(&self, call: Call) -> Result<()> {
        use SdpType::*;
        use SignalingState::*;
        let ok = match (self.state, call) {
            (_, Call::Close) => true,
            (Closed, _) => false,
            (_, Call::CreateOffer) => true,
            (HaveRemoteOffer | HaveLocalPranswer, Call::CreateAnswer) => true,
            (_, Call::CreateAnswer) => false,
            (Stable | HaveLocalOffer, Call::SetLocal(Offer)) => true,
            (HaveRemoteOffer | HaveLocalPranswer, Call::SetLocal(Answer | Pranswer)) => true,
            (Stable | HaveRemoteOffer | HaveLocalOffer, Call::SetRemote(Offer)) => true,
            (HaveLocalOffer | HaveRemotePranswer, Call::SetRemote(Answer | Pranswer)) => true,
            (
                HaveLocalOffer | HaveRemoteOffer,
                Call::SetLocal(Rollback) | Call::SetRemote(Rollback),
            ) => true,
            _ => false,
        };
        if ok {
            Ok(())
        } else {
            Err(Error::InvalidState {
                call,
                state: self.state,
            })
        }
    }

    pub(super) fn set_state(&mut self, state: SignalingState) {
        if self.state != state {
            tracing::debug!(from = %self.state, to = %state, "signaling state");
            self.state = state;
            self.push_event(JsepEvent::SignalingStateChange(state));
        }
    }

    pub(super) fn push_event(&mut self, e: JsepEvent) {
        if self.events.len() >= MAX_EVENTS {
            self.events.pop_front();
        }
        self.events.push_back(e);
    }

    pub(super) fn transceiver_mut(&mut self, id: TransceiverId) -> Result<&mut Transceiver> {
        self.transceivers
            .iter_mut()
            .find(|t| t.id == id)
            .ok_or(Error::UnknownTransceiver(id.0))
    }

    pub(super) fn defaults_for(&self, kind: &MediaKind) -> (Vec<crate::sdp::Codec>, Vec<String>) {
        match kind {
            MediaKind::Audio => (
                self.config.audio_codecs.clone(),
                self.config.audio_extensions.clone(),
            ),
            MediaKind::Video => (
                self.config.video_codecs.clone(),
                self.config.video_extensions.clone(),
            ),
            _ => (Vec::new(), Vec::new()),
        }
    }

    /// Whether the peer's ICE credentials differ from the current remote description's.
    pub(super) fn ice_changed(&self, remote: &SessionDescription) -> bool {
        let Some(cur) = &self.current_remote else {
            return false;
        };
        let first = |sd: &SessionDescription| {
            (0..sd.media.len())
                .find(|i| sd.media.get(*i).is_some_and(|m| !m.is_rejected()))
                .and_then(|i| sd.ice_credentials(i))
                .map(|(u, p)| (u.to_owned(), p.to_owned()))
        };
        match (first(cur), first(remote)) {
            (Some(a), Some(b)) => a != b,
            _ => false,
        }
    }

    /// Our credentials for an answer: new ones when the offerer restarts ICE.
    pub(super) fn answer_ice(&mut self, offer: &SessionDescription) -> IceCredentials {
        if let Some(r) = &self.restart_ice {
            return r.clone();
        }
        if self.ice_changed(offer) {
            // Drawn when the offer was applied; kept only there and in the created answer,
            // so a rollback does not leave a restart pending.
            if let Some(drawn) = &self.answer_ice {
                return drawn.clone();
            }
            return ice_credentials(&mut self.rng);
        }
        self.local_ice.clone()
    }

    pub(super) fn update_negotiation_needed(&mut self) {
        if self.state != SignalingState::Stable {
            return;
        }
        let needed = self.compute_negotiation_needed();
        if needed && !self.negotiation_needed {
            self.push_event(JsepEvent::NegotiationNeeded);
        }
        self.negotiation_needed = needed;
    }

    /// W3C "check if negotiation is needed", for the parts JSEP owns.
    fn compute_negotiation_needed(&self) -> bool {
        if self.restart_ice.is_some() {
            return true;
        }
        if self.data_wanted && !self.mlines.iter().any(|m| m.owner == Owner::Data) {
            return true;
        }
        let local = self.current_local.as_ref();
        let remote = self.current_remote.as_ref();
        for t in &self.transceivers {
            if t.stopped {
                continue;
            }
            let Some(i) = t.mline else {
                if !t.stopping {
                    return true;
                }
                continue;
            };
            let (Some(l), Some(r)) = (
                local.and_then(|d| d.media.get(i)),
                remote.and_then(|d| d.media.get(i)),
            ) else {
                continue;
            };
            if t.stopping {
                if !l.is_rejected() {
                    return true;
                }
                continue;
            }
            // We offered: compare with our offer. We answered: with what we could answer now.
            let we_offered = self.we_offered;
            let expected = if we_offered {
                t.direction
            } else {
                t.direction.intersect(r.direction_or_default().reverse())
            };
            if l.direction_or_default() != expected {
                return true;
            }
        }
        false
    }

    pub(super) fn new_mid(&self, next_mid: &mut u32, taken: &[MLine]) -> String {
        loop {
            let mid = next_mid.to_string();
            *next_mid += 1;
            let used = taken.iter().any(|m| m.mid.as_deref() == Some(mid.as_str()))
                || self
                    .transceivers
                    .iter()
                    .any(|t| t.mid.as_deref() == Some(mid.as_str()));
            if !used {
                return mid;
            }
        }
    }
}

/// Checks that `answer` can answer `offer` (same m= sections and mids, transport attributes
/// present, no `actpass`, BUNDLE only over offered mids): what `setRemoteDescription(answer)`
/// checks before anything changes.
pub fn validate_answer(offer: &SessionDescription, answer: &SessionDescription) -> Result<()> {
    validate::answer_matches_offer(offer, answer)
}

fn normalise(s: &str) -> String {
    s.replace("\r\n", "\n").trim_end().to_owned()
}

fn max_mid_number(mlines: &[MLine]) -> u32 {
    mlines
        .iter()
        .filter_map(|m| m.mid.as_deref()?.parse::<u32>().ok())
        .map(|n| n.saturating_add(1))
        .max()
        .unwrap_or(0)
}
