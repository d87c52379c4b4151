//! Send times as the receive side sees them: the 24-bit abs-send-time header extension
//! (6.18 fixed-point seconds, wrapping every 64 s) unwrapped onto a continuous microsecond
//! scale of the sender's clock.

use crate::time::{Micros, SEC};

/// abs-send-time is 24 bits of 2^-18 s.
const ABS_BITS: u32 = 24;
const ABS_FRACTION_BITS: u32 = 18;
const ABS_MASK: u32 = (1 << ABS_BITS) - 1;
/// Half the abs-send-time range (32 s): a step larger than this forward is taken as a
/// step backwards across the wrap, as sequence numbers are unwrapped.
const ABS_HALF: i64 = 1 << (ABS_BITS - 1);

/// When a packet left the sender, as its header says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SendTime {
    /// The abs-send-time header extension
    /// (`http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time`): the low 24 bits
    /// of the sender's NTP time in 6.18 fixed-point seconds. Higher bits are ignored.
    AbsSendTime(u32),
    /// Microseconds on the sender's clock from any epoch that stays fixed for the session
    /// (a send time the caller already has on a continuous scale, for example from a
    /// transport-wide send-time extension or an SFU's own records).
    Micros(i64),
}

/// Unwraps abs-send-time values (in arrival order) into microseconds.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct AbsUnwrapper {
    /// The last raw value and its extended tick count (2^-18 s units).
    last: Option<(u32, i64)>,
}

impl AbsUnwrapper {
    /// `raw` (24 bits used) extended from the previous value, in microseconds.
    pub(crate) fn unwrap(&mut self, raw: u32) -> Micros {
        let raw = raw & ABS_MASK;
        let ticks = match self.last {
            None => i64::from(raw),
            Some((last, ext)) => {
                let mut d = i64::from(raw.wrapping_sub(last) & ABS_MASK);
                if d >= ABS_HALF {
                    d -= 1 << ABS_BITS;
                }
                ext.saturating_add(d)
            }
        };
        self.last = Some((raw, ticks));
        ticks_to_micros(ticks)
    }
}

/// 2^-18 s ticks in microseconds (saturating).
fn ticks_to_micros(ticks: i64) -> Micros {
    let us = (i128::from(ticks) * i128::from(SEC)) >> ABS_FRACTION_BITS;
    i64::try_from(us).unwrap_or(if us < 0 { i64::MIN } else { i64::MAX })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unwraps_across_the_64_second_wrap_and_back() {
        let mut u = AbsUnwrapper::default();
        // 63.5 s: 63.5 * 2^18 ticks.
        let near_end = (63.5 * f64::from(1u32 << 18)) as u32;
        let t0 = u.unwrap(near_end);
        assert_eq!(t0, 63_500_000);
        // 1 s later the value wrapped to 0.5 s.
        let t1 = u.unwrap(near_end.wrapping_add(1 << 18) & ABS_MASK);
        assert_eq!(t1 - t0, SEC);
        // A reordered packet from before the wrap is still before.
        let t2 = u.unwrap(near_end);
        assert_eq!(t2, t0);
        // Higher bits are ignored.
        assert_eq!(u.unwrap(near_end | 0xff00_0000), t0);
    }

    #[test]
    fn one_tick_is_under_four_microseconds() {
        let mut u = AbsUnwrapper::default();
        assert_eq!(u.unwrap(0), 0);
        assert_eq!(u.unwrap(1), 3);
        assert_eq!(u.unwrap(1 << 18), SEC);
        assert_eq!(ticks_to_micros(i64::MAX), i64::MAX);
        assert_eq!(ticks_to_micros(i64::MIN), i64::MIN);
    }
}
