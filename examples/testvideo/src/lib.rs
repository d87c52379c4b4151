//! Test video for rtcweb's media examples: a moving test pattern ([`Pattern`]) and two
//! real-time encoders whose target bitrate can change on every frame without a key frame
//! and that make a key frame on request (a PLI or FIR from the receiver):
//!
//! - `H264Encoder` (feature `h264`): Cisco's OpenH264 through the `openh264` crate,
//!   constrained baseline, one slice per frame, Annex B output;
//! - `Vp8Encoder` (feature `vp8`): libvpx through `env-libvpx-sys` (Debian's
//!   `libvpx-dev`), real-time CBR settings in the spirit of what browsers use.
//!
//! Both features are off by default: a machine with only the Rust toolchain still builds the
//! workspace. `media-peer --send-test-pattern` needs them (the `test-pattern` feature of
//! rtcweb-examples turns both on).
//!
//! Why this crate allows `unsafe`: neither binding's safe API can change the bitrate of a
//! running encoder (`openh264` exposes it only through its unsafe raw API; `env-libvpx-sys` is
//! the bare C API), and an encoder that cannot follow a bandwidth estimate is useless here.
//! The unsafe code is confined to `h264.rs` (one `SetOption` call) and `vp8.rs` (the
//! libvpx calls), each with its safety argument; the rest is `deny(unsafe_code)`.

mod error;
#[cfg(feature = "h264")]
mod h264;
mod pattern;
#[cfg(feature = "vp8")]
mod vp8;

pub use error::Error;
#[cfg(feature = "h264")]
pub use h264::H264Encoder;
pub use pattern::{I420, Pattern, write_y4m};
#[cfg(feature = "vp8")]
pub use vp8::Vp8Encoder;

/// One encoded frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EncodedFrame {
    /// The bitstream: an Annex B access unit for H.264, one VP8 frame for VP8.
    pub data: Vec<u8>,
    /// Whether it is a key frame (an IDR with its parameter sets, or a VP8 key frame).
    pub keyframe: bool,
}

/// What both encoders do.
pub trait VideoEncoder {
    /// Encodes the next picture; `None` when the encoder's rate control skipped it.
    ///
    /// Every call counts as one frame interval (1/fps) for the rate control, whatever time
    /// passed: a picture dropped before encoding must not hand the next frame the budget of
    /// two (which would come out as a burst right after a stall).
    fn encode(&mut self, picture: &I420) -> Result<Option<EncodedFrame>, Error>;
    /// Sets the target bitrate from the next frame on (no key frame).
    fn set_bitrate(&mut self, bps: u32) -> Result<(), Error>;
    /// Makes the next frame a key frame.
    fn request_keyframe(&mut self);
}
