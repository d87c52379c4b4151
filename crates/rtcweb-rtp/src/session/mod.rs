//! The RTP session: a sans-IO state machine for the media streams of one transport.
//!
//! It owns the local (send) and remote (receive) streams of a BUNDLE group and does what
//! RFC 3550, RFC 4585, RFC 4588, RFC 5104 and transport-wide CC ask of an endpoint:
//!
//! - **send**: sequence numbers, header extensions (mid, rid, abs-send-time, transport-wide
//!   sequence numbers), packetization of whole frames, a bounded retransmission buffer
//!   answered on NACK with RTX (RFC 4588) or plain resends, sender reports;
//! - **receive**: sequence extension, jitter and loss (RFC 3550 A.3/A.8), NACKs with
//!   RTT-aware retries and a bound, RTX unwrapping, frame assembly with key frame detection
//!   and PLI on unrecoverable loss, receiver reports, transport-wide CC feedback;
//! - **both**: RTT from LSR/DLSR (and from XR RRTR/DLRR when only receiving), PLI/FIR in and
//!   out, REMB in (a bound on the send rate) and out (from a receive-side estimator, for
//!   peers that get no transport-wide CC feedback), BYE in.
//!
//! Packets go in with [`Session::handle_rtp`] / [`Session::handle_rtcp`] (already
//! SRTP-unprotected) and come out of [`Session::poll_transmit`] (to be protected and sent).
//! Time is the `now` argument; [`Session::poll_timeout`] says when to call
//! [`Session::handle_timeout`].
//!
//! RTCP timing: regular reports follow RFC 3550 section 6.2 / appendix A.7 with the
//! *reduced minimum* interval of section 6.2, `360 / session bandwidth in kbit/s` seconds
//! (180 ms at 2 Mbit/s), which RFC 8108 section 5 and WebRTC (RFC 8834 section 4.1) allow,
//! randomized over [0.5, 1.5] and divided by e − 3/2. Feedback (NACK, PLI, FIR, TWCC) is sent
//! at once, as immediate AVPF feedback, in a compound packet led by an empty RR (or alone
//! when `reduced_size` is set after `a=rtcp-rsize`).

mod cc;
mod clock;
mod inbound;
mod nack;
mod outbound;
mod playout;
mod receive;
mod remb;
mod resend_budget;
mod resilience;
mod resilient_receive;
mod resilient_send;
mod rtcp_io;
mod send;
mod twcc;

pub use cc::CongestionConfig;
pub use nack::NackConfig;
pub use receive::ReceiveStats;
pub use resilience::{
    FecKind, FecSendConfig, ReceiveResilience, RedConfig, ResilienceStats, SendResilience,
    SendResilienceStats,
};
pub use send::SendStats;
pub use twcc::PacketFeedback;

pub use crate::playout::{PlayoutConfig, PlayoutStats};

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use crate::codec::{Codec, Payloads};
use crate::error::{Error, Result};
use crate::frame::{AssemblerConfig, Frame, FrameAssembler};
use crate::rtcp::{ReportBlock, SenderInfo};
use crate::rtp::ExtensionMap;
use crate::seq::SeqUnwrapper;
use clock::Clock;
use receive::ReceiveStream;
use rtcweb_core::{Rng, SansIo, Seed};
use send::SendStream;
use twcc::{TwccReceiver, TwccSender};

/// A payload type of a stream and what it carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CodecConfig {
    /// Payload type.
    pub payload_type: u8,
    /// The codec.
    pub codec: Codec,
    /// Payload type of its RTX stream (`a=fmtp:<rtx> apt=<payload_type>`), if negotiated.
    pub rtx_payload_type: Option<u8>,
}

/// A local stream to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SendStreamConfig {
    /// SSRC of the media.
    pub ssrc: u32,
    /// SSRC of its RTX stream, if negotiated.
    pub rtx_ssrc: Option<u32>,
    /// Payload types it may use.
    pub codecs: Vec<CodecConfig>,
    /// BUNDLE media id written in the mid extension (when mapped).
    pub mid: Option<String>,
    /// RTP stream id written in the rid extension (simulcast).
    pub rid: Option<String>,
}

/// A remote stream to receive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceiveStreamConfig {
    /// SSRC of the media.
    pub ssrc: u32,
    /// SSRC of its RTX stream, if known (`a=ssrc-group:FID`).
    pub rtx_ssrc: Option<u32>,
    /// Payload types it may use.
    pub codecs: Vec<CodecConfig>,
    /// Whether to send NACKs (`a=rtcp-fb:<pt> nack`).
    pub nack: bool,
    /// Whether to assemble frames (otherwise packets are only counted and reported).
    pub assemble_frames: bool,
}

/// Settings of a [`Session`].
#[derive(Debug, Clone)]
pub struct SessionConfig {
    /// Header extension ids, as negotiated.
    pub extensions: ExtensionMap,
    /// CNAME for SDES.
    pub cname: String,
    /// Session bandwidth for the RTCP interval (RFC 3550 section 6.2), bits per second.
    pub session_bandwidth_bps: u64,
    /// Send feedback without a leading report (RFC 5506, `a=rtcp-rsize`).
    pub reduced_size: bool,
    /// Largest RTP payload written by [`Session::write_frame`].
    pub max_payload: usize,
    /// NACK behaviour of receive streams.
    pub nack: NackConfig,
    /// Interval of transport-wide CC feedback.
    pub twcc_interval: Duration,
    /// Packets kept per send stream for retransmission.
    pub history_packets: usize,
    /// Frame assembly limits.
    pub assembler: AssemblerConfig,
    /// NTP time (32.32) at the session's start instant.
    pub ntp_base: u64,
    /// Shortest interval between two keyframe requests for one stream.
    pub keyframe_request_interval: Duration,
    /// Datagrams queued for [`Session::poll_transmit`] at most (newest dropped beyond it).
    pub max_transmits: usize,
    /// Events queued for [`Session::poll_event`] at most (oldest dropped beyond it).
    pub max_events: usize,
    /// SSRC for RTCP when there is no send stream; random if `None`.
    pub feedback_ssrc: Option<u32>,
    /// Bandwidth estimation and pacing of the send path (`None`: packets leave as they are
    /// written, and no estimate is made). See [`CongestionConfig`].
    pub congestion_control: Option<CongestionConfig>,
    /// Send REMB to a peer that gets no transport-wide CC feedback from us: when received
    /// media carries abs-send-time and the extension map has no transport-wide CC id, a
    /// receive-side estimator (rtcweb-bwe's `RemoteEstimator`) runs on it and its
    /// estimate goes back as REMB. On by default; turn it off when the peer did not
    /// negotiate `goog-remb`.
    pub generate_remb: bool,
}

impl Default for SessionConfig {
    fn default() -> Self {
        Self {
            extensions: ExtensionMap::new(),
            cname: "rtcweb".into(),
            session_bandwidth_bps: 2_000_000,
            reduced_size: false,
            max_payload: 1200,
            nack: NackConfig::default(),
            twcc_interval: Duration::from_millis(100),
            history_packets: 1024,
            assembler: AssemblerConfig::default(),
            ntp_base: 0,
            keyframe_request_interval: Duration::from_millis(300),
            max_transmits: 4096,
            max_events: 1024,
            feedback_ssrc: None,
            congestion_control: None,
            generate_remb: true,
        }
    }
}

/// Whether a datagram is RTP or RTCP (it decides which SRTP transform applies).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PacketKind {
    /// An RTP packet.
    Rtp,
    /// A compound or reduced-size RTCP packet.
    Rtcp,
}

/// A plain RTP or RTCP packet to protect (SRTP) and send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Packet {
    /// RTP or RTCP.
    pub kind: PacketKind,
    /// The plain packet.
    pub payload: Vec<u8>,
}

/// How a keyframe was asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyframeRequest {
    /// Picture loss indication (RFC 4585).
    Pli,
    /// Full intra request (RFC 5104).
    Fir,
}

/// Something the application should know.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Event {
    /// A whole frame arrived.
    Frame(Frame),
    /// The peer asks one of our streams for a key frame.
    KeyframeRequested {
        /// Our SSRC.
        ssrc: u32,
        /// PLI or FIR.
        kind: KeyframeRequest,
    },
    /// Transport-wide CC feedback, matched with what we sent (input for a bandwidth
    /// estimator).
    TransportFeedback(Vec<PacketFeedback>),
    /// The peer's receiver-side bandwidth estimate.
    Remb {
        /// Bits per second.
        bitrate: u64,
        /// Our SSRCs it applies to.
        ssrcs: Vec<u32>,
    },
    /// The peer reported on one of our streams.
    ReceiverReport {
        /// Our SSRC.
        ssrc: u32,
        /// The report.
        report: ReportBlock,
    },
    /// A sender report of a remote stream.
    SenderReport {
        /// Its SSRC.
        ssrc: u32,
        /// Its sender information.
        info: SenderInfo,
    },
    /// The round-trip time was measured.
    Rtt(Duration),
    /// The bandwidth estimator's new rates (congestion control on): the encoders should
    /// follow `target`.
    TargetBitrate(rtcweb_bwe::TargetRate),
    /// A remote source left.
    Bye {
        /// Its SSRC.
        ssrc: u32,
    },
    /// RTP from an SSRC no receive stream has (the application may add one; the packet was
    /// dropped). Reported once per SSRC.
    UnknownSsrc {
        /// The SSRC.
        ssrc: u32,
        /// Payload type of the packet.
        payload_type: u8,
        /// Its mid extension, if any.
        mid: Option<String>,
        /// Its rid (or repaired rid) extension, if any.
        rid: Option<String>,
    },
}

/// Session-wide counters.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SessionStats {
    /// RTP packets handled.
    pub rtp_received: u64,
    /// RTCP datagrams handled.
    pub rtcp_received: u64,
    /// Packets that failed to parse.
    pub malformed: u64,
    /// RTCP datagrams sent.
    pub rtcp_sent: u64,
    /// Datagrams dropped because the transmit queue was full.
    pub transmits_dropped: u64,
    /// Events dropped because the event queue was full.
    pub events_dropped: u64,
    /// RTP packets dropped because the pacer's queue was full.
    pub paced_dropped: u64,
}

const UNKNOWN_SSRCS_REMEMBERED: usize = 64;
const RRTRS_REMEMBERED: usize = 16;
/// UDP and IP overhead counted in the RTCP average size (RFC 3550 section 6.2).
const RTCP_OVERHEAD: f64 = 28.0;

/// The RTP session of one transport. See the [module docs](self).
#[derive(Debug)]
pub struct Session {
    pub(crate) config: SessionConfig,
    pub(crate) clock: Clock,
    pub(crate) rng: Rng,
    pub(crate) senders: Vec<SendStream>,
    pub(crate) receivers: Vec<ReceiveStream>,
    pub(crate) local_ssrc: u32,
    pub(crate) twcc_tx: TwccSender,
    pub(crate) twcc_rx: TwccReceiver,
    pub(crate) next_twcc_feedback: Option<Instant>,
    pub(crate) rtt: Option<Duration>,
    pub(crate) next_report: Instant,
    pub(crate) avg_rtcp_size: f64,
    pub(crate) rrtrs: VecDeque<(u32, u32, Instant)>,
    pub(crate) transmits: VecDeque<Packet>,
    pub(crate) events: VecDeque<Event>,
    pub(crate) unknown: VecDeque<u32>,
    pub(crate) stats: SessionStats,
    payloads: Payloads,
    lost_scratch: Vec<u64>,
    pub(crate) cc: Option<cc::CongestionControl>,
    pub(crate) remb: Option<rtcweb_bwe::RemoteEstimator>,
    pub(crate) resilience: resilience::ResilienceState,
}

impl Session {
    /// A session starting at `now`; `seed` drives SSRC, sequence number and RTCP timing
    /// randomness (seed it from the OS in production, fixed in tests).
    pub fn new(config: SessionConfig, now: Instant, seed: impl Into<Seed>) -> Self {
        let mut rng = Rng::new(seed);
        let local_ssrc = config.feedback_ssrc.unwrap_or(rng.next_u64() as u32);
        let twcc_start = rng.next_u64() as u16;
        let mut s = Self {
            clock: Clock {
                start: now,
                ntp_base: config.ntp_base,
            },
            config,
            rng,
            senders: Vec::new(),
            receivers: Vec::new(),
            local_ssrc,
            twcc_tx: TwccSender::new(twcc_start),
            twcc_rx: TwccReceiver::new(now),
            next_twcc_feedback: None,
            rtt: None,
            next_report: now,
            avg_rtcp_size: 100.0,
            rrtrs: VecDeque::new(),
            transmits: VecDeque::new(),
            events: VecDeque::new(),
            unknown: VecDeque::new(),
            stats: SessionStats::default(),
            payloads: Payloads::new(),
            lost_scratch: Vec::new(),
            cc: None,
            remb: None,
            resilience: resilience::ResilienceState::default(),
        };
        s.remb = remb::new_estimator(s.config.generate_remb);
        s.cc = s
            .config
            .congestion_control
            .clone()
            .map(cc::CongestionControl::new);
        s.next_report = now + s.report_interval(true);
        s
    }

    /// Adds a stream to send.
    pub fn add_send_stream(&mut self, config: SendStreamConfig) -> Result<()> {
        if self.senders.iter().any(|s| s.config.ssrc == config.ssrc) {
            return Err(Error::OutOfRange("send SSRC already added"));
        }
        let seq = self.rng.next_u64() as u16;
        let rtx_seq = self.rng.next_u64() as u16;
        self.senders.push(SendStream::new(
            config,
            self.config.history_packets,
            seq,
            rtx_seq,
        ));
        Ok(())
    }

    /// Adds a stream to receive.
    pub fn add_receive_stream(&mut self, config: ReceiveStreamConfig) -> Result<()> {
        if self.receivers.iter().any(|s| s.config.ssrc == config.ssrc) {
            return Err(Error::OutOfRange("receive SSRC already added"));
        }
        let assembler = match (config.assemble_frames, config.codecs.first()) {
            (true, Some(c)) => Some(FrameAssembler::new(
                config.ssrc,
                c.codec,
                self.config.assembler,
            )),
            _ => None,
        };
        self.unknown.retain(|&s| s != config.ssrc);
        self.receivers.push(ReceiveStream {
            config,
            unwrapper: SeqUnwrapper::new(),
            stats: ReceiveStats::default(),
            nack: nack::NackTracker::new(self.config.nack),
            assembler,
            last_sr: None,
            last_keyframe_request: None,
            fir_seq: 0,
            protection: None,
            playout: None,
        });
        Ok(())
    }

    /// Removes a receive stream.
    pub fn remove_receive_stream(&mut self, ssrc: u32) {
        self.receivers.retain(|r| r.config.ssrc != ssrc);
    }

    /// Removes a send stream.
    pub fn remove_send_stream(&mut self, ssrc: u32) {
        self.senders.retain(|s| s.config.ssrc != ssrc);
    }

    /// The header extension ids, to change after a renegotiation.
    pub fn extensions_mut(&mut self) -> &mut ExtensionMap {
        &mut self.config.extensions
    }

    /// The SSRC used for RTCP when no stream is sent.
    pub fn local_ssrc(&self) -> u32 {
        self.local_ssrc
    }

    /// The latest round-trip time measurement.
    pub fn rtt(&self) -> Option<Duration> {
        self.rtt
    }

    /// Session counters.
    pub fn stats(&self) -> SessionStats {
        self.stats
    }

    /// Counters of send stream `ssrc`.
    pub fn send_stats(&self, ssrc: u32) -> Option<SendStats> {
        self.senders
            .iter()
            .find(|s| s.config.ssrc == ssrc)
            .map(|s| s.stats)
    }

    /// Statistics of receive stream `ssrc`.
    pub fn receive_stats(&self, ssrc: u32) -> Option<ReceiveStats> {
        self.receivers
            .iter()
            .find(|s| s.config.ssrc == ssrc)
            .map(|s| s.stats)
    }

    /// Frame assembly counters of receive stream `ssrc`.
    pub fn assembler_stats(&self, ssrc: u32) -> Option<crate::frame::AssemblerStats> {
        self.receivers
            .iter()
            .find(|s| s.config.ssrc == ssrc)
            .and_then(|s| s.assembler.as_ref().map(FrameAssembler::stats))
    }

    pub(crate) fn push_event(&mut self, e: Event) {
        if self.events.len() >= self.config.max_events {
            self.events.pop_front();
            self.stats.events_dropped += 1;
        }
        self.events.push_back(e);
    }

    pub(crate) fn push_transmit(&mut self, kind: PacketKind, data: Vec<u8>) {
        if self.transmits.len() >= self.config.max_transmits {
            self.stats.transmits_dropped += 1;
            return;
        }
        self.transmits.push_back(Packet {
            kind,
            payload: data,
        });
    }

    /// The next packet to protect and send.
    pub fn poll_transmit(&mut self) -> Option<Packet> {
        self.transmits.pop_front()
    }

    /// The next event.
    pub fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    /// The next moment [`Session::handle_timeout`] must be called.
    pub fn poll_timeout(&self) -> Option<Instant> {
        let mut t = Some(self.next_report);
        let mut earliest = |x: Option<Instant>| {
            if let Some(x) = x {
                t = Some(t.map_or(x, |t: Instant| t.min(x)));
            }
        };
        earliest(self.next_twcc_feedback);
        for r in &self.receivers {
            if r.config.nack || r.fec_only() {
                earliest(r.nack.next_deadline());
            }
            earliest(r.assembler.as_ref().and_then(FrameAssembler::poll_timeout));
        }
        for i in 0..self.receivers.len() {
            let stalled = self.receivers[i]
                .assembler
                .as_ref()
                .is_some_and(|a| a.needs_keyframe() && a.buffered() > 0);
            if stalled {
                earliest(self.keyframe_request_due(i));
            }
        }
        earliest(
            self.cc
                .as_ref()
                .and_then(cc::CongestionControl::poll_timeout),
        );
        earliest(self.remb_timeout());
        earliest(self.playout_timeout());
        t
    }

    /// When receive stream `i` may send its next keyframe request.
    fn keyframe_request_due(&self, i: usize) -> Option<Instant> {
        let r = self.receivers.get(i)?;
        Some(match r.last_keyframe_request {
            Some(t) => t + self.config.keyframe_request_interval,
            // The first packets may just be reordered: give them one interval.
            None => {
                let first = r.assembler.as_ref()?.poll_timeout()?;
                first - self.config.assembler.max_wait + self.config.keyframe_request_interval
            }
        })
    }

    /// Does what is due at `now`: NACKs and their retries, transport feedback, frame
    /// assembly timeouts and regular reports.
    pub fn handle_timeout(&mut self, now: Instant) {
        self.cc_timeout(now);
        self.remb_handle_timeout(now);
        let rtt = self.rtt;
        let mut nacks = Vec::new();
        let mut lost = Vec::new();
        for i in 0..self.receivers.len() {
            nacks.clear();
            lost.clear();
            let r = &mut self.receivers[i];
            if r.config.nack {
                r.nack.poll(now, rtt, &mut nacks, &mut lost);
            } else if r.fec_only() {
                r.nack.expire(now, &mut lost);
            }
            r.stats.lost_for_good += lost.len() as u64;
            if let Some(a) = r.assembler.as_mut() {
                for &l in &lost {
                    a.declare_lost(now, l);
                }
                a.handle_timeout(now);
            }
            // Waiting for a key frame with packets held (the start of the stream was lost,
            // or a loss could not be repaired): keep asking, rate limited.
            let stalled = r
                .assembler
                .as_ref()
                .is_some_and(|a| a.needs_keyframe() && a.buffered() > 0);
            let ssrc = r.config.ssrc;
            if stalled && self.keyframe_request_due(i).is_some_and(|t| t <= now) {
                let _ = self.request_keyframe(now, ssrc, KeyframeRequest::Pli);
            }
            let r = &mut self.receivers[i];
            if !nacks.is_empty() {
                r.stats.nacks_sent += 1;
                let media = r.config.ssrc;
                self.send_nack(media, &nacks);
            }
            self.drain_assembler(now, i);
        }
        if self.next_twcc_feedback.is_some_and(|t| t <= now) {
            self.send_twcc_feedback();
            self.next_twcc_feedback = self
                .twcc_rx
                .has_pending()
                .then(|| now + self.config.twcc_interval);
        }
        if now >= self.next_report {
            self.send_report(now);
            self.next_report = now + self.report_interval(false);
        }
        self.playout_handle_timeout(now);
    }

    /// The RTCP interval of RFC 3550 appendix A.7 with the reduced minimum of section 6.2.
    fn report_interval(&mut self, initial: bool) -> Duration {
        let kbps = (self.config.session_bandwidth_bps as f64 / 1000.0).max(1.0);
        let t_min = 360.0 / kbps;
        let mut rtcp_bw = self.config.session_bandwidth_bps as f64 * 0.05 / 8.0;
        let members = (1 + self.receivers.len().max(1)) as f64;
        let senders = (self.senders.len() + self.receivers.len()) as f64;
        let mut n = members;
        if senders <= members * 0.25 {
            if !self.senders.is_empty() {
                rtcp_bw *= 0.25;
                n = senders;
            } else {
                rtcp_bw *= 0.75;
                n = members - senders;
            }
        }
        let t = (self.avg_rtcp_size * n / rtcp_bw.max(1.0)).max(t_min);
        let t = if initial { t / 2.0 } else { t };
        let t = t * (self.rng.next_f64() + 0.5) / (std::f64::consts::E - 1.5);
        Duration::from_secs_f64(t.min(3600.0))
    }

    pub(crate) fn note_rtcp_size(&mut self, size: usize) {
        self.avg_rtcp_size += (size as f64 + RTCP_OVERHEAD - self.avg_rtcp_size) / 16.0;
    }

    pub(crate) fn set_rtt(&mut self, now: Instant, rtt: Duration) {
        self.rtt = Some(rtt);
        self.push_event(Event::Rtt(rtt));
        self.cc_rtt(now, rtt);
        self.remb_rtt(now, rtt);
        self.resilience_on_rtt(rtt);
    }
}

impl SansIo for Session {
    /// One unprotected RTP or RTCP packet.
    type Input<'a> = &'a [u8];
    type Transmit = Packet;
    type Event = Event;

    /// As [`Session::handle_input`]; a malformed packet is counted in the stats.
    fn handle_input(&mut self, now: Instant, packet: &[u8]) {
        let _ = Session::handle_input(self, now, packet);
    }
    fn handle_timeout(&mut self, now: Instant) {
        Session::handle_timeout(self, now);
    }
    fn poll_transmit(&mut self, _now: Instant) -> Option<Packet> {
        Session::poll_transmit(self)
    }
    fn poll_event(&mut self) -> Option<Event> {
        Session::poll_event(self)
    }
    fn poll_timeout(&self) -> Option<Instant> {
        Session::poll_timeout(self)
    }
}
