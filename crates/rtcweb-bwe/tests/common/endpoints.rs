//! The two simulated endpoints: a sender with a synthetic encoder, the estimator and the
//! pacer; a receiver that records arrivals and sends feedback.

use std::collections::{BTreeMap, VecDeque};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use rtcweb_bwe::{
    BandwidthEstimator, Bitrate, Config, Event, Input, Pacer, PacerConfig, PacketClass, PacketKind,
    PacketResult, Release, SentPacket, TargetRate,
};
use rtcweb_netsim::{Datagram, Rng, SansIo, Transmit};

use super::wire::{self, MediaHeader};

/// Largest media packet payload.
const MTU: usize = 1200;
const FRAME_RATE: u32 = 30;
/// Audio: 20 ms packets of this many bytes (40 kbit/s).
const AUDIO_BYTES: usize = 100;

/// What a sender does.
#[derive(Debug, Clone)]
pub struct SenderSpec {
    pub flow: u8,
    pub config: Config,
    /// When the sender starts, after the simulation's start.
    pub start: Duration,
    /// The encoder never produces more than this (an application-limited sender)...
    pub app_limit: Option<Bitrate>,
    /// ...until this time after the simulation's start.
    pub app_limit_until: Option<Duration>,
    /// Send 40 kbit/s of audio besides the video.
    pub audio: bool,
    /// Frame sizes vary uniformly by this fraction either way.
    pub frame_noise: f64,
    pub seed: u64,
}

/// Per-interval counters a sender keeps for the report.
#[derive(Debug, Default, Clone, Copy)]
pub struct SenderCounters {
    pub media_bytes: u64,
    pub padding_bytes: u64,
    pub probe_bytes: u64,
    pub probes_started: u32,
}

/// The sending endpoint.
pub struct Sender {
    spec: SenderSpec,
    from: SocketAddr,
    to: SocketAddr,
    epoch: Instant,
    pub bwe: BandwidthEstimator,
    pub pacer: Pacer<(PacketKind, usize)>,
    pub rate: Option<TargetRate>,
    next_frame: Option<Instant>,
    next_audio: Option<Instant>,
    seq: u64,
    rng: Rng,
    feedback: Vec<PacketResult>,
    pub counters: SenderCounters,
}

impl Sender {
    pub fn new(spec: SenderSpec, from: SocketAddr, to: SocketAddr, epoch: Instant) -> Self {
        let bwe = BandwidthEstimator::new(spec.config.clone()).expect("config");
        let pacer = Pacer::new(PacerConfig {
            initial_rate: spec.config.start.mul_f64(spec.config.pacing_factor),
            ..PacerConfig::default()
        });
        let start = epoch + spec.start;
        Self {
            rng: Rng::new(spec.seed),
            next_frame: Some(start),
            next_audio: spec.audio.then_some(start),
            spec,
            from,
            to,
            epoch,
            bwe,
            pacer,
            rate: None,
            seq: 0,
            feedback: Vec::new(),
            counters: SenderCounters::default(),
        }
    }

    /// The encoder's current rate at `now`.
    fn encoder_rate(&self, now: Instant) -> f64 {
        let target = self
            .rate
            .map_or(self.spec.config.start, |r| r.target)
            .as_f64();
        let audio = if self.spec.audio {
            (AUDIO_BYTES * 8 * 50) as f64
        } else {
            0.0
        };
        let video = (target - audio).max(10_000.0);
        let limited = self
            .spec
            .app_limit_until
            .is_none_or(|until| now < self.epoch + until);
        match self.spec.app_limit {
            Some(l) if limited => video.min(l.as_f64()),
            _ => video,
        }
    }

    fn events(&mut self) {
        while let Some(ev) = self.bwe.poll_event() {
            match ev {
                Event::TargetRate(r) => {
                    self.pacer.set_rates(r.pacing, r.padding);
                    self.rate = Some(r);
                }
                Event::ProbeCluster(c) => {
                    self.counters.probes_started += 1;
                    self.pacer.start_probe(c);
                }
                _ => {}
            }
        }
    }

    fn produce(&mut self, now: Instant) {
        while let Some(t) = self.next_frame.filter(|t| *t <= now) {
            let noise = 1.0 + self.spec.frame_noise * (2.0 * self.rng.next_f64() - 1.0);
            let bytes = ((self.encoder_rate(now) / 8.0 / f64::from(FRAME_RATE)) * noise) as usize;
            let bytes = bytes.max(wire::MEDIA_HEADER * 2);
            let n = bytes.div_ceil(MTU);
            for i in 0..n {
                let size = bytes / n + usize::from(i < bytes % n);
                self.pacer
                    .push(now, (PacketKind::Video, size), size, PacketClass::Video);
            }
            self.next_frame = Some(t + Duration::from_secs(1) / FRAME_RATE);
        }
        while let Some(t) = self.next_audio.filter(|t| *t <= now) {
            self.pacer.push(
                now,
                (PacketKind::Audio, AUDIO_BYTES),
                AUDIO_BYTES,
                PacketClass::Audio,
            );
            self.next_audio = Some(t + Duration::from_millis(20));
        }
    }
}

impl SansIo for Sender {
    type Input<'a> = Datagram<'a>;
    type Transmit = Transmit;
    type Event = ();
    fn poll_event(&mut self) -> Option<()> {
        None
    }
    fn handle_input(&mut self, now: Instant, d: Datagram<'_>) {
        let mut fb = std::mem::take(&mut self.feedback);
        if wire::parse_feedback(d.payload, &mut fb) {
            self.bwe
                .handle_input(now, Input::Feedback(&fb))
                .expect("feedback");
            self.events();
        }
        self.feedback = fb;
    }

    fn handle_timeout(&mut self, now: Instant) {
        self.produce(now);
        self.bwe.handle_timeout(now);
        self.pacer.handle_timeout(now);
        self.events();
    }

    fn poll_transmit(&mut self, now: Instant) -> Option<Transmit> {
        if now < self.epoch + self.spec.start {
            return None;
        }
        let (size, kind, probe_cluster) = match self.pacer.poll_transmit(now)? {
            Release::Packet {
                item: (kind, _),
                size,
                probe_cluster,
            } => (size, kind, probe_cluster),
            Release::Padding(p) => (p.bytes, PacketKind::Padding, p.probe_cluster),
        };
        self.seq += 1;
        if probe_cluster.is_some() {
            self.counters.probe_bytes += size as u64;
        }
        if kind == PacketKind::Padding {
            self.counters.padding_bytes += size as u64;
        } else {
            self.counters.media_bytes += size as u64;
        }
        self.bwe
            .handle_input(
                now,
                Input::Sent(SentPacket {
                    seq: self.seq,
                    size,
                    send_time: now,
                    kind,
                    probe_cluster,
                }),
            )
            .expect("sent");
        self.events();
        let header = MediaHeader {
            flow: self.spec.flow,
            kind,
            seq: self.seq,
            send_us: (now - self.epoch).as_micros() as u64,
        };
        Some(Transmit::udp(self.from, self.to, wire::media(header, size)))
    }

    fn poll_timeout(&self) -> Option<Instant> {
        [
            self.next_frame,
            self.next_audio,
            self.bwe.poll_timeout(),
            self.pacer.poll_timeout(),
        ]
        .into_iter()
        .flatten()
        .min()
    }
}

/// Per-interval counters the receiver keeps for one flow.
#[derive(Debug, Default, Clone, Copy)]
pub struct ReceiverCounters {
    pub bytes: u64,
    pub media_bytes: u64,
    pub packets: u64,
    pub queue_sum_us: u64,
    pub queue_max_us: u64,
}

#[derive(Default)]
struct RxFlow {
    sender: Option<SocketAddr>,
    arrivals: BTreeMap<u64, i64>,
    reported_up_to: Option<u64>,
    late: Vec<PacketResult>,
    counters: ReceiverCounters,
}

/// The receiving endpoint: one per bottleneck, serving every flow.
pub struct Receiver {
    addr: SocketAddr,
    epoch: Instant,
    flows: Vec<RxFlow>,
    next_feedback: Instant,
    interval: Duration,
    out: VecDeque<Transmit>,
    /// Propagation delay of the bottleneck direction and its current capacity, to tell
    /// queueing delay from the rest.
    pub one_way: Duration,
    pub capacity_bps: f64,
}

impl Receiver {
    pub fn new(addr: SocketAddr, epoch: Instant, flows: usize, interval: Duration) -> Self {
        Self {
            addr,
            epoch,
            flows: (0..flows).map(|_| RxFlow::default()).collect(),
            next_feedback: epoch + interval,
            interval,
            out: VecDeque::new(),
            one_way: Duration::ZERO,
            capacity_bps: 1e9,
        }
    }

    /// Takes (and resets) a flow's counters.
    pub fn take_counters(&mut self, flow: usize) -> ReceiverCounters {
        std::mem::take(&mut self.flows[flow].counters)
    }

    fn send_feedback(&mut self) {
        for f in &mut self.flows {
            let Some(to) = f.sender else { continue };
            let Some(&highest) = f.arrivals.keys().next_back() else {
                if f.late.is_empty() {
                    continue;
                }
                let records = std::mem::take(&mut f.late);
                self.out
                    .push_back(Transmit::udp(self.addr, to, wire::feedback(&records)));
                continue;
            };
            let first = f
                .reported_up_to
                .map_or_else(|| *f.arrivals.keys().next().unwrap_or(&highest), |r| r + 1);
            let mut records = std::mem::take(&mut f.late);
            for seq in first..=highest {
                records.push(PacketResult {
                    seq,
                    arrival_us: f.arrivals.get(&seq).copied(),
                });
            }
            f.arrivals.clear();
            f.reported_up_to = Some(highest);
            self.out
                .push_back(Transmit::udp(self.addr, to, wire::feedback(&records)));
        }
    }
}

impl SansIo for Receiver {
    type Input<'a> = Datagram<'a>;
    type Transmit = Transmit;
    type Event = ();
    fn poll_event(&mut self) -> Option<()> {
        None
    }
    fn handle_input(&mut self, now: Instant, d: Datagram<'_>) {
        let Some(h) = wire::parse_media(d.payload) else {
            return;
        };
        let Some(f) = self.flows.get_mut(usize::from(h.flow)) else {
            return;
        };
        f.sender = Some(d.source);
        let arrival = (now - self.epoch).as_micros() as i64;
        if f.reported_up_to.is_some_and(|r| h.seq <= r) {
            f.late.push(PacketResult {
                seq: h.seq,
                arrival_us: Some(arrival),
            });
        } else {
            f.arrivals.insert(h.seq, arrival);
        }
        let len = d.payload.len() as u64;
        let c = &mut f.counters;
        c.bytes += len;
        if h.kind != PacketKind::Padding {
            c.media_bytes += len;
        }
        c.packets += 1;
        let owd = arrival - h.send_us as i64;
        let tx = (len as f64 * 8.0 / self.capacity_bps * 1e6) as i64;
        let queue = (owd - self.one_way.as_micros() as i64 - tx).max(0) as u64;
        c.queue_sum_us += queue;
        c.queue_max_us = c.queue_max_us.max(queue);
    }

    fn handle_timeout(&mut self, now: Instant) {
        if now >= self.next_feedback {
            self.send_feedback();
            self.next_feedback = now + self.interval;
        }
    }

    fn poll_transmit(&mut self, _now: Instant) -> Option<Transmit> {
        self.out.pop_front()
    }

    fn poll_timeout(&self) -> Option<Instant> {
        Some(self.next_feedback)
    }
}
