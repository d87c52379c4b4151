//! Candidate priorities and foundations (RFC 8445 section 5.1). The candidate itself, with
//! its SDP grammar (RFC 8839 section 5.1), is `rtcweb-core`'s `Candidate`, shared with JSEP.

use std::net::{IpAddr, SocketAddr};

use crate::CandidateKind;

/// A candidate priority (RFC 8445 section 5.1.2.1): type preference, local preference and
/// component id packed into 32 bits.
///
/// ```
/// use rtcweb_ice::{priority, CandidateKind};
/// assert_eq!(priority(CandidateKind::Host, 65535, 1), 2130706431);
/// ```
pub fn priority(kind: CandidateKind, local_preference: u16, component: u16) -> u32 {
    (kind.type_preference() << 24)
        + (u32::from(local_preference) << 8)
        + (256 - u32::from(component.clamp(1, 256)))
}

/// The local preference of an address (RFC 8421): IPv6 before IPv4, and among addresses of
/// one family the order the driver supplied them in (`index` 0 first).
pub fn local_preference(ip: IpAddr, index: usize) -> u16 {
    let family_base: u16 = if ip.is_ipv6() { 65535 } else { 32767 };
    family_base.saturating_sub(u16::try_from(index.min(1000)).unwrap_or(1000) * 16)
}

/// A foundation for a local candidate: equal for candidates of the same type, base IP,
/// server and transport (RFC 8445 section 5.1.1.3). It is a short hash, printed in decimal
/// like browsers do.
pub fn foundation(kind: CandidateKind, base: IpAddr, server: Option<SocketAddr>) -> String {
    // FNV-1a: stable across platforms and releases, which a std Hasher is not.
    let mut h: u32 = 0x811c_9dc5;
    let mut eat = |bytes: &[u8]| {
        for b in bytes {
            h ^= u32::from(*b);
            h = h.wrapping_mul(0x0100_0193);
        }
    };
    eat(kind.as_sdp().as_bytes());
    eat(base.to_string().as_bytes());
    if let Some(s) = server {
        eat(s.to_string().as_bytes());
    }
    eat(b"udp");
    h.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn priorities_follow_rfc_8445() {
        assert_eq!(
            priority(CandidateKind::Host, 65535, 1),
            (126 << 24) + (65535 << 8) + 255
        );
        assert!(
            priority(CandidateKind::Host, 0, 1) > priority(CandidateKind::PeerReflexive, 65535, 1)
        );
        assert!(
            priority(CandidateKind::ServerReflexive, 65535, 1)
                > priority(CandidateKind::Relayed, 65535, 1)
        );
        assert!(
            local_preference("::1".parse().unwrap(), 0)
                > local_preference("127.0.0.1".parse().unwrap(), 0)
        );
        assert!(
            local_preference("10.0.0.1".parse().unwrap(), 0)
                > local_preference("10.0.0.2".parse().unwrap(), 1)
        );
    }

    #[test]
    fn foundations_group_alike_candidates() {
        let ip: IpAddr = "10.0.0.1".parse().unwrap();
        let stun: SocketAddr = "203.0.113.1:3478".parse().unwrap();
        assert_eq!(
            foundation(CandidateKind::Host, ip, None),
            foundation(CandidateKind::Host, ip, None)
        );
        assert_ne!(
            foundation(CandidateKind::Host, ip, None),
            foundation(CandidateKind::ServerReflexive, ip, Some(stun))
        );
        assert_ne!(
            foundation(CandidateKind::Host, ip, None),
            foundation(CandidateKind::Host, "10.0.0.2".parse().unwrap(), None)
        );
    }
}
