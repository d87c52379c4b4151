//! Typed SDP (RFC 8866) for WebRTC, over the `sdp` crate's line grammar.
//!
//! [`SessionDescription::parse`] checks size and line limits, lets the `sdp` crate split the
//! text into its string bag, then types every attribute JSEP needs. Anything it does not
//! interpret is kept in `attributes` and written back by [`SessionDescription::to_sdp`], so
//! `parse(to_sdp(parse(x))) == parse(x)`.
//!
//! ```
//! use rtcweb_jsep::sdp::SessionDescription;
//! let text = "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=x-custom:kept\r\n\
//!             m=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\nc=IN IP4 0.0.0.0\r\n\
//!             a=mid:0\r\na=sctp-port:5000\r\n";
//! let sd = SessionDescription::parse(text).unwrap();
//! assert_eq!(sd.media[0].sctp_port, Some(5000));
//! assert_eq!(sd.attributes[0].name, "x-custom");
//! assert_eq!(SessionDescription::parse(&sd.to_sdp()).unwrap(), sd);
//! ```

pub mod attrs;
pub mod media;

use std::io::Cursor;

pub use attrs::*;
pub use media::{MediaKind, MediaSection};
/// The values JSEP shares with the other layers, typed once here: `a=candidate` (ICE),
/// `a=fingerprint` and `a=setup` (DTLS).
pub use rtcweb_core::{
    Candidate, CandidateAddress, CandidateKind, Fingerprint, HashFunction, Role, Setup, TcpType,
    Transport,
};

use crate::{Error, Result};

/// Caps on untrusted input. Parsing is linear in the input, so these bound time and memory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest accepted description in bytes.
    pub max_bytes: usize,
    /// Most lines accepted.
    pub max_lines: usize,
    /// Longest accepted line in bytes.
    pub max_line_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        // A Chromium offer with 3 m= sections is about 6 KB and 150 lines; these allow a few
        // hundred transceivers.
        Limits {
            max_bytes: 512 * 1024,
            max_lines: 16 * 1024,
            max_line_bytes: 8 * 1024,
        }
    }
}

/// `o=` line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    /// User name (`-`).
    pub username: String,
    /// Session id.
    pub session_id: u64,
    /// Session version, incremented by each new local description.
    pub session_version: u64,
    /// `IN`
    pub net_type: String,
    /// `IP4` or `IP6`
    pub addr_type: String,
    /// Unicast address.
    pub address: String,
}

/// `c=` line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Connection {
    /// `IN`
    pub net_type: String,
    /// `IP4` or `IP6`
    pub addr_type: String,
    /// Address (with `/ttl` etc. if written).
    pub address: Option<String>,
}

impl Connection {
    /// `IN IP4 0.0.0.0`, what JSEP writes before candidates are known.
    pub fn unspecified() -> Self {
        Connection {
            net_type: "IN".into(),
            addr_type: "IP4".into(),
            address: Some("0.0.0.0".into()),
        }
    }
}

/// `b=<type>:<kbps>` line; the type keeps an `X-` prefix if written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bandwidth {
    /// `AS`, `TIAS`, `CT`, `X-...`.
    pub bw_type: String,
    /// Value.
    pub value: u64,
}

/// `t=` line with its `r=` lines (kept as text).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Timing {
    /// Start time.
    pub start: u64,
    /// Stop time.
    pub stop: u64,
    /// `r=` lines as the grammar normalises them.
    pub repeats: Vec<String>,
}

/// ICE attributes (RFC 8839), valid at session or media level.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IceAttrs {
    /// `a=ice-ufrag`
    pub ufrag: Option<String>,
    /// `a=ice-pwd`
    pub pwd: Option<String>,
    /// `a=ice-options` tokens (`trickle`, `ice2`, ...).
    pub options: Vec<String>,
    /// `a=ice-lite`
    pub lite: bool,
}

impl IceAttrs {
    /// Returns `Ok(false)` for a repeat that the caller keeps verbatim.
    pub(crate) fn push(&mut self, name: &str, value: Option<&str>) -> AttrResult<bool> {
        let v = || {
            value
                .map(str::trim)
                .ok_or_else(|| format!("a={name} needs a value"))
        };
        match name {
            "ice-ufrag" if self.ufrag.is_none() => self.ufrag = Some(v()?.to_owned()),
            "ice-pwd" if self.pwd.is_none() => self.pwd = Some(v()?.to_owned()),
            "ice-options" if self.options.is_empty() => {
                self.options = v()?.split_ascii_whitespace().map(str::to_owned).collect()
            }
            "ice-lite" => self.lite = true,
            _ => return Ok(false),
        }
        Ok(true)
    }

    fn emit(&self, put: &mut impl FnMut(&str, Option<String>)) {
        if self.lite {
            put("ice-lite", None);
        }
        if let Some(u) = &self.ufrag {
            put("ice-ufrag", Some(u.clone()));
        }
        if let Some(p) = &self.pwd {
            put("ice-pwd", Some(p.clone()));
        }
        if !self.options.is_empty() {
            put("ice-options", Some(self.options.join(" ")));
        }
    }
}

/// A whole session description.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionDescription {
    /// `o=`
    pub origin: Origin,
    /// `s=`
    pub session_name: String,
    /// `i=`
    pub information: Option<String>,
    /// `u=`
    pub uri: Option<String>,
    /// `e=`
    pub email: Option<String>,
    /// `p=`
    pub phone: Option<String>,
    /// Session-level `c=`.
    pub connection: Option<Connection>,
    /// Session-level `b=`.
    pub bandwidth: Vec<Bandwidth>,
    /// `t=`/`r=` lines.
    pub timing: Vec<Timing>,
    /// `z=` as text.
    pub time_zones: Option<String>,
    /// Session-level `k=`.
    pub encryption_key: Option<String>,
    /// Session-level ICE attributes.
    pub ice: IceAttrs,
    /// Session-level `a=fingerprint` lines.
    pub fingerprints: Vec<Fingerprint>,
    /// Session-level `a=setup`.
    pub setup: Option<Setup>,
    /// `a=group` lines (BUNDLE, LS).
    pub groups: Vec<Group>,
    /// Session-level `a=extmap-allow-mixed`.
    pub extmap_allow_mixed: bool,
    /// Session-level `a=extmap` lines.
    pub extmaps: Vec<ExtMap>,
    /// Session-level attributes not interpreted here, verbatim.
    pub attributes: Vec<Attribute>,
    /// The m= sections in order.
    pub media: Vec<MediaSection>,
}

impl SessionDescription {
    /// A description with the session-level lines JSEP writes and no media.
    pub fn new(session_id: u64, session_version: u64) -> Self {
        SessionDescription {
            origin: Origin {
                username: "-".into(),
                session_id,
                session_version,
                net_type: "IN".into(),
                addr_type: "IP4".into(),
                address: "127.0.0.1".into(),
            },
            session_name: "-".into(),
            information: None,
            uri: None,
            email: None,
            phone: None,
            connection: None,
            bandwidth: Vec::new(),
            timing: vec![Timing {
                start: 0,
                stop: 0,
                repeats: Vec::new(),
            }],
            time_zones: None,
            encryption_key: None,
            ice: IceAttrs::default(),
            fingerprints: Vec::new(),
            setup: None,
            groups: Vec::new(),
            extmap_allow_mixed: false,
            extmaps: Vec::new(),
            attributes: Vec::new(),
            media: Vec::new(),
        }
    }

    /// Parses with the default [`Limits`].
    pub fn parse(text: &str) -> Result<Self> {
        Self::parse_with_limits(text, &Limits::default())
    }

    /// Parses bytes (must be UTF-8) with the default [`Limits`].
    pub fn parse_bytes(bytes: &[u8]) -> Result<Self> {
        let limits = Limits::default();
        if bytes.len() > limits.max_bytes {
            return Err(Error::SdpTooLarge {
                size: bytes.len(),
                limit: limits.max_bytes,
            });
        }
        match std::str::from_utf8(bytes) {
            Ok(text) => Self::parse_with_limits(text, &limits),
            Err(e) => {
                let line = 1 + bytes
                    .iter()
                    .take(e.valid_up_to())
                    .filter(|b| **b == b'\n')
                    .count();
                Err(Error::SdpSyntax {
                    line,
                    reason: "not UTF-8".into(),
                    value: None,
                })
            }
        }
    }

    /// Parses, enforcing `limits`. Errors name the 1-based line at fault.
    pub fn parse_with_limits(text: &str, limits: &Limits) -> Result<Self> {
        if text.len() > limits.max_bytes {
            return Err(Error::SdpTooLarge {
                size: text.len(),
                limit: limits.max_bytes,
            });
        }
        let lines = scan_lines(text, limits)?;
        let mut cursor = Cursor::new(text.as_bytes());
        let bag = match sdp::SessionDescription::unmarshal(&mut cursor) {
            Ok(bag) => bag,
            Err(e) => {
                let pos = usize::try_from(cursor.position()).unwrap_or(text.len());
                return Err(Error::SdpSyntax {
                    line: line_at(text, pos),
                    reason: grammar_reason(&e),
                    value: None,
                });
            }
        };
        from_bag(bag, &lines)
    }

    /// Writes the description as SDP text (CRLF line ends).
    pub fn to_sdp(&self) -> String {
        to_bag(self).marshal()
    }

    /// The first group with these semantics (e.g. `BUNDLE`) that contains `mid`.
    pub fn group_of(&self, semantics: &str, mid: &str) -> Option<&Group> {
        self.groups
            .iter()
            .find(|g| g.semantics == semantics && g.mids.iter().any(|m| m == mid))
    }

    /// ICE ufrag/pwd for m= section `index`: media level, else session level.
    pub fn ice_credentials(&self, index: usize) -> Option<(&str, &str)> {
        let m = self.media.get(index)?;
        let ufrag = m.ice.ufrag.as_deref().or(self.ice.ufrag.as_deref())?;
        let pwd = m.ice.pwd.as_deref().or(self.ice.pwd.as_deref())?;
        Some((ufrag, pwd))
    }

    /// Fingerprints for m= section `index`: media level, else session level.
    pub fn fingerprints_of(&self, index: usize) -> &[Fingerprint] {
        match self.media.get(index) {
            Some(m) if !m.fingerprints.is_empty() => &m.fingerprints,
            _ => &self.fingerprints,
        }
    }

    /// `a=setup` for m= section `index`: media level, else session level.
    pub fn setup_of(&self, index: usize) -> Option<Setup> {
        self.media.get(index).and_then(|m| m.setup).or(self.setup)
    }
}

impl std::fmt::Display for SessionDescription {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.to_sdp())
    }
}

/// Where each `a=` line came from, so typed errors can name it.
struct LineMap {
    session_attrs: Vec<usize>,
    /// Per m= section: its own line number and those of its `a=` lines.
    media: Vec<(usize, Vec<usize>)>,
}

/// Checks the `<type>=<value>` shape, limits and characters of every line, and records the
/// line numbers of `m=` and `a=` lines (the grammar keeps their order).
fn scan_lines(text: &str, limits: &Limits) -> Result<LineMap> {
    let mut map = LineMap {
        session_attrs: Vec::new(),
        media: Vec::new(),
    };
    let mut count = 0usize;
    for (i, raw) in text.split('\n').enumerate() {
        let line = i + 1;
        let l = raw.strip_suffix('\r').unwrap_or(raw);
        if l.is_empty() {
            continue;
        }
        count += 1;
        if count > limits.max_lines {
            return Err(Error::SdpTooManyLines {
                limit: limits.max_lines,
            });
        }
        let err = |reason: &str| Error::SdpSyntax {
            line,
            reason: reason.to_owned(),
            value: None,
        };
        if l.len() > limits.max_line_bytes {
            return Err(err("line too long"));
        }
        let b = l.as_bytes();
        if b.len() < 2 || !b[0].is_ascii_lowercase() || b[1] != b'=' {
            return Err(err("expected <type>=<value>"));
        }
        if b.iter().any(|c| *c == 0 || *c == b'\r') {
            return Err(err("NUL or CR inside a line"));
        }
        match b[0] {
            b'm' => map.media.push((line, Vec::new())),
            b'a' => match map.media.last_mut() {
                Some((_, attrs)) => attrs.push(line),
                None => map.session_attrs.push(line),
            },
            _ => {}
        }
    }
    Ok(map)
}

/// 1-based number of the line holding byte `pos - 1`, the last byte the grammar consumed.
fn line_at(text: &str, pos: usize) -> usize {
    let end = pos.saturating_sub(1).min(text.len());
    1 + text
        .as_bytes()
        .iter()
        .take(end)
        .filter(|b| **b == b'\n')
        .count()
}

fn grammar_reason(e: &sdp::Error) -> String {
    match e {
        sdp::Error::SdpInvalidSyntax(s) if s.is_empty() => {
            "description ends early (missing v=, o=, s= or t=)".into()
        }
        sdp::Error::SdpInvalidSyntax(s) if s.len() == 2 => format!("{s} line not allowed here"),
        other => format!("{other}"),
    }
}

fn syntax(line: usize, e: impl Into<AttrError>) -> Error {
    match e.into() {
        AttrError::Reason(reason) => Error::SdpSyntax {
            line,
            reason,
            value: None,
        },
        AttrError::Value(e) => Error::SdpSyntax {
            line,
            reason: e.to_string(),
            value: Some(e),
        },
    }
}

fn from_bag(bag: sdp::SessionDescription, lines: &LineMap) -> Result<SessionDescription> {
    let o = bag.origin;
    let mut sd = SessionDescription::new(o.session_id, o.session_version);
    sd.origin = Origin {
        username: o.username,
        session_id: o.session_id,
        session_version: o.session_version,
        net_type: o.network_type,
        addr_type: o.address_type,
        address: o.unicast_address,
    };
    sd.session_name = bag.session_name;
    sd.information = bag.session_information;
    sd.uri = bag.uri.map(|u| u.to_string());
    sd.email = bag.email_address;
    sd.phone = bag.phone_number;
    sd.connection = bag.connection_information.map(connection_from);
    sd.bandwidth = bag.bandwidth.iter().map(bandwidth_from).collect();
    sd.timing = bag
        .time_descriptions
        .iter()
        .map(|t| Timing {
            start: t.timing.start_time,
            stop: t.timing.stop_time,
            repeats: t.repeat_times.iter().map(|r| r.to_string()).collect(),
        })
        .collect();
    if !bag.time_zones.is_empty() {
        let z: Vec<String> = bag.time_zones.iter().map(|z| z.to_string()).collect();
        sd.time_zones = Some(z.join(" "));
    }
    sd.encryption_key = bag.encryption_key;
    for (i, a) in bag.attributes.iter().enumerate() {
        let line = lines.session_attrs.get(i).copied().unwrap_or(0);
        session_attribute(&mut sd, &a.key, a.value.as_deref()).map_err(|r| syntax(line, r))?;
    }
    for (mi, md) in bag.media_descriptions.into_iter().enumerate() {
        let (mline, attr_lines) = match lines.media.get(mi) {
            Some((l, a)) => (*l, a.as_slice()),
            None => (0, &[][..]),
        };
        let name = md.media_name;
        let port = u16::try_from(name.port.value).map_err(|_| syntax(mline, "bad port"))?;
        let port_count = name
            .port
            .range
            .map(u16::try_from)
            .transpose()
            .map_err(|_| syntax(mline, "bad port count"))?;
        let mut m = MediaSection::new(
            MediaKind::from_name(&name.media),
            port,
            &name.protos.join("/"),
        );
        m.port_count = port_count;
        m.formats = name.formats;
        m.title = md.media_title;
        m.connection = md.connection_information.map(connection_from);
        m.bandwidth = md.bandwidth.iter().map(bandwidth_from).collect();
        m.encryption_key = md.encryption_key;
        for (ai, a) in md.attributes.iter().enumerate() {
            let line = attr_lines.get(ai).copied().unwrap_or(mline);
            m.push_attribute(&a.key, a.value.as_deref())
                .map_err(|r| syntax(line, r))?;
        }
        m.attach_codec_params().map_err(|r| syntax(mline, r))?;
        sd.media.push(m);
    }
    Ok(sd)
}

fn session_attribute(
    sd: &mut SessionDescription,
    name: &str,
    value: Option<&str>,
) -> AttrResult<()> {
    let v = || value.ok_or_else(|| format!("a={name} needs a value"));
    match name {
        "ice-ufrag" | "ice-pwd" | "ice-options" | "ice-lite" => {
            if !sd.ice.push(name, value)? {
                sd.attributes.push(Attribute::new(name, value));
            }
        }
        "fingerprint" => sd.fingerprints.push(v()?.parse()?),
        "setup" if sd.setup.is_none() => sd.setup = Some(v()?.parse()?),
        "group" => sd.groups.push(Group::parse(v()?)?),
        "extmap-allow-mixed" => sd.extmap_allow_mixed = true,
        "extmap" => sd.extmaps.push(ExtMap::parse(v()?)?),
        _ => sd.attributes.push(Attribute::new(name, value)),
    }
    Ok(())
}

fn connection_from(c: sdp::description::common::ConnectionInformation) -> Connection {
    Connection {
        net_type: c.network_type,
        addr_type: c.address_type,
        address: c.address.map(|a| a.to_string()),
    }
}

fn bandwidth_from(b: &sdp::description::common::Bandwidth) -> Bandwidth {
    let prefix = if b.experimental { "X-" } else { "" };
    Bandwidth {
        bw_type: format!("{prefix}{}", b.bandwidth_type),
        value: b.bandwidth,
    }
}

fn connection_to(c: &Connection) -> sdp::description::common::ConnectionInformation {
    sdp::description::common::ConnectionInformation {
        network_type: c.net_type.clone(),
        address_type: c.addr_type.clone(),
        address: c
            .address
            .as_ref()
            .map(|a| sdp::description::common::Address {
                address: a.clone(),
                ttl: None,
                range: None,
            }),
    }
}

fn bandwidth_to(b: &Bandwidth) -> sdp::description::common::Bandwidth {
    let (experimental, t) = match b.bw_type.strip_prefix("X-") {
        Some(t) => (true, t),
        None => (false, b.bw_type.as_str()),
    };
    sdp::description::common::Bandwidth {
        experimental,
        bandwidth_type: t.to_owned(),
        bandwidth: b.value,
    }
}

fn attr(k: String, v: Option<String>) -> sdp::description::common::Attribute {
    sdp::description::common::Attribute { key: k, value: v }
}

fn to_bag(sd: &SessionDescription) -> sdp::SessionDescription {
    use sdp::description::{media as m, session as s};
    let mut attrs = Vec::new();
    let mut put = |k: &str, v: Option<String>| attrs.push(attr(k.to_owned(), v));
    for g in &sd.groups {
        put("group", Some(g.to_string()));
    }
    if sd.extmap_allow_mixed {
        put("extmap-allow-mixed", None);
    }
    sd.ice.emit(&mut put);
    for f in &sd.fingerprints {
        put("fingerprint", Some(f.to_string()));
    }
    if let Some(s) = sd.setup {
        put("setup", Some(s.to_string()));
    }
    for e in &sd.extmaps {
        put("extmap", Some(e.to_string()));
    }
    for a in &sd.attributes {
        put(&a.name, a.value.clone());
    }
    let media = sd
        .media
        .iter()
        .map(|md| {
            let mut list = Vec::new();
            md.emit_attributes(&mut list);
            m::MediaDescription {
                media_name: m::MediaName {
                    media: md.kind.as_str().to_owned(),
                    port: m::RangedPort {
                        value: md.port as isize,
                        range: md.port_count.map(|c| c as isize),
                    },
                    protos: md.proto.split('/').map(str::to_owned).collect(),
                    formats: md.formats.clone(),
                },
                media_title: md.title.clone(),
                connection_information: md.connection.as_ref().map(connection_to),
                bandwidth: md.bandwidth.iter().map(bandwidth_to).collect(),
                encryption_key: md.encryption_key.clone(),
                attributes: list.into_iter().map(|(k, v)| attr(k, v)).collect(),
            }
        })
        .collect();
    let repeats = |t: &Timing| {
        t.repeats
            .iter()
            .filter_map(|r| {
                let f: Vec<i64> = r
                    .split_ascii_whitespace()
                    .filter_map(|x| x.parse().ok())
                    .collect();
                match f.as_slice() {
                    [i, d, rest @ ..] => Some(s::RepeatTime {
                        interval: *i,
                        duration: *d,
                        offsets: rest.to_vec(),
                    }),
                    _ => None,
                }
            })
            .collect()
    };
    let time_zones = sd
        .time_zones
        .as_deref()
        .map(|z| {
            let f: Vec<&str> = z.split_ascii_whitespace().collect();
            f.chunks(2)
                .filter_map(|c| match c {
                    [a, o] => Some(s::TimeZone {
                        adjustment_time: a.parse().ok()?,
                        offset: o.parse().ok()?,
                    }),
                    _ => None,
                })
                .collect()
        })
        .unwrap_or_default();
    s::SessionDescription {
        version: 0,
        origin: s::Origin {
            username: sd.origin.username.clone(),
            session_id: sd.origin.session_id,
            session_version: sd.origin.session_version,
            network_type: sd.origin.net_type.clone(),
            address_type: sd.origin.addr_type.clone(),
            unicast_address: sd.origin.address.clone(),
        },
        session_name: sd.session_name.clone(),
        session_information: sd.information.clone(),
        uri: sd.uri.as_deref().and_then(|u| u.parse().ok()),
        email_address: sd.email.clone(),
        phone_number: sd.phone.clone(),
        connection_information: sd.connection.as_ref().map(connection_to),
        bandwidth: sd.bandwidth.iter().map(bandwidth_to).collect(),
        time_descriptions: sd
            .timing
            .iter()
            .map(|t| s::TimeDescription {
                timing: s::Timing {
                    start_time: t.start,
                    stop_time: t.stop,
                },
                repeat_times: repeats(t),
            })
            .collect(),
        time_zones,
        encryption_key: sd.encryption_key.clone(),
        attributes: attrs,
        media_descriptions: media,
    }
}
