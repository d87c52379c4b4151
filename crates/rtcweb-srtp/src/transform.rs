//! The cryptographic transforms, keyed once per context: AES-CM + HMAC-SHA1 (RFC 3711
//! section 4) and AES-GCM (RFC 7714). They work in place on caller buffers and never allocate.
//!
//! Callers (the session) have already parsed the header, estimated the index and checked the
//! replay window; they also guarantee the buffer lengths checked in `session.rs`, but every
//! function here still returns an error instead of panicking on short input.

use aws_lc_rs::aead::{AES_128_GCM, AES_256_GCM, Aad, LessSafeKey, Nonce, UnboundKey};
use aws_lc_rs::cipher::{AES_128, EncryptingKey, EncryptionContext, UnboundCipherKey};
use aws_lc_rs::constant_time::verify_slices_are_equal;
use aws_lc_rs::hmac;
use aws_lc_rs::iv::FixedLength;

use crate::header::RTCP_PREFIX_LEN;
use crate::{Error, ProtectionProfile, SessionKeys};

/// The E flag of the SRTCP index word (RFC 3711 section 3.4).
pub(crate) const SRTCP_E_FLAG: u32 = 0x8000_0000;
const GCM_TAG_LEN: usize = 16;

/// One keyed transform (one direction, one of SRTP or SRTCP).
#[allow(
    clippy::large_enum_variant,
    reason = "four per session, built once; the HMAC key holds aws-lc's whole HMAC_CTX inline"
)]
pub(crate) enum Transform {
    /// AES-128-CM encryption, HMAC-SHA1 authentication truncated to `tag_len`.
    AesCmHmac {
        ctr: EncryptingKey,
        salt: [u8; 14],
        auth: hmac::Key,
        tag_len: usize,
    },
    /// AES-GCM (128 or 256) with a 16-octet tag.
    Gcm { aead: LessSafeKey, salt: [u8; 12] },
}

impl Transform {
    /// Schedules the keys; `tag_len` is the HMAC tag length (ignored for GCM).
    pub(crate) fn new(
        profile: ProtectionProfile,
        keys: &SessionKeys,
        tag_len: usize,
    ) -> Result<Self, Error> {
        if profile.is_aead() {
            let alg = if profile == ProtectionProfile::AeadAes256Gcm {
                &AES_256_GCM
            } else {
                &AES_128_GCM
            };
            let key = UnboundKey::new(alg, keys.cipher_key()).map_err(|_| Error::Crypto)?;
            let salt: [u8; 12] = keys.salt().try_into().map_err(|_| Error::Crypto)?;
            Ok(Self::Gcm {
                aead: LessSafeKey::new(key),
                salt,
            })
        } else {
            let key =
                UnboundCipherKey::new(&AES_128, keys.cipher_key()).map_err(|_| Error::Crypto)?;
            let ctr = EncryptingKey::ctr(key).map_err(|_| Error::Crypto)?;
            let salt: [u8; 14] = keys.salt().try_into().map_err(|_| Error::Crypto)?;
            let auth = hmac::Key::new(hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY, keys.auth_key());
            Ok(Self::AesCmHmac {
                ctr,
                salt,
                auth,
                tag_len,
            })
        }
    }

    /// Octets appended to a protected packet (tag only; SRTCP adds the index word).
    #[inline]
    pub(crate) fn tag_len(&self) -> usize {
        match self {
            Self::AesCmHmac { tag_len, .. } => *tag_len,
            Self::Gcm { .. } => GCM_TAG_LEN,
        }
    }

    /// Protects the RTP packet in `buf[..len]` whose header is `header_len` octets, at packet
    /// index `index`, appending the tag. `buf` must hold `len + tag_len()` octets.
    #[inline]
    pub(crate) fn protect_rtp(
        &self,
        buf: &mut [u8],
        len: usize,
        header_len: usize,
        ssrc: u32,
        index: u64,
    ) -> Result<usize, Error> {
        let out_len = len + self.tag_len();
        let buf = buf.get_mut(..out_len).ok_or(Error::Truncated)?;
        if header_len > len {
            return Err(Error::Truncated);
        }
        match self {
            Self::AesCmHmac {
                ctr,
                salt,
                auth,
                tag_len,
            } => {
                ctr_xor(ctr, &cm_iv(salt, ssrc, index), &mut buf[header_len..len])?;
                // The authenticated portion is packet || ROC (RFC 3711 section 4.2): put the
                // ROC where the tag goes (tags are at least 4 octets) for a one-pass HMAC.
                let tag = hmac_with_roc(auth, buf, len, index)?;
                buf[len..].copy_from_slice(&tag.as_ref()[..*tag_len]);
            }
            Self::Gcm { aead, salt } => {
                let nonce = gcm_rtp_iv(salt, ssrc, index);
                let (header, rest) = buf.split_at_mut(header_len);
                let (payload, tag_out) = rest.split_at_mut(len - header_len);
                let tag = aead
                    .seal_in_place_separate_tag(nonce, Aad::from(&*header), payload)
                    .map_err(|_| Error::Crypto)?;
                tag_out.copy_from_slice(tag.as_ref());
            }
        }
        Ok(out_len)
    }

    /// Verifies and decrypts the SRTP packet in `buf` (tag included), returning the RTP
    /// packet length. Nothing is decrypted unless the tag verifies.
    #[inline]
    pub(crate) fn unprotect_rtp(
        &self,
        buf: &mut [u8],
        header_len: usize,
        ssrc: u32,
        index: u64,
    ) -> Result<usize, Error> {
        let plain_len = buf
            .len()
            .checked_sub(self.tag_len())
            .filter(|&n| n >= header_len)
            .ok_or(Error::Truncated)?;
        match self {
            Self::AesCmHmac {
                ctr,
                salt,
                auth,
                tag_len,
            } => {
                let mut received = [0u8; 20];
                let received = received.get_mut(..*tag_len).ok_or(Error::Crypto)?;
                received.copy_from_slice(&buf[plain_len..]);
                let tag = hmac_with_roc(auth, buf, plain_len, index)?;
                if verify_slices_are_equal(&tag.as_ref()[..*tag_len], received).is_err() {
                    buf[plain_len..].copy_from_slice(received);
                    return Err(Error::AuthenticationFailed);
                }
                ctr_xor(
                    ctr,
                    &cm_iv(salt, ssrc, index),
                    &mut buf[header_len..plain_len],
                )?;
            }
            Self::Gcm { aead, salt } => {
                let nonce = gcm_rtp_iv(salt, ssrc, index);
                let (header, rest) = buf.split_at_mut(header_len);
                aead.open_in_place(nonce, Aad::from(&*header), rest)
                    .map_err(|_| Error::AuthenticationFailed)?;
            }
        }
        Ok(plain_len)
    }

    /// Protects the RTCP packet in `buf[..len]` with SRTCP index `index` (31 bits), encrypting
    /// it when `encrypt` (the E flag). Appends tag and index word in the order the profile
    /// uses; `buf` must hold `len + tag_len() + 4` octets.
    pub(crate) fn protect_rtcp(
        &self,
        buf: &mut [u8],
        len: usize,
        ssrc: u32,
        index: u32,
        encrypt: bool,
    ) -> Result<usize, Error> {
        let out_len = len + self.tag_len() + 4;
        let buf = buf.get_mut(..out_len).ok_or(Error::Truncated)?;
        if len < RTCP_PREFIX_LEN {
            return Err(Error::Truncated);
        }
        let word = (index & !SRTCP_E_FLAG | if encrypt { SRTCP_E_FLAG } else { 0 }).to_be_bytes();
        match self {
            Self::AesCmHmac {
                ctr,
                salt,
                auth,
                tag_len,
            } => {
                // RFC 3711 section 3.4: packet || E||index, authenticated, then the tag.
                if encrypt {
                    ctr_xor(
                        ctr,
                        &cm_iv(salt, ssrc, u64::from(index)),
                        &mut buf[RTCP_PREFIX_LEN..len],
                    )?;
                }
                buf[len..len + 4].copy_from_slice(&word);
                let (authed, tag_out) = buf.split_at_mut(len + 4);
                let tag = hmac::sign(auth, authed);
                tag_out.copy_from_slice(&tag.as_ref()[..*tag_len]);
            }
            Self::Gcm { aead, salt } => {
                // RFC 7714 section 9: header || ciphertext || tag || E||index.
                let nonce = gcm_rtcp_iv(salt, ssrc, index);
                let tag = if encrypt {
                    let mut aad = [0u8; RTCP_PREFIX_LEN + 4];
                    aad[..RTCP_PREFIX_LEN].copy_from_slice(&buf[..RTCP_PREFIX_LEN]);
                    aad[RTCP_PREFIX_LEN..].copy_from_slice(&word);
                    aead.seal_in_place_separate_tag(
                        nonce,
                        Aad::from(&aad),
                        &mut buf[RTCP_PREFIX_LEN..len],
                    )
                } else {
                    buf[len..len + 4].copy_from_slice(&word);
                    aead.seal_in_place_separate_tag(nonce, Aad::from(&buf[..len + 4]), &mut [])
                }
                .map_err(|_| Error::Crypto)?;
                buf[len..len + GCM_TAG_LEN].copy_from_slice(tag.as_ref());
                buf[len + GCM_TAG_LEN..].copy_from_slice(&word);
            }
        }
        Ok(out_len)
    }

    /// Reads the E flag and SRTCP index of the protected packet in `buf`, without verifying.
    pub(crate) fn rtcp_index(&self, buf: &[u8]) -> Result<(bool, u32), Error> {
        let min = RTCP_PREFIX_LEN + 4 + self.tag_len();
        if buf.len() < min {
            return Err(Error::Truncated);
        }
        let at = match self {
            Self::AesCmHmac { tag_len, .. } => buf.len() - tag_len - 4,
            Self::Gcm { .. } => buf.len() - 4,
        };
        let word = buf.get(at..at + 4).ok_or(Error::Truncated)?;
        let word = u32::from_be_bytes([word[0], word[1], word[2], word[3]]);
        Ok((word & SRTCP_E_FLAG != 0, word & !SRTCP_E_FLAG))
    }

    /// Verifies and (when the E flag says so) decrypts the SRTCP packet in `buf`, returning
    /// the RTCP packet length. `encrypted` and `index` come from `rtcp_index`.
    pub(crate) fn unprotect_rtcp(
        &self,
        buf: &mut [u8],
        ssrc: u32,
        index: u32,
        encrypted: bool,
    ) -> Result<usize, Error> {
        let tag_len = self.tag_len();
        let plain_len = buf
            .len()
            .checked_sub(tag_len + 4)
            .filter(|&n| n >= RTCP_PREFIX_LEN)
            .ok_or(Error::Truncated)?;
        match self {
            Self::AesCmHmac {
                ctr, salt, auth, ..
            } => {
                let (authed, tag_in) = buf.split_at_mut(plain_len + 4);
                let tag = hmac::sign(auth, authed);
                verify_slices_are_equal(&tag.as_ref()[..tag_len], tag_in)
                    .map_err(|_| Error::AuthenticationFailed)?;
                if encrypted {
                    let iv = cm_iv(salt, ssrc, u64::from(index));
                    ctr_xor(ctr, &iv, &mut authed[RTCP_PREFIX_LEN..plain_len])?;
                }
            }
            Self::Gcm { aead, salt } => {
                let nonce = gcm_rtcp_iv(salt, ssrc, index);
                let mut word = [0u8; 4];
                word.copy_from_slice(&buf[plain_len + tag_len..]);
                if encrypted {
                    let mut aad = [0u8; RTCP_PREFIX_LEN + 4];
                    aad[..RTCP_PREFIX_LEN].copy_from_slice(&buf[..RTCP_PREFIX_LEN]);
                    aad[RTCP_PREFIX_LEN..].copy_from_slice(&word);
                    aead.open_in_place(
                        nonce,
                        Aad::from(&aad),
                        &mut buf[RTCP_PREFIX_LEN..plain_len + tag_len],
                    )
                    .map_err(|_| Error::AuthenticationFailed)?;
                } else {
                    // AAD = packet || E||index, which the wire splits around the tag: move the
                    // word in front of the tag so both are contiguous, then put it back.
                    buf[plain_len..].rotate_right(4);
                    let (aad, tag) = buf.split_at_mut(plain_len + 4);
                    let ok = aead.open_in_place(nonce, Aad::from(&*aad), tag).is_ok();
                    buf[plain_len..].rotate_left(4);
                    if !ok {
                        return Err(Error::AuthenticationFailed);
                    }
                }
            }
        }
        Ok(plain_len)
    }
}

/// The AES-CM IV (RFC 3711 section 4.1.1): `(k_s * 2^16) XOR (SSRC * 2^64) XOR (i * 2^16)`.
#[inline]
pub(crate) fn cm_iv(salt: &[u8; 14], ssrc: u32, index: u64) -> [u8; 16] {
    let mut iv = [0u8; 16];
    iv[..14].copy_from_slice(salt);
    let x = u128::from(ssrc) << 64 | u128::from(index & 0xffff_ffff_ffff) << 16;
    let iv = u128::from_be_bytes(iv) ^ x;
    iv.to_be_bytes()
}

/// The GCM IV for SRTP (RFC 7714 section 8.1): salt XOR `0x0000 || SSRC || ROC || SEQ`.
#[inline]
pub(crate) fn gcm_rtp_iv(salt: &[u8; 12], ssrc: u32, index: u64) -> Nonce {
    gcm_iv(salt, ssrc, index & 0xffff_ffff_ffff)
}

/// The GCM IV for SRTCP (RFC 7714 section 9.1): salt XOR `0x0000 || SSRC || 0x0000 || 0 ||
/// SRTCP index`.
#[inline]
pub(crate) fn gcm_rtcp_iv(salt: &[u8; 12], ssrc: u32, index: u32) -> Nonce {
    gcm_iv(salt, ssrc, u64::from(index & !SRTCP_E_FLAG))
}

#[inline]
fn gcm_iv(salt: &[u8; 12], ssrc: u32, low48: u64) -> Nonce {
    let mut s = [0u8; 16];
    s[4..].copy_from_slice(salt);
    let x = u128::from(ssrc) << 48 | u128::from(low48);
    let iv = (u128::from_be_bytes(s) ^ x).to_be_bytes();
    let mut out = [0u8; 12];
    out.copy_from_slice(&iv[4..]);
    Nonce::assume_unique_for_key(out)
}

#[inline]
fn ctr_xor(key: &EncryptingKey, iv: &[u8; 16], data: &mut [u8]) -> Result<(), Error> {
    if data.is_empty() {
        return Ok(());
    }
    key.less_safe_encrypt(data, EncryptionContext::Iv128(FixedLength::from(*iv)))
        .map(|_| ())
        .map_err(|_| Error::Crypto)
}

/// HMAC-SHA1 over `buf[..len]` followed by the ROC of `index` (RFC 3711 section 4.2), which
/// is written to `buf[len..len + 4]` (the tag's place) so the HMAC runs over one slice.
#[inline]
fn hmac_with_roc(
    key: &hmac::Key,
    buf: &mut [u8],
    len: usize,
    index: u64,
) -> Result<hmac::Tag, Error> {
    let roc = ((index >> 16) as u32).to_be_bytes();
    buf.get_mut(len..len + 4)
        .ok_or(Error::Truncated)?
        .copy_from_slice(&roc);
    Ok(hmac::sign(key, &buf[..len + 4]))
}

#[cfg(test)]
mod tests {
    //! Parts of RFC 7714 the session API does not expose: authentication-only SRTP (16.1.3,
    //! 16.2.3) and sending SRTCP with the E flag clear (17.3, 17.4), plus IV layouts.
    use super::*;
    use std::collections::HashMap;

    fn records() -> Vec<HashMap<String, String>> {
        include_str!("../tests/data/rfc7714-gcm.txt")
            .split("\n\n")
            .map(|b| {
                b.lines()
                    .filter(|l| !l.starts_with('#'))
                    .filter_map(|l| l.split_once(": "))
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect::<HashMap<_, _>>()
            })
            .filter(|m| m.contains_key("name"))
            .collect()
    }

    fn hex(s: &str) -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    fn transform(r: &HashMap<String, String>) -> Transform {
        let profile = match r["profile"].as_str() {
            "AEAD_AES_128_GCM" => ProtectionProfile::AeadAes128Gcm,
            _ => ProtectionProfile::AeadAes256Gcm,
        };
        let keys = SessionKeys::from_raw(
            profile,
            &hex(&r["session_key"]),
            &hex(&r["session_salt"]),
            &[],
        )
        .unwrap();
        Transform::new(profile, &keys, 16).unwrap()
    }

    #[test]
    fn rfc7714_ivs() {
        for r in records() {
            let salt: [u8; 12] = hex(&r["session_salt"]).try_into().unwrap();
            let ssrc = u32::from_str_radix(&r["ssrc"][2..], 16).unwrap();
            let iv = if r["packet_type"] == "rtp" {
                let seq = u64::from_str_radix(&r["seq"][2..], 16).unwrap();
                gcm_rtp_iv(&salt, ssrc, seq)
            } else {
                let index = u32::from_str_radix(&r["srtcp_index"][2..], 16).unwrap();
                gcm_rtcp_iv(&salt, ssrc, index | SRTCP_E_FLAG)
            };
            assert_eq!(iv.as_ref(), &hex(&r["iv"])[..], "{}", r["name"]);
        }
    }

    #[test]
    fn rfc7714_authentication_only() {
        let mut checked = 0;
        for r in records().iter().filter(|r| r["encrypted"] == "false") {
            let t = transform(r);
            let (plain, protected) = (hex(&r["plain_packet"]), hex(&r["protected_packet"]));
            let ssrc = u32::from_str_radix(&r["ssrc"][2..], 16).unwrap();
            let Transform::Gcm { aead, salt } = &t else {
                unreachable!()
            };
            if r["packet_type"] == "rtp" {
                // 16.x.3: the whole packet is AAD, nothing is encrypted.
                let nonce = gcm_rtp_iv(salt, ssrc, 0xf17b);
                let tag = aead
                    .seal_in_place_separate_tag(nonce, Aad::from(&plain), &mut [])
                    .unwrap();
                assert_eq!(tag.as_ref(), &protected[plain.len()..], "{}", r["name"]);
            } else {
                // 17.3/17.4: E = 0 through our SRTCP code, both ways.
                let index = u32::from_str_radix(&r["srtcp_index"][2..], 16).unwrap();
                let mut buf = plain.clone();
                buf.resize(plain.len() + 20, 0);
                let n = t
                    .protect_rtcp(&mut buf, plain.len(), ssrc, index, false)
                    .unwrap();
                assert_eq!(&buf[..n], &protected[..], "{}", r["name"]);
                assert_eq!(t.rtcp_index(&buf).unwrap(), (false, index));
                assert_eq!(
                    t.unprotect_rtcp(&mut buf, ssrc, index, false).unwrap(),
                    plain.len()
                );
                assert_eq!(buf, protected, "E = 0 leaves the packet as it was");
            }
            checked += 1;
        }
        assert_eq!(checked, 4);
    }

    #[test]
    fn cm_iv_layout() {
        // RFC 3711 section 4.1.1 with the libsrtp-cross SRTP record (SSRC 0xcafebabe, index 1).
        let salt: [u8; 14] = hex("3c6077620c80e07f217d168fb5b7").try_into().unwrap();
        assert_eq!(
            cm_iv(&salt, 0xcafe_babe, 1).to_vec(),
            hex("3c607762c67e5ac1217d168fb5b60000")
        );
    }
}
