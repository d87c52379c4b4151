//! [`MessageBuilder`]: writes a STUN message into a caller-supplied buffer, no allocation.

use crate::attributes::{Attribute, AttributeType, RawPasswordAlgorithm};
use crate::error::{Error, Result};
use crate::header::{HEADER_LEN, MAGIC_COOKIE, MessageType, TransactionId, padded};
use crate::integrity::IntegrityKey;

/// Builds one message in `buf`. Attributes are appended in call order; MESSAGE-INTEGRITY,
/// MESSAGE-INTEGRITY-SHA256 and FINGERPRINT are computed over what precedes them.
///
/// ```
/// use rtcweb_stun::{MessageBuilder, MessageType, TransactionId, Attribute, IntegrityKey, Message};
/// let key = IntegrityKey::short_term("pass");
/// let mut buf = [0u8; 128];
/// let mut b = MessageBuilder::new(&mut buf, MessageType::BINDING_REQUEST, TransactionId([7; 12]))?;
/// b.attribute(&Attribute::Username("a:b"))?;
/// b.attribute(&Attribute::Priority(1234))?;
/// b.message_integrity(&key)?;
/// b.fingerprint()?;
/// let len = b.finish();
/// let msg = Message::new_checked(&buf[..len])?;
/// msg.verify_message_integrity(&key)?;
/// msg.verify_fingerprint()?;
/// # Ok::<(), rtcweb_stun::Error>(())
/// ```
#[derive(Debug)]
pub struct MessageBuilder<'b> {
    buf: &'b mut [u8],
    len: usize,
    tid: TransactionId,
    /// 0 = open, 1 = after MESSAGE-INTEGRITY, 2 = after MESSAGE-INTEGRITY-SHA256,
    /// 3 = after FINGERPRINT.
    stage: u8,
}

impl<'b> MessageBuilder<'b> {
    /// Starts a message of type `typ` with transaction id `tid`.
    pub fn new(buf: &'b mut [u8], typ: MessageType, tid: TransactionId) -> Result<Self> {
        let header = buf.get_mut(..HEADER_LEN).ok_or(Error::BufferTooSmall)?;
        header[0..2].copy_from_slice(&typ.to_u16().to_be_bytes());
        header[2..4].copy_from_slice(&[0, 0]);
        header[4..8].copy_from_slice(&MAGIC_COOKIE.to_be_bytes());
        header[8..20].copy_from_slice(&tid.0);
        Ok(MessageBuilder {
            buf,
            len: HEADER_LEN,
            tid,
            stage: 0,
        })
    }

    /// The transaction id.
    pub fn transaction_id(&self) -> TransactionId {
        self.tid
    }

    /// Octets written so far.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Never true: a message has at least its header.
    pub fn is_empty(&self) -> bool {
        false
    }

    /// Reserves an attribute of `vlen` value octets, writes its header and padding, updates
    /// the message length and returns the value area.
    fn reserve(&mut self, typ: AttributeType, vlen: usize) -> Result<&mut [u8]> {
        if vlen > usize::from(u16::MAX) {
            return Err(Error::ValueTooLong);
        }
        let total = 4 + padded(vlen);
        let new_len = self.len + total;
        if new_len - HEADER_LEN > usize::from(u16::MAX) {
            return Err(Error::ValueTooLong);
        }
        let area = self
            .buf
            .get_mut(self.len..new_len)
            .ok_or(Error::BufferTooSmall)?;
        area[0..2].copy_from_slice(&typ.0.to_be_bytes());
        area[2..4].copy_from_slice(&(vlen as u16).to_be_bytes());
        area[4 + vlen..].fill(0);
        let start = self.len + 4;
        self.len = new_len;
        self.buf[2..4].copy_from_slice(&((new_len - HEADER_LEN) as u16).to_be_bytes());
        Ok(&mut self.buf[start..start + vlen])
    }

    fn check_open(&self) -> Result<()> {
        if self.stage != 0 {
            Err(Error::AttributeAfterIntegrity)
        } else {
            Ok(())
        }
    }

    /// Appends an attribute with raw value octets (any type, known or not).
    pub fn raw_attribute(&mut self, typ: AttributeType, value: &[u8]) -> Result<()> {
        self.check_open()?;
        self.reserve(typ, value.len())?.copy_from_slice(value);
        Ok(())
    }

    /// Appends a typed attribute. MESSAGE-INTEGRITY(-SHA256) and FINGERPRINT values given this
    /// way are copied verbatim; use the dedicated methods to compute them.
    pub fn attribute(&mut self, attr: &Attribute<'_>) -> Result<()> {
        self.check_open()?;
        let tid = self.tid;
        let vlen = attr.value_len();
        let typ = attr.attribute_type();
        let start = self.len;
        let out = self.reserve(typ, vlen)?;
        if let Err(e) = attr.write_value(&tid, out) {
            self.len = start;
            self.buf[2..4].copy_from_slice(&((start - HEADER_LEN) as u16).to_be_bytes());
            return Err(e);
        }
        Ok(())
    }

    /// Appends UNKNOWN-ATTRIBUTES listing `types` (for a 420 answer).
    pub fn unknown_attributes(&mut self, types: &[AttributeType]) -> Result<()> {
        self.check_open()?;
        let out = self.reserve(AttributeType::UNKNOWN_ATTRIBUTES, types.len() * 2)?;
        for (chunk, t) in out.chunks_exact_mut(2).zip(types) {
            chunk.copy_from_slice(&t.0.to_be_bytes());
        }
        Ok(())
    }

    /// Appends PASSWORD-ALGORITHMS listing `algorithms` in order of preference.
    pub fn password_algorithms(&mut self, algorithms: &[RawPasswordAlgorithm<'_>]) -> Result<()> {
        self.check_open()?;
        let total: usize = algorithms.iter().map(|a| padded(a.encoded_len())).sum();
        let out = self.reserve(AttributeType::PASSWORD_ALGORITHMS, total)?;
        let mut off = 0;
        for a in algorithms {
            off += a.encode(&mut out[off..]);
        }
        Ok(())
    }

    /// Appends MESSAGE-INTEGRITY (HMAC-SHA1 with `key`).
    pub fn message_integrity(&mut self, key: &IntegrityKey) -> Result<()> {
        self.check_open()?;
        let at = self.len;
        self.reserve(AttributeType::MESSAGE_INTEGRITY, 20)?;
        let len = ((at - HEADER_LEN + 24) as u16).to_be_bytes();
        let tag = key.sign_sha1(&self.buf[..at], len);
        self.buf[at + 4..at + 24].copy_from_slice(&tag);
        self.stage = 1;
        Ok(())
    }

    /// Appends MESSAGE-INTEGRITY-SHA256 (HMAC-SHA256 with `key`, full 32 octets). It may follow
    /// MESSAGE-INTEGRITY.
    pub fn message_integrity_sha256(&mut self, key: &IntegrityKey) -> Result<()> {
        if self.stage > 1 {
            return Err(Error::AttributeAfterIntegrity);
        }
        let at = self.len;
        self.reserve(AttributeType::MESSAGE_INTEGRITY_SHA256, 32)?;
        let len = ((at - HEADER_LEN + 36) as u16).to_be_bytes();
        let tag = key.sign_sha256(&self.buf[..at], len);
        self.buf[at + 4..at + 36].copy_from_slice(&tag);
        self.stage = 2;
        Ok(())
    }

    /// Appends FINGERPRINT; nothing can follow it.
    pub fn fingerprint(&mut self) -> Result<()> {
        if self.stage > 2 {
            return Err(Error::AttributeAfterIntegrity);
        }
        let at = self.len;
        self.reserve(AttributeType::FINGERPRINT, 4)?;
        let len = ((at - HEADER_LEN + 8) as u16).to_be_bytes();
        let crc = crate::fingerprint::compute(&self.buf[..at], len);
        self.buf[at + 4..at + 8].copy_from_slice(&crc.to_be_bytes());
        self.stage = 3;
        Ok(())
    }

    /// Finishes the message and returns its length in octets.
    pub fn finish(self) -> usize {
        self.len
    }
}
