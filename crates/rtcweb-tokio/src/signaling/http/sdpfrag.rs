//! `application/trickle-ice-sdpfrag` (RFC 8840 section 9): the body of a WHIP `PATCH`
//! that trickles candidates.

use rtcweb::IceCandidateInit;

use crate::error::Error;
use crate::signaling::signaling_error;

/// The largest fragment accepted.
pub const MAX_SDPFRAG: usize = 64 * 1024;
/// The most candidates in one fragment.
pub const MAX_CANDIDATES: usize = 256;

/// A parsed SDP fragment.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SdpFrag {
    /// `a=ice-ufrag`.
    pub ufrag: Option<String>,
    /// `a=ice-pwd`.
    pub pwd: Option<String>,
    /// `a=candidate` lines, with the mid and m-line index of their section.
    pub candidates: Vec<IceCandidateInit>,
    /// `a=end-of-candidates` was present.
    pub end_of_candidates: bool,
}

impl SdpFrag {
    /// Parses a fragment (CRLF or LF line ends).
    pub fn parse(text: &str) -> Result<Self, Error> {
        if text.len() > MAX_SDPFRAG {
            return Err(signaling_error("sdpfrag too long"));
        }
        let mut frag = SdpFrag::default();
        let mut mid: Option<String> = None;
        let mut index: Option<u16> = None;
        for line in text.lines() {
            let line = line.trim_end_matches('\r');
            if line.is_empty() {
                continue;
            }
            if line.starts_with("m=") {
                index = Some(index.map_or(0, |i| i.saturating_add(1)));
                mid = None;
            } else if let Some(v) = line.strip_prefix("a=ice-ufrag:") {
                frag.ufrag = Some(v.trim().to_owned());
            } else if let Some(v) = line.strip_prefix("a=ice-pwd:") {
                frag.pwd = Some(v.trim().to_owned());
            } else if let Some(v) = line.strip_prefix("a=mid:") {
                mid = Some(v.trim().to_owned());
            } else if let Some(v) = line.strip_prefix("a=candidate:") {
                if frag.candidates.len() >= MAX_CANDIDATES {
                    return Err(signaling_error("too many candidates in sdpfrag"));
                }
                frag.candidates.push(IceCandidateInit {
                    candidate: format!("candidate:{}", v.trim()),
                    sdp_mid: mid.clone(),
                    sdp_m_line_index: index,
                    username_fragment: frag.ufrag.clone(),
                });
            } else if line == "a=end-of-candidates" {
                frag.end_of_candidates = true;
            } else if !line.starts_with("a=") && !line.starts_with("c=") {
                return Err(signaling_error(format!(
                    "unexpected sdpfrag line {line:.40}"
                )));
            }
        }
        Ok(frag)
    }

    /// The fragment for `candidates` of the section `media` (its `m=` line, without line
    /// end) with `mid`, under the ICE credentials of the offer.
    pub fn build(
        ufrag: &str,
        pwd: &str,
        media: &str,
        mid: &str,
        candidates: &[IceCandidateInit],
        end_of_candidates: bool,
    ) -> String {
        let mut s = format!("a=ice-ufrag:{ufrag}\r\na=ice-pwd:{pwd}\r\n{media}\r\na=mid:{mid}\r\n");
        for c in candidates {
            let attr = c.candidate.strip_prefix("a=").unwrap_or(&c.candidate);
            s.push_str("a=");
            s.push_str(attr);
            s.push_str("\r\n");
        }
        if end_of_candidates {
            s.push_str("a=end-of-candidates\r\n");
        }
        s
    }
}

/// What a trickle `PATCH` needs from an offer: ICE credentials, the first `m=` line and its
/// mid.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(not(feature = "http"), allow(dead_code))]
pub(crate) struct OfferIce {
    pub(crate) ufrag: String,
    pub(crate) pwd: String,
    pub(crate) media: String,
    pub(crate) mid: String,
}

#[cfg_attr(not(feature = "http"), allow(dead_code))]
impl OfferIce {
    pub(crate) fn from_sdp(sdp: &str) -> Option<Self> {
        let (mut ufrag, mut pwd, mut media, mut mid) = (None, None, None, None);
        for line in sdp.lines().map(|l| l.trim_end_matches('\r')) {
            if let Some(v) = line.strip_prefix("a=ice-ufrag:") {
                ufrag.get_or_insert_with(|| v.to_owned());
            } else if let Some(v) = line.strip_prefix("a=ice-pwd:") {
                pwd.get_or_insert_with(|| v.to_owned());
            } else if line.starts_with("m=") {
                media.get_or_insert_with(|| line.to_owned());
            } else if let Some(v) = line.strip_prefix("a=mid:") {
                mid.get_or_insert_with(|| v.to_owned());
            }
        }
        Some(Self {
            ufrag: ufrag?,
            pwd: pwd?,
            media: media?,
            mid: mid?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc8840_fragment_round_trips() {
        let c = IceCandidateInit {
            candidate: "candidate:1 1 UDP 2130706431 198.51.100.1 5000 typ host".into(),
            sdp_mid: Some("0".into()),
            sdp_m_line_index: None,
            username_fragment: None,
        };
        let text = SdpFrag::build(
            "EsAw",
            "P2uYro0UCOQ4zxjKXaWCBui1",
            "m=audio 9 UDP/TLS/RTP/SAVPF 111",
            "0",
            std::slice::from_ref(&c),
            true,
        );
        let f = SdpFrag::parse(&text).unwrap();
        assert_eq!(f.ufrag.as_deref(), Some("EsAw"));
        assert_eq!(f.pwd.as_deref(), Some("P2uYro0UCOQ4zxjKXaWCBui1"));
        assert_eq!(f.candidates.len(), 1);
        assert_eq!(f.candidates[0].candidate, c.candidate);
        assert_eq!(f.candidates[0].sdp_mid.as_deref(), Some("0"));
        assert_eq!(f.candidates[0].sdp_m_line_index, Some(0));
        assert!(f.end_of_candidates);
        assert!(SdpFrag::parse("v=0\r\n").is_err());
        let many = "a=candidate:1 1 udp 1 192.0.2.1 9 typ host\n".repeat(MAX_CANDIDATES + 1);
        assert!(SdpFrag::parse(&many).is_err());
        let offer = "v=0\r\na=ice-ufrag:u\r\na=ice-pwd:p\r\nm=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\na=mid:0\r\n";
        let ice = OfferIce::from_sdp(offer).unwrap();
        assert_eq!((ice.ufrag.as_str(), ice.mid.as_str()), ("u", "0"));
        assert!(OfferIce::from_sdp("v=0\r\n").is_none());
    }
}
