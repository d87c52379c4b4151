//! The send-side bandwidth estimator: one face over the delay-based, loss-based,
//! acknowledged-rate, ALR and probing components.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use crate::acked_bitrate::AckedBitrate;
use crate::aimd::Aimd;
use crate::alr::AlrDetector;
use crate::delay_based::DelayBased;
use crate::error::{Error, Result};
use crate::event::{Event, Limit, ProbeCluster, TargetRate};
use crate::history::{Reported, SendHistory, Sent};
use crate::input::{
    Constraints, Input, LossReport, PacketKind, PacketResult, ProbeClusterId, SentPacket,
};
use crate::loss_based::LossBased;
use crate::probe_controller::ProbeController;
use crate::probe_estimator::ProbeEstimator;
use crate::time::{Clock, MS, Micros, SEC, duration_micros, to_duration};
use crate::train::TrainDetector;
use crate::{Bitrate, overuse::Usage};

/// How often `handle_timeout` wants to run (ALR, probe timeouts, feedback timeout).
const PROCESS_INTERVAL: Micros = 25 * MS;
/// Once nothing has been sent for this long, `handle_timeout` runs only every
/// [`IDLE_PROCESS_INTERVAL`]: an idle connection must not wake forty times a second (the
/// soak's timer-storm check found it did). A send brings the short interval back.
const IDLE_AFTER: Micros = SEC;
/// The interval while idle: the feedback timeout's own granularity, so its cuts still come
/// on time, and ALR and probe timeouts only move that slowly when nothing is sent.
const IDLE_PROCESS_INTERVAL: Micros = SEC;
/// The delivery rate a decrease is based on spans this much arrival time (during an
/// over-use the bottleneck is saturated, so a short span is already exact).
const DELIVERY_SPAN: Micros = 150 * MS;
/// Without transport feedback for this long while sending, the estimate is halved (and
/// again after each further interval).
const FEEDBACK_TIMEOUT: Micros = SEC;
/// RTCP loss reports are ignored while transport feedback arrived within this time.
const TRANSPORT_FEEDBACK_FRESH: Micros = 2 * SEC;
/// Fallback RTT until one is measured.
const DEFAULT_RTT: Micros = 200 * MS;
/// An explicit RTT sample is preferred over the feedback-derived one for this long.
const RTT_SAMPLE_FRESH: Micros = 10 * SEC;
/// The feedback-derived RTT is the minimum over epochs of this length (current and
/// previous), so one late report does not inflate it.
const RTT_EPOCH: Micros = 5 * SEC;
/// RTCP-only operation (no transport feedback): below this loss the estimate grows,
/// above the upper one it shrinks by half the loss (draft-ietf-rmcat-gcc-02 section 6).
const RR_LOW_LOSS: f64 = 0.02;
const RR_HIGH_LOSS: f64 = 0.10;
/// Probe clusters waiting in the event queue at most.
const MAX_QUEUED_PROBES: usize = 8;
/// A packet sent within this factor of the previous packet's time at the pacing rate
/// (plus the slack, for timer granularity) continues a packet train.
const TRAIN_GAP_FACTOR: f64 = 1.5;
const TRAIN_GAP_SLACK: Micros = 500;

/// Settings of a [`BandwidthEstimator`].
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    /// The estimate before any feedback (libwebrtc: 300 kbit/s).
    pub start: Bitrate,
    /// Lowest target.
    pub min: Bitrate,
    /// Highest target (and highest probe).
    pub max: Bitrate,
    /// Padding is requested up to this rate (see [`Constraints::padding`]).
    pub padding: Bitrate,
    /// Pacing rate as a multiple of the target. Above 1 so a frame leaves in a fraction
    /// of its interval; libwebrtc uses 2.5.
    pub pacing_factor: f64,
    /// Probe at start (3x and 6x the start rate, then exponentially).
    pub initial_probing: bool,
    /// Probe every 5 s while application limited.
    pub periodic_alr_probing: bool,
    /// Packets remembered for matching feedback (rounded up to a power of two). Must cover
    /// what is sent in the longest feedback delay: 8192 is 4 s at 2000 packets/s.
    pub history: usize,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            start: Bitrate::from_kbps(300),
            min: Bitrate::from_kbps(30),
            max: Bitrate::from_kbps(20_000),
            padding: Bitrate::ZERO,
            pacing_factor: 2.5,
            initial_probing: true,
            periodic_alr_probing: false,
            history: 8192,
        }
    }
}

/// Counters, for statistics and tests.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Stats {
    /// Packets recorded as sent.
    pub sent: u64,
    /// Feedback records matched with a sent packet and reported received.
    pub received: u64,
    /// Feedback records reporting a packet lost (first report only).
    pub lost: u64,
    /// Feedback records that matched nothing (unknown or forgotten sequence numbers,
    /// duplicates) and were skipped.
    pub skipped: u64,
    /// Probe results obtained.
    pub probe_results: u64,
    /// Bytes of audio and video sent.
    pub media_bytes: u64,
    /// Bytes of retransmissions sent.
    pub retransmitted_bytes: u64,
    /// Bytes of padding sent.
    pub padding_bytes: u64,
}

/// A received packet of the report being processed.
#[derive(Debug, Clone, Copy)]
struct Acked {
    seq: u64,
    arrival: Micros,
    send: Micros,
    size: u32,
    probe: Option<ProbeClusterId>,
    continues: bool,
}

/// A send-side bandwidth estimator after draft-ietf-rmcat-gcc-02 (and libwebrtc's
/// goog_cc): delay-based AIMD on transport feedback, a maximum-likelihood loss-based
/// bound, probing, ALR detection. Sans-IO: `now` is always a parameter.
///
/// ```
/// use std::time::{Duration, Instant};
/// use rtcweb_bwe::*;
///
/// let mut bwe = BandwidthEstimator::new(Config::default()).unwrap();
/// let t0 = Instant::now();
/// bwe.handle_input(t0, Input::Sent(SentPacket {
///     seq: 1, size: 1200, send_time: t0, kind: PacketKind::Video, probe_cluster: None,
/// })).unwrap();
/// // The initial rates, then the start-up probes.
/// let Some(Event::TargetRate(rate)) = bwe.poll_event() else { panic!() };
/// assert_eq!(rate.target, Bitrate::from_kbps(300));
/// assert!(matches!(bwe.poll_event(), Some(Event::ProbeCluster(_))));
/// let t1 = t0 + Duration::from_millis(80);
/// bwe.handle_input(t1, Input::Feedback(&[PacketResult { seq: 1, arrival_us: Some(40_000) }]))
///     .unwrap();
/// assert!(bwe.poll_timeout().is_some());
/// ```
#[derive(Debug)]
pub struct BandwidthEstimator {
    config: Config,
    clock: Clock,
    history: SendHistory,
    delay: DelayBased,
    acked: AckedBitrate,
    loss: LossBased,
    alr: AlrDetector,
    probes: ProbeController,
    probe_results: ProbeEstimator,
    trains: TrainDetector,
    /// Received packets of the report being processed.
    scratch: Vec<Acked>,
    /// The last packet sent: (seq, send time, size, part of a probe).
    last_packet: Option<(u64, Micros, u32, bool)>,
    min: f64,
    max: f64,
    padding: f64,
    receiver_limit: Option<f64>,
    rtt_sample: Option<(Micros, Micros)>,
    rtt_min: (Option<Micros>, Option<Micros>, Micros),
    started: bool,
    /// When the first input or timeout came.
    started_at: Micros,
    /// The latest `now` seen by a call that did work.
    now: Micros,
    /// The latest `now` of a `handle_timeout` that returned early (nothing due), kept as
    /// an instant: converting it costs more than the early return itself, and only the
    /// freshness of an explicit RTT sample ever needs it.
    idle_now: Option<Instant>,
    next_process: Micros,
    /// `next_process` as an instant (None before the first call).
    next_process_at: Option<Instant>,
    last_feedback: Option<Micros>,
    last_sent: Option<Micros>,
    last_timeout_cut: Option<Micros>,
    timed_out: bool,
    bytes_sent: u64,
    last_rr: Option<(Micros, u64)>,
    in_alr: bool,
    current: TargetRate,
    /// Microseconds one byte takes at the pacing rate.
    us_per_paced_byte: f64,
    emitted: Option<TargetRate>,
    /// `current` differs from `emitted` (kept by `update_target`, so `poll_event`, which
    /// the caller runs after every packet, does not compare the whole struct).
    rate_pending: bool,
    probe_events: VecDeque<ProbeCluster>,
    stats: Stats,
}

impl BandwidthEstimator {
    /// An estimator with `config`.
    ///
    /// # Errors
    /// [`Error::InvalidLimits`] if `min > max` or `max` is zero; [`Error::InvalidConfig`]
    /// if the pacing factor is not at least 1.
    pub fn new(config: Config) -> Result<Self> {
        check_limits(config.min, config.max)?;
        if !(config.pacing_factor >= 1.0 && config.pacing_factor <= 100.0) {
            return Err(Error::InvalidConfig("pacing factor must be in [1, 100]"));
        }
        let (min, max) = (config.min.as_f64(), config.max.as_f64());
        let start = config.start.as_f64().clamp(min, max);
        let current = TargetRate {
            target: Bitrate::from_f64(start),
            pacing: Bitrate::from_f64(start * config.pacing_factor),
            padding: config.padding.min(Bitrate::from_f64(start)),
            rtt: to_duration(DEFAULT_RTT),
            loss: 0.0,
            limit: Limit::Start,
        };
        Ok(Self {
            history: SendHistory::new(config.history),
            delay: DelayBased::new(Aimd::new(start, min, max)),
            acked: AckedBitrate::default(),
            loss: LossBased::default(),
            alr: AlrDetector::default(),
            probes: ProbeController::new(config.initial_probing, config.periodic_alr_probing, max),
            probe_results: ProbeEstimator::default(),
            trains: TrainDetector::default(),
            scratch: Vec::with_capacity(256),
            last_packet: None,
            min,
            max,
            padding: config.padding.as_f64(),
            receiver_limit: None,
            rtt_sample: None,
            rtt_min: (None, None, 0),
            started: false,
            started_at: 0,
            now: 0,
            idle_now: None,
            next_process: 0,
            next_process_at: None,
            last_feedback: None,
            last_sent: None,
            last_timeout_cut: None,
            timed_out: false,
            bytes_sent: 0,
            last_rr: None,
            in_alr: false,
            us_per_paced_byte: 8e6 / (start * config.pacing_factor).max(1.0),
            current,
            emitted: None,
            rate_pending: true,
            probe_events: VecDeque::with_capacity(MAX_QUEUED_PROBES),
            stats: Stats::default(),
            clock: Clock::default(),
            config,
        })
    }

    /// Feeds one input at `now`.
    ///
    /// # Errors
    /// Only [`Input::Constraints`] can fail, with [`Error::InvalidLimits`]; every other
    /// input is accepted (records that match nothing are skipped and counted in
    /// [`BandwidthEstimator::stats`]).
    pub fn handle_input(&mut self, now: Instant, input: Input<'_>) -> Result<()> {
        let now_us = self.clock.micros(now);
        self.now = self.now.max(now_us);
        self.start(now_us);
        match input {
            Input::Sent(p) => {
                // Only the ALR state can change here, and it updates the target itself.
                self.on_sent(now_us, &p);
                return Ok(());
            }
            Input::Feedback(results) => self.on_feedback(now_us, results),
            Input::Loss(report) => self.on_loss_report(now_us, report),
            Input::Rtt(rtt) => {
                self.rtt_sample = Some((duration_micros(rtt).max(1), now_us));
                self.delay.aimd.set_rtt(self.current_rtt());
            }
            Input::ReceiverEstimate(limit) => self.on_receiver_estimate(now_us, limit),
            Input::Constraints(c) => self.on_constraints(now_us, c)?,
        }
        self.update_target();
        Ok(())
    }

    /// Runs timers due at `now`.
    pub fn handle_timeout(&mut self, now: Instant) {
        // Nothing due (the common case: the caller runs this on every wake-up): skip the
        // conversion to microseconds. `next_process > 0` keeps this exactly equivalent to
        // `now_us < next_process` (instants before the epoch convert to <= 0).
        if self.started
            && self.next_process > 0
            && let Some(at) = self.next_process_at
            && now < at
        {
            if self.idle_now.is_none_or(|t| t < now) {
                self.idle_now = Some(now);
            }
            return;
        }
        let now_us = self.clock.micros(now);
        self.now = self.now.max(now_us);
        self.start(now_us);
        if now_us < self.next_process {
            return;
        }
        let quiet_since = self.last_sent.unwrap_or(self.started_at);
        let interval = if now_us.saturating_sub(quiet_since) >= IDLE_AFTER {
            IDLE_PROCESS_INTERVAL
        } else {
            PROCESS_INTERVAL
        };
        self.next_process = now_us + interval;
        self.next_process_at = self.clock.instant(self.next_process);
        self.alr.on_time(now_us);
        self.update_alr(now_us);
        self.probes.on_timeout(now_us, self.alr.alr_start());
        self.check_feedback_timeout(now_us);
        self.update_target();
    }

    /// The next event: new rates first, then probe clusters.
    pub fn poll_event(&mut self) -> Option<Event> {
        if self.rate_pending {
            self.rate_pending = false;
            self.emitted = Some(self.current);
            return Some(Event::TargetRate(self.current));
        }
        self.probe_events.pop_front().map(Event::ProbeCluster)
    }

    /// When [`BandwidthEstimator::handle_timeout`] should next run (None before the first
    /// input).
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.next_process_at
    }

    /// The current rates (as last emitted or about to be).
    pub fn target_rate(&self) -> TargetRate {
        self.current
    }

    /// The current target bitrate.
    pub fn estimate(&self) -> Bitrate {
        self.current.target
    }

    /// The delay-based estimate alone.
    pub fn delay_based_estimate(&self) -> Bitrate {
        Bitrate::from_f64(self.delay.aimd.estimate())
    }

    /// The loss-based estimate, when loss limits the target.
    pub fn loss_based_estimate(&self) -> Option<Bitrate> {
        self.loss.estimate().map(Bitrate::from_f64)
    }

    /// The filtered acknowledged bitrate.
    pub fn acknowledged_bitrate(&self) -> Option<Bitrate> {
        self.acked.estimate().map(Bitrate::from_f64)
    }

    /// The link capacity measured at recent over-uses.
    pub fn link_capacity(&self) -> Option<Bitrate> {
        self.delay.aimd.link_capacity().map(Bitrate::from_f64)
    }

    /// The standing queue the feedback shows (smallest one-way delay of the last report
    /// above the recent minimum).
    pub fn queue_delay(&self) -> Duration {
        to_duration(self.delay.queue_delay())
    }

    /// Whether the sender is application limited.
    pub fn in_alr(&self) -> bool {
        self.in_alr
    }

    /// The RTT in use.
    pub fn rtt(&self) -> Duration {
        to_duration(self.current_rtt())
    }

    /// Counters.
    pub fn stats(&self) -> Stats {
        self.stats
    }

    /// Bounds on internal memory, for tests and fuzzing: (send history slots, queued
    /// probe events, feedback scratch capacity).
    pub fn memory_bounds(&self) -> (usize, usize, usize) {
        (
            self.history.capacity(),
            self.probe_events.len(),
            self.scratch.capacity(),
        )
    }

    fn start(&mut self, now: Micros) {
        if self.started {
            return;
        }
        self.started = true;
        self.started_at = now;
        self.next_process = now + PROCESS_INTERVAL;
        self.next_process_at = self.clock.instant(self.next_process);
        self.alr.set_rate(self.delay.aimd.estimate());
        self.probes.start(now, self.delay.aimd.estimate());
        self.collect_probes();
    }

    fn on_sent(&mut self, now: Micros, p: &SentPacket) {
        let send = self.clock.micros(p.send_time);
        let size = u32::try_from(p.size).unwrap_or(u32::MAX);
        let probe = p.probe_cluster.is_some();
        let continues = self
            .last_packet
            .is_some_and(|(seq, at, prev_size, prev_probe)| {
                let paced = f64::from(prev_size) * self.us_per_paced_byte;
                !probe
                    && !prev_probe
                    && seq.wrapping_add(1) == p.seq
                    && (send.saturating_sub(at) as f64)
                        <= TRAIN_GAP_FACTOR * paced + TRAIN_GAP_SLACK as f64
            });
        self.last_packet = Some((p.seq, send, size, probe));
        self.history.insert(Sent {
            seq: p.seq,
            send_us: send,
            size,
            probe: p.probe_cluster,
            reported: Reported::No,
            continues,
        });
        self.stats.sent += 1;
        match p.kind {
            PacketKind::Padding => self.stats.padding_bytes += p.size as u64,
            PacketKind::Retransmission => self.stats.retransmitted_bytes += p.size as u64,
            PacketKind::Audio | PacketKind::Video => self.stats.media_bytes += p.size as u64,
        }
        self.bytes_sent = self.bytes_sent.saturating_add(u64::from(size));
        self.last_sent = Some(now);
        // Sending again after an idle spell: back to the short interval.
        if self.next_process > now + PROCESS_INTERVAL {
            self.next_process = now + PROCESS_INTERVAL;
            self.next_process_at = self.clock.instant(self.next_process);
        }
        if p.probe_cluster.is_none() {
            self.alr.on_sent(send, size);
            self.update_alr(now);
        }
    }

    fn on_feedback(&mut self, now: Micros, results: &[PacketResult]) {
        self.last_feedback = Some(now);
        self.timed_out = false;
        self.scratch.clear();
        let limit = self.history.capacity();
        self.stats.skipped += results.len().saturating_sub(limit) as u64;
        let mut newest_send: Option<Micros> = None;
        for r in results.iter().take(limit) {
            let Some(s) = self.history.get_mut(r.seq) else {
                self.stats.skipped += 1;
                continue;
            };
            match (r.arrival_us, s.reported) {
                (_, Reported::Received) | (None, Reported::Lost) => {
                    self.stats.skipped += 1;
                }
                (None, Reported::No) => {
                    s.reported = Reported::Lost;
                    self.stats.lost += 1;
                    self.loss.on_packet(s.send_us, s.size, true);
                }
                (Some(arrival), before) => {
                    if before == Reported::No {
                        self.loss.on_packet(s.send_us, s.size, false);
                    }
                    s.reported = Reported::Received;
                    self.stats.received += 1;
                    newest_send = Some(newest_send.map_or(s.send_us, |n| n.max(s.send_us)));
                    self.scratch.push(Acked {
                        seq: r.seq,
                        arrival,
                        send: s.send_us,
                        size: s.size,
                        probe: s.probe,
                        continues: s.continues,
                    });
                }
            }
        }
        self.scratch.sort_unstable_by_key(|p| (p.arrival, p.send));
        let mut probe: Option<f64> = None;
        for p in &self.scratch {
            self.acked.on_acked(p.arrival, p.size);
            self.delay.on_packet(p.send, p.arrival);
            self.trains.on_packet(p.seq, p.arrival, p.size, p.continues);
            if let Some(id) = p.probe
                && let Some(r) = self.probe_results.on_packet(id, p.send, p.arrival, p.size)
            {
                probe = Some(probe.map_or(r, |p| p.max(r)));
            }
        }
        if let Some(send) = newest_send {
            self.on_feedback_rtt(now, now.saturating_sub(send));
        }
        if probe.is_some() {
            self.stats.probe_results += 1;
        }
        let delivered = self.acked.recent(DELIVERY_SPAN);
        let acked = self.acked.estimate();
        if !self.scratch.is_empty() || probe.is_some() {
            self.delay.on_report(now, delivered, acked, probe);
        }
        if let Some(p) = probe {
            self.loss.reset_to(p.max(self.delay.aimd.estimate()));
        }
        if self.loss.close_observation() {
            self.loss.update(self.delay.aimd.estimate(), acked);
        }
        let combined = self.combined().0;
        self.probes.on_estimate(now, combined, probe.is_some());
        if probe.is_some() || self.in_alr || self.delay.aimd.draining() {
            self.trains.reset();
        } else if let Some(hint) = self.trains.capacity_hint(combined) {
            self.probes.on_capacity_hint(now, hint);
        }
        self.collect_probes();
    }

    fn on_loss_report(&mut self, now: Micros, report: LossReport) {
        let fresh = self
            .last_feedback
            .is_some_and(|t| now.saturating_sub(t) < TRANSPORT_FEEDBACK_FRESH);
        let prev = self.last_rr.replace((now, self.bytes_sent));
        if fresh || report.expected == 0 {
            return;
        }
        let Some((t, bytes)) = prev else { return };
        let dt = now.saturating_sub(t);
        if dt <= 0 {
            return;
        }
        let rate = self.bytes_sent.saturating_sub(bytes) as f64 * 8e6 / dt as f64;
        if self.loss.on_report(report.expected, report.lost, rate) {
            self.loss.update(self.delay.aimd.estimate(), Some(rate));
        }
        // Without transport feedback the delay-based controller sees nothing; the loss
        // reports drive it as in draft-ietf-rmcat-gcc-02 section 6.
        let fraction = report.lost.min(report.expected) as f64 / report.expected as f64;
        if fraction < RR_LOW_LOSS {
            self.delay.aimd.on_usage(now, Usage::Normal, Some(rate), 0);
        } else if fraction > RR_HIGH_LOSS {
            let cut = self.delay.aimd.estimate() * (1.0 - 0.5 * fraction);
            self.delay.aimd.scale_to(now, cut);
        }
    }

    /// The receiver's estimate (REMB) bounds the target. Without transport feedback the
    /// delay-based controller here sees nothing of the path, but the receiver ran the same
    /// controller on the arrival times: its estimate then is the delay-based estimate
    /// (still bounded by the loss-based one), so the target follows it up as well as down.
    fn on_receiver_estimate(&mut self, now: Micros, limit: Bitrate) {
        let bps = limit.as_f64();
        self.receiver_limit = Some(bps);
        let fresh = self
            .last_feedback
            .is_some_and(|t| now.saturating_sub(t) < TRANSPORT_FEEDBACK_FRESH);
        if !fresh {
            self.delay.aimd.scale_to(now, bps);
        }
    }

    fn on_constraints(&mut self, now: Micros, c: Constraints) -> Result<()> {
        check_limits(c.min, c.max)?;
        let old_max = self.max;
        self.min = c.min.as_f64();
        self.max = c.max.as_f64();
        self.padding = c.padding.as_f64();
        self.delay.aimd.set_bounds(self.min, self.max);
        if let Some(start) = c.start
            && self.last_feedback.is_none()
        {
            self.delay
                .aimd
                .scale_to(now, start.as_f64().clamp(self.min, self.max));
        }
        self.probes.on_max(now, old_max, self.max);
        self.collect_probes();
        Ok(())
    }

    fn on_feedback_rtt(&mut self, now: Micros, sample: Micros) {
        let (cur, prev, epoch) = self.rtt_min;
        let (cur, prev, epoch) = if now.saturating_sub(epoch) >= RTT_EPOCH || now < epoch {
            (None, cur, now)
        } else {
            (cur, prev, epoch)
        };
        let cur = Some(cur.map_or(sample, |c| c.min(sample)));
        self.rtt_min = (cur, prev, epoch);
        self.delay.aimd.set_rtt(self.current_rtt());
    }

    fn current_rtt(&self) -> Micros {
        if let Some((rtt, at)) = self.rtt_sample
            && self.latest_now().saturating_sub(at) < RTT_SAMPLE_FRESH
        {
            return rtt;
        }
        match self.rtt_min {
            (Some(c), Some(p), _) => c.min(p),
            (Some(c), None, _) => c,
            _ => self.rtt_sample.map_or(DEFAULT_RTT, |s| s.0),
        }
    }

    /// The latest `now` seen by any call.
    fn latest_now(&self) -> Micros {
        match self.idle_now {
            Some(t) => self.now.max(self.clock.micros_of(t)),
            None => self.now,
        }
    }

    fn check_feedback_timeout(&mut self, now: Micros) {
        let (Some(fb), Some(sent)) = (self.last_feedback, self.last_sent) else {
            return;
        };
        let since = now.saturating_sub(fb);
        let due = self
            .last_timeout_cut
            .is_none_or(|t| now.saturating_sub(t) >= FEEDBACK_TIMEOUT);
        if sent > fb && since >= FEEDBACK_TIMEOUT && due {
            self.last_timeout_cut = Some(now);
            self.timed_out = true;
            let half = self.delay.aimd.estimate() / 2.0;
            self.delay.aimd.scale_to(now, half);
        }
    }

    fn update_alr(&mut self, now: Micros) {
        let in_alr = self.alr.alr_start().is_some();
        if in_alr != self.in_alr {
            self.in_alr = in_alr;
            self.acked.set_alr(in_alr);
            self.delay.aimd.set_alr(in_alr);
            self.probes.on_alr(now, in_alr);
            self.collect_probes();
            self.update_target();
        }
    }

    /// The binding estimate and what binds it (before min/max).
    fn combined(&self) -> (f64, Limit) {
        let mut est = self.delay.aimd.estimate();
        let mut limit = if self.last_feedback.is_none() {
            Limit::Start
        } else if self.timed_out {
            Limit::FeedbackTimeout
        } else {
            Limit::Delay
        };
        if let Some(l) = self.loss.estimate()
            && l < est
        {
            (est, limit) = (l, Limit::Loss);
        }
        // An equal receiver estimate is the binding one (it is what set the delay-based
        // estimate when no transport feedback arrives).
        if let Some(r) = self.receiver_limit
            && r <= est
        {
            (est, limit) = (r, Limit::Receiver);
        }
        (est, limit)
    }

    fn update_target(&mut self) {
        let (mut target, mut limit) = self.combined();
        if target >= self.max {
            (target, limit) = (self.max, Limit::Max);
        }
        if target <= self.min {
            (target, limit) = (self.min, Limit::Min);
        }
        self.alr.set_rate(target);
        self.us_per_paced_byte = 8e6 / (target * self.config.pacing_factor).max(1.0);
        let rtt = to_duration(self.current_rtt());
        self.current = TargetRate {
            target: Bitrate::from_f64(target),
            pacing: Bitrate::from_f64(target * self.config.pacing_factor),
            padding: Bitrate::from_f64(self.padding.min(target)),
            rtt,
            loss: self.loss.loss(),
            limit,
        };
        self.rate_pending = self.emitted != Some(self.current);
    }

    fn collect_probes(&mut self) {
        while let Some(c) = self.probes.poll() {
            self.probe_results.register(&c);
            if self.probe_events.len() >= MAX_QUEUED_PROBES {
                self.probe_events.pop_front();
            }
            self.probe_events.push_back(c);
        }
    }
}

fn check_limits(min: Bitrate, max: Bitrate) -> Result<()> {
    if max == Bitrate::ZERO || min > max {
        return Err(Error::InvalidLimits { min, max });
    }
    Ok(())
}
