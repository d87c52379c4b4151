//! `a=candidate` (RFC 8839 section 5.1), including mDNS (`.local`) addresses.

use std::fmt;

use super::attrs::{AttrResult, num};

/// ICE candidate type (RFC 8839 section 5.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CandidateType {
    /// `host`
    Host,
    /// `srflx`
    Srflx,
    /// `prflx`
    Prflx,
    /// `relay`
    Relay,
}

impl CandidateType {
    fn as_str(self) -> &'static str {
        match self {
            CandidateType::Host => "host",
            CandidateType::Srflx => "srflx",
            CandidateType::Prflx => "prflx",
            CandidateType::Relay => "relay",
        }
    }
}

/// `a=candidate` (RFC 8839 section 5.1). The address may be an IP or an mDNS `.local` name.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Candidate {
    /// Foundation.
    pub foundation: String,
    /// Component id (1 = RTP).
    pub component: u16,
    /// Transport as written (`udp`, `UDP`, `tcp`).
    pub transport: String,
    /// Priority.
    pub priority: u32,
    /// Connection address: IPv4, IPv6 or an FQDN such as `<uuid>.local`.
    pub address: String,
    /// Port.
    pub port: u16,
    /// Candidate type.
    pub typ: CandidateType,
    /// `raddr`
    pub related_address: Option<String>,
    /// `rport`
    pub related_port: Option<u16>,
    /// Other name/value pairs (`generation`, `tcptype`, `ufrag`, `network-id`, ...), in order.
    pub extensions: Vec<(String, String)>,
}

impl Candidate {
    /// Parses a candidate from its attribute value, with or without the `candidate:` prefix
    /// (the W3C `RTCIceCandidateInit.candidate` string has it).
    pub fn parse(s: &str) -> crate::Result<Self> {
        let s = s.trim();
        let s = s.strip_prefix("a=").unwrap_or(s);
        let s = s.strip_prefix("candidate:").unwrap_or(s);
        Self::parse_value(s).map_err(|reason| crate::Error::SdpSyntax { line: 1, reason })
    }

    pub(crate) fn parse_value(s: &str) -> AttrResult<Self> {
        let mut t = s.split_ascii_whitespace();
        let mut next = |what: &str| t.next().ok_or_else(|| format!("candidate without {what}"));
        let foundation = next("foundation")?.to_owned();
        let component = num(next("component")?, "component")?;
        let transport = next("transport")?.to_owned();
        let priority = num(next("priority")?, "priority")?;
        let address = next("address")?.to_owned();
        let port = num(next("port")?, "port")?;
        if next("typ")? != "typ" {
            return Err("candidate without typ".into());
        }
        let typ = match next("type")? {
            "host" => CandidateType::Host,
            "srflx" => CandidateType::Srflx,
            "prflx" => CandidateType::Prflx,
            "relay" => CandidateType::Relay,
            other => return Err(format!("unknown candidate type {other:?}")),
        };
        let mut c = Candidate {
            foundation,
            component,
            transport,
            priority,
            address,
            port,
            typ,
            related_address: None,
            related_port: None,
            extensions: Vec::new(),
        };
        while let Ok(name) = next("") {
            let value = next("extension value")?;
            match name {
                "raddr" if c.related_address.is_none() => c.related_address = Some(value.into()),
                "rport" if c.related_port.is_none() => c.related_port = Some(num(value, "rport")?),
                _ => c.extensions.push((name.to_owned(), value.to_owned())),
            }
        }
        Ok(c)
    }

    /// Whether the address is an mDNS name (`.local`) rather than an IP address.
    pub fn is_mdns(&self) -> bool {
        self.address.ends_with(".local")
    }
}

impl fmt::Display for Candidate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {} {} {} {} {} typ {}",
            self.foundation,
            self.component,
            self.transport,
            self.priority,
            self.address,
            self.port,
            self.typ.as_str()
        )?;
        if let Some(a) = &self.related_address {
            write!(f, " raddr {a}")?;
        }
        if let Some(p) = self.related_port {
            write!(f, " rport {p}")?;
        }
        for (k, v) in &self.extensions {
            write!(f, " {k} {v}")?;
        }
        Ok(())
    }
}
