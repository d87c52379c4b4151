//! VP8 payload format (RFC 7741).

use crate::codec::{PacketInfo, Payloads, Start, even_split};
use crate::error::{Error, Result};

/// Length of the payload descriptor we write: X, I with a 15-bit picture id.
const DESCRIPTOR_LEN: usize = 4;

/// The fields of a VP8 payload descriptor (RFC 7741 section 4.2): what a depacketizer needs
/// (length, S bit, partition index) and what an SFU rewrites (picture id, TL0PICIDX).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Vp8Descriptor {
    /// Length of the descriptor at the start of the payload.
    pub len: usize,
    /// S: the packet starts a VP8 partition.
    pub start_of_partition: bool,
    /// PID: the partition index.
    pub partition_index: u8,
    /// The picture id and its width in bits (7 or 15), when the I bit is set.
    pub picture_id: Option<(u16, u8)>,
    /// TL0PICIDX, when the L bit is set.
    pub tl0_pic_idx: Option<u8>,
}

impl Vp8Descriptor {
    /// Reads the descriptor at the start of `payload` (which may end right after it).
    pub fn parse(payload: &[u8]) -> Result<Self> {
        let &b0 = payload
            .first()
            .ok_or(Error::Malformed("empty VP8 payload"))?;
        let mut d = Vp8Descriptor {
            len: 1,
            start_of_partition: b0 & 0x10 != 0,
            partition_index: b0 & 0x07,
            picture_id: None,
            tl0_pic_idx: None,
        };
        if b0 & 0x80 == 0 {
            return Ok(d);
        }
        let &x = payload.get(1).ok_or(Error::Malformed("VP8 descriptor"))?;
        d.len = 2;
        if x & 0x80 != 0 {
            let &p0 = payload
                .get(d.len)
                .ok_or(Error::Malformed("VP8 picture id"))?;
            if p0 & 0x80 != 0 {
                let &p1 = payload
                    .get(d.len + 1)
                    .ok_or(Error::Malformed("VP8 picture id"))?;
                d.picture_id = Some((u16::from_be_bytes([p0 & 0x7f, p1]), 15));
                d.len += 2;
            } else {
                d.picture_id = Some((u16::from(p0), 7));
                d.len += 1;
            }
        }
        if x & 0x40 != 0 {
            d.tl0_pic_idx = Some(
                *payload
                    .get(d.len)
                    .ok_or(Error::Malformed("VP8 TL0PICIDX"))?,
            );
            d.len += 1;
        }
        if x & 0x30 != 0 {
            payload
                .get(d.len)
                .ok_or(Error::Malformed("VP8 TID/KEYIDX"))?;
            d.len += 1;
        }
        Ok(d)
    }
}

/// Parses the payload descriptor; returns (descriptor length, S bit, partition index).
fn descriptor(payload: &[u8]) -> Result<(usize, bool, u8)> {
    let d = Vp8Descriptor::parse(payload)?;
    if payload.len() <= d.len {
        return Err(Error::Malformed("VP8 payload without data"));
    }
    Ok((d.len, d.start_of_partition, d.partition_index))
}

pub(crate) fn packet_info(payload: &[u8]) -> Result<PacketInfo> {
    let (len, s, pid) = descriptor(payload)?;
    let start = s && pid == 0;
    // The first octet of the VP8 payload header: P (inverse key frame flag) is bit 0.
    let keyframe = start && payload.get(len).is_some_and(|b| b & 0x01 == 0);
    Ok(PacketInfo {
        start: if start { Start::Yes } else { Start::No },
        keyframe,
    })
}

pub(crate) fn depacketize(payload: &[u8], out: &mut Vec<u8>) -> Result<()> {
    let (len, _, _) = descriptor(payload)?;
    out.extend_from_slice(&payload[len..]);
    Ok(())
}

/// Width and height of a VP8 key frame, read from its frame header (RFC 6386 section 9.1).
///
/// ```
/// // A key frame header: frame tag, start code 9d 01 2a, width 640, height 480.
/// let frame = [0x50, 0x2d, 0x00, 0x9d, 0x01, 0x2a, 0x80, 0x02, 0xe0, 0x01];
/// assert_eq!(rtcweb_rtp::codec::vp8_keyframe_resolution(&frame), Some((640, 480)));
/// ```
pub fn keyframe_resolution(frame: &[u8]) -> Option<(u16, u16)> {
    let h = frame.get(..10)?;
    if h[0] & 0x01 != 0 || h[3..6] != [0x9d, 0x01, 0x2a] {
        return None;
    }
    let w = u16::from_le_bytes([h[6], h[7]]) & 0x3fff;
    let ht = u16::from_le_bytes([h[8], h[9]]) & 0x3fff;
    Some((w, ht))
}

/// Whether a VP8 frame is a key frame.
pub fn is_keyframe(frame: &[u8]) -> bool {
    frame.first().is_some_and(|b| b & 0x01 == 0)
}

/// State of a VP8 packetizer: the picture id, increased per frame.
#[derive(Debug, Clone, Default)]
pub(crate) struct Vp8Packetizer {
    pub picture_id: u16,
}

impl Vp8Packetizer {
    pub fn packetize(
        &mut self,
        frame: &[u8],
        max_payload: usize,
        out: &mut Payloads,
    ) -> Result<()> {
        if max_payload <= DESCRIPTOR_LEN {
            return Err(Error::OutOfRange("max payload too small for VP8"));
        }
        if frame.is_empty() {
            return Err(Error::OutOfRange("empty VP8 frame"));
        }
        let pid = self.picture_id & 0x7fff;
        self.picture_id = self.picture_id.wrapping_add(1);
        for (i, chunk) in even_split(frame, max_payload - DESCRIPTOR_LEN).enumerate() {
            let s = if i == 0 { 0x10 } else { 0 };
            out.push_parts(&[&[0x80 | s, 0x80, 0x80 | (pid >> 8) as u8, pid as u8], chunk]);
        }
        Ok(())
    }
}
