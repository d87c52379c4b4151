//! Server settings, the RFC 5780 address pair and the peer policy.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;

use crate::bandwidth::BandwidthLimit;
use crate::error::{Error, Result};

/// The second address pair that turns on RFC 5780 NAT behaviour discovery.
///
/// The server then answers on four transport addresses: every combination of the two IPs and
/// the two ports (the driver binds all four). RFC 5780 lets a client make the server answer
/// from another address or port, which amplifies spoofed traffic a little: it is off unless
/// configured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rfc5780 {
    /// The primary address (`--listen`).
    pub primary: SocketAddr,
    /// The alternate address (`--alt-listen`): another IP and another port.
    pub alternate: SocketAddr,
}

impl Rfc5780 {
    /// Checks that the two addresses differ in both IP and port and share a family.
    pub fn new(primary: SocketAddr, alternate: SocketAddr) -> Result<Self> {
        if primary.ip() == alternate.ip() || primary.port() == alternate.port() {
            return Err(Error::Config("RFC 5780 needs another IP and another port"));
        }
        if primary.is_ipv4() != alternate.is_ipv4() {
            return Err(Error::Config("RFC 5780 addresses must share a family"));
        }
        Ok(Rfc5780 { primary, alternate })
    }

    /// The four addresses to listen on.
    pub fn addresses(&self) -> [SocketAddr; 4] {
        let (p, a) = (self.primary, self.alternate);
        [
            p,
            SocketAddr::new(p.ip(), a.port()),
            SocketAddr::new(a.ip(), p.port()),
            a,
        ]
    }

    fn other_ip(&self, ip: IpAddr) -> Option<IpAddr> {
        if ip == self.primary.ip() {
            Some(self.alternate.ip())
        } else if ip == self.alternate.ip() {
            Some(self.primary.ip())
        } else {
            None
        }
    }

    fn other_port(&self, port: u16) -> Option<u16> {
        if port == self.primary.port() {
            Some(self.alternate.port())
        } else if port == self.alternate.port() {
            Some(self.primary.port())
        } else {
            None
        }
    }

    /// OTHER-ADDRESS for a request that arrived on `local`: the other IP and the other port.
    pub fn other_address(&self, local: SocketAddr) -> Option<SocketAddr> {
        Some(SocketAddr::new(
            self.other_ip(local.ip())?,
            self.other_port(local.port())?,
        ))
    }

    /// The address to answer from for CHANGE-REQUEST flags on a request to `local`.
    pub fn changed(
        &self,
        local: SocketAddr,
        change_ip: bool,
        change_port: bool,
    ) -> Option<SocketAddr> {
        let ip = if change_ip {
            self.other_ip(local.ip())?
        } else {
            local.ip()
        };
        let port = if change_port {
            self.other_port(local.port())?
        } else {
            local.port()
        };
        Some(SocketAddr::new(ip, port))
    }
}

/// Which peer addresses allocations may talk to (RFC 8656 section 21.1: a relay must not
/// become a way into the server's own networks).
///
/// By default loopback, private (RFC 1918, RFC 4193), link-local, multicast, broadcast,
/// unspecified and "this network" (0.0.0.0/8) addresses are denied with 403.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PeerPolicy {
    /// Allow 127.0.0.0/8 and ::1 (for tests on one machine).
    pub allow_loopback: bool,
    /// Allow private and link-local ranges.
    pub allow_private: bool,
    /// Prefixes allowed whatever the rules above say: (network, prefix length).
    pub allow: Vec<(IpAddr, u8)>,
    /// Prefixes denied whatever the rules above say: (network, prefix length).
    pub deny: Vec<(IpAddr, u8)>,
}

fn in_prefix(ip: IpAddr, net: IpAddr, len: u8) -> bool {
    match (ip, net) {
        (IpAddr::V4(a), IpAddr::V4(n)) => {
            let len = u32::from(len.min(32));
            let mask = if len == 0 { 0 } else { u32::MAX << (32 - len) };
            u32::from(a) & mask == u32::from(n) & mask
        }
        (IpAddr::V6(a), IpAddr::V6(n)) => {
            let len = u32::from(len.min(128));
            let mask = if len == 0 {
                0
            } else {
                u128::MAX << (128 - len)
            };
            u128::from(a) & mask == u128::from(n) & mask
        }
        _ => false,
    }
}

impl PeerPolicy {
    /// Whether `ip` may be a peer.
    pub fn allows(&self, ip: IpAddr) -> bool {
        // An IPv4-mapped IPv6 address is judged as the IPv4 address it carries.
        let ip = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
            v4 => v4,
        };
        if self.deny.iter().any(|(n, l)| in_prefix(ip, *n, *l)) {
            return false;
        }
        if self.allow.iter().any(|(n, l)| in_prefix(ip, *n, *l)) {
            return true;
        }
        match ip {
            IpAddr::V4(v4) => self.allows_v4(v4),
            IpAddr::V6(v6) => self.allows_v6(v6),
        }
    }

    fn allows_v4(&self, ip: Ipv4Addr) -> bool {
        if ip.is_loopback() {
            return self.allow_loopback;
        }
        if ip.is_private() || ip.is_link_local() {
            return self.allow_private;
        }
        !(ip.is_unspecified() || ip.is_multicast() || ip.is_broadcast() || ip.octets()[0] == 0)
    }

    fn allows_v6(&self, ip: Ipv6Addr) -> bool {
        if ip.is_loopback() {
            return self.allow_loopback;
        }
        let seg0 = ip.segments()[0];
        let unique_local = seg0 & 0xfe00 == 0xfc00;
        let link_local = seg0 & 0xffc0 == 0xfe80;
        if unique_local || link_local {
            return self.allow_private;
        }
        !(ip.is_unspecified() || ip.is_multicast())
    }
}

/// Settings of a [`crate::Server`]. [`ServerConfig::new`] gives the defaults.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// REALM of the long-term mechanism (also the OAuth server name unless a key says
    /// otherwise).
    pub realm: String,
    /// SOFTWARE sent in responses, if any.
    pub software: Option<String>,
    /// IPv4 address relayed transport addresses are made on (`None`: no IPv4 relays, 440).
    pub relay_ipv4: Option<IpAddr>,
    /// IPv6 address relayed transport addresses are made on (`None`: no IPv6 relays, 440).
    pub relay_ipv6: Option<IpAddr>,
    /// Lowest relay port.
    pub min_port: u16,
    /// Highest relay port.
    pub max_port: u16,
    /// Allocation lifetime when the client asks for none (RFC 8656: 10 minutes).
    pub default_lifetime: Duration,
    /// Longest allocation lifetime granted (RFC 8656 recommends 1 hour).
    pub max_lifetime: Duration,
    /// How long a nonce stays valid before 438 Stale Nonce.
    pub nonce_lifetime: Duration,
    /// Key of the stateless nonces. Servers that share it accept each other's nonces.
    pub nonce_secret: [u8; 32],
    /// Offer SHA-256 long-term keys (RFC 8489 PASSWORD-ALGORITHMS). Off by default because
    /// RFC 5389 clients ignore it and the nonce must then carry the security-feature cookie.
    pub sha256_password_algorithm: bool,
    /// THIRD-PARTY-AUTHORIZATION sent in 401 when OAuth keys are configured (RFC 7635).
    pub third_party_authorization: Option<String>,
    /// Allocations in total (pending ones included); beyond: 508 Insufficient Capacity.
    pub max_allocations: usize,
    /// Allocations per username; beyond: 486 Allocation Quota Reached.
    pub max_allocations_per_user: usize,
    /// Permissions per allocation; beyond: 508.
    pub max_permissions: usize,
    /// Channels per allocation; beyond: 508.
    pub max_channels: usize,
    /// Which peers may be reached.
    pub peer_policy: PeerPolicy,
    /// RFC 5780 with a second address pair; `None` (the default) turns it off.
    pub rfc5780: Option<Rfc5780>,
    /// Datagrams held for `poll_transmit` before new ones are dropped.
    pub max_queued_transmits: usize,
    /// Accept channel numbers 0x5000-0x7FFF as RFC 5766 did (RFC 8656 allows 0x4000-0x4FFF
    /// only). On by default: RFC 5766 clients such as coturn's `turnutils_uclient` use them.
    pub rfc5766_channel_numbers: bool,
    /// Bandwidth of each allocation, per direction (`None`, the default: unlimited).
    pub allocation_bandwidth: Option<BandwidthLimit>,
    /// Bandwidth of all allocations of one user together, per direction (`None`, the
    /// default: unlimited).
    pub user_bandwidth: Option<BandwidthLimit>,
}

impl ServerConfig {
    /// The defaults: 10 minute allocations (1 hour at most), 10 minute nonces, ports
    /// 49152-65535, 10,000 allocations of which 100 per user, 1000 permissions and channels
    /// per allocation, channel numbers in RFC 5766's range, no RFC 5780, no bandwidth limit, no
    /// relay address (set at least one).
    pub fn new(realm: impl Into<String>) -> Self {
        ServerConfig {
            realm: realm.into(),
            software: None,
            relay_ipv4: None,
            relay_ipv6: None,
            min_port: 49152,
            max_port: 65535,
            default_lifetime: Duration::from_secs(600),
            max_lifetime: Duration::from_secs(3600),
            nonce_lifetime: Duration::from_secs(600),
            nonce_secret: [0; 32],
            sha256_password_algorithm: false,
            third_party_authorization: None,
            max_allocations: 10_000,
            max_allocations_per_user: 100,
            max_permissions: 1000,
            max_channels: 1000,
            peer_policy: PeerPolicy::default(),
            rfc5780: None,
            max_queued_transmits: 4096,
            rfc5766_channel_numbers: true,
            allocation_bandwidth: None,
            user_bandwidth: None,
        }
    }

    pub(crate) fn validate(&self) -> Result<()> {
        if self.min_port == 0 || self.min_port > self.max_port {
            return Err(Error::Config("relay port range is empty"));
        }
        if self.relay_ipv4.is_some_and(|ip| !ip.is_ipv4())
            || self.relay_ipv6.is_some_and(|ip| !ip.is_ipv6())
        {
            return Err(Error::Config("relay address of the wrong family"));
        }
        if self.realm.len() > 763 {
            return Err(Error::Config("realm longer than 763 octets"));
        }
        for l in [self.allocation_bandwidth, self.user_bandwidth]
            .into_iter()
            .flatten()
        {
            if l.bytes_per_second == 0 || l.burst == 0 {
                return Err(Error::Config(
                    "a bandwidth limit needs a rate and a burst above 0",
                ));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_policy_denies_internal_ranges() {
        let p = PeerPolicy::default();
        for denied in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.1.1",
            "224.0.0.1",
            "255.255.255.255",
            "0.0.0.0",
            "0.1.2.3",
            "::1",
            "::",
            "fe80::1",
            "fc00::1",
            "ff02::1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
        ] {
            assert!(!p.allows(denied.parse().unwrap()), "{denied}");
        }
        for allowed in [
            "198.51.100.1",
            "8.8.8.8",
            "2001:db8::1",
            "::ffff:198.51.100.1",
        ] {
            assert!(p.allows(allowed.parse().unwrap()), "{allowed}");
        }
        let p = PeerPolicy {
            allow_loopback: true,
            deny: vec![("198.51.100.0".parse().unwrap(), 24)],
            allow: vec![("10.9.0.0".parse().unwrap(), 16)],
            ..PeerPolicy::default()
        };
        assert!(p.allows("127.0.0.1".parse().unwrap()));
        assert!(!p.allows("198.51.100.1".parse().unwrap()));
        assert!(p.allows("10.9.1.1".parse().unwrap()));
        assert!(!p.allows("10.8.1.1".parse().unwrap()));
    }

    #[test]
    fn rfc5780_addresses() {
        let r = Rfc5780::new(
            "127.0.0.1:3478".parse().unwrap(),
            "127.0.0.2:3479".parse().unwrap(),
        )
        .unwrap();
        let local: SocketAddr = "127.0.0.1:3478".parse().unwrap();
        assert_eq!(
            r.other_address(local),
            Some("127.0.0.2:3479".parse().unwrap())
        );
        assert_eq!(
            r.changed(local, true, false),
            Some("127.0.0.2:3478".parse().unwrap())
        );
        assert_eq!(
            r.changed(local, false, true),
            Some("127.0.0.1:3479".parse().unwrap())
        );
        assert_eq!(
            r.changed(local, true, true),
            Some("127.0.0.2:3479".parse().unwrap())
        );
        assert!(Rfc5780::new(local, "127.0.0.2:3478".parse().unwrap()).is_err());
    }
}
