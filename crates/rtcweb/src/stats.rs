//! `getStats()`: the connection's counters under their W3C names (webrtc-stats).

use std::time::Instant;

use serde::Serialize;

use crate::pc::PeerConnection;

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

/// `RTCSctpTransportStats` (webrtc-stats' "sctp-transport"), with what the association
/// negotiated.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SctpTransportStats {
    /// `smoothedRoundTripTime` in seconds.
    pub smoothed_round_trip_time: f64,
    /// RFC 9653 zero checksum is in use (both sides offered it with DTLS).
    pub zero_checksum: bool,
    /// SCTP packets received with checksum 0.
    pub zero_checksum_packets_received: u64,
    /// RFC 8260 user message interleaving is in use.
    pub message_interleaving: bool,
    /// SCTP packets that carried retransmitted DATA (not in the W3C dictionary; what tells a
    /// lossy path, or records lost between the layers, from a clean one).
    pub retransmitted_packets: u64,
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
    /// The SCTP association, once there is one.
    pub sctp: Option<SctpTransportStats>,
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

impl PeerConnection {
    /// `getStats()`.
    pub fn stats(&self, _now: Instant) -> StatsReport {
        let pairs = self.ice.pair_stats();
        let selected = pairs
            .iter()
            .position(|p| p.selected)
            .map(|i| format!("CP{i}"));
        let available = self.media.target_bitrate().map(|r| r.target.as_f64());
        let candidate_pairs = pairs
            .iter()
            .enumerate()
            .map(|(i, p)| CandidatePairStats {
                available_outgoing_bitrate: available.filter(|_| p.selected),
                id: format!("CP{i}"),
                local_candidate: p.local.to_string(),
                remote_candidate: p.remote.to_string(),
                state: match p.state {
                    rtcweb_ice::PairState::Frozen => "frozen",
                    rtcweb_ice::PairState::Waiting => "waiting",
                    rtcweb_ice::PairState::InProgress => "in-progress",
                    rtcweb_ice::PairState::Succeeded => "succeeded",
                    rtcweb_ice::PairState::Failed => "failed",
                },
                nominated: p.nominated,
                current_round_trip_time: p.rtt.map(|d| d.as_secs_f64()),
            })
            .collect();
        let dtls_state = match self.dtls.as_ref().map(|d| d.state()) {
            None => "new",
            Some(rtcweb_dtls::State::Handshaking) => "connecting",
            Some(rtcweb_dtls::State::Connected) => "connected",
            Some(rtcweb_dtls::State::Closed) => "closed",
            Some(_) => "failed",
        };
        let mut data_channels = Vec::new();
        if let Some(sctp) = self.data.sctp.as_ref() {
            for id in sctp.channel_ids() {
                let (Some(info), Some(s)) = (sctp.channel(id), sctp.channel_stats(id)) else {
                    continue;
                };
                data_channels.push(DataChannelStats {
                    label: info.label.clone(),
                    protocol: info.protocol.clone(),
                    data_channel_identifier: id.0,
                    state: match info.state {
                        rtcweb_sctp::ChannelState::Connecting => "connecting",
                        rtcweb_sctp::ChannelState::Open => "open",
                        rtcweb_sctp::ChannelState::Closing => "closing",
                        rtcweb_sctp::ChannelState::Closed => "closed",
                    },
                    messages_sent: s.messages_sent,
                    bytes_sent: s.bytes_sent,
                    messages_received: s.messages_received,
                    bytes_received: s.bytes_received,
                });
            }
        }
        let srtp_errors = self.srtp.as_ref().map_or(0, |s| s.stats().errors());
        let rtp = self.rtp_stream_stats();
        StatsReport {
            transport: TransportStats {
                bytes_sent: self.stats.bytes_sent,
                bytes_received: self.stats.bytes_received,
                packets_sent: self.stats.packets_sent,
                packets_received: self.stats.packets_received,
                dtls_state,
                tls_version: self.dtls_version.map(rtcweb_dtls::DtlsVersion::as_str),
                srtp_cipher: self.srtp_profile,
                selected_candidate_pair_id: selected,
            },
            candidate_pairs,
            data_channels,
            sctp: self.data.sctp.as_ref().map(|t| {
                let s = t.stats();
                SctpTransportStats {
                    smoothed_round_trip_time: s.srtt.as_secs_f64(),
                    zero_checksum: s.zero_checksum,
                    zero_checksum_packets_received: s.zero_checksum_packets_received,
                    message_interleaving: s.message_interleaving,
                    retransmitted_packets: s.retransmitted_packets,
                }
            }),
            srtp_errors,
            inbound_rtp: rtp.inbound,
            outbound_rtp: rtp.outbound,
            remote_inbound_rtp: rtp.remote_inbound,
            remote_outbound_rtp: rtp.remote_outbound,
        }
    }

    /// The current local description's SDP, including the candidates gathered so far
    /// (what a non-trickle peer needs, e.g. the webrtc-echoes convention).
    pub fn local_description_sdp(&self) -> Option<String> {
        self.jsep.local_description().map(|d| d.to_sdp())
    }
}
