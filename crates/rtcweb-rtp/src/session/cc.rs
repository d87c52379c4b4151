//! Congestion control of the send path: every RTP packet goes through a pacer, gets its
//! transport-wide sequence number when the pacer releases it, and is recorded with the
//! bandwidth estimator (`rtcweb-bwe`), which the feedback, loss reports, RTT and REMB of the
//! peer feed in turn. The estimator's target goes to the application as
//! [`Event::TargetBitrate`](super::Event::TargetBitrate), for its encoders to follow.
//!
//! Padding and probes: when the estimator asks for padding (a probe, or the padding rate),
//! the session resends a recent video packet on the RTX stream (a full-size packet the
//! receiver discards as a duplicate, RFC 4588), or, without one, sends a padding-only packet
//! (RFC 3550 section 5.1, the P bit and up to 255 octets) on the RTX stream if there is one,
//! on the media stream otherwise.
//!
//! RTCP is never paced: it is small and its timing carries measurements.

use std::time::{Duration, Instant};

use rtcweb_bwe::{
    BandwidthEstimator, Bitrate, Constraints, Event as BweEvent, Input, LossReport, Pacer,
    PacerConfig, PacketClass, PacketKind as BweKind, PacketResult, Release, SentPacket, TargetRate,
};

use super::resend_budget::ResendBudget;
use super::{Event, PacketKind, Session};
use crate::rtp::{ExtensionKind, HeaderExtensions, RtpPacket, RtpRepr};

/// Settings of the session's congestion control (see
/// [`SessionConfig::congestion_control`](super::SessionConfig::congestion_control)),
/// checked when made so that a session can always start its estimator.
#[derive(Debug, Clone, PartialEq)]
pub struct CongestionConfig {
    estimator: rtcweb_bwe::Config,
    pacer: PacerConfig,
}

impl CongestionConfig {
    /// The estimator's settings (start, minimum and maximum rate, probing, pacing factor)
    /// and the pacer's (burst budget, queue bound, largest padding packet); the pacer's
    /// initial rate is the estimator's start times its pacing factor.
    ///
    /// # Errors
    /// What [`BandwidthEstimator::new`] refuses (minimum above maximum, a pacing factor
    /// below 1).
    pub fn new(
        estimator: rtcweb_bwe::Config,
        pacer: PacerConfig,
    ) -> Result<Self, rtcweb_bwe::Error> {
        BandwidthEstimator::new(estimator.clone())?;
        let pacer = PacerConfig {
            initial_rate: estimator.start.mul_f64(estimator.pacing_factor),
            ..pacer
        };
        Ok(Self { estimator, pacer })
    }

    /// The estimator's settings.
    pub fn estimator(&self) -> &rtcweb_bwe::Config {
        &self.estimator
    }

    /// The pacer's settings.
    pub fn pacer(&self) -> &PacerConfig {
        &self.pacer
    }
}

impl Default for CongestionConfig {
    fn default() -> Self {
        Self::new(rtcweb_bwe::Config::default(), PacerConfig::default())
            .expect("the default estimator settings are valid")
    }
}

/// A packet waiting in the pacer.
#[derive(Debug)]
pub(crate) struct Queued {
    packet: Vec<u8>,
    kind: BweKind,
}

/// Padding-only packets carry at most this many padding octets (the count is one octet).
const MAX_PADDING_ONLY: usize = 255;
/// A padding packet smaller than this (header included) is not made.
const MIN_PADDING_PACKET: usize = 60;
/// A video packet sent longer ago than this is not resent as padding: the receiver's
/// jitter buffer may have moved on and count it as a late duplicate.
const PADDING_HISTORY_AGE: Duration = Duration::from_millis(500);

/// The estimator, the pacer and what feeds them.
#[derive(Debug)]
pub(crate) struct CongestionControl {
    bwe: BandwidthEstimator,
    pacer: Pacer<Queued>,
    target: Option<TargetRate>,
    /// Scratch for feedback records.
    results: Vec<PacketResult>,
    /// Per send stream (index as in `Session::senders`): the extended highest sequence
    /// number of the peer's previous report, to turn a fraction lost into packet counts.
    last_highest: Vec<(u32, u32)>,
    /// Where the next padding resend comes from: (sender, sequence number).
    padding_cursor: Option<(usize, u16)>,
    /// NACK answers, bounded by the target.
    resend_budget: ResendBudget,
}

impl CongestionControl {
    pub(crate) fn new(config: CongestionConfig) -> Self {
        Self {
            bwe: BandwidthEstimator::new(config.estimator)
                .expect("CongestionConfig::new checked these settings"),
            pacer: Pacer::new(config.pacer),
            target: None,
            results: Vec::new(),
            last_highest: Vec::new(),
            padding_cursor: None,
            resend_budget: ResendBudget::default(),
        }
    }

    /// Whether a NACKed packet of `bytes` may be resent now (see [`ResendBudget`]).
    pub(crate) fn may_resend(&mut self, now: Instant, bytes: usize) -> bool {
        let target = self.bwe.estimate().bps();
        self.resend_budget.try_take(now, target, bytes)
    }

    pub(crate) fn poll_timeout(&self) -> Option<Instant> {
        match (self.bwe.poll_timeout(), self.pacer.poll_timeout()) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    pub(crate) fn target(&self) -> Option<TargetRate> {
        self.target
    }

    pub(crate) fn estimator(&self) -> &BandwidthEstimator {
        &self.bwe
    }

    pub(crate) fn pacer(&self) -> &Pacer<Queued> {
        &self.pacer
    }
}

impl Session {
    /// Queues an RTP packet for sending: through the pacer when congestion control is on
    /// (the transport-wide sequence number is written when it leaves), at once otherwise.
    pub(crate) fn send_rtp(&mut self, now: Instant, packet: Vec<u8>, class: PacketClass) {
        let Some(cc) = self.cc.as_mut() else {
            let packet = self.stamp_transport_cc(now, packet, None, BweKind::Video);
            self.push_transmit(PacketKind::Rtp, packet);
            return;
        };
        let kind = match class {
            PacketClass::Audio => BweKind::Audio,
            PacketClass::Retransmission => BweKind::Retransmission,
            PacketClass::Video => BweKind::Video,
            PacketClass::Padding => BweKind::Padding,
        };
        let size = packet.len();
        if cc
            .pacer
            .push(now, Queued { packet, kind }, size, class)
            .is_some()
        {
            // The queue was full and this packet was handed back: a loss, as on a full link.
            self.stats.paced_dropped += 1;
        }
        self.release(now);
    }

    /// Moves what the pacer allows at `now` to the transmit queue.
    pub(crate) fn release(&mut self, now: Instant) {
        loop {
            let Some(cc) = self.cc.as_mut() else { return };
            match cc.pacer.poll_transmit(now) {
                None => break,
                Some(Release::Packet {
                    item,
                    probe_cluster,
                    ..
                }) => {
                    let packet =
                        self.stamp_transport_cc(now, item.packet, probe_cluster, item.kind);
                    self.push_transmit(PacketKind::Rtp, packet);
                }
                Some(Release::Padding(request)) => {
                    // The pacer counted `request.bytes` as sent: make about that many.
                    let mut left = request.bytes;
                    while left > 0 {
                        let Some(packet) = self.padding_packet(now, left) else {
                            // Nothing to pad with (no send stream): the request lapses.
                            break;
                        };
                        left = left.saturating_sub(packet.len());
                        let packet = self.stamp_transport_cc(
                            now,
                            packet,
                            request.probe_cluster,
                            BweKind::Padding,
                        );
                        self.push_transmit(PacketKind::Rtp, packet);
                        // Leftovers smaller than a padding packet's header are not worth one.
                        if left < MIN_PADDING_PACKET {
                            break;
                        }
                    }
                }
            }
        }
        self.drain_estimator_events();
    }

    /// Writes the transport-wide sequence number into `packet` (when the extension is
    /// mapped) and records the packet as sent at `now`. With congestion control on, the
    /// abs-send-time is rewritten too: the packet leaves now, not when it was queued, and a
    /// receiver estimating from abs-send-time must not see the pacer's queue as the path's.
    /// Without transport-wide CC the packet is still recorded (with a number that stays
    /// local), so the estimator knows the send rate and application-limited periods.
    fn stamp_transport_cc(
        &mut self,
        now: Instant,
        mut packet: Vec<u8>,
        probe_cluster: Option<rtcweb_bwe::ProbeClusterId>,
        kind: BweKind,
    ) -> Vec<u8> {
        let twcc = self.config.extensions.id(ExtensionKind::TransportWideCc);
        if twcc.is_none() && self.cc.is_none() {
            return packet;
        }
        let abs = self
            .config
            .extensions
            .id(ExtensionKind::AbsSendTime)
            .filter(|_| self.cc.is_some())
            .map(|id| (id, self.abs_send_time(now)));
        let size = packet.len();
        let seq = self.twcc_tx.on_send(now, size);
        if let Ok(mut p) = RtpPacket::new_checked(&mut packet[..]) {
            if let Some(id) = twcc
                && let Some(d) = p.extension_mut(id).filter(|d| d.len() == 2)
            {
                d.copy_from_slice(&(seq as u16).to_be_bytes());
            }
            if let Some((id, t)) = abs
                && let Some(d) = p.extension_mut(id).filter(|d| d.len() == 3)
            {
                d.copy_from_slice(&t.to_be_bytes()[1..]);
            }
        }
        if let Some(cc) = self.cc.as_mut() {
            let sent = SentPacket {
                seq,
                size,
                send_time: now,
                kind,
                probe_cluster,
            };
            // A rejected record (time running backwards) only costs the estimator a sample.
            let _ = cc.bwe.handle_input(now, Input::Sent(sent));
        }
        packet
    }

    /// A packet of about `bytes` octets that carries no new media: a recent video packet
    /// again on the RTX stream, or a padding-only packet.
    fn padding_packet(&mut self, now: Instant, bytes: usize) -> Option<Vec<u8>> {
        if let Some(p) = self.resend_as_padding(now, bytes) {
            return Some(p);
        }
        // Prefer a stream with RTX; a video stream otherwise (as libwebrtc, never audio:
        // audio receivers do not expect padding).
        let i = self
            .senders
            .iter()
            .position(|s| s.config.rtx_ssrc.is_some() && s.rtx_payload_type().is_some())
            .or_else(|| {
                self.senders
                    .iter()
                    .position(|s| s.config.codecs.first().is_some_and(|c| c.codec.is_video()))
            })?;
        let rtx = self.senders[i].config.rtx_ssrc.is_some()
            && self.senders[i].rtx_payload_type().is_some();
        let s = &mut self.senders[i];
        let (ssrc, payload_type, seq) = if rtx {
            let seq = s.next_rtx_seq;
            s.next_rtx_seq = seq.wrapping_add(1);
            (
                s.config.rtx_ssrc.unwrap_or(s.config.ssrc),
                s.rtx_payload_type().unwrap_or(0),
                seq,
            )
        } else {
            let seq = s.next_seq;
            s.next_seq = seq.wrapping_add(1);
            let pt = s.config.codecs.first().map_or(0, |c| c.payload_type);
            (s.config.ssrc, pt, seq)
        };
        let timestamp = s.last_timestamp;
        let extension = self.padding_extensions(now, i, rtx);
        let mut scratch = [0u8; 64];
        let extension = self
            .config
            .extensions
            .write(&extension, &mut scratch)
            .ok()?;
        let mut repr = RtpRepr {
            marker: false,
            payload_type,
            sequence_number: seq,
            timestamp,
            ssrc,
            csrcs: &[],
            extension,
            padding: 1,
        };
        // `bytes` is the whole packet: what is left after the header is padding.
        let padding = bytes
            .saturating_sub(repr.header_len())
            .clamp(1, MAX_PADDING_ONLY);
        repr.padding = u8::try_from(padding).unwrap_or(u8::MAX);
        repr.to_vec(&[]).ok()
    }

    /// The extensions of a padding packet of sender `i`: mid, (repaired) rid, abs-send-time
    /// and a transport-wide sequence number slot.
    fn padding_extensions(&self, now: Instant, i: usize, rtx: bool) -> HeaderExtensions<'_> {
        let s = &self.senders[i];
        let rid = s.config.rid.as_deref();
        HeaderExtensions {
            mid: s.config.mid.as_deref(),
            rid: if rtx { None } else { rid },
            repaired_rid: if rtx { rid } else { None },
            abs_send_time: self
                .config
                .extensions
                .id(ExtensionKind::AbsSendTime)
                .map(|_| self.abs_send_time(now)),
            transport_cc: self
                .config
                .extensions
                .id(ExtensionKind::TransportWideCc)
                .map(|_| 0),
            ..HeaderExtensions::default()
        }
    }

    /// A recent video packet resent on its RTX stream, if one of about `bytes` or fewer is
    /// in a history (the one after the last padding resend, so probes do not repeat one).
    fn resend_as_padding(&mut self, now: Instant, bytes: usize) -> Option<Vec<u8>> {
        let i = self.senders.iter().position(|s| {
            s.config.rtx_ssrc.is_some()
                && s.rtx_payload_type().is_some()
                && s.last_send
                    .is_some_and(|t| now.saturating_duration_since(t) < PADDING_HISTORY_AGE)
        })?;
        let newest = self.senders[i].next_seq.wrapping_sub(1);
        let cursor = self
            .cc
            .as_ref()
            .and_then(|c| c.padding_cursor)
            .filter(|(s, _)| *s == i)
            .map_or(newest, |(_, seq)| seq);
        // Walk back from the cursor over at most 16 packets for one close to the size asked
        // for (an RTX copy is 2 octets longer than its original).
        for k in 0..16u16 {
            let seq = cursor.wrapping_sub(k);
            let fits = self.senders[i].history.get_mut(seq).is_some_and(|p| {
                let len = p.packet.len() + 2;
                2 * len >= bytes && 2 * len <= 3 * bytes
            });
            if fits {
                if let Some(cc) = self.cc.as_mut() {
                    // Next time, the packet before; wrap to the newest when we reach old ones.
                    let next = seq.wrapping_sub(1);
                    cc.padding_cursor = Some((
                        i,
                        if newest.wrapping_sub(next) > 64 {
                            newest
                        } else {
                            next
                        },
                    ));
                }
                return self.rtx_copy(now, i, seq);
            }
        }
        None
    }

    /// Everything the estimator said since the last call: new rates to the pacer and the
    /// application, probes to the pacer.
    pub(crate) fn drain_estimator_events(&mut self) {
        let Some(cc) = self.cc.as_mut() else { return };
        let mut target = None;
        while let Some(e) = cc.bwe.poll_event() {
            match e {
                BweEvent::TargetRate(r) => {
                    cc.pacer.set_rates(r.pacing, r.padding);
                    cc.target = Some(r);
                    target = Some(r);
                }
                BweEvent::ProbeCluster(p) => cc.pacer.start_probe(p),
                _ => {}
            }
        }
        if let Some(r) = target {
            self.push_event(Event::TargetBitrate(r));
        }
    }

    /// Transport-wide feedback, matched with what we sent, into the estimator.
    pub(crate) fn cc_feedback(&mut self, now: Instant, feedback: &[super::PacketFeedback]) {
        let Some(cc) = self.cc.as_mut() else { return };
        let mut results = std::mem::take(&mut cc.results);
        results.clear();
        results.extend(feedback.iter().map(|f| PacketResult {
            seq: f.sequence,
            arrival_us: f.arrival_us,
        }));
        let _ = cc.bwe.handle_input(now, Input::Feedback(&results));
        cc.results = results;
        self.drain_estimator_events();
    }

    /// A report block about send stream `ssrc`: its fraction lost over the packets the
    /// stream sent since the previous report.
    pub(crate) fn cc_report(&mut self, now: Instant, ssrc: u32, fraction_lost: u8, highest: u32) {
        let Some(cc) = self.cc.as_mut() else { return };
        let previous = cc.last_highest.iter_mut().find(|(s, _)| *s == ssrc);
        let expected = match previous {
            Some((_, h)) => {
                let n = highest.wrapping_sub(*h);
                *h = highest;
                // A report that went backwards or jumped absurdly far is not a count.
                if n == 0 || n > 1 << 20 {
                    return;
                }
                u64::from(n)
            }
            None => {
                if cc.last_highest.len() < 64 {
                    cc.last_highest.push((ssrc, highest));
                }
                return;
            }
        };
        let report = LossReport::from_fraction(fraction_lost, expected);
        let _ = cc.bwe.handle_input(now, Input::Loss(report));
        self.drain_estimator_events();
    }

    /// A round-trip time measurement into the estimator.
    pub(crate) fn cc_rtt(&mut self, now: Instant, rtt: Duration) {
        let Some(cc) = self.cc.as_mut() else { return };
        let _ = cc.bwe.handle_input(now, Input::Rtt(rtt));
        self.drain_estimator_events();
    }

    /// The peer's REMB, an upper bound on the estimate.
    pub(crate) fn cc_remb(&mut self, now: Instant, bitrate: u64) {
        let Some(cc) = self.cc.as_mut() else { return };
        let _ = cc
            .bwe
            .handle_input(now, Input::ReceiverEstimate(Bitrate::from_bps(bitrate)));
        self.drain_estimator_events();
    }

    /// Timers of the estimator and the pacer.
    pub(crate) fn cc_timeout(&mut self, now: Instant) {
        let Some(cc) = self.cc.as_mut() else { return };
        if cc.bwe.poll_timeout().is_some_and(|t| t <= now) {
            cc.bwe.handle_timeout(now);
        }
        cc.pacer.handle_timeout(now);
        self.drain_estimator_events();
        self.release(now);
    }

    /// Sets the application's bounds on the send rate (and the rate to start from). Raising
    /// the maximum makes the estimator probe for the new room.
    pub fn set_bitrate_constraints(&mut self, now: Instant, constraints: Constraints) {
        let Some(cc) = self.cc.as_mut() else { return };
        let _ = cc.bwe.handle_input(now, Input::Constraints(constraints));
        self.drain_estimator_events();
        self.release(now);
    }

    /// The latest target the estimator gave, if congestion control is on and it has given
    /// one (the W3C `availableOutgoingBitrate` is its `target`).
    pub fn target_bitrate(&self) -> Option<TargetRate> {
        self.cc.as_ref().and_then(CongestionControl::target)
    }

    /// The bandwidth estimator, to read its state (estimates, queue delay, statistics).
    pub fn estimator(&self) -> Option<&BandwidthEstimator> {
        self.cc.as_ref().map(CongestionControl::estimator)
    }

    /// Packets waiting in the pacer and their bytes.
    pub fn paced(&self) -> Option<(usize, u64)> {
        self.cc
            .as_ref()
            .map(|c| (c.pacer().len(), c.pacer().queued_bytes()))
    }
}
