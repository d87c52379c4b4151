//! The crate's error type.

/// Everything that can go wrong while parsing, building or checking STUN data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The buffer is shorter than the STUN header or than the length it declares.
    #[error("truncated STUN data")]
    Truncated,
    /// The first two bits are not zero or the magic cookie is missing: not a STUN message.
    #[error("not a STUN message")]
    NotStun,
    /// The header's length is not a multiple of 4 or does not match the datagram.
    #[error("bad STUN message length")]
    BadLength,
    /// An attribute's header runs past the end of the message.
    #[error("attribute 0x{0:04x} overruns the message")]
    AttributeOverrun(u16),
    /// An attribute's value does not have the format its type requires.
    #[error("malformed value for attribute 0x{0:04x}")]
    BadAttribute(u16),
    /// FINGERPRINT is not the last attribute of the message.
    #[error("FINGERPRINT is not the last attribute")]
    FingerprintNotLast,
    /// The message carries no FINGERPRINT attribute.
    #[error("no FINGERPRINT attribute")]
    NoFingerprint,
    /// The FINGERPRINT does not match the message.
    #[error("FINGERPRINT mismatch")]
    FingerprintMismatch,
    /// The message carries no MESSAGE-INTEGRITY (or MESSAGE-INTEGRITY-SHA256) attribute.
    #[error("no MESSAGE-INTEGRITY attribute")]
    NoIntegrity,
    /// The MESSAGE-INTEGRITY(-SHA256) does not match the message and key.
    #[error("MESSAGE-INTEGRITY mismatch")]
    IntegrityMismatch,
    /// The caller's buffer is too small for what is being written.
    #[error("output buffer too small")]
    BufferTooSmall,
    /// A value is too long for its 16-bit length field or its attribute's limit.
    #[error("value too long")]
    ValueTooLong,
    /// An attribute was added after MESSAGE-INTEGRITY or FINGERPRINT.
    #[error("attribute added after MESSAGE-INTEGRITY or FINGERPRINT")]
    AttributeAfterIntegrity,
    /// A channel number outside 0x4000..=0x4FFF (RFC 8656 section 12).
    #[error("channel number 0x{0:04x} out of range")]
    BadChannelNumber(u16),
    /// SASLprep (RFC 4013) rejected a password.
    #[error("SASLprep rejected the string")]
    SaslPrep,
    /// A byte stream (TCP/TLS) holds something that is neither STUN nor ChannelData.
    #[error("stream framing error: neither STUN nor ChannelData")]
    BadFrame,
    /// The stream reassembly buffer would exceed its limit.
    #[error("stream frame exceeds the buffer limit")]
    FrameTooLarge,
}

impl Error {
    /// What kind of problem this is, and so what the caller can do about it.
    pub fn category(&self) -> rtcweb_core::ErrorCategory {
        use rtcweb_core::ErrorCategory as C;
        match self {
            Error::Truncated
            | Error::NotStun
            | Error::BadLength
            | Error::AttributeOverrun(_)
            | Error::BadAttribute(_)
            | Error::FingerprintNotLast
            | Error::NoFingerprint
            | Error::FingerprintMismatch
            | Error::BadFrame => C::Malformed,
            Error::NoIntegrity | Error::IntegrityMismatch => C::Security,
            Error::BufferTooSmall | Error::FrameTooLarge => C::Capacity,
            Error::ValueTooLong
            | Error::AttributeAfterIntegrity
            | Error::BadChannelNumber(_)
            | Error::SaslPrep => C::Config,
        }
    }
}

/// Shorthand for results of this crate.
pub type Result<T> = core::result::Result<T, Error>;
