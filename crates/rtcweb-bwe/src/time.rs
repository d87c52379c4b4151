//! Time inside the estimators: signed microseconds on the sender's clock, counted from the
//! first instant the controller saw. Signed, so instants before that epoch (a caller that
//! reports a send time slightly in the past) stay representable, and so differences never
//! panic.

use std::time::{Duration, Instant};

/// Microseconds since the controller's epoch (sender clock), or on the receiver's clock
/// (arrival times): the two are never mixed except as differences of differences.
pub(crate) type Micros = i64;

/// One millisecond in [`Micros`].
pub(crate) const MS: Micros = 1_000;
/// One second in [`Micros`].
pub(crate) const SEC: Micros = 1_000_000;

/// Maps `Instant`s to [`Micros`] from a fixed epoch.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Clock {
    epoch: Option<Instant>,
    /// The last conversion: a sent packet's time is usually the `now` of the same call.
    last: Option<(Instant, Micros)>,
}

impl Clock {
    /// `t` in microseconds since the epoch; the first call fixes the epoch at `t`.
    pub(crate) fn micros(&mut self, t: Instant) -> Micros {
        if let Some((at, us)) = self.last
            && at == t
        {
            return us;
        }
        let epoch = *self.epoch.get_or_insert(t);
        let us = if t >= epoch {
            duration_micros(t - epoch)
        } else {
            -duration_micros(epoch - t)
        };
        self.last = Some((t, us));
        us
    }

    /// `t` in microseconds since the epoch, without fixing the epoch or caching (0 before
    /// the epoch is set).
    pub(crate) fn micros_of(&self, t: Instant) -> Micros {
        let Some(epoch) = self.epoch else { return 0 };
        if t >= epoch {
            duration_micros(t - epoch)
        } else {
            -duration_micros(epoch - t)
        }
    }

    /// The instant `us` microseconds after the epoch (None before the epoch is set).
    pub(crate) fn instant(&self, us: Micros) -> Option<Instant> {
        let epoch = self.epoch?;
        Some(if us >= 0 {
            epoch
                .checked_add(Duration::from_micros(us as u64))
                .unwrap_or(epoch)
        } else {
            epoch
                .checked_sub(Duration::from_micros(us.unsigned_abs()))
                .unwrap_or(epoch)
        })
    }
}

/// A duration in whole microseconds, saturating at `i64::MAX`.
pub(crate) fn duration_micros(d: Duration) -> Micros {
    i64::try_from(d.as_secs())
        .ok()
        .and_then(|s| s.checked_mul(SEC))
        .and_then(|us| us.checked_add(i64::from(d.subsec_micros())))
        .unwrap_or(i64::MAX)
}

/// A non-negative microsecond count as a `Duration` (negative gives zero).
pub(crate) fn to_duration(us: Micros) -> Duration {
    Duration::from_micros(us.max(0) as u64)
}
