//! What the controller is told: plain records, so any RTP stack (or an SFU) can feed it.

use std::time::{Duration, Instant};

use crate::Bitrate;

/// Identifies one probe cluster (a burst sent at a chosen rate to measure the path).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ProbeClusterId(pub u32);

/// What a sent packet carried. The controller treats every kind alike for estimation
/// (the network does); the kind matters for application-limited detection and statistics.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PacketKind {
    /// Audio media.
    Audio,
    /// Video media.
    Video,
    /// A retransmission (RTX or plain).
    Retransmission,
    /// Padding: a padding-only packet or RTX padding, sent to keep the rate up or to probe.
    Padding,
}

/// A packet that left the sender, with the transport-wide sequence number it carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SentPacket {
    /// Transport-wide sequence number, extended to 64 bits by the caller (the RTP layer
    /// unwraps the 16-bit wire value).
    pub seq: u64,
    /// Bytes on the wire as the estimate should count them (the whole RTP packet; adding
    /// the UDP/IP and SRTP overhead is the caller's choice, as long as it is consistent).
    pub size: usize,
    /// When it was handed to the socket.
    pub send_time: Instant,
    /// What it carried.
    pub kind: PacketKind,
    /// The probe cluster it belongs to, as released by the [`crate::Pacer`].
    pub probe_cluster: Option<ProbeClusterId>,
}

/// One packet of a transport feedback report (draft-holmer-rmcat-transport-wide-cc-
/// extensions-01, or RFC 8888 CCFB: both become these records).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PacketResult {
    /// Transport-wide sequence number, extended as in [`SentPacket::seq`].
    pub seq: u64,
    /// Arrival time on the receiver's clock, in microseconds from any epoch that stays
    /// fixed for the session (TWCC: reference time plus deltas; CCFB: report timestamp
    /// minus arrival time offset), or `None` if the packet was reported lost.
    pub arrival_us: Option<i64>,
}

/// Loss seen by the receiver over one report interval (an RTCP receiver report block,
/// RFC 3550 section 6.4.1). Used when transport feedback is absent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LossReport {
    /// Packets lost in the interval.
    pub lost: u64,
    /// Packets expected in the interval.
    pub expected: u64,
}

impl LossReport {
    /// A report from the 8-bit "fraction lost" of a report block and the packets expected
    /// in the interval (the difference of extended highest sequence numbers).
    pub fn from_fraction(fraction_lost: u8, expected: u64) -> Self {
        Self {
            lost: expected.saturating_mul(u64::from(fraction_lost)) / 256,
            expected,
        }
    }
}

/// The application's limits on the target. Sending them again with a higher `max` makes
/// the controller probe up to it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Constraints {
    /// The target never goes below this (the lowest rate the media can use).
    pub min: Bitrate,
    /// A fresh start value for the estimate (only used before any feedback arrived, or
    /// when given explicitly to restart after a network change).
    pub start: Option<Bitrate>,
    /// The target never goes above this.
    pub max: Bitrate,
    /// Padding is requested up to this rate (capped by the target) when media does not
    /// fill it, for example to keep the estimate up for a layer about to be enabled.
    pub padding: Bitrate,
}

/// One input to [`crate::BandwidthEstimator::handle_input`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Input<'a> {
    /// A packet left the sender.
    Sent(SentPacket),
    /// A transport feedback report (TWCC or CCFB), in the order the report lists packets.
    Feedback(&'a [PacketResult]),
    /// An RTCP receiver report's loss (only used while no transport feedback arrives).
    Loss(LossReport),
    /// A round-trip time sample (RTCP SR/RR or any other source).
    Rtt(Duration),
    /// The receiver's own estimate (REMB, or any other receiver-side limit): an upper
    /// bound on the target until the next one.
    ReceiverEstimate(Bitrate),
    /// New limits from the application.
    Constraints(Constraints),
}
