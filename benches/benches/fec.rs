//! Loss resilience: FEC encode and recovery per 1200-byte packet (goal: at most 1 µs each),
//! and the jitter buffer's insert and release per packet (goal: at most 200 ns). There is
//! no anchor implementation to run beside these (webrtc-rs ships no FEC receiver and no
//! jitter buffer). Criterion's `thrpt` line is per packet (elements per second); each case
//! runs twice, timed by the wall clock and by the thread's CPU clock.
//!
//! - `ulpfec encode`: a group of 10 packets of 1200 octets (RTP header with two extensions)
//!   added to the encoder and closed at rate 0.5: 5 FEC packets (each the XOR of 6-7
//!   packets), per media packet.
//! - `ulpfec recover`: the decoder given 9 of the 10 packets and the 5 FEC packets, which
//!   rebuild the missing one, per media packet of the group (everything a receiver does for
//!   the group: storing the 9, parsing 5 FEC packets, one recovery).
//! - `flexfec ...`: the same with FlexFEC-03.
//! - `playout audio` / `playout video`: one frame into a jitter buffer and out at its
//!   playout time (the frame's buffer allocated outside the timed part is reused).
#![allow(missing_docs, clippy::unwrap_used)]

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::measurement::WallTime;
use criterion::{BenchmarkGroup, Criterion, Throughput, criterion_group, criterion_main};
use rtcweb_rtp::codec::Payloads;
use rtcweb_rtp::fec::{FecDecoder, FecEncoder, FecScheme};
use rtcweb_rtp::frame::Frame;
use rtcweb_rtp::playout::{PlayoutBuffer, PlayoutConfig};
use rtcweb_rtp::rtp::{ExtensionKind, ExtensionMap, HeaderExtensions, RtpRepr};

const GROUP: u16 = 10;

fn thread_cpu() -> Duration {
    let t = rustix::time::clock_gettime(rustix::time::ClockId::ThreadCPUTime);
    Duration::new(t.tv_sec as u64, t.tv_nsec as u32)
}

/// Registers `f` twice: timed by criterion (wall) and by the thread's CPU clock, which
/// time slices lost to other processes on the shared machine do not inflate.
fn both<O>(g: &mut BenchmarkGroup<'_, WallTime>, name: &str, mut f: impl FnMut() -> O) {
    g.bench_function(format!("{name} [wall]"), |b| b.iter(&mut f));
    g.bench_function(format!("{name} [cpu]"), |b| {
        b.iter_custom(|iters| {
            let t = thread_cpu();
            for _ in 0..iters {
                black_box(f());
            }
            thread_cpu() - t
        })
    });
}

fn packet(map: &ExtensionMap, seq: u16) -> Vec<u8> {
    let mut scratch = [0u8; 64];
    let values = HeaderExtensions {
        mid: Some("1"),
        transport_cc: Some(seq),
        ..HeaderExtensions::default()
    };
    let extension = map.write(&values, &mut scratch).unwrap();
    let payload: Vec<u8> = (0..1200u32).map(|i| (i as u16 ^ seq) as u8).collect();
    RtpRepr {
        marker: seq % GROUP == GROUP - 1,
        payload_type: 96,
        sequence_number: seq,
        timestamp: u32::from(seq / GROUP) * 3000,
        ssrc: 0x1234_5678,
        csrcs: &[],
        extension,
        padding: 0,
    }
    .to_vec(&payload)
    .unwrap()
}

fn fec(c: &mut Criterion, scheme: FecScheme, name: &str) {
    let mut map = ExtensionMap::new();
    map.insert(3, ExtensionKind::TransportWideCc).unwrap();
    map.insert(4, ExtensionKind::Mid).unwrap();
    let packets: Vec<Vec<u8>> = (0..GROUP).map(|s| packet(&map, s)).collect();
    let mut g = c.benchmark_group("fec");
    g.throughput(Throughput::Elements(u64::from(GROUP)));

    let mut enc = FecEncoder::new(scheme, 0x1234_5678);
    let mut out = Payloads::new();
    both(&mut g, &format!("{name} encode"), || {
        out.clear();
        for p in &packets {
            enc.add(black_box(p)).unwrap();
        }
        enc.finish(0.5, &mut out)
    });

    // The FEC packets of the group, once.
    out.clear();
    for p in &packets {
        enc.add(p).unwrap();
    }
    assert_eq!(enc.finish(0.5, &mut out), 5);
    let fec: Vec<Vec<u8>> = out.iter().map(<[u8]>::to_vec).collect();
    let lost = 4usize;
    let mut dec = FecDecoder::new(scheme, 0x1234_5678);
    // Each round is a new group 10 sequence numbers on (the window moves as on a stream).
    let mut round = 0u64;
    both(&mut g, &format!("{name} recover"), || {
        let base = round * u64::from(GROUP);
        round += 1;
        for (i, p) in packets.iter().enumerate() {
            if i != lost {
                dec.on_media(base + i as u64, black_box(p));
            }
        }
        for f in &fec {
            // The group's 16-bit base is 0: it extends to this round's.
            let _ = dec.on_fec(black_box(f), |_| base);
        }
        let got = dec.poll_recovered().unwrap();
        dec.recycle(black_box(got));
    });
    g.finish();
    assert_eq!(dec.stats().recovered, round);
}

fn fec_benches(c: &mut Criterion) {
    fec(c, FecScheme::Ulpfec, "ulpfec");
    fec(c, FecScheme::Flexfec03, "flexfec");
}

fn frame(ts: u32, data: Vec<u8>, now: Instant) -> Frame {
    Frame {
        ssrc: 1,
        payload_type: 111,
        timestamp: ts,
        keyframe: true,
        resolution: None,
        data,
        first_sequence: 0,
        last_sequence: 0,
        completed_at: now,
    }
}

fn playout(c: &mut Criterion) {
    let mut g = c.benchmark_group("playout");
    g.throughput(Throughput::Elements(1));
    for (name, audio, step, rate) in [
        ("audio insert + release", true, 960u32, 48_000),
        ("video insert + release", false, 3000u32, 90_000),
    ] {
        let t0 = Instant::now();
        let mut b = PlayoutBuffer::new(PlayoutConfig::default(), audio, rate, t0);
        let period = Duration::from_micros(u64::from(step) * 1_000_000 / u64::from(rate));
        let mut n = 0u32;
        let mut spare = vec![0u8; 100];
        both(&mut g, name, || {
            // Arrivals on time with a little jitter (0-3 ms), in order.
            let now = t0 + period * n + Duration::from_millis(u64::from(n % 4));
            let data = std::mem::take(&mut spare);
            b.insert(now, frame(n.wrapping_mul(step), data, now), now);
            if let Some(t) = b.poll_timeout() {
                b.handle_timeout(t.max(now));
            }
            while let Some(f) = b.poll_frame() {
                spare = f.data;
            }
            n = n.wrapping_add(1);
        });
        assert!(b.stats().emitted > 0 && b.len() <= 2, "{:?}", b.stats());
    }
    g.finish();
}

criterion_group!(benches, fec_benches, playout);
criterion_main!(benches);
