//! Master keys (what DTLS-SRTP exports) and the session keys derived from them.

use zeroize::Zeroize;

use crate::kdf::{self, Label};
use crate::{Error, ProtectionProfile};

/// One side's master key and master salt (RFC 3711 section 3.2.1).
///
/// Key and salt are wiped from memory on drop.
#[derive(Clone)]
pub struct MasterKey {
    key: [u8; 32],
    key_len: u8,
    salt: [u8; 14],
    salt_len: u8,
}

impl MasterKey {
    /// A master key and salt of the lengths `profile` requires.
    pub fn new(profile: ProtectionProfile, key: &[u8], salt: &[u8]) -> Result<Self, Error> {
        check_len(profile.master_key_len(), key.len())?;
        check_len(profile.master_salt_len(), salt.len())?;
        let mut out = Self {
            key: [0; 32],
            key_len: key.len() as u8,
            salt: [0; 14],
            salt_len: 0,
        };
        out.key[..key.len()].copy_from_slice(key);
        out.salt[..salt.len()].copy_from_slice(salt);
        out.salt_len = salt.len() as u8;
        Ok(out)
    }

    /// Splits DTLS-SRTP exporter output (label "EXTRACTOR-dtls_srtp", RFC 5764 section 4.2)
    /// into `(local, remote)` master keys. The material is laid out as
    /// `client_write_key || server_write_key || client_write_salt || server_write_salt`; the
    /// DTLS client sends with the client keys.
    pub fn pair_from_dtls_export(
        profile: ProtectionProfile,
        material: &[u8],
        is_dtls_client: bool,
    ) -> Result<(Self, Self), Error> {
        check_len(profile.keying_material_len(), material.len())?;
        let (k, s) = (profile.master_key_len(), profile.master_salt_len());
        let client = Self::new(profile, &material[..k], &material[2 * k..2 * k + s])?;
        let server = Self::new(profile, &material[k..2 * k], &material[2 * k + s..])?;
        Ok(if is_dtls_client {
            (client, server)
        } else {
            (server, client)
        })
    }

    /// The master key.
    pub fn key(&self) -> &[u8] {
        &self.key[..usize::from(self.key_len)]
    }

    /// The master salt.
    pub fn salt(&self) -> &[u8] {
        &self.salt[..usize::from(self.salt_len)]
    }
}

impl Drop for MasterKey {
    fn drop(&mut self) {
        self.key.zeroize();
        self.salt.zeroize();
    }
}

impl core::fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("MasterKey").finish_non_exhaustive()
    }
}

/// Which of the two key sets of a direction: SRTP (labels 0-2) or SRTCP (labels 3-5).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyKind {
    /// Keys protecting RTP.
    Srtp,
    /// Keys protecting RTCP.
    Srtcp,
}

/// The session encryption key, salting key and authentication key of one direction and one
/// protocol (RFC 3711 section 4.3).
///
/// Wiped from memory on drop.
#[derive(Clone)]
pub struct SessionKeys {
    cipher_key: [u8; 32],
    key_len: u8,
    salt: [u8; 14],
    salt_len: u8,
    auth_key: [u8; 20],
    auth_len: u8,
}

impl SessionKeys {
    /// Derives session keys from a master key with the RFC 3711 KDF (kdr = 0).
    pub fn derive(
        profile: ProtectionProfile,
        master: &MasterKey,
        kind: KeyKind,
    ) -> Result<Self, Error> {
        let (enc, auth, salt) = match kind {
            KeyKind::Srtp => (
                Label::SrtpEncryption,
                Label::SrtpAuthentication,
                Label::SrtpSalt,
            ),
            KeyKind::Srtcp => (
                Label::SrtcpEncryption,
                Label::SrtcpAuthentication,
                Label::SrtcpSalt,
            ),
        };
        check_len(profile.master_key_len(), master.key().len())?;
        check_len(profile.master_salt_len(), master.salt().len())?;
        let mut out = Self::empty(profile);
        let key_len = usize::from(out.key_len);
        let salt_len = usize::from(out.salt_len);
        let auth_len = usize::from(out.auth_len);
        kdf::derive(
            master.key(),
            master.salt(),
            enc,
            &mut out.cipher_key[..key_len],
        )?;
        kdf::derive(master.key(), master.salt(), salt, &mut out.salt[..salt_len])?;
        if auth_len > 0 {
            kdf::derive(
                master.key(),
                master.salt(),
                auth,
                &mut out.auth_key[..auth_len],
            )?;
        }
        Ok(out)
    }

    /// Session keys given directly (test vectors, or keys from elsewhere). `auth_key` must be
    /// empty for the GCM profiles and 20 octets for the HMAC-SHA1 profiles.
    pub fn from_raw(
        profile: ProtectionProfile,
        cipher_key: &[u8],
        salt: &[u8],
        auth_key: &[u8],
    ) -> Result<Self, Error> {
        let mut out = Self::empty(profile);
        check_len(usize::from(out.key_len), cipher_key.len())?;
        check_len(usize::from(out.salt_len), salt.len())?;
        check_len(usize::from(out.auth_len), auth_key.len())?;
        out.cipher_key[..cipher_key.len()].copy_from_slice(cipher_key);
        out.salt[..salt.len()].copy_from_slice(salt);
        out.auth_key[..auth_key.len()].copy_from_slice(auth_key);
        Ok(out)
    }

    fn empty(profile: ProtectionProfile) -> Self {
        Self {
            cipher_key: [0; 32],
            key_len: profile.master_key_len() as u8,
            salt: [0; 14],
            salt_len: profile.master_salt_len() as u8,
            auth_key: [0; 20],
            auth_len: profile.auth_key_len() as u8,
        }
    }

    /// The session encryption key.
    pub fn cipher_key(&self) -> &[u8] {
        &self.cipher_key[..usize::from(self.key_len)]
    }

    /// The session salting key.
    pub fn salt(&self) -> &[u8] {
        &self.salt[..usize::from(self.salt_len)]
    }

    /// The session authentication key (empty for GCM).
    pub fn auth_key(&self) -> &[u8] {
        &self.auth_key[..usize::from(self.auth_len)]
    }
}

impl Drop for SessionKeys {
    fn drop(&mut self) {
        self.cipher_key.zeroize();
        self.salt.zeroize();
        self.auth_key.zeroize();
    }
}

impl core::fmt::Debug for SessionKeys {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("SessionKeys").finish_non_exhaustive()
    }
}

/// The SRTP and SRTCP session keys of one direction.
#[derive(Clone, Debug)]
pub struct DirectionKeys {
    /// Keys for RTP packets.
    pub srtp: SessionKeys,
    /// Keys for RTCP packets.
    pub srtcp: SessionKeys,
}

impl DirectionKeys {
    /// Derives both key sets from a master key.
    pub fn derive(profile: ProtectionProfile, master: &MasterKey) -> Result<Self, Error> {
        Ok(Self {
            srtp: SessionKeys::derive(profile, master, KeyKind::Srtp)?,
            srtcp: SessionKeys::derive(profile, master, KeyKind::Srtcp)?,
        })
    }
}

fn check_len(expected: usize, got: usize) -> Result<(), Error> {
    if expected == got {
        Ok(())
    } else {
        Err(Error::KeyLength { expected, got })
    }
}
