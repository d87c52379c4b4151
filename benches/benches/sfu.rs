//! The SFU forwarding layer: one three-layer VP8 publisher (200 kbit/s, 700 kbit/s and
//! 1.6 Mbit/s, 2.5 Mbit/s in all, 30 frames/s) forwarded to N subscribers whose estimate
//! (1.2 Mbit/s) puts them on the middle layer. One iteration is one frame interval: every
//! layer's packets offered to every forwarder (which measures all layers and forwards the
//! middle one, rewritten) and every output drained. Throughput is in packets forwarded to
//! subscribers. Wall time and the thread's CPU time (CLOCK_THREAD_CPUTIME_ID), as in
//! `rtp.rs`.
#![allow(missing_docs, clippy::unwrap_used)]

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use rtcweb_rtp::codec::Codec;
use rtcweb_sfu::{Feedback, Forwarder, ForwarderConfig, Input, PublisherPacket, Transmit};

const FRAME: Duration = Duration::from_nanos(1_000_000_000 / 30);
const RATES: [u64; 3] = [200_000, 700_000, 1_600_000];
const MAX_PAYLOAD: usize = 1100;

fn thread_cpu() -> Duration {
    let t = rustix::time::clock_gettime(rustix::time::ClockId::ThreadCPUTime);
    Duration::new(t.tv_sec as u64, t.tv_nsec as u32)
}

/// The publisher: per layer, the payloads of one frame, patched in place per frame.
struct Publisher {
    layers: Vec<Vec<Vec<u8>>>,
    seq: [u16; 3],
    frame: u32,
    key: [bool; 3],
}

impl Publisher {
    fn new() -> Self {
        let layers = RATES
            .iter()
            .map(|r| {
                let size = (*r / 8 / 30) as usize;
                let n = size.div_ceil(MAX_PAYLOAD);
                (0..n)
                    .map(|k| {
                        let mut p = vec![0x80 | if k == 0 { 0x10 } else { 0 }, 0xc0, 0x80, 0, 0];
                        p.resize(5 + size / n, 0x33);
                        p
                    })
                    .collect()
            })
            .collect();
        Self {
            layers,
            seq: [100, 20_000, 40_000],
            frame: 0,
            key: [true; 3],
        }
    }

    /// Offers one frame of every layer to `each`, interleaved across layers.
    fn frame(&mut self, mut each: impl FnMut(PublisherPacket<'_>)) {
        let pid = (self.frame & 0x7fff) as u16;
        for (l, pkts) in self.layers.iter_mut().enumerate() {
            let key = std::mem::take(&mut self.key[l]);
            for (k, p) in pkts.iter_mut().enumerate() {
                p[2] = 0x80 | (pid >> 8) as u8;
                p[3] = pid as u8;
                p[4] = self.frame as u8;
                if k == 0 {
                    p[5] = if key { 0x50 } else { 0x51 };
                }
            }
        }
        let most = self.layers.iter().map(Vec::len).max().unwrap_or(0);
        for k in 0..most {
            for (l, pkts) in self.layers.iter().enumerate() {
                let Some(p) = pkts.get(k) else {
                    continue;
                };
                let n = pkts.len();
                each(PublisherPacket {
                    layer: l as u8,
                    ssrc: 0x1000 + l as u32,
                    payload_type: 96,
                    sequence_number: self.seq[l].wrapping_add(k as u16),
                    timestamp: self.frame.wrapping_mul(3000),
                    marker: k + 1 == n,
                    payload: p,
                });
            }
        }
        for (seq, pkts) in self.seq.iter_mut().zip(&self.layers) {
            *seq = seq.wrapping_add(pkts.len() as u16);
        }
        self.frame += 1;
    }
}

struct Sfu {
    publisher: Publisher,
    forwarders: Vec<Forwarder>,
    now: Instant,
    requests: Vec<u8>,
}

impl Sfu {
    fn new(subscribers: usize) -> Self {
        let now = Instant::now();
        let forwarders = (0..subscribers)
            .map(|i| {
                let mut f =
                    Forwarder::new(ForwarderConfig::new(Codec::Vp8, 0x10_0000 + i as u32), now)
                        .unwrap();
                f.handle_input(now, Input::Estimate(1_200_000)).unwrap();
                f
            })
            .collect();
        Self {
            publisher: Publisher::new(),
            forwarders,
            now,
            requests: Vec::new(),
        }
    }

    /// One frame interval; returns the packets forwarded.
    fn step(&mut self) -> usize {
        for l in self.requests.drain(..) {
            self.publisher.key[usize::from(l)] = true;
        }
        let (forwarders, requests, now) = (&mut self.forwarders, &mut self.requests, self.now);
        let mut forwarded = 0;
        self.publisher.frame(|p| {
            for f in forwarders.iter_mut() {
                f.handle_input(now, Input::Rtp(p)).unwrap();
                while let Some(t) = f.poll_transmit() {
                    match t {
                        Transmit::Subscriber(out) => {
                            forwarded += 1;
                            black_box(out);
                        }
                        Transmit::Publisher(Feedback::KeyFrameRequest { layer, .. }) => {
                            requests.push(layer)
                        }
                        other => {
                            black_box(other);
                        }
                    }
                }
            }
        });
        for f in self.forwarders.iter_mut() {
            if f.poll_timeout().is_some_and(|t| t <= now) {
                f.handle_timeout(now);
            }
            f.handle_input(now, Input::Estimate(1_200_000)).unwrap();
        }
        self.now += FRAME;
        forwarded
    }
}

fn forwarding(c: &mut Criterion) {
    let mut g = c.benchmark_group("sfu forwarding");
    for subscribers in [1usize, 100] {
        let mut sfu = Sfu::new(subscribers);
        // Three seconds: every forwarder settles on the middle layer.
        for _ in 0..90 {
            sfu.step();
        }
        assert!(sfu.forwarders.iter().all(|f| f.current_layer() == Some(1)));
        let per_step = sfu.step();
        assert_eq!(per_step, subscribers * sfu.publisher.layers[1].len());
        g.throughput(Throughput::Elements(per_step as u64));
        g.bench_function(
            format!("{subscribers} subscribers, middle layer [wall]"),
            |b| b.iter(|| sfu.step()),
        );
        g.bench_function(
            format!("{subscribers} subscribers, middle layer [cpu]"),
            |b| {
                b.iter_custom(|iters| {
                    let t = thread_cpu();
                    for _ in 0..iters {
                        black_box(sfu.step());
                    }
                    thread_cpu() - t
                })
            },
        );
    }
    g.finish();
}

criterion_group!(benches, forwarding);
criterion_main!(benches);
