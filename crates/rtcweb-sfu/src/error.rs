//! The crate's one error type.

use rtcweb_core::ErrorCategory;

/// What can go wrong in a [`crate::Forwarder`]: a configuration it cannot work with, or an
/// input it refuses (the input is dropped; the forwarder is unchanged by it).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A configuration value is out of its range; the text names it.
    #[error("invalid forwarder configuration: {0}")]
    Config(&'static str),
    /// The codec has no key-frame detection or payload rewriting here (only VP8 and H.264).
    #[error("codec {0:?} cannot be forwarded with layer switching")]
    UnsupportedCodec(rtcweb_rtp::codec::Codec),
    /// A publisher packet names a simulcast layer at or above [`crate::MAX_LAYERS`].
    #[error("layer {0} out of range")]
    LayerOutOfRange(u8),
    /// A publisher packet's payload is longer than [`crate::MAX_PAYLOAD`].
    #[error("payload of {0} octets is longer than the forwarder buffers")]
    PayloadTooLong(usize),
    /// A publisher payload that its codec's payload format does not allow.
    #[error("malformed payload: {0}")]
    MalformedPayload(&'static str),
    /// The subscriber's RTCP does not parse (packets before the bad one were used).
    #[error("malformed RTCP: {0}")]
    Rtcp(#[source] rtcweb_rtp::Error),
    /// A buffer given to write a packet into is too small.
    #[error("buffer too small: {0}")]
    Emit(#[source] rtcweb_rtp::Error),
}

impl Error {
    /// What kind of problem this is, and so what the caller can do about it.
    pub fn category(&self) -> ErrorCategory {
        match self {
            Error::Config(_) => ErrorCategory::Config,
            Error::UnsupportedCodec(_) => ErrorCategory::Unsupported,
            Error::LayerOutOfRange(_) => ErrorCategory::Config,
            Error::PayloadTooLong(_) => ErrorCategory::Capacity,
            Error::MalformedPayload(_) | Error::Rtcp(_) => ErrorCategory::Malformed,
            Error::Emit(e) => e.category(),
        }
    }
}

/// Result with this crate's [`Error`].
pub type Result<T, E = Error> = core::result::Result<T, E>;
