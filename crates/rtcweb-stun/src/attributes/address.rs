//! The address attribute format shared by MAPPED-ADDRESS, XOR-*-ADDRESS, ALTERNATE-SERVER,
//! RESPONSE-ORIGIN and OTHER-ADDRESS (RFC 8489 sections 14.1 and 14.2).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use crate::header::{MAGIC_COOKIE, TransactionId};

/// Address family code of IPv4.
pub const FAMILY_IPV4: u8 = 0x01;
/// Address family code of IPv6.
pub const FAMILY_IPV6: u8 = 0x02;

/// Length of an encoded address value.
pub fn encoded_len(addr: &SocketAddr) -> usize {
    match addr {
        SocketAddr::V4(_) => 8,
        SocketAddr::V6(_) => 20,
    }
}

/// Decodes an address value, XOR-ed with the cookie (and transaction id) when `xor` is set.
/// `None` when the value has the wrong length or an unknown family.
pub fn decode(value: &[u8], xor: Option<&TransactionId>) -> Option<SocketAddr> {
    let (family, port) = match value {
        [_, family, p0, p1, ..] => (*family, u16::from_be_bytes([*p0, *p1])),
        _ => return None,
    };
    let cookie = MAGIC_COOKIE.to_be_bytes();
    let port = if xor.is_some() {
        port ^ (MAGIC_COOKIE >> 16) as u16
    } else {
        port
    };
    match (family, value.len()) {
        (FAMILY_IPV4, 8) => {
            let mut ip: [u8; 4] = value.get(4..8)?.try_into().ok()?;
            if xor.is_some() {
                for (b, k) in ip.iter_mut().zip(cookie) {
                    *b ^= k;
                }
            }
            Some(SocketAddr::new(IpAddr::V4(Ipv4Addr::from(ip)), port))
        }
        (FAMILY_IPV6, 20) => {
            let mut ip: [u8; 16] = value.get(4..20)?.try_into().ok()?;
            if let Some(tid) = xor {
                let key = cookie.iter().chain(tid.0.iter());
                for (b, k) in ip.iter_mut().zip(key) {
                    *b ^= k;
                }
            }
            Some(SocketAddr::new(IpAddr::V6(Ipv6Addr::from(ip)), port))
        }
        _ => None,
    }
}

/// Encodes an address value into `out`, which must be exactly [`encoded_len`] long.
pub fn encode(addr: &SocketAddr, xor: Option<&TransactionId>, out: &mut [u8]) {
    let cookie = MAGIC_COOKIE.to_be_bytes();
    let port = if xor.is_some() {
        addr.port() ^ (MAGIC_COOKIE >> 16) as u16
    } else {
        addr.port()
    };
    let mut head = [0u8, 0, 0, 0];
    head[2..4].copy_from_slice(&port.to_be_bytes());
    match addr.ip() {
        IpAddr::V4(ip) => {
            head[1] = FAMILY_IPV4;
            let mut ip = ip.octets();
            if xor.is_some() {
                for (b, k) in ip.iter_mut().zip(cookie) {
                    *b ^= k;
                }
            }
            out[..4].copy_from_slice(&head);
            out[4..8].copy_from_slice(&ip);
        }
        IpAddr::V6(ip) => {
            head[1] = FAMILY_IPV6;
            let mut ip = ip.octets();
            if let Some(tid) = xor {
                for (b, k) in ip.iter_mut().zip(cookie.iter().chain(tid.0.iter())) {
                    *b ^= k;
                }
            }
            out[..4].copy_from_slice(&head);
            out[4..20].copy_from_slice(&ip);
        }
    }
}
