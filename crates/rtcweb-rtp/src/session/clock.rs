//! NTP time derived from the injected `now`, and a small seedable generator.

use std::time::{Duration, Instant};

/// Maps `Instant`s to NTP timestamps: `ntp_base` is the NTP time of `start`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Clock {
    pub start: Instant,
    pub ntp_base: u64,
}

impl Clock {
    /// NTP timestamp (32.32) of `now`.
    pub fn ntp(&self, now: Instant) -> u64 {
        self.ntp_base
            .wrapping_add(duration_to_ntp(now.saturating_duration_since(self.start)))
    }

    /// Time since start in units of `1/rate` seconds.
    pub fn units(&self, now: Instant, rate: u32) -> u64 {
        let d = now.saturating_duration_since(self.start);
        (d.as_nanos() * u128::from(rate) / 1_000_000_000) as u64
    }
}

/// A duration as 32.32 fixed point seconds.
pub(crate) fn duration_to_ntp(d: Duration) -> u64 {
    (d.as_secs() << 32) + ((u64::from(d.subsec_nanos()) << 32) / 1_000_000_000)
}

/// The middle 32 bits of an NTP timestamp (the LSR / LRR format, 16.16 seconds).
pub(crate) fn mid32(ntp: u64) -> u32 {
    (ntp >> 16) as u32
}

/// A duration in units of 1/65536 s (DLSR / DLRR).
pub(crate) fn to_1_65536(d: Duration) -> u32 {
    u32::try_from(d.as_nanos() * 65536 / 1_000_000_000).unwrap_or(u32::MAX)
}

/// The inverse of [`to_1_65536`].
pub(crate) fn from_1_65536(v: u32) -> Duration {
    Duration::from_nanos(u64::from(v) * 1_000_000_000 / 65536)
}

/// Round-trip time from an echoed 16.16 timestamp and the delay the peer held it
/// (RFC 3550 section 6.4.1): `A - LSR - DLSR`, or `None` when it is not positive.
pub(crate) fn rtt(now_mid32: u32, last: u32, delay: u32) -> Option<Duration> {
    if last == 0 {
        return None;
    }
    let r = now_mid32.wrapping_sub(last).wrapping_sub(delay);
    // A "negative" result (clock steps, bogus echo) shows up as a huge value.
    (r < 0x8000_0000).then(|| from_1_65536(r))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rtt_from_echoed_timestamps() {
        let c = Clock {
            start: Instant::now(),
            ntp_base: 0xe000_0000_0000_0000,
        };
        let sent = c.ntp(c.start + Duration::from_millis(1000));
        let now = c.ntp(c.start + Duration::from_millis(1250));
        // The peer held the report 50 ms: 200 ms on the wire.
        let r = rtt(
            mid32(now),
            mid32(sent),
            to_1_65536(Duration::from_millis(50)),
        )
        .unwrap();
        assert!((r.as_secs_f64() - 0.2).abs() < 0.001, "{r:?}");
        assert_eq!(rtt(mid32(now), 0, 0), None);
        assert_eq!(rtt(mid32(sent), mid32(now), 0), None);
    }
}
