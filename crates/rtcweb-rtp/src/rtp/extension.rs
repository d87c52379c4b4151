//! RFC 8285 header extension elements, one-byte and two-byte forms.

use crate::error::{Error, Result, room};

/// "defined by profile" value of the one-byte form.
pub const ONE_BYTE_PROFILE: u16 = 0xbede;
/// "defined by profile" value of the two-byte form (the low 4 bits are application bits).
pub const TWO_BYTE_PROFILE: u16 = 0x1000;

/// The raw extension block of an RTP header: the 16-bit profile and the data after the length
/// word (a multiple of 4 octets when parsed; [`RtpRepr`](super::RtpRepr) pads on write).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExtensionBlock<'a> {
    /// The "defined by profile" field.
    pub profile: u16,
    /// The extension data.
    pub data: &'a [u8],
}

impl<'a> ExtensionBlock<'a> {
    /// Length of the data rounded up to a multiple of 4.
    pub fn padded_len(&self) -> usize {
        self.data.len().div_ceil(4) * 4
    }

    /// The elements as `(id, data)`.
    #[inline]
    pub fn iter(&self) -> ExtensionIter<'a> {
        let form = if self.profile == ONE_BYTE_PROFILE {
            Form::OneByte
        } else if self.profile & 0xfff0 == TWO_BYTE_PROFILE {
            Form::TwoByte
        } else {
            Form::None
        };
        ExtensionIter {
            data: self.data,
            at: 0,
            form,
        }
    }

    /// Offset and length of element `id` within `data`.
    pub(crate) fn locate(&self, id: u8) -> Option<(usize, usize)> {
        let mut it = self.iter();
        while let Some((found, d)) = it.next() {
            if found == id {
                return Some((it.at - d.len(), d.len()));
            }
        }
        None
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Form {
    OneByte,
    TwoByte,
    None,
}

/// Iterator over the elements of an extension block. A malformed element ends the iteration
/// (RFC 8285 section 4.2: the rest of the block cannot be interpreted).
#[derive(Debug, Clone)]
pub struct ExtensionIter<'a> {
    data: &'a [u8],
    at: usize,
    form: Form,
}

impl<'a> ExtensionIter<'a> {
    /// An iterator that yields nothing.
    #[inline]
    pub fn empty() -> Self {
        Self {
            data: &[],
            at: 0,
            form: Form::None,
        }
    }
}

impl<'a> Iterator for ExtensionIter<'a> {
    type Item = (u8, &'a [u8]);

    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        loop {
            let &first = self.data.get(self.at)?;
            match self.form {
                Form::None => return None,
                Form::OneByte => {
                    if first == 0 {
                        self.at += 1;
                        continue;
                    }
                    let id = first >> 4;
                    if id == 15 {
                        // Reserved id: stop processing (RFC 8285 section 4.2).
                        self.at = self.data.len();
                        return None;
                    }
                    let len = usize::from(first & 0x0f) + 1;
                    let start = self.at + 1;
                    let Some(d) = self.data.get(start..start + len) else {
                        self.at = self.data.len();
                        return None;
                    };
                    self.at = start + len;
                    return Some((id, d));
                }
                Form::TwoByte => {
                    if first == 0 {
                        self.at += 1;
                        continue;
                    }
                    let Some(&len) = self.data.get(self.at + 1) else {
                        self.at = self.data.len();
                        return None;
                    };
                    let start = self.at + 2;
                    let Some(d) = self.data.get(start..start + usize::from(len)) else {
                        self.at = self.data.len();
                        return None;
                    };
                    self.at = start + usize::from(len);
                    return Some((first, d));
                }
            }
        }
    }
}

/// Writes extension elements into a caller buffer and yields the block for
/// [`RtpRepr::extension`](super::RtpRepr::extension).
///
/// ```
/// use rtcweb_rtp::rtp::{ExtensionWriter, RtpPacket, RtpRepr};
///
/// let mut scratch = [0u8; 32];
/// let mut w = ExtensionWriter::new(&mut scratch, false);
/// w.push(3, &[0x12, 0x34]).unwrap();
/// w.push(9, b"video").unwrap();
/// let repr = RtpRepr { payload_type: 96, extension: Some(w.finish()), ..Default::default() };
/// let bytes = repr.to_vec(&[0xff]).unwrap();
/// let p = RtpPacket::new_checked(&bytes[..]).unwrap();
/// let items: Vec<_> = p.extensions().collect();
/// assert_eq!(items, [(3, &[0x12, 0x34][..]), (9, &b"video"[..])]);
/// ```
#[derive(Debug)]
pub struct ExtensionWriter<'b> {
    buf: &'b mut [u8],
    len: usize,
    two_byte: bool,
}

impl<'b> ExtensionWriter<'b> {
    /// A writer in the one-byte form (ids 1..=14, 1..=16 octets each) or, with `two_byte`,
    /// the two-byte form (ids 1..=255, 0..=255 octets).
    pub fn new(buf: &'b mut [u8], two_byte: bool) -> Self {
        Self {
            buf,
            len: 0,
            two_byte,
        }
    }

    /// Whether an element with this id and length fits the one-byte form.
    pub fn fits_one_byte(id: u8, len: usize) -> bool {
        (1..=14).contains(&id) && (1..=16).contains(&len)
    }

    /// Appends an element.
    pub fn push(&mut self, id: u8, data: &[u8]) -> Result<()> {
        if self.two_byte {
            let len = u8::try_from(data.len()).map_err(|_| Error::OutOfRange("extension"))?;
            if id == 0 {
                return Err(Error::OutOfRange("extension id"));
            }
            room(&self.buf[self.len..], 2 + data.len())?;
            self.buf[self.len] = id;
            self.buf[self.len + 1] = len;
            self.buf[self.len + 2..self.len + 2 + data.len()].copy_from_slice(data);
            self.len += 2 + data.len();
        } else {
            if !Self::fits_one_byte(id, data.len()) {
                return Err(Error::OutOfRange("one-byte extension"));
            }
            room(&self.buf[self.len..], 1 + data.len())?;
            self.buf[self.len] = (id << 4) | (data.len() as u8 - 1);
            self.buf[self.len + 1..self.len + 1 + data.len()].copy_from_slice(data);
            self.len += 1 + data.len();
        }
        Ok(())
    }

    /// Whether nothing was pushed.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The block written so far.
    pub fn finish(self) -> ExtensionBlock<'b> {
        ExtensionBlock {
            profile: if self.two_byte {
                TWO_BYTE_PROFILE
            } else {
                ONE_BYTE_PROFILE
            },
            data: &self.buf[..self.len],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_byte_form_skips_padding_and_stops_at_id_15() {
        let data = [0x00, 0x11, 0xaa, 0xbb, 0x00, 0x20, 0xcc, 0xf0, 0x30, 0xdd];
        let block = ExtensionBlock {
            profile: ONE_BYTE_PROFILE,
            data: &data,
        };
        let v: Vec<_> = block.iter().collect();
        assert_eq!(v, [(1, &[0xaa, 0xbb][..]), (2, &[0xcc][..])]);
    }

    #[test]
    fn two_byte_form_allows_empty_and_long_elements() {
        let mut buf = [0u8; 400];
        let mut w = ExtensionWriter::new(&mut buf, true);
        w.push(20, &[]).unwrap();
        w.push(200, &[7; 255]).unwrap();
        let block = w.finish();
        assert_eq!(block.profile, 0x1000);
        let v: Vec<_> = block.iter().collect();
        assert_eq!(v.len(), 2);
        assert_eq!(v[0], (20, &[][..]));
        assert_eq!(v[1].0, 200);
        assert_eq!(v[1].1.len(), 255);
    }

    #[test]
    fn truncated_element_ends_iteration() {
        let block = ExtensionBlock {
            profile: ONE_BYTE_PROFILE,
            data: &[0x13, 1, 2],
        };
        assert_eq!(block.iter().count(), 0);
        let block = ExtensionBlock {
            profile: 0x1001,
            data: &[5, 9, 1],
        };
        assert_eq!(block.iter().count(), 0);
        let block = ExtensionBlock {
            profile: 0x1234,
            data: &[0x10, 1],
        };
        assert_eq!(block.iter().count(), 0);
    }

    #[test]
    fn one_byte_writer_refuses_what_does_not_fit() {
        let mut buf = [0u8; 64];
        let mut w = ExtensionWriter::new(&mut buf, false);
        assert!(w.push(15, &[1]).is_err());
        assert!(w.push(1, &[]).is_err());
        assert!(w.push(1, &[0; 17]).is_err());
        assert!(w.push(14, &[0; 16]).is_ok());
    }
}
