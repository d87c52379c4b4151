//! The server side of the long-term mechanism (RFC 8489 section 9.2.4), with the key found
//! by one of three means: a user store, a TURN REST shared secret, or an RFC 7635 token.
//! Nothing is stored before a request authenticates.

use rtcweb_stun::attributes::RawPasswordAlgorithm;
use rtcweb_stun::{Attribute, AttributeType, IntegrityKey, Message, PasswordAlgorithm};
use rtcweb_turn::credentials::rest_check;
use rtcweb_turn::oauth::decrypt_token;

use crate::allocation::Identity;
use crate::credentials::AuthConfig;
use crate::metrics::AuthFailure;
use crate::nonce::NonceKey;
use crate::types::FiveTuple;

/// Why a request does not authenticate, i.e. which error answers it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Reject {
    /// No credentials yet: 401 with REALM and NONCE (the normal first round).
    Challenge,
    /// Credentials that do not authenticate: 400, 438 (with a fresh NONCE) or 401.
    Failed(AuthFailure),
}

impl Reject {
    /// The error code that answers it.
    pub(crate) fn code(self) -> u16 {
        match self {
            Reject::Challenge => 401,
            Reject::Failed(AuthFailure::BadRequest) => 400,
            Reject::Failed(AuthFailure::StaleNonce) => 438,
            Reject::Failed(AuthFailure::WrongCredentials) => 441,
            Reject::Failed(_) => 401,
        }
    }
}

const BAD_REQUEST: Reject = Reject::Failed(AuthFailure::BadRequest);

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
        Some(_) => Err(BAD_REQUEST),
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
                    _ => Err(BAD_REQUEST),
                }
            }
            _ => Err(BAD_REQUEST),
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
        use AuthFailure::*;
        if !msg.has_integrity() && !msg.has_integrity_sha256() {
            return Err(Reject::Challenge);
        }
        let username = text(msg, AttributeType::USERNAME)?;
        let realm = text(msg, AttributeType::REALM)?;
        let nonce = text(msg, AttributeType::NONCE)?;
        let (Some(username), Some(realm), Some(nonce)) = (username, realm, nonce) else {
            return Err(BAD_REQUEST);
        };
        if !self.nonces.check(nonce, unix, tuple) {
            return Err(Reject::Failed(StaleNonce));
        }
        let algorithm = self.algorithm(msg)?;
        if realm != self.realm {
            return Err(Reject::Failed(WrongRealm));
        }
        if let Some(id) = known.filter(|id| id.username == username && id.algorithm == algorithm) {
            if id.expires_unix.is_some_and(|e| unix > e) {
                return Err(Reject::Failed(Expired));
            }
            return match msg.verify_integrity(&id.key) {
                Ok(()) => Ok(id.clone()),
                Err(_) => Err(Reject::Failed(WrongPassword)),
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
            let (key, end) = self.oauth(username, token, unix).map_err(Reject::Failed)?;
            return verify(key, Some(end)).ok_or(Reject::Failed(WrongPassword));
        }
        let rest = match self.rest(username, unix, algorithm, &verify) {
            Ok(Some(id)) => return Ok(id),
            Ok(None) => None,
            Err(why) => Some(why),
        };
        let key = self
            .auth
            .users
            .as_ref()
            .and_then(|u| u.key(username, &self.realm, algorithm));
        match key {
            Some(key) => verify(key, None).ok_or(Reject::Failed(WrongPassword)),
            // A REST-shaped name that no secret verifies says more than "unknown user".
            None => Err(Reject::Failed(rest.unwrap_or(UnknownUser))),
        }
    }

    /// RFC 7635: the token's session key and its end, if `kid` is ours and the token
    /// decrypts and is current.
    fn oauth(
        &self,
        kid: &str,
        token: &[u8],
        unix: u64,
    ) -> Result<(IntegrityKey, u64), AuthFailure> {
        let k = self
            .auth
            .oauth_keys
            .iter()
            .find(|k| k.kid == kid)
            .ok_or(AuthFailure::BadToken)?;
        let aad = k.server_name.as_deref().unwrap_or(&self.realm);
        let block =
            decrypt_token(&k.key, k.algorithm, aad, token).map_err(|_| AuthFailure::BadToken)?;
        if block.mac_key.is_empty() {
            return Err(AuthFailure::BadToken);
        }
        if !block.is_valid_at(unix) {
            return Err(AuthFailure::Expired);
        }
        let end = (block.timestamp >> 16).saturating_add(u64::from(block.lifetime));
        Ok((IntegrityKey::from_bytes(&block.mac_key), end))
    }

    /// TURN REST: a username `<expiry>:<user>` whose password is the HMAC of a current
    /// secret. Every secret in force is tried, for rotations. `Ok(None)` when the name is not
    /// of that form or no secret is configured.
    fn rest(
        &self,
        username: &str,
        unix: u64,
        algorithm: PasswordAlgorithm,
        verify: &dyn Fn(IntegrityKey, Option<u64>) -> Option<Identity>,
    ) -> Result<Option<Identity>, AuthFailure> {
        if self.auth.rest_secrets.is_empty() {
            return Ok(None);
        }
        let Some(expiry) = username
            .split(':')
            .next()
            .and_then(|e| e.parse::<u64>().ok())
        else {
            return Ok(None);
        };
        if expiry < unix {
            return Err(AuthFailure::Expired);
        }
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
            .map(Some)
            .ok_or(AuthFailure::WrongPassword)
    }
}
