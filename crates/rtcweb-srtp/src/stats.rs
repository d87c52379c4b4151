//! Counters for what a session did and refused.

use crate::Error;

/// Packet and error counters of a [`Session`](crate::Session). Every error a packet method
/// returns increments exactly one error counter.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Stats {
    /// RTP packets protected.
    pub rtp_protected: u64,
    /// SRTP packets verified and decrypted.
    pub rtp_unprotected: u64,
    /// RTCP packets protected.
    pub rtcp_protected: u64,
    /// SRTCP packets verified and decrypted.
    pub rtcp_unprotected: u64,
    /// Packets shorter than header + tag (+ SRTCP index), or whose header runs past the end.
    pub truncated: u64,
    /// Packets whose first octet is not version 2.
    pub bad_version: u64,
    /// Packets whose authentication tag did not verify.
    pub auth_failures: u64,
    /// Packets whose index was already seen (replays), or already sent.
    pub replayed: u64,
    /// Packets older than the replay window.
    pub too_old: u64,
    /// Packets refused because their SSRC was new and the stream limit was reached.
    pub stream_limit: u64,
    /// Protect calls whose buffer had no room for the tag.
    pub buffer_too_small: u64,
    /// Packets refused because the index space was used up.
    pub index_exhausted: u64,
    /// Crypto library failures (never expected).
    pub crypto_failures: u64,
}

impl Stats {
    /// Counts `error` in its counter.
    pub(crate) fn count(&mut self, error: &Error) {
        let c = match error {
            Error::Truncated => &mut self.truncated,
            Error::BadVersion => &mut self.bad_version,
            Error::AuthenticationFailed => &mut self.auth_failures,
            Error::Replayed { .. } => &mut self.replayed,
            Error::TooOld { .. } => &mut self.too_old,
            Error::StreamLimit { .. } => &mut self.stream_limit,
            Error::BufferTooSmall { .. } => &mut self.buffer_too_small,
            Error::IndexExhausted => &mut self.index_exhausted,
            Error::Crypto
            | Error::KeyLength { .. }
            | Error::UnsupportedProfile(_)
            | Error::InvalidConfig(_) => &mut self.crypto_failures,
        };
        *c += 1;
    }

    /// Sum of all error counters.
    pub fn errors(&self) -> u64 {
        self.truncated
            + self.bad_version
            + self.auth_failures
            + self.replayed
            + self.too_old
            + self.stream_limit
            + self.buffer_too_small
            + self.index_exhausted
            + self.crypto_failures
    }
}
