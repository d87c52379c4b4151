//! The steady-state send path allocates nothing: a counting global allocator (stats_alloc,
//! docs/decisions/0007) watches ten simulated seconds of a 2.5 Mbit/s video sender
//! (frames into the pacer, releases, sent-packet records, feedback every 50 ms) after a
//! ten-second warm-up, and must see zero allocations.

#![allow(clippy::unwrap_used)] // the driver unwraps what the test itself set up

use std::alloc::System;
use std::collections::VecDeque;
use std::time::{Duration, Instant};

use rtcweb_bwe::{
    BandwidthEstimator, Bitrate, Config, Event, Input, Pacer, PacerConfig, PacketClass, PacketKind,
    PacketResult, Release, SentPacket,
};
use stats_alloc::{INSTRUMENTED_SYSTEM, Region, StatsAlloc};

#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

/// A sender, a 2.5 Mbit/s link with 25 ms one-way delay, and a receiver reporting every
/// 50 ms, stepped event by event. Every buffer is sized up front.
struct Loop {
    t0: Instant,
    now: Instant,
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
    fn new() -> Self {
        let t0 = Instant::now();
        Self {
            t0,
            now: t0,
            bwe: BandwidthEstimator::new(Config::default()).unwrap(),
            pacer: Pacer::new(PacerConfig::default()),
            target: 300_000.0,
            seq: 0,
            next_frame: t0,
            next_feedback: t0 + Duration::from_millis(50),
            link_free: t0,
            in_flight: VecDeque::with_capacity(8192),
            report: Vec::with_capacity(8192),
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

    fn send(
        &mut self,
        size: usize,
        kind: PacketKind,
        probe_cluster: Option<rtcweb_bwe::ProbeClusterId>,
    ) {
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
        let tx = Duration::from_secs_f64(size as f64 * 8.0 / 2_500_000.0);
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
                let arrival_us = (at - self.t0).as_micros() as i64;
                self.report.push(PacketResult {
                    seq,
                    arrival_us: Some(arrival_us),
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

    fn run_for(&mut self, d: Duration) {
        let end = self.now + d;
        while self.now < end {
            self.step();
        }
    }
}

#[test]
fn steady_state_send_path_does_not_allocate() {
    let mut l = Loop::new();
    l.run_for(Duration::from_secs(10));
    let sent_before = l.sent;
    let region = Region::new(GLOBAL);
    l.run_for(Duration::from_secs(10));
    let stats = region.change();
    let packets = l.sent - sent_before;
    let target = Bitrate::from_f64(l.target);
    assert!(packets > 2000, "only {packets} packets were sent");
    assert_eq!(
        (stats.allocations, stats.reallocations),
        (0, 0),
        "{packets} packets at {target}: {stats:?}"
    );
    println!("FIGURE no allocation: {packets} packets in 10 s at {target}, {stats:?}");
}
