//! dimpl's aws-lc-rs crypto provider, with the DTLS 1.3 record number mask (RFC 9147
//! section 4.2.3) computed from an AES key schedule set up once per key rather than once per
//! record.
//!
//! dimpl asks its provider for `mask = AES-ECB(sn_key, sample)` for every record it protects
//! or opens, passing the raw key; aws-lc-rs's suites expand the key, encrypt one block and
//! drop the schedule each time, which cost about 7 % of bulk data-channel time over DTLS 1.3
//! (docs/performance.md). Through dimpl's provider seam, each DTLS 1.3 suite is wrapped so
//! that the schedule of the last few record-number keys used on this thread is kept (each
//! association uses one per direction and epoch) and reused while the key is the same. The
//! AEAD keys themselves are already set up once per epoch by dimpl.
//!
//! The kept schedules are of record-number keys only (they protect sequence numbers, not
//! data), at most [`KEPT_KEYS`] per thread; they are replaced as new keys come.

use std::cell::RefCell;
use std::sync::OnceLock;

use aws_lc_rs::cipher::{AES_128, AES_256, Algorithm, EncryptingKey, UnboundCipherKey};
use dimpl::crypto::{
    Cipher, CryptoProvider, Dtls13CipherSuite, HashAlgorithm, SupportedDtls13CipherSuite,
};

/// Record-number key schedules kept per thread: a few associations' both directions.
pub(crate) const KEPT_KEYS: usize = 8;

thread_local! {
    /// Most recently used last.
    static SN_KEYS: RefCell<Vec<(Vec<u8>, EncryptingKey)>> = const { RefCell::new(Vec::new()) };
}

/// A DTLS 1.3 suite of the default provider, but for the kept record-number key schedule.
#[derive(Debug)]
struct KeptSnKey {
    inner: &'static dyn SupportedDtls13CipherSuite,
}

impl KeptSnKey {
    fn aes(&self) -> Option<&'static Algorithm> {
        match self.inner.suite() {
            Dtls13CipherSuite::AES_128_GCM_SHA256 => Some(&AES_128),
            Dtls13CipherSuite::AES_256_GCM_SHA384 => Some(&AES_256),
            _ => None,
        }
    }
}

/// `AES-ECB(key, sample)` with the key's schedule set up at most once while it stays among
/// the last [`KEPT_KEYS`] used; `None` if aws-lc-rs refuses the key.
fn ecb_mask(algorithm: &'static Algorithm, key: &[u8], sample: &[u8; 16]) -> Option<[u8; 16]> {
    SN_KEYS.with(|keys| {
        let mut keys = keys.borrow_mut();
        let at = match keys.iter().position(|(k, _)| k.as_slice() == key) {
            Some(i) => i,
            None => {
                let schedule =
                    EncryptingKey::ecb(UnboundCipherKey::new(algorithm, key).ok()?).ok()?;
                if keys.len() >= KEPT_KEYS {
                    keys.remove(0);
                }
                keys.push((key.to_vec(), schedule));
                keys.len() - 1
            }
        };
        let mut block = *sample;
        keys.get(at)?.1.encrypt(&mut block).ok()?;
        Some(block)
    })
}

impl SupportedDtls13CipherSuite for KeptSnKey {
    fn suite(&self) -> Dtls13CipherSuite {
        self.inner.suite()
    }
    fn hash_algorithm(&self) -> HashAlgorithm {
        self.inner.hash_algorithm()
    }
    fn key_len(&self) -> usize {
        self.inner.key_len()
    }
    fn iv_len(&self) -> usize {
        self.inner.iv_len()
    }
    fn tag_len(&self) -> usize {
        self.inner.tag_len()
    }
    fn min_protected_fragment_len(&self) -> usize {
        self.inner.min_protected_fragment_len()
    }
    fn create_cipher(&self, key: &[u8]) -> Result<Box<dyn Cipher>, dimpl::CryptoError> {
        self.inner.create_cipher(key)
    }
    fn encrypt_sn(&self, sn_key: &[u8], sample: &[u8; 16]) -> [u8; 16] {
        self.aes()
            .and_then(|alg| ecb_mask(alg, sn_key, sample))
            .unwrap_or_else(|| self.inner.encrypt_sn(sn_key, sample))
    }
}

/// dimpl's default aws-lc-rs provider with [`KeptSnKey`] around each DTLS 1.3 suite.
pub(crate) fn provider() -> CryptoProvider {
    static SUITES: OnceLock<Vec<KeptSnKey>> = OnceLock::new();
    static REFS: OnceLock<Vec<&'static dyn SupportedDtls13CipherSuite>> = OnceLock::new();
    let base = dimpl::crypto::aws_lc_rs::default_provider();
    let suites = SUITES.get_or_init(|| {
        base.dtls13_cipher_suites
            .iter()
            .map(|&inner| KeptSnKey { inner })
            .collect()
    });
    let refs = REFS.get_or_init(|| {
        suites
            .iter()
            .map(|s| s as &'static dyn SupportedDtls13CipherSuite)
            .collect()
    });
    CryptoProvider {
        dtls13_cipher_suites: refs.as_slice(),
        ..base
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_kept_schedule_gives_the_default_providers_mask() {
        let base = dimpl::crypto::aws_lc_rs::default_provider();
        let ours = provider();
        assert_eq!(
            base.dtls13_cipher_suites.len(),
            ours.dtls13_cipher_suites.len()
        );
        for (theirs, ours) in base
            .dtls13_cipher_suites
            .iter()
            .zip(ours.dtls13_cipher_suites)
        {
            assert_eq!(theirs.suite(), ours.suite());
            // More keys than are kept, each used twice, interleaved: hits and misses.
            for round in 0..2u8 {
                for k in 0..(KEPT_KEYS as u8 + 3) {
                    let key = vec![k.wrapping_mul(31) ^ 0x5a; ours.key_len()];
                    let sample = [k ^ round; 16];
                    assert_eq!(
                        theirs.encrypt_sn(&key, &sample),
                        ours.encrypt_sn(&key, &sample),
                        "{:?} key {k}",
                        ours.suite()
                    );
                }
            }
        }
    }
}
