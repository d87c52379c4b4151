//! What the link carried when it was last full: the acknowledged rate at each over-use,
//! averaged, with its spread. The rate control uses it to tell "near the known capacity"
//! (increase carefully, additively) from "somewhere below or above it" (increase
//! multiplicatively until the next over-use says where the capacity is now).

/// Weight of a new over-use sample.
const ALPHA_OVERUSE: f64 = 0.05;
/// Weight of a probe result (measured directly, so trusted more).
const ALPHA_PROBE: f64 = 0.5;
/// Bounds of the normalised variance (kbit/s); they keep the band from collapsing to
/// nothing on a perfectly steady link or opening up on a noisy one.
const MIN_DEVIATION: f64 = 0.4;
const MAX_DEVIATION: f64 = 2.5;

/// Link capacity estimate, kbit/s internally.
#[derive(Debug, Clone, Copy)]
pub(crate) struct LinkCapacity {
    estimate_kbps: Option<f64>,
    deviation: f64,
}

impl Default for LinkCapacity {
    fn default() -> Self {
        Self {
            estimate_kbps: None,
            deviation: MIN_DEVIATION,
        }
    }
}

impl LinkCapacity {
    /// The estimate, bits per second.
    pub(crate) fn estimate(&self) -> Option<f64> {
        self.estimate_kbps.map(|k| k * 1000.0)
    }

    /// Three standard deviations above the estimate (bits per second), or infinity.
    pub(crate) fn upper(&self) -> f64 {
        self.estimate_kbps
            .map_or(f64::INFINITY, |e| (e + 3.0 * self.std_kbps(e)) * 1000.0)
    }

    /// Three standard deviations below the estimate (bits per second), or zero.
    pub(crate) fn lower(&self) -> f64 {
        self.estimate_kbps
            .map_or(0.0, |e| ((e - 3.0 * self.std_kbps(e)) * 1000.0).max(0.0))
    }

    /// The acknowledged rate when an over-use was detected.
    pub(crate) fn on_overuse(&mut self, bps: f64) {
        self.update(bps, ALPHA_OVERUSE);
    }

    /// A probe measured `bps`.
    pub(crate) fn on_probe(&mut self, bps: f64) {
        self.update(bps, ALPHA_PROBE);
    }

    /// Forgets the estimate.
    pub(crate) fn reset(&mut self) {
        self.estimate_kbps = None;
    }

    fn std_kbps(&self, estimate_kbps: f64) -> f64 {
        (self.deviation * estimate_kbps).sqrt()
    }

    fn update(&mut self, bps: f64, alpha: f64) {
        if !bps.is_finite() || bps < 0.0 {
            return;
        }
        let sample = bps / 1000.0;
        let est = match self.estimate_kbps {
            None => sample,
            Some(e) => (1.0 - alpha) * e + alpha * sample,
        };
        let err = est - sample;
        self.deviation = ((1.0 - alpha) * self.deviation + alpha * err * err / est.max(1.0))
            .clamp(MIN_DEVIATION, MAX_DEVIATION);
        self.estimate_kbps = Some(est);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn band_is_a_few_percent_of_a_steady_capacity() {
        let mut l = LinkCapacity::default();
        assert_eq!(l.upper(), f64::INFINITY);
        for _ in 0..50 {
            l.on_overuse(2.0e6);
        }
        let (lo, e, hi) = (l.lower(), l.estimate().expect("estimate"), l.upper());
        assert!((e - 2.0e6).abs() < 1.0);
        // sqrt(0.4 * 2000) = 28 kbit/s; three of them either side.
        assert!((hi - e - 84_853.0).abs() < 100.0, "{hi}");
        assert!((e - lo - 84_853.0).abs() < 100.0, "{lo}");
    }
}
