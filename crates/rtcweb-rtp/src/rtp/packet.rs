//! The RTP fixed header, CSRC list, extension block and padding.

use crate::error::{Error, Result, need, room};
use crate::rtp::extension::{ExtensionBlock, ExtensionIter};

/// Length of the fixed RTP header.
pub const HEADER_LEN: usize = 12;

/// A read (and, over a mutable buffer, write) view of an RTP packet.
///
/// ```
/// use rtcweb_rtp::rtp::RtpPacket;
///
/// let bytes = [0x80, 0xe0, 0x12, 0x34, 0, 0, 0x0b, 0xb8, 0xca, 0xfe, 0xba, 0xbe, 1, 2, 3];
/// let packet = RtpPacket::new_checked(&bytes[..]).unwrap();
/// assert!(packet.marker());
/// assert_eq!(packet.payload_type(), 96);
/// assert_eq!(packet.sequence_number(), 0x1234);
/// assert_eq!(packet.timestamp(), 3000);
/// assert_eq!(packet.ssrc(), 0xcafebabe);
/// assert_eq!(packet.payload(), &[1, 2, 3]);
/// ```
#[derive(Debug, Clone)]
pub struct RtpPacket<T> {
    buffer: T,
    payload_start: usize,
    payload_end: usize,
}

#[inline]
fn be16(b: &[u8], at: usize) -> u16 {
    u16::from_be_bytes([b[at], b[at + 1]])
}

#[inline]
fn be32(b: &[u8], at: usize) -> u32 {
    u32::from_be_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

impl<T: AsRef<[u8]>> RtpPacket<T> {
    /// Validates `buffer` as an RTP packet: version 2, the CSRC list, the extension block and
    /// the padding all inside the buffer.
    #[inline]
    pub fn new_checked(buffer: T) -> Result<Self> {
        let b = buffer.as_ref();
        need(b, HEADER_LEN)?;
        let first = b[0];
        if first >> 6 != 2 {
            return Err(Error::BadVersion(first >> 6));
        }
        let mut start = HEADER_LEN + 4 * usize::from(first & 0x0f);
        need(b, start)?;
        if first & 0x10 != 0 {
            need(b, start + 4)?;
            let words = usize::from(be16(b, start + 2));
            start += 4 + 4 * words;
            need(b, start)?;
        }
        let mut end = b.len();
        if first & 0x20 != 0 {
            let pad = usize::from(b[end - 1]);
            if pad == 0 || start + pad > end {
                return Err(Error::Malformed("RTP padding"));
            }
            end -= pad;
        }
        Ok(Self {
            buffer,
            payload_start: start,
            payload_end: end,
        })
    }

    /// The underlying buffer.
    #[inline]
    pub fn into_inner(self) -> T {
        self.buffer
    }

    /// The whole packet.
    #[inline]
    pub fn as_bytes(&self) -> &[u8] {
        self.buffer.as_ref()
    }

    /// Whether the P bit is set (the padding is excluded from [`RtpPacket::payload`]).
    #[inline]
    pub fn padding(&self) -> bool {
        self.buffer.as_ref()[0] & 0x20 != 0
    }

    /// Number of padding octets at the end (0 without the P bit).
    #[inline]
    pub fn padding_len(&self) -> usize {
        self.buffer.as_ref().len() - self.payload_end
    }

    /// Whether the X bit is set.
    #[inline]
    pub fn has_extension(&self) -> bool {
        self.buffer.as_ref()[0] & 0x10 != 0
    }

    /// The CC field: the number of CSRCs.
    #[inline]
    pub fn csrc_count(&self) -> usize {
        usize::from(self.buffer.as_ref()[0] & 0x0f)
    }

    /// The M bit.
    #[inline]
    pub fn marker(&self) -> bool {
        self.buffer.as_ref()[1] & 0x80 != 0
    }

    /// The PT field.
    #[inline]
    pub fn payload_type(&self) -> u8 {
        self.buffer.as_ref()[1] & 0x7f
    }

    /// The sequence number.
    #[inline]
    pub fn sequence_number(&self) -> u16 {
        be16(self.buffer.as_ref(), 2)
    }

    /// The RTP timestamp.
    #[inline]
    pub fn timestamp(&self) -> u32 {
        be32(self.buffer.as_ref(), 4)
    }

    /// The synchronization source.
    #[inline]
    pub fn ssrc(&self) -> u32 {
        be32(self.buffer.as_ref(), 8)
    }

    /// The contributing sources.
    #[inline]
    pub fn csrcs(&self) -> Csrcs<'_> {
        let n = self.csrc_count();
        Csrcs(&self.buffer.as_ref()[HEADER_LEN..HEADER_LEN + 4 * n])
    }

    fn extension_offset(&self) -> usize {
        HEADER_LEN + 4 * self.csrc_count()
    }

    /// The header extension block (profile and data), if the X bit is set.
    #[inline]
    pub fn extension(&self) -> Option<ExtensionBlock<'_>> {
        if !self.has_extension() {
            return None;
        }
        let b = self.buffer.as_ref();
        let at = self.extension_offset();
        Some(ExtensionBlock {
            profile: be16(b, at),
            data: &b[at + 4..self.payload_start],
        })
    }

    /// The header extension elements as `(id, data)` (RFC 8285 one- or two-byte form; an
    /// unknown profile yields nothing).
    #[inline]
    pub fn extensions(&self) -> ExtensionIter<'_> {
        match self.extension() {
            Some(block) => block.iter(),
            None => ExtensionIter::empty(),
        }
    }

    /// Length of everything before the payload.
    #[inline]
    pub fn header_len(&self) -> usize {
        self.payload_start
    }

    /// The payload, without padding.
    #[inline]
    pub fn payload(&self) -> &[u8] {
        &self.buffer.as_ref()[self.payload_start..self.payload_end]
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> RtpPacket<T> {
    /// Sets the M bit.
    #[inline]
    pub fn set_marker(&mut self, marker: bool) {
        let b = &mut self.buffer.as_mut()[1];
        *b = (*b & 0x7f) | (u8::from(marker) << 7);
    }

    /// Sets the PT field (the top bit is ignored).
    #[inline]
    pub fn set_payload_type(&mut self, pt: u8) {
        let b = &mut self.buffer.as_mut()[1];
        *b = (*b & 0x80) | (pt & 0x7f);
    }

    /// Sets the sequence number.
    #[inline]
    pub fn set_sequence_number(&mut self, seq: u16) {
        self.buffer.as_mut()[2..4].copy_from_slice(&seq.to_be_bytes());
    }

    /// Sets the timestamp.
    #[inline]
    pub fn set_timestamp(&mut self, ts: u32) {
        self.buffer.as_mut()[4..8].copy_from_slice(&ts.to_be_bytes());
    }

    /// Sets the SSRC.
    #[inline]
    pub fn set_ssrc(&mut self, ssrc: u32) {
        self.buffer.as_mut()[8..12].copy_from_slice(&ssrc.to_be_bytes());
    }

    /// The payload, writable in place.
    #[inline]
    pub fn payload_mut(&mut self) -> &mut [u8] {
        let (s, e) = (self.payload_start, self.payload_end);
        &mut self.buffer.as_mut()[s..e]
    }

    /// The data of extension element `id`, writable in place (to rewrite a transport-wide
    /// sequence number or abs-send-time when forwarding).
    #[inline]
    pub fn extension_mut(&mut self, id: u8) -> Option<&mut [u8]> {
        let block = self.extension()?;
        let base = self.extension_offset() + 4;
        let (off, len) = block.locate(id)?;
        Some(&mut self.buffer.as_mut()[base + off..base + off + len])
    }
}

/// The CSRC list of a packet (big-endian 32-bit words).
#[derive(Debug, Clone, Copy)]
pub struct Csrcs<'a>(&'a [u8]);

impl<'a> Csrcs<'a> {
    /// Number of CSRCs.
    #[inline]
    pub fn len(&self) -> usize {
        self.0.len() / 4
    }

    /// Whether there are none.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The CSRCs in order.
    #[inline]
    pub fn iter(&self) -> impl Iterator<Item = u32> + 'a {
        self.0
            .chunks_exact(4)
            .map(|c| u32::from_be_bytes([c[0], c[1], c[2], c[3]]))
    }
}

/// The header of an RTP packet as plain data, for writing (and the result of parsing a view).
///
/// The payload is not part of the repr: [`RtpRepr::emit`] writes the header and the caller
/// writes the payload after it, or [`RtpRepr::emit_with_payload`] copies both.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RtpRepr<'a> {
    /// The M bit.
    pub marker: bool,
    /// The PT field (0..=127).
    pub payload_type: u8,
    /// The sequence number.
    pub sequence_number: u16,
    /// The RTP timestamp.
    pub timestamp: u32,
    /// The synchronization source.
    pub ssrc: u32,
    /// Contributing sources, at most 15, as raw big-endian words (see [`Csrcs`]).
    pub csrcs: &'a [u8],
    /// The header extension block, if any.
    pub extension: Option<ExtensionBlock<'a>>,
    /// Padding octets to append after the payload (0 for none; the last one holds the count).
    pub padding: u8,
}

impl<'a> RtpRepr<'a> {
    /// The header of `packet`.
    #[inline]
    pub fn parse<T: AsRef<[u8]>>(packet: &'a RtpPacket<T>) -> Self {
        let b = packet.buffer.as_ref();
        Self {
            marker: packet.marker(),
            payload_type: packet.payload_type(),
            sequence_number: packet.sequence_number(),
            timestamp: packet.timestamp(),
            ssrc: packet.ssrc(),
            csrcs: &b[HEADER_LEN..HEADER_LEN + 4 * packet.csrc_count()],
            extension: packet.extension(),
            padding: u8::try_from(packet.padding_len()).unwrap_or(0),
        }
    }

    /// Length of the header this repr writes.
    #[inline]
    pub fn header_len(&self) -> usize {
        HEADER_LEN + self.csrcs.len() + self.extension.map_or(0, |e| 4 + e.padded_len())
    }

    /// Writes the header into `buf` and returns its length. The padding count is not
    /// written here (it goes after the payload); the P bit is set when `padding > 0`.
    #[inline]
    pub fn emit(&self, buf: &mut [u8]) -> Result<usize> {
        if self.csrcs.len() > 60 || !self.csrcs.len().is_multiple_of(4) {
            return Err(Error::OutOfRange("CSRC list"));
        }
        if self.payload_type > 127 {
            return Err(Error::OutOfRange("payload type"));
        }
        let len = self.header_len();
        room(buf, len)?;
        let cc = (self.csrcs.len() / 4) as u8;
        buf[0] = 0x80
            | (u8::from(self.padding > 0) << 5)
            | (u8::from(self.extension.is_some()) << 4)
            | cc;
        buf[1] = (u8::from(self.marker) << 7) | self.payload_type;
        buf[2..4].copy_from_slice(&self.sequence_number.to_be_bytes());
        buf[4..8].copy_from_slice(&self.timestamp.to_be_bytes());
        buf[8..12].copy_from_slice(&self.ssrc.to_be_bytes());
        let mut at = HEADER_LEN;
        buf[at..at + self.csrcs.len()].copy_from_slice(self.csrcs);
        at += self.csrcs.len();
        if let Some(ext) = self.extension {
            let padded = ext.padded_len();
            let words =
                u16::try_from(padded / 4).map_err(|_| Error::OutOfRange("extension length"))?;
            buf[at..at + 2].copy_from_slice(&ext.profile.to_be_bytes());
            buf[at + 2..at + 4].copy_from_slice(&words.to_be_bytes());
            at += 4;
            buf[at..at + ext.data.len()].copy_from_slice(ext.data);
            buf[at + ext.data.len()..at + padded].fill(0);
            at += padded;
        }
        Ok(at)
    }

    /// Writes header, `payload` and padding into `buf`; returns the packet length.
    #[inline]
    pub fn emit_with_payload(&self, payload: &[u8], buf: &mut [u8]) -> Result<usize> {
        let total = self.header_len() + payload.len() + usize::from(self.padding);
        room(buf, total)?;
        let h = self.emit(buf)?;
        buf[h..h + payload.len()].copy_from_slice(payload);
        if self.padding > 0 {
            let p = h + payload.len();
            buf[p..total].fill(0);
            buf[total - 1] = self.padding;
        }
        Ok(total)
    }

    /// Writes header and payload into a new vector.
    #[inline]
    pub fn to_vec(&self, payload: &[u8]) -> Result<Vec<u8>> {
        let mut v = vec![0; self.header_len() + payload.len() + usize::from(self.padding)];
        let n = self.emit_with_payload(payload, &mut v)?;
        v.truncate(n);
        Ok(v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_what_does_not_fit() {
        assert!(matches!(
            RtpPacket::new_checked(&[0x80u8; 11][..]),
            Err(Error::Truncated { .. })
        ));
        assert_eq!(
            RtpPacket::new_checked(&[0x40u8; 12][..]).unwrap_err(),
            Error::BadVersion(1)
        );
        // CC = 2 but no room for the CSRCs.
        let mut p = [0u8; 16];
        p[0] = 0x82;
        assert!(RtpPacket::new_checked(&p[..]).is_err());
        // Extension that claims 1 word more than present.
        let mut p = vec![
            0x90, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xbe, 0xde, 0, 2, 0, 0, 0, 0,
        ];
        assert!(RtpPacket::new_checked(&p[..]).is_err());
        p.extend_from_slice(&[0; 4]);
        assert!(RtpPacket::new_checked(&p[..]).is_ok());
        // Padding count zero, or larger than the payload.
        let mut p = [0u8; 14];
        p[0] = 0xa0;
        assert!(RtpPacket::new_checked(&p[..]).is_err());
        p[13] = 3;
        assert!(RtpPacket::new_checked(&p[..]).is_err());
        p[13] = 2;
        let v = RtpPacket::new_checked(&p[..]).unwrap();
        assert!(v.payload().is_empty());
        assert_eq!(v.padding_len(), 2);
    }

    #[test]
    fn repr_round_trips_with_csrcs_extension_and_padding() {
        let csrcs = [0, 0, 0, 1, 0, 0, 0, 2];
        let ext = [0x11, 0xaa, 0xbb, 0x00];
        let repr = RtpRepr {
            marker: true,
            payload_type: 111,
            sequence_number: 65535,
            timestamp: 0xdeadbeef,
            ssrc: 7,
            csrcs: &csrcs,
            extension: Some(ExtensionBlock {
                profile: 0xbede,
                data: &ext[..3],
            }),
            padding: 4,
        };
        let bytes = repr.to_vec(b"hello").unwrap();
        assert_eq!(bytes.len(), 12 + 8 + 8 + 5 + 4);
        let p = RtpPacket::new_checked(&bytes[..]).unwrap();
        assert_eq!(p.payload(), b"hello");
        assert_eq!(p.csrcs().iter().collect::<Vec<_>>(), [1, 2]);
        let parsed = RtpRepr::parse(&p);
        assert_eq!(parsed.csrcs, &csrcs);
        assert_eq!(parsed.extension.unwrap().data, &ext);
        assert_eq!(parsed.padding, 4);
        let items: Vec<_> = p.extensions().collect();
        assert_eq!(items, [(1, &[0xaa, 0xbb][..])]);
    }

    #[test]
    fn setters_rewrite_in_place() {
        let mut bytes = RtpRepr {
            payload_type: 96,
            ..Default::default()
        }
        .to_vec(&[9; 4])
        .unwrap();
        let mut p = RtpPacket::new_checked(&mut bytes[..]).unwrap();
        p.set_marker(true);
        p.set_payload_type(97);
        p.set_sequence_number(5);
        p.set_timestamp(6);
        p.set_ssrc(8);
        p.payload_mut()[0] = 1;
        assert_eq!(
            (
                p.marker(),
                p.payload_type(),
                p.sequence_number(),
                p.timestamp(),
                p.ssrc()
            ),
            (true, 97, 5, 6, 8)
        );
        assert_eq!(p.payload(), &[1, 9, 9, 9]);
    }
}
