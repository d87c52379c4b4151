//! ICE candidates as they are signalled: the model (RFC 8445 section 5.1) and the SDP
//! `candidate` attribute grammar (RFC 8839 section 5.1), with mDNS (`.local`) addresses.
//!
//! The ICE agent gathers and pairs them; JSEP carries them in `a=candidate` lines; the
//! `PeerConnection` hands them between the two as they are, without formatting them in between.

use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::str::FromStr;

use crate::Error;

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

/// The `tcptype` of a TCP candidate (RFC 6544).
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
/// `Display` writes the W3C `RTCIceCandidateInit.candidate` string (`candidate:...`, the
/// RFC 8839 `candidate-attribute`); [`Candidate::attribute_value`] the text after
/// `a=candidate:` in SDP.
///
/// ```
/// use rtcweb_core::{Candidate, CandidateKind};
///
/// let c: Candidate = "candidate:1 1 udp 2122260223 192.0.2.4 61665 typ host generation 0"
///     .parse()?;
/// assert_eq!(c.kind, CandidateKind::Host);
/// assert_eq!(c.addr(), Some("192.0.2.4:61665".parse().unwrap()));
/// assert_eq!(c.to_string(), "candidate:1 1 udp 2122260223 192.0.2.4 61665 typ host generation 0");
/// assert_eq!(c.attribute_value().to_string(), "1 1 udp 2122260223 192.0.2.4 61665 typ host generation 0");
/// # Ok::<(), rtcweb_core::Error>(())
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
    /// one. Informational only: an mDNS or otherwise unparsable `raddr` is left out.
    pub related: Option<SocketAddr>,
    /// Extension attributes (`generation 0`, `ufrag x`, `network-cost 10`, ...), in order,
    /// kept as written.
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

    /// Whether the address is an mDNS name (`.local`) rather than an IP address.
    pub fn is_mdns(&self) -> bool {
        matches!(self.address, CandidateAddress::Mdns { .. })
    }

    /// The value of an extension attribute, such as `ufrag`.
    pub fn extension(&self, name: &str) -> Option<&str> {
        self.extensions
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// Parses the value of an SDP `a=candidate:` line: the candidate without the `candidate:`
    /// prefix.
    pub fn parse_value(s: &str) -> Result<Self, Error> {
        if s.len() > MAX_CANDIDATE_LEN {
            return Err(Error::MalformedCandidate("too long"));
        }
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
        let mut transport = if transport_token.eq_ignore_ascii_case("udp") {
            Transport::Udp
        } else if transport_token.eq_ignore_ascii_case("tcp") {
            Transport::Tcp(None)
        } else {
            return Err(Error::UnsupportedTransport(transport_token.to_owned()));
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

    /// The text after `a=candidate:` in SDP (the [`Display`](fmt::Display) form without its
    /// `candidate:` prefix).
    pub fn attribute_value(&self) -> impl fmt::Display + '_ {
        AttributeValue(self)
    }
}

impl FromStr for Candidate {
    type Err = Error;

    /// Parses `candidate:...` (the W3C `RTCIceCandidateInit.candidate` string), with or
    /// without the `a=` of an SDP line.
    fn from_str(s: &str) -> Result<Self, Error> {
        if s.len() > MAX_CANDIDATE_LEN {
            return Err(Error::MalformedCandidate("too long"));
        }
        // ASCII whitespace only, as the fields are split: `trim` would also take a vertical
        // tab off the last field, and the candidate would not format back to itself.
        let s = s.trim_ascii();
        let s = s.strip_prefix("a=").unwrap_or(s);
        let s = s
            .strip_prefix("candidate:")
            .ok_or(Error::MalformedCandidate("no candidate: prefix"))?;
        Candidate::parse_value(s)
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

struct AttributeValue<'a>(&'a Candidate);

impl fmt::Display for AttributeValue<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let c = self.0;
        let transport = match c.transport {
            Transport::Udp => "udp",
            Transport::Tcp(_) => "tcp",
        };
        match &c.address {
            CandidateAddress::Ip(a) => write!(
                f,
                "{} {} {transport} {} {} {}",
                c.foundation,
                c.component,
                c.priority,
                a.ip(),
                a.port()
            )?,
            CandidateAddress::Mdns { name, port } => write!(
                f,
                "{} {} {transport} {} {name} {port}",
                c.foundation, c.component, c.priority
            )?,
        }
        write!(f, " typ {}", c.kind.as_sdp())?;
        if let Some(r) = c.related {
            write!(f, " raddr {} rport {}", r.ip(), r.port())?;
        }
        if let Transport::Tcp(Some(t)) = c.transport {
            let t = match t {
                TcpType::Active => "active",
                TcpType::Passive => "passive",
                TcpType::SimultaneousOpen => "so",
            };
            write!(f, " tcptype {t}")?;
        }
        for (k, v) in &c.extensions {
            write!(f, " {k} {v}")?;
        }
        Ok(())
    }
}

impl fmt::Display for Candidate {
    /// Formats as the W3C candidate string, `candidate:...` (without `a=`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "candidate:{}", self.attribute_value())
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
        assert!(c.is_mdns());

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
    fn the_sdp_value_has_no_prefix_and_parses_back() {
        let line = "1 1 udp 2122260223 192.0.2.4 61665 typ host generation 0";
        let c = Candidate::parse_value(line).unwrap();
        assert_eq!(c.attribute_value().to_string(), line);
        assert_eq!(c.to_string(), format!("candidate:{line}"));
        // The W3C string needs its prefix; an SDP value must not have one.
        assert!(line.parse::<Candidate>().is_err());
        assert!(Candidate::parse_value(&c.to_string()).is_err());
        assert_eq!(
            "sctp".parse::<Candidate>().unwrap_err().category(),
            crate::ErrorCategory::Malformed
        );
        assert_eq!(
            Candidate::parse_value("1 1 sctp 1 192.0.2.1 1 typ host").unwrap_err(),
            Error::UnsupportedTransport("sctp".into())
        );
        // Found by fuzz target core_values: a vertical tab ends the last field, not the line.
        let c: Candidate = "candidate:1 1 udp 1 192.0.2.1 1 typ host x y\u{b}"
            .parse()
            .unwrap();
        assert_eq!(c.extension("x"), Some("y\u{b}"));
        assert_eq!(c.to_string().parse::<Candidate>(), Ok(c));
    }
}
