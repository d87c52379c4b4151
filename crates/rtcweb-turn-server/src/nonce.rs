//! Stateless nonces: the issue time and a keyed hash of (time, client transport address), so
//! the server remembers nothing before a client authenticates, a nonce works only from the
//! address it was given to, and it goes stale after a set time (438, RFC 8489 section 9.2).
//!
//! With SHA-256 password algorithms on, the nonce starts with the RFC 8489 security-feature
//! cookie `obMatJos2` and the "password algorithms" bit (section 9.2.1).

use aws_lc_rs::hmac;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;

use crate::types::FiveTuple;

const COOKIE: &str = "obMatJos2";
/// Security features with bit 0 ("password algorithms") set, base64 of 0x800000.
const FEATURES_PASSWORD_ALGORITHMS: &str = "gAAA";
const MAC_LEN: usize = 12;
/// Nonces issued up to this many seconds in the future (clock steps between servers that
/// share a secret) are still accepted.
const CLOCK_SLACK: u64 = 5;

pub(crate) struct NonceKey {
    key: hmac::Key,
    lifetime: u64,
    cookie: bool,
}

impl NonceKey {
    pub(crate) fn new(secret: &[u8], lifetime_secs: u64, cookie: bool) -> Self {
        NonceKey {
            key: hmac::Key::new(hmac::HMAC_SHA256, secret),
            lifetime: lifetime_secs,
            cookie,
        }
    }

    fn mac(&self, ts: u64, tuple: &FiveTuple) -> [u8; MAC_LEN] {
        let mut input = Vec::with_capacity(32);
        input.extend_from_slice(&ts.to_be_bytes());
        tuple.nonce_binding(&mut input);
        let tag = hmac::sign(&self.key, &input);
        let mut out = [0u8; MAC_LEN];
        out.copy_from_slice(tag.as_ref().get(..MAC_LEN).unwrap_or(&[0; MAC_LEN]));
        out
    }

    /// A nonce for `tuple`, issued at `unix` seconds.
    pub(crate) fn issue(&self, unix: u64, tuple: &FiveTuple) -> String {
        let mut raw = [0u8; 8 + MAC_LEN];
        raw[..8].copy_from_slice(&unix.to_be_bytes());
        raw[8..].copy_from_slice(&self.mac(unix, tuple));
        let body = B64.encode(raw);
        if self.cookie {
            format!("{COOKIE}{FEATURES_PASSWORD_ALGORITHMS}{body}")
        } else {
            body
        }
    }

    /// Whether `nonce` was issued by this key to `tuple` and is still fresh at `unix`.
    pub(crate) fn check(&self, nonce: &str, unix: u64, tuple: &FiveTuple) -> bool {
        let body = if self.cookie {
            match nonce
                .strip_prefix(COOKIE)
                .and_then(|n| n.strip_prefix(FEATURES_PASSWORD_ALGORITHMS))
            {
                Some(b) => b,
                None => return false,
            }
        } else {
            nonce
        };
        let mut raw = [0u8; 8 + MAC_LEN];
        match B64.decode_slice(body, &mut raw) {
            Ok(n) if n == raw.len() => {}
            _ => return false,
        }
        let mut ts = [0u8; 8];
        ts.copy_from_slice(&raw[..8]);
        let ts = u64::from_be_bytes(ts);
        if ts > unix.saturating_add(CLOCK_SLACK) || unix.saturating_sub(ts) >= self.lifetime {
            return false;
        }
        aws_lc_rs::constant_time::verify_slices_are_equal(&self.mac(ts, tuple), &raw[8..]).is_ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::Protocol;

    #[test]
    fn nonce_binds_time_and_address() {
        let t = FiveTuple::new(
            Protocol::Udp,
            "198.51.100.1:5000".parse().unwrap(),
            "203.0.113.1:3478".parse().unwrap(),
        );
        let other = FiveTuple {
            client: "198.51.100.1:5001".parse().unwrap(),
            ..t
        };
        let tcp = FiveTuple {
            transport: Protocol::Tcp,
            ..t
        };
        for cookie in [false, true] {
            let k = NonceKey::new(b"secret", 600, cookie);
            let n = k.issue(1000, &t);
            assert!(n.len() < 128);
            assert_eq!(n.starts_with("obMatJos2gAAA"), cookie);
            assert!(k.check(&n, 1000, &t));
            assert!(k.check(&n, 1599, &t));
            assert!(!k.check(&n, 1600, &t), "stale after the lifetime");
            assert!(!k.check(&n, 990, &t), "from the future");
            assert!(!k.check(&n, 1000, &other));
            assert!(!k.check(&n, 1000, &tcp));
            assert!(!NonceKey::new(b"other", 600, cookie).check(&n, 1000, &t));
            let mut forged = n.clone().into_bytes();
            let last = forged.len() - 2;
            forged[last] = if forged[last] == b'A' { b'B' } else { b'A' };
            assert!(!k.check(std::str::from_utf8(&forged).unwrap(), 1000, &t));
            assert!(!k.check("", 1000, &t));
            assert!(!k.check("obMatJos2gAAA", 1000, &t));
        }
    }
}
