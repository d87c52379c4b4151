//! ICE candidates: the model, priorities and foundations (RFC 8445 section 5.1), and the SDP
//! `candidate` attribute grammar (RFC 8839 section 5.1).

use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::str::FromStr;

use crate::error::Error;

/// The type of a candidate (RFC 8445 section 5.1.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum CandidateKind {
    /// An address on a local interface.
    Host,
    /// The address a NAT mapped a host candidate to, learned from a STUN server.
    ServerReflexive,
    /// An address learned from a connectivity check.
    PeerReflexive,
    /// An address on a TURN server that relays for us.
    Relayed,
}

impl CandidateKind {
    /// The recommended type preference (RFC 8445 section 5.1.2.2).
    pub fn type_preference(self) -> u32 {
        match self {
            Self::Host => 126,
            Self::PeerReflexive => 110,
            Self::ServerReflexive => 100,
            Self::Relayed => 0,
        }
    }

    /// The `typ` token of the SDP grammar.
    pub fn as_sdp(self) -> &'static str {
        match self {
            Self::Host => "host",
            Self::ServerReflexive => "srflx",
            Self::PeerReflexive => "prflx",
            Self::Relayed => "relay",
        }
    }
}

/// The `tcptype` of a TCP candidate (RFC 6544). The model keeps it so TCP candidates can be
/// added later; the agent pairs UDP candidates only.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TcpType {
    /// Opens connections.
    Active,
    /// Accepts connections.
    Passive,
    /// Simultaneous open.
    SimultaneousOpen,
}

/// The transport protocol of a candidate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Transport {
    /// UDP.
    Udp,
    /// TCP, with its tcptype when known.
    Tcp(Option<TcpType>),
}

/// Where a candidate is: an IP address, or an mDNS name (a browser hiding its address behind
/// `<uuid>.local`) that must be resolved before it can be used.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum CandidateAddress {
    /// A resolved address.
    Ip(SocketAddr),
    /// An mDNS host name (ends in `.local`) and port.
    Mdns {
        /// The host name.
        name: String,
        /// The port.
        port: u16,
    },
}

impl fmt::Display for CandidateAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Ip(a) => write!(f, "{a}"),
            Self::Mdns { name, port } => write!(f, "{name}:{port}"),
        }
    }
}

/// One ICE candidate as it is signalled.
///
/// ```
/// use rtcweb_ice::{Candidate, CandidateKind};
///
/// let c: Candidate = "candidate:1 1 udp 2122260223 192.0.2.4 61665 typ host generation 0"
///     .parse()?;
/// assert_eq!(c.kind, CandidateKind::Host);
/// assert_eq!(c.addr(), Some("192.0.2.4:61665".parse().unwrap()));
/// assert_eq!(c.to_string(), "candidate:1 1 udp 2122260223 192.0.2.4 61665 typ host generation 0");
/// # Ok::<(), rtcweb_ice::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Candidate {
    /// Candidates with the same foundation are alike (same type, base and server).
    pub foundation: String,
    /// Component id; 1 for everything WebRTC sends.
    pub component: u16,
    /// Transport protocol.
    pub transport: Transport,
    /// Priority (RFC 8445 section 5.1.2).
    pub priority: u32,
    /// Address and port.
    pub address: CandidateAddress,
    /// Candidate type.
    pub kind: CandidateKind,
    /// `raddr`/`rport`: the base of a reflexive candidate or the mapped address of a relayed
    /// one. Informational only.
    pub related: Option<SocketAddr>,
    /// Extension attributes (`generation 0`, `ufrag x`, `network-cost 10`, ...), in order.
    pub extensions: Vec<(String, String)>,
}

/// Upper bound on a candidate attribute's length; real ones are under 200 octets.
const MAX_CANDIDATE_LEN: usize = 1024;

impl Candidate {
    /// The candidate's address if it is an IP address (not an unresolved mDNS name).
    pub fn addr(&self) -> Option<SocketAddr> {
        match self.address {
            CandidateAddress::Ip(a) => Some(a),
            CandidateAddress::Mdns { .. } => None,
        }
    }

    /// The value of an extension attribute, such as `ufrag`.
    pub fn extension(&self, name: &str) -> Option<&str> {
        self.extensions
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

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

impl FromStr for Candidate {
    type Err = Error;

    /// Parses `candidate:...`, with or without the `a=` prefix.
    fn from_str(s: &str) -> Result<Self, Error> {
        if s.len() > MAX_CANDIDATE_LEN {
            return Err(Error::MalformedCandidate("too long"));
        }
        let s = s.trim();
        let s = s.strip_prefix("a=").unwrap_or(s);
        let s = s
            .strip_prefix("candidate:")
            .ok_or(Error::MalformedCandidate("no candidate: prefix"))?;
        let mut it = s.split_ascii_whitespace();
        let mut next = |what: &'static str| it.next().ok_or(Error::MalformedCandidate(what));
        let foundation = next("foundation")?;
        if foundation.is_empty()
            || foundation.len() > 32
            || !foundation
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'+' || b == b'/')
        {
            return Err(Error::MalformedCandidate("foundation"));
        }
        let component: u16 = next("component")?
            .parse()
            .map_err(|_| Error::MalformedCandidate("component"))?;
        let transport_token = next("transport")?;
        let mut transport = match transport_token.to_ascii_lowercase().as_str() {
            "udp" => Transport::Udp,
            "tcp" => Transport::Tcp(None),
            _ => return Err(Error::UnsupportedTransport(transport_token.to_owned())),
        };
        let priority: u32 = next("priority")?
            .parse()
            .map_err(|_| Error::MalformedCandidate("priority"))?;
        let host = next("address")?;
        let port: u16 = next("port")?
            .parse()
            .map_err(|_| Error::MalformedCandidate("port"))?;
        let address = parse_address(host, port)?;
        if next("typ")? != "typ" {
            return Err(Error::MalformedCandidate("expected typ"));
        }
        let kind = match next("candidate type")? {
            "host" => CandidateKind::Host,
            "srflx" => CandidateKind::ServerReflexive,
            "prflx" => CandidateKind::PeerReflexive,
            "relay" => CandidateKind::Relayed,
            _ => return Err(Error::MalformedCandidate("candidate type")),
        };
        let mut related_ip: Option<&str> = None;
        let mut related_port: Option<u16> = None;
        let mut extensions = Vec::new();
        while let Some(name) = it.next() {
            let value = it
                .next()
                .ok_or(Error::MalformedCandidate("extension without value"))?;
            match name {
                "raddr" => related_ip = Some(value),
                "rport" => {
                    related_port = Some(
                        value
                            .parse()
                            .map_err(|_| Error::MalformedCandidate("rport"))?,
                    )
                }
                "tcptype" => {
                    let t = match value {
                        "active" => TcpType::Active,
                        "passive" => TcpType::Passive,
                        "so" => TcpType::SimultaneousOpen,
                        _ => return Err(Error::MalformedCandidate("tcptype")),
                    };
                    transport = Transport::Tcp(Some(t));
                }
                _ => extensions.push((name.to_owned(), value.to_owned())),
            }
        }
        // An mDNS or otherwise unparsable raddr is informational: drop it.
        let related = match (related_ip, related_port) {
            (Some(ip), Some(port)) => ip
                .parse::<IpAddr>()
                .ok()
                .map(|ip| SocketAddr::new(ip, port)),
            _ => None,
        };
        Ok(Candidate {
            foundation: foundation.to_owned(),
            component,
            transport,
            priority,
            address,
            kind,
            related,
            extensions,
        })
    }
}

fn parse_address(host: &str, port: u16) -> Result<CandidateAddress, Error> {
    if let Ok(ip) = host.parse::<IpAddr>() {
        return Ok(CandidateAddress::Ip(SocketAddr::new(ip, port)));
    }
    let name = host.strip_suffix('.').unwrap_or(host);
    let valid_label = |l: &str| {
        !l.is_empty() && l.len() <= 63 && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
    };
    if name.len() <= 253
        && name.to_ascii_lowercase().ends_with(".local")
        && name.split('.').all(valid_label)
    {
        return Ok(CandidateAddress::Mdns {
            name: name.to_owned(),
            port,
        });
    }
    Err(Error::MalformedCandidate(
        "address is neither an IP address nor an mDNS name",
    ))
}

impl fmt::Display for Candidate {
    /// Formats as the SDP attribute value, `candidate:...` (without `a=`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let transport = match self.transport {
            Transport::Udp => "udp",
            Transport::Tcp(_) => "tcp",
        };
        let (host, port) = match &self.address {
            CandidateAddress::Ip(a) => (a.ip().to_string(), a.port()),
            CandidateAddress::Mdns { name, port } => (name.clone(), *port),
        };
        write!(
            f,
            "candidate:{} {} {} {} {} {} typ {}",
            self.foundation,
            self.component,
            transport,
            self.priority,
            host,
            port,
            self.kind.as_sdp()
        )?;
        if let Some(r) = self.related {
            write!(f, " raddr {} rport {}", r.ip(), r.port())?;
        }
        if let Transport::Tcp(Some(t)) = self.transport {
            let t = match t {
                TcpType::Active => "active",
                TcpType::Passive => "passive",
                TcpType::SimultaneousOpen => "so",
            };
            write!(f, " tcptype {t}")?;
        }
        for (k, v) in &self.extensions {
            write!(f, " {k} {v}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_browser_candidates() {
        let chrome = "candidate:3027363945 1 udp 1677729535 198.51.100.7 50322 typ srflx raddr 10.0.0.5 rport 50322 generation 0 ufrag Xk2b network-cost 999";
        let c: Candidate = chrome.parse().unwrap();
        assert_eq!(c.kind, CandidateKind::ServerReflexive);
        assert_eq!(c.related, Some("10.0.0.5:50322".parse().unwrap()));
        assert_eq!(c.extension("ufrag"), Some("Xk2b"));
        assert_eq!(c.to_string(), chrome);

        let mdns = "a=candidate:1 1 UDP 2122252543 0f2a5e3c-1b1a-4bd5-9a2b-4f3d2a7c0e11.local 54400 typ host";
        let c: Candidate = mdns.parse().unwrap();
        assert!(matches!(
            c.address,
            CandidateAddress::Mdns { port: 54400, .. }
        ));
        assert_eq!(c.addr(), None);

        let tcp = "candidate:2 1 tcp 1518280447 192.0.2.1 9 typ host tcptype active";
        let c: Candidate = tcp.parse().unwrap();
        assert_eq!(c.transport, Transport::Tcp(Some(TcpType::Active)));
        assert_eq!(c.to_string(), tcp);

        let v6 = "candidate:3 1 udp 2122262783 2001:db8::1 40000 typ host";
        assert_eq!(
            v6.parse::<Candidate>().unwrap().addr(),
            Some("[2001:db8::1]:40000".parse().unwrap())
        );
    }

    #[test]
    fn rejects_malformed_candidates() {
        for bad in [
            "",
            "candidate:",
            "candidate:1 1 udp",
            "candidate:1 1 udp x 192.0.2.1 1 typ host",
            "candidate:1 1 udp 1 192.0.2.1 70000 typ host",
            "candidate:1 1 udp 1 192.0.2.1 1 typ nope",
            "candidate:1 1 udp 1 192.0.2.1 1 host",
            "candidate:1 1 sctp 1 192.0.2.1 1 typ host",
            "candidate:1 1 udp 1 example.com 1 typ host",
            "candidate:1 1 udp 1 192.0.2.1 1 typ host generation",
        ] {
            assert!(bad.parse::<Candidate>().is_err(), "{bad}");
        }
        assert!(
            "candidate:1 1 udp 1 192.0.2.1 1 typ host "
                .repeat(40)
                .parse::<Candidate>()
                .is_err()
        );
    }

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
