//! A remote media stream: reception statistics (RFC 3550 A.3, A.8), NACK and frame assembly.

use std::time::Instant;

use crate::frame::FrameAssembler;
use crate::rtcp::ReportBlock;
use crate::seq::SeqUnwrapper;
use crate::session::ReceiveStreamConfig;
use crate::session::clock::to_1_65536;
use crate::session::nack::NackTracker;

/// Reception statistics of one source (RFC 3550 appendix A.3 and A.8).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct ReceiveStats {
    /// First extended sequence number received.
    pub base_seq: u64,
    /// Highest extended sequence number received.
    pub max_seq: u64,
    /// Distinct packets received (originals and repaired ones).
    pub received: u64,
    /// Packets that arrived through retransmission.
    pub recovered: u64,
    /// Duplicates dropped.
    pub duplicates: u64,
    /// Interarrival jitter in timestamp units, scaled by 16 (A.8).
    pub jitter_x16: u64,
    /// NACK messages sent for this source.
    pub nacks_sent: u64,
    /// Packets given up on (never arrived).
    pub lost_for_good: u64,
    /// PLIs and FIRs sent for this source.
    pub keyframe_requests_sent: u64,
    expected_prior: u64,
    received_prior: u64,
    transit: Option<i64>,
}

impl ReceiveStats {
    /// Packets expected from the sequence numbers seen.
    pub fn expected(&self) -> u64 {
        if self.received == 0 {
            0
        } else {
            self.max_seq - self.base_seq + 1
        }
    }

    /// Cumulative packets lost (expected minus received, as RFC 3550 counts it). Packets
    /// that arrived on the RTX stream do not count as received on this one (RFC 4588: the
    /// report on a stream is about what arrived on it), so this is the loss before repair.
    pub fn cumulative_lost(&self) -> i64 {
        self.expected() as i64 - self.received.saturating_sub(self.recovered) as i64
    }

    /// Interarrival jitter in timestamp units.
    pub fn jitter(&self) -> u32 {
        u32::try_from(self.jitter_x16 >> 4).unwrap_or(u32::MAX)
    }

    pub(crate) fn on_packet(&mut self, seq: u64) {
        if self.received == 0 {
            self.base_seq = seq;
            self.max_seq = seq;
        }
        if seq > self.max_seq {
            self.max_seq = seq;
        }
        if seq < self.base_seq {
            self.base_seq = seq;
        }
        self.received += 1;
    }

    /// A.8: `arrival` and `timestamp` in the same units.
    pub(crate) fn on_transit(&mut self, arrival: u64, timestamp: u32) {
        let transit = (arrival as i64).wrapping_sub(i64::from(timestamp));
        if let Some(prev) = self.transit {
            // Differences of 32-bit timestamps: wrap like the RTP clock does.
            let d = i64::from((transit.wrapping_sub(prev) as i32).unsigned_abs());
            let j = self.jitter_x16 as i64;
            self.jitter_x16 = (j + d - ((j + 8) >> 4)).max(0) as u64;
        }
        self.transit = Some(transit);
    }

    /// A.3: the fraction lost since the last report, updating the "prior" counters.
    pub(crate) fn take_fraction_lost(&mut self) -> u8 {
        let expected = self.expected();
        let expected_interval = expected - self.expected_prior.min(expected);
        self.expected_prior = expected;
        let received = self.received.saturating_sub(self.recovered);
        let received_interval = received.saturating_sub(self.received_prior);
        self.received_prior = received;
        let lost = expected_interval as i64 - received_interval as i64;
        if expected_interval == 0 || lost <= 0 {
            0
        } else {
            ((lost << 8) / expected_interval as i64).min(255) as u8
        }
    }
}

#[derive(Debug)]
pub(crate) struct ReceiveStream {
    pub config: ReceiveStreamConfig,
    pub unwrapper: SeqUnwrapper,
    pub stats: ReceiveStats,
    pub nack: NackTracker,
    pub assembler: Option<FrameAssembler>,
    /// Middle 32 bits of the NTP time of the last SR, and when it arrived.
    pub last_sr: Option<(u32, Instant)>,
    pub last_keyframe_request: Option<Instant>,
    pub fir_seq: u8,
    /// RED and FEC ([`super::resilience`]), when set.
    pub protection: Option<Box<super::resilience::ReceiveProtection>>,
    /// The jitter buffer ([`super::playout`]), when playout is on.
    pub playout: Option<Box<super::playout::StreamPlayout>>,
}

impl ReceiveStream {
    pub fn report_block(&mut self, now: Instant) -> ReportBlock {
        let fraction_lost = self.stats.take_fraction_lost();
        let (last_sr, delay_since_last_sr) = match self.last_sr {
            Some((lsr, at)) => (lsr, to_1_65536(now.saturating_duration_since(at))),
            None => (0, 0),
        };
        ReportBlock {
            ssrc: self.config.ssrc,
            fraction_lost,
            cumulative_lost: self.stats.cumulative_lost().clamp(-0x80_0000, 0x7f_ffff) as i32,
            extended_highest_sequence: self.stats.max_seq.saturating_sub(1 << 16) as u32,
            jitter: self.stats.jitter(),
            last_sr,
            delay_since_last_sr,
        }
    }

    pub fn clock_rate(&self, pt: u8) -> u32 {
        self.config
            .codecs
            .iter()
            .find(|c| c.payload_type == pt)
            .map_or(90_000, |c| c.codec.clock_rate())
    }
}
