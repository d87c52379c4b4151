//! The crate's one error type.

/// Everything that can go wrong in DTLS-SRTP keying.
///
/// Errors reported by a [`DtlsEndpoint`](crate::DtlsEndpoint) through
/// [`Event::Failed`](crate::Event::Failed) are fatal for that endpoint: it sends nothing more and
/// yields no keys. The other variants come from configuration or generating certificates (what
/// is wrong with an SDP value is an [`rtcweb_core::Error`]).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The peer's certificate does not match any `a=fingerprint` of its SDP (RFC 8122 section 5).
    #[error("the peer certificate does not match the fingerprint in its SDP")]
    FingerprintMismatch,
    /// The handshake finished without the peer presenting a certificate.
    #[error("the peer presented no certificate")]
    NoPeerCertificate,
    /// No usable fingerprint was given for the peer, so its certificate could never be checked.
    #[error("no supported fingerprint was given for the peer")]
    NoRemoteFingerprint,
    /// The handshake did not complete within [`DtlsConfig::handshake_timeout`](crate::DtlsConfig).
    #[error("the DTLS handshake did not complete within the handshake timeout")]
    HandshakeTimeout,
    /// The peer tried to renegotiate an established session (not supported, RFC 5764 relies
    /// on a fresh handshake instead).
    #[error("the peer attempted renegotiation")]
    Renegotiation,
    /// The DTLS engine gave up on the connection (bad or unexpected message, failed crypto,
    /// retransmissions exhausted, queue overflow). The text is the engine's reason.
    #[error("DTLS handshake failed: {0}")]
    Protocol(String),
    /// Application data was sent before the handshake completed or after the endpoint closed
    /// or failed.
    #[error("the DTLS connection is not established")]
    NotConnected,
    /// Application data larger than one record can carry within the MTU (records are never
    /// fragmented; SCTP sizes its packets to fit).
    #[error("{len} bytes of application data exceed the {max} that fit the MTU")]
    ApplicationDataTooLarge {
        /// Bytes passed to `send`.
        len: usize,
        /// [`DtlsEndpoint::max_application_data`](crate::DtlsEndpoint::max_application_data).
        max: usize,
    },
    /// An invalid [`DtlsConfig`](crate::DtlsConfig).
    #[error("invalid DTLS configuration: {0}")]
    Config(String),
    /// A certificate could not be generated or loaded.
    #[error("certificate error: {0}")]
    Certificate(String),
    /// Exported keying material of the wrong length for the negotiated SRTP profile.
    #[error("keying material is {got} bytes, the SRTP profile needs {expected}")]
    KeyingMaterialLength {
        /// Bytes the profile needs (RFC 5764 section 4.2).
        expected: usize,
        /// Bytes the engine exported.
        got: usize,
    },
}

impl Error {
    /// What kind of problem this is, and so what the caller can do about it.
    pub fn category(&self) -> rtcweb_core::ErrorCategory {
        use rtcweb_core::ErrorCategory as C;
        match self {
            Error::FingerprintMismatch | Error::NoPeerCertificate => C::Security,
            Error::NoRemoteFingerprint => C::Incompatible,
            Error::HandshakeTimeout => C::Timeout,
            Error::Renegotiation => C::Unsupported,
            Error::Protocol(_) | Error::KeyingMaterialLength { .. } => C::Protocol,
            Error::NotConnected => C::State,
            Error::ApplicationDataTooLarge { .. } => C::Capacity,
            Error::Config(_) | Error::Certificate(_) => C::Config,
        }
    }
}
