//! The delay trend: a least-squares slope of the (smoothed) accumulated one-way delay
//! variation over the last groups. draft-ietf-rmcat-gcc-02 section 5.3 estimates the
//! same quantity, `m(i)`, with a Kalman filter; libwebrtc replaced that by this trendline
//! because a slope over a window reacts to a building queue as fast and is steadier on
//! jittery paths. The output is unitless: milliseconds of extra delay per millisecond.

use crate::inter_arrival::GroupDelta;
use crate::time::Micros;

/// Groups in the regression window.
pub(crate) const WINDOW: usize = 20;
/// Exponential smoothing of the accumulated delay before the fit.
const SMOOTHING: f64 = 0.9;
/// The count of deltas seen is capped here (it scales the trend in the detector).
const MAX_DELTAS: u32 = 1000;

/// Fits the trend of the queueing delay.
#[derive(Debug)]
pub(crate) struct Trendline {
    /// (arrival ms since the first group, smoothed accumulated delay ms), oldest first
    /// starting at `head`.
    points: [(f64, f64); WINDOW],
    len: usize,
    head: usize,
    first_arrival: Option<Micros>,
    accumulated_ms: f64,
    smoothed_ms: f64,
    deltas: u32,
    trend: f64,
}

impl Default for Trendline {
    fn default() -> Self {
        Self {
            points: [(0.0, 0.0); WINDOW],
            len: 0,
            head: 0,
            first_arrival: None,
            accumulated_ms: 0.0,
            smoothed_ms: 0.0,
            deltas: 0,
            trend: 0.0,
        }
    }
}

impl Trendline {
    /// Adds a group delta; returns the trend once the window is full.
    pub(crate) fn update(&mut self, d: &GroupDelta) -> Option<f64> {
        let delay_ms = (d.arrival_delta.saturating_sub(d.send_delta)) as f64 / 1000.0;
        self.deltas = (self.deltas + 1).min(MAX_DELTAS);
        self.accumulated_ms += delay_ms;
        self.smoothed_ms = SMOOTHING * self.smoothed_ms + (1.0 - SMOOTHING) * self.accumulated_ms;
        let first = *self.first_arrival.get_or_insert(d.arrival);
        let x = d.arrival.saturating_sub(first) as f64 / 1000.0;
        let point = (x, self.smoothed_ms);
        if self.len < WINDOW {
            self.points[(self.head + self.len) % WINDOW] = point;
            self.len += 1;
        } else {
            self.points[self.head] = point;
            self.head = (self.head + 1) % WINDOW;
        }
        if self.len < WINDOW {
            return None;
        }
        if let Some(slope) = self.slope() {
            self.trend = slope;
        }
        Some(self.trend)
    }

    /// How many deltas went in (capped).
    pub(crate) fn deltas(&self) -> u32 {
        self.deltas
    }

    fn slope(&self) -> Option<f64> {
        let n = self.len as f64;
        let (sx, sy) = self
            .points
            .iter()
            .fold((0.0, 0.0), |(a, b), p| (a + p.0, b + p.1));
        let (mx, my) = (sx / n, sy / n);
        let (num, den) = self.points.iter().fold((0.0, 0.0), |(a, b), p| {
            let dx = p.0 - mx;
            (a + dx * (p.1 - my), b + dx * dx)
        });
        let slope = num / den;
        (den > 0.0 && slope.is_finite()).then_some(slope)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::MS;

    fn delta(i: i64, extra_us: i64) -> GroupDelta {
        GroupDelta {
            send_delta: 10 * MS,
            arrival_delta: 10 * MS + extra_us,
            arrival: i * 10 * MS,
        }
    }

    #[test]
    fn flat_delay_has_no_trend_and_growing_delay_has_one() {
        let mut t = Trendline::default();
        let mut last = None;
        for i in 0..40 {
            last = t.update(&delta(i, 0));
        }
        assert_eq!(last, Some(0.0));
        for i in 40..80 {
            last = t.update(&delta(i, 1000)); // 1 ms more per 10 ms: slope 0.1
        }
        let slope = last.expect("trend");
        assert!((slope - 0.1).abs() < 0.01, "{slope}");
    }
}
