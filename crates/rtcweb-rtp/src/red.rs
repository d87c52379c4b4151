//! RTP payload for redundant audio data (RED, RFC 2198): a view of a RED payload, the
//! writer, and the sender's encoder that repeats the last packets' payloads.
//!
//! A RED payload is a list of block headers and then the blocks, oldest first:
//!
//! ```text
//!  0                   1                   2                   3
//!  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//! |F|   block PT  |  timestamp offset         |   block length    |   F = 1: a redundant block
//! |0|   block PT  |                                                  F = 0: the primary block
//! ```
//!
//! A redundant block's timestamp is the packet's minus the offset (14 bits); the primary
//! block has the packet's timestamp and runs to the end of the payload. WebRTC uses RED for
//! Opus (`a=rtpmap:63 red/48000/2`, `a=fmtp:63 111/111`) and, with one primary block and no
//! redundancy, as the envelope of video packets and their ULPFEC (RFC 5109 section 9).

use std::collections::VecDeque;

use crate::error::{Error, Result, need};

/// Largest timestamp offset a redundant block header holds (14 bits).
pub const MAX_TIMESTAMP_OFFSET: u32 = (1 << 14) - 1;
/// Largest redundant block (10-bit length).
pub const MAX_BLOCK_LEN: usize = (1 << 10) - 1;
/// Octets of a redundant block header.
const REDUNDANT_HEADER_LEN: usize = 4;

/// One block of a RED payload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RedBlock<'a> {
    /// Payload type of the block's data.
    pub payload_type: u8,
    /// How far before the packet's timestamp the block's lies (0 for the primary block).
    pub timestamp_offset: u32,
    /// The block's data.
    pub data: &'a [u8],
}

/// A validated view of a RED payload.
///
/// ```
/// use rtcweb_rtp::red::RedPayload;
///
/// // One redundant Opus frame 960 ticks old (3 octets), then the primary (2 octets).
/// let payload = [0xef, 0x0f, 0x00, 0x03, 0x6f, 1, 2, 3, 4, 5];
/// let red = RedPayload::new_checked(&payload).unwrap();
/// let blocks: Vec<_> = red.redundant().collect();
/// assert_eq!(blocks.len(), 1);
/// assert_eq!((blocks[0].payload_type, blocks[0].timestamp_offset), (111, 960));
/// assert_eq!(blocks[0].data, &[1, 2, 3]);
/// assert_eq!(red.primary().data, &[4, 5]);
/// ```
#[derive(Debug, Clone, Copy)]
pub struct RedPayload<'a> {
    /// The redundant block headers (4 octets each).
    headers: &'a [u8],
    /// The redundant blocks' data, back to back.
    redundant: &'a [u8],
    primary_type: u8,
    primary: &'a [u8],
}

impl<'a> RedPayload<'a> {
    /// Validates `payload`: every header present, the last one with F = 0, and every block
    /// inside the payload.
    pub fn new_checked(payload: &'a [u8]) -> Result<Self> {
        let mut at = 0;
        let mut data_len = 0usize;
        loop {
            need(payload, at + 1)?;
            if payload[at] & 0x80 == 0 {
                break;
            }
            need(payload, at + REDUNDANT_HEADER_LEN)?;
            data_len += usize::from(u16::from_be_bytes([payload[at + 2], payload[at + 3]]) & 0x3ff);
            at += REDUNDANT_HEADER_LEN;
        }
        let headers = &payload[..at];
        let primary_type = payload[at] & 0x7f;
        let data_start = at + 1;
        need(payload, data_start + data_len)?;
        Ok(Self {
            headers,
            redundant: &payload[data_start..data_start + data_len],
            primary_type,
            primary: &payload[data_start + data_len..],
        })
    }

    /// Number of redundant blocks.
    pub fn redundant_count(&self) -> usize {
        self.headers.len() / REDUNDANT_HEADER_LEN
    }

    /// The redundant blocks, oldest first (as written).
    pub fn redundant(&self) -> impl ExactSizeIterator<Item = RedBlock<'a>> + 'a {
        let mut data = self.redundant;
        self.headers
            .chunks_exact(REDUNDANT_HEADER_LEN)
            .map(move |h| {
                let offset_len = u32::from_be_bytes([0, h[1], h[2], h[3]]);
                let len = (offset_len & 0x3ff) as usize;
                // `new_checked` summed these lengths: the split never runs short.
                let (block, rest) = data.split_at(len.min(data.len()));
                data = rest;
                RedBlock {
                    payload_type: h[0] & 0x7f,
                    timestamp_offset: offset_len >> 10,
                    data: block,
                }
            })
    }

    /// The primary block.
    pub fn primary(&self) -> RedBlock<'a> {
        RedBlock {
            payload_type: self.primary_type,
            timestamp_offset: 0,
            data: self.primary,
        }
    }
}

/// Appends a RED payload to `out`: the `redundant` blocks (oldest first), then the primary
/// block of `primary_type`.
pub fn write_red(
    redundant: &[RedBlock<'_>],
    primary_type: u8,
    primary: &[u8],
    out: &mut Vec<u8>,
) -> Result<()> {
    if primary_type > 127 {
        return Err(Error::OutOfRange("payload type"));
    }
    for b in redundant {
        if b.payload_type > 127 {
            return Err(Error::OutOfRange("payload type"));
        }
        if b.timestamp_offset > MAX_TIMESTAMP_OFFSET {
            return Err(Error::OutOfRange("RED timestamp offset"));
        }
        if b.data.len() > MAX_BLOCK_LEN {
            return Err(Error::OutOfRange("RED block length"));
        }
    }
    for b in redundant {
        out.push(0x80 | b.payload_type);
        let v = (b.timestamp_offset << 10) | b.data.len() as u32;
        out.extend_from_slice(&v.to_be_bytes()[1..]);
    }
    out.push(primary_type);
    for b in redundant {
        out.extend_from_slice(b.data);
    }
    out.extend_from_slice(primary);
    Ok(())
}

/// A payload kept for redundancy.
#[derive(Debug)]
struct Kept {
    timestamp: u32,
    payload_type: u8,
    data: Vec<u8>,
}

/// The sender's side of RED for one audio stream: every payload goes out as the primary
/// block with up to `distance` earlier payloads before it (RFC 2198 section 3), so a loss of
/// up to `distance` packets in a row is repaired by the next packet that arrives.
///
/// Blocks that cannot be carried (an offset beyond 14 bits after a pause, a payload above
/// 1023 octets, or too little room under `max_len`) are left out, oldest first.
///
/// ```
/// use rtcweb_rtp::red::{RedEncoder, RedPayload};
///
/// let mut enc = RedEncoder::new(2);
/// let mut out = Vec::new();
/// for (i, frame) in [b"a", b"b", b"c"].iter().enumerate() {
///     out.clear();
///     enc.encode(111, 960 * i as u32, *frame, 1200, &mut out).unwrap();
/// }
/// let red = RedPayload::new_checked(&out).unwrap();
/// let old: Vec<_> = red.redundant().map(|b| (b.timestamp_offset, b.data)).collect();
/// assert_eq!(old, [(1920, &b"a"[..]), (960, &b"b"[..])]);
/// assert_eq!(red.primary().data, b"c");
/// ```
#[derive(Debug)]
pub struct RedEncoder {
    distance: usize,
    /// The last `distance` payloads, oldest first.
    kept: VecDeque<Kept>,
    /// Buffers of payloads that fell out of `kept`, reused.
    spare: Vec<Vec<u8>>,
}

impl RedEncoder {
    /// An encoder repeating each payload in the next `distance` packets (0: none, a plain
    /// one-block RED payload).
    pub fn new(distance: usize) -> Self {
        Self {
            distance,
            kept: VecDeque::with_capacity(distance + 1),
            spare: Vec::new(),
        }
    }

    /// The redundancy distance.
    pub fn distance(&self) -> usize {
        self.distance
    }

    /// Changes the redundancy distance (from the next packet on).
    pub fn set_distance(&mut self, distance: usize) {
        self.distance = distance;
        while self.kept.len() > distance {
            self.drop_oldest();
        }
    }

    /// Forgets the kept payloads (after a pause or a codec change).
    pub fn reset(&mut self) {
        while !self.kept.is_empty() {
            self.drop_oldest();
        }
    }

    fn drop_oldest(&mut self) {
        if let Some(k) = self.kept.pop_front() {
            self.spare.push(k.data);
        }
    }

    /// Appends the RED payload for `payload` (of `payload_type`, at `timestamp`) to `out`, at
    /// most `max_len` octets, and keeps `payload` for the next packets. Fails only when the
    /// primary block alone does not fit.
    pub fn encode(
        &mut self,
        payload_type: u8,
        timestamp: u32,
        payload: &[u8],
        max_len: usize,
        out: &mut Vec<u8>,
    ) -> Result<()> {
        if payload.len() + 1 > max_len {
            return Err(Error::OutOfRange("RED primary block larger than a packet"));
        }
        // The usable blocks, newest first, while they fit.
        let mut room = max_len - payload.len() - 1;
        let mut first = self.kept.len();
        for (i, k) in self.kept.iter().enumerate().rev() {
            let offset = timestamp.wrapping_sub(k.timestamp);
            let usable = offset != 0
                && offset <= MAX_TIMESTAMP_OFFSET
                && k.data.len() <= MAX_BLOCK_LEN
                && k.data.len() + REDUNDANT_HEADER_LEN <= room;
            if !usable {
                break;
            }
            room -= k.data.len() + REDUNDANT_HEADER_LEN;
            first = i;
        }
        for k in self.kept.range(first..) {
            out.push(0x80 | (k.payload_type & 0x7f));
            let v = (timestamp.wrapping_sub(k.timestamp) << 10) | k.data.len() as u32;
            out.extend_from_slice(&v.to_be_bytes()[1..]);
        }
        out.push(payload_type & 0x7f);
        for k in self.kept.range(first..) {
            out.extend_from_slice(&k.data);
        }
        out.extend_from_slice(payload);
        if self.distance > 0 {
            if self.kept.len() >= self.distance {
                self.drop_oldest();
            }
            let mut data = self.spare.pop().unwrap_or_default();
            data.clear();
            data.extend_from_slice(payload);
            self.kept.push_back(Kept {
                timestamp,
                payload_type,
                data,
            });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_rejects_truncation() {
        let a = [7u8; 40];
        let b = [9u8; 1023];
        let blocks = [
            RedBlock {
                payload_type: 111,
                timestamp_offset: 1920,
                data: &a,
            },
            RedBlock {
                payload_type: 111,
                timestamp_offset: 960,
                data: &b,
            },
        ];
        let mut out = Vec::new();
        write_red(&blocks, 111, b"primary", &mut out).unwrap();
        let red = RedPayload::new_checked(&out).unwrap();
        assert_eq!(red.redundant_count(), 2);
        assert_eq!(red.redundant().collect::<Vec<_>>(), blocks);
        assert_eq!(red.primary().data, b"primary");
        for cut in 0..out.len() - 7 {
            assert!(
                RedPayload::new_checked(&out[..cut]).is_err(),
                "cut at {cut}"
            );
        }
        // An empty primary block is valid (the data ends with the redundant blocks).
        assert!(RedPayload::new_checked(&out[..out.len() - 7]).is_ok());
        let too_old = RedBlock {
            timestamp_offset: 1 << 14,
            ..blocks[0]
        };
        assert!(write_red(&[too_old], 111, b"", &mut out).is_err());
    }

    #[test]
    fn the_encoder_leaves_out_what_does_not_fit() {
        let mut enc = RedEncoder::new(2);
        let mut out = Vec::new();
        enc.encode(111, 0, &[1; 500], 1200, &mut out).unwrap();
        out.clear();
        enc.encode(111, 960, &[2; 500], 1200, &mut out).unwrap();
        out.clear();
        // 500 + 500 + 100 + headers > 1100: only the newest old payload fits.
        enc.encode(111, 1920, &[3; 100], 1100, &mut out).unwrap();
        let red = RedPayload::new_checked(&out).unwrap();
        let old: Vec<_> = red.redundant().map(|b| b.timestamp_offset).collect();
        assert_eq!(old, [960]);
        // After a pause beyond 14 bits of offset nothing old is sent.
        out.clear();
        enc.encode(111, 1920 + 20_000, &[4; 10], 1200, &mut out)
            .unwrap();
        assert_eq!(RedPayload::new_checked(&out).unwrap().redundant_count(), 0);
        assert!(enc.encode(111, 0, &[0; 1200], 1200, &mut out).is_err());
    }
}
