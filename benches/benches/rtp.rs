//! RTP/RTCP: rtcweb-rtp side by side with the webrtc-rs `rtp`/`rtcp` crates, same inputs,
//! same run. Header parse, an RTCP compound parse, packetizing a 100 KB VP8 frame, and the
//! SFU forwarding step (SRTP unprotect, parse, rewrite, protect) with AEAD_AES_128_GCM.
//! Each case runs twice: wall time (criterion's clock) and the thread's CPU time
//! (CLOCK_THREAD_CPUTIME_ID), which time slices lost to other processes on the shared
//! machine do not inflate.
#![allow(missing_docs, clippy::unwrap_used)]

use std::hint::black_box;
use std::time::{Duration, Instant};

use bytes::Bytes;
use criterion::{Criterion, criterion_group, criterion_main};
use rtcweb_rtp::codec::{Codec, Packetizer, Payloads};
use rtcweb_rtp::rtcp::{
    self, NackPair, NackRepr, RtcpPacket, RtcpPackets, RtcpRepr, SdesChunk, SdesItem, SdesRepr,
    SenderInfo, SenderReportRepr, TransportFeedbackRepr,
};
use rtcweb_rtp::rtp::{ExtensionKind, ExtensionMap, HeaderExtensions, RtpPacket, RtpRepr};
use webrtc_util::marshal::{Marshal, Unmarshal};

const TCC_ID: u8 = 3;

fn thread_cpu() -> Duration {
    let t = rustix::time::clock_gettime(rustix::time::ClockId::ThreadCPUTime);
    Duration::new(t.tv_sec as u64, t.tv_nsec as u32)
}

/// Registers `f` twice: timed by criterion (wall) and by the thread's CPU clock.
fn both<O>(
    g: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>,
    name: &str,
    mut f: impl FnMut() -> O,
) {
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

fn ext_map() -> ExtensionMap {
    let mut m = ExtensionMap::new();
    m.insert(2, ExtensionKind::AbsSendTime).unwrap();
    m.insert(TCC_ID, ExtensionKind::TransportWideCc).unwrap();
    m.insert(4, ExtensionKind::Mid).unwrap();
    m
}

/// A Chrome-like video packet: abs-send-time, transport-cc and mid in one-byte form,
/// `total` octets in all.
fn video_packet(map: &ExtensionMap, seq: u16, total: usize) -> Vec<u8> {
    let mut scratch = [0u8; 64];
    let values = HeaderExtensions {
        mid: Some("0"),
        abs_send_time: Some(0x12_3456),
        transport_cc: Some(seq),
        ..Default::default()
    };
    let repr = RtpRepr {
        marker: false,
        payload_type: 96,
        sequence_number: seq,
        timestamp: 90_000,
        ssrc: 0x1234_5678,
        csrcs: &[],
        extension: map.write(&values, &mut scratch).unwrap(),
        padding: 0,
    };
    let payload = vec![0x5a; total - repr.header_len()];
    repr.to_vec(&payload).unwrap()
}

fn header_parse(c: &mut Criterion) {
    let map = ext_map();
    let pkt = video_packet(&map, 7, 1200);
    let mut g = c.benchmark_group("rtp_header_parse");
    both(&mut g, "rtcweb-rtp view+typed extensions", || {
        let p = RtpPacket::new_checked(black_box(&pkt[..])).unwrap();
        let e = map.read(&p);
        (
            p.sequence_number(),
            p.timestamp(),
            p.ssrc(),
            p.payload().len(),
            e.transport_cc,
            e.mid.map(str::len),
        )
    });
    both(&mut g, "rtcweb-rtp view", || {
        let p = RtpPacket::new_checked(black_box(&pkt[..])).unwrap();
        (
            p.sequence_number(),
            p.timestamp(),
            p.ssrc(),
            p.payload().len(),
        )
    });
    both(&mut g, "rtp crate Header::unmarshal", || {
        let h = rtp::header::Header::unmarshal(&mut black_box(&pkt[..])).unwrap();
        (
            h.sequence_number,
            h.timestamp,
            h.ssrc,
            h.get_extension(TCC_ID),
        )
    });
    g.finish();
}

/// SR with one report block, SDES CNAME, a NACK and a 40-packet TWCC feedback.
fn compound() -> Vec<u8> {
    let blocks = [rtcp::ReportBlock {
        ssrc: 2,
        fraction_lost: 3,
        cumulative_lost: 40,
        extended_highest_sequence: 70_000,
        jitter: 12,
        last_sr: 0x1234_5678,
        delay_since_last_sr: 6000,
    }];
    let items = [SdesItem {
        kind: rtcp::CNAME,
        value: b"Tl9YJ0sUbLHq5S3b",
    }];
    let chunks = [SdesChunk {
        ssrc: 1,
        items: &items,
    }];
    let pairs = [NackPair {
        pid: 100,
        blp: 0x0005,
    }];
    let deltas: Vec<Option<i32>> = (0..40)
        .map(|i| if i % 9 == 4 { None } else { Some(20 + i % 30) })
        .collect();
    rtcp::compound_to_vec(&[
        RtcpRepr::SenderReport(SenderReportRepr {
            ssrc: 1,
            sender_info: SenderInfo {
                ntp_time: 0xe000_0000_1000_0000,
                rtp_time: 90_000,
                packet_count: 1000,
                octet_count: 1_000_000,
            },
            reports: &blocks,
        }),
        RtcpRepr::Sdes(SdesRepr { chunks: &chunks }),
        RtcpRepr::Nack(NackRepr {
            sender_ssrc: 1,
            media_ssrc: 2,
            pairs: &pairs,
        }),
        RtcpRepr::TransportFeedback(TransportFeedbackRepr {
            sender_ssrc: 1,
            media_ssrc: 2,
            base_sequence_number: 5000,
            reference_time: 1000,
            feedback_packet_count: 7,
            packets: &deltas,
        }),
    ])
    .unwrap()
}

fn compound_parse(c: &mut Criterion) {
    let pkt = compound();
    let mut g = c.benchmark_group("rtcp_compound_parse");
    both(&mut g, "rtcweb-rtp (every list walked)", || {
        let mut acc = 0u64;
        for p in RtcpPackets::new(black_box(&pkt[..])) {
            match p.unwrap() {
                RtcpPacket::SenderReport(sr) => {
                    acc += sr.sender_info().packet_count as u64;
                    acc += sr.report_blocks().map(|b| b.jitter as u64).sum::<u64>();
                }
                RtcpPacket::Sdes(s) => acc += s.cname().map_or(0, |c| c.1.len() as u64),
                RtcpPacket::Nack(n) => acc += n.lost().map(u64::from).sum::<u64>(),
                RtcpPacket::TransportFeedback(t) => {
                    acc += t
                        .packets()
                        .map(|(s, d)| u64::from(s) + d.unwrap_or(0) as u64)
                        .sum::<u64>()
                }
                _ => {}
            }
        }
        acc
    });
    both(&mut g, "rtcp crate unmarshal", || {
        ::rtcp::packet::unmarshal(&mut black_box(&pkt[..]))
            .unwrap()
            .len()
    });
    g.finish();
}

fn vp8_packetize(c: &mut Criterion) {
    let mut frame: Vec<u8> = (0..100_000u32).map(|i| (i * 7) as u8).collect();
    frame[0] = 0x50;
    let mut g = c.benchmark_group("vp8_packetize_100k");
    let mut p = Packetizer::new(Codec::Vp8);
    let mut out = Payloads::new();
    both(&mut g, "rtcweb-rtp", || {
        out.clear();
        p.packetize(black_box(&frame), 1200, &mut out).unwrap();
        out.len()
    });
    let bytes = Bytes::from(frame.clone());
    let mut theirs = rtp::codecs::vp8::Vp8Payloader::default();
    theirs.enable_picture_id = true;
    both(&mut g, "rtp crate Vp8Payloader", || {
        use rtp::packetizer::Payloader;
        theirs.payload(1200, black_box(&bytes)).unwrap().len()
    });
    g.finish();
}

const BATCH: u64 = 512;

thread_local! {
    /// Origin of the wall clock used by the forwarding bench.
    static EPOCH: Instant = Instant::now();
}

/// Time of `iters` forwarding steps, the SRTP packets prepared outside the timed part.
fn forward_rtcweb(iters: u64, clock: fn() -> Duration) -> Duration {
    use rtcweb_srtp::{Config, MasterKey, ProtectionProfile, Session};
    let p = ProtectionProfile::AeadAes128Gcm;
    let publisher_key = MasterKey::new(p, &[1; 16], &[2; 12]).unwrap();
    let sfu_key = MasterKey::new(p, &[3; 16], &[4; 12]).unwrap();
    let any = MasterKey::new(p, &[5; 16], &[6; 12]).unwrap();
    let mut publisher = Session::new(p, &publisher_key, &any, Config::default()).unwrap();
    let mut sfu = Session::new(p, &sfu_key, &publisher_key, Config::default()).unwrap();
    let map = ext_map();
    let mut bufs = vec![([0u8; 1500], 0usize); BATCH as usize];
    let (mut seq, mut out_seq, mut total, mut done) = (0u16, 1000u16, Duration::ZERO, 0);
    while done < iters {
        let n = (iters - done).min(BATCH) as usize;
        for (buf, len) in &mut bufs[..n] {
            let pkt = video_packet(&map, seq, 1200);
            seq = seq.wrapping_add(1);
            buf[..pkt.len()].copy_from_slice(&pkt);
            *len = publisher.protect_rtp(buf, pkt.len()).unwrap();
        }
        let t = clock();
        for (buf, len) in &mut bufs[..n] {
            let plain = sfu.unprotect_rtp(buf, *len).unwrap();
            {
                let mut v = RtpPacket::new_checked(&mut buf[..plain]).unwrap();
                let routed = map.read(&v).mid == Some("0");
                v.set_ssrc(if routed { 0x0bad_cafe } else { 0 });
                v.set_sequence_number(out_seq);
                v.set_payload_type(98);
                if let Some(d) = v.extension_mut(TCC_ID) {
                    d.copy_from_slice(&out_seq.to_be_bytes());
                }
            }
            out_seq = out_seq.wrapping_add(1);
            black_box(sfu.protect_rtp(buf, plain).unwrap());
        }
        total += clock() - t;
        done += n as u64;
    }
    total
}

fn forward_webrtc_rs(iters: u64, clock: fn() -> Duration) -> Duration {
    use webrtc_srtp::context::Context;
    use webrtc_srtp::protection_profile::ProtectionProfile as W;
    let mut publisher = Context::new(&[1; 16], &[2; 12], W::AeadAes128Gcm, None, None).unwrap();
    let mut sfu_in = Context::new(&[1; 16], &[2; 12], W::AeadAes128Gcm, None, None).unwrap();
    let mut sfu_out = Context::new(&[3; 16], &[4; 12], W::AeadAes128Gcm, None, None).unwrap();
    let map = ext_map();
    let (mut seq, mut out_seq, mut total, mut done) = (0u16, 1000u16, Duration::ZERO, 0);
    let mut wire = Vec::with_capacity(BATCH as usize);
    while done < iters {
        let n = (iters - done).min(BATCH);
        wire.clear();
        for _ in 0..n {
            let pkt = video_packet(&map, seq, 1200);
            seq = seq.wrapping_add(1);
            wire.push(publisher.encrypt_rtp(&pkt).unwrap());
        }
        let t = clock();
        for w in &wire {
            let plain = sfu_in.decrypt_rtp(w).unwrap();
            let mut p = rtp::packet::Packet::unmarshal(&mut &plain[..]).unwrap();
            let routed = p.header.get_extension(4).as_deref() == Some(b"0".as_slice());
            p.header.ssrc = if routed { 0x0bad_cafe } else { 0 };
            p.header.sequence_number = out_seq;
            p.header.payload_type = 98;
            p.header
                .set_extension(TCC_ID, Bytes::copy_from_slice(&out_seq.to_be_bytes()))
                .unwrap();
            out_seq = out_seq.wrapping_add(1);
            let bytes = p.marshal().unwrap();
            black_box(sfu_out.encrypt_rtp(&bytes).unwrap());
        }
        total += clock() - t;
        done += n;
    }
    total
}

fn forwarding_step(c: &mut Criterion) {
    let mut g = c.benchmark_group("forward_1200_aes128gcm");
    let wall: fn() -> Duration = || EPOCH.with(|e| e.elapsed());
    g.bench_function("rtcweb-srtp + rtcweb-rtp [wall]", |b| {
        b.iter_custom(|n| forward_rtcweb(n, wall))
    });
    g.bench_function("rtcweb-srtp + rtcweb-rtp [cpu]", |b| {
        b.iter_custom(|n| forward_rtcweb(n, thread_cpu))
    });
    g.bench_function("webrtc-srtp + rtp crate [wall]", |b| {
        b.iter_custom(|n| forward_webrtc_rs(n, wall))
    });
    g.bench_function("webrtc-srtp + rtp crate [cpu]", |b| {
        b.iter_custom(|n| forward_webrtc_rs(n, thread_cpu))
    });
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .sample_size(30)
        .warm_up_time(Duration::from_millis(700))
        .measurement_time(Duration::from_secs(2));
    targets = header_parse, compound_parse, vp8_packetize, forwarding_step
}
criterion_main!(benches);
