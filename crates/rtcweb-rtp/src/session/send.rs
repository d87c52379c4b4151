//! A local media stream: sequence numbers, the retransmission buffer and RTX.

use std::time::{Duration, Instant};

use crate::codec::Packetizer;
use crate::rtcp::ReportBlock;
use crate::session::{CodecConfig, SendStreamConfig};

/// A sent packet kept for retransmission.
#[derive(Debug)]
pub(crate) struct Stored {
    pub seq: u16,
    pub packet: Vec<u8>,
    pub last_resent: Option<Instant>,
}

/// The last `capacity` packets of a stream, indexed by sequence number.
#[derive(Debug)]
pub(crate) struct History {
    slots: Vec<Option<Stored>>,
}

impl History {
    pub fn new(capacity: usize) -> Self {
        let mut slots = Vec::new();
        slots.resize_with(capacity.max(1), || None);
        Self { slots }
    }

    pub fn store(&mut self, seq: u16, packet: Vec<u8>) {
        let i = usize::from(seq) % self.slots.len();
        self.slots[i] = Some(Stored {
            seq,
            packet,
            last_resent: None,
        });
    }

    pub fn get_mut(&mut self, seq: u16) -> Option<&mut Stored> {
        let i = usize::from(seq) % self.slots.len();
        self.slots[i].as_mut().filter(|s| s.seq == seq)
    }
}

/// Counters of a send stream.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SendStats {
    /// Media packets sent (not counting retransmissions).
    pub packets: u64,
    /// Media payload octets sent.
    pub payload_octets: u64,
    /// Retransmissions sent (RTX or plain resend).
    pub retransmissions: u64,
    /// Sequence numbers NACKed by the peer.
    pub nacked: u64,
    /// NACKed packets not resent because congestion control's retransmission budget (the
    /// target bitrate over a second) was spent.
    pub resends_over_budget: u64,
    /// NACKed packets no longer in the retransmission buffer.
    pub nack_misses: u64,
    /// Keyframe requests received (PLI and FIR).
    pub keyframe_requests: u64,
    /// The last report block the peer sent about this stream.
    pub last_report: Option<ReportBlock>,
}

#[derive(Debug)]
pub(crate) struct SendStream {
    pub config: SendStreamConfig,
    pub next_seq: u16,
    pub next_rtx_seq: u16,
    pub packetizers: Vec<(u8, Packetizer)>,
    pub history: History,
    pub stats: SendStats,
    pub last_timestamp: u32,
    pub last_send: Option<Instant>,
    pub last_fir_seq: Option<u8>,
    pub clock_rate: u32,
    /// RED and FEC ([`super::resilience`]), when set.
    pub protection: Option<Box<super::resilience::SendProtection>>,
}

impl SendStream {
    pub fn new(config: SendStreamConfig, history: usize, seq: u16, rtx_seq: u16) -> Self {
        let packetizers = config
            .codecs
            .iter()
            .map(|c| (c.payload_type, Packetizer::new(c.codec)))
            .collect();
        let clock_rate = config
            .codecs
            .first()
            .map_or(90_000, |c| c.codec.clock_rate());
        Self {
            config,
            next_seq: seq,
            next_rtx_seq: rtx_seq,
            packetizers,
            history: History::new(history),
            stats: SendStats::default(),
            last_timestamp: 0,
            last_send: None,
            last_fir_seq: None,
            clock_rate,
            protection: None,
        }
    }

    pub fn codec(&self, pt: u8) -> Option<&CodecConfig> {
        self.config.codecs.iter().find(|c| c.payload_type == pt)
    }

    /// The RTX payload type of packets of payload type `pt` (a codec's, or RED's when RED
    /// carries the stream's video).
    pub fn rtx_payload_type_for(&self, pt: u8) -> Option<u8> {
        self.codec(pt)
            .and_then(|c| c.rtx_payload_type)
            .or_else(|| self.protection.as_ref().and_then(|p| p.red_rtx(pt)))
    }

    /// The RTX payload type of the stream's first codec that has one (for padding).
    pub fn rtx_payload_type(&self) -> Option<u8> {
        self.config.codecs.iter().find_map(|c| c.rtx_payload_type)
    }

    /// The RTP timestamp of `now` extrapolated from the last packet (for an SR).
    pub fn rtp_time(&self, now: Instant) -> u32 {
        let Some(last) = self.last_send else {
            return self.last_timestamp;
        };
        let d = now.saturating_duration_since(last);
        let ticks = d.as_nanos() * u128::from(self.clock_rate) / 1_000_000_000;
        self.last_timestamp.wrapping_add(ticks as u32)
    }

    /// Whether a NACK for a packet resent at `last` should be answered again now.
    pub fn may_resend(last: Option<Instant>, now: Instant, rtt: Option<Duration>) -> bool {
        // A NACK that arrives less than half a round trip after our resend was sent before
        // the receiver could have seen it: a duplicate, and answering every duplicate of a
        // burst doubles the repair traffic. Half (not a whole) round trip, so an RTT estimate
        // that runs high (it lags a shortening path) does not delay a genuine second repair.
        let guard = rtt.map_or(Duration::from_millis(10), |r| r / 2);
        last.is_none_or(|l| now.saturating_duration_since(l) >= guard)
    }
}
