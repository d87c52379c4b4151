//! The common RTCP header (RFC 3550 section 6.4.1) and byte helpers shared by the packet types.

use crate::error::{Error, Result, need, room};

/// Length of the common header.
pub const HEADER_LEN: usize = 4;

/// The split of one RTCP packet: its header fields and its body (after the 4-octet header,
/// with padding removed).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Split<'a> {
    pub count: u8,
    pub packet_type: u8,
    pub body: &'a [u8],
    /// The whole packet including header and padding.
    pub packet_len: usize,
    pub padding: bool,
}

/// Splits the first RTCP packet off `buf`.
pub(crate) fn split(buf: &[u8]) -> Result<Split<'_>> {
    need(buf, HEADER_LEN)?;
    let v = buf[0] >> 6;
    if v != 2 {
        return Err(Error::BadVersion(v));
    }
    let len = (usize::from(u16::from_be_bytes([buf[2], buf[3]])) + 1) * 4;
    need(buf, len)?;
    let padding = buf[0] & 0x20 != 0;
    let mut end = len;
    if padding {
        let pad = usize::from(buf[len - 1]);
        if pad == 0 || HEADER_LEN + pad > len {
            return Err(Error::Malformed("RTCP padding"));
        }
        end -= pad;
    }
    Ok(Split {
        count: buf[0] & 0x1f,
        packet_type: buf[1],
        body: &buf[HEADER_LEN..end],
        packet_len: len,
        padding,
    })
}

/// Writes a common header for a packet of `total` octets (a multiple of 4).
pub(crate) fn write(buf: &mut [u8], count: u8, packet_type: u8, total: usize) -> Result<()> {
    room(buf, total)?;
    if count > 31 {
        return Err(Error::OutOfRange("RTCP count"));
    }
    let words = u16::try_from(total / 4 - 1).map_err(|_| Error::OutOfRange("RTCP length"))?;
    buf[0] = 0x80 | count;
    buf[1] = packet_type;
    buf[2..4].copy_from_slice(&words.to_be_bytes());
    Ok(())
}

#[inline]
pub(crate) fn be16(b: &[u8], at: usize) -> u16 {
    u16::from_be_bytes([b[at], b[at + 1]])
}

#[inline]
pub(crate) fn be24(b: &[u8], at: usize) -> u32 {
    u32::from_be_bytes([0, b[at], b[at + 1], b[at + 2]])
}

#[inline]
pub(crate) fn be32(b: &[u8], at: usize) -> u32 {
    u32::from_be_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

#[inline]
pub(crate) fn be64(b: &[u8], at: usize) -> u64 {
    (u64::from(be32(b, at)) << 32) | u64::from(be32(b, at + 4))
}

#[inline]
pub(crate) fn put16(b: &mut [u8], at: usize, v: u16) {
    b[at..at + 2].copy_from_slice(&v.to_be_bytes());
}

#[inline]
pub(crate) fn put32(b: &mut [u8], at: usize, v: u32) {
    b[at..at + 4].copy_from_slice(&v.to_be_bytes());
}

#[inline]
pub(crate) fn put64(b: &mut [u8], at: usize, v: u64) {
    b[at..at + 8].copy_from_slice(&v.to_be_bytes());
}
