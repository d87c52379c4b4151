//! The crate's error type.

use thiserror::Error;

/// What a `PeerConnection` call can fail with. Variants carry the W3C `DOMException` name
/// where the API would raise one.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// An ICE server URL that RFC 7064/7065 does not allow.
    #[error("invalid ICE server URL {0:?}")]
    InvalidIceServerUrl(String),
    /// A TURN URL without credentials.
    #[error("TURN URL {0:?} needs credentials")]
    MissingTurnCredentials(String),
    /// An ICE server host name that was not resolved (the driver resolves names).
    #[error("ICE server host {0:?} is not an IP address; resolve it first")]
    UnresolvedHost(String),
    /// Offer/answer failed (JSEP); the message names the W3C exception.
    #[error("{0}")]
    Jsep(#[from] rtcweb_jsep::Error),
    /// A value given at the API edge that does not parse: the candidate string of
    /// `addIceCandidate` (`OperationError` in a browser). Its
    /// [`category`](rtcweb_core::Error::category) says whether it is malformed or names
    /// something unsupported.
    #[error("{0}")]
    Value(#[from] rtcweb_core::Error),
    /// A candidate or ICE credentials that the agent cannot use.
    #[error("candidate: {0}")]
    Candidate(#[from] rtcweb_ice::Error),
    /// DTLS setup failed.
    #[error("DTLS: {0}")]
    Dtls(#[from] rtcweb_dtls::Error),
    /// SRTP failed.
    #[error("SRTP: {0}")]
    Srtp(#[from] rtcweb_srtp::Error),
    /// An RTP session call failed: an unknown payload type, a frame the codec's packetizer
    /// refuses, a malformed packet given to `write_rtp`.
    #[error("RTP: {0}")]
    Rtp(#[from] rtcweb_rtp::Error),
    /// A data channel call failed (`WouldBlock` when the send buffer is full,
    /// `MessageTooLarge` above the peer's max-message-size, ...).
    #[error("data channel: {0}")]
    Sctp(#[from] rtcweb_sctp::Error),
    /// A call that the connection's state does not allow (`InvalidStateError`).
    #[error("InvalidStateError: {0}")]
    InvalidState(&'static str),
    /// No such transceiver or data channel.
    #[error("unknown {0}")]
    Unknown(&'static str),
    /// A signaling message that is not valid JSON for its type.
    #[error("malformed signaling message: {0}")]
    Signaling(String),
}

impl Error {
    /// What kind of problem this is, and so what the caller can do about it (the layer's
    /// own category where a layer failed).
    pub fn category(&self) -> rtcweb_core::ErrorCategory {
        use rtcweb_core::ErrorCategory as C;
        match self {
            Error::InvalidIceServerUrl(_)
            | Error::MissingTurnCredentials(_)
            | Error::UnresolvedHost(_)
            | Error::Unknown(_) => C::Config,
            Error::Jsep(e) => e.category(),
            Error::Value(e) => e.category(),
            Error::Candidate(e) => e.category(),
            Error::Dtls(e) => e.category(),
            Error::Srtp(e) => e.category(),
            Error::Rtp(e) => e.category(),
            Error::Sctp(e) => e.category(),
            Error::InvalidState(_) => C::State,
            Error::Signaling(_) => C::Malformed,
        }
    }
}
