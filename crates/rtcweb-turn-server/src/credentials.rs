//! Where credentials come from: long-term users ([`UserStore`], with [`StaticUsers`] and the
//! file format of [`StaticUsers::parse_user_file`]), TURN REST shared secrets ([`RestSecret`])
//! and RFC 7635 OAuth keys ([`OAuthKey`]). The REST and OAuth checks reuse `rtcweb-turn`'s
//! credential code, so client and server derive keys the same way.

use std::collections::HashMap;

use rtcweb_stun::{IntegrityKey, PasswordAlgorithm};
use rtcweb_turn::oauth::AsRsAlgorithm;

use crate::error::{Error, Result};

/// A store of long-term users (RFC 8489 section 9.2).
pub trait UserStore: Send {
    /// The long-term key of `username` in `realm` for `algorithm`, or `None` if the user is
    /// unknown (or its key cannot be made with that algorithm).
    fn key(
        &self,
        username: &str,
        realm: &str,
        algorithm: PasswordAlgorithm,
    ) -> Option<IntegrityKey>;
}

#[derive(Clone)]
enum Secret {
    Password(String),
    /// A precomputed MD5 key (the `0x...` form of coturn's user files): no SHA-256.
    Md5Key(Vec<u8>),
}

/// Users held in memory: passwords, or precomputed MD5 keys.
///
/// ```
/// use rtcweb_turn_server::{StaticUsers, UserStore};
/// use rtcweb_stun::PasswordAlgorithm;
/// let mut users = StaticUsers::new();
/// users.insert_password("alice", "wonderland")?;
/// assert!(users.key("alice", "example.org", PasswordAlgorithm::Md5).is_some());
/// assert!(users.key("bob", "example.org", PasswordAlgorithm::Md5).is_none());
/// # Ok::<(), rtcweb_turn_server::Error>(())
/// ```
#[derive(Clone, Default)]
pub struct StaticUsers {
    users: HashMap<String, Secret>,
}

impl core::fmt::Debug for StaticUsers {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "StaticUsers({} users)", self.users.len())
    }
}

fn hex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| s.get(i..i + 2).and_then(|b| u8::from_str_radix(b, 16).ok()))
        .collect()
}

impl StaticUsers {
    /// No users.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds or replaces a user with a password (checked with SASLprep now, so a bad one is
    /// refused at configuration time rather than on every request).
    pub fn insert_password(&mut self, username: &str, password: &str) -> Result<()> {
        rtcweb_stun::saslprep(password).map_err(|_| Error::SaslPrep)?;
        self.users
            .insert(username.to_string(), Secret::Password(password.to_string()));
        Ok(())
    }

    /// Adds or replaces a user with a precomputed MD5 long-term key
    /// (`MD5(username ":" realm ":" password)`), for stores that keep no passwords.
    pub fn insert_md5_key(&mut self, username: &str, key: [u8; 16]) {
        self.users
            .insert(username.to_string(), Secret::Md5Key(key.to_vec()));
    }

    /// How many users.
    pub fn len(&self) -> usize {
        self.users.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.users.is_empty()
    }

    /// Reads a user file (the driver reads the file; parsing is here so it is tested and
    /// fuzzable). One user per line: `name:password`, or `name:0x<32 hex digits>` for an MD5
    /// key. Empty lines and lines starting with `#` are skipped. The name is everything up to
    /// the first `:`; the password is the rest of the line (it may contain `:`).
    pub fn parse_user_file(text: &str) -> Result<Self> {
        let mut users = StaticUsers::new();
        for (i, line) in text.lines().enumerate() {
            let line = line.trim_end_matches('\r');
            if line.trim().is_empty() || line.trim_start().starts_with('#') {
                continue;
            }
            let bad = |reason| Error::UserFile {
                line: i + 1,
                reason,
            };
            let (name, secret) = line.split_once(':').ok_or(bad("expected name:password"))?;
            if name.is_empty() {
                return Err(bad("empty name"));
            }
            match secret.strip_prefix("0x") {
                Some(h) => {
                    let key: [u8; 16] = hex(h)
                        .and_then(|k| k.try_into().ok())
                        .ok_or(bad("an MD5 key is 0x and 32 hex digits"))?;
                    users.insert_md5_key(name, key);
                }
                None => {
                    if secret.is_empty() {
                        return Err(bad("empty password"));
                    }
                    users
                        .insert_password(name, secret)
                        .map_err(|_| bad("SASLprep rejects the password"))?;
                }
            }
        }
        Ok(users)
    }
}

impl UserStore for StaticUsers {
    fn key(
        &self,
        username: &str,
        realm: &str,
        algorithm: PasswordAlgorithm,
    ) -> Option<IntegrityKey> {
        match (self.users.get(username)?, algorithm) {
            (Secret::Password(p), alg) => IntegrityKey::long_term(username, realm, p, alg).ok(),
            (Secret::Md5Key(k), PasswordAlgorithm::Md5) => Some(IntegrityKey::from_bytes(k)),
            (Secret::Md5Key(_), PasswordAlgorithm::Sha256) => None,
        }
    }
}

/// A TURN REST shared secret (draft-uberti-behave-turn-rest, coturn's `--use-auth-secret`).
/// Several may be configured at once: during a rotation the old and the new secret are both
/// accepted, and `not_after_unix` retires the old one on time.
#[derive(Clone, PartialEq, Eq)]
pub struct RestSecret {
    /// The secret.
    pub secret: Vec<u8>,
    /// After this Unix time the secret is no longer accepted (`None`: no end).
    pub not_after_unix: Option<u64>,
}

impl core::fmt::Debug for RestSecret {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(
            f,
            "RestSecret {{ not_after_unix: {:?}, .. }}",
            self.not_after_unix
        )
    }
}

impl RestSecret {
    /// A secret without end date.
    pub fn new(secret: impl Into<Vec<u8>>) -> Self {
        RestSecret {
            secret: secret.into(),
            not_after_unix: None,
        }
    }
}

/// An RFC 7635 AS-RS key: tokens whose USERNAME is `kid` are decrypted with it.
#[derive(Clone, PartialEq, Eq)]
pub struct OAuthKey {
    /// Key id (sent as USERNAME).
    pub kid: String,
    /// The AS-RS key.
    pub key: Vec<u8>,
    /// The token AEAD.
    pub algorithm: AsRsAlgorithm,
    /// The server name used as associated data; `None` = the realm.
    pub server_name: Option<String>,
}

impl core::fmt::Debug for OAuthKey {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(
            f,
            "OAuthKey {{ kid: {:?}, algorithm: {:?}, .. }}",
            self.kid, self.algorithm
        )
    }
}

impl OAuthKey {
    /// A key whose algorithm follows from its length: 16 octets A128GCM, 32 octets A256GCM.
    pub fn new(kid: impl Into<String>, key: Vec<u8>) -> Result<Self> {
        let algorithm = match key.len() {
            16 => AsRsAlgorithm::A128Gcm,
            32 => AsRsAlgorithm::A256Gcm,
            n => return Err(Error::OAuthKeyLength(n)),
        };
        Ok(OAuthKey {
            kid: kid.into(),
            key,
            algorithm,
            server_name: None,
        })
    }
}

/// Every way clients may authenticate. Any mix may be configured.
#[derive(Default)]
pub struct AuthConfig {
    /// Long-term users.
    pub users: Option<Box<dyn UserStore>>,
    /// TURN REST shared secrets.
    pub rest_secrets: Vec<RestSecret>,
    /// OAuth AS-RS keys.
    pub oauth_keys: Vec<OAuthKey>,
}

impl core::fmt::Debug for AuthConfig {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("AuthConfig")
            .field("users", &self.users.is_some())
            .field("rest_secrets", &self.rest_secrets.len())
            .field("oauth_keys", &self.oauth_keys)
            .finish()
    }
}

impl AuthConfig {
    /// Long-term users only.
    pub fn users(store: impl UserStore + 'static) -> Self {
        AuthConfig {
            users: Some(Box::new(store)),
            ..Self::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_file() {
        let u = StaticUsers::parse_user_file(
            "# users\n\nalice:wonder:land\nbob:0x0123456789abcdef0123456789ABCDEF\r\n",
        )
        .unwrap();
        assert_eq!(u.len(), 2);
        let expect =
            IntegrityKey::long_term("alice", "r", "wonder:land", PasswordAlgorithm::Md5).unwrap();
        assert_eq!(
            u.key("alice", "r", PasswordAlgorithm::Md5)
                .unwrap()
                .as_bytes(),
            expect.as_bytes()
        );
        assert_eq!(
            u.key("bob", "r", PasswordAlgorithm::Md5)
                .unwrap()
                .as_bytes()[0],
            0x01
        );
        assert!(u.key("bob", "r", PasswordAlgorithm::Sha256).is_none());
        for bad in [
            "nocolon",
            ":pw",
            "x:",
            "x:0x12",
            "x:0xzz23456789abcdef0123456789abcdef",
            "x:a\u{7}b",
        ] {
            assert!(StaticUsers::parse_user_file(bad).is_err(), "{bad}");
        }
        assert!(matches!(
            StaticUsers::parse_user_file("a:b\nbad").unwrap_err(),
            Error::UserFile { line: 2, .. }
        ));
    }

    #[test]
    fn oauth_key_length_picks_algorithm() {
        assert_eq!(
            OAuthKey::new("k", vec![0; 16]).unwrap().algorithm,
            AsRsAlgorithm::A128Gcm
        );
        assert_eq!(
            OAuthKey::new("k", vec![0; 32]).unwrap().algorithm,
            AsRsAlgorithm::A256Gcm
        );
        assert_eq!(
            OAuthKey::new("k", vec![0; 20]).unwrap_err(),
            Error::OAuthKeyLength(20)
        );
    }
}
