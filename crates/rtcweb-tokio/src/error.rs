//! The crate's error type.

use thiserror::Error;

/// What the driver can fail with.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum Error {
    /// The PeerConnection refused the call.
    #[error(transparent)]
    Rtc(#[from] rtcweb::Error),
    /// A socket or the OS failed; the `std::io::Error` is kept as the source.
    #[error("I/O: {0}")]
    Io(#[from] std::io::Error),
    /// The connection (or channel) is closed.
    #[error("closed")]
    Closed,
    /// Nothing happened in time.
    #[error("timed out")]
    Timeout,
    /// A signaling transport failed.
    #[error("signaling: {0}")]
    Signaling(String),
}

impl Error {
    /// What kind of problem this is, and so what the caller can do about it.
    pub fn category(&self) -> rtcweb_core::ErrorCategory {
        use rtcweb_core::ErrorCategory as C;
        match self {
            Error::Rtc(e) => e.category(),
            Error::Io(_) => C::Io,
            Error::Closed => C::Closed,
            Error::Timeout => C::Timeout,
            Error::Signaling(_) => C::Protocol,
        }
    }
}

impl From<rtcweb_dtls::Error> for Error {
    fn from(e: rtcweb_dtls::Error) -> Self {
        Error::Rtc(rtcweb::Error::from(e))
    }
}
