//! A small seedable generator for ICE credentials and ids (not for key material: the DTLS
//! layer owns all cryptographic randomness).

use super::types::IceCredentials;

/// SplitMix64 (Steele, Lea, Flood 2014): tiny, fast, good enough for identifiers.
#[derive(Debug, Clone)]
pub(crate) struct SplitMix64(u64);

/// RFC 8839 `ice-char`: ALPHA / DIGIT / "+" / "/".
const ICE_CHARS: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

impl SplitMix64 {
    pub(crate) fn new(seed: u64) -> Self {
        SplitMix64(seed)
    }

    pub(crate) fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn ice_string(&mut self, len: usize) -> String {
        (0..len)
            .map(|_| char::from(ICE_CHARS[(self.next_u64() % 64) as usize]))
            .collect()
    }

    /// A ufrag of 8 and a pwd of 24 ice-chars (RFC 8839 asks for at least 4 and 22).
    pub(crate) fn ice_credentials(&mut self) -> IceCredentials {
        IceCredentials {
            ufrag: self.ice_string(8),
            pwd: self.ice_string(24),
        }
    }
}
