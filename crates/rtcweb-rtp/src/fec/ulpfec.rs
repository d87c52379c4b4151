//! The ULPFEC packet (RFC 5109 section 7): the FEC header and one level-0 ULP header, as
//! WebRTC sends it inside RED (section 9).
//!
//! ```text
//!  0                   1                   2                   3
//!  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//! |E|L|P|X|  CC   |M| PT recovery |            SN base            |  FEC header
//! |                          TS recovery                          |
//! |        length recovery        |       protection length       |  level 0 header
//! |             mask              |  mask cont. (L = 1)           |
//! |      mask cont. (L = 1)       |  ... level 0 payload
//! ```
//!
//! The mask's most significant bit is `SN base` itself; 16 bits (L = 0) or 48 (L = 1).

use super::FecHeader;
use crate::error::{Error, Result, need};

/// Octets of the FEC header plus a level-0 header with a 16-bit mask.
pub const HEADER_LEN_SHORT: usize = 14;
/// The same with a 48-bit mask (L = 1).
pub const HEADER_LEN_LONG: usize = 18;
/// Media packets one ULPFEC packet can protect at most (the long mask).
pub const MAX_SPAN: usize = 48;

/// Parses an ULPFEC payload (the data of a RED block): its header and the level-0 payload.
pub fn parse(data: &[u8]) -> Result<(FecHeader, &[u8])> {
    need(data, HEADER_LEN_SHORT)?;
    if data[0] & 0x80 != 0 {
        // E = 1 announces an extension RFC 5109 does not define.
        return Err(Error::Unsupported("ULPFEC extension flag"));
    }
    let long = data[0] & 0x40 != 0;
    let header_len = if long {
        HEADER_LEN_LONG
    } else {
        HEADER_LEN_SHORT
    };
    need(data, header_len)?;
    let protection_length = usize::from(u16::from_be_bytes([data[10], data[11]]));
    let wire_mask = if long {
        u64::from_be_bytes([
            0, 0, data[12], data[13], data[14], data[15], data[16], data[17],
        ])
    } else {
        u64::from(u16::from_be_bytes([data[12], data[13]]))
    };
    let bits = if long { 48 } else { 16 };
    // Wire bit `bits - 1 - i` protects `SN base + i`: reverse into our bit `i`.
    let mut mask = 0u128;
    for i in 0..bits {
        if wire_mask >> (bits - 1 - i) & 1 == 1 {
            mask |= 1 << i;
        }
    }
    let payload = &data[header_len..];
    need(payload, protection_length)?;
    let header = FecHeader {
        bits0: data[0] & 0x3f,
        bits1: data[1],
        sequence_base: u16::from_be_bytes([data[2], data[3]]),
        timestamp_recovery: u32::from_be_bytes([data[4], data[5], data[6], data[7]]),
        length_recovery: u16::from_be_bytes([data[8], data[9]]),
        mask,
        protected_ssrc: None,
    };
    Ok((header, &payload[..protection_length]))
}

/// Appends an ULPFEC payload (header and level-0 payload) to `out`.
pub fn write(header: &FecHeader, payload: &[u8], out: &mut Vec<u8>) -> Result<()> {
    if header.mask >> MAX_SPAN != 0 {
        return Err(Error::OutOfRange("ULPFEC mask beyond 48 packets"));
    }
    let protection_length =
        u16::try_from(payload.len()).map_err(|_| Error::OutOfRange("ULPFEC payload"))?;
    let long = header.mask >> 16 != 0;
    let bits = if long { 48 } else { 16 };
    let mut wire_mask = 0u64;
    for i in 0..bits {
        if header.mask >> i & 1 == 1 {
            wire_mask |= 1 << (bits - 1 - i);
        }
    }
    out.push((u8::from(long) << 6) | (header.bits0 & 0x3f));
    out.push(header.bits1);
    out.extend_from_slice(&header.sequence_base.to_be_bytes());
    out.extend_from_slice(&header.timestamp_recovery.to_be_bytes());
    out.extend_from_slice(&header.length_recovery.to_be_bytes());
    out.extend_from_slice(&protection_length.to_be_bytes());
    if long {
        out.extend_from_slice(&wire_mask.to_be_bytes()[2..]);
    } else {
        out.extend_from_slice(&(wire_mask as u16).to_be_bytes());
    }
    out.extend_from_slice(payload);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_and_long_masks_round_trip() {
        for mask in [0b1011u128, 1 | 1 << 15, 1 | 1 << 16, 1 << 47 | 0b110] {
            let h = FecHeader {
                bits0: 0x12,
                bits1: 0xe0,
                sequence_base: 65530,
                timestamp_recovery: 0xdead_beef,
                length_recovery: 0x1234,
                mask,
                protected_ssrc: None,
            };
            let mut out = Vec::new();
            write(&h, b"parity", &mut out).unwrap();
            let long = mask >> 16 != 0;
            assert_eq!(out.len(), if long { 18 } else { 14 } + 6);
            assert_eq!(out[0] & 0x40 != 0, long);
            let (back, payload) = parse(&out).unwrap();
            assert_eq!(back, h);
            assert_eq!(payload, b"parity");
        }
        // The first packet is the mask's most significant bit.
        let h = FecHeader {
            mask: 1,
            ..FecHeader::default()
        };
        let mut out = Vec::new();
        write(&h, b"", &mut out).unwrap();
        assert_eq!(&out[12..14], &[0x80, 0]);
        assert!(write(&FecHeader { mask: 1 << 48, ..h }, b"", &mut out).is_err());
    }

    #[test]
    fn a_protection_length_beyond_the_payload_is_malformed() {
        let mut out = Vec::new();
        write(&FecHeader::default(), b"abc", &mut out).unwrap();
        out.pop();
        assert!(parse(&out).is_err());
        out[0] |= 0x80;
        assert!(parse(&out).is_err());
    }
}
