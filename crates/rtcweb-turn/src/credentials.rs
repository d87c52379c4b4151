//! The three kinds of TURN credentials: long-term (RFC 8489 section 9.2), TURN REST
//! time-limited (draft-uberti-behave-turn-rest, as coturn's `--use-auth-secret` implements it)
//! and OAuth with a self-contained token (RFC 7635).

use aws_lc_rs::hmac;
use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;

use crate::oauth::{AsRsAlgorithm, TokenBlock};

/// How the client authenticates.
#[derive(Clone, PartialEq, Eq)]
pub enum Credentials {
    /// Long-term credentials; the realm comes from the server's 401 (or is checked against it).
    LongTerm {
        /// USERNAME.
        username: String,
        /// The password (SASLprep is applied when the key is derived).
        password: String,
    },
    /// RFC 7635 with a token already issued by an authorization server.
    OAuth {
        /// Key id, sent as USERNAME.
        kid: String,
        /// The session key (mac_key) inside the token, used as the integrity key.
        session_key: Vec<u8>,
        /// The encrypted self-contained token, sent as ACCESS-TOKEN.
        token: Vec<u8>,
    },
    /// RFC 7635 where this client also plays the authorization server: it holds the AS-RS key
    /// and mints a self-contained token (section 6.2) once it knows the server name. The
    /// server name (the AEAD associated data) defaults to the realm of the server's 401.
    OAuthSelfIssued {
        /// Key id, sent as USERNAME.
        kid: String,
        /// The AS-RS key shared with the TURN server.
        as_rs_key: Vec<u8>,
        /// AEAD of the token.
        algorithm: AsRsAlgorithm,
        /// Server name used as associated data; `None` = the realm.
        server_name: Option<String>,
        /// Session key to put in the token (20 octets for HMAC-SHA1 integrity).
        session_key: Vec<u8>,
        /// Token timestamp: seconds since the Unix epoch (the caller reads the clock).
        issued_at_unix: u64,
        /// Token lifetime in seconds.
        lifetime: u32,
    },
}

impl core::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Credentials::LongTerm { username, .. } => {
                write!(f, "LongTerm {{ username: {username:?}, .. }}")
            }
            Credentials::OAuth { kid, .. } | Credentials::OAuthSelfIssued { kid, .. } => {
                write!(f, "OAuth {{ kid: {kid:?}, .. }}")
            }
        }
    }
}

impl Credentials {
    /// TURN REST credentials derived from a shared secret (see [`rest_credentials`]).
    pub fn rest(secret: &[u8], user: &str, expiry_unix: u64) -> Self {
        let (username, password) = rest_credentials(secret, user, expiry_unix);
        Credentials::LongTerm { username, password }
    }

    /// The USERNAME value.
    pub fn username(&self) -> &str {
        match self {
            Credentials::LongTerm { username, .. } => username,
            Credentials::OAuth { kid, .. } | Credentials::OAuthSelfIssued { kid, .. } => kid,
        }
    }

    /// For a self-issued OAuth credential, the token block it mints.
    pub(crate) fn token_block(&self) -> Option<TokenBlock> {
        match self {
            Credentials::OAuthSelfIssued {
                session_key,
                issued_at_unix,
                lifetime,
                ..
            } => Some(TokenBlock {
                mac_key: session_key.clone(),
                timestamp: issued_at_unix << 16,
                lifetime: *lifetime,
            }),
            _ => None,
        }
    }
}

/// TURN REST credentials: username `<expiry>:<user>` and password
/// `base64(HMAC-SHA1(secret, username))`, valid until `expiry_unix`.
pub fn rest_credentials(secret: &[u8], user: &str, expiry_unix: u64) -> (String, String) {
    let username = if user.is_empty() {
        expiry_unix.to_string()
    } else {
        format!("{expiry_unix}:{user}")
    };
    let password = rest_password(secret, &username);
    (username, password)
}

/// The TURN REST password of `username`.
pub fn rest_password(secret: &[u8], username: &str) -> String {
    let key = hmac::Key::new(hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY, secret);
    BASE64.encode(hmac::sign(&key, username.as_bytes()).as_ref())
}

/// Server side check of a TURN REST username: the password it should have, or `None` if the
/// username carries no expiry or has expired at `now_unix`.
pub fn rest_check(secret: &[u8], username: &str, now_unix: u64) -> Option<String> {
    let expiry: u64 = username.split(':').next()?.parse().ok()?;
    (expiry >= now_unix).then(|| rest_password(secret, username))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rest_matches_independent_computation() {
        // Python: base64.b64encode(hmac.new(b"north", b"1700000000:alice", "sha1").digest())
        let (u, p) = rest_credentials(b"north", "alice", 1_700_000_000);
        assert_eq!(u, "1700000000:alice");
        assert_eq!(p, "Cd/49soE35ICqcJF/bCTn8Z4OyE=");
        assert_eq!(
            rest_check(b"north", &u, 1_699_999_999).as_deref(),
            Some(p.as_str())
        );
        assert_eq!(rest_check(b"north", &u, 1_700_000_001), None);
        assert_eq!(rest_check(b"north", "alice", 0), None);
    }
}
