//! `getStats()` and the local description: reports read from every part of the connection.

use std::time::Instant;

use super::{MediaSession, PeerConnection};
use crate::stats::{CandidatePairStats, DataChannelStats, StatsReport, TransportStats};

impl PeerConnection {
    /// `getStats()`.
    pub fn stats(&self, _now: Instant) -> StatsReport {
        let pairs = self.transport.pair_stats();
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
        let mut data_channels = Vec::new();
        if let Some(sctp) = self.data.sctp() {
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
        let srtp_errors = self.srtp.errors();
        let rtp = self
            .media
            .session()
            .map(MediaSession::stream_stats)
            .unwrap_or_default();
        StatsReport {
            transport: TransportStats {
                dtls_state: self.transport.dtls_state_name(),
                tls_version: self
                    .transport
                    .dtls_version()
                    .map(rtcweb_dtls::DtlsVersion::as_str),
                srtp_cipher: self.srtp.profile(),
                selected_candidate_pair_id: selected,
                ..self.outbox.transport_stats()
            },
            candidate_pairs,
            data_channels,
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
        self.negotiation.local_description_sdp()
    }
}
