//! `getStats()`: the connection's counters under their W3C names (webrtc-stats).

use serde::Serialize;

/// `RTCTransportStats`.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TransportStats {
    /// Bytes handed to the sockets.
    pub bytes_sent: u64,
    /// Bytes received.
    pub bytes_received: u64,
    /// Datagrams sent.
    pub packets_sent: u64,
    /// Datagrams received.
    pub packets_received: u64,
    /// "new", "connecting", "connected", "closed" or "failed".
    pub dtls_state: &'static str,
    /// "DTLS 1.2" or "DTLS 1.3" (the W3C `tlsVersion` is the hex code; this is readable).
    pub tls_version: Option<&'static str>,
    /// `srtpCipher`.
    pub srtp_cipher: Option<&'static str>,
    /// Id of the selected pair in `candidatePairs`.
    pub selected_candidate_pair_id: Option<String>,
}

/// `RTCIceCandidatePairStats`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CandidatePairStats {
    /// Id (`CP<index>`).
    pub id: String,
    /// Local `candidate:` line.
    pub local_candidate: String,
    /// Remote `candidate:` line.
    pub remote_candidate: String,
    /// "frozen", "waiting", "in-progress", "succeeded" or "failed".
    pub state: &'static str,
    /// `nominated`.
    pub nominated: bool,
    /// `currentRoundTripTime` in seconds.
    pub current_round_trip_time: Option<f64>,
    /// `availableOutgoingBitrate` in bit/s: the bandwidth estimator's target, on the
    /// selected pair, when congestion control runs ([`crate::MediaConfig::congestion_control`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub available_outgoing_bitrate: Option<f64>,
}

/// `RTCDataChannelStats`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DataChannelStats {
    /// `label`.
    pub label: String,
    /// `protocol`.
    pub protocol: String,
    /// `dataChannelIdentifier` (the SCTP stream id).
    pub data_channel_identifier: u16,
    /// `state`.
    pub state: &'static str,
    /// `messagesSent`.
    pub messages_sent: u64,
    /// `bytesSent`.
    pub bytes_sent: u64,
    /// `messagesReceived`.
    pub messages_received: u64,
    /// `bytesReceived`.
    pub bytes_received: u64,
}

/// What `getStats()` returns.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StatsReport {
    /// The (single, bundled) transport.
    pub transport: TransportStats,
    /// Every ICE candidate pair.
    pub candidate_pairs: Vec<CandidatePairStats>,
    /// Every data channel with a stream.
    pub data_channels: Vec<DataChannelStats>,
    /// SRTP packets refused (authentication, replay), from the SRTP layer's counters.
    pub srtp_errors: u64,
    /// `inbound-rtp`: the remote streams we receive ([`crate::MediaMode::Session`]).
    pub inbound_rtp: Vec<crate::media_stats::InboundRtpStats>,
    /// `outbound-rtp`: the streams we send ([`crate::MediaMode::Session`]).
    pub outbound_rtp: Vec<crate::media_stats::OutboundRtpStats>,
    /// `remote-inbound-rtp`: the peer's receiver reports on our streams.
    pub remote_inbound_rtp: Vec<crate::media_stats::RemoteInboundRtpStats>,
    /// `remote-outbound-rtp`: the peer's sender reports on its streams.
    pub remote_outbound_rtp: Vec<crate::media_stats::RemoteOutboundRtpStats>,
}

impl StatsReport {
    /// The report as JSON, W3C member names.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_default()
    }
}
