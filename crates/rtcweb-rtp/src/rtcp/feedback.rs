//! RTP/AVPF feedback (RFC 4585): generic NACK, PLI; codec control (RFC 5104): FIR; and REMB
//! (draft-alvestrand-rmcat-remb).

use crate::error::{Error, Result, need};
use crate::rtcp::header::{self, HEADER_LEN, be16, be32, put16, put32};

/// Packet type of transport-layer feedback (RTPFB).
pub const PT_RTPFB: u8 = 205;
/// Packet type of payload-specific feedback (PSFB).
pub const PT_PSFB: u8 = 206;
/// RTPFB format of a generic NACK.
pub const FMT_NACK: u8 = 1;
/// RTPFB format of transport-wide congestion control feedback.
pub const FMT_TWCC: u8 = 15;
/// PSFB format of a picture loss indication.
pub const FMT_PLI: u8 = 1;
/// PSFB format of a full intra request.
pub const FMT_FIR: u8 = 4;
/// PSFB format of application-layer feedback (REMB).
pub const FMT_AFB: u8 = 15;

/// Length of the sender and media SSRCs of every feedback message.
const FB_LEN: usize = 8;

/// One generic NACK entry: lost packet `pid` and a bitmask of the 16 after it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NackPair {
    /// Packet id: the first lost sequence number.
    pub pid: u16,
    /// Bitmask of following lost packets: bit i set means `pid + i + 1` is lost.
    pub blp: u16,
}

impl NackPair {
    /// The sequence numbers this entry reports lost.
    pub fn lost(&self) -> impl Iterator<Item = u16> + use<> {
        let (pid, blp) = (self.pid, self.blp);
        std::iter::once(pid).chain(
            (0..16u16)
                .filter(move |i| blp & (1 << i) != 0)
                .map(move |i| pid.wrapping_add(i + 1)),
        )
    }

    /// Packs sequence numbers (in ascending order modulo wrap) into entries.
    pub fn pack(seqs: impl IntoIterator<Item = u16>, out: &mut Vec<NackPair>) {
        let mut cur: Option<NackPair> = None;
        for s in seqs {
            if let Some(c) = cur.as_mut() {
                let d = s.wrapping_sub(c.pid);
                if (1..=16).contains(&d) {
                    c.blp |= 1 << (d - 1);
                    continue;
                }
                if d == 0 {
                    continue;
                }
                out.push(*c);
            }
            cur = Some(NackPair { pid: s, blp: 0 });
        }
        out.extend(cur);
    }
}

/// Splits the sender and media SSRC off a feedback body.
fn fb(body: &[u8]) -> Result<(u32, u32, &[u8])> {
    need(body, FB_LEN)?;
    Ok((be32(body, 0), be32(body, 4), &body[FB_LEN..]))
}

fn write_fb(buf: &mut [u8], fmt: u8, pt: u8, len: usize, sender: u32, media: u32) -> Result<()> {
    header::write(buf, fmt, pt, len)?;
    put32(buf, 4, sender);
    put32(buf, 8, media);
    Ok(())
}

/// View of a generic NACK.
#[derive(Debug, Clone, Copy)]
pub struct Nack<'a> {
    /// SSRC of the packet sender.
    pub sender_ssrc: u32,
    /// SSRC of the media source the NACK is about.
    pub media_ssrc: u32,
    fci: &'a [u8],
}

impl<'a> Nack<'a> {
    pub(crate) fn new_checked(body: &'a [u8]) -> Result<Self> {
        let (sender_ssrc, media_ssrc, fci) = fb(body)?;
        if fci.len() % 4 != 0 {
            return Err(Error::Malformed("NACK FCI"));
        }
        Ok(Self {
            sender_ssrc,
            media_ssrc,
            fci,
        })
    }

    /// The entries.
    pub fn pairs(&self) -> impl Iterator<Item = NackPair> + 'a {
        self.fci.chunks_exact(4).map(|c| NackPair {
            pid: be16(c, 0),
            blp: be16(c, 2),
        })
    }

    /// Every sequence number reported lost.
    pub fn lost(&self) -> impl Iterator<Item = u16> + 'a {
        self.pairs().flat_map(|p| p.lost())
    }
}

/// A generic NACK to write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NackRepr<'a> {
    /// SSRC of the packet sender.
    pub sender_ssrc: u32,
    /// SSRC of the media source.
    pub media_ssrc: u32,
    /// The entries (at least one).
    pub pairs: &'a [NackPair],
}

impl NackRepr<'_> {
    /// Length of the packet.
    pub fn buffer_len(&self) -> usize {
        HEADER_LEN + FB_LEN + 4 * self.pairs.len()
    }

    /// Writes the packet; returns its length.
    pub fn emit(&self, buf: &mut [u8]) -> Result<usize> {
        let len = self.buffer_len();
        write_fb(
            buf,
            FMT_NACK,
            PT_RTPFB,
            len,
            self.sender_ssrc,
            self.media_ssrc,
        )?;
        for (i, p) in self.pairs.iter().enumerate() {
            put16(buf, 12 + 4 * i, p.pid);
            put16(buf, 14 + 4 * i, p.blp);
        }
        Ok(len)
    }
}

/// A picture loss indication (view and repr).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pli {
    /// SSRC of the packet sender.
    pub sender_ssrc: u32,
    /// SSRC of the media source that should send a keyframe.
    pub media_ssrc: u32,
}

impl Pli {
    pub(crate) fn new_checked(body: &[u8]) -> Result<Self> {
        let (sender_ssrc, media_ssrc, _) = fb(body)?;
        Ok(Self {
            sender_ssrc,
            media_ssrc,
        })
    }

    /// Length of the packet.
    pub fn buffer_len(&self) -> usize {
        HEADER_LEN + FB_LEN
    }

    /// Writes the packet; returns its length.
    pub fn emit(&self, buf: &mut [u8]) -> Result<usize> {
        let len = self.buffer_len();
        write_fb(
            buf,
            FMT_PLI,
            PT_PSFB,
            len,
            self.sender_ssrc,
            self.media_ssrc,
        )?;
        Ok(len)
    }
}

/// One FIR entry (RFC 5104 section 4.3.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FirEntry {
    /// The media sender asked for a keyframe.
    pub ssrc: u32,
    /// Command sequence number, increased for each new request.
    pub sequence_number: u8,
}

/// View of a full intra request.
#[derive(Debug, Clone, Copy)]
pub struct Fir<'a> {
    /// SSRC of the packet sender.
    pub sender_ssrc: u32,
    fci: &'a [u8],
}

impl<'a> Fir<'a> {
    pub(crate) fn new_checked(body: &'a [u8]) -> Result<Self> {
        let (sender_ssrc, _, fci) = fb(body)?;
        if fci.len() % 8 != 0 {
            return Err(Error::Malformed("FIR FCI"));
        }
        Ok(Self { sender_ssrc, fci })
    }

    /// The entries.
    pub fn entries(&self) -> impl Iterator<Item = FirEntry> + 'a {
        self.fci.chunks_exact(8).map(|c| FirEntry {
            ssrc: be32(c, 0),
            sequence_number: c[4],
        })
    }
}

/// A FIR to write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FirRepr<'a> {
    /// SSRC of the packet sender.
    pub sender_ssrc: u32,
    /// The entries.
    pub entries: &'a [FirEntry],
}

impl FirRepr<'_> {
    /// Length of the packet.
    pub fn buffer_len(&self) -> usize {
        HEADER_LEN + FB_LEN + 8 * self.entries.len()
    }

    /// Writes the packet; returns its length. The media SSRC field is 0 (RFC 5104 4.3.1.2).
    pub fn emit(&self, buf: &mut [u8]) -> Result<usize> {
        let len = self.buffer_len();
        write_fb(buf, FMT_FIR, PT_PSFB, len, self.sender_ssrc, 0)?;
        for (i, e) in self.entries.iter().enumerate() {
            let at = 12 + 8 * i;
            put32(buf, at, e.ssrc);
            buf[at + 4] = e.sequence_number;
            buf[at + 5..at + 8].fill(0);
        }
        Ok(len)
    }
}

/// View of a receiver estimated maximum bitrate message.
#[derive(Debug, Clone, Copy)]
pub struct Remb<'a> {
    /// SSRC of the packet sender.
    pub sender_ssrc: u32,
    /// The estimate in bits per second.
    pub bitrate: u64,
    ssrcs: &'a [u8],
}

impl<'a> Remb<'a> {
    /// Parses the FCI of an AFB message; `None` if it is not REMB.
    pub(crate) fn new_checked(body: &'a [u8]) -> Result<Option<Self>> {
        let (sender_ssrc, _, fci) = fb(body)?;
        if fci.get(..4) != Some(b"REMB") {
            return Ok(None);
        }
        need(fci, 8)?;
        let n = usize::from(fci[4]);
        need(fci, 8 + 4 * n)?;
        let exp = fci[5] >> 2;
        let mantissa = (u64::from(fci[5] & 3) << 16) | (u64::from(fci[6]) << 8) | u64::from(fci[7]);
        let bitrate = mantissa.checked_shl(u32::from(exp)).unwrap_or(u64::MAX);
        let bitrate = if bitrate >> exp != mantissa {
            u64::MAX
        } else {
            bitrate
        };
        Ok(Some(Self {
            sender_ssrc,
            bitrate,
            ssrcs: &fci[8..8 + 4 * n],
        }))
    }

    /// The media sources the estimate applies to.
    pub fn ssrcs(&self) -> impl Iterator<Item = u32> + 'a {
        self.ssrcs.chunks_exact(4).map(|c| be32(c, 0))
    }
}

/// A REMB to write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RembRepr<'a> {
    /// SSRC of the packet sender.
    pub sender_ssrc: u32,
    /// Estimate in bits per second (rounded down to 18 bits of mantissa).
    pub bitrate: u64,
    /// The media sources it applies to (at most 255).
    pub ssrcs: &'a [u32],
}

impl RembRepr<'_> {
    /// Length of the packet.
    pub fn buffer_len(&self) -> usize {
        HEADER_LEN + FB_LEN + 8 + 4 * self.ssrcs.len()
    }

    /// Writes the packet; returns its length.
    pub fn emit(&self, buf: &mut [u8]) -> Result<usize> {
        let n = u8::try_from(self.ssrcs.len()).map_err(|_| Error::OutOfRange("REMB SSRCs"))?;
        let len = self.buffer_len();
        write_fb(buf, FMT_AFB, PT_PSFB, len, self.sender_ssrc, 0)?;
        let mut exp = 0u8;
        let mut m = self.bitrate;
        while m >= 1 << 18 {
            m >>= 1;
            exp += 1;
        }
        buf[12..16].copy_from_slice(b"REMB");
        buf[16] = n;
        buf[17] = (exp << 2) | ((m >> 16) as u8 & 3);
        buf[18] = (m >> 8) as u8;
        buf[19] = m as u8;
        for (i, s) in self.ssrcs.iter().enumerate() {
            put32(buf, 20 + 4 * i, *s);
        }
        Ok(len)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nack_pairs_pack_and_unpack() {
        let seqs = [65534u16, 65535, 0, 1, 15, 16, 40];
        let mut pairs = Vec::new();
        NackPair::pack(seqs, &mut pairs);
        assert_eq!(pairs.len(), 3);
        let back: Vec<u16> = pairs.iter().flat_map(|p| p.lost()).collect();
        assert_eq!(back, seqs);
    }
}
