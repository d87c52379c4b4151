//! Computing and checking certificate fingerprints (RFC 8122 section 5). The value type,
//! [`Fingerprint`], is `rtcweb-core`'s, shared with JSEP; what needs a hash implementation is
//! here.
//!
//! ```
//! use rtcweb_dtls::{Fingerprint, HashFunction, fingerprint_of, verify_certificate};
//!
//! let der = b"a DER certificate";
//! let fp = fingerprint_of(HashFunction::Sha256, der);
//! let from_sdp: Fingerprint = fp.to_string().parse()?;
//! assert_eq!(verify_certificate(&[from_sdp], der), Ok(()));
//! # Ok::<(), rtcweb_core::Error>(())
//! ```

use aws_lc_rs::digest;

use crate::Error;
use rtcweb_core::{Fingerprint, HashFunction};

fn algorithm(hash: HashFunction) -> &'static digest::Algorithm {
    match hash {
        HashFunction::Sha1 => &digest::SHA1_FOR_LEGACY_USE_ONLY,
        HashFunction::Sha224 => &digest::SHA224,
        HashFunction::Sha256 => &digest::SHA256,
        HashFunction::Sha384 => &digest::SHA384,
        HashFunction::Sha512 => &digest::SHA512,
    }
}

/// The fingerprint of a DER-encoded certificate with `hash`.
pub fn fingerprint_of(hash: HashFunction, certificate_der: &[u8]) -> Fingerprint {
    let value = digest::digest(algorithm(hash), certificate_der)
        .as_ref()
        .to_vec();
    Fingerprint::new(hash, value).expect("a digest is as long as its hash function's output")
}

/// Whether `fingerprint` is the digest of `certificate_der`.
fn matches(fingerprint: &Fingerprint, certificate_der: &[u8]) -> bool {
    let digest = digest::digest(algorithm(fingerprint.hash_function()), certificate_der);
    // Both sides are public (the SDP and the certificate travel in the clear), so a plain
    // comparison leaks nothing.
    digest.as_ref() == fingerprint.value()
}

/// Checks a peer certificate against the fingerprints of its SDP (RFC 8122 section 5).
///
/// With several fingerprints, the set that uses the strongest hash function present must
/// contain a match; weaker ones are ignored so that a peer cannot be held to sha-1 when it also
/// offered sha-256.
pub fn verify_certificate(
    fingerprints: &[Fingerprint],
    certificate_der: &[u8],
) -> Result<(), Error> {
    let strongest = fingerprints
        .iter()
        .map(Fingerprint::hash_function)
        .max()
        .ok_or(Error::NoRemoteFingerprint)?;
    let matched = fingerprints
        .iter()
        .filter(|fp| fp.hash_function() == strongest)
        .any(|fp| matches(fp, certificate_der));
    if matched {
        Ok(())
    } else {
        Err(Error::FingerprintMismatch)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DER: &[u8] = b"not really a certificate, but any bytes hash the same way";

    #[test]
    fn sdp_format_round_trips() {
        for hash in [
            HashFunction::Sha1,
            HashFunction::Sha224,
            HashFunction::Sha256,
            HashFunction::Sha384,
            HashFunction::Sha512,
        ] {
            let fp = fingerprint_of(hash, DER);
            let text = fp.to_string();
            assert!(text.starts_with(hash.name()));
            assert_eq!(
                text.len(),
                hash.name().len() + 1 + hash.output_len() * 3 - 1
            );
            let parsed: Fingerprint = text.parse().unwrap();
            assert_eq!(parsed, fp);
            assert!(matches(&parsed, DER));
            // Browsers differ in case; both parse.
            let lower: Fingerprint = text.to_ascii_lowercase().parse().unwrap();
            assert_eq!(lower, fp);
            let upper: Fingerprint = text.to_ascii_uppercase().parse().unwrap();
            assert_eq!(upper, fp);
        }
    }

    #[test]
    fn known_sha256_value() {
        // SHA-256("abc") from FIPS 180-2, appendix B.1.
        let fp = fingerprint_of(HashFunction::Sha256, b"abc");
        assert_eq!(
            fp.to_string(),
            "sha-256 BA:78:16:BF:8F:01:CF:EA:41:41:40:DE:5D:AE:22:23:\
             B0:03:61:A3:96:17:7A:9C:B4:10:FF:61:F2:00:15:AD"
        );
    }

    #[test]
    fn rejects_malformed() {
        let good = fingerprint_of(HashFunction::Sha256, DER).to_string();
        let cases = [
            String::new(),
            "sha-256".to_owned(),
            good.replace(':', ""),
            good[..good.len() - 3].to_owned(),
            format!("{good}:00"),
            good.replacen("sha-256", "sha-1", 1),
            good.replacen(':', "::", 1),
            good.replacen('A', "G", 1),
            format!("{good}0"),
            "sha-256 é:é".to_owned(),
        ];
        for case in cases {
            assert!(case.parse::<Fingerprint>().is_err(), "{case:?} parsed");
        }
        assert!(matches!(
            "md5 00:11".parse::<Fingerprint>(),
            Err(rtcweb_core::Error::UnsupportedHashFunction(n)) if n == "md5"
        ));
    }

    #[test]
    fn verify_uses_the_strongest_hash_set() {
        let sha1 = fingerprint_of(HashFunction::Sha1, DER);
        let sha256 = fingerprint_of(HashFunction::Sha256, DER);
        let other256 = fingerprint_of(HashFunction::Sha256, b"other");
        let sha512 = fingerprint_of(HashFunction::Sha512, DER);
        assert_eq!(
            verify_certificate(std::slice::from_ref(&sha256), DER),
            Ok(())
        );
        assert_eq!(verify_certificate(std::slice::from_ref(&sha1), DER), Ok(()));
        assert_eq!(verify_certificate(&[sha512], DER), Ok(()));
        // One match among several of the same (strongest) hash is enough.
        assert_eq!(verify_certificate(&[other256.clone(), sha256], DER), Ok(()));
        // A matching weaker hash does not rescue a mismatching stronger one.
        assert_eq!(
            verify_certificate(&[sha1, other256.clone()], DER),
            Err(Error::FingerprintMismatch)
        );
        assert_eq!(
            verify_certificate(&[other256], DER),
            Err(Error::FingerprintMismatch)
        );
        assert_eq!(
            verify_certificate(&[], DER),
            Err(Error::NoRemoteFingerprint)
        );
    }
}
