//! The crate's error type.

use thiserror::Error;

/// What can go wrong in the ICE agent.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// A candidate uses a transport this agent does not speak (it pairs UDP candidates only).
    #[error("unsupported candidate transport {0:?}")]
    UnsupportedTransport(String),
    /// A candidate for a component other than 1 (WebRTC multiplexes RTCP, RFC 8843).
    #[error("component {0} is not supported (only component 1)")]
    UnsupportedComponent(u16),
    /// ICE credentials that RFC 8839 section 5.4 does not allow.
    #[error("invalid ICE credentials: {0}")]
    InvalidCredentials(&'static str),
    /// Too many remote candidates; the new one was ignored.
    #[error("remote candidate limit reached")]
    TooManyCandidates,
    /// The call is not allowed in the agent's current state.
    #[error("invalid state: {0}")]
    InvalidState(&'static str),
}

impl Error {
    /// What kind of problem this is, and so what the caller can do about it.
    pub fn category(&self) -> rtcweb_core::ErrorCategory {
        use rtcweb_core::ErrorCategory as C;
        match self {
            Error::UnsupportedTransport(_) | Error::UnsupportedComponent(_) => C::Unsupported,
            Error::InvalidCredentials(_) => C::Malformed,
            Error::TooManyCandidates => C::Capacity,
            Error::InvalidState(_) => C::State,
        }
    }
}
