//! The pacer: a leaky bucket between the encoders and the socket, so a frame leaves at
//! the pacing rate instead of as one burst that the bottleneck queue would absorb (and
//! the delay-based estimator would mistake for congestion).
//!
//! - **Budget.** A media debt grows by each packet's size and drains at the pacing rate;
//!   a packet may leave while the debt is within the burst budget (a few ms at the
//!   pacing rate), so after a pause a small burst goes at once and then packets follow
//!   at the pacing rate.
//! - **Priority.** Audio, then retransmissions, then video, then queued padding; FIFO
//!   within a class. Audio is not held by the budget by default (it is small and late
//!   audio is worse than a slightly burstier video), but it counts against it.
//! - **Bound.** The queue holds at most [`PacerConfig::max_packets`] items. When full, a
//!   push evicts the oldest item of the lowest-priority non-empty class that is not above
//!   the new item's class (stale video goes before fresh video, video before
//!   retransmissions), and hands it back; if every queued item outranks the new one, the
//!   new one is handed back. Nothing is ever dropped silently.
//! - **Queue time.** When the queue would not be empty by the time its oldest item has
//!   waited [`PacerConfig::max_queue_time`], the pacer drains it faster (at the rate that
//!   meets that deadline): a frame that waits seconds is worth less than a brief overshoot
//!   the estimator will correct. (A queue that drains within an eighth of that time at
//!   the pacing rate skips the check, so an item can be late by at most that eighth.)
//! - **Probes and padding.** A probe cluster from the estimator is sent at its own rate,
//!   with queued media if there is any and padding otherwise, each packet tagged with the
//!   cluster. When the queue is empty and a padding rate is set, padding is requested up to
//!   that rate (media counts towards it). Padding is a [`PaddingRequest`]: the caller
//!   builds it (RTX of recent packets when RTX is negotiated, padding-only packets
//!   otherwise).
//!
//! Memory: one `VecDeque` per class, grown to the high-water mark and then reused; no
//! allocation per packet in steady state.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use crate::Bitrate;
use crate::event::ProbeCluster;
use crate::input::ProbeClusterId;

/// Probe clusters waiting behind the active one, at most.
const MAX_PENDING_PROBES: usize = 4;
/// The smallest padding packet requested.
const MIN_PADDING: usize = 50;
/// Probe padding packets aim at this much time at the probe rate each.
const PROBE_PACKET_TIME: Duration = Duration::from_millis(2);
/// A probe that has not completed in this time is abandoned.
const PROBE_TIMEOUT: Duration = Duration::from_secs(1);
/// Rates are floored here so a queue always drains.
const MIN_RATE: f64 = 1000.0;
/// A queue past its deadline drains within this time.
const MIN_DRAIN_TIME: Duration = Duration::from_millis(10);

/// Priority class of a queued packet, highest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PacketClass {
    /// Audio.
    Audio,
    /// Retransmissions.
    Retransmission,
    /// Video (and any other media).
    Video,
    /// Padding the caller queued itself.
    Padding,
}

impl PacketClass {
    const ALL: [PacketClass; 4] = [
        PacketClass::Audio,
        PacketClass::Retransmission,
        PacketClass::Video,
        PacketClass::Padding,
    ];

    fn index(self) -> usize {
        self as usize
    }
}

/// Settings of a [`Pacer`].
#[derive(Debug, Clone, PartialEq)]
pub struct PacerConfig {
    /// The pacing rate until [`Pacer::set_rates`] is called.
    pub initial_rate: Bitrate,
    /// Queued items at most (all classes).
    pub max_packets: usize,
    /// Burst budget: this much time at the pacing rate may leave back to back.
    pub burst: Duration,
    /// The queue is drained faster when it would take longer than this.
    pub max_queue_time: Duration,
    /// Largest padding packet requested.
    pub max_padding_size: usize,
    /// Whether audio waits for the budget like video (default: no).
    pub pace_audio: bool,
}

impl Default for PacerConfig {
    fn default() -> Self {
        Self {
            initial_rate: Bitrate::from_kbps(750),
            max_packets: 4096,
            burst: Duration::from_millis(5),
            max_queue_time: Duration::from_secs(2),
            max_padding_size: 1200,
            pace_audio: false,
        }
    }
}

/// Padding (or probe padding) the caller should send now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PaddingRequest {
    /// About this many bytes (one packet; the pacer counts exactly this many).
    pub bytes: usize,
    /// The probe cluster to tag it with, if it is part of a probe.
    pub probe_cluster: Option<ProbeClusterId>,
}

/// What the pacer releases.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Release<T> {
    /// A queued packet.
    Packet {
        /// The item as pushed.
        item: T,
        /// Its size as pushed.
        size: usize,
        /// The probe cluster it was sent as part of, if any.
        probe_cluster: Option<ProbeClusterId>,
    },
    /// Padding to generate.
    Padding(PaddingRequest),
}

#[derive(Debug)]
struct Queued<T> {
    item: T,
    size: u32,
    enqueued: Instant,
}

#[derive(Debug, Clone, Copy)]
struct ActiveProbe {
    cluster: ProbeCluster,
    start: Option<Instant>,
    bytes: u64,
    packets: u32,
}

/// Counters of a [`Pacer`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PacerStats {
    /// Items released.
    pub released: u64,
    /// Bytes of padding requested.
    pub padding_bytes: u64,
    /// Items handed back on overflow.
    pub evicted: u64,
    /// Probe clusters completed.
    pub probes_completed: u64,
}

/// A pacer over items of type `T` (whole packets, or handles to them).
///
/// ```
/// use std::time::{Duration, Instant};
/// use rtcweb_bwe::{Bitrate, PacerConfig, Pacer, PacketClass, Release};
///
/// let t0 = Instant::now();
/// let mut pacer: Pacer<u32> = Pacer::new(PacerConfig::default());
/// pacer.set_rates(Bitrate::from_kbps(960), Bitrate::ZERO); // 120 bytes per ms
/// for i in 0..4 {
///     assert!(pacer.push(t0, i, 1200, PacketClass::Video).is_none());
/// }
/// // The burst budget (5 ms = 600 bytes) lets the first one go at once...
/// assert!(matches!(pacer.poll_transmit(t0), Some(Release::Packet { item: 0, .. })));
/// assert!(pacer.poll_transmit(t0).is_none());
/// // ...the next when the debt is back within the budget, 5 ms later.
/// let next = pacer.poll_timeout().unwrap();
/// assert!(next - t0 >= Duration::from_millis(5) && next - t0 < Duration::from_micros(5_010));
/// assert!(matches!(pacer.poll_transmit(next), Some(Release::Packet { item: 1, .. })));
/// ```
#[derive(Debug)]
pub struct Pacer<T> {
    config: PacerConfig,
    queues: [VecDeque<Queued<T>>; 4],
    len: usize,
    queued_bytes: u64,
    pacing: f64,
    padding: f64,
    media_debt: f64,
    padding_debt: f64,
    last: Option<Instant>,
    probe: Option<ActiveProbe>,
    pending_probes: VecDeque<ProbeCluster>,
    stats: PacerStats,
    /// The burst and an eighth of the maximum queue time (s), precomputed.
    burst_secs: f64,
    deadline_check_secs: f64,
    /// The drain rate (bit/s) as of the last update: the pacing rate, or what empties the
    /// queue by the oldest item's deadline.
    rate: f64,
    /// The burst budget at `rate` (bytes) and the queue size (bits) above which the
    /// deadline is checked, kept with the rates they derive from (the release path reads
    /// them on every poll).
    burst_bytes: f64,
    deadline_check_bits: f64,
}

impl<T> Pacer<T> {
    /// A pacer with `config`.
    pub fn new(config: PacerConfig) -> Self {
        let mut pacer = Self {
            pacing: config.initial_rate.as_f64().max(MIN_RATE),
            rate: config.initial_rate.as_f64().max(MIN_RATE),
            burst_secs: config.burst.as_secs_f64(),
            deadline_check_secs: config.max_queue_time.as_secs_f64() / 8.0,
            burst_bytes: 0.0,
            deadline_check_bits: 0.0,
            config,
            queues: Default::default(),
            len: 0,
            queued_bytes: 0,
            padding: 0.0,
            media_debt: 0.0,
            padding_debt: 0.0,
            last: None,
            probe: None,
            pending_probes: VecDeque::with_capacity(MAX_PENDING_PROBES),
            stats: PacerStats::default(),
        };
        pacer.set_derived();
        pacer
    }

    /// Sets the pacing and padding rates (from [`crate::TargetRate`]).
    pub fn set_rates(&mut self, pacing: Bitrate, padding: Bitrate) {
        self.pacing = pacing.as_f64().max(MIN_RATE);
        self.padding = padding.as_f64();
        self.deadline_check_bits = self.pacing * self.deadline_check_secs;
        self.update_rate();
    }

    /// Queues a probe cluster (from [`crate::Event::ProbeCluster`]); it starts when the
    /// one before it is done.
    pub fn start_probe(&mut self, cluster: ProbeCluster) {
        if self.pending_probes.len() >= MAX_PENDING_PROBES {
            self.pending_probes.pop_front();
        }
        self.pending_probes.push_back(cluster);
    }

    /// Queues `item` of `size` bytes. Returns an item handed back under the overflow
    /// policy (see the module docs): an evicted older one, or `item` itself.
    pub fn push(&mut self, now: Instant, item: T, size: usize, class: PacketClass) -> Option<T> {
        let mut evicted = None;
        if self.len >= self.config.max_packets {
            let victim = PacketClass::ALL[class.index()..]
                .iter()
                .rev()
                .find(|c| !self.queues[c.index()].is_empty());
            let Some(victim) = victim else {
                self.stats.evicted += 1;
                return Some(item);
            };
            if let Some(q) = self.queues[victim.index()].pop_front() {
                self.len -= 1;
                self.queued_bytes -= u64::from(q.size);
                self.stats.evicted += 1;
                evicted = Some(q.item);
            }
        }
        let size = u32::try_from(size).unwrap_or(u32::MAX);
        self.queues[class.index()].push_back(Queued {
            item,
            size,
            enqueued: now,
        });
        self.len += 1;
        self.queued_bytes += u64::from(size);
        self.update_rate();
        evicted
    }

    /// Advances the budget to `now` (also done by `poll_transmit`).
    pub fn handle_timeout(&mut self, now: Instant) {
        self.advance(now);
    }

    /// The next thing to send at `now`, if the budget allows. Call until `None`, then
    /// again at [`Pacer::poll_timeout`].
    pub fn poll_transmit(&mut self, now: Instant) -> Option<Release<T>> {
        self.advance(now);
        let now = self.last.unwrap_or(now);
        if let Some(t) = self.poll_probe(now) {
            return Some(t);
        }
        let probing = self.probe.is_some();
        if !self.config.pace_audio && !self.queues[PacketClass::Audio.index()].is_empty() {
            return self.pop(None);
        }
        // While a probe is on, everything else (but audio) waits for it: the cluster is all
        // that is sent, so its arrival rate measures the path.
        if probing {
            return None;
        }
        if self.len > 0 && self.media_debt <= self.burst_bytes() {
            return self.pop(None);
        }
        if self.len == 0
            && self.padding > 0.0
            && self.padding_debt <= 0.0
            && self.media_debt <= self.burst_bytes()
        {
            let bytes = ((self.padding * self.config.burst.as_secs_f64() / 8.0) as usize)
                .clamp(MIN_PADDING, self.config.max_padding_size.max(MIN_PADDING));
            self.account(bytes as u64);
            self.stats.padding_bytes += bytes as u64;
            return Some(Release::Padding(PaddingRequest {
                bytes,
                probe_cluster: None,
            }));
        }
        None
    }

    /// When `poll_transmit` will next release something (None when idle).
    pub fn poll_timeout(&self) -> Option<Instant> {
        let last = self.last?;
        let mut next: Option<Instant> = None;
        let mut consider = |t: Instant| next = Some(next.map_or(t, |n| n.min(t)));
        if let Some(p) = self
            .probe
            .or_else(|| self.pending_probes.front().map(|c| active(*c)))
        {
            consider(p.start.map_or(last, |s| s + probe_offset(&p)));
            if !self.config.pace_audio && !self.queues[PacketClass::Audio.index()].is_empty() {
                consider(last);
            }
            return next;
        }
        if self.len > 0 {
            if !self.config.pace_audio && !self.queues[PacketClass::Audio.index()].is_empty() {
                consider(last);
            }
            consider(last + wait(self.media_debt - self.burst_bytes(), self.rate()));
        } else if self.padding > 0.0 {
            let media = wait(self.media_debt - self.burst_bytes(), self.rate());
            let padding = wait(self.padding_debt, self.padding);
            consider(last + media.max(padding));
        }
        next
    }

    /// Items queued.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether nothing is queued.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Bytes queued.
    pub fn queued_bytes(&self) -> u64 {
        self.queued_bytes
    }

    /// How long the queue takes to drain at the current rate.
    pub fn expected_queue_time(&self) -> Duration {
        Duration::from_secs_f64(self.queued_bytes as f64 * 8.0 / self.rate())
    }

    /// When the oldest queued item was pushed.
    pub fn oldest_enqueued(&self) -> Option<Instant> {
        self.queues
            .iter()
            .filter_map(|q| q.front().map(|i| i.enqueued))
            .min()
    }

    /// Whether a probe cluster is being sent or waiting.
    pub fn probing(&self) -> bool {
        self.probe.is_some() || !self.pending_probes.is_empty()
    }

    /// Counters.
    pub fn stats(&self) -> PacerStats {
        self.stats
    }

    /// The rate the queue drains at: the pacing rate, or faster when the queue would not
    /// be empty by the time its oldest item has waited the maximum queue time.
    fn rate(&self) -> f64 {
        self.rate
    }

    fn set_derived(&mut self) {
        self.deadline_check_bits = self.pacing * self.deadline_check_secs;
        self.burst_bytes = self.rate * self.burst_secs / 8.0;
    }

    fn update_rate(&mut self) {
        self.set_rate(self.pacing);
        // A queue that drains in an eighth of the maximum queue time at the pacing rate
        // needs no deadline arithmetic (the common case, kept cheap): its items leave at
        // most that late after their deadline.
        if (self.queued_bytes as f64) * 8.0 < self.deadline_check_bits {
            return;
        }
        let (Some(now), Some(oldest)) = (self.last, self.oldest_enqueued()) else {
            return;
        };
        let waited = now.saturating_duration_since(oldest);
        let left = self
            .config
            .max_queue_time
            .saturating_sub(waited)
            .max(MIN_DRAIN_TIME);
        let needed = self.queued_bytes as f64 * 8.0 / left.as_secs_f64();
        self.set_rate(self.pacing.max(needed));
    }

    fn set_rate(&mut self, rate: f64) {
        if rate != self.rate {
            self.rate = rate;
            self.burst_bytes = rate * self.burst_secs / 8.0;
        }
    }

    fn burst_bytes(&self) -> f64 {
        self.burst_bytes
    }

    fn advance(&mut self, now: Instant) {
        let last = *self.last.get_or_insert(now);
        if now <= last {
            return;
        }
        let dt = (now - last).as_secs_f64();
        self.media_debt = (self.media_debt - self.rate() * dt / 8.0).max(0.0);
        self.padding_debt = (self.padding_debt - self.padding * dt / 8.0).max(0.0);
        self.last = Some(now);
    }

    fn account(&mut self, bytes: u64) {
        self.media_debt += bytes as f64;
        self.padding_debt += bytes as f64;
        self.stats.released += 1;
    }

    fn pop(&mut self, probe: Option<ProbeClusterId>) -> Option<Release<T>> {
        let q = self.queues.iter_mut().find_map(|q| q.pop_front())?;
        self.len -= 1;
        self.queued_bytes -= u64::from(q.size);
        self.account(u64::from(q.size));
        // Once per packet, not per poll: a queue behind its deadline releases often.
        self.update_rate();
        Some(Release::Packet {
            item: q.item,
            size: q.size as usize,
            probe_cluster: probe,
        })
    }

    fn poll_probe(&mut self, now: Instant) -> Option<Release<T>> {
        if self.probe.is_none() {
            self.probe = self.pending_probes.pop_front().map(active);
        }
        let mut p = self.probe?;
        let start = *p.start.get_or_insert(now);
        if now.saturating_duration_since(start) > PROBE_TIMEOUT {
            self.probe = None;
            return None;
        }
        if now < start + probe_offset(&p) {
            self.probe = Some(p);
            return None;
        }
        let id = p.cluster.id;
        let out = if self.len > 0 {
            self.pop(Some(id))
        } else {
            let remaining = (p.cluster.min_bytes as u64).saturating_sub(p.bytes);
            let probes_left = u64::from(p.cluster.min_probes.saturating_sub(p.packets)).max(1);
            let at_rate = p.cluster.bitrate.bytes_in(PROBE_PACKET_TIME);
            let bytes = (remaining / probes_left).max(at_rate) as usize;
            let bytes = bytes.clamp(MIN_PADDING, self.config.max_padding_size.max(MIN_PADDING));
            self.account(bytes as u64);
            self.stats.padding_bytes += bytes as u64;
            Some(Release::Padding(PaddingRequest {
                bytes,
                probe_cluster: Some(id),
            }))
        };
        let size = match &out {
            Some(Release::Packet { size, .. }) => *size as u64,
            Some(Release::Padding(r)) => r.bytes as u64,
            None => 0,
        };
        p.bytes += size;
        p.packets += 1;
        if p.bytes >= p.cluster.min_bytes as u64 && p.packets >= p.cluster.min_probes {
            self.probe = None;
            self.stats.probes_completed += 1;
        } else {
            self.probe = Some(p);
        }
        out
    }
}

fn active(cluster: ProbeCluster) -> ActiveProbe {
    ActiveProbe {
        cluster,
        start: None,
        bytes: 0,
        packets: 0,
    }
}

/// When, after the probe's start, its next packet is due.
fn probe_offset(p: &ActiveProbe) -> Duration {
    wait(p.bytes as f64, p.cluster.bitrate.as_f64().max(MIN_RATE))
}

/// Time to drain `bytes` at `bps`, rounded up to the next microsecond so the budget has
/// certainly drained when the timer fires.
fn wait(bytes: f64, bps: f64) -> Duration {
    if bytes <= 0.0 || bps <= 0.0 {
        return Duration::ZERO;
    }
    let us = (bytes * 8.0 / bps * 1e6).min(3.6e9);
    // `ceil` without the libm call (exact: `us` is in (0, 3.6e9], where the truncation
    // is exact and only an integral value equals it).
    let whole = us as u64;
    let us = if (whole as f64) < us {
        whole + 1
    } else {
        whole
    };
    Duration::from_micros(us + 1)
}
