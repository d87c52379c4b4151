//! Application-limited region (ALR) detection: is the sender using the estimate, or is
//! the application sending much less (a static screen, an audio-only moment, an encoder
//! at its maximum)? Derived from what was actually sent against a budget that refills at
//! a fraction of the estimate, so the caller does not have to say it.
//!
//! While application limited, the delay-based estimate does not grow (nothing shows the
//! path could carry more) and the probe controller may probe instead.

use crate::time::{MS, Micros};

/// The budget refills at this fraction of the estimate.
const USAGE_RATIO: f64 = 0.65;
/// Unused budget saved up to (and debt down to) this much time's worth.
const WINDOW: Micros = 500 * MS;
/// ALR starts when the saved-up budget exceeds this fraction of the window...
const START_RATIO: f64 = 0.80;
/// ...and ends when it falls below this one.
const STOP_RATIO: f64 = 0.50;

/// The ALR detector.
#[derive(Debug, Default)]
pub(crate) struct AlrDetector {
    /// Budget refill, bytes per microsecond, and its cap, bytes.
    refill: f64,
    max: f64,
    budget: f64,
    last: Option<Micros>,
    start: Option<Micros>,
}

impl AlrDetector {
    /// The estimate the budget follows (bit/s).
    pub(crate) fn set_rate(&mut self, bps: f64) {
        self.refill = bps.max(0.0) * USAGE_RATIO / 8.0 / 1e6;
        self.max = self.refill * WINDOW as f64;
    }

    /// `bytes` were sent at `now`.
    pub(crate) fn on_sent(&mut self, now: Micros, bytes: u32) {
        self.advance(now);
        self.budget -= f64::from(bytes);
        self.clamp_and_check(now);
    }

    /// Time passed without a send.
    pub(crate) fn on_time(&mut self, now: Micros) {
        self.advance(now);
        self.clamp_and_check(now);
    }

    /// When the current ALR period started, if in one.
    pub(crate) fn alr_start(&self) -> Option<Micros> {
        self.start
    }

    fn advance(&mut self, now: Micros) {
        let last = *self.last.get_or_insert(now);
        if now > last {
            self.budget += self.refill * now.saturating_sub(last) as f64;
            self.last = Some(now);
        }
    }

    fn clamp_and_check(&mut self, now: Micros) {
        let max = self.max;
        self.budget = self.budget.clamp(-max, max);
        if max <= 0.0 {
            return;
        }
        // Outside ALR with no budget saved (a sender using its estimate: the common case),
        // the ratio is at most 0 and nothing changes; skip the division.
        if self.start.is_none() && self.budget <= 0.0 {
            return;
        }
        let ratio = self.budget / max;
        if self.start.is_none() && ratio > START_RATIO {
            self.start = Some(now);
        } else if self.start.is_some() && ratio < STOP_RATIO {
            self.start = None;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sending_a_fraction_of_the_estimate_is_application_limited() {
        let mut a = AlrDetector::default();
        a.set_rate(1e6);
        let mut t = 0;
        // 1 Mbit/s worth: 1250 bytes per 10 ms.
        for _ in 0..100 {
            t += 10 * MS;
            a.on_sent(t, 1250);
        }
        assert!(a.alr_start().is_none());
        // 200 kbit/s: the debt of the first second is paid off, then budget builds up.
        for _ in 0..200 {
            t += 10 * MS;
            a.on_sent(t, 250);
        }
        assert!(a.alr_start().is_some());
        for _ in 0..100 {
            t += 10 * MS;
            a.on_sent(t, 1250);
        }
        assert!(a.alr_start().is_none());
    }
}
