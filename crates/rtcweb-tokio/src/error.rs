//! The crate's error type.

use thiserror::Error;

/// What the driver can fail with.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum Error {
    /// The PeerConnection refused the call.
    #[error(transparent)]
    Rtc(#[from] rtcweb::Error),
    /// A socket or the OS failed.
    #[error("I/O: {0}")]
    Io(String),
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

impl From<std::io::Error> for Error {
    fn from(e: std::io::Error) -> Self {
        Error::Io(e.to_string())
    }
}

impl From<rtcweb_dtls::Error> for Error {
    fn from(e: rtcweb_dtls::Error) -> Self {
        Error::Rtc(rtcweb::Error::from(e))
    }
}
