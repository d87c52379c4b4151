//! The SRTP key derivation function of RFC 3711 section 4.3 (AES-CM PRF, key derivation rate 0).
//!
//! WebRTC keys every session afresh through DTLS-SRTP, which fixes the key derivation rate at
//! 0 (RFC 5764 section 4.1.2), so `r = index DIV kdr` is always 0 and session keys are derived
//! once per context. The PRF is AES-128-CM for 16-octet master keys and AES-256-CM for 32-octet
//! ones (RFC 6188 section 3, RFC 7714 section 11).

use aws_lc_rs::cipher::{AES_128, AES_256, EncryptingKey, EncryptionContext, UnboundCipherKey};
use aws_lc_rs::iv::FixedLength;

use crate::Error;

/// Length of the salt the PRF works on (112 bits).
pub const PRF_SALT_LEN: usize = 14;

/// The key derivation labels of RFC 3711 section 4.3.2.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Label {
    /// SRTP encryption key (0x00).
    SrtpEncryption = 0x00,
    /// SRTP authentication key (0x01).
    SrtpAuthentication = 0x01,
    /// SRTP salting key (0x02).
    SrtpSalt = 0x02,
    /// SRTCP encryption key (0x03).
    SrtcpEncryption = 0x03,
    /// SRTCP authentication key (0x04).
    SrtcpAuthentication = 0x04,
    /// SRTCP salting key (0x05).
    SrtcpSalt = 0x05,
}

/// Fills `out` with the PRF output for `label` (RFC 3711 section 4.3.1 and 4.3.3, kdr = 0).
///
/// `master_key` is 16 or 32 octets. `master_salt` is at most 14 octets and fills the first
/// octets of the 112-bit PRF salt, the rest being zero: a 12-octet GCM master salt is used as
/// `master_salt || 0x0000`, as libsrtp and pion do (right-aligning it does not interoperate).
///
/// ```
/// use rtcweb_srtp::kdf::{derive, Label};
/// // RFC 3711 appendix B.3: the session encryption key.
/// let key = [0xe1, 0xf9, 0x7a, 0x0d, 0x3e, 0x01, 0x8b, 0xe0, 0xd6, 0x4f, 0xa3, 0x2c, 0x06, 0xde, 0x41, 0x39];
/// let salt = [0x0e, 0xc6, 0x75, 0xad, 0x49, 0x8a, 0xfe, 0xeb, 0xb6, 0x96, 0x0b, 0x3a, 0xab, 0xe6];
/// let mut out = [0u8; 16];
/// derive(&key, &salt, Label::SrtpEncryption, &mut out).unwrap();
/// assert_eq!(out[..4], [0xc6, 0x1e, 0x7a, 0x93]);
/// ```
pub fn derive(
    master_key: &[u8],
    master_salt: &[u8],
    label: Label,
    out: &mut [u8],
) -> Result<(), Error> {
    let algorithm = match master_key.len() {
        16 => &AES_128,
        32 => &AES_256,
        got => return Err(Error::KeyLength { expected: 16, got }),
    };
    if master_salt.len() > PRF_SALT_LEN {
        return Err(Error::KeyLength {
            expected: PRF_SALT_LEN,
            got: master_salt.len(),
        });
    }
    // x = (label || r) XOR master_salt, with key_id = label || r right-aligned in 112 bits;
    // r = 0, so only the label octet (octet 7) changes. The counter block is x * 2^16.
    let mut iv = [0u8; 16];
    iv[..master_salt.len()].copy_from_slice(master_salt);
    iv[7] ^= label as u8;
    let key = UnboundCipherKey::new(algorithm, master_key).map_err(|_| Error::Crypto)?;
    let key = EncryptingKey::ctr(key).map_err(|_| Error::Crypto)?;
    out.fill(0);
    key.less_safe_encrypt(out, EncryptionContext::Iv128(FixedLength::from(iv)))
        .map_err(|_| Error::Crypto)?;
    Ok(())
}
