//! The over-use detector with an adaptive threshold (draft-ietf-rmcat-gcc-02 sections 5.4
//! and 5.5). The trend is compared with a threshold that follows the trend's own
//! magnitude: slowly upwards (so a path with jitter does not look congested all the time,
//! and so a delay-based flow is not starved by a loss-based one that keeps a standing
//! queue) and faster downwards (so sensitivity returns once the path is quiet).

use crate::time::{MS, Micros};

/// Initial threshold, ms (draft: `del_var_th` starts at 12.5 ms).
const INITIAL_THRESHOLD: f64 = 12.5;
/// Threshold bounds, ms (draft section 5.4: [6, 600]).
const MIN_THRESHOLD: f64 = 6.0;
const MAX_THRESHOLD: f64 = 600.0;
/// Adaptation gains when the trend is above (`K_UP`) or below (`K_DOWN`) the threshold
/// (draft: `K_u` = 0.01, `K_d` = 0.00018 for the Kalman estimate; these are libwebrtc's
/// values for the trendline, whose scale differs).
const K_UP: f64 = 0.0087;
const K_DOWN: f64 = 0.039;
/// Trends further than this above the threshold do not move it (a sudden capacity drop
/// must not teach the detector to ignore it).
const MAX_ADAPT_OFFSET: f64 = 15.0;
/// The trend is multiplied by this and by the number of deltas (capped) before the
/// comparison, so one slope value means more when it is backed by more groups.
const GAIN: f64 = 4.0;
const MAX_DELTAS_SCALE: u32 = 60;
/// Over-use is signalled once the trend stayed above the threshold this long
/// (draft section 5.4: `overuse_time_th` = 10 ms) and for more than one group.
const OVERUSE_TIME: f64 = 10.0;

/// The detector's verdict (draft section 5.4: the signal `s`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Usage {
    /// The delay is steady.
    Normal,
    /// The queue is growing: the sender is above the path's capacity.
    Over,
    /// The queue is draining.
    Under,
}

/// Over-use detection from the trend.
#[derive(Debug)]
pub(crate) struct OveruseDetector {
    threshold: f64,
    last_update: Option<Micros>,
    time_over: Option<f64>,
    over_count: u32,
    prev_trend: f64,
    state: Usage,
}

impl Default for OveruseDetector {
    fn default() -> Self {
        Self {
            threshold: INITIAL_THRESHOLD,
            last_update: None,
            time_over: None,
            over_count: 0,
            prev_trend: 0.0,
            state: Usage::Normal,
        }
    }
}

impl OveruseDetector {
    /// Feeds one trend value computed at receiver time `arrival` from a group sent
    /// `send_delta` after the previous one; returns the state.
    pub(crate) fn detect(
        &mut self,
        trend: f64,
        deltas: u32,
        send_delta: Micros,
        arrival: Micros,
    ) -> Usage {
        if deltas < 2 {
            return self.state;
        }
        let modified = f64::from(deltas.min(MAX_DELTAS_SCALE)) * trend * GAIN;
        if modified > self.threshold {
            let dt = send_delta as f64 / MS as f64;
            // The first sample above: assume it has been above for half the gap.
            let t = self.time_over.map_or(dt / 2.0, |t| t + dt);
            self.time_over = Some(t);
            self.over_count += 1;
            if t > OVERUSE_TIME && self.over_count > 1 && trend >= self.prev_trend {
                self.time_over = None;
                self.over_count = 0;
                self.state = Usage::Over;
            }
        } else if modified < -self.threshold {
            self.time_over = None;
            self.over_count = 0;
            self.state = Usage::Under;
        } else {
            self.time_over = None;
            self.over_count = 0;
            self.state = Usage::Normal;
        }
        self.prev_trend = trend;
        self.adapt(modified, arrival);
        self.state
    }

    /// The current threshold (ms).
    #[cfg(test)]
    pub(crate) fn threshold(&self) -> f64 {
        self.threshold
    }

    fn adapt(&mut self, modified: f64, now: Micros) {
        let last = *self.last_update.get_or_insert(now);
        self.last_update = Some(now);
        let m = modified.abs();
        if m > self.threshold + MAX_ADAPT_OFFSET {
            return;
        }
        let k = if m < self.threshold { K_DOWN } else { K_UP };
        let dt_ms = (now.saturating_sub(last) as f64 / MS as f64).clamp(0.0, 100.0);
        self.threshold += k * (m - self.threshold) * dt_ms;
        self.threshold = self.threshold.clamp(MIN_THRESHOLD, MAX_THRESHOLD);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sustained_positive_trend_is_overuse_negative_is_underuse() {
        let mut d = OveruseDetector::default();
        let mut t = 0;
        let mut state = Usage::Normal;
        for _ in 0..3 {
            t += 10 * MS;
            state = d.detect(0.2, 100, 10 * MS, t);
        }
        assert_eq!(state, Usage::Over);
        t += 10 * MS;
        assert_eq!(d.detect(-0.2, 100, 10 * MS, t), Usage::Under);
        t += 10 * MS;
        assert_eq!(d.detect(0.0, 100, 10 * MS, t), Usage::Normal);
    }

    #[test]
    fn threshold_follows_a_jittery_trend_and_stays_in_bounds() {
        let mut d = OveruseDetector::default();
        let mut t = 0;
        for i in 0..2000 {
            t += 10 * MS;
            let trend = if i % 2 == 0 { 0.06 } else { -0.06 };
            d.detect(trend, 100, 10 * MS, t);
        }
        // |modified| = 60 * 0.06 * 4 = 14.4: the threshold settles near it.
        assert!((d.threshold() - 14.4).abs() < 1.0, "{}", d.threshold());
        for _ in 0..2000 {
            t += 10 * MS;
            d.detect(0.0, 100, 10 * MS, t);
        }
        assert_eq!(d.threshold(), MIN_THRESHOLD);
    }
}
