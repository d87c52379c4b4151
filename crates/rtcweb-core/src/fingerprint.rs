//! Certificate fingerprints as SDP carries them in `a=fingerprint` (RFC 8122 section 5).
//!
//! This is the value only: computing one from a certificate and checking a peer's certificate
//! against it need a hash implementation and live in `rtcweb-dtls` (`fingerprint_of`,
//! `verify_certificate`).
//!
//! ```
//! use rtcweb_core::{Fingerprint, HashFunction};
//!
//! let fp: Fingerprint = "sha-256 19:E2:1C:3B:4B:9F:81:E6:B8:5C:F4:A5:A8:D8:73:04:\
//!     BB:05:2F:70:9F:04:A9:0E:05:E9:26:33:E8:70:88:A2".parse()?;
//! assert_eq!(fp.hash_function(), HashFunction::Sha256);
//! assert_eq!(fp.value().len(), 32);
//! assert!(fp.to_string().starts_with("sha-256 19:E2:1C"));
//! # Ok::<(), rtcweb_core::Error>(())
//! ```

use std::fmt;
use std::str::FromStr;

use crate::Error;

/// A hash function of the RFC 8122 `hash-func` registry that rtcweb implements.
///
/// `md5` and `md2` are registered too but are refused as [`Error::UnsupportedHashFunction`]:
/// RFC 8122 forbids them for new fingerprints, and browsers refuse them as well.
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
    /// Every supported function, weakest first (the order of `Ord`).
    pub const ALL: [HashFunction; 5] = [
        HashFunction::Sha1,
        HashFunction::Sha224,
        HashFunction::Sha256,
        HashFunction::Sha384,
        HashFunction::Sha512,
    ];

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
        match self {
            HashFunction::Sha1 => 20,
            HashFunction::Sha224 => 28,
            HashFunction::Sha256 => 32,
            HashFunction::Sha384 => 48,
            HashFunction::Sha512 => 64,
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
        HashFunction::ALL
            .into_iter()
            .find(|h| h.name().eq_ignore_ascii_case(s))
            .ok_or_else(|| Error::UnsupportedHashFunction(s.to_owned()))
    }
}

/// One `a=fingerprint` value: a hash function and the digest of a DER certificate, exactly as
/// long as the function's output.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Fingerprint {
    hash: HashFunction,
    value: Vec<u8>,
}

impl Fingerprint {
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
        // Never more than the longest digest, whatever the input's length.
        let mut value = Vec::with_capacity(hash.output_len());
        for pair in hex.split(':') {
            let byte = match pair.as_bytes() {
                [hi, lo] => hex_val(*hi).zip(hex_val(*lo)).map(|(h, l)| h << 4 | l),
                _ => None,
            };
            if value.len() == hash.output_len() {
                return Err(Error::MalformedFingerprint(s.to_owned()));
            }
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

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(hash: HashFunction) -> Fingerprint {
        let value = (0..hash.output_len()).map(|i| (i * 37) as u8).collect();
        Fingerprint::new(hash, value).unwrap()
    }

    #[test]
    fn sdp_format_round_trips_in_any_case() {
        for hash in HashFunction::ALL {
            let fp = sample(hash);
            let text = fp.to_string();
            assert!(text.starts_with(hash.name()));
            assert_eq!(
                text.len(),
                hash.name().len() + 1 + hash.output_len() * 3 - 1
            );
            assert_eq!(text.parse::<Fingerprint>(), Ok(fp.clone()));
            assert_eq!(
                text.to_ascii_lowercase().parse::<Fingerprint>(),
                Ok(fp.clone())
            );
            assert_eq!(text.to_ascii_uppercase().parse::<Fingerprint>(), Ok(fp));
        }
    }

    #[test]
    fn rejects_malformed_and_unsupported() {
        let good = sample(HashFunction::Sha256).to_string();
        let cases = [
            String::new(),
            "sha-256".to_owned(),
            good.replace(':', ""),
            good[..good.len() - 3].to_owned(),
            format!("{good}:00"),
            good.replacen("sha-256", "sha-1", 1),
            good.replacen(':', "::", 1),
            good.replacen('4', "G", 1),
            format!("{good}0"),
            "sha-256 é:é".to_owned(),
        ];
        for case in cases {
            let err = case.parse::<Fingerprint>().unwrap_err();
            assert_eq!(err.category(), crate::ErrorCategory::Malformed, "{case:?}");
        }
        for name in ["md5", "md2", "sha-3", "SHA256"] {
            let err = format!("{name} 00:11").parse::<Fingerprint>().unwrap_err();
            assert_eq!(err, Error::UnsupportedHashFunction(name.to_owned()));
            assert_eq!(err.category(), crate::ErrorCategory::Unsupported);
        }
        assert!(Fingerprint::new(HashFunction::Sha1, vec![0; 32]).is_err());
    }

    #[test]
    fn a_long_value_stops_at_the_digest_length() {
        let long = format!("sha-1 {}", ["AB"; 10_000].join(":"));
        assert!(matches!(
            long.parse::<Fingerprint>(),
            Err(Error::MalformedFingerprint(_))
        ));
    }
}
