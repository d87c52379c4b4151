//! The receive-side estimator, for peers that send no transport-wide feedback: the same
//! delay-based controller as the send side (burst grouping, trendline, adaptive over-use
//! threshold, AIMD with the link capacity band, the queue-aware drain) run at the receiver
//! on the arrival times and the send times the packets carry (abs-send-time), with the
//! incoming rate in place of the acknowledged rate. Its estimate goes back to the sender
//! as REMB (draft-alvestrand-rmcat-remb), which the sender takes as its bound.
//!
//! When to send, as libwebrtc does: at once when the estimate first becomes valid, at once
//! when it falls 3 % or more below the last value sent (an over-use must reach the sender
//! within one way, not within a second), otherwise once per interval (1 s).

use std::time::{Duration, Instant};

use crate::Bitrate;
use crate::acked_bitrate::AckedBitrate;
use crate::aimd::Aimd;
use crate::delay_based::DelayBased;
use crate::error::{Error, Result};
use crate::send_time::{AbsUnwrapper, SendTime};
use crate::time::{Clock, MS, Micros, SEC, duration_micros, to_duration};

/// The rate control runs at least this often while packets arrive (and at once on an
/// over-use): the cadence of the send side's feedback.
const UPDATE_INTERVAL: Micros = 100 * MS;
/// A decrease is sent at once when the estimate falls below this fraction of the last
/// value sent (libwebrtc: 97 %).
const DROP_FRACTION: f64 = 0.97;
/// A stream not heard from for this long leaves the SSRC set; when the last one leaves,
/// the estimator starts over (libwebrtc: 2 s). After a pause the arrival pattern says
/// nothing about the queue before it.
const STREAM_TIMEOUT: Micros = 2 * SEC;
/// The delivery rate a decrease is based on spans this much arrival time (as on the send
/// side: during an over-use the bottleneck is saturated, so a short span is exact).
const DELIVERY_SPAN: Micros = 150 * MS;
/// A REMB lists at most this many SSRCs (its count field is one octet).
const MAX_REMB_SSRCS: usize = 255;

/// Settings of a [`RemoteEstimator`].
#[derive(Debug, Clone, PartialEq)]
pub struct RemoteConfig {
    /// Lowest estimate.
    pub min: Bitrate,
    /// Highest estimate.
    pub max: Bitrate,
    /// Regular REMB interval (libwebrtc: about 1 s). A drop of 3 % or more is sent at once.
    pub interval: Duration,
    /// SSRCs tracked at most (1..=255): a new one beyond this evicts the one heard from
    /// least recently.
    pub max_ssrcs: usize,
}

impl Default for RemoteConfig {
    fn default() -> Self {
        Self {
            min: Bitrate::from_kbps(30),
            max: Bitrate::from_kbps(20_000),
            interval: Duration::from_secs(1),
            max_ssrcs: 32,
        }
    }
}

/// A media packet as received.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReceivedPacket {
    /// When it arrived (the receiver's clock).
    pub arrival: Instant,
    /// When it left the sender, as its header says. One estimator takes one kind: a
    /// change of kind starts it over (the two are on different clocks).
    pub send_time: SendTime,
    /// Its size on the wire as the estimate should count it (the whole RTP packet; the
    /// sender's estimator should count the same way).
    pub size: usize,
    /// The media source it belongs to (listed in the REMB).
    pub ssrc: u32,
}

/// One input to [`RemoteEstimator::handle_input`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum RemoteInput {
    /// A media packet arrived.
    Packet(ReceivedPacket),
    /// A round-trip time sample (RTCP XR DLRR or SR/RR): it sets the additive increase
    /// step and how soon a second decrease may follow the first.
    Rtt(Duration),
}

/// A receiver estimated maximum bitrate to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Remb {
    /// The estimate.
    pub bitrate: Bitrate,
    /// The media sources it applies to (those heard from within the last 2 s).
    pub ssrcs: Vec<u32>,
}

/// What the [`RemoteEstimator`] tells its caller.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum RemoteEvent {
    /// Send this REMB now (RTCP PSFB, FMT 15).
    Remb(Remb),
}

/// Counters of a [`RemoteEstimator`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RemoteStats {
    /// Packets taken.
    pub packets: u64,
    /// REMBs emitted.
    pub rembs: u64,
    /// SSRCs evicted because the set was full.
    pub ssrcs_evicted: u64,
    /// Times the estimator started over (every stream timed out, or the send-time kind
    /// changed).
    pub resets: u64,
}

/// A receive-side bandwidth estimator that produces REMB. Sans-IO: `now` is always a
/// parameter.
///
/// ```
/// use std::time::{Duration, Instant};
/// use rtcweb_bwe::*;
///
/// let mut est = RemoteEstimator::new(RemoteConfig::default()).unwrap();
/// let t0 = Instant::now();
/// // 1000-byte packets every 10 ms (800 kbit/s), abs-send-time in 2^-18 s units.
/// for i in 0..100u32 {
///     let arrival = t0 + Duration::from_millis(10 * u64::from(i));
///     let send_time = SendTime::AbsSendTime(i * 10 * (1 << 18) / 1000);
///     let p = ReceivedPacket { arrival, send_time, size: 1000, ssrc: 0x1234 };
///     est.handle_input(arrival, RemoteInput::Packet(p));
/// }
/// // Once the incoming rate is measured the first REMB is due.
/// let Some(RemoteEvent::Remb(remb)) = est.poll_event() else { panic!() };
/// assert_eq!(remb.ssrcs, [0x1234]);
/// assert!(remb.bitrate > Bitrate::from_kbps(700) && remb.bitrate < Bitrate::from_kbps(900));
/// assert!(est.poll_timeout().is_some());
/// ```
#[derive(Debug)]
pub struct RemoteEstimator {
    config: RemoteConfig,
    clock: Clock,
    /// The latest `now` seen.
    now: Micros,
    abs: AbsUnwrapper,
    /// The send-time kind in use: true for abs-send-time.
    abs_kind: Option<bool>,
    delay: DelayBased,
    incoming: AckedBitrate,
    /// Whether the estimate has been initialised from the incoming rate.
    valid: bool,
    rtt: Option<Micros>,
    /// (SSRC, last heard from), at most `config.max_ssrcs`.
    ssrcs: Vec<(u32, Micros)>,
    last_update: Option<Micros>,
    /// When the last REMB was emitted, and its value.
    last_remb: Option<(Micros, f64)>,
    /// The REMB to hand out (only the newest matters).
    pending: Option<Remb>,
    stats: RemoteStats,
}

impl RemoteEstimator {
    /// An estimator with `config`.
    ///
    /// # Errors
    /// [`Error::InvalidLimits`] if `min > max` or `max` is zero; [`Error::InvalidConfig`]
    /// if the interval is zero or `max_ssrcs` is not in 1..=255.
    pub fn new(config: RemoteConfig) -> Result<Self> {
        if config.max == Bitrate::ZERO || config.min > config.max {
            return Err(Error::InvalidLimits {
                min: config.min,
                max: config.max,
            });
        }
        if config.interval.is_zero() {
            return Err(Error::InvalidConfig("REMB interval must not be zero"));
        }
        if !(1..=MAX_REMB_SSRCS).contains(&config.max_ssrcs) {
            return Err(Error::InvalidConfig("max_ssrcs must be in 1..=255"));
        }
        Ok(Self {
            delay: DelayBased::new(new_aimd(&config, None)),
            ssrcs: Vec::with_capacity(config.max_ssrcs),
            config,
            clock: Clock::default(),
            now: 0,
            abs: AbsUnwrapper::default(),
            abs_kind: None,
            incoming: AckedBitrate::default(),
            valid: false,
            rtt: None,
            last_update: None,
            last_remb: None,
            pending: None,
            stats: RemoteStats::default(),
        })
    }

    /// Feeds one input at `now`. Wire-derived values never fail: any arrival and send
    /// time is taken (all arithmetic saturates).
    pub fn handle_input(&mut self, now: Instant, input: RemoteInput) {
        let now_us = self.clock.micros(now);
        self.now = self.now.max(now_us);
        match input {
            RemoteInput::Packet(p) => self.on_packet(now_us, &p),
            RemoteInput::Rtt(rtt) => {
                let rtt = duration_micros(rtt).max(1);
                self.rtt = Some(rtt);
                self.delay.aimd.set_rtt(rtt);
            }
        }
    }

    /// Runs timers due at `now`: streams that went quiet leave the SSRC set (all of them
    /// gone: the estimator starts over), and the regular REMB.
    pub fn handle_timeout(&mut self, now: Instant) {
        let now_us = self.clock.micros(now);
        self.now = self.now.max(now_us);
        let before = self.ssrcs.len();
        self.ssrcs
            .retain(|&(_, seen)| now_us.saturating_sub(seen) < STREAM_TIMEOUT);
        if before > 0 && self.ssrcs.is_empty() {
            self.reset();
        }
        self.check_remb(now_us);
    }

    /// The next REMB to send.
    pub fn poll_event(&mut self) -> Option<RemoteEvent> {
        self.pending.take().map(RemoteEvent::Remb)
    }

    /// When [`RemoteEstimator::handle_timeout`] should next run (None while nothing is
    /// tracked).
    pub fn poll_timeout(&self) -> Option<Instant> {
        let remb = self
            .last_remb
            .filter(|_| self.valid)
            .map(|(t, _)| t.saturating_add(duration_micros(self.config.interval)));
        let quiet = self
            .ssrcs
            .iter()
            .map(|&(_, seen)| seen.saturating_add(STREAM_TIMEOUT))
            .min();
        let t = match (remb, quiet) {
            (Some(a), Some(b)) => a.min(b),
            (a, b) => a.or(b)?,
        };
        self.clock.instant(t)
    }

    /// The estimate, once the incoming rate has been measured.
    pub fn estimate(&self) -> Option<Bitrate> {
        self.valid
            .then(|| Bitrate::from_f64(self.delay.aimd.estimate()))
    }

    /// The filtered incoming bitrate.
    pub fn incoming_bitrate(&self) -> Option<Bitrate> {
        self.incoming.estimate().map(Bitrate::from_f64)
    }

    /// The standing queue at the last update (smallest one-way delay above the recent
    /// minimum).
    pub fn queue_delay(&self) -> Duration {
        to_duration(self.delay.queue_delay())
    }

    /// The SSRCs the estimate applies to now.
    pub fn ssrcs(&self) -> impl Iterator<Item = u32> + '_ {
        self.ssrcs.iter().map(|&(s, _)| s)
    }

    /// Counters.
    pub fn stats(&self) -> RemoteStats {
        self.stats
    }

    /// Bounds on internal memory, for tests and fuzzing: (SSRCs tracked, capacity of the
    /// SSRC set). Everything else is of fixed size.
    pub fn memory_bounds(&self) -> (usize, usize) {
        (self.ssrcs.len(), self.ssrcs.capacity())
    }

    fn on_packet(&mut self, now: Micros, p: &ReceivedPacket) {
        self.stats.packets += 1;
        let abs = matches!(p.send_time, SendTime::AbsSendTime(_));
        if self.abs_kind.is_some_and(|k| k != abs) {
            self.reset();
        }
        self.abs_kind = Some(abs);
        self.note_ssrc(p.ssrc, now);
        let send = match p.send_time {
            SendTime::AbsSendTime(raw) => self.abs.unwrap(raw),
            SendTime::Micros(us) => us,
        };
        let arrival = self.clock.micros(p.arrival);
        self.delay.on_packet(send, arrival);
        self.incoming
            .on_acked(arrival, u32::try_from(p.size).unwrap_or(u32::MAX));
        if !self.valid {
            // Start from what arrives (libwebrtc waits 5 s for it; the acknowledged-rate
            // filter's first window, 500 ms, is already a steady measurement).
            let Some(rate) = self.incoming.estimate() else {
                return;
            };
            self.valid = true;
            self.delay.aimd.scale_to(arrival, rate);
            self.last_update = Some(arrival);
        } else {
            let due = self
                .last_update
                .is_none_or(|t| arrival.saturating_sub(t) >= UPDATE_INTERVAL || arrival < t);
            if due || self.delay.overuse_pending() {
                let delivered = self.incoming.recent(DELIVERY_SPAN);
                let incoming = self.incoming.estimate();
                self.delay.on_report(arrival, delivered, incoming, None);
                self.last_update = Some(arrival);
            }
        }
        self.check_remb(now);
    }

    fn note_ssrc(&mut self, ssrc: u32, now: Micros) {
        if let Some(e) = self.ssrcs.iter_mut().find(|e| e.0 == ssrc) {
            e.1 = now;
            return;
        }
        if self.ssrcs.len() >= self.config.max_ssrcs {
            let oldest = self
                .ssrcs
                .iter()
                .enumerate()
                .min_by_key(|(_, e)| e.1)
                .map(|(i, _)| i);
            if let Some(i) = oldest {
                self.ssrcs.swap_remove(i);
                self.stats.ssrcs_evicted += 1;
            }
        }
        self.ssrcs.push((ssrc, now));
    }

    /// Emits a REMB if one is due at `now`.
    fn check_remb(&mut self, now: Micros) {
        if !self.valid {
            return;
        }
        let est = self.delay.aimd.estimate();
        let interval = duration_micros(self.config.interval);
        let due = self.last_remb.is_none_or(|(t, sent)| {
            est < DROP_FRACTION * sent || now.saturating_sub(t) >= interval || now < t
        });
        if !due {
            return;
        }
        self.last_remb = Some((now, est));
        self.stats.rembs += 1;
        self.pending = Some(Remb {
            bitrate: Bitrate::from_f64(est),
            ssrcs: self.ssrcs().collect(),
        });
    }

    /// Starts over: a new filter and rate control, no estimate until the incoming rate is
    /// measured again. The SSRC set stays.
    fn reset(&mut self) {
        self.stats.resets += 1;
        self.delay = DelayBased::new(new_aimd(&self.config, self.rtt));
        self.incoming = AckedBitrate::default();
        self.abs = AbsUnwrapper::default();
        self.valid = false;
        self.last_update = None;
        self.last_remb = None;
        self.pending = None;
    }

    /// The detector's last verdict.
    #[cfg(test)]
    fn usage(&self) -> crate::overuse::Usage {
        self.delay.usage()
    }
}

/// The rate control of a fresh estimator (its start is replaced by the incoming rate).
fn new_aimd(config: &RemoteConfig, rtt: Option<Micros>) -> Aimd {
    let (min, max) = (config.min.as_f64(), config.max.as_f64());
    let mut aimd = Aimd::new(min, min, max);
    if let Some(rtt) = rtt {
        aimd.set_rtt(rtt);
    }
    aimd
}

#[cfg(test)]
#[path = "remote_tests.rs"]
mod tests;
