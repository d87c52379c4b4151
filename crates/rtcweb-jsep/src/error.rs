//! The crate's one error type, with the W3C exception name each variant maps to.

use crate::jsep::{Call, SignalingState};

/// Everything that can go wrong parsing SDP or driving offer/answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The description is larger than [`crate::Limits::max_bytes`].
    #[error("SDP is {size} bytes, over the limit of {limit}")]
    SdpTooLarge {
        /// Size of the input in bytes.
        size: usize,
        /// The limit in force.
        limit: usize,
    },
    /// The description has more lines than [`crate::Limits::max_lines`].
    #[error("SDP has more than {limit} lines")]
    SdpTooManyLines {
        /// The limit in force.
        limit: usize,
    },
    /// A line of the description is malformed; `line` is 1-based.
    #[error("SDP line {line}: {reason}")]
    SdpSyntax {
        /// 1-based line number in the input.
        line: usize,
        /// What is wrong with it.
        reason: String,
        /// When the line holds a value shared with other layers (`a=fingerprint`,
        /// `a=setup`, `a=candidate`), what is wrong with that value, typed: for example
        /// [`rtcweb_core::Error::UnsupportedHashFunction`] for a fingerprint made with `md5`.
        value: Option<rtcweb_core::Error>,
    },
    /// The call is not allowed in the current signaling state.
    #[error("{call} is not allowed in signaling state {state}")]
    InvalidState {
        /// The call that was made.
        call: Call,
        /// The state it was made in.
        state: SignalingState,
    },
    /// `setLocalDescription` was given a description other than the one last created.
    #[error("description was modified: {0}")]
    InvalidModification(String),
    /// A remote answer does not fit the offer it answers.
    #[error("answer does not match the offer: {0}")]
    AnswerMismatch(Mismatch),
    /// A remote description breaks a JSEP rule (missing credentials, duplicate mid, ...).
    #[error("invalid description: {0}")]
    InvalidDescription(String),
    /// A transceiver handle that this session does not know.
    #[error("unknown transceiver {0}")]
    UnknownTransceiver(usize),
    /// Negotiation could not produce a usable result.
    #[error("negotiation failed: {0}")]
    Operation(String),
}

impl Error {
    /// What kind of problem this is, and so what the caller can do about it (the W3C
    /// exception name is [`dom_name`](Self::dom_name)).
    pub fn category(&self) -> rtcweb_core::ErrorCategory {
        use rtcweb_core::ErrorCategory as C;
        match self {
            Error::SdpSyntax {
                value: Some(value), ..
            } => value.category(),
            Error::SdpTooLarge { .. }
            | Error::SdpTooManyLines { .. }
            | Error::SdpSyntax { .. }
            | Error::InvalidDescription(_) => C::Malformed,
            Error::InvalidState { .. } => C::State,
            Error::InvalidModification(_) | Error::UnknownTransceiver(_) => C::Config,
            Error::AnswerMismatch(_) | Error::Operation(_) => C::Incompatible,
        }
    }
}

/// Why a remote answer was rejected: it must mirror the offer m-line by m-line.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Mismatch {
    /// The answer has a different number of m= sections than the offer.
    MlineCount {
        /// m= sections in the offer.
        offer: usize,
        /// m= sections in the answer.
        answer: usize,
    },
    /// An accepted m= section of the answer has no `a=mid`.
    MissingMid {
        /// m-line index (0-based).
        index: usize,
    },
    /// The answer's mid at `index` differs from the offer's.
    MidChanged {
        /// m-line index (0-based).
        index: usize,
        /// mid in the offer.
        offer: String,
        /// mid in the answer.
        answer: String,
    },
    /// The media kind at `index` differs from the offer's.
    KindChanged {
        /// m-line index (0-based).
        index: usize,
    },
    /// An accepted m= section has no DTLS fingerprint (neither media nor session level).
    NoFingerprint {
        /// m-line index (0-based).
        index: usize,
    },
    /// An accepted m= section has no ICE ufrag/pwd.
    NoIceCredentials {
        /// m-line index (0-based).
        index: usize,
    },
    /// The answer accepts an m= section the offer rejected.
    AcceptsRejected {
        /// m-line index (0-based).
        index: usize,
    },
    /// ICE ufrag/pwd break RFC 8839 (ufrag 4-256, pwd 22-256 ice-chars).
    BadIceCredentials {
        /// m-line index (0-based).
        index: usize,
    },
    /// The answer uses `a=setup:actpass`, which only an offer may use.
    SetupActpass {
        /// m-line index (0-based).
        index: usize,
    },
    /// The answer's BUNDLE group names a mid the offer did not bundle.
    BundleNotOffered {
        /// The mid.
        mid: String,
    },
}

impl std::fmt::Display for Mismatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Mismatch::MlineCount { offer, answer } => {
                write!(f, "offer has {offer} m= sections, answer has {answer}")
            }
            Mismatch::MissingMid { index } => write!(f, "m= section {index} has no a=mid"),
            Mismatch::MidChanged {
                index,
                offer,
                answer,
            } => {
                write!(
                    f,
                    "m= section {index} has mid {answer:?}, offer had {offer:?}"
                )
            }
            Mismatch::KindChanged { index } => {
                write!(
                    f,
                    "m= section {index} has a different media kind than the offer"
                )
            }
            Mismatch::NoFingerprint { index } => {
                write!(f, "m= section {index} has no a=fingerprint")
            }
            Mismatch::NoIceCredentials { index } => {
                write!(f, "m= section {index} has no a=ice-ufrag/a=ice-pwd")
            }
            Mismatch::BadIceCredentials { index } => {
                write!(
                    f,
                    "m= section {index} has ICE credentials of the wrong length or characters"
                )
            }
            Mismatch::AcceptsRejected { index } => {
                write!(
                    f,
                    "m= section {index} was rejected in the offer but accepted"
                )
            }
            Mismatch::SetupActpass { index } => {
                write!(f, "m= section {index} uses a=setup:actpass in an answer")
            }
            Mismatch::BundleNotOffered { mid } => {
                write!(
                    f,
                    "BUNDLE group names mid {mid:?} that the offer did not bundle"
                )
            }
        }
    }
}

/// The exception a W3C `RTCPeerConnection` raises for the same failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum DomErrorName {
    /// `InvalidStateError`
    InvalidStateError,
    /// `InvalidModificationError`
    InvalidModificationError,
    /// `InvalidAccessError`
    InvalidAccessError,
    /// `OperationError`
    OperationError,
    /// `RTCError` with `errorDetail: "sdp-syntax-error"`
    SdpSyntaxError,
}

impl Error {
    /// The W3C exception name for this error.
    pub fn dom_name(&self) -> DomErrorName {
        match self {
            Error::SdpTooLarge { .. } | Error::SdpTooManyLines { .. } | Error::SdpSyntax { .. } => {
                DomErrorName::SdpSyntaxError
            }
            Error::InvalidState { .. } => DomErrorName::InvalidStateError,
            Error::InvalidModification(_) => DomErrorName::InvalidModificationError,
            Error::AnswerMismatch(_) | Error::InvalidDescription(_) => {
                DomErrorName::InvalidAccessError
            }
            Error::UnknownTransceiver(_) => DomErrorName::InvalidAccessError,
            Error::Operation(_) => DomErrorName::OperationError,
        }
    }
}

/// Result alias for this crate.
pub type Result<T> = std::result::Result<T, Error>;
