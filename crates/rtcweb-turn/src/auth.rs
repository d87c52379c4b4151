//! Long-term authentication state of a client: what the server's 401 taught us (realm, nonce,
//! password algorithms), the integrity key derived from it, and the attributes every
//! authenticated request carries (RFC 8489 section 9.2, RFC 7635 for OAuth).

use rtcweb_core::Rng;
use rtcweb_stun::{
    Attribute, AttributeType, IntegrityKey, Message, MessageBuilder, PasswordAlgorithm,
};

use crate::credentials::Credentials;
use crate::oauth::{NONCE_LEN, encrypt_token};
use crate::types::Failure;

#[derive(Debug)]
pub(crate) struct Auth {
    credentials: Credentials,
    realm: Option<String>,
    nonce: Option<String>,
    key: Option<IntegrityKey>,
    /// PASSWORD-ALGORITHMS as the server sent it, echoed back (RFC 8489 section 9.2.4).
    algorithms: Option<Vec<u8>>,
    algorithm: PasswordAlgorithm,
    token: Option<Vec<u8>>,
}

fn text(msg: &Message<&[u8]>, typ: AttributeType) -> Option<String> {
    match msg.attribute(typ)? {
        Ok(Attribute::Realm(s)) | Ok(Attribute::Nonce(s)) => Some(s.to_string()),
        _ => None,
    }
}

impl Auth {
    pub(crate) fn new(credentials: Credentials) -> Self {
        Auth {
            credentials,
            realm: None,
            nonce: None,
            key: None,
            algorithms: None,
            algorithm: PasswordAlgorithm::Md5,
            token: None,
        }
    }

    pub(crate) fn key(&self) -> Option<&IntegrityKey> {
        self.key.as_ref()
    }

    /// The realm learned from the server.
    pub(crate) fn realm(&self) -> Option<&str> {
        self.realm.as_deref()
    }

    /// Forgets everything learned from a server (after a redirection).
    pub(crate) fn reset(&mut self) {
        *self = Auth::new(self.credentials.clone());
    }

    /// Takes a 401 answer. `sent_credentials` tells whether the request carried them: then a
    /// 401 with the same realm and nonce means the credentials are wrong.
    pub(crate) fn challenge(
        &mut self,
        msg: &Message<&[u8]>,
        sent_credentials: bool,
        rng: &mut Rng,
    ) -> Result<(), Failure> {
        let realm = text(msg, AttributeType::REALM).ok_or(Failure::MalformedResponse)?;
        let nonce = text(msg, AttributeType::NONCE).ok_or(Failure::MalformedResponse)?;
        if sent_credentials
            && self.realm.as_deref() == Some(realm.as_str())
            && self.nonce.as_deref() == Some(nonce.as_str())
        {
            return Err(Failure::Unauthorized);
        }
        self.algorithms = None;
        self.algorithm = PasswordAlgorithm::Md5;
        if let Some(list) = msg.attribute(AttributeType::PASSWORD_ALGORITHMS) {
            let Ok(Attribute::PasswordAlgorithms(list)) = list else {
                return Err(Failure::MalformedResponse);
            };
            let codes: Vec<u16> = list.iter().map(|a| a.algorithm).collect();
            self.algorithm = if codes.contains(&PasswordAlgorithm::Sha256.code()) {
                PasswordAlgorithm::Sha256
            } else if codes.contains(&PasswordAlgorithm::Md5.code()) {
                PasswordAlgorithm::Md5
            } else {
                return Err(Failure::MalformedResponse);
            };
            self.algorithms = Some(list.as_bytes().to_vec());
        }
        if self.realm.as_deref() != Some(realm.as_str()) || self.key.is_none() {
            self.derive_key(&realm, rng)?;
        }
        self.realm = Some(realm);
        self.nonce = Some(nonce);
        Ok(())
    }

    fn derive_key(&mut self, realm: &str, rng: &mut Rng) -> Result<(), Failure> {
        match &self.credentials {
            Credentials::LongTerm { username, password } => {
                self.key = Some(
                    IntegrityKey::long_term(username, realm, password, self.algorithm)
                        .map_err(|_| Failure::BadCredentials)?,
                );
            }
            Credentials::OAuth {
                session_key, token, ..
            } => {
                self.key = Some(IntegrityKey::from_bytes(session_key));
                self.token = Some(token.clone());
            }
            Credentials::OAuthSelfIssued {
                as_rs_key,
                algorithm,
                server_name,
                ..
            } => {
                let block = self
                    .credentials
                    .token_block()
                    .ok_or(Failure::BadCredentials)?;
                let mut nonce = [0u8; NONCE_LEN];
                rng.fill(&mut nonce);
                let aad = server_name.as_deref().unwrap_or(realm);
                let token = encrypt_token(as_rs_key, *algorithm, aad, nonce, &block)
                    .map_err(|_| Failure::BadCredentials)?;
                self.key = Some(IntegrityKey::from_bytes(&block.mac_key));
                self.token = Some(token);
            }
        }
        Ok(())
    }

    /// Takes a 438 answer: a fresh nonce (and possibly realm) to retry with.
    pub(crate) fn stale_nonce(
        &mut self,
        msg: &Message<&[u8]>,
        rng: &mut Rng,
    ) -> Result<(), Failure> {
        let nonce = text(msg, AttributeType::NONCE).ok_or(Failure::MalformedResponse)?;
        if let Some(realm) = text(msg, AttributeType::REALM) {
            if self.realm.as_deref() != Some(realm.as_str()) || self.key.is_none() {
                self.derive_key(&realm, rng)?;
            }
            self.realm = Some(realm);
        }
        if self.key.is_none() {
            return Err(Failure::MalformedResponse);
        }
        self.nonce = Some(nonce);
        Ok(())
    }

    /// Appends USERNAME, REALM, NONCE, ACCESS-TOKEN and PASSWORD-ALGORITHM(S) as applicable,
    /// then MESSAGE-INTEGRITY. Does nothing before the first challenge.
    pub(crate) fn write(&self, b: &mut MessageBuilder<'_>) -> rtcweb_stun::Result<bool> {
        let (Some(key), Some(realm), Some(nonce)) = (&self.key, &self.realm, &self.nonce) else {
            return Ok(false);
        };
        b.attribute(&Attribute::Username(self.credentials.username()))?;
        b.attribute(&Attribute::Realm(realm))?;
        b.attribute(&Attribute::Nonce(nonce))?;
        if let Some(token) = &self.token {
            b.attribute(&Attribute::AccessToken(token))?;
        }
        if let Some(list) = &self.algorithms {
            b.raw_attribute(AttributeType::PASSWORD_ALGORITHMS, list)?;
            b.attribute(&Attribute::PasswordAlgorithm(
                rtcweb_stun::attributes::RawPasswordAlgorithm {
                    algorithm: self.algorithm.code(),
                    params: &[],
                },
            ))?;
        }
        b.message_integrity(key)?;
        Ok(true)
    }
}
