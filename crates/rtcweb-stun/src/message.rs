//! [`Message`]: a zero-copy view over one STUN message in the smoltcp `wire` style.
//!
//! [`Message::new_checked`] validates the header and the attribute layout once; afterwards no
//! accessor can panic or read out of bounds.

use crate::attributes::{Attribute, AttributeType};
use crate::error::{Error, Result};
use crate::header::{Class, HEADER_LEN, MAGIC_COOKIE, MessageType, Method, TransactionId, padded};
use crate::integrity::IntegrityKey;

/// A STUN message over a byte buffer.
#[derive(Debug, Clone)]
pub struct Message<T: AsRef<[u8]>> {
    buffer: T,
    /// Offsets of the attribute headers (0 = absent; attributes start at 20).
    integrity: u32,
    integrity_sha256: u32,
    fingerprint: u32,
}

/// Whether `data` looks like a STUN message (first two bits zero and the magic cookie), the
/// cheap test of RFC 7983 demultiplexing. It does not validate the rest.
pub fn is_stun(data: &[u8]) -> bool {
    match data {
        [b0, _, _, _, c0, c1, c2, c3, ..] => {
            b0 & 0xC0 == 0 && u32::from_be_bytes([*c0, *c1, *c2, *c3]) == MAGIC_COOKIE
        }
        _ => false,
    }
}

impl<T: AsRef<[u8]>> Message<T> {
    /// Validates the header (zero top bits, magic cookie, length a multiple of four that covers
    /// the buffer exactly) and every attribute header, and locates MESSAGE-INTEGRITY,
    /// MESSAGE-INTEGRITY-SHA256 and FINGERPRINT. FINGERPRINT must be last.
    pub fn new_checked(buffer: T) -> Result<Self> {
        let b = buffer.as_ref();
        if b.len() < HEADER_LEN {
            return Err(Error::Truncated);
        }
        if !is_stun(b) {
            return Err(Error::NotStun);
        }
        let len = usize::from(u16::from_be_bytes([b[2], b[3]]));
        if !len.is_multiple_of(4) {
            return Err(Error::BadLength);
        }
        if HEADER_LEN + len > b.len() {
            return Err(Error::Truncated);
        }
        if HEADER_LEN + len < b.len() {
            return Err(Error::BadLength);
        }
        let mut msg = Message {
            buffer,
            integrity: 0,
            integrity_sha256: 0,
            fingerprint: 0,
        };
        let b = msg.buffer.as_ref();
        let mut off = HEADER_LEN;
        while off < b.len() {
            let (typ, vlen) = match b.get(off..off + 4) {
                Some(&[t0, t1, l0, l1]) => (
                    u16::from_be_bytes([t0, t1]),
                    usize::from(u16::from_be_bytes([l0, l1])),
                ),
                _ => return Err(Error::AttributeOverrun(0)),
            };
            if off + 4 + padded(vlen) > b.len() {
                return Err(Error::AttributeOverrun(typ));
            }
            if msg.fingerprint != 0 {
                return Err(Error::FingerprintNotLast);
            }
            let at = off as u32;
            match AttributeType(typ) {
                AttributeType::MESSAGE_INTEGRITY
                    if msg.integrity == 0 && msg.integrity_sha256 == 0 =>
                {
                    if vlen != 20 {
                        return Err(Error::BadAttribute(typ));
                    }
                    msg.integrity = at;
                }
                AttributeType::MESSAGE_INTEGRITY_SHA256 if msg.integrity_sha256 == 0 => {
                    if !(16..=32).contains(&vlen) || !vlen.is_multiple_of(4) {
                        return Err(Error::BadAttribute(typ));
                    }
                    msg.integrity_sha256 = at;
                }
                AttributeType::FINGERPRINT => {
                    if vlen != 4 {
                        return Err(Error::BadAttribute(typ));
                    }
                    msg.fingerprint = at;
                }
                _ => {}
            }
            off += 4 + padded(vlen);
        }
        Ok(msg)
    }

    /// The underlying buffer.
    pub fn into_inner(self) -> T {
        self.buffer
    }

    /// The message octets.
    pub fn as_bytes(&self) -> &[u8] {
        self.buffer.as_ref()
    }

    fn header(&self) -> &[u8; HEADER_LEN] {
        // new_checked guaranteed at least HEADER_LEN octets.
        self.buffer.as_ref()[..HEADER_LEN]
            .try_into()
            .expect("checked in new_checked")
    }

    /// The message type.
    pub fn message_type(&self) -> MessageType {
        let h = self.header();
        MessageType::from_u16(u16::from_be_bytes([h[0], h[1]]))
    }

    /// The method.
    pub fn method(&self) -> Method {
        self.message_type().method
    }

    /// The class.
    pub fn class(&self) -> Class {
        self.message_type().class
    }

    /// The length field: octets after the header.
    pub fn length(&self) -> usize {
        let h = self.header();
        usize::from(u16::from_be_bytes([h[2], h[3]]))
    }

    /// The transaction id.
    pub fn transaction_id(&self) -> TransactionId {
        let mut id = [0u8; 12];
        id.copy_from_slice(&self.header()[8..20]);
        TransactionId(id)
    }

    /// The attributes in order. As RFC 8489 section 14.5 requires, attributes that follow
    /// MESSAGE-INTEGRITY are skipped, except MESSAGE-INTEGRITY-SHA256 and FINGERPRINT (and
    /// after MESSAGE-INTEGRITY-SHA256 only FINGERPRINT).
    pub fn attributes(&self) -> RawAttributes<'_> {
        RawAttributes {
            data: self.buffer.as_ref(),
            off: HEADER_LEN,
            after_integrity: false,
            after_sha256: false,
        }
    }

    /// The value of the first attribute of type `typ`.
    pub fn get(&self, typ: AttributeType) -> Option<&[u8]> {
        self.attributes().find(|a| a.typ == typ).map(|a| a.value)
    }

    /// The first attribute of type `typ`, decoded: `None` if absent, `Some(Err)` if malformed.
    pub fn attribute(&self, typ: AttributeType) -> Option<Result<Attribute<'_>>> {
        let tid = self.transaction_id();
        self.get(typ).map(|v| Attribute::parse(typ, v, &tid))
    }

    /// Comprehension-required attribute types (0x0000-0x7FFF) this crate does not know, in the
    /// order they appear: what a server lists in UNKNOWN-ATTRIBUTES of a 420 answer.
    pub fn unknown_comprehension_required(&self) -> impl Iterator<Item = AttributeType> + '_ {
        self.attributes()
            .map(|a| a.typ)
            .filter(|t| t.is_comprehension_required() && !t.is_known())
    }

    /// Whether the message has MESSAGE-INTEGRITY.
    pub fn has_integrity(&self) -> bool {
        self.integrity != 0
    }

    /// Whether the message has MESSAGE-INTEGRITY-SHA256.
    pub fn has_integrity_sha256(&self) -> bool {
        self.integrity_sha256 != 0
    }

    /// Whether the message has FINGERPRINT.
    pub fn has_fingerprint(&self) -> bool {
        self.fingerprint != 0
    }

    /// The message up to an attribute at `at`, with the length the header must claim when the
    /// attribute of `attr_len` value octets is the last one covered.
    fn covered(&self, at: u32, attr_len: usize) -> (&[u8], [u8; 2]) {
        let at = at as usize;
        let b = self.buffer.as_ref();
        let len = (at - HEADER_LEN + 4 + attr_len) as u16;
        (&b[..at], len.to_be_bytes())
    }

    fn value_at(&self, at: u32) -> &[u8] {
        let at = at as usize;
        let b = self.buffer.as_ref();
        let len = usize::from(u16::from_be_bytes([b[at + 2], b[at + 3]]));
        &b[at + 4..at + 4 + len]
    }

    /// Verifies MESSAGE-INTEGRITY (HMAC-SHA1) with `key`, in constant time.
    pub fn verify_message_integrity(&self, key: &IntegrityKey) -> Result<()> {
        if self.integrity == 0 {
            return Err(Error::NoIntegrity);
        }
        let (covered, len) = self.covered(self.integrity, 20);
        let tag = key.sign_sha1(covered, len);
        crate::integrity::ct_eq(&tag, self.value_at(self.integrity))
    }

    /// Verifies MESSAGE-INTEGRITY-SHA256 (HMAC-SHA256, possibly truncated) with `key`, in
    /// constant time.
    pub fn verify_message_integrity_sha256(&self, key: &IntegrityKey) -> Result<()> {
        if self.integrity_sha256 == 0 {
            return Err(Error::NoIntegrity);
        }
        let value = self.value_at(self.integrity_sha256);
        let (covered, len) = self.covered(self.integrity_sha256, value.len());
        let tag = key.sign_sha256(covered, len);
        crate::integrity::ct_eq(&tag[..value.len()], value)
    }

    /// Verifies the strongest integrity the message carries: MESSAGE-INTEGRITY-SHA256 if
    /// present, else MESSAGE-INTEGRITY.
    pub fn verify_integrity(&self, key: &IntegrityKey) -> Result<()> {
        if self.integrity_sha256 != 0 {
            self.verify_message_integrity_sha256(key)
        } else {
            self.verify_message_integrity(key)
        }
    }

    /// Verifies FINGERPRINT.
    pub fn verify_fingerprint(&self) -> Result<()> {
        if self.fingerprint == 0 {
            return Err(Error::NoFingerprint);
        }
        let (covered, len) = self.covered(self.fingerprint, 4);
        let expected = crate::fingerprint::compute(covered, len);
        let got = self.value_at(self.fingerprint);
        if got == expected.to_be_bytes() {
            Ok(())
        } else {
            Err(Error::FingerprintMismatch)
        }
    }
}

/// One attribute as it appears on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RawAttribute<'a> {
    /// The type.
    pub typ: AttributeType,
    /// The value octets, without padding.
    pub value: &'a [u8],
    /// Offset of the attribute header within the message.
    pub offset: usize,
}

/// Iterator over the attributes of a checked [`Message`].
#[derive(Debug, Clone)]
pub struct RawAttributes<'a> {
    data: &'a [u8],
    off: usize,
    after_integrity: bool,
    after_sha256: bool,
}

impl<'a> Iterator for RawAttributes<'a> {
    type Item = RawAttribute<'a>;

    fn next(&mut self) -> Option<RawAttribute<'a>> {
        loop {
            let (t0, t1, l0, l1) = match self.data.get(self.off..self.off + 4)? {
                &[t0, t1, l0, l1] => (t0, t1, l0, l1),
                _ => return None,
            };
            let typ = AttributeType(u16::from_be_bytes([t0, t1]));
            let len = usize::from(u16::from_be_bytes([l0, l1]));
            let offset = self.off;
            let value = self.data.get(offset + 4..offset + 4 + len)?;
            self.off += 4 + padded(len);
            let skip = match typ {
                AttributeType::FINGERPRINT => false,
                AttributeType::MESSAGE_INTEGRITY_SHA256 => self.after_sha256,
                AttributeType::MESSAGE_INTEGRITY => self.after_integrity || self.after_sha256,
                _ => self.after_integrity || self.after_sha256,
            };
            if skip {
                continue;
            }
            match typ {
                AttributeType::MESSAGE_INTEGRITY => self.after_integrity = true,
                AttributeType::MESSAGE_INTEGRITY_SHA256 => self.after_sha256 = true,
                _ => {}
            }
            return Some(RawAttribute { typ, value, offset });
        }
    }
}
