//! Certificate fingerprints as SDP carries them in `a=fingerprint` (RFC 8122 section 5).
//!
//! ```
//! use rtcweb_dtls::{Fingerprint, HashFunction};
//!
//! let fp: Fingerprint = "sha-256 19:E2:1C:3B:4B:9F:81:E6:B8:5C:F4:A5:A8:D8:73:04:\
//!     BB:05:2F:70:9F:04:A9:0E:05:E9:26:33:E8:70:88:A2".parse()?;
//! assert_eq!(fp.hash_function(), HashFunction::Sha256);
//! assert_eq!(fp.value().len(), 32);
//! assert!(fp.to_string().starts_with("sha-256 19:E2:1C"));
//! # Ok::<(), rtcweb_dtls::Error>(())
//! ```

use std::fmt;
use std::str::FromStr;

use aws_lc_rs::digest;

use crate::Error;

/// A hash function of the RFC 8122 `hash-func` registry that we can compute.
///
/// `md5` and `md2` are registered too but are rejected as
/// [`Error::UnsupportedHashFunction`]: RFC 8122 forbids them for new fingerprints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum HashFunction {
    /// `sha-1` (20 bytes).
    Sha1,
    /// `sha-224` (28 bytes).
    Sha224,
    /// `sha-256` (32 bytes), what we put in our own SDP.
    Sha256,
    /// `sha-384` (48 bytes).
    Sha384,
    /// `sha-512` (64 bytes).
    Sha512,
}

impl HashFunction {
    /// The token SDP uses for this function (`sha-256`).
    pub fn name(self) -> &'static str {
        match self {
            HashFunction::Sha1 => "sha-1",
            HashFunction::Sha224 => "sha-224",
            HashFunction::Sha256 => "sha-256",
            HashFunction::Sha384 => "sha-384",
            HashFunction::Sha512 => "sha-512",
        }
    }

    /// Length of the digest in bytes.
    pub fn output_len(self) -> usize {
        self.algorithm().output_len()
    }

    fn algorithm(self) -> &'static digest::Algorithm {
        match self {
            HashFunction::Sha1 => &digest::SHA1_FOR_LEGACY_USE_ONLY,
            HashFunction::Sha224 => &digest::SHA224,
            HashFunction::Sha256 => &digest::SHA256,
            HashFunction::Sha384 => &digest::SHA384,
            HashFunction::Sha512 => &digest::SHA512,
        }
    }
}

impl fmt::Display for HashFunction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for HashFunction {
    type Err = Error;

    /// Hash function names are case-insensitive (RFC 8122 section 5, RFC 4572 section 5).
    fn from_str(s: &str) -> Result<Self, Error> {
        const ALL: [HashFunction; 5] = [
            HashFunction::Sha1,
            HashFunction::Sha224,
            HashFunction::Sha256,
            HashFunction::Sha384,
            HashFunction::Sha512,
        ];
        ALL.into_iter()
            .find(|h| h.name().eq_ignore_ascii_case(s))
            .ok_or_else(|| Error::UnsupportedHashFunction(s.to_owned()))
    }
}

/// One `a=fingerprint` value: a hash function and the digest of a DER certificate.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Fingerprint {
    hash: HashFunction,
    value: Vec<u8>,
}

impl Fingerprint {
    /// The fingerprint of a DER-encoded certificate.
    pub fn of_certificate(hash: HashFunction, certificate_der: &[u8]) -> Self {
        let value = digest::digest(hash.algorithm(), certificate_der)
            .as_ref()
            .to_vec();
        Fingerprint { hash, value }
    }

    /// A fingerprint from its parts; the value must be as long as the hash function's output.
    pub fn new(hash: HashFunction, value: Vec<u8>) -> Result<Self, Error> {
        if value.len() != hash.output_len() {
            return Err(Error::MalformedFingerprint(format!(
                "{hash} needs {} bytes, got {}",
                hash.output_len(),
                value.len()
            )));
        }
        Ok(Fingerprint { hash, value })
    }

    /// The hash function.
    pub fn hash_function(&self) -> HashFunction {
        self.hash
    }

    /// The digest bytes.
    pub fn value(&self) -> &[u8] {
        &self.value
    }

    /// Whether this fingerprint is the digest of `certificate_der`.
    pub fn matches(&self, certificate_der: &[u8]) -> bool {
        let digest = digest::digest(self.hash.algorithm(), certificate_der);
        // Both sides are public (the SDP and the certificate travel in the clear), so a plain
        // comparison leaks nothing.
        digest.as_ref() == self.value.as_slice()
    }
}

impl fmt::Display for Fingerprint {
    /// `sha-256 AB:CD:...`: the value of an SDP `a=fingerprint` line, uppercase hex as browsers
    /// write it.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ", self.hash)?;
        for (i, byte) in self.value.iter().enumerate() {
            if i > 0 {
                f.write_str(":")?;
            }
            write!(f, "{byte:02X}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Fingerprint({self})")
    }
}

impl FromStr for Fingerprint {
    type Err = Error;

    /// Parses `<hash-func> SP <fingerprint>` where the fingerprint is colon-separated pairs of
    /// hex digits (either case), exactly as many as the hash function produces.
    fn from_str(s: &str) -> Result<Self, Error> {
        let s = s.trim();
        let (name, hex) = s
            .split_once([' ', '\t'])
            .ok_or_else(|| Error::MalformedFingerprint(s.to_owned()))?;
        let hash: HashFunction = name.parse()?;
        let hex = hex.trim_start();
        let mut value = Vec::with_capacity(hash.output_len());
        for pair in hex.split(':') {
            let byte = match pair.as_bytes() {
                [hi, lo] => hex_val(*hi).zip(hex_val(*lo)).map(|(h, l)| h << 4 | l),
                _ => None,
            };
            value.push(byte.ok_or_else(|| Error::MalformedFingerprint(s.to_owned()))?);
        }
        Fingerprint::new(hash, value)
    }
}

fn hex_val(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
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
        .filter(|fp| fp.hash == strongest)
        .any(|fp| fp.matches(certificate_der));
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
            let fp = Fingerprint::of_certificate(hash, DER);
            let text = fp.to_string();
            assert!(text.starts_with(hash.name()));
            assert_eq!(
                text.len(),
                hash.name().len() + 1 + hash.output_len() * 3 - 1
            );
            let parsed: Fingerprint = text.parse().unwrap();
            assert_eq!(parsed, fp);
            assert!(parsed.matches(DER));
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
        let fp = Fingerprint::of_certificate(HashFunction::Sha256, b"abc");
        assert_eq!(
            fp.to_string(),
            "sha-256 BA:78:16:BF:8F:01:CF:EA:41:41:40:DE:5D:AE:22:23:\
             B0:03:61:A3:96:17:7A:9C:B4:10:FF:61:F2:00:15:AD"
        );
    }

    #[test]
    fn rejects_malformed() {
        let good = Fingerprint::of_certificate(HashFunction::Sha256, DER).to_string();
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
            Err(Error::UnsupportedHashFunction(n)) if n == "md5"
        ));
    }

    #[test]
    fn verify_uses_the_strongest_hash_set() {
        let sha1 = Fingerprint::of_certificate(HashFunction::Sha1, DER);
        let sha256 = Fingerprint::of_certificate(HashFunction::Sha256, DER);
        let other256 = Fingerprint::of_certificate(HashFunction::Sha256, b"other");
        let sha512 = Fingerprint::of_certificate(HashFunction::Sha512, DER);
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
