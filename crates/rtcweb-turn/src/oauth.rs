//! RFC 7635 section 6.2 self-contained tokens: the session key, a timestamp and a lifetime,
//! encrypted with AES-GCM under the key the authorization server (AS) shares with the TURN
//! server (RS), with the server name as associated data.
//!
//! ```text
//! token = nonce_length (2) | nonce | AEAD(key_length (2) | mac_key | timestamp (8) | lifetime (4)) | tag (16)
//! ```
//!
//! The timestamp is 64 bits: 48 bits of seconds since the Unix epoch and 16 bits of fraction.

use aws_lc_rs::aead::{AES_128_GCM, AES_256_GCM, Aad, LessSafeKey, Nonce, UnboundKey};

use crate::error::{Error, Result};

/// AEAD of the token (the AS-RS algorithm).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AsRsAlgorithm {
    /// AES-128-GCM ("A128GCM"), key of 16 octets.
    A128Gcm,
    /// AES-256-GCM ("A256GCM"), key of 32 octets.
    A256Gcm,
}

/// Nonce length used when minting (the GCM standard 12 octets).
pub const NONCE_LEN: usize = 12;
const TAG_LEN: usize = 16;

/// The decrypted part of a token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenBlock {
    /// The session key the client uses for MESSAGE-INTEGRITY.
    pub mac_key: Vec<u8>,
    /// 48.16 fixed point seconds since the Unix epoch.
    pub timestamp: u64,
    /// Lifetime in seconds.
    pub lifetime: u32,
}

impl TokenBlock {
    /// Whether the token is still valid at `now_unix` (seconds).
    pub fn is_valid_at(&self, now_unix: u64) -> bool {
        let issued = self.timestamp >> 16;
        now_unix >= issued.saturating_sub(5) && now_unix <= issued + u64::from(self.lifetime)
    }
}

fn key(as_rs_key: &[u8], alg: AsRsAlgorithm) -> Result<LessSafeKey> {
    let algorithm = match alg {
        AsRsAlgorithm::A128Gcm => &AES_128_GCM,
        AsRsAlgorithm::A256Gcm => &AES_256_GCM,
    };
    UnboundKey::new(algorithm, as_rs_key)
        .map(LessSafeKey::new)
        .map_err(|_| Error::Credentials("AS-RS key has the wrong length for its algorithm"))
}

/// Encrypts `block` into a self-contained token.
pub fn encrypt_token(
    as_rs_key: &[u8],
    alg: AsRsAlgorithm,
    server_name: &str,
    nonce: [u8; NONCE_LEN],
    block: &TokenBlock,
) -> Result<Vec<u8>> {
    let key_len = u16::try_from(block.mac_key.len())
        .map_err(|_| Error::Credentials("session key too long"))?;
    let mut out = Vec::with_capacity(2 + NONCE_LEN + 2 + block.mac_key.len() + 12 + TAG_LEN);
    out.extend_from_slice(&(NONCE_LEN as u16).to_be_bytes());
    out.extend_from_slice(&nonce);
    let plain_at = out.len();
    out.extend_from_slice(&key_len.to_be_bytes());
    out.extend_from_slice(&block.mac_key);
    out.extend_from_slice(&block.timestamp.to_be_bytes());
    out.extend_from_slice(&block.lifetime.to_be_bytes());
    let mut body = out.split_off(plain_at);
    key(as_rs_key, alg)?
        .seal_in_place_append_tag(
            Nonce::assume_unique_for_key(nonce),
            Aad::from(server_name.as_bytes()),
            &mut body,
        )
        .map_err(|_| Error::BadToken)?;
    out.extend_from_slice(&body);
    Ok(out)
}

/// Decrypts and authenticates a token (what the TURN server does).
pub fn decrypt_token(
    as_rs_key: &[u8],
    alg: AsRsAlgorithm,
    server_name: &str,
    token: &[u8],
) -> Result<TokenBlock> {
    let (n0, n1, rest) = match token {
        [n0, n1, rest @ ..] => (*n0, *n1, rest),
        _ => return Err(Error::BadToken),
    };
    let nonce_len = usize::from(u16::from_be_bytes([n0, n1]));
    if nonce_len != NONCE_LEN {
        return Err(Error::BadToken);
    }
    let nonce: [u8; NONCE_LEN] = rest
        .get(..NONCE_LEN)
        .and_then(|n| n.try_into().ok())
        .ok_or(Error::BadToken)?;
    let mut body = rest.get(NONCE_LEN..).ok_or(Error::BadToken)?.to_vec();
    let plain = key(as_rs_key, alg)?
        .open_in_place(
            Nonce::assume_unique_for_key(nonce),
            Aad::from(server_name.as_bytes()),
            &mut body,
        )
        .map_err(|_| Error::BadToken)?;
    let (k0, k1, rest) = match &*plain {
        [k0, k1, rest @ ..] => (*k0, *k1, rest),
        _ => return Err(Error::BadToken),
    };
    let key_len = usize::from(u16::from_be_bytes([k0, k1]));
    let mac_key = rest.get(..key_len).ok_or(Error::BadToken)?.to_vec();
    let tail = rest.get(key_len..).ok_or(Error::BadToken)?;
    let (ts, lt) = match tail {
        [t0, t1, t2, t3, t4, t5, t6, t7, l0, l1, l2, l3] => (
            u64::from_be_bytes([*t0, *t1, *t2, *t3, *t4, *t5, *t6, *t7]),
            u32::from_be_bytes([*l0, *l1, *l2, *l3]),
        ),
        _ => return Err(Error::BadToken),
    };
    Ok(TokenBlock {
        mac_key,
        timestamp: ts,
        lifetime: lt,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_round_trip_and_tamper() {
        let block = TokenBlock {
            mac_key: vec![7; 20],
            timestamp: 1_700_000_000 << 16,
            lifetime: 3600,
        };
        let key = [3u8; 16];
        let t =
            encrypt_token(&key, AsRsAlgorithm::A128Gcm, "example.org", [1; 12], &block).unwrap();
        assert_eq!(t.len(), 2 + 12 + 2 + 20 + 8 + 4 + 16);
        assert_eq!(
            decrypt_token(&key, AsRsAlgorithm::A128Gcm, "example.org", &t).unwrap(),
            block
        );
        assert_eq!(
            decrypt_token(&key, AsRsAlgorithm::A128Gcm, "other.org", &t).unwrap_err(),
            Error::BadToken
        );
        for i in 0..t.len() {
            let mut bad = t.clone();
            bad[i] ^= 0x10;
            assert!(decrypt_token(&key, AsRsAlgorithm::A128Gcm, "example.org", &bad).is_err());
        }
        for cut in 0..t.len() {
            assert!(decrypt_token(&key, AsRsAlgorithm::A128Gcm, "example.org", &t[..cut]).is_err());
        }
        assert!(block.is_valid_at(1_700_000_100));
        assert!(!block.is_valid_at(1_700_003_601));
        let k256 = [9u8; 32];
        let t = encrypt_token(&k256, AsRsAlgorithm::A256Gcm, "s", [2; 12], &block).unwrap();
        assert_eq!(
            decrypt_token(&k256, AsRsAlgorithm::A256Gcm, "s", &t).unwrap(),
            block
        );
        assert!(encrypt_token(&k256, AsRsAlgorithm::A128Gcm, "s", [2; 12], &block).is_err());
    }
}
