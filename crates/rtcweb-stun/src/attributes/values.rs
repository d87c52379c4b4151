//! Small value types carried by attributes: error codes, address families, password algorithms
//! and the list views of UNKNOWN-ATTRIBUTES and PASSWORD-ALGORITHMS.

use super::AttributeType;

/// ERROR-CODE (RFC 8489 section 14.8): a code 300-699 and a reason phrase.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ErrorCode<'a> {
    /// The code, class * 100 + number.
    pub code: u16,
    /// The UTF-8 reason phrase.
    pub reason: &'a str,
}

impl ErrorCode<'_> {
    /// 300 Try Alternate.
    pub const TRY_ALTERNATE: u16 = 300;
    /// 400 Bad Request.
    pub const BAD_REQUEST: u16 = 400;
    /// 401 Unauthenticated.
    pub const UNAUTHENTICATED: u16 = 401;
    /// 403 Forbidden.
    pub const FORBIDDEN: u16 = 403;
    /// 420 Unknown Attribute.
    pub const UNKNOWN_ATTRIBUTE: u16 = 420;
    /// 437 Allocation Mismatch.
    pub const ALLOCATION_MISMATCH: u16 = 437;
    /// 438 Stale Nonce.
    pub const STALE_NONCE: u16 = 438;
    /// 440 Address Family not Supported.
    pub const ADDRESS_FAMILY_NOT_SUPPORTED: u16 = 440;
    /// 441 Wrong Credentials.
    pub const WRONG_CREDENTIALS: u16 = 441;
    /// 442 Unsupported Transport Protocol.
    pub const UNSUPPORTED_TRANSPORT_PROTOCOL: u16 = 442;
    /// 443 Peer Address Family Mismatch.
    pub const PEER_ADDRESS_FAMILY_MISMATCH: u16 = 443;
    /// 486 Allocation Quota Reached.
    pub const ALLOCATION_QUOTA_REACHED: u16 = 486;
    /// 487 Role Conflict (RFC 8445).
    pub const ROLE_CONFLICT: u16 = 487;
    /// 500 Server Error.
    pub const SERVER_ERROR: u16 = 500;
    /// 508 Insufficient Capacity.
    pub const INSUFFICIENT_CAPACITY: u16 = 508;

    /// Decodes the value shared by ERROR-CODE and ADDRESS-ERROR-CODE from its third octet on
    /// (class in the low 3 bits, then the number, then the reason).
    pub(crate) fn decode_tail(v: &[u8]) -> Option<ErrorCode<'_>> {
        let (class, number, reason) = match v {
            [class, number, reason @ ..] => (*class & 0x07, *number, reason),
            _ => return None,
        };
        if !(3..=6).contains(&class) || number > 99 {
            return None;
        }
        let reason = core::str::from_utf8(reason).ok()?;
        Some(ErrorCode {
            code: u16::from(class) * 100 + u16::from(number),
            reason,
        })
    }
}

/// An address family as REQUESTED-ADDRESS-FAMILY and friends carry it (RFC 8656 section 18.10).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AddressFamily {
    /// IPv4 (0x01).
    V4,
    /// IPv6 (0x02).
    V6,
}

impl AddressFamily {
    /// The wire code.
    pub fn code(self) -> u8 {
        match self {
            AddressFamily::V4 => 0x01,
            AddressFamily::V6 => 0x02,
        }
    }

    /// From the wire code.
    pub fn from_code(code: u8) -> Option<Self> {
        match code {
            0x01 => Some(AddressFamily::V4),
            0x02 => Some(AddressFamily::V6),
            _ => None,
        }
    }
}

/// A password algorithm (RFC 8489 section 18.5): the algorithm number and its parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RawPasswordAlgorithm<'a> {
    /// Algorithm number: 0x0001 MD5, 0x0002 SHA-256.
    pub algorithm: u16,
    /// Algorithm parameters (empty for MD5 and SHA-256).
    pub params: &'a [u8],
}

impl<'a> RawPasswordAlgorithm<'a> {
    /// MD5 (RFC 8489 section 18.5.1.1).
    pub const MD5: u16 = 0x0001;
    /// SHA-256 (RFC 8489 section 18.5.1.2).
    pub const SHA256: u16 = 0x0002;

    /// Encoded length without trailing padding of the last element.
    pub(crate) fn encoded_len(&self) -> usize {
        4 + self.params.len()
    }

    /// Decodes one algorithm at the start of `v`, returning it and the rest after padding.
    pub(crate) fn decode(v: &'a [u8]) -> Option<(Self, &'a [u8])> {
        let (a0, a1, l0, l1) = match v {
            [a0, a1, l0, l1, ..] => (*a0, *a1, *l0, *l1),
            _ => return None,
        };
        let plen = usize::from(u16::from_be_bytes([l0, l1]));
        let params = v.get(4..4 + plen)?;
        let rest = v.get(crate::header::padded(4 + plen)..).unwrap_or(&[]);
        Some((
            RawPasswordAlgorithm {
                algorithm: u16::from_be_bytes([a0, a1]),
                params,
            },
            rest,
        ))
    }

    pub(crate) fn encode(&self, out: &mut [u8]) -> usize {
        out[..2].copy_from_slice(&self.algorithm.to_be_bytes());
        out[2..4].copy_from_slice(&(self.params.len() as u16).to_be_bytes());
        out[4..4 + self.params.len()].copy_from_slice(self.params);
        let padded = crate::header::padded(4 + self.params.len());
        out[4 + self.params.len()..padded].fill(0);
        padded
    }
}

/// The list of PASSWORD-ALGORITHMS (RFC 8489 section 14.11), a view over the value octets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RawPasswordAlgorithms<'a>(pub(crate) &'a [u8]);

impl<'a> RawPasswordAlgorithms<'a> {
    /// Checks the list's format.
    pub(crate) fn new_checked(v: &'a [u8]) -> Option<Self> {
        let mut rest = v;
        while !rest.is_empty() {
            rest = RawPasswordAlgorithm::decode(rest)?.1;
        }
        Some(RawPasswordAlgorithms(v))
    }

    /// The raw value octets.
    pub fn as_bytes(&self) -> &'a [u8] {
        self.0
    }

    /// The algorithms in the server's order of preference.
    pub fn iter(&self) -> impl Iterator<Item = RawPasswordAlgorithm<'a>> + 'a {
        let mut rest = self.0;
        core::iter::from_fn(move || {
            let (alg, next) = RawPasswordAlgorithm::decode(rest)?;
            rest = next;
            Some(alg)
        })
    }
}

/// The list of UNKNOWN-ATTRIBUTES (RFC 8489 section 14.9), a view over the value octets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UnknownAttributes<'a>(pub(crate) &'a [u8]);

impl<'a> UnknownAttributes<'a> {
    /// The raw value octets (a sequence of 16-bit types).
    pub fn as_bytes(&self) -> &'a [u8] {
        self.0
    }

    /// The attribute types listed.
    pub fn iter(&self) -> impl Iterator<Item = AttributeType> + 'a {
        self.0
            .chunks_exact(2)
            .map(|c| AttributeType(u16::from_be_bytes([c[0], c[1]])))
    }
}
