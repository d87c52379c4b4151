//! The W3C "perfect negotiation" pattern (WebRTC 1.0, section 10.7) over any [`Signaling`]
//! transport: either peer may start or restart negotiation at any time; when both offer at
//! once (glare), the impolite peer ignores the incoming offer and the polite peer rolls its
//! own back and answers.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use rtcweb::{IceCandidateInit, SdpType, SessionDescription, SignalingState};
use tokio::sync::mpsc;
use tracing::{debug, trace, warn};

use super::{Signaling, SignalingMessage};
use crate::error::Error;
use crate::peer::{Events, PeerEvent, RtcPeerConnection};

/// Application events queued by [`PerfectNegotiation::spawn`] before the oldest are dropped.
const APP_QUEUE: usize = 4096;

/// How a [`PerfectNegotiation`] behaves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NegotiationOptions {
    /// The polite peer yields on glare (rolls back its offer); the impolite one ignores the
    /// colliding offer. The two ends must disagree (e.g. the newcomer of a room is polite).
    pub polite: bool,
    /// Send candidates as they are gathered. `None` follows the transport
    /// ([`Signaling::trickle`]); without trickle a description is sent once gathering is
    /// complete (or after `gathering_timeout`), with every candidate in its SDP.
    pub trickle: Option<bool>,
    /// How long a non-trickle description waits for gathering to complete.
    pub gathering_timeout: Duration,
}

impl NegotiationOptions {
    /// The polite side.
    pub fn polite() -> Self {
        Self {
            polite: true,
            trickle: None,
            gathering_timeout: Duration::from_secs(5),
        }
    }

    /// The impolite side.
    pub fn impolite() -> Self {
        Self {
            polite: false,
            ..Self::polite()
        }
    }
}

/// What a negotiation did, for logs and tests.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct NegotiationStats {
    /// Offers we sent.
    pub offers_sent: u32,
    /// Answers we sent.
    pub answers_sent: u32,
    /// Offers the peer sent us (including ignored ones).
    pub offers_received: u32,
    /// Answers the peer sent us.
    pub answers_received: u32,
    /// Colliding offers this (impolite) side ignored.
    pub ignored_offers: u32,
    /// Our offers this (polite) side rolled back because of a colliding offer.
    pub rollbacks: u32,
    /// Candidates we sent.
    pub candidates_sent: u32,
    /// Candidates the peer sent us.
    pub candidates_received: u32,
    /// Remote candidates the PeerConnection refused.
    pub candidates_refused: u32,
}

/// Perfect negotiation for one [`RtcPeerConnection`] over one [`Signaling`] transport.
///
/// Feed it the connection's events ([`PerfectNegotiation::handle_event`]) and the peer's
/// messages ([`PerfectNegotiation::handle_message`]), or let [`PerfectNegotiation::run`] /
/// [`PerfectNegotiation::spawn`] do both. Offers are made on `NegotiationNeeded`, so adding
/// a data channel or a transceiver at any time renegotiates.
#[derive(Debug)]
pub struct PerfectNegotiation<S> {
    pc: RtcPeerConnection,
    signaling: S,
    polite: bool,
    trickle: bool,
    gathering_timeout: Duration,
    /// W3C `makingOffer`. Our calls are synchronous and one task handles both the events
    /// and the peer's messages, so a colliding offer shows as a signaling state other than
    /// stable; the flag is kept for a caller that drives the two halves concurrently.
    making_offer: bool,
    /// W3C `ignoreOffer`: the last offer was ignored, so errors from its candidates are too.
    ignore_offer: bool,
    gathering_complete: bool,
    /// A description waiting for the end of gathering (non-trickle transports).
    unsent: Option<SdpType>,
    /// Trickled candidates that came before our first description: a peer refuses a
    /// candidate that precedes the description it belongs to.
    early: Vec<SignalingMessage>,
    described: bool,
    stats: Arc<Mutex<NegotiationStats>>,
    closing: bool,
}

impl<S: Signaling> PerfectNegotiation<S> {
    /// Negotiation for `pc` over `signaling`.
    pub fn new(pc: RtcPeerConnection, signaling: S, options: NegotiationOptions) -> Self {
        let trickle = options.trickle.unwrap_or_else(|| signaling.trickle());
        Self {
            pc,
            signaling,
            polite: options.polite,
            trickle,
            gathering_timeout: options.gathering_timeout,
            making_offer: false,
            ignore_offer: false,
            gathering_complete: false,
            unsent: None,
            early: Vec::new(),
            described: false,
            stats: Arc::default(),
            closing: false,
        }
    }

    /// The counters so far.
    pub fn stats(&self) -> NegotiationStats {
        self.stats.lock().map(|s| *s).unwrap_or_default()
    }

    fn count(&self, f: impl FnOnce(&mut NegotiationStats)) {
        if let Ok(mut s) = self.stats.lock() {
            f(&mut s);
        }
    }

    /// Handles a connection event. Returns it when the application should see it too
    /// (everything but the candidates and negotiation requests it consumed).
    pub async fn handle_event(&mut self, event: PeerEvent) -> Result<Option<PeerEvent>, Error> {
        match event {
            PeerEvent::NegotiationNeeded => {
                if self.pc.signaling_state() != SignalingState::Stable || self.closing {
                    // JSEP raises it again when we are back in stable, if still needed.
                    return Ok(None);
                }
                self.making_offer = true;
                let result = self.make_offer().await;
                self.making_offer = false;
                result?;
                Ok(None)
            }
            PeerEvent::IceCandidate(candidate) => {
                if candidate.is_none() {
                    self.gathering_complete = true;
                }
                if self.trickle {
                    let message = match candidate {
                        Some(c) => SignalingMessage::Candidate(c),
                        None => SignalingMessage::EndOfCandidates,
                    };
                    if self.described {
                        self.signaling.send(message).await?;
                        self.count(|s| s.candidates_sent += 1);
                    } else {
                        self.early.push(message);
                    }
                } else if self.gathering_complete {
                    self.send_unsent().await?;
                }
                Ok(None)
            }
            other => Ok(Some(other)),
        }
    }

    async fn make_offer(&mut self) -> Result<(), Error> {
        let offer = self.pc.create_offer()?;
        self.pc.set_local_description(&offer)?;
        debug!(polite = self.polite, "sending offer");
        self.count(|s| s.offers_sent += 1);
        self.send_description(offer).await
    }

    async fn send_description(&mut self, d: SessionDescription) -> Result<(), Error> {
        if self.trickle {
            self.signaling
                .send(SignalingMessage::Description(d))
                .await?;
            self.described = true;
            for m in std::mem::take(&mut self.early) {
                self.signaling.send(m).await?;
                self.count(|s| s.candidates_sent += 1);
            }
            return Ok(());
        }
        self.unsent = Some(d.sdp_type);
        if self.gathering_complete {
            self.send_unsent().await?;
        }
        Ok(())
    }

    /// Sends the waiting description with every candidate gathered so far.
    async fn send_unsent(&mut self) -> Result<(), Error> {
        let Some(sdp_type) = self.unsent.take() else {
            return Ok(());
        };
        // A newer description may have replaced the one that waited (rollback): send what
        // is in force now.
        let Some(sdp) = self.pc.local_description() else {
            return Ok(());
        };
        let d = SessionDescription { sdp_type, sdp };
        self.signaling.send(SignalingMessage::Description(d)).await
    }

    /// Handles a message from the peer. Returns `false` when the peer said goodbye.
    pub async fn handle_message(&mut self, message: SignalingMessage) -> Result<bool, Error> {
        match message {
            SignalingMessage::Description(d) => self.on_description(d).await?,
            SignalingMessage::Candidate(c) => self.on_candidate(&c),
            SignalingMessage::EndOfCandidates => self.on_candidate(&IceCandidateInit {
                candidate: String::new(),
                sdp_mid: None,
                sdp_m_line_index: None,
                username_fragment: None,
            }),
            SignalingMessage::Bye => return Ok(false),
        }
        Ok(true)
    }

    async fn on_description(&mut self, d: SessionDescription) -> Result<(), Error> {
        let state = self.pc.signaling_state();
        trace!(sdp_type = ?d.sdp_type, ?state, sdp = %d.sdp, "remote description");
        match d.sdp_type {
            SdpType::Offer => self.count(|s| s.offers_received += 1),
            SdpType::Answer | SdpType::Pranswer => self.count(|s| s.answers_received += 1),
            SdpType::Rollback => {}
        }
        let ready_for_offer = !self.making_offer && state == SignalingState::Stable;
        let offer_collision = d.sdp_type == SdpType::Offer && !ready_for_offer;
        self.ignore_offer = !self.polite && offer_collision;
        if self.ignore_offer {
            debug!("glare: impolite, ignoring the peer's offer");
            self.count(|s| s.ignored_offers += 1);
            return Ok(());
        }
        if offer_collision {
            debug!("glare: polite, rolling back our offer");
            self.pc.set_local_description(&SessionDescription {
                sdp_type: SdpType::Rollback,
                sdp: String::new(),
            })?;
            self.unsent = None;
            self.count(|s| s.rollbacks += 1);
        }
        self.pc.set_remote_description(&d)?;
        if d.sdp_type == SdpType::Offer {
            let answer = self.pc.create_answer()?;
            self.pc.set_local_description(&answer)?;
            self.count(|s| s.answers_sent += 1);
            self.send_description(answer).await?;
        }
        Ok(())
    }

    fn on_candidate(&mut self, c: &IceCandidateInit) {
        self.count(|s| s.candidates_received += 1);
        trace!(candidate = %c.candidate, mid = ?c.sdp_mid, "remote candidate");
        if let Err(e) = self.pc.add_ice_candidate(c) {
            self.count(|s| s.candidates_refused += 1);
            if !self.ignore_offer {
                warn!(error = %e, candidate = %c.candidate, "remote candidate refused");
            }
        }
    }

    /// Runs until the connection closes or the peer says goodbye (then the connection is
    /// closed). Events the application should see go to `app` (dropped when it is full or
    /// gone). Says goodbye to the peer when the connection closes first.
    pub async fn run(
        mut self,
        mut events: Events,
        app: mpsc::Sender<PeerEvent>,
    ) -> Result<NegotiationStats, Error> {
        let mut peer_gone = false;
        loop {
            let waiting = self.unsent.is_some() && !self.trickle;
            let timeout = self.gathering_timeout;
            tokio::select! {
                biased;
                event = events.recv() => {
                    let Some(event) = event else { break };
                    // The stream outlives the connection while handles exist (ours does),
                    // so closing is the end.
                    let closed = matches!(
                        event,
                        PeerEvent::ConnectionState(rtcweb::PeerConnectionState::Closed)
                    );
                    if let Some(e) = self.handle_event(event).await? {
                        let _ = app.try_send(e);
                    }
                    if closed {
                        break;
                    }
                }
                message = self.signaling.recv(), if !self.closing => {
                    match message? {
                        Some(m) => {
                            if !self.handle_message(m).await? {
                                debug!("the peer said bye; closing");
                                peer_gone = true;
                                self.closing = true;
                                self.pc.close();
                            }
                        }
                        None => {
                            debug!("signaling closed; closing");
                            peer_gone = true;
                            self.closing = true;
                            self.pc.close();
                        }
                    }
                }
                () = tokio::time::sleep(timeout), if waiting => {
                    debug!("gathering did not complete in time; sending what we have");
                    self.send_unsent().await?;
                }
            }
        }
        debug!(peer_gone, "negotiation done");
        if !peer_gone {
            // Best effort: the transport may already be gone.
            let _ = self.signaling.send(SignalingMessage::Bye).await;
        }
        Ok(self.stats())
    }

    /// Runs [`PerfectNegotiation::run`] in a task. Returns its handle (dropping it stops the
    /// negotiation) and the application's events.
    pub fn spawn(
        pc: RtcPeerConnection,
        events: Events,
        signaling: S,
        options: NegotiationOptions,
    ) -> (NegotiationHandle, mpsc::Receiver<PeerEvent>)
    where
        S: 'static,
    {
        let (tx, rx) = mpsc::channel(APP_QUEUE);
        let negotiation = Self::new(pc, signaling, options);
        let stats = negotiation.stats.clone();
        let task = tokio::spawn(async move {
            let result = negotiation.run(events, tx).await;
            if let Err(e) = &result {
                warn!(error = %e, "negotiation ended");
            }
            result
        });
        (NegotiationHandle { stats, task }, rx)
    }
}

/// A negotiation running in a task ([`PerfectNegotiation::spawn`]). Dropping it stops the
/// negotiation.
#[derive(Debug)]
#[must_use = "dropping the handle stops the negotiation"]
pub struct NegotiationHandle {
    stats: Arc<Mutex<NegotiationStats>>,
    task: tokio::task::JoinHandle<Result<NegotiationStats, Error>>,
}

impl NegotiationHandle {
    /// The counters so far.
    pub fn stats(&self) -> NegotiationStats {
        self.stats.lock().map(|s| *s).unwrap_or_default()
    }

    /// Whether the negotiation has ended.
    pub fn is_finished(&self) -> bool {
        self.task.is_finished()
    }

    /// Waits for the negotiation to end (the connection closed or the peer left).
    pub async fn finished(mut self) -> Result<NegotiationStats, Error> {
        match (&mut self.task).await {
            Ok(r) => r,
            Err(e) => Err(Error::Signaling(format!("negotiation task: {e}"))),
        }
    }
}

impl Drop for NegotiationHandle {
    fn drop(&mut self) {
        self.task.abort();
    }
}
