//! Credentials and MESSAGE-INTEGRITY keys (RFC 8489 sections 9 and 14.5-14.6).
//!
//! An [`IntegrityKey`] keeps ready HMAC key objects for SHA-1 and SHA-256, so checking a
//! message costs two hash passes and no key schedule: build it once per credential.

use aws_lc_rs::{digest, hmac};
use md5::Digest;

use crate::error::{Error, Result};

/// Which hash turns `username:realm:password` into the long-term key (RFC 8489 section 18.5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum PasswordAlgorithm {
    /// MD5, the only one of RFC 5389 and the default.
    #[default]
    Md5,
    /// SHA-256.
    Sha256,
}

impl PasswordAlgorithm {
    /// The wire number used in PASSWORD-ALGORITHM(S).
    pub fn code(self) -> u16 {
        match self {
            PasswordAlgorithm::Md5 => 0x0001,
            PasswordAlgorithm::Sha256 => 0x0002,
        }
    }

    /// From the wire number.
    pub fn from_code(code: u16) -> Option<Self> {
        match code {
            0x0001 => Some(PasswordAlgorithm::Md5),
            0x0002 => Some(PasswordAlgorithm::Sha256),
            _ => None,
        }
    }
}

/// The key MESSAGE-INTEGRITY and MESSAGE-INTEGRITY-SHA256 are computed with.
#[derive(Clone)]
pub struct IntegrityKey {
    raw: Vec<u8>,
    sha1: hmac::Key,
    sha256: hmac::Key,
}

impl core::fmt::Debug for IntegrityKey {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("IntegrityKey(..)")
    }
}

impl IntegrityKey {
    /// A key from raw octets (e.g. an OAuth session key, RFC 7635).
    pub fn from_bytes(key: &[u8]) -> Self {
        IntegrityKey {
            raw: key.to_vec(),
            sha1: hmac::Key::new(hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY, key),
            sha256: hmac::Key::new(hmac::HMAC_SHA256, key),
        }
    }

    /// The short-term key: the password's octets (RFC 8489 section 9.1.1). ICE passwords are
    /// ASCII, for which OpaqueString changes nothing.
    pub fn short_term(password: &str) -> Self {
        Self::from_bytes(password.as_bytes())
    }

    /// The long-term key (RFC 8489 section 9.2.2): `H(username ":" realm ":" password)` with
    /// H = MD5 or SHA-256. The password goes through SASLprep (RFC 4013) as RFC 5389 requires
    /// and RFC 5769 section 2.4 tests; realm and username are used as given.
    pub fn long_term(
        username: &str,
        realm: &str,
        password: &str,
        algorithm: PasswordAlgorithm,
    ) -> Result<Self> {
        let password = saslprep(password)?;
        let parts: [&[u8]; 5] = [
            username.as_bytes(),
            b":",
            realm.as_bytes(),
            b":",
            password.as_bytes(),
        ];
        Ok(match algorithm {
            PasswordAlgorithm::Md5 => {
                let mut h = md5::Md5::new();
                for p in parts {
                    h.update(p);
                }
                Self::from_bytes(&h.finalize())
            }
            PasswordAlgorithm::Sha256 => {
                let mut h = digest::Context::new(&digest::SHA256);
                for p in parts {
                    h.update(p);
                }
                Self::from_bytes(h.finish().as_ref())
            }
        })
    }

    /// The raw key octets.
    pub fn as_bytes(&self) -> &[u8] {
        &self.raw
    }

    /// HMAC-SHA1 over `covered` with its length field replaced by `len`.
    pub(crate) fn sign_sha1(&self, covered: &[u8], len: [u8; 2]) -> [u8; 20] {
        let mut ctx = hmac::Context::with_key(&self.sha1);
        update_covered(&mut ctx, covered, len);
        let mut out = [0u8; 20];
        out.copy_from_slice(ctx.sign().as_ref());
        out
    }

    /// HMAC-SHA256 over `covered` with its length field replaced by `len`.
    pub(crate) fn sign_sha256(&self, covered: &[u8], len: [u8; 2]) -> [u8; 32] {
        let mut ctx = hmac::Context::with_key(&self.sha256);
        update_covered(&mut ctx, covered, len);
        let mut out = [0u8; 32];
        out.copy_from_slice(ctx.sign().as_ref());
        out
    }
}

/// Messages up to this size are MAC-ed from a patched stack copy.
const SMALL: usize = 256;

fn tmp_head(covered: &[u8]) -> Option<[u8; 2]> {
    match covered {
        [a, b, _, _, ..] => Some([*a, *b]),
        _ => None,
    }
}

fn update_covered(ctx: &mut hmac::Context, covered: &[u8], len: [u8; 2]) {
    // The builder has already written the right length: hash in one call.
    if covered.get(2..4) == Some(&len[..]) {
        ctx.update(covered);
        return;
    }
    // A received message usually has FINGERPRINT after MESSAGE-INTEGRITY, so its length field
    // is not the one the MAC covers. For small messages a patched copy on the stack is cheaper
    // than three calls into the HMAC.
    if covered.len() <= SMALL {
        let mut tmp = [0u8; SMALL];
        if let (Some(dst), Some(head)) = (tmp.get_mut(..covered.len()), tmp_head(covered)) {
            dst.copy_from_slice(covered);
            dst[..4].copy_from_slice(&[head[0], head[1], len[0], len[1]]);
            ctx.update(dst);
            return;
        }
    }
    ctx.update(covered.get(..2).unwrap_or(&[]));
    ctx.update(&len);
    ctx.update(covered.get(4..).unwrap_or(&[]));
}

/// USERHASH (RFC 8489 section 14.4): SHA-256 of `username ":" realm`.
pub fn userhash(username: &str, realm: &str) -> [u8; 32] {
    let mut h = digest::Context::new(&digest::SHA256);
    h.update(username.as_bytes());
    h.update(b":");
    h.update(realm.as_bytes());
    let mut out = [0u8; 32];
    out.copy_from_slice(h.finish().as_ref());
    out
}

/// SASLprep (RFC 4013) of a password, as stored strings (unassigned code points rejected).
pub fn saslprep(s: &str) -> Result<std::borrow::Cow<'_, str>> {
    stringprep::saslprep(s).map_err(|_| Error::SaslPrep)
}

/// Constant-time equality of a computed tag and a received one.
pub(crate) fn ct_eq(computed: &[u8], received: &[u8]) -> Result<()> {
    aws_lc_rs::constant_time::verify_slices_are_equal(computed, received)
        .map_err(|_| Error::IntegrityMismatch)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc5769_long_term_key() {
        let user = "\u{30DE}\u{30C8}\u{30EA}\u{30C3}\u{30AF}\u{30B9}";
        let pass = "The\u{00AD}M\u{00AA}tr\u{2168}";
        assert_eq!(saslprep(pass).unwrap(), "TheMatrIX");
        let key =
            IntegrityKey::long_term(user, "example.org", pass, PasswordAlgorithm::Md5).unwrap();
        let hex: String = key.as_bytes().iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(hex, "e8ca7ad59d5eb0518e312911d2dab2a9");
    }

    #[test]
    fn sha256_long_term_key_is_32_octets_and_differs() {
        let a = IntegrityKey::long_term("u", "r", "p", PasswordAlgorithm::Sha256).unwrap();
        let b = IntegrityKey::long_term("u", "r", "p", PasswordAlgorithm::Md5).unwrap();
        assert_eq!(a.as_bytes().len(), 32);
        assert_eq!(b.as_bytes().len(), 16);
        // SHA-256("u:r:p"), computed independently with Python hashlib.
        let hex: String = a.as_bytes().iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(
            hex,
            "dcb021102e491e701a4a236daa8923af2161447bce7bb7260a351ee83e9f8154"
        );
    }

    #[test]
    fn saslprep_rejects_prohibited() {
        assert_eq!(saslprep("a\u{0007}b").unwrap_err(), Error::SaslPrep);
    }
}
