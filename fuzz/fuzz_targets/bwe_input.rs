//! Arbitrary sequences of inputs into the bandwidth estimator and the pacer: sent packets,
//! feedback with wild sequence numbers and arrival times, loss reports, RTT samples,
//! receiver estimates, constraints, timeouts and pacer traffic. Nothing may panic, and the
//! internal buffers stay within their bounds.
#![no_main]

use std::time::{Duration, Instant};

use libfuzzer_sys::fuzz_target;
use rtcweb_bwe::{
    BandwidthEstimator, Bitrate, Config, Constraints, Event, Input, LossReport, Pacer, PacerConfig,
    PacketClass, PacketKind, PacketResult, ProbeClusterId, Release, SentPacket,
};

/// Reads little-endian integers from the input, zero when it runs out.
struct Bytes<'a>(&'a [u8]);

impl Bytes<'_> {
    fn u8(&mut self) -> u8 {
        let Some((&b, rest)) = self.0.split_first() else {
            return 0;
        };
        self.0 = rest;
        b
    }
    fn u16(&mut self) -> u16 {
        u16::from(self.u8()) | u16::from(self.u8()) << 8
    }
    fn u32(&mut self) -> u32 {
        u32::from(self.u16()) | u32::from(self.u16()) << 16
    }
    fn u64(&mut self) -> u64 {
        u64::from(self.u32()) | u64::from(self.u32()) << 32
    }
}

const MAX_PACKETS: usize = 512;

fuzz_target!(|data: &[u8]| {
    let mut b = Bytes(data);
    let t0 = Instant::now();
    let mut now = t0;
    let mut bwe = BandwidthEstimator::new(Config {
        history: 256,
        ..Config::default()
    })
    .unwrap();
    let mut pacer: Pacer<u16> = Pacer::new(PacerConfig {
        max_packets: MAX_PACKETS,
        ..PacerConfig::default()
    });
    let mut seq: u64 = 0;
    let mut records: Vec<PacketResult> = Vec::new();
    let mut steps = 0;
    while !b.0.is_empty() && steps < 2000 {
        steps += 1;
        now += Duration::from_micros(u64::from(b.u16()) * u64::from(b.u8() % 8));
        match b.u8() % 10 {
            0 => {
                // A sent packet: usually the next sequence number, sometimes a wild one.
                let wild = b.u8();
                seq = if wild == 0xff {
                    b.u64()
                } else {
                    seq.wrapping_add(u64::from(wild % 3))
                };
                let probe = b.u8();
                let kind = match b.u8() % 4 {
                    0 => PacketKind::Audio,
                    1 => PacketKind::Video,
                    2 => PacketKind::Retransmission,
                    _ => PacketKind::Padding,
                };
                let send_time = now
                    .checked_sub(Duration::from_micros(u64::from(b.u16())))
                    .unwrap_or(now);
                let _ = bwe.handle_input(
                    now,
                    Input::Sent(SentPacket {
                        seq,
                        size: usize::from(b.u16()),
                        send_time,
                        kind,
                        probe_cluster: (probe < 64).then_some(ProbeClusterId(u32::from(probe % 8))),
                    }),
                );
            }
            1 => {
                records.clear();
                let n = usize::from(b.u8());
                let base = seq.wrapping_sub(u64::from(b.u8()));
                let mut arrival = i64::from(b.u32() as i32) * 64;
                for i in 0..n {
                    let step = b.u8();
                    let s = if step == 0xfe {
                        b.u64()
                    } else {
                        base.wrapping_add(i as u64)
                    };
                    arrival = match b.u8() {
                        0 => i64::from(b.u32()) << 30,
                        1..=200 => arrival.saturating_add(i64::from(b.u16())),
                        201..=250 => arrival.saturating_sub(i64::from(b.u16())),
                        _ => arrival,
                    };
                    records.push(PacketResult {
                        seq: s,
                        arrival_us: (step % 7 != 0).then_some(arrival),
                    });
                }
                let _ = bwe.handle_input(now, Input::Feedback(&records));
            }
            2 => {
                let _ = bwe.handle_input(
                    now,
                    Input::Loss(LossReport {
                        lost: u64::from(b.u16()),
                        expected: u64::from(b.u16()),
                    }),
                );
            }
            3 => {
                let rtt = Duration::from_micros(u64::from(b.u32()));
                let _ = bwe.handle_input(now, Input::Rtt(rtt));
            }
            4 => {
                let remb = Bitrate::from_bps(u64::from(b.u32()));
                let _ = bwe.handle_input(now, Input::ReceiverEstimate(remb));
            }
            5 => {
                let c = Constraints {
                    min: Bitrate::from_bps(u64::from(b.u32())),
                    start: (b.u8() & 1 == 1).then(|| Bitrate::from_bps(u64::from(b.u32()))),
                    max: Bitrate::from_bps(u64::from(b.u32())),
                    padding: Bitrate::from_bps(u64::from(b.u32())),
                };
                let _ = bwe.handle_input(now, Input::Constraints(c));
            }
            6 => bwe.handle_timeout(now),
            7 => {
                let class = match b.u8() % 4 {
                    0 => PacketClass::Audio,
                    1 => PacketClass::Retransmission,
                    2 => PacketClass::Video,
                    _ => PacketClass::Padding,
                };
                let item = b.u16();
                let _ = pacer.push(now, item, usize::from(b.u16()), class);
            }
            8 => {
                // Release what the pacer allows and record it, as a sender would.
                for _ in 0..64 {
                    let Some(tx) = pacer.poll_transmit(now) else {
                        break;
                    };
                    let (size, kind, probe_cluster) = match tx {
                        Release::Packet {
                            size,
                            probe_cluster,
                            ..
                        } => (size, PacketKind::Video, probe_cluster),
                        Release::Padding(p) => (p.bytes, PacketKind::Padding, p.probe_cluster),
                    };
                    seq = seq.wrapping_add(1);
                    let _ = bwe.handle_input(
                        now,
                        Input::Sent(SentPacket {
                            seq,
                            size,
                            send_time: now,
                            kind,
                            probe_cluster,
                        }),
                    );
                }
                pacer.handle_timeout(now);
                let _ = pacer.poll_timeout();
            }
            _ => {
                pacer.set_rates(
                    Bitrate::from_bps(u64::from(b.u32())),
                    Bitrate::from_bps(u64::from(b.u16())),
                );
            }
        }
        while let Some(ev) = bwe.poll_event() {
            match ev {
                Event::TargetRate(r) => {
                    assert!(r.loss >= 0.0 && r.loss <= 1.0, "{r:?}");
                    pacer.set_rates(r.pacing, r.padding);
                }
                Event::ProbeCluster(c) => pacer.start_probe(c),
                _ => {}
            }
        }
        let _ = bwe.poll_timeout();
        let (history, probes, scratch) = bwe.memory_bounds();
        assert!(
            history <= 256 && probes <= 8 && scratch <= 512,
            "{history} {probes} {scratch}"
        );
        assert!(pacer.len() <= MAX_PACKETS);
    }
});
