//! The rate of each layer, measured from what arrives: a one-second sliding window of
//! 100 ms buckets (fixed memory: ten counters per layer).

use std::time::{Duration, Instant};

/// Width of one bucket.
pub(crate) const BUCKET: Duration = Duration::from_millis(100);
/// Buckets in the window (one second).
const BUCKETS: u64 = 10;
/// Buckets a layer must have been seen over before its rate is trusted: half a window, so
/// the first key frame (several times a delta frame) does not count as the layer's rate.
const READY: u64 = 5;

/// Octets received on one layer per bucket.
#[derive(Debug, Clone, Default)]
pub(crate) struct RateMeter {
    buckets: [u64; BUCKETS as usize],
    /// Bucket number of the first and the newest octets.
    first: Option<u64>,
    last: u64,
}

/// The bucket number of `now` counted from `origin`.
pub(crate) fn bucket(origin: Instant, now: Instant) -> u64 {
    (now.saturating_duration_since(origin).as_millis() / BUCKET.as_millis()) as u64
}

impl RateMeter {
    /// Counts `octets` arriving in bucket `at`.
    pub fn add(&mut self, at: u64, octets: usize) {
        match self.first {
            None => {
                self.first = Some(at);
                self.last = at;
            }
            Some(_) if at > self.last => {
                // Clear the buckets skipped since the newest (at most a whole window).
                for b in self.last + 1..=at.min(self.last + BUCKETS) {
                    self.buckets[(b % BUCKETS) as usize] = 0;
                }
                if at > self.last + BUCKETS {
                    self.buckets[(at % BUCKETS) as usize] = 0;
                }
                self.last = at;
            }
            Some(_) => {}
        }
        // A late arrival (at < last, from a clock the owner moved back) counts as now.
        let slot = &mut self.buckets[(self.last % BUCKETS) as usize];
        *slot = slot.saturating_add(octets as u64);
    }

    /// The rate in bits per second over the window ending at bucket `at`, or `None` while
    /// the layer has been seen for less than half a window. A layer that stopped reads 0
    /// once a window has passed.
    pub fn rate(&self, at: u64) -> Option<u64> {
        let first = self.first?;
        let span = at.saturating_sub(first) + 1;
        if span < READY {
            return None;
        }
        let span = span.min(BUCKETS);
        let from = at + 1 - span;
        let octets: u64 = (from.max(self.last.saturating_sub(BUCKETS - 1))..=self.last)
            .filter(|b| *b >= from && *b <= at)
            .map(|b| self.buckets[(b % BUCKETS) as usize])
            .sum();
        let per_bucket_ms = BUCKET.as_millis() as u64;
        Some(octets.saturating_mul(8 * 1000) / (span * per_bucket_ms))
    }

    /// Whether anything arrived in the window ending at bucket `at`.
    pub fn active(&self, at: u64) -> bool {
        self.first.is_some() && self.last + BUCKETS > at
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steady_rate_is_measured_and_a_stopped_layer_reads_zero() {
        let mut m = RateMeter::default();
        // 1250 octets per bucket = 100 kbit/s.
        for b in 0..30 {
            assert_eq!(m.rate(b).is_some(), b >= READY - 1);
            m.add(b, 1250);
        }
        assert_eq!(m.rate(29), Some(100_000));
        assert!(m.active(35));
        assert_eq!(m.rate(40), Some(0));
        assert!(!m.active(40));
        m.add(100, 1250);
        assert_eq!(m.rate(100), Some(10_000));
    }
}
