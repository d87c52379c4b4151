//! Transport-wide congestion control feedback
//! (draft-holmer-rmcat-transport-wide-cc-extensions-01 section 3.1).

use crate::error::{Error, Result, need};
use crate::rtcp::feedback::{FMT_TWCC, PT_RTPFB};
use crate::rtcp::header::{self, HEADER_LEN, be16, be24, be32, put16, put32};

/// Length of the fixed part of the FCI (base seq, count, reference time, fb count).
const FIXED_LEN: usize = 8;
/// Receive deltas are in units of 250 microseconds.
pub const DELTA_UNIT_US: i64 = 250;
/// The reference time is in units of 64 milliseconds.
pub const REFERENCE_UNIT_US: i64 = 64_000;

const SYMBOL_NOT_RECEIVED: u8 = 0;
const SYMBOL_SMALL: u8 = 1;
const SYMBOL_LARGE: u8 = 2;

/// Number of symbols in a packet status chunk and the symbol at `i`.
fn chunk_len(chunk: u16) -> usize {
    if chunk & 0x8000 == 0 {
        usize::from(chunk & 0x1fff)
    } else if chunk & 0x4000 == 0 {
        14
    } else {
        7
    }
}

fn chunk_symbol(chunk: u16, i: usize) -> u8 {
    if chunk & 0x8000 == 0 {
        ((chunk >> 13) & 3) as u8
    } else if chunk & 0x4000 == 0 {
        ((chunk >> (13 - i)) & 1) as u8
    } else {
        ((chunk >> (12 - 2 * i)) & 3) as u8
    }
}

fn delta_len(symbol: u8) -> Result<usize> {
    match symbol {
        SYMBOL_NOT_RECEIVED => Ok(0),
        SYMBOL_SMALL => Ok(1),
        SYMBOL_LARGE => Ok(2),
        _ => Err(Error::Malformed("TWCC reserved status symbol")),
    }
}

/// View of a transport-wide CC feedback message.
#[derive(Debug, Clone, Copy)]
pub struct TransportFeedback<'a> {
    /// SSRC of the packet sender.
    pub sender_ssrc: u32,
    /// SSRC of the media source (informational; TWCC is transport-wide).
    pub media_ssrc: u32,
    /// Transport-wide sequence number of the first packet reported.
    pub base_sequence_number: u16,
    /// Number of packets reported.
    pub packet_status_count: u16,
    /// Reference time in units of 64 ms (24-bit signed in the draft; read as unsigned).
    pub reference_time: u32,
    /// Feedback packet counter, to detect lost feedback.
    pub feedback_packet_count: u8,
    chunks: &'a [u8],
    deltas: &'a [u8],
}

impl<'a> TransportFeedback<'a> {
    pub(crate) fn new_checked(body: &'a [u8]) -> Result<Self> {
        need(body, 8 + FIXED_LEN)?;
        let f = &body[8..];
        let count = be16(f, 2);
        let mut at = FIXED_LEN;
        let mut covered = 0usize;
        let mut delta_bytes = 0usize;
        while covered < usize::from(count) {
            need(f, at + 2)?;
            let c = be16(f, at);
            at += 2;
            let n = chunk_len(c).min(usize::from(count) - covered);
            if chunk_len(c) == 0 {
                return Err(Error::Malformed("TWCC empty run"));
            }
            if c & 0x8000 == 0 {
                delta_bytes += n * delta_len(chunk_symbol(c, 0))?;
            } else {
                for i in 0..n {
                    delta_bytes += delta_len(chunk_symbol(c, i))?;
                }
            }
            covered += n;
        }
        need(f, at + delta_bytes)?;
        Ok(Self {
            sender_ssrc: be32(body, 0),
            media_ssrc: be32(body, 4),
            base_sequence_number: be16(f, 0),
            packet_status_count: count,
            reference_time: be24(f, 4),
            feedback_packet_count: f[7],
            chunks: &f[FIXED_LEN..at],
            deltas: &f[at..at + delta_bytes],
        })
    }

    /// Every reported packet: its transport-wide sequence number and, if it was received,
    /// its receive delta in 250 µs units (the first received packet's delta is relative to
    /// the reference time, each later one to the previous received packet).
    pub fn packets(&self) -> TwccPackets<'a> {
        TwccPackets {
            chunks: self.chunks,
            deltas: self.deltas,
            chunk: 0,
            in_chunk: 0,
            chunk_n: 0,
            left: self.packet_status_count,
            seq: self.base_sequence_number,
        }
    }
}

/// Iterator over the packets of a [`TransportFeedback`].
#[derive(Debug, Clone)]
pub struct TwccPackets<'a> {
    chunks: &'a [u8],
    deltas: &'a [u8],
    chunk: u16,
    in_chunk: usize,
    chunk_n: usize,
    left: u16,
    seq: u16,
}

impl Iterator for TwccPackets<'_> {
    type Item = (u16, Option<i32>);

    fn next(&mut self) -> Option<Self::Item> {
        if self.left == 0 {
            return None;
        }
        if self.in_chunk == self.chunk_n {
            let (c, rest) = self.chunks.split_first_chunk::<2>()?;
            self.chunk = u16::from_be_bytes(*c);
            self.chunks = rest;
            self.chunk_n = chunk_len(self.chunk);
            self.in_chunk = 0;
        }
        let symbol = chunk_symbol(self.chunk, self.in_chunk);
        self.in_chunk += 1;
        self.left -= 1;
        let seq = self.seq;
        self.seq = self.seq.wrapping_add(1);
        let delta = match symbol {
            SYMBOL_SMALL => {
                let (&d, rest) = self.deltas.split_first()?;
                self.deltas = rest;
                Some(i32::from(d))
            }
            SYMBOL_LARGE => {
                let (d, rest) = self.deltas.split_first_chunk::<2>()?;
                self.deltas = rest;
                Some(i32::from(i16::from_be_bytes(*d)))
            }
            _ => None,
        };
        Some((seq, delta))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (0, Some(usize::from(self.left)))
    }
}

/// A transport-wide CC feedback message to write.
///
/// `packets[i]` describes sequence number `base_sequence_number + i`: `None` if not
/// received, `Some(delta)` with the receive delta in 250 µs units (must fit an `i16`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TransportFeedbackRepr<'a> {
    /// SSRC of the packet sender.
    pub sender_ssrc: u32,
    /// SSRC of a media source.
    pub media_ssrc: u32,
    /// First sequence number reported.
    pub base_sequence_number: u16,
    /// Reference time in 64 ms units (24 bits).
    pub reference_time: u32,
    /// Feedback packet counter.
    pub feedback_packet_count: u8,
    /// Per-packet receive deltas (at most 65535 entries).
    pub packets: &'a [Option<i32>],
}

fn symbol_of(p: &Option<i32>) -> u8 {
    match p {
        None => SYMBOL_NOT_RECEIVED,
        Some(d) if (0..=255).contains(d) => SYMBOL_SMALL,
        Some(_) => SYMBOL_LARGE,
    }
}

/// Chooses packet status chunks greedily: a run-length chunk for long runs, a 14 × 1-bit
/// vector when the next symbols need no large deltas, otherwise a 7 × 2-bit vector.
fn encode_chunks(packets: &[Option<i32>], mut out: impl FnMut(u16)) {
    let mut i = 0;
    while i < packets.len() {
        let s = symbol_of(&packets[i]);
        let left = packets.len() - i;
        let run = packets[i..]
            .iter()
            .take(0x1fff)
            .take_while(|p| symbol_of(p) == s)
            .count();
        let take14 = left.min(14);
        if run >= 14 || run == left {
            out((u16::from(s) << 13) | run as u16);
            i += run;
        } else if packets[i..i + take14]
            .iter()
            .all(|p| symbol_of(p) <= SYMBOL_SMALL)
        {
            let mut c = 0x8000u16;
            for (k, p) in packets[i..i + take14].iter().enumerate() {
                c |= u16::from(symbol_of(p)) << (13 - k);
            }
            out(c);
            i += take14;
        } else if run >= 7 {
            out((u16::from(s) << 13) | run as u16);
            i += run;
        } else {
            let take7 = left.min(7);
            let mut c = 0xc000u16;
            for (k, p) in packets[i..i + take7].iter().enumerate() {
                c |= u16::from(symbol_of(p)) << (12 - 2 * k);
            }
            out(c);
            i += take7;
        }
    }
}

impl TransportFeedbackRepr<'_> {
    fn body_len(&self) -> usize {
        let mut chunks = 0;
        encode_chunks(self.packets, |_| chunks += 1);
        let deltas: usize = self.packets.iter().map(|p| usize::from(symbol_of(p))).sum();
        8 + FIXED_LEN + 2 * chunks + deltas
    }

    /// Length of the packet (padded to 32 bits).
    pub fn buffer_len(&self) -> usize {
        HEADER_LEN + self.body_len().div_ceil(4) * 4
    }

    /// Writes the packet; returns its length.
    pub fn emit(&self, buf: &mut [u8]) -> Result<usize> {
        let count = u16::try_from(self.packets.len())
            .map_err(|_| Error::OutOfRange("TWCC packet count"))?;
        if self
            .packets
            .iter()
            .flatten()
            .any(|d| i16::try_from(*d).is_err())
        {
            return Err(Error::OutOfRange("TWCC receive delta"));
        }
        let len = self.buffer_len();
        let body_end = HEADER_LEN + self.body_len();
        header::write(buf, FMT_TWCC, PT_RTPFB, len)?;
        put32(buf, 4, self.sender_ssrc);
        put32(buf, 8, self.media_ssrc);
        put16(buf, 12, self.base_sequence_number);
        put16(buf, 14, count);
        put32(
            buf,
            16,
            ((self.reference_time & 0x00ff_ffff) << 8) | u32::from(self.feedback_packet_count),
        );
        let mut at = 20;
        encode_chunks(self.packets, |c| {
            put16(buf, at, c);
            at += 2;
        });
        for d in self.packets.iter().flatten() {
            if (0..=255).contains(d) {
                buf[at] = *d as u8;
                at += 1;
            } else {
                put16(buf, at, *d as i16 as u16);
                at += 2;
            }
        }
        debug_assert_eq!(at, body_end);
        buf[body_end..len].fill(0);
        // RFC 3550 would set P for these zero octets; libwebrtc does, and parsers accept both.
        if len > body_end {
            buf[0] |= 0x20;
            buf[len - 1] = (len - body_end) as u8;
        }
        Ok(len)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rtcp::{RtcpPacket, RtcpPackets};

    fn round_trip(packets: &[Option<i32>]) {
        let repr = TransportFeedbackRepr {
            sender_ssrc: 1,
            media_ssrc: 2,
            base_sequence_number: 65530,
            reference_time: 0x123456,
            feedback_packet_count: 9,
            packets,
        };
        let mut buf = vec![0; repr.buffer_len()];
        let n = repr.emit(&mut buf).unwrap();
        assert_eq!(n % 4, 0);
        let mut it = RtcpPackets::new(&buf[..n]);
        let Some(Ok(RtcpPacket::TransportFeedback(fb))) = it.next() else {
            panic!("not TWCC")
        };
        assert_eq!(fb.reference_time, 0x123456);
        assert_eq!(fb.feedback_packet_count, 9);
        let got: Vec<_> = fb.packets().collect();
        assert_eq!(got.len(), packets.len());
        for (i, (seq, d)) in got.into_iter().enumerate() {
            assert_eq!(seq, 65530u16.wrapping_add(i as u16));
            assert_eq!(d, packets[i]);
        }
    }

    #[test]
    fn mixed_patterns_round_trip() {
        round_trip(&[Some(4)]);
        round_trip(&[Some(4), None, Some(300), Some(-20), Some(0)]);
        let mut long: Vec<_> = (0..100).map(|i| Some(i % 200)).collect();
        long.extend(std::iter::repeat_n(None, 30));
        long.extend((0..20).map(|i| if i % 3 == 0 { None } else { Some(1000) }));
        long.extend((0..40).map(|i| if i % 2 == 0 { None } else { Some(3) }));
        long.extend(std::iter::repeat_n(Some(-1), 9));
        round_trip(&long);
    }

    #[test]
    fn out_of_range_delta_is_refused() {
        let repr = TransportFeedbackRepr {
            sender_ssrc: 1,
            media_ssrc: 2,
            base_sequence_number: 0,
            reference_time: 0,
            feedback_packet_count: 0,
            packets: &[Some(40_000)],
        };
        let mut buf = [0u8; 64];
        assert!(repr.emit(&mut buf).is_err());
    }
}
