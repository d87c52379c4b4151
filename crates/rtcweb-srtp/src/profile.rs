//! DTLS-SRTP protection profiles (RFC 5764 section 4.1.2, RFC 7714 section 14.2).

use crate::Error;

/// An SRTP protection profile as negotiated by the DTLS `use_srtp` extension.
///
/// ```
/// use rtcweb_srtp::ProtectionProfile;
/// let p = ProtectionProfile::from_id(0x0007).unwrap();
/// assert_eq!(p, ProtectionProfile::AeadAes128Gcm);
/// assert_eq!((p.master_key_len(), p.master_salt_len(), p.rtp_tag_len()), (16, 12, 16));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ProtectionProfile {
    /// `SRTP_AES128_CM_HMAC_SHA1_80` (0x0001): AES-128 counter mode, 80-bit HMAC-SHA1 tag.
    Aes128CmHmacSha1_80,
    /// `SRTP_AES128_CM_HMAC_SHA1_32` (0x0002): as above with a 32-bit tag on SRTP; SRTCP keeps
    /// the 80-bit tag (RFC 5764 section 4.1.2).
    Aes128CmHmacSha1_32,
    /// `SRTP_AEAD_AES_128_GCM` (0x0007): AES-128-GCM with a 16-octet tag (RFC 7714).
    AeadAes128Gcm,
    /// `SRTP_AEAD_AES_256_GCM` (0x0008): AES-256-GCM with a 16-octet tag (RFC 7714).
    AeadAes256Gcm,
}

impl ProtectionProfile {
    /// Every profile this crate implements, in the order we prefer to negotiate them.
    pub const ALL: [ProtectionProfile; 4] = [
        ProtectionProfile::AeadAes128Gcm,
        ProtectionProfile::AeadAes256Gcm,
        ProtectionProfile::Aes128CmHmacSha1_80,
        ProtectionProfile::Aes128CmHmacSha1_32,
    ];

    /// The profile for a DTLS-SRTP `SRTPProtectionProfile` value.
    pub fn from_id(id: u16) -> Result<Self, Error> {
        match id {
            0x0001 => Ok(Self::Aes128CmHmacSha1_80),
            0x0002 => Ok(Self::Aes128CmHmacSha1_32),
            0x0007 => Ok(Self::AeadAes128Gcm),
            0x0008 => Ok(Self::AeadAes256Gcm),
            other => Err(Error::UnsupportedProfile(other)),
        }
    }

    /// The DTLS-SRTP `SRTPProtectionProfile` value.
    pub fn id(self) -> u16 {
        match self {
            Self::Aes128CmHmacSha1_80 => 0x0001,
            Self::Aes128CmHmacSha1_32 => 0x0002,
            Self::AeadAes128Gcm => 0x0007,
            Self::AeadAes256Gcm => 0x0008,
        }
    }

    /// The profile's name in the IANA registry.
    pub fn name(self) -> &'static str {
        match self {
            Self::Aes128CmHmacSha1_80 => "SRTP_AES128_CM_HMAC_SHA1_80",
            Self::Aes128CmHmacSha1_32 => "SRTP_AES128_CM_HMAC_SHA1_32",
            Self::AeadAes128Gcm => "SRTP_AEAD_AES_128_GCM",
            Self::AeadAes256Gcm => "SRTP_AEAD_AES_256_GCM",
        }
    }

    /// Whether the profile is an AEAD (GCM) profile of RFC 7714.
    pub fn is_aead(self) -> bool {
        matches!(self, Self::AeadAes128Gcm | Self::AeadAes256Gcm)
    }

    /// Master (and session) cipher key length in octets.
    pub fn master_key_len(self) -> usize {
        match self {
            Self::AeadAes256Gcm => 32,
            _ => 16,
        }
    }

    /// Master (and session) salt length in octets: 14 for AES-CM, 12 for GCM.
    pub fn master_salt_len(self) -> usize {
        if self.is_aead() { 12 } else { 14 }
    }

    /// Session authentication key length in octets (HMAC-SHA1: 20; GCM: none).
    pub fn auth_key_len(self) -> usize {
        if self.is_aead() { 0 } else { 20 }
    }

    /// Authentication tag length appended to SRTP packets.
    pub fn rtp_tag_len(self) -> usize {
        match self {
            Self::Aes128CmHmacSha1_80 => 10,
            Self::Aes128CmHmacSha1_32 => 4,
            Self::AeadAes128Gcm | Self::AeadAes256Gcm => 16,
        }
    }

    /// Authentication tag length appended to SRTCP packets (before or after the SRTCP index).
    pub fn rtcp_tag_len(self) -> usize {
        if self.is_aead() { 16 } else { 10 }
    }

    /// Octets `protect_rtp` appends: the tail room a caller's buffer needs.
    pub fn rtp_overhead(self) -> usize {
        self.rtp_tag_len()
    }

    /// Octets `protect_rtcp` appends: tag plus the 4-octet E flag and SRTCP index.
    pub fn rtcp_overhead(self) -> usize {
        self.rtcp_tag_len() + 4
    }

    /// Length of DTLS exporter output this profile needs (RFC 5764 section 4.2):
    /// two master keys and two master salts.
    pub fn keying_material_len(self) -> usize {
        2 * (self.master_key_len() + self.master_salt_len())
    }
}

impl core::fmt::Display for ProtectionProfile {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.name())
    }
}
