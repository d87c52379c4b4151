//! RTP packets (RFC 3550 section 5) and their header extensions (RFC 8285).
//!
//! [`RtpPacket`] is a zero-copy view over a datagram: [`RtpPacket::new_checked`] validates the
//! fixed header, CSRC list, extension block and padding once, and every accessor afterwards is
//! infallible. [`RtpRepr`] is the plain-data form for writing a header into a caller buffer.
//! [`ExtensionMap`] turns the numeric extension ids negotiated with `a=extmap` into typed
//! values ([`HeaderExtensions`]).

mod ext_map;
mod extension;
mod packet;

pub use ext_map::{
    AudioLevel, ExtensionKind, ExtensionMap, HeaderExtensions, PlayoutDelay, VideoOrientation,
};
pub use extension::{
    ExtensionBlock, ExtensionIter, ExtensionWriter, ONE_BYTE_PROFILE, TWO_BYTE_PROFILE,
};
pub use packet::{Csrcs, HEADER_LEN, RtpPacket, RtpRepr};
