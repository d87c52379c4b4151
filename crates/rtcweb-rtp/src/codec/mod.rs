//! Packetizers and depacketizers: Opus (RFC 7587), VP8 (RFC 7741), VP9 (RFC 9628), H.264
//! (RFC 6184, packetization mode 1) and AV1 (AOMedia RTP payload format).
//!
//! A [`Packetizer`] turns one encoded frame into RTP payloads, written back to back into a
//! reusable [`Payloads`] buffer (no allocation per packet once it has grown). A
//! [`Depacketizer`] turns the payloads of one frame, in sequence order, back into the frame,
//! and [`Depacketizer::packet_info`] tells the frame assembler where frames start and which
//! are key frames.

mod av1;
pub(crate) mod bits;
mod h264;
mod vp8;
mod vp9;

pub use av1::is_keyframe as av1_is_keyframe;
pub use h264::{is_keyframe as h264_is_keyframe, nal_units as h264_nal_units};
pub use vp8::{
    Vp8Descriptor, is_keyframe as vp8_is_keyframe, keyframe_resolution as vp8_keyframe_resolution,
};
pub use vp9::{Vp9Layers, keyframe_info as vp9_keyframe_info, layers as vp9_layers};

use crate::error::{Error, Result};

/// The codecs this crate packetizes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Codec {
    /// Opus audio (one frame per packet).
    Opus,
    /// VP8.
    Vp8,
    /// VP9.
    Vp9,
    /// H.264, packetization mode 1.
    H264,
    /// AV1.
    Av1,
}

impl Codec {
    /// The codec named by an `a=rtpmap` encoding name (case-insensitive).
    pub fn from_name(name: &str) -> Option<Self> {
        Some(match name.to_ascii_lowercase().as_str() {
            "opus" => Self::Opus,
            "vp8" => Self::Vp8,
            "vp9" => Self::Vp9,
            "h264" => Self::H264,
            "av1" | "av1x" => Self::Av1,
            _ => return None,
        })
    }

    /// The RTP clock rate.
    pub fn clock_rate(self) -> u32 {
        match self {
            Self::Opus => 48_000,
            _ => 90_000,
        }
    }

    /// Whether this is a video codec (frames span packets, end with the marker bit and
    /// depend on earlier frames).
    pub fn is_video(self) -> bool {
        !matches!(self, Self::Opus)
    }
}

/// Whether a packet starts a frame, as far as its payload tells.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Start {
    /// It does.
    Yes,
    /// It does not.
    No,
    /// The payload cannot tell (H.264 slices, AV1 OBU boundaries): the frame assembler
    /// decides from the neighbouring packets' timestamps.
    Unknown,
}

/// What one payload tells about its frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PacketInfo {
    /// Frame start.
    pub start: Start,
    /// The packet shows that its frame is a key frame.
    pub keyframe: bool,
}

/// RTP payloads written back to back into one buffer.
#[derive(Debug, Clone, Default)]
pub struct Payloads {
    data: Vec<u8>,
    ends: Vec<usize>,
    open: Option<usize>,
}

impl Payloads {
    /// An empty set.
    pub fn new() -> Self {
        Self::default()
    }

    /// Removes all payloads, keeping the memory.
    pub fn clear(&mut self) {
        self.data.clear();
        self.ends.clear();
        self.open = None;
    }

    /// Number of payloads.
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// Total octets of all payloads.
    pub fn total_len(&self) -> usize {
        self.data.len()
    }

    /// The payloads in order.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = &[u8]> + '_ {
        self.ends.iter().enumerate().map(|(i, &end)| {
            let start = if i == 0 { 0 } else { self.ends[i - 1] };
            &self.data[start..end]
        })
    }

    pub(crate) fn begin(&mut self) {
        self.open = Some(self.data.len());
    }

    pub(crate) fn extend(&mut self, bytes: &[u8]) {
        self.data.extend_from_slice(bytes);
    }

    pub(crate) fn set_first_byte_flag(&mut self, flag: u8) {
        if let Some(b) = self.open.and_then(|s| self.data.get_mut(s)) {
            *b |= flag;
        }
    }

    pub(crate) fn end(&mut self) {
        self.open = None;
        self.ends.push(self.data.len());
    }

    /// Appends one payload that `write` appends to the buffer; nothing is added if it fails.
    pub(crate) fn push_with<E>(
        &mut self,
        write: impl FnOnce(&mut Vec<u8>) -> core::result::Result<(), E>,
    ) -> core::result::Result<(), E> {
        let start = self.data.len();
        match write(&mut self.data) {
            Ok(()) => {
                self.ends.push(self.data.len());
                Ok(())
            }
            Err(e) => {
                self.data.truncate(start);
                Err(e)
            }
        }
    }

    pub(crate) fn push_parts(&mut self, parts: &[&[u8]]) {
        self.begin();
        for p in parts {
            self.extend(p);
        }
        self.end();
    }
}

/// Splits `data` into the fewest chunks of at most `max` octets, of near-equal size (so the
/// last packet is not a runt).
pub(crate) fn even_split(data: &[u8], max: usize) -> std::slice::Chunks<'_, u8> {
    let n = data.len().div_ceil(max).max(1);
    data.chunks(data.len().div_ceil(n).max(1))
}

/// Turns frames of one codec into RTP payloads.
///
/// ```
/// use rtcweb_rtp::codec::{Codec, Packetizer, Payloads};
///
/// let mut p = Packetizer::new(Codec::Vp8);
/// let mut out = Payloads::new();
/// p.packetize(&vec![0x10; 3000], 1200, &mut out).unwrap();
/// assert_eq!(out.len(), 3);
/// assert!(out.iter().all(|pl| pl.len() <= 1200));
/// ```
#[derive(Debug, Clone)]
pub struct Packetizer {
    codec: Codec,
    vp8: vp8::Vp8Packetizer,
    vp9: vp9::Vp9Packetizer,
}

impl Packetizer {
    /// A packetizer for `codec`.
    pub fn new(codec: Codec) -> Self {
        Self {
            codec,
            vp8: vp8::Vp8Packetizer::default(),
            vp9: vp9::Vp9Packetizer::default(),
        }
    }

    /// The codec.
    pub fn codec(&self) -> Codec {
        self.codec
    }

    /// Appends the payloads of `frame` to `out`, each at most `max_payload` octets.
    pub fn packetize(
        &mut self,
        frame: &[u8],
        max_payload: usize,
        out: &mut Payloads,
    ) -> Result<()> {
        match self.codec {
            Codec::Opus => {
                if frame.len() > max_payload {
                    return Err(Error::OutOfRange("Opus frame larger than a packet"));
                }
                out.push_parts(&[frame]);
                Ok(())
            }
            Codec::Vp8 => self.vp8.packetize(frame, max_payload, out),
            Codec::Vp9 => self.vp9.packetize(frame, max_payload, out),
            Codec::H264 => h264::packetize(frame, max_payload, out),
            Codec::Av1 => av1::packetize(frame, max_payload, out),
        }
    }
}

/// What a depacketized frame is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct FrameInfo {
    /// A key frame.
    pub keyframe: bool,
    /// Width and height, when the frame or its payload headers carry them (VP8 and VP9 key
    /// frames).
    pub resolution: Option<(u16, u16)>,
}

/// Turns the payloads of one frame back into the frame.
///
/// ```
/// use rtcweb_rtp::codec::{Codec, Depacketizer, Packetizer, Payloads};
///
/// let frame: Vec<u8> = (0..5000u32).map(|i| i as u8).collect();
/// let mut out = Payloads::new();
/// Packetizer::new(Codec::Vp8).packetize(&frame, 1200, &mut out).unwrap();
/// let mut back = Vec::new();
/// Depacketizer::new(Codec::Vp8).depacketize_frame(out.iter(), &mut back).unwrap();
/// assert_eq!(back, frame);
/// ```
#[derive(Debug, Clone)]
pub struct Depacketizer {
    codec: Codec,
    h264: h264::H264Depacketizer,
    av1: av1::Av1Depacketizer,
}

impl Depacketizer {
    /// A depacketizer for `codec`.
    pub fn new(codec: Codec) -> Self {
        Self {
            codec,
            h264: h264::H264Depacketizer::default(),
            av1: av1::Av1Depacketizer::default(),
        }
    }

    /// The codec.
    pub fn codec(&self) -> Codec {
        self.codec
    }

    /// What one payload tells about its frame.
    pub fn packet_info(&self, payload: &[u8]) -> Result<PacketInfo> {
        match self.codec {
            Codec::Opus => Ok(PacketInfo {
                start: Start::Yes,
                keyframe: true,
            }),
            Codec::Vp8 => vp8::packet_info(payload),
            Codec::Vp9 => vp9::packet_info(payload),
            Codec::H264 => h264::packet_info(payload),
            Codec::Av1 => av1::packet_info(payload),
        }
    }

    /// Appends the frame carried by `payloads` (in sequence order) to `out`.
    pub fn depacketize_frame<'p>(
        &mut self,
        payloads: impl IntoIterator<Item = &'p [u8]>,
        out: &mut Vec<u8>,
    ) -> Result<FrameInfo> {
        let start = out.len();
        let mut info = FrameInfo::default();
        self.av1.reset();
        for p in payloads {
            let pi = self.packet_info(p)?;
            info.keyframe |= pi.keyframe;
            match self.codec {
                Codec::Opus => out.extend_from_slice(p),
                Codec::Vp8 => vp8::depacketize(p, out)?,
                Codec::Vp9 => {
                    if let Some(r) = vp9::depacketize(p, out)? {
                        info.resolution = Some(r);
                    }
                }
                Codec::H264 => self.h264.depacketize(p, out)?,
                Codec::Av1 => self.av1.depacketize(p, out)?,
            }
        }
        let frame = &out[start..];
        match self.codec {
            Codec::Vp8 if info.keyframe => info.resolution = vp8::keyframe_resolution(frame),
            Codec::Vp9 if info.keyframe && info.resolution.is_none() => {
                info.resolution = vp9::keyframe_info(frame).and_then(|(_, r)| r);
            }
            Codec::H264 if info.keyframe => {
                let mut f = out.split_off(start);
                self.h264.finish_keyframe(&mut f);
                out.extend_from_slice(&f);
            }
            _ => {}
        }
        Ok(info)
    }
}
