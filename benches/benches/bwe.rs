//! rtcweb-bwe: controller plus pacer cost per sent packet at realistic rates. A 2.5 Mbit/s
//! video sender (30 fps frames into the pacer, releases at the pacing rate, every packet
//! recorded with the estimator, feedback every 50 ms from a simulated 2.5 Mbit/s link)
//! runs on virtual time; the measurement is the whole loop's time divided by the packets
//! sent, so it includes the feedback processing, the estimators and the timers. Goal
//! (issue 14): at most 100 ns per packet. Each case runs twice: wall time and the thread's
//! CPU time (CLOCK_THREAD_CPUTIME_ID).
#![allow(missing_docs, clippy::unwrap_used)]

use std::collections::VecDeque;
use std::hint::black_box;
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

/// The sender, link and receiver of the bench, stepped event by event.
struct Loop {
    t0: Instant,
    now: Instant,
    capacity: f64,
    bwe: BandwidthEstimator,
    pacer: Pacer<u32>,
    target: f64,
    seq: u64,
    next_frame: Instant,
    next_feedback: Instant,
    link_free: Instant,
    in_flight: VecDeque<(u64, Instant)>,
    report: Vec<PacketResult>,
    sent: u64,
}

impl Loop {
    fn new(capacity: f64) -> Self {
        let t0 = Instant::now();
        Self {
            t0,
            now: t0,
            capacity,
            bwe: BandwidthEstimator::new(Config::default()).unwrap(),
            pacer: Pacer::new(PacerConfig::default()),
            target: 300_000.0,
            seq: 0,
            next_frame: t0,
            next_feedback: t0 + Duration::from_millis(50),
            link_free: t0,
            in_flight: VecDeque::with_capacity(16384),
            report: Vec::with_capacity(16384),
            sent: 0,
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

    fn send(&mut self, size: usize, kind: PacketKind, probe_cluster: Option<ProbeClusterId>) {
        self.seq += 1;
        self.sent += 1;
        let input = Input::Sent(SentPacket {
            seq: self.seq,
            size,
            send_time: self.now,
            kind,
            probe_cluster,
        });
        self.bwe.handle_input(self.now, input).unwrap();
        let tx = Duration::from_secs_f64(size as f64 * 8.0 / self.capacity);
        self.link_free = self.link_free.max(self.now) + tx;
        if self.in_flight.len() < self.in_flight.capacity() {
            self.in_flight
                .push_back((self.seq, self.link_free + Duration::from_millis(25)));
        }
    }

    fn step(&mut self) {
        let next = [
            Some(self.next_frame),
            Some(self.next_feedback),
            self.pacer.poll_timeout(),
            self.bwe.poll_timeout(),
        ]
        .into_iter()
        .flatten()
        .min()
        .unwrap();
        self.now = self.now.max(next);
        if self.now >= self.next_frame {
            let bytes = (self.target / 8.0 / 30.0) as usize;
            let n = bytes.div_ceil(1200).max(1);
            for i in 0..n {
                self.pacer
                    .push(self.now, i as u32, bytes / n, PacketClass::Video);
            }
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
            self.bwe
                .handle_input(self.now, Input::Feedback(&report))
                .unwrap();
            self.report = report;
            self.next_feedback += Duration::from_millis(50);
        }
        self.bwe.handle_timeout(self.now);
        self.events();
        while let Some(tx) = self.pacer.poll_transmit(self.now) {
            match tx {
                Release::Packet {
                    size,
                    probe_cluster,
                    ..
                } => self.send(size, PacketKind::Video, probe_cluster),
                Release::Padding(p) => self.send(p.bytes, PacketKind::Padding, p.probe_cluster),
            }
            self.events();
        }
    }

    /// Runs until `packets` more were sent.
    fn run_packets(&mut self, packets: u64) {
        let end = self.sent + packets;
        while self.sent < end {
            self.step();
        }
    }
}

fn per_packet(c: &mut Criterion) {
    let mut g = c.benchmark_group("bwe");
    for (name, capacity) in [("2.5 Mbit/s", 2.5e6), ("20 Mbit/s", 20e6)] {
        g.throughput(Throughput::Elements(1));
        let mut l = Loop::new(capacity);
        // Past start-up: the estimator is in its steady state.
        l.run_packets(20_000);
        g.bench_function(format!("controller+pacer per packet, {name} [wall]"), |b| {
            b.iter_custom(|iters| {
                let t = Instant::now();
                l.run_packets(iters);
                black_box(&l.target);
                t.elapsed()
            })
        });
        g.bench_function(format!("controller+pacer per packet, {name} [cpu]"), |b| {
            b.iter_custom(|iters| {
                let t = thread_cpu();
                l.run_packets(iters);
                black_box(&l.target);
                thread_cpu() - t
            })
        });
    }
    g.finish();
}

criterion_group!(benches, per_packet);
criterion_main!(benches);
