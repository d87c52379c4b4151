//! The test pattern's frame dropper: a picture is skipped before encoding while the encoder
//! has put out clearly more than its target allows, as a browser's video pipeline does
//! (libwebrtc's frame dropper). An encoder's own rate control evens its output over a buffer
//! of about a second, so after the estimate drops it keeps sending at the old rate for that
//! long, into the very queue the estimator just backed off from; skipping pictures brings the
//! sent rate down to the new target within a few frames.

use std::time::Duration;

/// How much more than its target the encoder may have put out before pictures are skipped:
/// this many seconds of the target (room for a key frame and the encoder's normal swing).
const ALLOWANCE: Duration = Duration::from_millis(200);
/// At most this many pictures in a row are skipped. A receiver counts a freeze when a frame
/// interval passes three times the mean (at 30 frames/s about 180 ms): two skipped in a row
/// (100 ms) plus the jitter of a loaded bottleneck queue made one in suite 71.
const MAX_IN_A_ROW: u32 = 1;

/// A leaky bucket of the encoder's output in bits, drained at the target bitrate.
#[derive(Debug, Default)]
pub struct FrameDropper {
    excess_bits: f64,
    in_a_row: u32,
}

impl FrameDropper {
    /// One capture period went by at `target_bps`: drains the bucket; whether this period's
    /// picture is to be skipped.
    pub fn next_picture(&mut self, target_bps: u32, period: Duration) -> bool {
        let target = f64::from(target_bps);
        self.excess_bits = (self.excess_bits - target * period.as_secs_f64()).max(0.0);
        let skip =
            self.excess_bits > target * ALLOWANCE.as_secs_f64() && self.in_a_row < MAX_IN_A_ROW;
        self.in_a_row = if skip { self.in_a_row + 1 } else { 0 };
        skip
    }

    /// The encoder put out a frame of `bytes`.
    pub fn encoded(&mut self, bytes: usize) {
        self.excess_bits += bytes as f64 * 8.0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PERIOD: Duration = Duration::from_nanos(33_333_333);

    #[test]
    fn on_target_nothing_is_skipped() {
        let mut d = FrameDropper::default();
        for _ in 0..300 {
            assert!(!d.next_picture(300_000, PERIOD));
            d.encoded(300_000 / 8 / 30);
        }
    }

    #[test]
    fn after_a_drop_in_target_pictures_are_skipped_but_never_two_in_a_row() {
        let mut d = FrameDropper::default();
        // At 600 kbit/s, then the target halves while the encoder still makes 600 kbit/s.
        for _ in 0..30 {
            assert!(!d.next_picture(600_000, PERIOD));
            d.encoded(600_000 / 8 / 30);
        }
        let (mut skipped, mut run, mut longest) = (0, 0, 0);
        for _ in 0..60 {
            if d.next_picture(300_000, PERIOD) {
                skipped += 1;
                run += 1;
                longest = longest.max(run);
            } else {
                run = 0;
                d.encoded(600_000 / 8 / 30);
            }
        }
        // Half the pictures have to go for 600 kbit/s frames to make 300 kbit/s.
        assert!((20..=35).contains(&skipped), "{skipped} skipped");
        assert!(longest <= MAX_IN_A_ROW, "{longest} in a row");
    }
}
