//! After selection: consent freshness (RFC 7675), keepalives (RFC 8445 section 11), and the
//! connection state the owner sees.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use rtcweb_stun::{
    ClientTransaction, Message, MessageBuilder, MessageType, TransactionConfig, TransactionId,
    TransactionState,
};
use tracing::debug;

use super::IceAgent;
use crate::config::IceConfig;
use crate::event::{ConnectionState, GatheringState};

/// Consent bookkeeping for the selected pair.
#[derive(Debug, Clone, Default)]
pub(super) struct Consent {
    /// When the next consent check goes out.
    next_check: Option<Instant>,
    /// Outstanding consent checks, newest last.
    outstanding: VecDeque<ConsentCheck>,
    /// When consent was last confirmed (a response, or selection itself).
    fresh_at: Option<Instant>,
    /// Consent expired: nothing may be sent any more (until an ICE restart).
    lost: bool,
    /// When the owner last sent anything on the route.
    last_sent: Option<Instant>,
    /// Lite agents: when the peer last checked us.
    last_request: Option<Instant>,
}

/// One consent check in flight. It is retransmitted like any STUN request, so one lost
/// datagram does not cost a whole consent interval.
#[derive(Debug, Clone)]
struct ConsentCheck {
    tid: TransactionId,
    pair: usize,
    timing: ClientTransaction,
    bytes: Vec<u8>,
}

/// Outstanding consent checks remembered; older answers are ignored.
const MAX_OUTSTANDING: usize = 8;

impl Consent {
    /// Consent starts fresh on a newly selected pair.
    pub(super) fn start(&mut self, now: Instant) {
        self.fresh_at = Some(now);
        self.next_check = Some(now);
        self.lost = false;
    }

    pub(super) fn is_lost(&self) -> bool {
        self.lost
    }

    /// Something went out on the route (keepalives wait for a silence).
    pub(super) fn note_sent(&mut self, now: Instant) {
        self.last_sent = Some(now);
    }

    /// The peer sent an authenticated check.
    pub(super) fn note_request(&mut self, now: Instant) {
        self.last_request = Some(now);
    }

    /// The last moment consent was confirmed, per the agent's kind.
    fn last_fresh(&self, lite: bool) -> Option<Instant> {
        if lite {
            self.last_request
        } else {
            self.fresh_at
        }
    }

    /// The last sign of life from the peer: consent, or an authenticated check it sent.
    /// Only consent keeps the right to send; either keeps the state out of `Disconnected`.
    fn last_alive(&self, lite: bool) -> Option<Instant> {
        [self.last_fresh(lite), self.last_request]
            .into_iter()
            .flatten()
            .max()
    }

    /// Whether the peer has shown no sign of life for `disconnected_timeout`.
    fn is_stale(&self, now: Instant, config: &IceConfig) -> bool {
        self.last_alive(config.lite)
            .is_some_and(|t| now >= t + config.disconnected_timeout)
    }

    /// Whether consent still holds at `now`; it is lost for good once it expires.
    fn still_holds(&mut self, now: Instant, config: &IceConfig) -> bool {
        if self.lost {
            return false;
        }
        if self
            .last_fresh(config.lite)
            .is_some_and(|fresh| now >= fresh + config.consent_timeout)
        {
            debug!("consent lost");
            self.lost = true;
            return false;
        }
        true
    }

    /// The peer answered a consent check on the selected pair.
    fn confirm(&mut self, now: Instant) {
        self.fresh_at = Some(now);
    }

    fn schedule_check(&mut self, at: Instant) {
        self.next_check = Some(at);
    }

    fn check_due(&self, now: Instant) -> bool {
        self.next_check.is_some_and(|t| now >= t)
    }

    /// A consent check on `pair` went out; the oldest is forgotten if too many are out.
    fn add_check(
        &mut self,
        now: Instant,
        tid: TransactionId,
        pair: usize,
        bytes: Vec<u8>,
        config: &IceConfig,
    ) {
        let transaction = TransactionConfig {
            rto: config.check_rto,
            rc: config.check_max_transmits,
            rm: 4,
            ..TransactionConfig::default()
        };
        if self.outstanding.len() >= MAX_OUTSTANDING {
            self.outstanding.pop_front();
        }
        let timing = ClientTransaction::new(now, tid, transaction);
        self.outstanding.push_back(ConsentCheck {
            tid,
            pair,
            timing,
            bytes,
        });
    }

    /// The checks to send again at `now`; the ones that ran out of time are forgotten.
    fn retransmits(&mut self, now: Instant) -> Vec<Vec<u8>> {
        let mut resend = Vec::new();
        for c in &mut self.outstanding {
            if c.timing.poll_timeout().is_some_and(|t| t <= now) {
                c.timing.handle_timeout(now);
            }
            if c.timing.poll_transmit() {
                resend.push(c.bytes.clone());
            }
        }
        self.outstanding
            .retain(|c| c.timing.state() == TransactionState::Pending);
        resend
    }

    fn keepalive_due(&self, now: Instant, interval: Duration) -> bool {
        self.last_sent.is_some_and(|t| now >= t + interval)
    }

    fn awaits(&self, tid: TransactionId) -> bool {
        self.outstanding.iter().any(|c| c.tid == tid)
    }

    /// Takes the outstanding check `tid`; the pair it was sent on.
    fn take(&mut self, tid: TransactionId) -> Option<usize> {
        let at = self.outstanding.iter().position(|c| c.tid == tid)?;
        self.outstanding.remove(at).map(|c| c.pair)
    }

    /// When the next consent deadline falls (`disconnected` when the state already is).
    fn poll_timeout(&self, config: &IceConfig, disconnected: bool) -> Option<Instant> {
        if self.lost {
            return None;
        }
        let fresh = self.last_fresh(config.lite)?;
        let mut deadlines = vec![fresh + config.consent_timeout];
        if !disconnected {
            deadlines.extend(
                self.last_alive(config.lite)
                    .map(|t| t + config.disconnected_timeout),
            );
        }
        if !config.lite {
            deadlines.extend(self.next_check);
            deadlines.extend(
                self.outstanding
                    .iter()
                    .filter_map(|c| c.timing.poll_timeout()),
            );
            if let Some(t) = self.last_sent {
                deadlines.push(t + config.keepalive_interval);
            }
        }
        deadlines.into_iter().min()
    }
}

impl IceAgent {
    fn consent_interval(&mut self) -> Duration {
        // RFC 7675 section 5.1: randomized to 0.8-1.2 of the base interval.
        self.config.consent_interval.mul_f64(self.rng.jitter(0.2))
    }

    pub(super) fn consent_tick(&mut self, now: Instant) {
        let Some(i) = self.checks.selected() else {
            return;
        };
        if !self.consent.still_holds(now, &self.config) || self.config.lite {
            return;
        }
        let route = self.pair_route(i);
        if self.consent.check_due(now) {
            if let Some((tid, bytes)) = self.build_check(i, false) {
                self.consent.add_check(now, tid, i, bytes, &self.config);
            }
            let next = now + self.consent_interval();
            self.consent.schedule_check(next);
        }
        let resend = self.consent.retransmits(now);
        if let Some((source, dest)) = route {
            for bytes in resend {
                self.send_via(now, source, dest, bytes);
                self.consent.note_sent(now);
            }
        }
        // Keepalive when nothing else went out for a while (consent checks usually cover it).
        if self
            .consent
            .keepalive_due(now, self.config.keepalive_interval)
        {
            self.send_keepalive(now, i);
        }
    }

    fn send_keepalive(&mut self, now: Instant, i: usize) {
        let tid = TransactionId(self.rng.bytes());
        let mut buf = [0u8; 28];
        let typ = MessageType::new(rtcweb_stun::Method::BINDING, rtcweb_stun::Class::Indication);
        let Ok(mut b) = MessageBuilder::new(&mut buf, typ, tid) else {
            return;
        };
        if b.fingerprint().is_err() {
            return;
        }
        let len = b.finish();
        if let Some((source, dest)) = self.pair_route(i) {
            self.send_via(now, source, dest, buf[..len].to_vec());
            self.consent.note_sent(now);
        }
    }

    pub(super) fn handle_consent_response(
        &mut self,
        now: Instant,
        tid: TransactionId,
        msg: &Message<&[u8]>,
    ) -> bool {
        if !self.consent.awaits(tid) {
            return false;
        }
        let Some(key) = self.peer.key() else {
            return false;
        };
        if msg.verify_message_integrity(key).is_err() {
            return false;
        }
        if let Some(pair) = self.consent.take(tid)
            && msg.class() == rtcweb_stun::Class::SuccessResponse
            && Some(pair) == self.checks.selected()
        {
            self.consent.confirm(now);
            self.checks.note_response(pair, now);
        }
        true
    }

    pub(super) fn consent_timeout(&self) -> Option<Instant> {
        self.checks.selected()?;
        self.consent
            .poll_timeout(&self.config, self.state == ConnectionState::Disconnected)
    }

    /// Recomputes the W3C connection state from the agent's facts.
    pub(super) fn update_state(&mut self, now: Instant) {
        if self.state == ConnectionState::Closed {
            return;
        }
        let lite = self.config.lite;
        let gathered = self.gatherer.state() == GatheringState::Complete;
        let state = if self.consent.is_lost() {
            ConnectionState::Failed
        } else if self.checks.selected().is_some() {
            let stale = self.consent.is_stale(now, &self.config);
            let checks_done = lite || self.checks.all_done();
            let candidates_done = (self.peer.end_of_candidates() || lite) && gathered;
            if stale {
                ConnectionState::Disconnected
            } else if checks_done && candidates_done {
                ConnectionState::Completed
            } else {
                ConnectionState::Connected
            }
        } else if self.checks.is_empty() && self.previous_route.is_none() {
            let nothing_more = self.peer.end_of_candidates()
                && gathered
                && self.peer.all_resolved()
                && self.peer.credentials().is_some()
                && !lite;
            if nothing_more {
                ConnectionState::Failed
            } else if self.state == ConnectionState::New {
                ConnectionState::New
            } else {
                ConnectionState::Checking
            }
        } else {
            let nothing_more =
                self.peer.end_of_candidates() && gathered && self.peer.all_resolved();
            if self.checks.all_failed() && nothing_more && !self.checks.is_empty() {
                ConnectionState::Failed
            } else if self.peer.credentials().is_some() || lite {
                ConnectionState::Checking
            } else {
                ConnectionState::New
            }
        };
        // Browsers always report `connected` on the way to `completed`; applications wait
        // for it.
        if state == ConnectionState::Completed
            && !matches!(
                self.state,
                ConnectionState::Connected | ConnectionState::Completed
            )
        {
            self.set_state(ConnectionState::Connected);
        }
        self.set_state(state);
    }
}
