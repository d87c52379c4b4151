//! ICE credentials from the session's seedable generator (not key material: the DTLS layer
//! owns all cryptographic randomness).

use rtcweb_core::Rng;

use super::types::IceCredentials;

/// RFC 8839 `ice-char`: ALPHA / DIGIT / "+" / "/".
const ICE_CHARS: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

fn ice_string(rng: &mut Rng, len: usize) -> String {
    (0..len)
        .map(|_| char::from(ICE_CHARS[rng.below(64) as usize]))
        .collect()
}

/// A ufrag of 8 and a pwd of 24 ice-chars (RFC 8839 asks for at least 4 and 22).
pub(crate) fn ice_credentials(rng: &mut Rng) -> IceCredentials {
    IceCredentials {
        ufrag: ice_string(rng, 8),
        pwd: ice_string(rng, 24),
    }
}
