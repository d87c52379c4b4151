//! The sender's FEC: media packets are gathered into a group (the packets of one frame, or
//! of several small ones) and at the end of a frame the group gets its FEC packets.

use super::xor::Parity;
use super::{FecHeader, FecScheme, mask};
use crate::codec::Payloads;
use crate::error::{Error, Result};
use crate::rtp::HEADER_LEN;

/// Media packets of one group at most (the span ULPFEC's long mask covers).
pub const MAX_GROUP: usize = 48;

/// Builds FEC packets over groups of media packets of one stream.
///
/// A packet is added in its media form (for ULPFEC: as it would be without the RED
/// envelope), with the header extensions it is sent with. [`FecEncoder::finish`] at the end
/// of a frame decides, from the protection rate, how many FEC packets the group gets: the
/// group's share of `rate` FEC packets per media packet, with the fraction carried to the
/// next group (so a rate of 0.25 over single-packet frames protects every fourth group of
/// four). A group that earns none yet stays open for the next frame.
///
/// ```
/// use rtcweb_rtp::codec::Payloads;
/// use rtcweb_rtp::fec::{FecEncoder, FecScheme, ulpfec};
/// use rtcweb_rtp::rtp::RtpRepr;
///
/// let mut enc = FecEncoder::new(FecScheme::Ulpfec, 0x1234);
/// for seq in 10..14u16 {
///     let repr = RtpRepr { payload_type: 96, sequence_number: seq, ssrc: 0x1234, ..RtpRepr::default() };
///     enc.add(&repr.to_vec(&[seq as u8; 100]).unwrap()).unwrap();
/// }
/// let mut out = Payloads::new();
/// assert_eq!(enc.finish(0.5, &mut out), 2);
/// let (header, parity) = ulpfec::parse(out.iter().next().unwrap()).unwrap();
/// assert_eq!(header.sequence_base, 10);
/// assert_eq!(parity.len(), 100);
/// ```
#[derive(Debug)]
pub struct FecEncoder {
    scheme: FecScheme,
    ssrc: u32,
    /// The group's packets in media form, and their sequence numbers.
    packets: Vec<Vec<u8>>,
    seqs: Vec<u16>,
    spare: Vec<Vec<u8>>,
    parity: Parity,
    /// FEC packets owed from earlier groups (a fraction below one).
    credit: f64,
    header_scratch: Vec<u8>,
    packets_protected: u64,
    fec_packets: u64,
}

impl FecEncoder {
    /// An encoder for media stream `ssrc` (FlexFEC names it in every header).
    pub fn new(scheme: FecScheme, ssrc: u32) -> Self {
        Self {
            scheme,
            ssrc,
            packets: Vec::new(),
            seqs: Vec::new(),
            spare: Vec::new(),
            parity: Parity::default(),
            credit: 0.0,
            header_scratch: Vec::new(),
            packets_protected: 0,
            fec_packets: 0,
        }
    }

    /// The scheme.
    pub fn scheme(&self) -> FecScheme {
        self.scheme
    }

    /// Media packets in the open group.
    pub fn len(&self) -> usize {
        self.packets.len()
    }

    /// Whether the open group is empty.
    pub fn is_empty(&self) -> bool {
        self.packets.is_empty()
    }

    /// Media packets protected and FEC packets made so far.
    pub fn counts(&self) -> (u64, u64) {
        (self.packets_protected, self.fec_packets)
    }

    /// The timestamp of the last packet of the open group.
    pub fn last_timestamp(&self) -> Option<u32> {
        let p = self.packets.last()?;
        Some(u32::from_be_bytes([p[4], p[5], p[6], p[7]]))
    }

    /// Whether a packet with sequence number `seq` can join the open group (it is full, or
    /// `seq` lies outside what one mask can name, otherwise).
    pub fn fits(&self, seq: u16) -> bool {
        match self.seqs.first() {
            None => true,
            Some(&base) => {
                self.packets.len() < MAX_GROUP && usize::from(seq.wrapping_sub(base)) < MAX_GROUP
            }
        }
    }

    /// Adds a media packet (a whole RTP packet) to the open group.
    pub fn add(&mut self, packet: &[u8]) -> Result<()> {
        self.add_parts(packet, None, &[])
    }

    /// Adds a media packet given as `header` (fixed header, CSRCs and extension) and
    /// `payload`, with its payload type replaced by `payload_type` when given: how the media
    /// packet inside a RED envelope is protected.
    pub fn add_parts(
        &mut self,
        header: &[u8],
        payload_type: Option<u8>,
        payload: &[u8],
    ) -> Result<()> {
        if header.len() < HEADER_LEN {
            return Err(Error::Truncated {
                need: HEADER_LEN,
                have: header.len(),
            });
        }
        let seq = u16::from_be_bytes([header[2], header[3]]);
        if !self.fits(seq) {
            return Err(Error::OutOfRange("FEC group full"));
        }
        let mut p = self.spare.pop().unwrap_or_default();
        p.clear();
        p.extend_from_slice(header);
        if let Some(pt) = payload_type {
            p[1] = (p[1] & 0x80) | (pt & 0x7f);
        }
        p.extend_from_slice(payload);
        self.packets.push(p);
        self.seqs.push(seq);
        Ok(())
    }

    /// Ends a frame: appends the open group's FEC payloads to `out` (for ULPFEC the data of
    /// a RED block, for FlexFEC the RTP payload) and returns how many. With `rate` 0 the
    /// group is dropped unprotected; when the group has earned no FEC packet yet it stays
    /// open, unless it is full.
    pub fn finish(&mut self, rate: f64, out: &mut Payloads) -> usize {
        let k = self.packets.len();
        if k == 0 {
            return 0;
        }
        let rate = if rate.is_finite() {
            rate.clamp(0.0, 1.0)
        } else {
            0.0
        };
        if rate == 0.0 {
            self.credit = 0.0;
            self.clear();
            return 0;
        }
        let owed = k as f64 * rate + self.credit;
        // Full: the next packet could not join.
        let last = self.seqs[k - 1];
        let full = !self.fits(last.wrapping_add(1));
        let mut m = owed.floor() as usize;
        if m == 0 && !full {
            return 0;
        }
        m = m.clamp(1, k);
        self.credit = (owed - m as f64).clamp(0.0, 1.0);
        let base = self.seqs[0];
        let mut made = 0;
        for j in 0..m {
            let rows = mask::row(k, m, j);
            self.parity.reset();
            let mut seq_mask = 0u128;
            for (i, p) in self.packets.iter().enumerate() {
                if rows >> i & 1 == 1 {
                    self.parity.add_packet(p);
                    seq_mask |= 1 << self.seqs[i].wrapping_sub(base);
                }
            }
            let header = FecHeader {
                bits0: self.parity.bits0,
                bits1: self.parity.bits1,
                length_recovery: self.parity.length,
                timestamp_recovery: self.parity.timestamp,
                sequence_base: base,
                mask: seq_mask,
                protected_ssrc: (self.scheme == FecScheme::Flexfec03).then_some(self.ssrc),
            };
            let payload = &self.parity.payload;
            let scheme = self.scheme;
            let written = out.push_with(|v| match scheme {
                FecScheme::Ulpfec => super::ulpfec::write(&header, payload, v),
                FecScheme::Flexfec03 => super::flexfec::write(&header, payload, v),
            });
            if written.is_ok() {
                made += 1;
            }
        }
        self.packets_protected += k as u64;
        self.fec_packets += made as u64;
        self.clear();
        self.header_scratch.clear();
        made
    }

    /// Drops the open group.
    pub fn clear(&mut self) {
        self.seqs.clear();
        self.spare.append(&mut self.packets);
    }
}
