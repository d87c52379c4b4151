//! The crate's one error type: what is wrong with a value that crosses layers.

use crate::setup::Setup;

/// A shared value (fingerprint, `a=setup`, candidate) that is malformed, names something rtcweb
/// does not implement, or does not go with another value.
///
/// [`Error::category`] says which, and so what the caller can do about it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// An `a=fingerprint` value that is not `<hash-func> <hex:hex:...>` with as many bytes as
    /// the hash function gives.
    #[error("malformed fingerprint: {0}")]
    MalformedFingerprint(String),
    /// A well-formed fingerprint whose hash function we do not implement (`md5`, `md2`, or a
    /// name we do not know).
    #[error("unsupported fingerprint hash function {0:?}")]
    UnsupportedHashFunction(String),
    /// An `a=setup` value other than `active`, `passive`, `actpass` or `holdconn`.
    #[error("malformed a=setup value {0:?}")]
    MalformedSetup(String),
    /// A candidate attribute (RFC 8839 section 5.1) that does not follow the grammar; the
    /// text names the field at fault.
    #[error("malformed candidate: {0}")]
    MalformedCandidate(&'static str),
    /// A well-formed candidate over a transport other than UDP or TCP.
    #[error("unsupported candidate transport {0:?}")]
    UnsupportedTransport(String),
    /// The two `a=setup` values do not give exactly one DTLS client (RFC 8842 section 5).
    #[error("incompatible a=setup: local {local}, remote {remote}")]
    IncompatibleSetup {
        /// Our `a=setup`.
        local: Setup,
        /// The peer's `a=setup`.
        remote: Setup,
    },
}

/// What kind of problem an error is, and so what the caller can do about it.
///
/// Every rtcweb crate's error has a `category()` returning one of these, so an application
/// (or a layer above) can decide without matching each crate's variants: drop a packet, refuse
/// a description, fix its own call, retry later or give the connection up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorCategory {
    /// Input from the network or the peer does not follow its grammar (a truncated packet, a
    /// bad attribute): drop it, or refuse the description or candidate that carried it.
    Malformed,
    /// Well-formed, but it names an algorithm, transport or feature rtcweb does not implement:
    /// the value cannot be used with this peer as it is configured.
    Unsupported,
    /// Each value is fine on its own, but they do not work together (two `a=setup:active`, an
    /// answer that does not match its offer): the negotiation that paired them must be redone.
    Incompatible,
    /// Authentication failed: a fingerprint, message integrity, SRTP tag or credential did
    /// not verify, or a packet was replayed. Drop the input; never trust the peer more.
    Security,
    /// The caller's configuration or argument is invalid (an unknown id, a bad limit, a key of
    /// the wrong length): fix the call; retrying it as it is fails again.
    Config,
    /// The call is not allowed in the current state (sending before a channel is open, an
    /// offer in the wrong signaling state): wait for the state, or change the order of calls.
    State,
    /// A bound was reached (a full send buffer, a stream limit, no free id, a buffer too
    /// small): retry later, free something, or raise the limit.
    Capacity,
    /// The peer broke the protocol or the connection failed on its own (a DTLS alert, an SCTP
    /// abort, retransmissions exhausted): the connection is over.
    Protocol,
    /// The connection, channel or allocation is closed.
    Closed,
    /// Nothing happened in time.
    Timeout,
    /// The operating system failed (a socket, randomness, a file): see the error's source.
    Io,
}

impl Error {
    /// The category of this error.
    pub fn category(&self) -> ErrorCategory {
        match self {
            Error::MalformedFingerprint(_)
            | Error::MalformedSetup(_)
            | Error::MalformedCandidate(_) => ErrorCategory::Malformed,
            Error::UnsupportedHashFunction(_) | Error::UnsupportedTransport(_) => {
                ErrorCategory::Unsupported
            }
            Error::IncompatibleSetup { .. } => ErrorCategory::Incompatible,
        }
    }
}
