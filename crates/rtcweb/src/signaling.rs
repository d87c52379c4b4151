//! Signaling messages as plain data, JSON-compatible with the browser's
//! `RTCSessionDescriptionInit` and `RTCIceCandidateInit`. How they travel is the
//! transport's business (rtcweb-tokio has several).

use serde::{Deserialize, Serialize};

use crate::error::Error;

/// `RTCSdpType`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SdpType {
    /// An offer.
    Offer,
    /// A provisional answer.
    Pranswer,
    /// A final answer.
    Answer,
    /// Rollback of a pending description.
    Rollback,
}

/// `RTCSessionDescriptionInit`: `{"type": "offer", "sdp": "v=0..."}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionDescription {
    /// Type.
    #[serde(rename = "type")]
    pub sdp_type: SdpType,
    /// SDP text.
    #[serde(default)]
    pub sdp: String,
}

impl SessionDescription {
    /// An offer.
    pub fn offer(sdp: impl Into<String>) -> Self {
        Self {
            sdp_type: SdpType::Offer,
            sdp: sdp.into(),
        }
    }

    /// An answer.
    pub fn answer(sdp: impl Into<String>) -> Self {
        Self {
            sdp_type: SdpType::Answer,
            sdp: sdp.into(),
        }
    }

    /// Parses the JSON a browser's `JSON.stringify(description)` produces.
    pub fn from_json(json: &str) -> Result<Self, Error> {
        serde_json::from_str(json).map_err(|e| Error::Signaling(e.to_string()))
    }

    /// The JSON form.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    pub(crate) fn to_jsep(&self) -> rtcweb_jsep::Description {
        let t = match self.sdp_type {
            SdpType::Offer => rtcweb_jsep::SdpType::Offer,
            SdpType::Pranswer => rtcweb_jsep::SdpType::Pranswer,
            SdpType::Answer => rtcweb_jsep::SdpType::Answer,
            SdpType::Rollback => rtcweb_jsep::SdpType::Rollback,
        };
        rtcweb_jsep::Description::new(t, self.sdp.clone())
    }
}

/// `RTCIceCandidateInit`: `{"candidate": "candidate:...", "sdpMid": "0", "sdpMLineIndex": 0}`.
/// An empty `candidate` string means end-of-candidates.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct IceCandidateInit {
    /// The `candidate:` attribute (without `a=`), or empty for end-of-candidates.
    pub candidate: String,
    /// The media section's mid.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sdp_mid: Option<String>,
    /// The media section's index.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sdp_m_line_index: Option<u16>,
    /// The ICE ufrag the candidate belongs to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username_fragment: Option<String>,
}

/// What peers exchange, in any transport.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum SignalingMessage {
    /// An offer or answer (or pranswer, rollback).
    Description(SessionDescription),
    /// A trickled candidate.
    Candidate(IceCandidateInit),
    /// No more candidates from this side.
    EndOfCandidates,
    /// The peer is leaving.
    Bye,
}

impl SignalingMessage {
    /// Parses the JSON form.
    pub fn from_json(json: &str) -> Result<Self, Error> {
        serde_json::from_str(json).map_err(|e| Error::Signaling(e.to_string()))
    }

    /// The JSON form.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn browser_json_round_trips() {
        let d = SessionDescription::from_json(r#"{"type":"offer","sdp":"v=0\r\n"}"#).unwrap();
        assert_eq!(d, SessionDescription::offer("v=0\r\n"));
        assert_eq!(d.to_json(), r#"{"type":"offer","sdp":"v=0\r\n"}"#);
        let c: IceCandidateInit = serde_json::from_str(
            r#"{"candidate":"candidate:1 1 udp 1 192.0.2.1 9 typ host","sdpMid":"0","sdpMLineIndex":0,"usernameFragment":"abcd"}"#,
        )
        .unwrap();
        assert_eq!(c.sdp_mid.as_deref(), Some("0"));
        assert!(SessionDescription::from_json("{}").is_err());
        let m = SignalingMessage::Candidate(c);
        assert_eq!(SignalingMessage::from_json(&m.to_json()).unwrap(), m);
    }
}
