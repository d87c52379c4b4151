//! Nomination and selection (RFC 8445 section 8): which valid pair the controlling agent
//! nominates and when (regular nomination, section 8.1.1), the peer's nominations, and the
//! selected pair.

use std::time::{Duration, Instant};

use super::CheckList;
use crate::config::{IceConfig, IceRole};
use crate::pair::PairState;

impl CheckList {
    /// Marks pair `i` nominated; `true` if it beats the current selection.
    pub(in crate::agent) fn nominate(&mut self, i: usize) -> bool {
        let p = &mut self.pairs[i];
        p.nominated = true;
        p.send_use_candidate = false;
        if self.nominating == Some(i) {
            self.nominating = None;
        }
        match self.selected {
            None => true,
            Some(s) => s != i && self.pairs[i].priority > self.pairs[s].priority,
        }
    }

    pub(in crate::agent) fn select(&mut self, i: usize) {
        self.selected = Some(i);
    }

    pub(in crate::agent) fn selected(&self) -> Option<usize> {
        self.selected
    }

    /// Pair `i` is being nominated: its next check, sent now, carries USE-CANDIDATE; pacing
    /// resumes at `next_paced`.
    pub(in crate::agent) fn start_nominating(&mut self, i: usize) {
        self.nominating = Some(i);
        self.pairs[i].send_use_candidate = true;
        self.triggered.retain(|t| *t != i);
    }

    pub(in crate::agent) fn pace_from(&mut self, at: Instant) {
        self.next_check_at = Some(at);
    }

    /// Which pair to nominate and when: at once if no better pair is pending; when the
    /// better pairs in flight have had a round trip plus Ta to answer (a check that has not
    /// answered by then almost surely never will: it goes to an address the peer cannot
    /// be reached at); and never later than `nomination_wait` after the first valid pair.
    pub(in crate::agent) fn nomination_plan(
        &self,
        role: IceRole,
        remote_lite: bool,
        config: &IceConfig,
    ) -> Option<(usize, Instant)> {
        if role != IceRole::Controlling
            || config.lite
            || self.nominating.is_some()
            || self.pairs.iter().any(|p| p.nominated)
        {
            return None;
        }
        let best = self.best_pair_in(PairState::Succeeded)?;
        let first_valid = self.first_valid_at?;
        let cap = first_valid + self.nomination_wait(config);
        if remote_lite {
            return Some((best, first_valid));
        }
        let best_priority = self.pairs[best].priority;
        let patience = self
            .rtt
            .map_or(config.nomination_delay, |rtt| rtt + config.ta);
        let mut at = first_valid;
        for p in self.pairs.iter().filter(|p| p.priority > best_priority) {
            match (p.state, &p.check) {
                (PairState::Frozen | PairState::Waiting, _) => at = cap,
                (PairState::InProgress, Some(c)) => at = at.max(c.started + patience),
                _ => {}
            }
        }
        Some((best, at.min(cap)))
    }

    /// How long to wait for a better pair after the first valid one: `nomination_delay`,
    /// but no more than two round trips (as measured by the first successful check) plus
    /// Ta, since a better pair that has not answered by then most likely never will.
    fn nomination_wait(&self, config: &IceConfig) -> Duration {
        let cap = self
            .rtt
            .map_or(config.nomination_delay, |rtt| 2 * rtt + config.ta);
        config.nomination_delay.min(cap)
    }

    /// The controlling peer nominated pair `i` (USE-CANDIDATE): `true` if it is valid and
    /// can be nominated now; otherwise it will be when our check on it succeeds.
    pub(in crate::agent) fn peer_nominated(&mut self, i: usize) -> bool {
        if self.pairs[i].state == PairState::Succeeded {
            return true;
        }
        self.pairs[i].nominate_on_success = true;
        false
    }
}
