//! The server side of the long-term mechanism (RFC 8489 section 9.2.4), with the key found
//! by one of three means: a user store, a TURN REST shared secret, or an RFC 7635 token.
//! Nothing is stored before a request authenticates.

use rtcweb_stun::attributes::RawPasswordAlgorithm;
use rtcweb_stun::{Attribute, AttributeType, IntegrityKey, Message, PasswordAlgorithm};
use rtcweb_turn::credentials::rest_check;
use rtcweb_turn::oauth::decrypt_token;

use crate::allocation::Identity;
use crate::credentials::AuthConfig;
use crate::nonce::NonceKey;
use crate::types::FiveTuple;

/// Why a request does not authenticate, i.e. which error answers it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Reject {
    /// 401 with REALM and NONCE: no credentials yet, or wrong ones.
    Unauthenticated,
    /// 438 with a fresh NONCE.
    StaleNonce,
    /// 400: credentials incomplete or inconsistent.
    BadRequest,
}

pub(crate) struct Authenticator {
    pub auth: AuthConfig,
    pub realm: String,
    pub nonces: NonceKey,
    pub sha256: bool,
}

fn text<'a>(msg: &'a Message<&[u8]>, typ: AttributeType) -> Result<Option<&'a str>, Reject> {
    match msg.attribute(typ) {
        None => Ok(None),
        Some(Ok(Attribute::Username(s) | Attribute::Realm(s) | Attribute::Nonce(s))) => Ok(Some(s)),
        Some(_) => Err(Reject::BadRequest),
    }
}

impl Authenticator {
    /// PASSWORD-ALGORITHMS the server offers, in order of preference.
    pub(crate) fn algorithms(&self) -> &'static [RawPasswordAlgorithm<'static>] {
        const BOTH: &[RawPasswordAlgorithm<'static>] = &[
            RawPasswordAlgorithm {
                algorithm: RawPasswordAlgorithm::SHA256,
                params: &[],
            },
            RawPasswordAlgorithm {
                algorithm: RawPasswordAlgorithm::MD5,
                params: &[],
            },
        ];
        if self.sha256 { BOTH } else { &[] }
    }

    /// The password algorithm a request asks for (RFC 8489 section 9.2.4, last checks).
    fn algorithm(&self, msg: &Message<&[u8]>) -> Result<PasswordAlgorithm, Reject> {
        let list = msg.attribute(AttributeType::PASSWORD_ALGORITHMS);
        let chosen = msg.attribute(AttributeType::PASSWORD_ALGORITHM);
        match (list, chosen) {
            (None, None) => Ok(PasswordAlgorithm::Md5),
            (
                Some(Ok(Attribute::PasswordAlgorithms(l))),
                Some(Ok(Attribute::PasswordAlgorithm(a))),
            ) if self.sha256 => {
                // The list must be the one we sent, unaltered (no downgrade).
                let ours = self.algorithms();
                let same = l.iter().eq(ours.iter().copied());
                let alg = PasswordAlgorithm::from_code(a.algorithm).filter(|_| a.params.is_empty());
                match (same, alg) {
                    (true, Some(alg)) => Ok(alg),
                    _ => Err(Reject::BadRequest),
                }
            }
            _ => Err(Reject::BadRequest),
        }
    }

    /// Authenticates `msg` from `tuple` at Unix time `unix`. `known` is the identity of the
    /// tuple's allocation, if it has one: its key is reused when the user is the same.
    pub(crate) fn authenticate(
        &self,
        msg: &Message<&[u8]>,
        tuple: &FiveTuple,
        unix: u64,
        known: Option<&Identity>,
    ) -> Result<Identity, Reject> {
        if !msg.has_integrity() && !msg.has_integrity_sha256() {
            return Err(Reject::Unauthenticated);
        }
        let username = text(msg, AttributeType::USERNAME)?;
        let realm = text(msg, AttributeType::REALM)?;
        let nonce = text(msg, AttributeType::NONCE)?;
        let (Some(username), Some(realm), Some(nonce)) = (username, realm, nonce) else {
            return Err(Reject::BadRequest);
        };
        if !self.nonces.check(nonce, unix, tuple) {
            return Err(Reject::StaleNonce);
        }
        let algorithm = self.algorithm(msg)?;
        if realm != self.realm {
            return Err(Reject::Unauthenticated);
        }
        if let Some(id) = known.filter(|id| id.username == username && id.algorithm == algorithm) {
            if id.expires_unix.is_some_and(|e| unix > e) {
                return Err(Reject::Unauthenticated);
            }
            return match msg.verify_integrity(&id.key) {
                Ok(()) => Ok(id.clone()),
                Err(_) => Err(Reject::Unauthenticated),
            };
        }
        let verify = |key: IntegrityKey, expires_unix: Option<u64>| -> Option<Identity> {
            msg.verify_integrity(&key).ok().map(|()| Identity {
                username: username.to_string(),
                key,
                algorithm,
                expires_unix,
            })
        };
        if let Some(Ok(Attribute::AccessToken(token))) = msg.attribute(AttributeType::ACCESS_TOKEN)
        {
            return self
                .oauth(username, token, unix)
                .and_then(|(k, e)| verify(k, Some(e)))
                .ok_or(Reject::Unauthenticated);
        }
        if let Some(id) = self.rest(username, unix, algorithm, &verify) {
            return Ok(id);
        }
        let key = self
            .auth
            .users
            .as_ref()
            .and_then(|u| u.key(username, &self.realm, algorithm))
            .ok_or(Reject::Unauthenticated)?;
        verify(key, None).ok_or(Reject::Unauthenticated)
    }

    /// RFC 7635: the token's session key and its end, if `kid` is ours and the token
    /// decrypts and is current.
    fn oauth(&self, kid: &str, token: &[u8], unix: u64) -> Option<(IntegrityKey, u64)> {
        let k = self.auth.oauth_keys.iter().find(|k| k.kid == kid)?;
        let aad = k.server_name.as_deref().unwrap_or(&self.realm);
        let block = decrypt_token(&k.key, k.algorithm, aad, token).ok()?;
        if block.mac_key.is_empty() || !block.is_valid_at(unix) {
            return None;
        }
        let end = (block.timestamp >> 16).saturating_add(u64::from(block.lifetime));
        Some((IntegrityKey::from_bytes(&block.mac_key), end))
    }

    /// TURN REST: a username `<expiry>:<user>` whose password is the HMAC of a current
    /// secret. Every secret in force is tried, for rotations.
    fn rest(
        &self,
        username: &str,
        unix: u64,
        algorithm: PasswordAlgorithm,
        verify: &dyn Fn(IntegrityKey, Option<u64>) -> Option<Identity>,
    ) -> Option<Identity> {
        let expiry: u64 = username.split(':').next()?.parse().ok()?;
        self.auth
            .rest_secrets
            .iter()
            .filter(|s| s.not_after_unix.is_none_or(|end| unix <= end))
            .find_map(|s| {
                let password = rest_check(&s.secret, username, unix)?;
                let key =
                    IntegrityKey::long_term(username, &self.realm, &password, algorithm).ok()?;
                verify(key, Some(expiry))
            })
    }
}
