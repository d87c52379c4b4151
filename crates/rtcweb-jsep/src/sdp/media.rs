//! One m= section: its typed attributes, plus the ones we do not interpret kept verbatim.

use super::attrs::*;
use super::{Bandwidth, Candidate, Connection, Fingerprint, IceAttrs, Setup};

/// Media type of an m= line.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum MediaKind {
    /// `audio`
    Audio,
    /// `video`
    Video,
    /// `application` (data channels)
    Application,
    /// Anything else (`text`, `message`, `image`), as written.
    Other(String),
}

impl MediaKind {
    /// Parses an m= media token.
    pub fn from_name(s: &str) -> Self {
        match s {
            "audio" => MediaKind::Audio,
            "video" => MediaKind::Video,
            "application" => MediaKind::Application,
            o => MediaKind::Other(o.to_owned()),
        }
    }
    /// The m= media token.
    pub fn as_str(&self) -> &str {
        match self {
            MediaKind::Audio => "audio",
            MediaKind::Video => "video",
            MediaKind::Application => "application",
            MediaKind::Other(s) => s,
        }
    }
    /// Audio or video.
    pub fn is_rtp(&self) -> bool {
        matches!(self, MediaKind::Audio | MediaKind::Video)
    }
}

/// An m= section with its typed attributes (RFC 8829 section 5.2 lists what goes here).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MediaSection {
    /// Media type.
    pub kind: MediaKind,
    /// Port; 0 means rejected (or bundle-only).
    pub port: u16,
    /// `/<number of ports>`, rarely used.
    pub port_count: Option<u16>,
    /// Protocol, e.g. `UDP/TLS/RTP/SAVPF`, `UDP/DTLS/SCTP`.
    pub proto: String,
    /// The format list of the m= line as written (payload types or `webrtc-datachannel`).
    pub formats: Vec<String>,
    /// `i=`
    pub title: Option<String>,
    /// `c=`
    pub connection: Option<Connection>,
    /// `b=` lines.
    pub bandwidth: Vec<Bandwidth>,
    /// `k=`
    pub encryption_key: Option<String>,
    /// `a=mid`
    pub mid: Option<String>,
    /// The direction attribute, if any (absent means sendrecv).
    pub direction: Option<Direction>,
    /// ICE attributes at media level.
    pub ice: IceAttrs,
    /// `a=candidate` lines.
    pub candidates: Vec<Candidate>,
    /// `a=end-of-candidates`
    pub end_of_candidates: bool,
    /// `a=fingerprint` lines (several allowed).
    pub fingerprints: Vec<Fingerprint>,
    /// `a=setup`
    pub setup: Option<Setup>,
    /// `a=bundle-only` (RFC 8843)
    pub bundle_only: bool,
    /// `a=msid` lines.
    pub msid: Vec<Msid>,
    /// `a=rtcp-mux`
    pub rtcp_mux: bool,
    /// `a=rtcp-mux-only` (RFC 8858)
    pub rtcp_mux_only: bool,
    /// `a=rtcp-rsize` (RFC 5506)
    pub rtcp_rsize: bool,
    /// Payload formats with rtpmap, fmtp and rtcp-fb, in m= line order.
    pub codecs: Vec<Codec>,
    /// `a=rtcp-fb:* <type>` lines that apply to every payload type.
    pub rtcp_fb_all: Vec<String>,
    /// `a=extmap` lines.
    pub extmaps: Vec<ExtMap>,
    /// `a=extmap-allow-mixed` at media level.
    pub extmap_allow_mixed: bool,
    /// `a=ssrc-group` lines.
    pub ssrc_groups: Vec<SsrcGroup>,
    /// `a=ssrc` lines.
    pub ssrcs: Vec<SsrcAttribute>,
    /// `a=rid` lines.
    pub rids: Vec<Rid>,
    /// `a=simulcast`
    pub simulcast: Option<Simulcast>,
    /// `a=sctp-port` (RFC 8841)
    pub sctp_port: Option<u16>,
    /// `a=max-message-size` (RFC 8841)
    pub max_message_size: Option<u64>,
    /// Attributes not interpreted here (and duplicates of single-valued ones), verbatim.
    pub attributes: Vec<Attribute>,
}

impl MediaSection {
    /// An empty section of the given kind, port and protocol.
    pub fn new(kind: MediaKind, port: u16, proto: &str) -> Self {
        MediaSection {
            kind,
            port,
            port_count: None,
            proto: proto.to_owned(),
            formats: Vec::new(),
            title: None,
            connection: None,
            bandwidth: Vec::new(),
            encryption_key: None,
            mid: None,
            direction: None,
            ice: IceAttrs::default(),
            candidates: Vec::new(),
            end_of_candidates: false,
            fingerprints: Vec::new(),
            setup: None,
            bundle_only: false,
            msid: Vec::new(),
            rtcp_mux: false,
            rtcp_mux_only: false,
            rtcp_rsize: false,
            codecs: Vec::new(),
            rtcp_fb_all: Vec::new(),
            extmaps: Vec::new(),
            extmap_allow_mixed: false,
            ssrc_groups: Vec::new(),
            ssrcs: Vec::new(),
            rids: Vec::new(),
            simulcast: None,
            sctp_port: None,
            max_message_size: None,
            attributes: Vec::new(),
        }
    }

    /// Whether the section is rejected: port 0 and not `a=bundle-only`.
    pub fn is_rejected(&self) -> bool {
        self.port == 0 && !self.bundle_only
    }

    /// Direction with the RFC default (sendrecv) applied.
    pub fn direction_or_default(&self) -> Direction {
        self.direction.unwrap_or(Direction::SendRecv)
    }

    /// Whether this is a data channel section (SCTP over DTLS).
    pub fn is_data(&self) -> bool {
        self.kind == MediaKind::Application && self.proto.contains("SCTP")
    }

    /// The codec with this payload type.
    pub fn codec(&self, pt: u8) -> Option<&Codec> {
        self.codecs.iter().find(|c| c.payload_type == pt)
    }

    /// The first unknown attribute with this name.
    pub fn attribute(&self, name: &str) -> Option<&Attribute> {
        self.attributes.iter().find(|a| a.name == name)
    }

    /// Interprets one `a=` line. Unknown names, and repeats of single-valued ones, are kept
    /// in `attributes`. Returns a reason on malformed values of interpreted attributes.
    pub(crate) fn push_attribute(&mut self, name: &str, value: Option<&str>) -> AttrResult<()> {
        let v = || value.ok_or_else(|| format!("a={name} needs a value"));
        let keep = |this: &mut Self| this.attributes.push(Attribute::new(name, value));
        match name {
            "mid" if self.mid.is_none() => self.mid = Some(v()?.trim().to_owned()),
            "sendrecv" | "sendonly" | "recvonly" | "inactive" if self.direction.is_none() => {
                self.direction = Direction::from_name(name)
            }
            "ice-ufrag" | "ice-pwd" | "ice-options" | "ice-lite" => {
                if !self.ice.push(name, value)? {
                    keep(self)
                }
            }
            "candidate" => self.candidates.push(Candidate::parse_value(v()?)?),
            "end-of-candidates" => self.end_of_candidates = true,
            "fingerprint" => self.fingerprints.push(v()?.parse::<Fingerprint>()?),
            "setup" if self.setup.is_none() => self.setup = Some(v()?.parse::<Setup>()?),
            "bundle-only" => self.bundle_only = true,
            "msid" => self.msid.push(Msid::parse(v()?)?),
            "rtcp-mux" => self.rtcp_mux = true,
            "rtcp-mux-only" => self.rtcp_mux_only = true,
            "rtcp-rsize" => self.rtcp_rsize = true,
            "extmap-allow-mixed" => self.extmap_allow_mixed = true,
            "extmap" => self.extmaps.push(ExtMap::parse(v()?)?),
            "rtpmap" => {
                let codec = Codec::parse_rtpmap(v()?)?;
                let listed = self
                    .formats
                    .iter()
                    .any(|f| f.parse() == Ok(codec.payload_type));
                if listed && self.codec(codec.payload_type).is_none() {
                    self.codecs.push(codec);
                } else {
                    keep(self)
                }
            }
            "ssrc" => self.ssrcs.push(SsrcAttribute::parse(v()?)?),
            "ssrc-group" => self.ssrc_groups.push(SsrcGroup::parse(v()?)?),
            "rid" => self.rids.push(Rid::parse(v()?)?),
            "simulcast" if self.simulcast.is_none() => {
                self.simulcast = Some(Simulcast::parse(v()?)?)
            }
            "sctp-port" if self.sctp_port.is_none() => {
                self.sctp_port = Some(v()?.trim().parse().map_err(|_| "bad sctp-port")?)
            }
            "max-message-size" if self.max_message_size.is_none() => {
                self.max_message_size =
                    Some(v()?.trim().parse().map_err(|_| "bad max-message-size")?)
            }
            // fmtp and rtcp-fb refer to rtpmap lines that may come later: second pass.
            _ => keep(self),
        }
        Ok(())
    }

    /// Second pass: attaches `a=fmtp` and `a=rtcp-fb` to their codecs (they may precede the
    /// rtpmap, as Firefox writes them), fills static payload types without rtpmap, and puts
    /// codecs in m= line order.
    pub(crate) fn attach_codec_params(&mut self) -> AttrResult<()> {
        if self.kind.is_rtp() && self.proto.contains("RTP") {
            for f in &self.formats {
                if let Ok(pt) = f.parse::<u8>()
                    && self.codec(pt).is_none()
                    && let Some(c) = static_payload_type(pt)
                {
                    self.codecs.push(c);
                }
            }
            let order = |pt: u8| self.formats.iter().position(|f| f.parse() == Ok(pt));
            let mut with_pos: Vec<_> = self.codecs.drain(..).map(|c| (c.payload_type, c)).collect();
            with_pos.sort_by_key(|(pt, _)| order(*pt));
            self.codecs = with_pos.into_iter().map(|(_, c)| c).collect();
        }
        let attrs = std::mem::take(&mut self.attributes);
        for a in attrs {
            let handled = match (a.name.as_str(), a.value.as_deref()) {
                ("fmtp", Some(v)) => {
                    let (pt, rest) = split_pt(v)?;
                    match pt.parse::<u8>().ok().and_then(|pt| self.codec_mut(pt)) {
                        Some(c) if c.fmtp.is_none() => {
                            c.fmtp = Some(rest.to_owned());
                            true
                        }
                        _ => false,
                    }
                }
                ("rtcp-fb", Some(v)) => {
                    let (pt, rest) = split_pt(v)?;
                    if pt == "*" {
                        self.rtcp_fb_all.push(rest.to_owned());
                        true
                    } else if let Some(c) = pt.parse::<u8>().ok().and_then(|pt| self.codec_mut(pt))
                    {
                        c.rtcp_fb.push(rest.to_owned());
                        true
                    } else {
                        false
                    }
                }
                _ => false,
            };
            if !handled {
                self.attributes.push(a);
            }
        }
        Ok(())
    }

    fn codec_mut(&mut self, pt: u8) -> Option<&mut Codec> {
        self.codecs.iter_mut().find(|c| c.payload_type == pt)
    }

    /// All `a=` lines in the order this crate writes them (close to what browsers write).
    pub(crate) fn emit_attributes(&self, out: &mut Vec<(String, Option<String>)>) {
        let mut put = |k: &str, v: Option<String>| out.push((k.to_owned(), v));
        for c in &self.candidates {
            put("candidate", Some(c.attribute_value().to_string()));
        }
        if self.end_of_candidates {
            put("end-of-candidates", None);
        }
        self.ice.emit(&mut put);
        for f in &self.fingerprints {
            put("fingerprint", Some(f.to_string()));
        }
        if let Some(s) = self.setup {
            put("setup", Some(s.to_string()));
        }
        if let Some(m) = &self.mid {
            put("mid", Some(m.clone()));
        }
        if self.bundle_only {
            put("bundle-only", None);
        }
        for e in &self.extmaps {
            put("extmap", Some(e.to_string()));
        }
        if self.extmap_allow_mixed {
            put("extmap-allow-mixed", None);
        }
        if let Some(d) = self.direction {
            put(d.as_str(), None);
        }
        for m in &self.msid {
            put("msid", Some(m.to_string()));
        }
        if self.rtcp_mux {
            put("rtcp-mux", None);
        }
        if self.rtcp_mux_only {
            put("rtcp-mux-only", None);
        }
        if self.rtcp_rsize {
            put("rtcp-rsize", None);
        }
        for c in &self.codecs {
            put("rtpmap", Some(c.rtpmap_value()));
            for fb in &c.rtcp_fb {
                put("rtcp-fb", Some(format!("{} {fb}", c.payload_type)));
            }
            if let Some(f) = &c.fmtp {
                put("fmtp", Some(format!("{} {f}", c.payload_type)));
            }
        }
        for fb in &self.rtcp_fb_all {
            put("rtcp-fb", Some(format!("* {fb}")));
        }
        for g in &self.ssrc_groups {
            put("ssrc-group", Some(g.to_string()));
        }
        for s in &self.ssrcs {
            put("ssrc", Some(s.to_string()));
        }
        for r in &self.rids {
            put("rid", Some(r.to_string()));
        }
        if let Some(s) = &self.simulcast {
            put("simulcast", Some(s.to_string()));
        }
        if let Some(p) = self.sctp_port {
            put("sctp-port", Some(p.to_string()));
        }
        if let Some(m) = self.max_message_size {
            put("max-message-size", Some(m.to_string()));
        }
        for a in &self.attributes {
            put(&a.name, a.value.clone());
        }
    }
}

/// RFC 3551 static payload types that WebRTC peers still list without an rtpmap.
fn static_payload_type(pt: u8) -> Option<Codec> {
    Some(match pt {
        0 => Codec::new(0, "PCMU", 8000, None),
        8 => Codec::new(8, "PCMA", 8000, None),
        9 => Codec::new(9, "G722", 8000, None),
        13 => Codec::new(13, "CN", 8000, None),
        _ => return None,
    })
}
