//! Typed attributes: [`Attribute`] decodes one attribute's value and encodes it again.

pub mod address;
mod types;
mod values;

use std::net::SocketAddr;

pub use types::AttributeType;
pub use values::{
    AddressFamily, ErrorCode, RawPasswordAlgorithm, RawPasswordAlgorithms, UnknownAttributes,
};

use crate::error::{Error, Result};
use crate::header::TransactionId;

/// One decoded attribute. Borrowed values point into the message buffer (zero copy).
///
/// Attributes this crate does not know decode as [`Attribute::Unknown`] and encode back to the
/// same octets, so they survive a round trip.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Attribute<'a> {
    /// MAPPED-ADDRESS.
    MappedAddress(SocketAddr),
    /// XOR-MAPPED-ADDRESS.
    XorMappedAddress(SocketAddr),
    /// USERNAME.
    Username(&'a str),
    /// USERHASH: SHA-256 of `username ":" realm` (32 octets).
    UserHash(&'a [u8; 32]),
    /// MESSAGE-INTEGRITY: HMAC-SHA1 (20 octets). Added by the builder, not by value.
    MessageIntegrity(&'a [u8; 20]),
    /// MESSAGE-INTEGRITY-SHA256: HMAC-SHA256, possibly truncated (16-32 octets).
    MessageIntegritySha256(&'a [u8]),
    /// FINGERPRINT: CRC-32 of the message XOR 0x5354554e.
    Fingerprint(u32),
    /// ERROR-CODE.
    ErrorCode(ErrorCode<'a>),
    /// REALM.
    Realm(&'a str),
    /// NONCE.
    Nonce(&'a str),
    /// PASSWORD-ALGORITHMS.
    PasswordAlgorithms(RawPasswordAlgorithms<'a>),
    /// PASSWORD-ALGORITHM.
    PasswordAlgorithm(RawPasswordAlgorithm<'a>),
    /// UNKNOWN-ATTRIBUTES.
    UnknownAttributes(UnknownAttributes<'a>),
    /// SOFTWARE.
    Software(&'a str),
    /// ALTERNATE-SERVER.
    AlternateServer(SocketAddr),
    /// ALTERNATE-DOMAIN.
    AlternateDomain(&'a str),
    /// CHANNEL-NUMBER (the number only; the RFFU octets are ignored).
    ChannelNumber(u16),
    /// LIFETIME in seconds.
    Lifetime(u32),
    /// XOR-PEER-ADDRESS.
    XorPeerAddress(SocketAddr),
    /// DATA.
    Data(&'a [u8]),
    /// XOR-RELAYED-ADDRESS.
    XorRelayedAddress(SocketAddr),
    /// REQUESTED-ADDRESS-FAMILY.
    RequestedAddressFamily(AddressFamily),
    /// ADDITIONAL-ADDRESS-FAMILY.
    AdditionalAddressFamily(AddressFamily),
    /// ADDRESS-ERROR-CODE: the family the error is about and the error.
    AddressErrorCode(AddressFamily, ErrorCode<'a>),
    /// EVEN-PORT with its R (reserve next port) bit.
    EvenPort(bool),
    /// REQUESTED-TRANSPORT with the IP protocol number (17 = UDP, 6 = TCP).
    RequestedTransport(u8),
    /// DONT-FRAGMENT.
    DontFragment,
    /// RESERVATION-TOKEN (8 octets).
    ReservationToken(&'a [u8; 8]),
    /// ICMP: type (7 bits), code (9 bits) and error data.
    Icmp {
        /// ICMP type.
        icmp_type: u8,
        /// ICMP code.
        icmp_code: u16,
        /// Error data (the next-hop MTU for "packet too big").
        error_data: u32,
    },
    /// CHANGE-REQUEST (RFC 5780).
    ChangeRequest {
        /// Flag A: answer from the other IP address.
        change_ip: bool,
        /// Flag B: answer from the other port.
        change_port: bool,
    },
    /// RESPONSE-ORIGIN (RFC 5780).
    ResponseOrigin(SocketAddr),
    /// OTHER-ADDRESS (RFC 5780).
    OtherAddress(SocketAddr),
    /// RESPONSE-PORT (RFC 5780).
    ResponsePort(u16),
    /// PADDING (RFC 5780).
    Padding(&'a [u8]),
    /// CACHE-TIMEOUT in seconds (RFC 5780).
    CacheTimeout(u32),
    /// THIRD-PARTY-AUTHORIZATION: the authorization server's name (RFC 7635).
    ThirdPartyAuthorization(&'a str),
    /// ACCESS-TOKEN: the opaque token (RFC 7635).
    AccessToken(&'a [u8]),
    /// PRIORITY (ICE).
    Priority(u32),
    /// USE-CANDIDATE (ICE).
    UseCandidate,
    /// ICE-CONTROLLED with its tie-breaker.
    IceControlled(u64),
    /// ICE-CONTROLLING with its tie-breaker.
    IceControlling(u64),
    /// CONNECTION-ID (RFC 6062).
    ConnectionId(u32),
    /// Any other attribute, kept verbatim.
    Unknown {
        /// The type.
        typ: AttributeType,
        /// The value octets (without padding).
        value: &'a [u8],
    },
}

fn text(typ: AttributeType, v: &[u8]) -> Result<&str> {
    core::str::from_utf8(v).map_err(|_| Error::BadAttribute(typ.0))
}

fn array<const N: usize>(typ: AttributeType, v: &[u8]) -> Result<[u8; N]> {
    v.try_into().map_err(|_| Error::BadAttribute(typ.0))
}

fn array_ref<const N: usize>(typ: AttributeType, v: &[u8]) -> Result<&[u8; N]> {
    v.try_into().map_err(|_| Error::BadAttribute(typ.0))
}

fn family(typ: AttributeType, v: &[u8]) -> Result<AddressFamily> {
    match v {
        [f, _, _, _] => AddressFamily::from_code(*f).ok_or(Error::BadAttribute(typ.0)),
        _ => Err(Error::BadAttribute(typ.0)),
    }
}

impl<'a> Attribute<'a> {
    /// Decodes an attribute value. `tid` is needed for the XOR-ed addresses.
    pub fn parse(typ: AttributeType, value: &'a [u8], tid: &TransactionId) -> Result<Self> {
        use AttributeType as T;
        let bad = Error::BadAttribute(typ.0);
        let addr = |xor: bool| address::decode(value, xor.then_some(tid)).ok_or(bad);
        Ok(match typ {
            T::MAPPED_ADDRESS => Attribute::MappedAddress(addr(false)?),
            T::XOR_MAPPED_ADDRESS => Attribute::XorMappedAddress(addr(true)?),
            T::USERNAME => Attribute::Username(text(typ, value)?),
            T::USERHASH => Attribute::UserHash(array_ref(typ, value)?),
            T::MESSAGE_INTEGRITY => Attribute::MessageIntegrity(array_ref(typ, value)?),
            T::MESSAGE_INTEGRITY_SHA256 => {
                if !(16..=32).contains(&value.len()) || !value.len().is_multiple_of(4) {
                    return Err(bad);
                }
                Attribute::MessageIntegritySha256(value)
            }
            T::FINGERPRINT => Attribute::Fingerprint(u32::from_be_bytes(array(typ, value)?)),
            T::ERROR_CODE => {
                Attribute::ErrorCode(value.get(2..).and_then(ErrorCode::decode_tail).ok_or(bad)?)
            }
            T::REALM => Attribute::Realm(text(typ, value)?),
            T::NONCE => Attribute::Nonce(text(typ, value)?),
            T::PASSWORD_ALGORITHMS => {
                Attribute::PasswordAlgorithms(RawPasswordAlgorithms::new_checked(value).ok_or(bad)?)
            }
            T::PASSWORD_ALGORITHM => match RawPasswordAlgorithm::decode(value) {
                Some((alg, [])) => Attribute::PasswordAlgorithm(alg),
                _ => return Err(bad),
            },
            T::UNKNOWN_ATTRIBUTES => {
                if !value.len().is_multiple_of(2) {
                    return Err(bad);
                }
                Attribute::UnknownAttributes(UnknownAttributes(value))
            }
            T::SOFTWARE => Attribute::Software(text(typ, value)?),
            T::ALTERNATE_SERVER => Attribute::AlternateServer(addr(false)?),
            T::ALTERNATE_DOMAIN => Attribute::AlternateDomain(text(typ, value)?),
            T::CHANNEL_NUMBER => {
                let v: [u8; 4] = array(typ, value)?;
                Attribute::ChannelNumber(u16::from_be_bytes([v[0], v[1]]))
            }
            T::LIFETIME => Attribute::Lifetime(u32::from_be_bytes(array(typ, value)?)),
            T::XOR_PEER_ADDRESS => Attribute::XorPeerAddress(addr(true)?),
            T::DATA => Attribute::Data(value),
            T::XOR_RELAYED_ADDRESS => Attribute::XorRelayedAddress(addr(true)?),
            T::REQUESTED_ADDRESS_FAMILY => Attribute::RequestedAddressFamily(family(typ, value)?),
            T::ADDITIONAL_ADDRESS_FAMILY => Attribute::AdditionalAddressFamily(family(typ, value)?),
            T::ADDRESS_ERROR_CODE => {
                let fam = value
                    .first()
                    .and_then(|f| AddressFamily::from_code(*f))
                    .ok_or(bad)?;
                let err = value.get(2..).and_then(ErrorCode::decode_tail).ok_or(bad)?;
                Attribute::AddressErrorCode(fam, err)
            }
            T::EVEN_PORT => match value {
                [flags] => Attribute::EvenPort(flags & 0x80 != 0),
                _ => return Err(bad),
            },
            T::REQUESTED_TRANSPORT => Attribute::RequestedTransport(array::<4>(typ, value)?[0]),
            T::DONT_FRAGMENT if value.is_empty() => Attribute::DontFragment,
            T::RESERVATION_TOKEN => Attribute::ReservationToken(array_ref(typ, value)?),
            T::ICMP => {
                let v: [u8; 8] = array(typ, value)?;
                let tc = u16::from_be_bytes([v[2], v[3]]);
                Attribute::Icmp {
                    icmp_type: (tc >> 9) as u8,
                    icmp_code: tc & 0x01FF,
                    error_data: u32::from_be_bytes([v[4], v[5], v[6], v[7]]),
                }
            }
            T::CHANGE_REQUEST => {
                let v = u32::from_be_bytes(array(typ, value)?);
                Attribute::ChangeRequest {
                    change_ip: v & 0x4 != 0,
                    change_port: v & 0x2 != 0,
                }
            }
            T::RESPONSE_ORIGIN => Attribute::ResponseOrigin(addr(false)?),
            T::OTHER_ADDRESS => Attribute::OtherAddress(addr(false)?),
            T::RESPONSE_PORT => {
                let v: [u8; 4] = array(typ, value)?;
                Attribute::ResponsePort(u16::from_be_bytes([v[0], v[1]]))
            }
            T::PADDING => Attribute::Padding(value),
            T::CACHE_TIMEOUT => Attribute::CacheTimeout(u32::from_be_bytes(array(typ, value)?)),
            T::THIRD_PARTY_AUTHORIZATION => Attribute::ThirdPartyAuthorization(text(typ, value)?),
            T::ACCESS_TOKEN => Attribute::AccessToken(value),
            T::PRIORITY => Attribute::Priority(u32::from_be_bytes(array(typ, value)?)),
            T::USE_CANDIDATE if value.is_empty() => Attribute::UseCandidate,
            T::ICE_CONTROLLED => Attribute::IceControlled(u64::from_be_bytes(array(typ, value)?)),
            T::ICE_CONTROLLING => Attribute::IceControlling(u64::from_be_bytes(array(typ, value)?)),
            T::CONNECTION_ID => Attribute::ConnectionId(u32::from_be_bytes(array(typ, value)?)),
            T::DONT_FRAGMENT | T::USE_CANDIDATE => return Err(bad),
            _ => Attribute::Unknown { typ, value },
        })
    }

    /// The attribute's type.
    pub fn attribute_type(&self) -> AttributeType {
        use AttributeType as T;
        match self {
            Attribute::MappedAddress(_) => T::MAPPED_ADDRESS,
            Attribute::XorMappedAddress(_) => T::XOR_MAPPED_ADDRESS,
            Attribute::Username(_) => T::USERNAME,
            Attribute::UserHash(_) => T::USERHASH,
            Attribute::MessageIntegrity(_) => T::MESSAGE_INTEGRITY,
            Attribute::MessageIntegritySha256(_) => T::MESSAGE_INTEGRITY_SHA256,
            Attribute::Fingerprint(_) => T::FINGERPRINT,
            Attribute::ErrorCode(_) => T::ERROR_CODE,
            Attribute::Realm(_) => T::REALM,
            Attribute::Nonce(_) => T::NONCE,
            Attribute::PasswordAlgorithms(_) => T::PASSWORD_ALGORITHMS,
            Attribute::PasswordAlgorithm(_) => T::PASSWORD_ALGORITHM,
            Attribute::UnknownAttributes(_) => T::UNKNOWN_ATTRIBUTES,
            Attribute::Software(_) => T::SOFTWARE,
            Attribute::AlternateServer(_) => T::ALTERNATE_SERVER,
            Attribute::AlternateDomain(_) => T::ALTERNATE_DOMAIN,
            Attribute::ChannelNumber(_) => T::CHANNEL_NUMBER,
            Attribute::Lifetime(_) => T::LIFETIME,
            Attribute::XorPeerAddress(_) => T::XOR_PEER_ADDRESS,
            Attribute::Data(_) => T::DATA,
            Attribute::XorRelayedAddress(_) => T::XOR_RELAYED_ADDRESS,
            Attribute::RequestedAddressFamily(_) => T::REQUESTED_ADDRESS_FAMILY,
            Attribute::AdditionalAddressFamily(_) => T::ADDITIONAL_ADDRESS_FAMILY,
            Attribute::AddressErrorCode(..) => T::ADDRESS_ERROR_CODE,
            Attribute::EvenPort(_) => T::EVEN_PORT,
            Attribute::RequestedTransport(_) => T::REQUESTED_TRANSPORT,
            Attribute::DontFragment => T::DONT_FRAGMENT,
            Attribute::ReservationToken(_) => T::RESERVATION_TOKEN,
            Attribute::Icmp { .. } => T::ICMP,
            Attribute::ChangeRequest { .. } => T::CHANGE_REQUEST,
            Attribute::ResponseOrigin(_) => T::RESPONSE_ORIGIN,
            Attribute::OtherAddress(_) => T::OTHER_ADDRESS,
            Attribute::ResponsePort(_) => T::RESPONSE_PORT,
            Attribute::Padding(_) => T::PADDING,
            Attribute::CacheTimeout(_) => T::CACHE_TIMEOUT,
            Attribute::ThirdPartyAuthorization(_) => T::THIRD_PARTY_AUTHORIZATION,
            Attribute::AccessToken(_) => T::ACCESS_TOKEN,
            Attribute::Priority(_) => T::PRIORITY,
            Attribute::UseCandidate => T::USE_CANDIDATE,
            Attribute::IceControlled(_) => T::ICE_CONTROLLED,
            Attribute::IceControlling(_) => T::ICE_CONTROLLING,
            Attribute::ConnectionId(_) => T::CONNECTION_ID,
            Attribute::Unknown { typ, .. } => *typ,
        }
    }

    /// Length of the encoded value, without padding.
    pub fn value_len(&self) -> usize {
        match self {
            Attribute::MappedAddress(a)
            | Attribute::XorMappedAddress(a)
            | Attribute::AlternateServer(a)
            | Attribute::XorPeerAddress(a)
            | Attribute::XorRelayedAddress(a)
            | Attribute::ResponseOrigin(a)
            | Attribute::OtherAddress(a) => address::encoded_len(a),
            Attribute::Username(s)
            | Attribute::Realm(s)
            | Attribute::Nonce(s)
            | Attribute::Software(s)
            | Attribute::AlternateDomain(s)
            | Attribute::ThirdPartyAuthorization(s) => s.len(),
            Attribute::UserHash(_) => 32,
            Attribute::MessageIntegrity(_) => 20,
            Attribute::MessageIntegritySha256(v)
            | Attribute::Data(v)
            | Attribute::Padding(v)
            | Attribute::AccessToken(v)
            | Attribute::Unknown { value: v, .. } => v.len(),
            Attribute::PasswordAlgorithms(l) => l.0.len(),
            Attribute::UnknownAttributes(l) => l.0.len(),
            Attribute::PasswordAlgorithm(a) => a.encoded_len(),
            Attribute::ErrorCode(e) | Attribute::AddressErrorCode(_, e) => 4 + e.reason.len(),
            Attribute::EvenPort(_) => 1,
            Attribute::DontFragment | Attribute::UseCandidate => 0,
            Attribute::ReservationToken(_)
            | Attribute::Icmp { .. }
            | Attribute::IceControlled(_)
            | Attribute::IceControlling(_) => 8,
            Attribute::Fingerprint(_)
            | Attribute::ChannelNumber(_)
            | Attribute::Lifetime(_)
            | Attribute::RequestedAddressFamily(_)
            | Attribute::AdditionalAddressFamily(_)
            | Attribute::RequestedTransport(_)
            | Attribute::ChangeRequest { .. }
            | Attribute::ResponsePort(_)
            | Attribute::CacheTimeout(_)
            | Attribute::Priority(_)
            | Attribute::ConnectionId(_) => 4,
        }
    }

    /// Encodes the value into `out`, which must be exactly [`Attribute::value_len`] long.
    pub(crate) fn write_value(&self, tid: &TransactionId, out: &mut [u8]) -> Result<()> {
        let bad = Error::BadAttribute(self.attribute_type().0);
        match self {
            Attribute::MappedAddress(a)
            | Attribute::AlternateServer(a)
            | Attribute::ResponseOrigin(a)
            | Attribute::OtherAddress(a) => address::encode(a, None, out),
            Attribute::XorMappedAddress(a)
            | Attribute::XorPeerAddress(a)
            | Attribute::XorRelayedAddress(a) => address::encode(a, Some(tid), out),
            Attribute::Username(s)
            | Attribute::Realm(s)
            | Attribute::Nonce(s)
            | Attribute::Software(s)
            | Attribute::AlternateDomain(s)
            | Attribute::ThirdPartyAuthorization(s) => out.copy_from_slice(s.as_bytes()),
            Attribute::UserHash(v) => out.copy_from_slice(&v[..]),
            Attribute::MessageIntegrity(v) => out.copy_from_slice(&v[..]),
            Attribute::ReservationToken(v) => out.copy_from_slice(&v[..]),
            Attribute::MessageIntegritySha256(v)
            | Attribute::Data(v)
            | Attribute::Padding(v)
            | Attribute::AccessToken(v)
            | Attribute::Unknown { value: v, .. } => out.copy_from_slice(v),
            Attribute::PasswordAlgorithms(l) => out.copy_from_slice(l.0),
            Attribute::UnknownAttributes(l) => out.copy_from_slice(l.0),
            Attribute::PasswordAlgorithm(a) => {
                // The value's own padding is the attribute padding, written by the builder.
                out[..2].copy_from_slice(&a.algorithm.to_be_bytes());
                out[2..4].copy_from_slice(&(a.params.len() as u16).to_be_bytes());
                out[4..].copy_from_slice(a.params);
            }
            Attribute::ErrorCode(e) | Attribute::AddressErrorCode(_, e) => {
                if !(300..=699).contains(&e.code) {
                    return Err(bad);
                }
                out[0] = match self {
                    Attribute::AddressErrorCode(f, _) => f.code(),
                    _ => 0,
                };
                out[1] = 0;
                out[2] = (e.code / 100) as u8;
                out[3] = (e.code % 100) as u8;
                out[4..].copy_from_slice(e.reason.as_bytes());
            }
            Attribute::EvenPort(r) => out[0] = if *r { 0x80 } else { 0 },
            Attribute::DontFragment | Attribute::UseCandidate => {}
            Attribute::Icmp {
                icmp_type,
                icmp_code,
                error_data,
            } => {
                if *icmp_type > 0x7F || *icmp_code > 0x01FF {
                    return Err(bad);
                }
                let tc = (u16::from(*icmp_type) << 9) | icmp_code;
                out[..2].fill(0);
                out[2..4].copy_from_slice(&tc.to_be_bytes());
                out[4..8].copy_from_slice(&error_data.to_be_bytes());
            }
            Attribute::IceControlled(v) | Attribute::IceControlling(v) => {
                out.copy_from_slice(&v.to_be_bytes())
            }
            Attribute::Fingerprint(v)
            | Attribute::Lifetime(v)
            | Attribute::CacheTimeout(v)
            | Attribute::Priority(v)
            | Attribute::ConnectionId(v) => out.copy_from_slice(&v.to_be_bytes()),
            Attribute::ChannelNumber(n) | Attribute::ResponsePort(n) => {
                out[..2].copy_from_slice(&n.to_be_bytes());
                out[2..].fill(0);
            }
            Attribute::RequestedAddressFamily(f) | Attribute::AdditionalAddressFamily(f) => {
                out.copy_from_slice(&[f.code(), 0, 0, 0])
            }
            Attribute::RequestedTransport(p) => out.copy_from_slice(&[*p, 0, 0, 0]),
            Attribute::ChangeRequest {
                change_ip,
                change_port,
            } => {
                let v = (u32::from(*change_ip) << 2) | (u32::from(*change_port) << 1);
                out.copy_from_slice(&v.to_be_bytes());
            }
        }
        Ok(())
    }
}
