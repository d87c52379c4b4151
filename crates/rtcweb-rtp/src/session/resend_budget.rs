//! The retransmission budget of a congestion-controlled session: NACKed packets are resent
//! at most at the target bitrate, measured over a window of a second (libwebrtc bounds its
//! retransmissions the same way). Without it, the losses of a full bottleneck (a capacity
//! step down) are answered with retransmissions on top of the media, which keep the queue
//! full and cause more losses: on a 2 -> 0.6 Mbit/s step the sender put about 750 kbit/s
//! into the 600 kbit/s bottleneck for three seconds, the media taking 200 of it.

use std::time::{Duration, Instant};

/// The window the budget is counted over: a burst of losses may be repaired at once up to
/// this much of the target.
const WINDOW: Duration = Duration::from_secs(1);

/// A token bucket of bits, filled at the target bitrate up to one window of it.
#[derive(Debug, Default)]
pub(crate) struct ResendBudget {
    /// Bits left and when they were counted; `None` until the first resend (a full bucket).
    level: Option<(f64, Instant)>,
}

impl ResendBudget {
    /// Takes `bytes` for a resend at `now` with the target at `target_bps`: whether they fit.
    pub(crate) fn try_take(&mut self, now: Instant, target_bps: u64, bytes: usize) -> bool {
        let rate = target_bps as f64;
        let cap = rate * WINDOW.as_secs_f64();
        let level = match self.level {
            None => cap,
            Some((bits, at)) => {
                (bits + rate * now.saturating_duration_since(at).as_secs_f64()).min(cap)
            }
        };
        let need = bytes as f64 * 8.0;
        let fits = need <= level;
        self.level = Some((if fits { level - need } else { level }, now));
        fits
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resends_are_bounded_by_the_target_over_a_window() {
        let t0 = Instant::now();
        let mut b = ResendBudget::default();
        // 300 kbit/s: one window is 37,500 octets, 31 packets of 1,200.
        let taken = (0..100).filter(|_| b.try_take(t0, 300_000, 1200)).count();
        assert_eq!(taken, 31);
        // A tenth of a second refills 30 kbit: three more packets.
        let t1 = t0 + Duration::from_millis(100);
        let taken = (0..100).filter(|_| b.try_take(t1, 300_000, 1200)).count();
        assert_eq!(taken, 3);
        // Over ten seconds at a packet every 10 ms (960 kbit/s asked), 300 kbit/s goes.
        let mut bits = 0;
        for k in 1..=1000 {
            if b.try_take(t1 + Duration::from_millis(10 * k), 300_000, 1200) {
                bits += 1200 * 8;
            }
        }
        let rate = f64::from(bits) / 10.0;
        assert!((280_000.0..=310_000.0).contains(&rate), "{rate}");
    }

    #[test]
    fn a_refused_resend_takes_nothing() {
        let t0 = Instant::now();
        let mut b = ResendBudget::default();
        assert!(!b.try_take(t0, 8_000, 1200));
        // The bucket (1,000 octets) is still full for a smaller packet.
        assert!(b.try_take(t0, 8_000, 1000));
    }
}
