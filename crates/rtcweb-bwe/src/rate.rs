//! Bit rates as a type, so a rate is never confused with a byte count or a time.

use std::fmt;
use std::ops::{Add, Sub};
use std::time::Duration;

/// A bit rate in bits per second.
///
/// ```
/// use rtcweb_bwe::Bitrate;
/// let r = Bitrate::from_kbps(2_500);
/// assert_eq!(r.bps(), 2_500_000);
/// assert_eq!(r.to_string(), "2.500 Mbit/s");
/// assert_eq!(r.bytes_in(std::time::Duration::from_millis(8)), 2_500);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Bitrate(u64);

impl Bitrate {
    /// No rate at all.
    pub const ZERO: Bitrate = Bitrate(0);
    /// The largest rate (used for "no limit").
    pub const MAX: Bitrate = Bitrate(u64::MAX);

    /// `bps` bits per second.
    pub const fn from_bps(bps: u64) -> Self {
        Self(bps)
    }

    /// `kbps` kilobits (1000 bits) per second.
    pub const fn from_kbps(kbps: u64) -> Self {
        Self(kbps.saturating_mul(1000))
    }

    /// Bits per second.
    pub const fn bps(self) -> u64 {
        self.0
    }

    /// Bits per second as a float, for the estimators' arithmetic.
    pub fn as_f64(self) -> f64 {
        self.0 as f64
    }

    /// A rate from a float number of bits per second; negative and NaN give zero, values
    /// above `u64::MAX` saturate.
    pub fn from_f64(bps: f64) -> Self {
        if bps.is_nan() || bps <= 0.0 {
            Self(0)
        } else if bps >= u64::MAX as f64 {
            Self(u64::MAX)
        } else {
            Self(bps as u64)
        }
    }

    /// The rate scaled by `factor` (saturating, never negative).
    pub fn mul_f64(self, factor: f64) -> Self {
        Self::from_f64(self.as_f64() * factor)
    }

    /// Bytes this rate carries in `d` (rounded down, saturating).
    pub fn bytes_in(self, d: Duration) -> u64 {
        let bits = u128::from(self.0) * d.as_nanos() / 1_000_000_000;
        u64::try_from(bits / 8).unwrap_or(u64::MAX)
    }

    /// The smaller of two rates.
    pub fn min(self, other: Self) -> Self {
        Ord::min(self, other)
    }

    /// The larger of two rates.
    pub fn max(self, other: Self) -> Self {
        Ord::max(self, other)
    }
}

impl Add for Bitrate {
    type Output = Bitrate;
    fn add(self, rhs: Self) -> Self {
        Self(self.0.saturating_add(rhs.0))
    }
}

impl Sub for Bitrate {
    type Output = Bitrate;
    fn sub(self, rhs: Self) -> Self {
        Self(self.0.saturating_sub(rhs.0))
    }
}

impl fmt::Display for Bitrate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0 >= 1_000_000 {
            write!(f, "{:.3} Mbit/s", self.0 as f64 / 1e6)
        } else {
            write!(f, "{:.1} kbit/s", self.0 as f64 / 1e3)
        }
    }
}
