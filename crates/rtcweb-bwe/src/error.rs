//! The crate's one error type.

use crate::Bitrate;

/// What can go wrong in `rtcweb-bwe`. Wire-derived inputs (feedback, reports) never fail:
/// records the controller cannot use are skipped and counted. Errors are for calls whose
/// arguments contradict each other, so the caller learns of its mistake.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The bitrate limits are inconsistent (minimum above maximum, or a zero maximum).
    #[error("invalid bitrate limits: min {min}, max {max}")]
    InvalidLimits {
        /// The minimum given.
        min: Bitrate,
        /// The maximum given.
        max: Bitrate,
    },
    /// A configuration value is out of its range.
    #[error("invalid configuration: {0}")]
    InvalidConfig(&'static str),
}

impl Error {
    /// What kind of problem this is: every variant is the caller's own argument.
    pub fn category(&self) -> rtcweb_core::ErrorCategory {
        match self {
            Error::InvalidLimits { .. } | Error::InvalidConfig(_) => {
                rtcweb_core::ErrorCategory::Config
            }
        }
    }
}

/// Result with this crate's [`Error`].
pub type Result<T, E = Error> = core::result::Result<T, E>;
