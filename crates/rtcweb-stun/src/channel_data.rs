//! ChannelData messages (RFC 8656 section 12.4): a 4-octet header (channel number, length)
//! followed by application data, the compact alternative to Send and Data indications.

use crate::error::{Error, Result};
use crate::header::padded;

/// Lowest valid channel number.
pub const CHANNEL_MIN: u16 = 0x4000;
/// Highest valid channel number (RFC 8656 narrowed RFC 5766's range to 0x4000-0x4FFF).
pub const CHANNEL_MAX: u16 = 0x4FFF;

/// Whether `n` is a channel number a client may bind.
pub fn is_valid_channel(n: u16) -> bool {
    (CHANNEL_MIN..=CHANNEL_MAX).contains(&n)
}

/// Whether the first octet marks ChannelData (0b01 in the top two bits, RFC 7983).
pub fn is_channel_data(data: &[u8]) -> bool {
    matches!(data.first(), Some(b) if b & 0xC0 == 0x40)
}

/// A ChannelData message over a buffer.
#[derive(Debug, Clone)]
pub struct ChannelData<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> ChannelData<T> {
    /// Checks the channel number and that the buffer holds the declared length; up to three
    /// octets of padding may follow (mandatory over TCP/TLS, optional over UDP).
    pub fn new_checked(buffer: T) -> Result<Self> {
        let b = buffer.as_ref();
        let (n, len) = match b {
            [n0, n1, l0, l1, ..] => (
                u16::from_be_bytes([*n0, *n1]),
                usize::from(u16::from_be_bytes([*l0, *l1])),
            ),
            _ => return Err(Error::Truncated),
        };
        if !is_valid_channel(n) {
            return Err(Error::BadChannelNumber(n));
        }
        if b.len() < 4 + len {
            return Err(Error::Truncated);
        }
        if b.len() > 4 + padded(len) {
            return Err(Error::BadLength);
        }
        Ok(ChannelData { buffer })
    }

    /// The channel number.
    pub fn channel_number(&self) -> u16 {
        let b = self.buffer.as_ref();
        u16::from_be_bytes([b[0], b[1]])
    }

    /// The application data.
    pub fn data(&self) -> &[u8] {
        let b = self.buffer.as_ref();
        let len = usize::from(u16::from_be_bytes([b[2], b[3]]));
        &b[4..4 + len]
    }
}

/// Writes a ChannelData message into `out` and returns its length. With `pad` the message is
/// padded to a multiple of four (required over TCP and TLS).
pub fn encode(out: &mut [u8], channel: u16, data: &[u8], pad: bool) -> Result<usize> {
    if !is_valid_channel(channel) {
        return Err(Error::BadChannelNumber(channel));
    }
    let len = u16::try_from(data.len()).map_err(|_| Error::ValueTooLong)?;
    let total = if pad {
        4 + padded(data.len())
    } else {
        4 + data.len()
    };
    let area = out.get_mut(..total).ok_or(Error::BufferTooSmall)?;
    area[0..2].copy_from_slice(&channel.to_be_bytes());
    area[2..4].copy_from_slice(&len.to_be_bytes());
    area[4..4 + data.len()].copy_from_slice(data);
    area[4 + data.len()..].fill(0);
    Ok(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_padding() {
        let mut buf = [0u8; 16];
        let n = encode(&mut buf, 0x4001, b"hello", true).unwrap();
        assert_eq!(n, 12);
        let cd = ChannelData::new_checked(&buf[..n]).unwrap();
        assert_eq!(cd.channel_number(), 0x4001);
        assert_eq!(cd.data(), b"hello");
        let n = encode(&mut buf, 0x4FFF, b"hello", false).unwrap();
        assert_eq!(n, 9);
        assert!(ChannelData::new_checked(&buf[..n]).is_ok());
    }

    #[test]
    fn rejects_bad_input() {
        assert_eq!(
            ChannelData::new_checked(&[0x40u8, 0][..]).unwrap_err(),
            Error::Truncated
        );
        assert_eq!(
            ChannelData::new_checked(&[0x50u8, 0, 0, 0][..]).unwrap_err(),
            Error::BadChannelNumber(0x5000)
        );
        assert_eq!(
            ChannelData::new_checked(&[0x40u8, 0, 0, 5, 1][..]).unwrap_err(),
            Error::Truncated
        );
        assert_eq!(
            ChannelData::new_checked(&[0x40u8, 0, 0, 1, 1, 0, 0, 0, 0][..]).unwrap_err(),
            Error::BadLength
        );
        let mut small = [0u8; 4];
        assert_eq!(
            encode(&mut small, 0x4000, b"x", false).unwrap_err(),
            Error::BufferTooSmall
        );
        assert_eq!(
            encode(&mut small, 0x3FFF, b"", false).unwrap_err(),
            Error::BadChannelNumber(0x3FFF)
        );
    }
}
