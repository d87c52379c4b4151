//! Typed values of the attributes JSEP relies on. Each has `parse` (the text after
//! `a=<name>:`) and `Display` (the same text back), so parse-emit-parse is the identity.
//! The values other layers share (`a=fingerprint`, `a=setup`, `a=candidate`) are
//! `rtcweb-core`'s and parse with their `FromStr`.

use std::fmt;

/// Why one attribute value does not parse; the caller adds the line number.
#[derive(Debug)]
pub(crate) enum AttrError {
    /// The grammar of an attribute this crate defines.
    Reason(String),
    /// A value shared with other layers (fingerprint, setup, candidate).
    Value(rtcweb_core::Error),
}

impl From<String> for AttrError {
    fn from(reason: String) -> Self {
        AttrError::Reason(reason)
    }
}

impl From<&str> for AttrError {
    fn from(reason: &str) -> Self {
        AttrError::Reason(reason.to_owned())
    }
}

impl From<rtcweb_core::Error> for AttrError {
    fn from(e: rtcweb_core::Error) -> Self {
        AttrError::Value(e)
    }
}

/// Parse result of one attribute value.
pub(crate) type AttrResult<T> = std::result::Result<T, AttrError>;

pub(crate) fn num<T: std::str::FromStr>(s: &str, what: &str) -> AttrResult<T> {
    s.parse::<T>()
        .map_err(|_| AttrError::Reason(format!("bad {what} {s:?}")))
}

/// `a=sendrecv` and friends (RFC 8866 section 6.7), also used for extmap directions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Direction {
    /// `sendrecv`
    SendRecv,
    /// `sendonly`
    SendOnly,
    /// `recvonly`
    RecvOnly,
    /// `inactive`
    Inactive,
}

impl Direction {
    /// The attribute name, e.g. `"sendrecv"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::SendRecv => "sendrecv",
            Direction::SendOnly => "sendonly",
            Direction::RecvOnly => "recvonly",
            Direction::Inactive => "inactive",
        }
    }
    /// Parses an attribute name; `None` for anything else.
    pub fn from_name(s: &str) -> Option<Self> {
        Some(match s {
            "sendrecv" => Direction::SendRecv,
            "sendonly" => Direction::SendOnly,
            "recvonly" => Direction::RecvOnly,
            "inactive" => Direction::Inactive,
            _ => return None,
        })
    }
    /// Whether this side sends.
    pub fn sends(self) -> bool {
        matches!(self, Direction::SendRecv | Direction::SendOnly)
    }
    /// Whether this side receives.
    pub fn receives(self) -> bool {
        matches!(self, Direction::SendRecv | Direction::RecvOnly)
    }
    /// Builds a direction from send/receive flags.
    pub fn from_flags(send: bool, recv: bool) -> Self {
        match (send, recv) {
            (true, true) => Direction::SendRecv,
            (true, false) => Direction::SendOnly,
            (false, true) => Direction::RecvOnly,
            (false, false) => Direction::Inactive,
        }
    }
    /// The direction as seen from the other side (sendonly <-> recvonly).
    pub fn reverse(self) -> Self {
        Direction::from_flags(self.receives(), self.sends())
    }
    /// Both sides' wishes combined: send only if both allow it, likewise receive.
    pub fn intersect(self, other: Self) -> Self {
        Direction::from_flags(
            self.sends() && other.sends(),
            self.receives() && other.receives(),
        )
    }
}

impl fmt::Display for Direction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// `a=group:<semantics> <mid>...` (RFC 5888), e.g. BUNDLE (RFC 8843).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Group {
    /// Semantics, e.g. `BUNDLE`, `LS`.
    pub semantics: String,
    /// The mids, in order (the first of a BUNDLE group is the offerer's tag).
    pub mids: Vec<String>,
}

impl Group {
    pub(crate) fn parse(s: &str) -> AttrResult<Self> {
        let mut t = s.split_ascii_whitespace();
        let semantics = t.next().ok_or("group without semantics")?.to_owned();
        Ok(Group {
            semantics,
            mids: t.map(str::to_owned).collect(),
        })
    }
}

impl fmt::Display for Group {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.semantics)?;
        for m in &self.mids {
            write!(f, " {m}")?;
        }
        Ok(())
    }
}

/// `a=msid:<stream id> [<track id>]` (RFC 8830).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Msid {
    /// Stream id (`-` for none).
    pub stream_id: String,
    /// Track id ("appdata").
    pub track_id: Option<String>,
}

impl Msid {
    pub(crate) fn parse(s: &str) -> AttrResult<Self> {
        let mut t = s.split_ascii_whitespace();
        let stream_id = t.next().ok_or("empty msid")?.to_owned();
        let track_id = t.next().map(str::to_owned);
        if t.next().is_some() {
            return Err("msid with more than two tokens".into());
        }
        Ok(Msid {
            stream_id,
            track_id,
        })
    }
}

impl fmt::Display for Msid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.stream_id)?;
        if let Some(t) = &self.track_id {
            write!(f, " {t}")?;
        }
        Ok(())
    }
}

/// `a=extmap:<id>[/<direction>] <uri> [<attributes>]` (RFC 8285).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ExtMap {
    /// Local identifier, 1-14 (one-byte) or 1-255 (two-byte header).
    pub id: u16,
    /// Optional direction.
    pub direction: Option<Direction>,
    /// Extension URI.
    pub uri: String,
    /// Extension attributes, verbatim.
    pub attributes: Option<String>,
}

impl ExtMap {
    pub(crate) fn parse(s: &str) -> AttrResult<Self> {
        let s = s.trim();
        let (head, rest) = s.split_once(' ').ok_or("extmap without URI")?;
        let (id, direction) = match head.split_once('/') {
            Some((id, d)) => (
                id,
                Some(Direction::from_name(d).ok_or_else(|| format!("bad direction {d:?}"))?),
            ),
            None => (head, None),
        };
        let id: u16 = num(id, "extmap id")?;
        if id == 0 || id > 4095 {
            return Err(format!("extmap id {id} out of range").into());
        }
        let rest = rest.trim_start();
        let (uri, attributes) = match rest.split_once(' ') {
            Some((u, a)) => (u, Some(a.trim().to_owned()).filter(|a| !a.is_empty())),
            None => (rest, None),
        };
        if uri.is_empty() {
            return Err("extmap without URI".into());
        }
        Ok(ExtMap {
            id,
            direction,
            uri: uri.to_owned(),
            attributes,
        })
    }
}

impl fmt::Display for ExtMap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.id)?;
        if let Some(d) = self.direction {
            write!(f, "/{d}")?;
        }
        write!(f, " {}", self.uri)?;
        if let Some(a) = &self.attributes {
            write!(f, " {a}")?;
        }
        Ok(())
    }
}

/// One RTP payload format: `a=rtpmap` with its `a=fmtp` and `a=rtcp-fb` lines.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Codec {
    /// Payload type.
    pub payload_type: u8,
    /// Encoding name as written, e.g. `opus`, `VP8`, `H264`, `rtx`, `red`, `ulpfec`.
    pub name: String,
    /// Clock rate in Hz.
    pub clock_rate: u32,
    /// Encoding parameters (audio channels), if written.
    pub channels: Option<u16>,
    /// Format parameters (the text after `a=fmtp:<pt> `), verbatim.
    pub fmtp: Option<String>,
    /// Feedback types (the text after `a=rtcp-fb:<pt> `), in order.
    pub rtcp_fb: Vec<String>,
}

impl Codec {
    /// A codec with no parameters.
    pub fn new(payload_type: u8, name: &str, clock_rate: u32, channels: Option<u16>) -> Self {
        Codec {
            payload_type,
            name: name.to_owned(),
            clock_rate,
            channels,
            fmtp: None,
            rtcp_fb: Vec::new(),
        }
    }

    /// Builder: sets the fmtp.
    pub fn with_fmtp(mut self, fmtp: &str) -> Self {
        self.fmtp = Some(fmtp.to_owned());
        self
    }

    /// Builder: adds feedback types.
    pub fn with_rtcp_fb(mut self, fb: &[&str]) -> Self {
        self.rtcp_fb.extend(fb.iter().map(|s| (*s).to_owned()));
        self
    }

    /// The value of one fmtp parameter (`key=value` separated by `;`).
    pub fn fmtp_param(&self, key: &str) -> Option<&str> {
        fmtp_params(self.fmtp.as_deref()?)
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| v)
    }

    /// `rtpmap` value text without the payload type: `name/rate[/channels]`.
    pub(crate) fn rtpmap_value(&self) -> String {
        match self.channels {
            Some(c) => format!(
                "{} {}/{}/{}",
                self.payload_type, self.name, self.clock_rate, c
            ),
            None => format!("{} {}/{}", self.payload_type, self.name, self.clock_rate),
        }
    }

    /// Parses `<pt> <name>/<rate>[/<channels>]`.
    pub(crate) fn parse_rtpmap(s: &str) -> AttrResult<Self> {
        let (pt, enc) = s.trim().split_once(' ').ok_or("rtpmap without encoding")?;
        let payload_type: u8 = num(pt, "payload type")?;
        if payload_type > 127 {
            return Err(format!("payload type {payload_type} over 127").into());
        }
        let mut parts = enc.trim().split('/');
        let name = parts
            .next()
            .filter(|n| !n.is_empty())
            .ok_or("rtpmap without name")?;
        let clock_rate = num(
            parts.next().ok_or("rtpmap without clock rate")?,
            "clock rate",
        )?;
        let channels = parts.next().map(|c| num(c, "channels")).transpose()?;
        if parts.next().is_some() {
            return Err("rtpmap with extra fields".into());
        }
        Ok(Codec::new(payload_type, name, clock_rate, channels))
    }

    /// Whether this is a retransmission, redundancy or FEC format rather than a media codec.
    pub fn is_resilience(&self) -> bool {
        ["rtx", "red", "ulpfec", "flexfec-03"]
            .iter()
            .any(|n| self.name.eq_ignore_ascii_case(n))
    }
}

/// Splits `a=fmtp` parameters `k=v;k2=v2` into pairs (a bare token gives an empty value).
pub fn fmtp_params(fmtp: &str) -> impl Iterator<Item = (&str, &str)> {
    fmtp.split(';')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(|p| match p.split_once('=') {
            Some((k, v)) => (k.trim(), v.trim()),
            None => (p, ""),
        })
}

/// Splits `<pt> <rest>` of fmtp/rtcp-fb lines; `pt` may be `*` for rtcp-fb.
pub(crate) fn split_pt(s: &str) -> AttrResult<(&str, &str)> {
    let s = s.trim_start();
    match s.split_once(' ') {
        Some((pt, rest)) => Ok((pt, rest.trim_start())),
        None if !s.is_empty() => Ok((s, "")),
        None => Err("missing payload type".into()),
    }
}

/// `a=ssrc:<ssrc> <attribute>[:<value>]` (RFC 5576).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SsrcAttribute {
    /// The SSRC.
    pub ssrc: u32,
    /// Attribute name, e.g. `cname`, `msid`.
    pub attribute: String,
    /// Attribute value.
    pub value: Option<String>,
}

impl SsrcAttribute {
    pub(crate) fn parse(s: &str) -> AttrResult<Self> {
        let s = s.trim();
        let (ssrc, rest) = match s.split_once(' ') {
            Some((a, b)) => (a, b.trim_start()),
            None => (s, ""),
        };
        let ssrc = num(ssrc, "ssrc")?;
        let (attribute, value) = match rest.split_once(':') {
            // RFC 5576: the attribute name is a token, never empty (and `ssrc :x` could not
            // be written back as it was read).
            Some(("", _)) => return Err("ssrc attribute value without a name".into()),
            Some((a, v)) => (a.to_owned(), Some(v.to_owned())),
            None => (rest.to_owned(), None),
        };
        Ok(SsrcAttribute {
            ssrc,
            attribute,
            value,
        })
    }
}

impl fmt::Display for SsrcAttribute {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.ssrc)?;
        if !self.attribute.is_empty() {
            write!(f, " {}", self.attribute)?;
        }
        if let Some(v) = &self.value {
            write!(f, ":{v}")?;
        }
        Ok(())
    }
}

/// `a=ssrc-group:<semantics> <ssrc>...` (RFC 5576), e.g. FID (RTX) and SIM.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SsrcGroup {
    /// `FID`, `SIM`, `FEC-FR`, ...
    pub semantics: String,
    /// The SSRCs in order.
    pub ssrcs: Vec<u32>,
}

impl SsrcGroup {
    pub(crate) fn parse(s: &str) -> AttrResult<Self> {
        let mut t = s.split_ascii_whitespace();
        let semantics = t.next().ok_or("ssrc-group without semantics")?.to_owned();
        let ssrcs = t
            .map(|x| num(x, "ssrc"))
            .collect::<AttrResult<Vec<u32>>>()?;
        Ok(SsrcGroup { semantics, ssrcs })
    }
}

impl fmt::Display for SsrcGroup {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.semantics)?;
        for s in &self.ssrcs {
            write!(f, " {s}")?;
        }
        Ok(())
    }
}

/// Direction of a `a=rid` (RFC 8851).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RidDirection {
    /// `send`
    Send,
    /// `recv`
    Recv,
}

impl RidDirection {
    /// The other side's view.
    pub fn reverse(self) -> Self {
        match self {
            RidDirection::Send => RidDirection::Recv,
            RidDirection::Recv => RidDirection::Send,
        }
    }
    fn parse(s: &str) -> AttrResult<Self> {
        match s {
            "send" => Ok(RidDirection::Send),
            "recv" => Ok(RidDirection::Recv),
            _ => Err(format!("bad rid direction {s:?}").into()),
        }
    }
}

impl fmt::Display for RidDirection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            RidDirection::Send => "send",
            RidDirection::Recv => "recv",
        })
    }
}

/// `a=rid:<id> <send|recv> [<restrictions>]` (RFC 8851).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Rid {
    /// RTP stream id.
    pub id: String,
    /// Direction.
    pub direction: RidDirection,
    /// Payload type list and restrictions (`pt=96;max-width=640`), verbatim.
    pub restrictions: Option<String>,
}

impl Rid {
    pub(crate) fn parse(s: &str) -> AttrResult<Self> {
        let mut t = s.trim().splitn(3, ' ');
        let id = t
            .next()
            .filter(|i| !i.is_empty())
            .ok_or("rid without id")?
            .to_owned();
        let direction = RidDirection::parse(t.next().ok_or("rid without direction")?)?;
        let restrictions = t
            .next()
            .map(|r| r.trim().to_owned())
            .filter(|r| !r.is_empty());
        Ok(Rid {
            id,
            direction,
            restrictions,
        })
    }
}

impl fmt::Display for Rid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.id, self.direction)?;
        if let Some(r) = &self.restrictions {
            write!(f, " {r}")?;
        }
        Ok(())
    }
}

/// One stream in a simulcast list: a rid, possibly paused (`~`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SimulcastStream {
    /// The rid.
    pub rid: String,
    /// Written with a leading `~`.
    pub paused: bool,
}

/// A simulcast stream list: `;`-separated streams, each a `,`-separated list of alternatives.
pub type SimulcastList = Vec<Vec<SimulcastStream>>;

/// `a=simulcast:[send <list>] [recv <list>]` (RFC 8853).
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct Simulcast {
    /// Streams this side sends.
    pub send: SimulcastList,
    /// Streams this side receives.
    pub recv: SimulcastList,
}

impl Simulcast {
    pub(crate) fn parse(s: &str) -> AttrResult<Self> {
        let mut sim = Simulcast::default();
        let mut t = s.split_ascii_whitespace();
        while let Some(dir) = t.next() {
            let list = t.next().ok_or("simulcast direction without streams")?;
            let parsed = list
                .split(';')
                .map(|alts| {
                    alts.split(',')
                        .map(|r| {
                            let (rid, paused) = match r.strip_prefix('~') {
                                Some(rid) => (rid, true),
                                None => (r, false),
                            };
                            if rid.is_empty() {
                                return Err("empty simulcast rid".into());
                            }
                            Ok(SimulcastStream {
                                rid: rid.to_owned(),
                                paused,
                            })
                        })
                        .collect::<AttrResult<Vec<_>>>()
                })
                .collect::<AttrResult<SimulcastList>>()?;
            let slot = match dir {
                "send" => &mut sim.send,
                "recv" => &mut sim.recv,
                _ => return Err(format!("bad simulcast direction {dir:?}").into()),
            };
            if !slot.is_empty() {
                return Err(format!("simulcast {dir} given twice").into());
            }
            *slot = parsed;
        }
        if sim.send.is_empty() && sim.recv.is_empty() {
            return Err("empty simulcast".into());
        }
        Ok(sim)
    }

    /// The same streams with send and receive swapped (the answerer's view).
    pub fn reverse(&self) -> Self {
        Simulcast {
            send: self.recv.clone(),
            recv: self.send.clone(),
        }
    }
}

fn write_list(f: &mut fmt::Formatter<'_>, list: &SimulcastList) -> fmt::Result {
    for (i, alts) in list.iter().enumerate() {
        if i > 0 {
            f.write_str(";")?;
        }
        for (j, s) in alts.iter().enumerate() {
            if j > 0 {
                f.write_str(",")?;
            }
            if s.paused {
                f.write_str("~")?;
            }
            f.write_str(&s.rid)?;
        }
    }
    Ok(())
}

impl fmt::Display for Simulcast {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut first = true;
        for (name, list) in [("send", &self.send), ("recv", &self.recv)] {
            if list.is_empty() {
                continue;
            }
            if !first {
                f.write_str(" ")?;
            }
            first = false;
            write!(f, "{name} ")?;
            write_list(f, list)?;
        }
        Ok(())
    }
}

/// An attribute this crate does not interpret, kept verbatim and re-emitted.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Attribute {
    /// Name (text before the first `:`).
    pub name: String,
    /// Value (text after the first `:`), if any.
    pub value: Option<String>,
}

impl Attribute {
    /// Convenience constructor.
    pub fn new(name: &str, value: Option<&str>) -> Self {
        Attribute {
            name: name.to_owned(),
            value: value.map(str::to_owned),
        }
    }
}
