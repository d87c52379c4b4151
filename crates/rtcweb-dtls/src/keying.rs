//! SRTP keying material exported by the handshake (RFC 5764 section 4.2), as plain data for the
//! SRTP layer.

use std::fmt;

use crate::{Error, Role};

/// An SRTP protection profile of the DTLS `use_srtp` extension (RFC 5764 section 4.1.2,
/// RFC 7714 section 14.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SrtpProfile {
    /// `SRTP_AES128_CM_HMAC_SHA1_80` (0x0001).
    Aes128CmHmacSha1_80,
    /// `SRTP_AES128_CM_HMAC_SHA1_32` (0x0002). The dimpl engine never negotiates it; listed so
    /// the SRTP layer and a future engine share one vocabulary.
    Aes128CmHmacSha1_32,
    /// `SRTP_AEAD_AES_128_GCM` (0x0007).
    AeadAes128Gcm,
    /// `SRTP_AEAD_AES_256_GCM` (0x0008).
    AeadAes256Gcm,
}

impl SrtpProfile {
    /// The profile's two-byte identifier in `use_srtp`.
    pub fn id(self) -> u16 {
        match self {
            SrtpProfile::Aes128CmHmacSha1_80 => 0x0001,
            SrtpProfile::Aes128CmHmacSha1_32 => 0x0002,
            SrtpProfile::AeadAes128Gcm => 0x0007,
            SrtpProfile::AeadAes256Gcm => 0x0008,
        }
    }

    /// The profile for an identifier, if it is one of these four.
    pub fn from_id(id: u16) -> Option<Self> {
        match id {
            0x0001 => Some(SrtpProfile::Aes128CmHmacSha1_80),
            0x0002 => Some(SrtpProfile::Aes128CmHmacSha1_32),
            0x0007 => Some(SrtpProfile::AeadAes128Gcm),
            0x0008 => Some(SrtpProfile::AeadAes256Gcm),
            _ => None,
        }
    }

    /// SRTP master key length in bytes.
    pub fn master_key_len(self) -> usize {
        match self {
            SrtpProfile::AeadAes256Gcm => 32,
            _ => 16,
        }
    }

    /// SRTP master salt length in bytes (112 bits for AES-CM, 96 bits for GCM, RFC 7714
    /// section 12).
    pub fn master_salt_len(self) -> usize {
        match self {
            SrtpProfile::Aes128CmHmacSha1_80 | SrtpProfile::Aes128CmHmacSha1_32 => 14,
            SrtpProfile::AeadAes128Gcm | SrtpProfile::AeadAes256Gcm => 12,
        }
    }

    /// Bytes to export with the `EXTRACTOR-dtls_srtp` label: two keys and two salts.
    pub fn keying_material_len(self) -> usize {
        2 * (self.master_key_len() + self.master_salt_len())
    }

    /// The name used in RFC 5764 and the IANA registry.
    pub fn name(self) -> &'static str {
        match self {
            SrtpProfile::Aes128CmHmacSha1_80 => "SRTP_AES128_CM_HMAC_SHA1_80",
            SrtpProfile::Aes128CmHmacSha1_32 => "SRTP_AES128_CM_HMAC_SHA1_32",
            SrtpProfile::AeadAes128Gcm => "SRTP_AEAD_AES_128_GCM",
            SrtpProfile::AeadAes256Gcm => "SRTP_AEAD_AES_256_GCM",
        }
    }
}

impl fmt::Display for SrtpProfile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One direction's SRTP master key and master salt.
#[derive(Clone, PartialEq, Eq)]
pub struct SrtpMasterKey {
    /// Master key (16 or 32 bytes).
    pub key: Vec<u8>,
    /// Master salt (14 or 12 bytes).
    pub salt: Vec<u8>,
}

impl fmt::Debug for SrtpMasterKey {
    /// Keys stay out of logs.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SrtpMasterKey")
            .field("key", &format_args!("[{} bytes]", self.key.len()))
            .field("salt", &format_args!("[{} bytes]", self.salt.len()))
            .finish()
    }
}

/// What the SRTP layer needs from DTLS: the negotiated profile and a master key and salt per
/// direction.
///
/// `local` protects what this endpoint sends, `remote` unprotects what it receives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SrtpKeyingMaterial {
    /// The `use_srtp` profile both sides agreed on.
    pub profile: SrtpProfile,
    /// Key and salt for packets this endpoint sends.
    pub local: SrtpMasterKey,
    /// Key and salt for packets this endpoint receives.
    pub remote: SrtpMasterKey,
}

impl SrtpKeyingMaterial {
    /// Splits exported keying material per RFC 5764 section 4.2:
    ///
    /// ```text
    /// client_write_SRTP_master_key[key_len]
    /// server_write_SRTP_master_key[key_len]
    /// client_write_SRTP_master_salt[salt_len]
    /// server_write_SRTP_master_salt[salt_len]
    /// ```
    ///
    /// and assigns the client's halves to `local` when `role` is [`Role::Client`].
    pub fn from_exported(profile: SrtpProfile, role: Role, exported: &[u8]) -> Result<Self, Error> {
        let (k, s) = (profile.master_key_len(), profile.master_salt_len());
        let expected = profile.keying_material_len();
        let (Some(client_key), Some(server_key), Some(client_salt), Some(server_salt)) = (
            exported.get(..k),
            exported.get(k..2 * k),
            exported.get(2 * k..2 * k + s),
            exported.get(2 * k + s..2 * k + 2 * s),
        ) else {
            return Err(Error::KeyingMaterialLength {
                expected,
                got: exported.len(),
            });
        };
        if exported.len() != expected {
            return Err(Error::KeyingMaterialLength {
                expected,
                got: exported.len(),
            });
        }
        let client = SrtpMasterKey {
            key: client_key.to_vec(),
            salt: client_salt.to_vec(),
        };
        let server = SrtpMasterKey {
            key: server_key.to_vec(),
            salt: server_salt.to_vec(),
        };
        let (local, remote) = match role {
            Role::Client => (client, server),
            Role::Server => (server, client),
        };
        Ok(SrtpKeyingMaterial {
            profile,
            local,
            remote,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lengths_per_profile() {
        // RFC 5764 section 4.1.2 and RFC 7714 section 12.
        let table = [
            (SrtpProfile::Aes128CmHmacSha1_80, 1, 16, 14, 60),
            (SrtpProfile::Aes128CmHmacSha1_32, 2, 16, 14, 60),
            (SrtpProfile::AeadAes128Gcm, 7, 16, 12, 56),
            (SrtpProfile::AeadAes256Gcm, 8, 32, 12, 88),
        ];
        for (p, id, key, salt, total) in table {
            assert_eq!(p.id(), id);
            assert_eq!(SrtpProfile::from_id(id), Some(p));
            assert_eq!((p.master_key_len(), p.master_salt_len()), (key, salt));
            assert_eq!(p.keying_material_len(), total);
        }
        assert_eq!(SrtpProfile::from_id(3), None);
    }

    #[test]
    fn split_follows_rfc5764_order() {
        let p = SrtpProfile::AeadAes128Gcm;
        let exported: Vec<u8> = (0..56).collect();
        let client = SrtpKeyingMaterial::from_exported(p, Role::Client, &exported).unwrap();
        let server = SrtpKeyingMaterial::from_exported(p, Role::Server, &exported).unwrap();
        assert_eq!(client.local.key, (0..16).collect::<Vec<u8>>());
        assert_eq!(client.remote.key, (16..32).collect::<Vec<u8>>());
        assert_eq!(client.local.salt, (32..44).collect::<Vec<u8>>());
        assert_eq!(client.remote.salt, (44..56).collect::<Vec<u8>>());
        assert_eq!(client.local, server.remote);
        assert_eq!(client.remote, server.local);
        assert!(
            !format!("{client:?}").contains("16, 17"),
            "keys must not be printed"
        );
    }

    #[test]
    fn wrong_length_is_an_error() {
        let p = SrtpProfile::Aes128CmHmacSha1_80;
        for len in [0, 59, 61] {
            assert_eq!(
                SrtpKeyingMaterial::from_exported(p, Role::Client, &vec![0; len]),
                Err(Error::KeyingMaterialLength {
                    expected: 60,
                    got: len
                })
            );
        }
    }
}
