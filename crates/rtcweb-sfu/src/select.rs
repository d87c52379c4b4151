//! Which layer fits a subscriber's bandwidth estimate, with hysteresis: up only when the
//! estimate has exceeded the higher layer's measured rate with a margin for a while, down as
//! soon as the current layer's rate is above the estimate.

use std::time::{Duration, Instant};

use crate::MAX_LAYERS;

/// The hysteresis of layer choice.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Hysteresis {
    /// A higher layer is chosen only if the estimate exceeds its rate by this many percent
    /// (the layer's rate varies with the picture and its key frames; without headroom the
    /// subscriber's link would be filled and its estimate would fall back).
    pub up_margin_percent: u32,
    /// ... continuously for this long (one estimate that overshoots is not a reason to ask
    /// the publisher for a key frame).
    pub up_hold: Duration,
}

impl Default for Hysteresis {
    fn default() -> Self {
        Self {
            up_margin_percent: 20,
            up_hold: Duration::from_secs(1),
        }
    }
}

/// The state of the choice between calls: since when a higher layer has fitted.
#[derive(Debug, Clone, Default)]
pub(crate) struct Selector {
    up_since: Option<Instant>,
}

impl Selector {
    /// The layer to forward now, given the one forwarded (or aimed at) and the measured rates
    /// (`None`: not measured yet; `Some(0)`: the layer stopped).
    pub fn choose(
        &mut self,
        now: Instant,
        h: &Hysteresis,
        current: u8,
        estimate: Option<u64>,
        rates: &[Option<u64>; MAX_LAYERS],
    ) -> u8 {
        let available = |l: usize| rates[l].is_some_and(|r| r > 0);
        let lowest = (0..MAX_LAYERS).find(|&l| available(l));
        let (Some(estimate), Some(lowest)) = (estimate, lowest) else {
            self.up_since = None;
            return current;
        };
        let cur = usize::from(current);
        let fits = |l: usize, margin: u32| {
            rates[l].is_some_and(|r| {
                r > 0 && u128::from(r) * u128::from(100 + margin) <= u128::from(estimate) * 100
            })
        };
        // Down at once: the current layer stopped, or it costs more than the estimate.
        if !available(cur) || !fits(cur, 0) {
            self.up_since = None;
            let limit = if available(cur) { cur } else { MAX_LAYERS };
            let down = (0..limit).rev().find(|&l| fits(l, 0)).unwrap_or(lowest);
            // When nothing fits, the lowest layer still goes (a frozen picture is worse than
            // a congested one, and the estimate recovers from it).
            return down as u8;
        }
        let up = (cur + 1..MAX_LAYERS)
            .rev()
            .find(|&l| fits(l, h.up_margin_percent));
        match up {
            Some(up) => {
                let since = *self.up_since.get_or_insert(now);
                if now.saturating_duration_since(since) >= h.up_hold {
                    self.up_since = None;
                    up as u8
                } else {
                    current
                }
            }
            None => {
                self.up_since = None;
                current
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const RATES: [Option<u64>; MAX_LAYERS] = [Some(150_000), Some(500_000), Some(1_500_000), None];

    #[test]
    fn up_after_the_hold_down_at_once() {
        let t0 = Instant::now();
        let h = Hysteresis::default();
        let mut s = Selector::default();
        assert_eq!(s.choose(t0, &h, 0, Some(5_000_000), &RATES), 0);
        let t1 = t0 + Duration::from_millis(999);
        assert_eq!(s.choose(t1, &h, 0, Some(5_000_000), &RATES), 0);
        let t2 = t0 + Duration::from_secs(1);
        assert_eq!(s.choose(t2, &h, 0, Some(5_000_000), &RATES), 2);
        // 1.6 Mbit/s keeps layer 2 (no margin needed to stay) but would not reach it.
        assert_eq!(s.choose(t2, &h, 2, Some(1_600_000), &RATES), 2);
        assert_eq!(s.choose(t2, &h, 2, Some(1_000_000), &RATES), 1);
        assert_eq!(s.choose(t2, &h, 1, Some(100_000), &RATES), 0);
        // A dip resets the hold.
        let mut s = Selector::default();
        assert_eq!(s.choose(t0, &h, 0, Some(1_000_000), &RATES), 0);
        assert_eq!(s.choose(t1, &h, 0, Some(550_000), &RATES), 0);
        assert_eq!(s.choose(t2, &h, 0, Some(1_000_000), &RATES), 0);
        assert_eq!(s.choose(t2 + h.up_hold, &h, 0, Some(1_000_000), &RATES), 1);
    }
}
