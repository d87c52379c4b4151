//! The crate's error type.

/// What can go wrong.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The picture's size does not suit the encoder (odd, zero, or not what it was made
    /// for).
    #[error("picture size {width}x{height}: {why}")]
    Size {
        /// Width in pixels.
        width: usize,
        /// Height in pixels.
        height: usize,
        /// What is wrong with it.
        why: &'static str,
    },
    /// Writing a file failed.
    #[error("write: {0}")]
    Io(String),
    /// The encoder library refused a call.
    #[error("{library}: {call} failed: {detail}")]
    Codec {
        /// `openh264` or `libvpx`.
        library: &'static str,
        /// The call that failed.
        call: &'static str,
        /// The library's own message or code.
        detail: String,
    },
}
