//! The crate's one error type.

/// Everything that can go wrong in `rtcweb-rtp`: malformed wire data, a caller buffer that is
/// too small, or an API call that names something the session does not know.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The data ends before a field or section it announces.
    #[error("truncated: need {need} bytes, have {have}")]
    Truncated {
        /// Bytes the structure needs.
        need: usize,
        /// Bytes available.
        have: usize,
    },
    /// The version field is not 2 (RFC 3550 section 5.1).
    #[error("unsupported version {0}")]
    BadVersion(u8),
    /// A field holds a value the RFC forbids or that is inconsistent with another field.
    #[error("malformed {0}")]
    Malformed(&'static str),
    /// The caller's output buffer cannot hold what must be written.
    #[error("buffer too small: need {need} bytes, have {have}")]
    BufferTooSmall {
        /// Bytes needed.
        need: usize,
        /// Bytes available.
        have: usize,
    },
    /// A value given to an encoder does not fit its field.
    #[error("value out of range: {0}")]
    OutOfRange(&'static str),
    /// No stream with this SSRC was added to the session.
    #[error("unknown SSRC {0:#010x}")]
    UnknownSsrc(u32),
    /// The payload type is not configured for this stream.
    #[error("unknown payload type {0}")]
    UnknownPayloadType(u8),
    /// The input is valid but uses a feature this implementation does not handle.
    #[error("unsupported: {0}")]
    Unsupported(&'static str),
}

impl Error {
    /// What kind of problem this is, and so what the caller can do about it.
    pub fn category(&self) -> rtcweb_core::ErrorCategory {
        use rtcweb_core::ErrorCategory as C;
        match self {
            Error::Truncated { .. } | Error::BadVersion(_) | Error::Malformed(_) => C::Malformed,
            Error::BufferTooSmall { .. } => C::Capacity,
            Error::OutOfRange(_) | Error::UnknownSsrc(_) | Error::UnknownPayloadType(_) => {
                C::Config
            }
            Error::Unsupported(_) => C::Unsupported,
        }
    }
}

/// Result with this crate's [`Error`].
pub type Result<T, E = Error> = core::result::Result<T, E>;

/// Fails with [`Error::Truncated`] unless `buf` has at least `need` bytes.
#[inline]
pub(crate) fn need(buf: &[u8], need: usize) -> Result<()> {
    if buf.len() < need {
        return Err(Error::Truncated {
            need,
            have: buf.len(),
        });
    }
    Ok(())
}

/// Fails with [`Error::BufferTooSmall`] unless `buf` has at least `need` bytes.
#[inline]
pub(crate) fn room(buf: &[u8], need: usize) -> Result<()> {
    if buf.len() < need {
        return Err(Error::BufferTooSmall {
            need,
            have: buf.len(),
        });
    }
    Ok(())
}
