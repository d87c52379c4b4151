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
use crate::event::{ConnectionState, GatheringState};
use crate::pair::PairState;

/// Consent bookkeeping for the selected pair.
#[derive(Debug, Clone, Default)]
pub(crate) struct Consent {
    /// When the next consent check goes out.
    next_check: Option<Instant>,
    /// Outstanding consent checks, newest last.
    outstanding: VecDeque<ConsentCheck>,
    /// When consent was last confirmed (a response, or selection itself).
    pub(crate) fresh_at: Option<Instant>,
    /// Consent expired: nothing may be sent any more (until an ICE restart).
    pub(crate) lost: bool,
    /// When the owner last sent anything on the route.
    pub(crate) last_sent: Option<Instant>,
    /// Lite agents: when the peer last checked us.
    pub(crate) last_request: Option<Instant>,
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
    pub(crate) fn start(&mut self, now: Instant) {
        self.fresh_at = Some(now);
        self.next_check = Some(now);
        self.lost = false;
    }
}

impl IceAgent {
    fn consent_interval(&mut self) -> Duration {
        // RFC 7675 section 5.1: randomized to 0.8-1.2 of the base interval.
        self.config.consent_interval.mul_f64(self.rng.jitter(0.2))
    }

    /// The last moment consent was confirmed, per the agent's kind.
    fn last_fresh(&self) -> Option<Instant> {
        if self.config.lite {
            self.consent.last_request
        } else {
            self.consent.fresh_at
        }
    }

    /// The last sign of life from the peer: consent, or an authenticated check it sent.
    /// Only consent keeps the right to send; either keeps the state out of `Disconnected`.
    fn last_alive(&self) -> Option<Instant> {
        [self.last_fresh(), self.consent.last_request]
            .into_iter()
            .flatten()
            .max()
    }

    pub(super) fn consent_tick(&mut self, now: Instant) {
        let Some(i) = self.selected else { return };
        if self.consent.lost {
            return;
        }
        if self
            .last_fresh()
            .is_some_and(|fresh| now >= fresh + self.config.consent_timeout)
        {
            debug!("consent lost");
            self.consent.lost = true;
            return;
        }
        if self.config.lite {
            return;
        }
        let p = &self.pairs[i];
        let route = self.remotes[p.remote]
            .addr
            .map(|dest| (self.locals[p.local].key(), dest));
        if self.consent.next_check.is_some_and(|t| t <= now) {
            if let Some((tid, bytes)) = self.build_check(i, false) {
                let config = TransactionConfig {
                    rto: self.config.check_rto,
                    rc: self.config.check_max_transmits,
                    rm: 4,
                    ..TransactionConfig::default()
                };
                if self.consent.outstanding.len() >= MAX_OUTSTANDING {
                    self.consent.outstanding.pop_front();
                }
                let timing = ClientTransaction::new(now, tid, config);
                self.consent.outstanding.push_back(ConsentCheck {
                    tid,
                    pair: i,
                    timing,
                    bytes,
                });
            }
            let next = now + self.consent_interval();
            self.consent.next_check = Some(next);
        }
        let mut resend = Vec::new();
        for c in &mut self.consent.outstanding {
            if c.timing.poll_timeout().is_some_and(|t| t <= now) {
                c.timing.handle_timeout(now);
            }
            if c.timing.poll_transmit() {
                resend.push(c.bytes.clone());
            }
        }
        self.consent
            .outstanding
            .retain(|c| c.timing.state() == TransactionState::Pending);
        if let Some((source, dest)) = route {
            for bytes in resend {
                self.send_via(now, source, dest, bytes);
                self.consent.last_sent = Some(now);
            }
        }
        // Keepalive when nothing else went out for a while (consent checks usually cover it).
        if self
            .consent
            .last_sent
            .is_some_and(|t| now >= t + self.config.keepalive_interval)
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
        let p = &self.pairs[i];
        if let Some(dest) = self.remotes[p.remote].addr {
            let source = self.locals[p.local].key();
            self.send_via(now, source, dest, buf[..len].to_vec());
            self.consent.last_sent = Some(now);
        }
    }

    pub(super) fn handle_consent_response(
        &mut self,
        now: Instant,
        tid: TransactionId,
        msg: &Message<&[u8]>,
    ) -> bool {
        let Some(at) = self.consent.outstanding.iter().position(|c| c.tid == tid) else {
            return false;
        };
        let Some(key) = &self.remote_key else {
            return false;
        };
        if msg.verify_message_integrity(key).is_err() {
            return false;
        }
        let pair = self
            .consent
            .outstanding
            .remove(at)
            .map_or(usize::MAX, |c| c.pair);
        if msg.class() == rtcweb_stun::Class::SuccessResponse && Some(pair) == self.selected {
            self.consent.fresh_at = Some(now);
            if let Some(p) = self.pairs.get_mut(pair) {
                p.last_response = Some(now);
            }
        }
        true
    }

    pub(super) fn consent_timeout(&self) -> Option<Instant> {
        self.selected?;
        if self.consent.lost {
            return None;
        }
        let fresh = self.last_fresh()?;
        let mut deadlines = vec![fresh + self.config.consent_timeout];
        if self.state != ConnectionState::Disconnected {
            deadlines.extend(
                self.last_alive()
                    .map(|t| t + self.config.disconnected_timeout),
            );
        }
        if !self.config.lite {
            deadlines.extend(self.consent.next_check);
            deadlines.extend(
                self.consent
                    .outstanding
                    .iter()
                    .filter_map(|c| c.timing.poll_timeout()),
            );
            if let Some(t) = self.consent.last_sent {
                deadlines.push(t + self.config.keepalive_interval);
            }
        }
        deadlines.into_iter().min()
    }

    /// Recomputes the W3C connection state from the agent's facts.
    pub(super) fn update_state(&mut self, now: Instant) {
        if self.state == ConnectionState::Closed {
            return;
        }
        let state = if self.consent.lost {
            ConnectionState::Failed
        } else if self.selected.is_some() {
            let stale = self
                .last_alive()
                .is_some_and(|t| now >= t + self.config.disconnected_timeout);
            let checks_done = self.config.lite
                || !self.pairs.iter().any(|p| {
                    matches!(
                        p.state,
                        PairState::Frozen | PairState::Waiting | PairState::InProgress
                    )
                });
            let candidates_done = (self.remote_end_of_candidates || self.config.lite)
                && self.gathering_state == GatheringState::Complete;
            if stale {
                ConnectionState::Disconnected
            } else if checks_done && candidates_done {
                ConnectionState::Completed
            } else {
                ConnectionState::Connected
            }
        } else if self.pairs.is_empty() && self.previous_route.is_none() {
            let nothing_more = self.remote_end_of_candidates
                && self.gathering_state == GatheringState::Complete
                && self.remotes.iter().all(|r| r.addr.is_some())
                && self.remote_credentials.is_some()
                && !self.config.lite;
            if nothing_more {
                ConnectionState::Failed
            } else if self.state == ConnectionState::New {
                ConnectionState::New
            } else {
                ConnectionState::Checking
            }
        } else {
            let all_failed = self.pairs.iter().all(|p| p.state == PairState::Failed);
            let nothing_more = self.remote_end_of_candidates
                && self.gathering_state == GatheringState::Complete
                && self.remotes.iter().all(|r| r.addr.is_some());
            if all_failed && nothing_more && !self.pairs.is_empty() {
                ConnectionState::Failed
            } else if self.remote_credentials.is_some() || self.config.lite {
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
