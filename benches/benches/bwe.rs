//! rtcweb-bwe: controller plus pacer cost per sent packet at realistic rates. A video
//! sender (30 fps frames into the pacer, releases at the pacing rate, every packet recorded
//! with the estimator, feedback every 50 ms from a simulated bottleneck of 2.5 or
//! 20 Mbit/s) runs on virtual time. Goal (issue 14): at most 100 ns per packet.
//!
//! Two measurements of the same session:
//! - "whole loop": the sender, the simulated link and the receiver stepped together; the
//!   time divided by the packets sent includes the bench's own link model (about a fifth of
//!   the samples under `perf record`);
//! - "replayed": the session's wake-ups (when, which frame was pushed, which feedback
//!   arrived) are recorded once from the whole loop, then replayed into a fresh estimator
//!   and pacer: every call the driver makes to them (pushes, `poll_transmit` until `None`,
//!   the sent records, the feedback, timers, events, both `poll_timeout`s) and nothing
//!   else. The replay must end with the recording's packet count and target, or the bench
//!   panics (it measured something else).
//!
//! Each case runs twice: wall time and the thread's CPU time (CLOCK_THREAD_CPUTIME_ID).
#![allow(missing_docs, clippy::unwrap_used)]

use std::collections::VecDeque;
use std::hint::black_box;
use std::ops::Range;
use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use rtcweb_bwe::{
    BandwidthEstimator, Config, Event, Input, Pacer, PacerConfig, PacketClass, PacketKind,
    PacketResult, ProbeClusterId, Release, SentPacket,
};

fn thread_cpu() -> Duration {
    let t = rustix::time::clock_gettime(rustix::time::ClockId::ThreadCPUTime);
    Duration::new(t.tv_sec as u64, t.tv_nsec as u32)
}

/// What a driver holds: the estimator, the pacer and the sent-packet numbering. Everything
/// it does is the measured work.
struct Sender {
    bwe: BandwidthEstimator,
    pacer: Pacer<u32>,
    target: f64,
    seq: u64,
}

impl Sender {
    fn new() -> Self {
        Self {
            bwe: BandwidthEstimator::new(Config::default()).unwrap(),
            pacer: Pacer::new(PacerConfig::default()),
            target: 300_000.0,
            seq: 0,
        }
    }

    fn events(&mut self) {
        while let Some(ev) = self.bwe.poll_event() {
            match ev {
                Event::TargetRate(r) => {
                    self.target = r.target.as_f64();
                    self.pacer.set_rates(r.pacing, r.padding);
                }
                Event::ProbeCluster(c) => self.pacer.start_probe(c),
                _ => {}
            }
        }
    }

    /// A frame of `n` packets of `size` bytes.
    fn push_frame(&mut self, now: Instant, n: usize, size: usize) {
        for i in 0..n {
            self.pacer.push(now, i as u32, size, PacketClass::Video);
        }
    }

    fn feedback(&mut self, now: Instant, results: &[PacketResult]) {
        self.bwe
            .handle_input(now, Input::Feedback(results))
            .unwrap();
    }

    /// Timers, events, then every release due: each is recorded with the estimator and
    /// handed to `on_sent` (the network).
    fn wake(&mut self, now: Instant, mut on_sent: impl FnMut(u64, usize)) {
        self.bwe.handle_timeout(now);
        self.events();
        while let Some(tx) = self.pacer.poll_transmit(now) {
            let (size, kind, probe_cluster) = match tx {
                Release::Packet {
                    size,
                    probe_cluster,
                    ..
                } => (size, PacketKind::Video, probe_cluster),
                Release::Padding(p) => (p.bytes, PacketKind::Padding, p.probe_cluster),
            };
            self.send(now, size, kind, probe_cluster);
            on_sent(self.seq, size);
            self.events();
        }
    }

    fn send(&mut self, now: Instant, size: usize, kind: PacketKind, probe: Option<ProbeClusterId>) {
        self.seq += 1;
        let input = Input::Sent(SentPacket {
            seq: self.seq,
            size,
            send_time: now,
            kind,
            probe_cluster: probe,
        });
        self.bwe.handle_input(now, input).unwrap();
    }

    fn next_timeout(&self) -> Option<Instant> {
        [self.pacer.poll_timeout(), self.bwe.poll_timeout()]
            .into_iter()
            .flatten()
            .min()
    }
}

/// One wake-up of the recorded session: when, the frame pushed (packets, bytes each) and
/// the feedback that arrived (a range of [`Recording::results`]).
struct Wake {
    at: Instant,
    frame: Option<(usize, usize)>,
    feedback: Option<Range<usize>>,
}

/// A session's wake-ups and what the replay must end with.
struct Recording {
    wakes: Vec<Wake>,
    results: Vec<PacketResult>,
    /// Wake-ups before this one are the warm-up (not timed in a replay).
    measured_from: usize,
    /// Packets sent in the warm-up and in all.
    warmup_packets: u64,
    packets: u64,
    target: f64,
}

/// The sender, link and receiver of the bench, stepped event by event.
struct Loop {
    t0: Instant,
    now: Instant,
    capacity: f64,
    sender: Sender,
    next_frame: Instant,
    next_feedback: Instant,
    link_free: Instant,
    in_flight: VecDeque<(u64, Instant)>,
    report: Vec<PacketResult>,
    /// Wake-ups kept for a replay, if recording.
    recording: Option<Recording>,
}

impl Loop {
    fn new(capacity: f64) -> Self {
        let t0 = Instant::now();
        Self {
            t0,
            now: t0,
            capacity,
            sender: Sender::new(),
            next_frame: t0,
            next_feedback: t0 + Duration::from_millis(50),
            link_free: t0,
            in_flight: VecDeque::with_capacity(16384),
            report: Vec::with_capacity(16384),
            recording: None,
        }
    }

    fn step(&mut self) {
        let next = [
            Some(self.next_frame),
            Some(self.next_feedback),
            self.sender.next_timeout(),
        ]
        .into_iter()
        .flatten()
        .min()
        .unwrap();
        self.now = self.now.max(next);
        let mut wake = Wake {
            at: self.now,
            frame: None,
            feedback: None,
        };
        if self.now >= self.next_frame {
            let bytes = (self.sender.target / 8.0 / 30.0) as usize;
            let n = bytes.div_ceil(1200).max(1);
            self.sender.push_frame(self.now, n, bytes / n);
            wake.frame = Some((n, bytes / n));
            self.next_frame += Duration::from_secs(1) / 30;
        }
        if self.now >= self.next_feedback {
            self.report.clear();
            while let Some(&(seq, at)) = self.in_flight.front() {
                if at > self.now - Duration::from_millis(25) {
                    break;
                }
                self.in_flight.pop_front();
                self.report.push(PacketResult {
                    seq,
                    arrival_us: Some((at - self.t0).as_micros() as i64),
                });
            }
            let report = std::mem::take(&mut self.report);
            self.sender.feedback(self.now, &report);
            if let Some(r) = self.recording.as_mut() {
                let from = r.results.len();
                r.results.extend_from_slice(&report);
                wake.feedback = Some(from..r.results.len());
            }
            self.report = report;
            self.next_feedback += Duration::from_millis(50);
        }
        let (now, capacity) = (self.now, self.capacity);
        let (link_free, in_flight) = (&mut self.link_free, &mut self.in_flight);
        self.sender.wake(now, |seq, size| {
            let tx = Duration::from_secs_f64(size as f64 * 8.0 / capacity);
            *link_free = (*link_free).max(now) + tx;
            if in_flight.len() < in_flight.capacity() {
                in_flight.push_back((seq, *link_free + Duration::from_millis(25)));
            }
        });
        if let Some(r) = self.recording.as_mut() {
            r.wakes.push(wake);
        }
    }

    /// Runs until `packets` more were sent.
    fn run_packets(&mut self, packets: u64) {
        let end = self.sender.seq + packets;
        while self.sender.seq < end {
            self.step();
        }
    }

    /// A recording of `warmup` packets, then `measured` more.
    fn record(capacity: f64, warmup: u64, measured: u64) -> Recording {
        let mut l = Loop::new(capacity);
        l.recording = Some(Recording {
            wakes: Vec::new(),
            results: Vec::new(),
            measured_from: 0,
            warmup_packets: 0,
            packets: 0,
            target: 0.0,
        });
        l.run_packets(warmup);
        let warmup_packets = l.sender.seq;
        let measured_from = l.recording.as_ref().map_or(0, |r| r.wakes.len());
        l.run_packets(measured);
        let mut r = l.recording.take().unwrap();
        r.measured_from = measured_from;
        r.warmup_packets = warmup_packets;
        r.packets = l.sender.seq;
        r.target = l.sender.target;
        r
    }
}

impl Recording {
    /// Replays the recording into a fresh sender; returns the time `clock` measured over
    /// the wake-ups after the warm-up.
    fn replay(&self, clock: fn() -> Duration) -> Duration {
        let mut s = Sender::new();
        let mut timed = Duration::ZERO;
        let mut started = None;
        for (i, w) in self.wakes.iter().enumerate() {
            if i == self.measured_from {
                assert_eq!(s.seq, self.warmup_packets, "the replay left the recording");
                started = Some(clock());
            }
            // What the driver asks before sleeping, as the whole loop does.
            black_box(s.next_timeout());
            if let Some((n, size)) = w.frame {
                s.push_frame(w.at, n, size);
            }
            if let Some(range) = w.feedback.clone() {
                s.feedback(w.at, &self.results[range]);
            }
            s.wake(w.at, |seq, size| {
                black_box((seq, size));
            });
        }
        if let Some(t) = started {
            timed = clock() - t;
        }
        assert_eq!(s.seq, self.packets, "the replay sent other packets");
        assert_eq!(s.target, self.target, "the replay ended at another target");
        timed
    }
}

fn wall() -> Duration {
    thread_local!(static T0: Instant = Instant::now());
    T0.with(|t| t.elapsed())
}

fn per_packet(c: &mut Criterion) {
    let mut g = c.benchmark_group("bwe");
    for (name, capacity) in [("2.5 Mbit/s", 2.5e6), ("20 Mbit/s", 20e6)] {
        g.throughput(Throughput::Elements(1));
        let mut l = Loop::new(capacity);
        // Past start-up: the estimator is in its steady state.
        l.run_packets(20_000);
        g.bench_function(
            format!("controller+pacer per packet, {name}, whole loop [wall]"),
            |b| {
                b.iter_custom(|iters| {
                    let t = Instant::now();
                    l.run_packets(iters);
                    black_box(&l.sender.target);
                    t.elapsed()
                })
            },
        );
        g.bench_function(
            format!("controller+pacer per packet, {name}, whole loop [cpu]"),
            |b| {
                b.iter_custom(|iters| {
                    let t = thread_cpu();
                    l.run_packets(iters);
                    black_box(&l.sender.target);
                    thread_cpu() - t
                })
            },
        );
        // The same steady state, replayed: 20,000 packets of warm-up, 20,000 timed.
        let rec = Loop::record(capacity, 20_000, 20_000);
        let timed = (rec.packets - rec.warmup_packets) as u128;
        for (clock_name, clock) in [("wall", wall as fn() -> Duration), ("cpu", thread_cpu)] {
            g.bench_function(
                format!("controller+pacer per packet, {name}, replayed [{clock_name}]"),
                |b| {
                    b.iter_custom(|iters| {
                        // Whole replays until `iters` packets were timed, scaled to `iters`.
                        let mut total = Duration::ZERO;
                        let mut packets = 0u128;
                        while packets < u128::from(iters) {
                            total += rec.replay(clock);
                            packets += timed;
                        }
                        let per = total.as_nanos() * u128::from(iters) / packets;
                        Duration::from_nanos(per as u64)
                    })
                },
            );
        }
    }
    g.finish();
}

criterion_group!(benches, per_packet);
criterion_main!(benches);
