//! The endpoint's own certificate: self-signed ECDSA P-256, as every browser accepts.

use std::fmt;
use std::sync::Arc;
use std::time::SystemTime;

use aws_lc_rs::agreement;
use aws_lc_rs::signature::{ECDSA_P256_SHA256_ASN1_SIGNING, EcdsaKeyPair};
use rcgen::{CertificateParams, DistinguishedName, DnType, IsCa, KeyPair, PKCS_ECDSA_P256_SHA256};

use crate::{Error, Fingerprint, HashFunction, fingerprint_of};

/// A self-signed ECDSA P-256 certificate and its private key.
///
/// Generate one per peer (or per application) and reuse it for every connection: cloning is
/// cheap (shared). Its SHA-256 [`fingerprint`](Self::fingerprint) goes into the SDP.
///
/// ```
/// use std::time::{Duration, SystemTime};
/// use rtcweb_dtls::Certificate;
///
/// // Production code takes these from the OS random source; tests may fix them.
/// let (secret, serial) = ([7u8; 32], [9u8; 16]);
/// let not_before = SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000);
/// let cert = Certificate::generate(&secret, &serial, not_before, Certificate::DEFAULT_LIFETIME)?;
/// let line = format!("a=fingerprint:{}", cert.fingerprint());
/// assert!(line.starts_with("a=fingerprint:sha-256 "));
/// # Ok::<(), rtcweb_dtls::Error>(())
/// ```
#[derive(Clone)]
pub struct Certificate {
    inner: Arc<Inner>,
}

struct Inner {
    der: Vec<u8>,
    private_key_pkcs8: Vec<u8>,
    fingerprint: Fingerprint,
}

impl Certificate {
    /// 30 days, the default lifetime of a browser's `RTCCertificate`.
    pub const DEFAULT_LIFETIME: std::time::Duration = std::time::Duration::from_secs(30 * 86_400);

    /// Generates a certificate from caller-supplied randomness (this crate never reads the OS
    /// random source or the clock itself).
    ///
    /// - `secret_key`: 32 uniformly random bytes, the P-256 private scalar. The one in 2^32
    ///   chance of a value outside the curve order is reported as an error; draw again.
    /// - `serial`: 16 random bytes for the serial number. Firefox refuses a peer certificate
    ///   whose issuer and serial it has seen with a different key, so the serial must be random,
    ///   not a counter. The top bit is cleared to keep the DER INTEGER positive and short.
    /// - `not_before` and `lifetime`: validity. WebRTC peers check the fingerprint, not the
    ///   dates, but a sane window avoids surprises with stricter stacks.
    pub fn generate(
        secret_key: &[u8; 32],
        serial: &[u8; 16],
        not_before: SystemTime,
        lifetime: std::time::Duration,
    ) -> Result<Self, Error> {
        let cert_err = |what: &str| Error::Certificate(what.to_owned());
        // The public point is needed to build the key pair from a raw scalar; ECDH on the same
        // curve computes it.
        let private = agreement::PrivateKey::from_private_key(&agreement::ECDH_P256, secret_key)
            .map_err(|_| cert_err("secret key is not a valid P-256 scalar"))?;
        let public = private
            .compute_public_key()
            .map_err(|_| cert_err("cannot compute the public key"))?;
        let ecdsa = EcdsaKeyPair::from_private_key_and_public_key(
            &ECDSA_P256_SHA256_ASN1_SIGNING,
            secret_key,
            public.as_ref(),
        )
        .map_err(|_| cert_err("cannot build the ECDSA key pair"))?;
        let pkcs8 = ecdsa
            .to_pkcs8v1()
            .map_err(|_| cert_err("cannot encode the private key"))?;
        let key_pair =
            KeyPair::from_pkcs8_der_and_sign_algo(&pkcs8.as_ref().into(), &PKCS_ECDSA_P256_SHA256)
                .map_err(|e| Error::Certificate(e.to_string()))?;

        let mut params = CertificateParams::default();
        let mut name = DistinguishedName::new();
        name.push(DnType::CommonName, "rtcweb");
        params.distinguished_name = name;
        params.is_ca = IsCa::NoCa;
        let mut serial = *serial;
        serial[0] &= 0x7f;
        if serial.iter().all(|&b| b == 0) {
            // RFC 5280 section 4.1.2.2 wants a positive serial.
            serial[15] = 1;
        }
        params.serial_number = Some(serial.to_vec().into());
        let not_before = time::OffsetDateTime::from(not_before);
        params.not_before = not_before;
        params.not_after = not_before
            .checked_add(time::Duration::try_from(lifetime).map_err(|_| cert_err("lifetime"))?)
            .ok_or_else(|| cert_err("lifetime overflows"))?;

        let cert = params
            .self_signed(&key_pair)
            .map_err(|e| Error::Certificate(e.to_string()))?;
        Ok(Self::from_parts(
            cert.der().to_vec(),
            key_pair.serialize_der(),
        ))
    }

    /// Loads a certificate saved earlier: DER certificate and PKCS#8 DER private key (as
    /// [`der`](Self::der) and [`private_key_der`](Self::private_key_der) return them).
    ///
    /// The key must be ECDSA P-256 or P-384 and belong to the certificate; a mismatch shows as
    /// a failed handshake, since only the DTLS engine parses the certificate.
    pub fn from_der(
        certificate_der: Vec<u8>,
        private_key_pkcs8_der: Vec<u8>,
    ) -> Result<Self, Error> {
        KeyPair::try_from(private_key_pkcs8_der.as_slice())
            .map_err(|e| Error::Certificate(format!("private key: {e}")))?;
        Ok(Self::from_parts(certificate_der, private_key_pkcs8_der))
    }

    fn from_parts(der: Vec<u8>, private_key_pkcs8: Vec<u8>) -> Self {
        let fingerprint = fingerprint_of(HashFunction::Sha256, &der);
        Certificate {
            inner: Arc::new(Inner {
                der,
                private_key_pkcs8,
                fingerprint,
            }),
        }
    }

    /// The DER-encoded certificate.
    pub fn der(&self) -> &[u8] {
        &self.inner.der
    }

    /// The PKCS#8 DER private key. Secret: store it like a password.
    pub fn private_key_der(&self) -> &[u8] {
        &self.inner.private_key_pkcs8
    }

    /// The SHA-256 fingerprint, formatted by `Display` as SDP wants it
    /// (`sha-256 AB:CD:...`).
    pub fn fingerprint(&self) -> &Fingerprint {
        &self.inner.fingerprint
    }
}

impl fmt::Debug for Certificate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Certificate")
            .field("fingerprint", &self.inner.fingerprint)
            .finish()
    }
}
