//! How fast the receiver is getting our packets, from the arrival times in feedback.
//!
//! Two views. [`AckedBitrate::estimate`] is a Bayesian filter over fixed windows of
//! arrival time (a short window, one long window at the start): samples far from the
//! current estimate count less, so one bursty window (a key frame, a probe) barely moves
//! it. It caps how far the estimate may rise above what actually gets through, and feeds
//! the loss-based estimator. [`AckedBitrate::recent`] is the plain delivery rate over the
//! last quarter second: while the bottleneck queue is non-empty it is exactly our share
//! of the capacity, which is what a decrease must be based on (the filter lags a capacity
//! drop by up to a second).

use crate::time::{MS, Micros};

/// The first sample covers this much arrival time, so the start is not a guess from a
/// few packets.
const INITIAL_WINDOW: Micros = 500 * MS;
/// Later samples cover this much.
const WINDOW: Micros = 150 * MS;
/// How much a sample's distance from the estimate counts as its uncertainty.
const UNCERTAINTY_SCALE: f64 = 10.0;
/// In application-limited periods samples below the estimate say little about the path.
const UNCERTAINTY_SCALE_ALR: f64 = 20.0;
/// Variance added per sample: the path may change between samples (kbit/s squared).
const PROCESS_NOISE: f64 = 5.0;
/// Delivery-rate samples are taken at least this far apart in arrival time.
const DELIVERY_SPACING: Micros = 5 * MS;
/// Delivery-rate ring size: 128 samples of at least 5 ms cover at least 640 ms.
const DELIVERY_SAMPLES: usize = 128;

/// The acknowledged bitrate.
#[derive(Debug)]
pub(crate) struct AckedBitrate {
    sum_bytes: u64,
    window_elapsed: Micros,
    prev_arrival: Option<Micros>,
    estimate_kbps: Option<f64>,
    variance: f64,
    in_alr: bool,
    delivery: [(Micros, u64); DELIVERY_SAMPLES],
    delivery_len: usize,
    delivery_head: usize,
    delivered: u64,
}

impl Default for AckedBitrate {
    fn default() -> Self {
        Self {
            sum_bytes: 0,
            window_elapsed: 0,
            prev_arrival: None,
            estimate_kbps: None,
            variance: 50.0,
            in_alr: false,
            delivery: [(0, 0); DELIVERY_SAMPLES],
            delivery_len: 0,
            delivery_head: 0,
            delivered: 0,
        }
    }
}

impl AckedBitrate {
    /// Whether the sender is application limited (samples below the estimate are then
    /// trusted less).
    pub(crate) fn set_alr(&mut self, in_alr: bool) {
        self.in_alr = in_alr;
    }

    /// A packet of `size` bytes arrived at `arrival` (receiver clock). Packets must come
    /// in arrival order within a report.
    pub(crate) fn on_acked(&mut self, arrival: Micros, size: u32) {
        self.on_delivery(arrival, size);
        let window = if self.estimate_kbps.is_some() {
            WINDOW
        } else {
            INITIAL_WINDOW
        };
        if let Some(kbps) = self.window_sample(arrival, size, window) {
            self.bayes(kbps);
        }
    }

    /// The filtered acknowledged bitrate, bits per second.
    pub(crate) fn estimate(&self) -> Option<f64> {
        self.estimate_kbps.map(|k| k * 1000.0)
    }

    /// The delivery rate over (at most) the last `span` of arrival time, bits per second;
    /// `None` until samples cover at least half of `span`.
    pub(crate) fn recent(&self, span: Micros) -> Option<f64> {
        if self.delivery_len < 2 {
            return None;
        }
        let newest = self.delivery_at(self.delivery_len - 1);
        let mut oldest = newest;
        for i in (0..self.delivery_len - 1).rev() {
            let s = self.delivery_at(i);
            if newest.0.saturating_sub(s.0) > span {
                break;
            }
            oldest = s;
        }
        let dt = newest.0.saturating_sub(oldest.0);
        if dt < span / 2 || dt <= 0 {
            return None;
        }
        Some(newest.1.saturating_sub(oldest.1) as f64 * 8.0 * 1e6 / dt as f64)
    }

    fn delivery_at(&self, i: usize) -> (Micros, u64) {
        self.delivery[(self.delivery_head + i) % DELIVERY_SAMPLES]
    }

    fn on_delivery(&mut self, arrival: Micros, size: u32) {
        self.delivered = self.delivered.saturating_add(u64::from(size));
        let last = (self.delivery_len > 0).then(|| self.delivery_at(self.delivery_len - 1));
        match last {
            Some((t, _)) if arrival < t => {
                // Reordered across reports: counted, but no sample in the past. A receiver
                // clock that went far backwards restarts the ring.
                if t.saturating_sub(arrival) > 1_000 * MS {
                    self.delivery_len = 0;
                }
            }
            Some((t, _)) if arrival.saturating_sub(t) < DELIVERY_SPACING => {
                let i = (self.delivery_head + self.delivery_len - 1) % DELIVERY_SAMPLES;
                self.delivery[i].1 = self.delivered;
            }
            _ => {
                let sample = (arrival, self.delivered);
                if self.delivery_len < DELIVERY_SAMPLES {
                    self.delivery[(self.delivery_head + self.delivery_len) % DELIVERY_SAMPLES] =
                        sample;
                    self.delivery_len += 1;
                } else {
                    self.delivery[self.delivery_head] = sample;
                    self.delivery_head = (self.delivery_head + 1) % DELIVERY_SAMPLES;
                }
            }
        }
    }

    /// Accumulates bytes per window of arrival time; returns a sample (kbit/s) when a
    /// window completes.
    fn window_sample(&mut self, arrival: Micros, size: u32, window: Micros) -> Option<f64> {
        match self.prev_arrival {
            Some(prev) if arrival < prev => {
                // Time went backwards on the receiver clock: start the window over.
                self.sum_bytes = 0;
                self.window_elapsed = 0;
            }
            Some(prev) => {
                let gap = arrival.saturating_sub(prev);
                self.window_elapsed = self.window_elapsed.saturating_add(gap);
                if gap > window {
                    // Nothing arrived for a whole window: what came before is stale.
                    self.sum_bytes = 0;
                    self.window_elapsed %= window;
                }
            }
            None => {}
        }
        self.prev_arrival = Some(arrival);
        let mut sample = None;
        if self.window_elapsed >= window {
            sample = Some(self.sum_bytes as f64 * 8.0 / (window as f64 / 1000.0));
            self.window_elapsed -= window;
            self.sum_bytes = 0;
        }
        self.sum_bytes = self.sum_bytes.saturating_add(u64::from(size));
        sample
    }

    fn bayes(&mut self, sample_kbps: f64) {
        let Some(est) = self.estimate_kbps else {
            self.estimate_kbps = Some(sample_kbps);
            return;
        };
        let scale = if self.in_alr && sample_kbps < est {
            UNCERTAINTY_SCALE_ALR
        } else {
            UNCERTAINTY_SCALE
        };
        // The distance relative to the estimate: a sample at twice the estimate is twice
        // as doubtful as one at half of it, so the filter follows drops faster than jumps.
        let uncertainty = scale * (est - sample_kbps).abs() / est.max(1.0);
        let sample_var = uncertainty * uncertainty;
        let pred_var = self.variance + PROCESS_NOISE;
        let new = (sample_var * est + pred_var * sample_kbps) / (sample_var + pred_var);
        if new.is_finite() {
            self.estimate_kbps = Some(new.max(0.0));
            self.variance = sample_var * pred_var / (sample_var + pred_var);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 1000-byte packets every `gap` for `dur`, starting at `t0`; returns the end time.
    fn feed(a: &mut AckedBitrate, t0: Micros, gap: Micros, dur: Micros) -> Micros {
        let mut t = t0;
        while t < t0 + dur {
            a.on_acked(t, 1000);
            t += gap;
        }
        t
    }

    #[test]
    fn converges_to_the_arrival_rate() {
        let mut a = AckedBitrate::default();
        // 1000 bytes per 4 ms = 2 Mbit/s.
        let t = feed(&mut a, 0, 4 * MS, 3_000 * MS);
        let e = a.estimate().expect("estimate");
        assert!((e - 2e6).abs() < 0.05e6, "{e}");
        let r = a.recent(250 * MS).expect("recent");
        assert!((r - 2e6).abs() < 0.05e6, "{r}");
        // Drop to 0.5 Mbit/s: the delivery rate follows within its span.
        let t = feed(&mut a, t, 16 * MS, 300 * MS);
        let r = a.recent(250 * MS).expect("recent");
        assert!((r - 0.5e6).abs() < 0.05e6, "{r}");
        // The filter lags but gets there.
        feed(&mut a, t, 16 * MS, 3_000 * MS);
        let e = a.estimate().expect("estimate");
        assert!((e - 0.5e6).abs() < 0.05e6, "{e}");
    }
}
