//! The one error type of this crate.

use thiserror::Error;

/// Why a packet could not be protected or unprotected, or a session could not be built.
///
/// Every per-packet error is also counted in [`Stats`](crate::Stats); none of them panics and
/// none of them changes the state of a stream (a rejected packet leaves ROC and replay window
/// untouched).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum Error {
    /// The packet is shorter than its header, or than header plus authentication tag (and the
    /// SRTCP index).
    #[error("packet truncated")]
    Truncated,
    /// The first octet does not announce RTP/RTCP version 2.
    #[error("not an RTP/RTCP version 2 packet")]
    BadVersion,
    /// The caller's buffer has no room for the tag (and SRTCP index) that protection appends.
    #[error("buffer too small: need {needed} octets, have {available}")]
    BufferTooSmall {
        /// Octets the protected packet needs.
        needed: usize,
        /// Octets the buffer holds.
        available: usize,
    },
    /// The authentication tag does not match: forged, corrupted or keyed differently.
    #[error("authentication failed")]
    AuthenticationFailed,
    /// The packet index was already received (RFC 3711 section 3.3.2), or already sent.
    #[error("replayed packet (index {index})")]
    Replayed {
        /// The SRTP packet index (ROC || SEQ) or SRTCP index.
        index: u64,
    },
    /// The packet index lies behind the replay window: it can no longer be checked.
    #[error("packet index {index} is older than the replay window")]
    TooOld {
        /// The SRTP packet index (ROC || SEQ) or SRTCP index.
        index: u64,
    },
    /// A packet with a new SSRC arrived while the session already holds its limit of streams.
    #[error("stream limit of {limit} SSRCs reached")]
    StreamLimit {
        /// The configured limit ([`Config::max_streams`](crate::Config::max_streams)).
        limit: usize,
    },
    /// The 48-bit SRTP index or the 31-bit SRTCP index is used up: the session must be re-keyed
    /// (RFC 3711 section 9.2).
    #[error("packet index space exhausted: re-key")]
    IndexExhausted,
    /// A master or session key or salt has the wrong length for the profile.
    #[error("wrong key length: expected {expected} octets, got {got}")]
    KeyLength {
        /// The length the profile needs.
        expected: usize,
        /// The length supplied.
        got: usize,
    },
    /// The DTLS-SRTP protection profile identifier is not one this crate implements.
    #[error("unsupported SRTP protection profile {0:#06x}")]
    UnsupportedProfile(u16),
    /// A [`Config`](crate::Config) value is out of range.
    #[error("invalid configuration: {0}")]
    InvalidConfig(&'static str),
    /// The crypto library refused an operation on valid-length input (never expected).
    #[error("crypto library failure")]
    Crypto,
}

impl Error {
    /// What kind of problem this is, and so what the caller can do about it.
    pub fn category(&self) -> rtcweb_core::ErrorCategory {
        use rtcweb_core::ErrorCategory as C;
        match self {
            Error::Truncated | Error::BadVersion => C::Malformed,
            Error::AuthenticationFailed | Error::Replayed { .. } | Error::TooOld { .. } => {
                C::Security
            }
            Error::BufferTooSmall { .. } | Error::StreamLimit { .. } | Error::IndexExhausted => {
                C::Capacity
            }
            Error::KeyLength { .. } | Error::InvalidConfig(_) => C::Config,
            Error::UnsupportedProfile(_) => C::Unsupported,
            Error::Crypto => C::Protocol,
        }
    }
}
