//! `getStats()` for RTP streams ([`crate::MediaMode::Session`]): `inbound-rtp`,
//! `outbound-rtp`, `remote-inbound-rtp` and `remote-outbound-rtp`, with the member names of
//! the W3C webrtc-stats draft. Members the session cannot know (decoder and encoder
//! counters) are left out; the few that are not W3C names say so.

use serde::Serialize;

use crate::pc::PeerConnection;

/// `RTCInboundRtpStreamStats`: one remote stream we receive.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct InboundRtpStats {
    /// Id (`IT<ssrc>`).
    pub id: String,
    /// SSRC of the media.
    pub ssrc: u32,
    /// "audio" or "video".
    pub kind: &'static str,
    /// mid of its transceiver.
    pub mid: Option<String>,
    /// Distinct packets received, retransmitted ones included.
    pub packets_received: u64,
    /// Packets lost (RFC 3550 cumulative: expected minus received).
    pub packets_lost: i64,
    /// Interarrival jitter in seconds.
    pub jitter: f64,
    /// Payload octets received (RTX payloads without their original sequence number).
    pub bytes_received: u64,
    /// RTP header and padding octets received.
    pub header_bytes_received: u64,
    /// Whole frames assembled and handed to the application (the session does not
    /// decode; this is what it could have decoded).
    pub frames_received: u64,
    /// Key frames among them (not a W3C member: `keyFramesDecoded` counts decoded ones).
    pub key_frames_received: u64,
    /// Packets dropped before a frame: late, duplicate, malformed, behind a loss.
    pub packets_discarded: u64,
    /// Packets that arrived through retransmission.
    pub retransmitted_packets_received: u64,
    /// NACK messages sent.
    pub nack_count: u64,
    /// PLIs sent.
    pub pli_count: u64,
    /// FIRs sent.
    pub fir_count: u64,
    /// FEC packets received (ULPFEC in RED, or FlexFEC).
    pub fec_packets_received: u64,
    /// Their FEC payload octets.
    pub fec_bytes_received: u64,
    /// FEC packets that repaired nothing (everything they protect arrived or was repaired
    /// otherwise, or they came too late).
    pub fec_packets_discarded: u64,
    /// Media packets rebuilt from FEC that never arrived otherwise (not a W3C member).
    pub packets_recovered_by_fec: u64,
    /// Audio frames taken from RED's redundant blocks because their own packet was lost
    /// (not a W3C member).
    pub packets_recovered_by_red: u64,
    /// Seconds frames (video) or samples (audio) spent in the jitter buffer, summed, from
    /// when the frame was complete (with playout on).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub jitter_buffer_delay: Option<f64>,
    /// The target delay at each emitted frame or sample, summed, seconds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub jitter_buffer_target_delay: Option<f64>,
    /// Frames (video) or samples (audio) that came out of the jitter buffer.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub jitter_buffer_emitted_count: Option<u64>,
    /// Audio samples of slots that had no frame at their playout time.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub concealed_samples: Option<u64>,
    /// Runs of concealed audio slots.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub concealment_events: Option<u64>,
}

/// `RTCOutboundRtpStreamStats`: one stream we send.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct OutboundRtpStats {
    /// Id (`OT<ssrc>`).
    pub id: String,
    /// SSRC of the media.
    pub ssrc: u32,
    /// SSRC of its RTX stream.
    pub rtx_ssrc: Option<u32>,
    /// "audio" or "video".
    pub kind: &'static str,
    /// mid of its transceiver.
    pub mid: Option<String>,
    /// Media packets sent (retransmissions not counted).
    pub packets_sent: u64,
    /// Payload octets of those.
    pub bytes_sent: u64,
    /// Retransmissions sent (RTX or resent originals).
    pub retransmitted_packets_sent: u64,
    /// Frames written.
    pub frames_sent: u64,
    /// Key frames among them (the W3C has `keyFramesEncoded`; we do not encode).
    pub key_frames_sent: u64,
    /// Sequence numbers the peer NACKed (the W3C counts NACK messages; a message may
    /// name several packets).
    pub nack_count: u64,
    /// PLIs received.
    pub pli_count: u64,
    /// FIRs received.
    pub fir_count: u64,
    /// FEC packets sent (not a W3C member).
    pub fec_packets_sent: u64,
    /// Audio packets sent as RED with redundancy (not a W3C member).
    pub red_packets_sent: u64,
}

/// `RTCRemoteInboundRtpStreamStats`: what the peer reported about a stream we send.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RemoteInboundRtpStats {
    /// Id (`RI<ssrc>`).
    pub id: String,
    /// Id of the `outbound-rtp` it reports on.
    pub local_id: String,
    /// SSRC.
    pub ssrc: u32,
    /// Cumulative packets lost, as the peer counts them.
    pub packets_lost: i64,
    /// Fraction lost in the last report interval (0..1).
    pub fraction_lost: f64,
    /// Jitter the peer measured, in seconds.
    pub jitter: f64,
    /// Round-trip time in seconds (LSR/DLSR of its receiver reports).
    pub round_trip_time: Option<f64>,
}

/// `RTCRemoteOutboundRtpStreamStats`: what the peer's sender reports say about a stream we
/// receive.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RemoteOutboundRtpStats {
    /// Id (`RO<ssrc>`).
    pub id: String,
    /// Id of the `inbound-rtp` it belongs to.
    pub local_id: String,
    /// SSRC.
    pub ssrc: u32,
    /// Packets the peer says it sent.
    pub packets_sent: u64,
    /// Payload octets the peer says it sent.
    pub bytes_sent: u64,
    /// Round-trip time in seconds, when we only receive (XR RRTR/DLRR) or also send.
    pub round_trip_time: Option<f64>,
}

/// The RTP stream entries of a report.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct RtpStreamStats {
    pub(crate) inbound: Vec<InboundRtpStats>,
    pub(crate) outbound: Vec<OutboundRtpStats>,
    pub(crate) remote_inbound: Vec<RemoteInboundRtpStats>,
    pub(crate) remote_outbound: Vec<RemoteOutboundRtpStats>,
}

fn kind_name(kind: &rtcweb_jsep::sdp::MediaKind) -> &'static str {
    match kind {
        rtcweb_jsep::sdp::MediaKind::Audio => "audio",
        _ => "video",
    }
}

impl PeerConnection {
    pub(crate) fn rtp_stream_stats(&self) -> RtpStreamStats {
        let mut out = RtpStreamStats::default();
        let Some(m) = self.media.session.as_deref() else {
            return out;
        };
        let rtt = m.rtt().map(|d| d.as_secs_f64());
        for r in &m.receivers {
            let ssrc = r.config.ssrc;
            let Some(s) = m.session.receive_stats(ssrc) else {
                continue;
            };
            let a = m.session.assembler_stats(ssrc).unwrap_or_default();
            let res = m.session.resilience_stats(ssrc).unwrap_or_default();
            let playout = m.session.playout_stats(ssrc);
            let audio = matches!(r.kind, rtcweb_jsep::sdp::MediaKind::Audio);
            let rate = f64::from(r.clock_rate());
            let id = format!("IT{ssrc}");
            out.inbound.push(InboundRtpStats {
                id: id.clone(),
                ssrc,
                kind: kind_name(&r.kind),
                mid: r.mid.clone(),
                packets_received: s.received,
                packets_lost: s.cumulative_lost(),
                jitter: f64::from(s.jitter()) / rate,
                bytes_received: r.bytes,
                header_bytes_received: r.header_bytes,
                frames_received: a.frames,
                key_frames_received: a.keyframes,
                packets_discarded: a.packets_dropped + s.duplicates,
                retransmitted_packets_received: s.recovered,
                nack_count: s.nacks_sent,
                pli_count: s.keyframe_requests_sent.saturating_sub(r.fir_sent),
                fir_count: r.fir_sent,
                fec_packets_received: res.fec_packets_received,
                fec_bytes_received: res.fec_bytes_received,
                fec_packets_discarded: res.fec_packets_discarded,
                packets_recovered_by_fec: res.fec_recovered,
                packets_recovered_by_red: res.red_recovered,
                jitter_buffer_delay: playout.map(|p| p.jitter_buffer_delay),
                jitter_buffer_target_delay: playout.map(|p| p.jitter_buffer_target_delay),
                jitter_buffer_emitted_count: playout.map(|p| p.emitted_count),
                concealed_samples: playout.filter(|_| audio).map(|p| p.concealed_samples),
                concealment_events: playout.filter(|_| audio).map(|p| p.concealment_events),
            });
            if let Some((_, packets, octets)) = r.last_sr {
                out.remote_outbound.push(RemoteOutboundRtpStats {
                    id: format!("RO{ssrc}"),
                    local_id: id,
                    ssrc,
                    packets_sent: u64::from(packets),
                    bytes_sent: u64::from(octets),
                    round_trip_time: rtt,
                });
            }
        }
        for snd in &m.senders {
            let ssrc = snd.config.ssrc;
            let Some(s) = m.session.send_stats(ssrc) else {
                continue;
            };
            let id = format!("OT{ssrc}");
            let res = m.session.send_resilience_stats(ssrc).unwrap_or_default();
            out.outbound.push(OutboundRtpStats {
                id: id.clone(),
                ssrc,
                rtx_ssrc: snd.config.rtx_ssrc,
                kind: kind_name(&snd.kind),
                mid: snd.mid.clone(),
                packets_sent: s.packets,
                bytes_sent: s.payload_octets,
                retransmitted_packets_sent: s.retransmissions,
                frames_sent: snd.frames,
                key_frames_sent: snd.keyframes,
                nack_count: s.nacked,
                pli_count: snd.pli_received,
                fir_count: snd.fir_received,
                fec_packets_sent: res.fec_packets,
                red_packets_sent: res.red_packets,
            });
            if let Some(b) = s.last_report {
                let rate = f64::from(
                    snd.config
                        .codecs
                        .first()
                        .map_or(90_000, |c| c.codec.clock_rate()),
                );
                out.remote_inbound.push(RemoteInboundRtpStats {
                    id: format!("RI{ssrc}"),
                    local_id: id,
                    ssrc,
                    packets_lost: i64::from(b.cumulative_lost),
                    fraction_lost: f64::from(b.fraction_lost) / 256.0,
                    jitter: f64::from(b.jitter) / rate,
                    round_trip_time: rtt,
                });
            }
        }
        out
    }
}
