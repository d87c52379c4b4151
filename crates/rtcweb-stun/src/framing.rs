//! Framing of STUN and ChannelData over a byte stream (TCP or TLS): RFC 8489 section 6.2.2 and
//! RFC 6062 / RFC 8656 section 12.5. A STUN message is `20 + length` octets; ChannelData is
//! `4 + length` rounded up to a multiple of four, since padding is mandatory on streams.

use crate::channel_data::{is_channel_data, is_valid_channel};
use crate::error::{Error, Result};
use crate::header::{HEADER_LEN, padded};

/// What a stream frame holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FrameKind {
    /// A STUN message.
    Stun,
    /// A ChannelData message (including its padding).
    ChannelData,
}

/// The kind and total length of the frame starting at `buf[0]`, or `None` while fewer than
/// four octets are available. Anything that is neither STUN nor ChannelData is an error: the
/// stream cannot be resynchronised and should be closed.
pub fn frame_len(buf: &[u8]) -> Result<Option<(FrameKind, usize)>> {
    let (b0, b1, l0, l1) = match buf {
        [b0, b1, l0, l1, ..] => (*b0, *b1, *l0, *l1),
        _ => return Ok(None),
    };
    let len = usize::from(u16::from_be_bytes([l0, l1]));
    if b0 & 0xC0 == 0 {
        if !len.is_multiple_of(4) {
            return Err(Error::BadFrame);
        }
        Ok(Some((FrameKind::Stun, HEADER_LEN + len)))
    } else if is_channel_data(buf) && is_valid_channel(u16::from_be_bytes([b0, b1])) {
        Ok(Some((FrameKind::ChannelData, 4 + padded(len))))
    } else {
        Err(Error::BadFrame)
    }
}

/// Largest frame: a STUN header plus the largest 16-bit length.
pub const MAX_FRAME: usize = HEADER_LEN + 0xFFFF;

/// Reassembles frames from stream reads. Memory is bounded: at most `MAX_FRAME` octets plus
/// one read are held, and [`StreamDecoder::push`] refuses more (drain frames between pushes).
#[derive(Debug, Default)]
pub struct StreamDecoder {
    buf: Vec<u8>,
    start: usize,
    failed: bool,
}

/// Upper bound of octets a decoder holds.
pub const DECODER_LIMIT: usize = 2 * MAX_FRAME;

impl StreamDecoder {
    /// An empty decoder.
    pub fn new() -> Self {
        Self::default()
    }

    /// Octets buffered and not yet returned as frames.
    pub fn buffered(&self) -> usize {
        self.buf.len() - self.start
    }

    /// Appends octets read from the stream.
    pub fn push(&mut self, data: &[u8]) -> Result<()> {
        if self.start > 0 {
            self.buf.drain(..self.start);
            self.start = 0;
        }
        if self.buf.len() + data.len() > DECODER_LIMIT {
            return Err(Error::FrameTooLarge);
        }
        self.buf.extend_from_slice(data);
        Ok(())
    }

    /// The next complete frame, if one is buffered. After an error the decoder stays failed.
    pub fn next_frame(&mut self) -> Result<Option<(FrameKind, &[u8])>> {
        if self.failed {
            return Err(Error::BadFrame);
        }
        let pending = self.buf.get(self.start..).unwrap_or(&[]);
        match frame_len(pending) {
            Err(e) => {
                self.failed = true;
                Err(e)
            }
            Ok(Some((kind, len))) if len <= pending.len() => {
                let at = self.start;
                self.start += len;
                Ok(self.buf.get(at..at + len).map(|f| (kind, f)))
            }
            Ok(_) => Ok(None),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reassembles_split_frames() {
        let stun = {
            let mut b = vec![0u8, 1, 0, 4, 0x21, 0x12, 0xA4, 0x42];
            b.extend_from_slice(&[9; 12]);
            b.extend_from_slice(&[0x80, 0x22, 0, 0]);
            b
        };
        let cd = [0x40u8, 0x01, 0, 3, 1, 2, 3, 0];
        let mut all = stun.clone();
        all.extend_from_slice(&cd);
        for split in 0..all.len() {
            let mut d = StreamDecoder::new();
            let mut frames = Vec::new();
            for part in [&all[..split], &all[split..]] {
                d.push(part).unwrap();
                while let Some((k, f)) = d.next_frame().unwrap() {
                    frames.push((k, f.to_vec()));
                }
            }
            assert_eq!(
                frames,
                vec![
                    (FrameKind::Stun, stun.clone()),
                    (FrameKind::ChannelData, cd.to_vec())
                ]
            );
            assert_eq!(d.buffered(), 0);
        }
    }

    #[test]
    fn garbage_fails_and_stays_failed() {
        let mut d = StreamDecoder::new();
        d.push(&[0xFF, 0, 0, 0]).unwrap();
        assert_eq!(d.next_frame().unwrap_err(), Error::BadFrame);
        assert_eq!(d.next_frame().unwrap_err(), Error::BadFrame);
        assert_eq!(frame_len(&[0x50, 0, 0, 0]).unwrap_err(), Error::BadFrame);
        assert_eq!(frame_len(&[0x00, 1, 0, 3]).unwrap_err(), Error::BadFrame);
    }

    #[test]
    fn memory_is_bounded() {
        let mut d = StreamDecoder::new();
        let chunk = vec![0u8; 4096];
        d.push(&[0, 1, 0xFF, 0xFC]).unwrap();
        let mut refused = false;
        for _ in 0..64 {
            if d.push(&chunk).is_err() {
                refused = true;
                break;
            }
            let _ = d.next_frame();
        }
        assert!(d.buffered() <= DECODER_LIMIT);
        assert!(!refused || d.buffered() + chunk.len() > DECODER_LIMIT);
    }
}
