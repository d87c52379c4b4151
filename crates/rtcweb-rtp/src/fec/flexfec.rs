//! The FlexFEC packet of draft-ietf-payload-flexible-fec-scheme-03 as WebRTC sends it
//! (`a=rtpmap:<pt> flexfec-03/90000`): its own SSRC and sequence numbers, one protected
//! SSRC, a flexible mask (R = 0, F = 0).
//!
//! ```text
//!  0                   1                   2                   3
//!  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//! |R|F|P|X|  CC   |M| PT recovery |        length recovery        |
//! |                          TS recovery                          |
//! |   SSRCCount   |                    reserved                   |
//! |                             SSRC_i                            |
//! |           SN base_i           |k|          Mask [0-14]        |
//! |k|                   Mask [15-45] (optional)                   |
//! |k|                                                             |
//! +-+                   Mask [46-108] (optional)                  |
//! |                                                               |
//! ```
//!
//! A set k bit ends the mask: 15, 46 or 109 packets after SN base.

use super::FecHeader;
use crate::error::{Error, Result, need};

/// Octets of a header with the shortest mask.
pub const HEADER_LEN_MIN: usize = 20;
/// Media packets one FlexFEC packet can protect at most.
pub const MAX_SPAN: usize = 109;

/// The mask chunks: (octets, mask bits, first mask bit).
const CHUNKS: [(usize, u32, u32); 3] = [(2, 15, 0), (4, 31, 15), (8, 63, 46)];

/// Parses a FlexFEC-03 payload (the RTP payload of a FlexFEC packet): its header and the
/// repair payload.
pub fn parse(data: &[u8]) -> Result<(FecHeader, &[u8])> {
    need(data, HEADER_LEN_MIN)?;
    if data[0] & 0xc0 != 0 {
        // R = 1 (retransmission) and F = 1 (fixed masks) are not what WebRTC sends.
        return Err(Error::Unsupported("FlexFEC R or F bit"));
    }
    if data[8] != 1 {
        return Err(Error::Unsupported("FlexFEC protecting several SSRCs"));
    }
    let mut at = 18;
    let mut mask = 0u128;
    let mut ended = false;
    for (len, bits, first) in CHUNKS {
        need(data, at + len)?;
        let mut v = 0u64;
        for b in &data[at..at + len] {
            v = v << 8 | u64::from(*b);
        }
        at += len;
        // Bit `bits - 1 - j` of the chunk (below its k bit) is mask bit `first + j`.
        for j in 0..bits {
            if v >> (bits - 1 - j) & 1 == 1 {
                mask |= 1 << (first + j);
            }
        }
        if v >> bits & 1 == 1 {
            ended = true;
            break;
        }
    }
    if !ended {
        return Err(Error::Malformed("FlexFEC mask without a final k bit"));
    }
    let header = FecHeader {
        bits0: data[0] & 0x3f,
        bits1: data[1],
        length_recovery: u16::from_be_bytes([data[2], data[3]]),
        timestamp_recovery: u32::from_be_bytes([data[4], data[5], data[6], data[7]]),
        protected_ssrc: Some(u32::from_be_bytes([data[12], data[13], data[14], data[15]])),
        sequence_base: u16::from_be_bytes([data[16], data[17]]),
        mask,
    };
    Ok((header, &data[at..]))
}

/// Appends a FlexFEC-03 payload (header and repair payload) to `out`.
pub fn write(header: &FecHeader, payload: &[u8], out: &mut Vec<u8>) -> Result<()> {
    if header.mask >> MAX_SPAN != 0 {
        return Err(Error::OutOfRange("FlexFEC mask beyond 109 packets"));
    }
    let ssrc = header
        .protected_ssrc
        .ok_or(Error::OutOfRange("FlexFEC needs the protected SSRC"))?;
    out.push(header.bits0 & 0x3f);
    out.push(header.bits1);
    out.extend_from_slice(&header.length_recovery.to_be_bytes());
    out.extend_from_slice(&header.timestamp_recovery.to_be_bytes());
    out.extend_from_slice(&[1, 0, 0, 0]);
    out.extend_from_slice(&ssrc.to_be_bytes());
    out.extend_from_slice(&header.sequence_base.to_be_bytes());
    for (len, bits, first) in CHUNKS {
        let mut v = 0u64;
        for j in 0..bits {
            if header.mask >> (first + j) & 1 == 1 {
                v |= 1 << (bits - 1 - j);
            }
        }
        let last = header.mask >> (first + bits) == 0;
        if last {
            v |= 1 << bits;
        }
        out.extend_from_slice(&v.to_be_bytes()[8 - len..]);
        if last {
            break;
        }
    }
    out.extend_from_slice(payload);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_of_every_length_round_trip() {
        for (mask, len) in [
            (1u128, 20),
            (1 << 14 | 1, 20),
            (1 << 15, 24),
            (1 << 45 | 1 << 3, 24),
            (1 << 46, 32),
            (1 << 108 | 1, 32),
        ] {
            let h = FecHeader {
                bits0: 0x05,
                bits1: 0x60,
                length_recovery: 999,
                timestamp_recovery: 77,
                sequence_base: 4,
                mask,
                protected_ssrc: Some(0x1234_5678),
            };
            let mut out = Vec::new();
            write(&h, b"xy", &mut out).unwrap();
            assert_eq!(out.len(), len + 2, "mask {mask:#x}");
            let (back, payload) = parse(&out).unwrap();
            assert_eq!(back, h);
            assert_eq!(payload, b"xy");
        }
        // Mask bit 0 is the bit after the first k bit.
        let mut out = Vec::new();
        let h = FecHeader {
            mask: 1,
            protected_ssrc: Some(1),
            ..FecHeader::default()
        };
        write(&h, b"", &mut out).unwrap();
        assert_eq!(&out[18..20], &[0xc0, 0x00]);
    }

    #[test]
    fn a_mask_without_its_last_k_bit_is_malformed() {
        let mut out = Vec::new();
        let h = FecHeader {
            mask: 1 << 100,
            protected_ssrc: Some(1),
            ..FecHeader::default()
        };
        write(&h, b"", &mut out).unwrap();
        out[24] &= 0x7f;
        assert!(parse(&out).is_err());
        assert!(parse(&out[..23]).is_err());
    }
}
