//! The pacer on its own: priorities, the overflow policy, the pacing rate and burst, the
//! maximum queue time, padding and probes.

use std::time::{Duration, Instant};

use rtcweb_bwe::{Bitrate, Pacer, PacerConfig, PacketClass, ProbeCluster, ProbeClusterId, Release};

/// Releases everything due at `now`, returning the items (padding as `None`).
fn release(p: &mut Pacer<u32>, now: Instant) -> Vec<Option<u32>> {
    std::iter::from_fn(|| p.poll_transmit(now))
        .map(|t| match t {
            Release::Packet { item, .. } => Some(item),
            Release::Padding(_) => None,
        })
        .collect()
}

/// Runs the pacer by its own timer until `end`, returning (time since `t0`, item) of each
/// release.
fn run(p: &mut Pacer<u32>, t0: Instant, end: Duration) -> Vec<(Duration, Option<u32>)> {
    let mut out = Vec::new();
    let mut now = t0;
    loop {
        for item in release(p, now) {
            out.push((now - t0, item));
        }
        match p.poll_timeout() {
            Some(t) if t - t0 <= end => now = now.max(t),
            _ => return out,
        }
    }
}

#[test]
fn audio_then_retransmissions_then_video_then_padding() {
    let t0 = Instant::now();
    let mut p = Pacer::new(PacerConfig {
        burst: Duration::from_millis(50),
        ..PacerConfig::default()
    });
    p.set_rates(Bitrate::from_kbps(10_000), Bitrate::ZERO);
    p.push(t0, 1, 100, PacketClass::Padding);
    p.push(t0, 2, 100, PacketClass::Video);
    p.push(t0, 3, 100, PacketClass::Retransmission);
    p.push(t0, 4, 100, PacketClass::Audio);
    p.push(t0, 5, 100, PacketClass::Video);
    let order: Vec<_> = release(&mut p, t0).into_iter().flatten().collect();
    assert_eq!(order, [4, 3, 2, 5, 1]);
    assert!(p.is_empty());
}

#[test]
fn a_full_queue_evicts_the_oldest_of_the_lowest_class_not_above_the_new_item() {
    let t0 = Instant::now();
    let mut p = Pacer::new(PacerConfig {
        max_packets: 3,
        ..PacerConfig::default()
    });
    assert_eq!(p.push(t0, 1, 100, PacketClass::Video), None);
    assert_eq!(p.push(t0, 2, 100, PacketClass::Video), None);
    assert_eq!(p.push(t0, 3, 100, PacketClass::Retransmission), None);
    // A new video packet evicts the oldest video packet.
    assert_eq!(p.push(t0, 4, 100, PacketClass::Video), Some(1));
    // Audio evicts video, not the retransmission.
    assert_eq!(p.push(t0, 5, 100, PacketClass::Audio), Some(2));
    // Padding outranks nothing: it comes back itself.
    assert_eq!(p.push(t0, 6, 100, PacketClass::Padding), Some(6));
    assert_eq!((p.len(), p.queued_bytes()), (3, 300));
    assert_eq!(p.stats().evicted, 3);
}

#[test]
fn packets_leave_at_the_pacing_rate_after_a_burst() {
    let t0 = Instant::now();
    let mut p = Pacer::new(PacerConfig::default());
    // 1 Mbit/s: a 1250-byte packet every 10 ms; the 5 ms burst budget is 625 bytes.
    p.set_rates(Bitrate::from_kbps(1000), Bitrate::ZERO);
    for i in 0..10 {
        p.push(t0, i, 1250, PacketClass::Video);
    }
    let times: Vec<u128> = run(&mut p, t0, Duration::from_secs(1))
        .into_iter()
        .map(|(t, _)| t.as_micros())
        .collect();
    assert_eq!(times.len(), 10);
    // The first goes at once and the second as soon as the debt is back within the
    // budget (5 ms); from then on one every 10 ms.
    assert_eq!(&times[..2], &[0, 5_001]);
    for pair in times[1..].windows(2) {
        let gap = pair[1] - pair[0];
        assert!((10_000..10_050).contains(&gap), "{times:?}");
    }
}

#[test]
fn a_long_queue_drains_within_the_maximum_queue_time() {
    let t0 = Instant::now();
    let mut p = Pacer::new(PacerConfig {
        max_queue_time: Duration::from_secs(1),
        ..PacerConfig::default()
    });
    // 3 s worth at 100 kbit/s: the pacer speeds up so the last packet leaves by the first
    // one's deadline.
    p.set_rates(Bitrate::from_kbps(100), Bitrate::ZERO);
    for i in 0..30 {
        p.push(t0, i, 1250, PacketClass::Video);
    }
    let out = run(&mut p, t0, Duration::from_secs(10));
    let last = out.last().expect("released").0;
    assert_eq!(out.len(), 30);
    assert!(last <= Duration::from_millis(1100), "{last:?}");
}

#[test]
fn padding_fills_up_to_the_padding_rate_when_the_queue_is_empty() {
    let t0 = Instant::now();
    let mut p = Pacer::new(PacerConfig::default());
    p.set_rates(Bitrate::from_kbps(2000), Bitrate::from_kbps(800));
    let out = run(&mut p, t0, Duration::from_secs(1));
    assert!(out.iter().all(|(_, item)| item.is_none()));
    let bytes = p.stats().padding_bytes;
    // 800 kbit/s for a second is 100 kB; padding is requested in 500-byte packets.
    assert!((99_000..=101_000).contains(&bytes), "{bytes}");
}

#[test]
fn a_probe_goes_at_its_rate_media_first_then_padding_all_tagged() {
    let t0 = Instant::now();
    let mut p: Pacer<u32> = Pacer::new(PacerConfig::default());
    p.set_rates(Bitrate::from_kbps(500), Bitrate::ZERO);
    p.push(t0, 7, 1000, PacketClass::Video);
    let id = ProbeClusterId(3);
    p.start_probe(ProbeCluster {
        id,
        bitrate: Bitrate::from_kbps(4000),
        min_probes: 5,
        min_bytes: 7500,
    });
    let mut now = t0;
    let (mut bytes, mut packets, mut media) = (0usize, 0, 0);
    while p.probing() {
        while let Some(t) = p.poll_transmit(now) {
            match t {
                Release::Packet {
                    item,
                    size,
                    probe_cluster,
                } => {
                    assert_eq!((item, probe_cluster), (7, Some(id)));
                    bytes += size;
                    media += 1;
                }
                Release::Padding(r) => {
                    assert_eq!(r.probe_cluster, Some(id));
                    bytes += r.bytes;
                }
            }
            packets += 1;
        }
        if !p.probing() {
            break;
        }
        now = p.poll_timeout().expect("probe timer");
    }
    assert_eq!(media, 1);
    assert!(bytes >= 7500 && packets >= 5, "{bytes} {packets}");
    // 7500 bytes at 4 Mbit/s take 15 ms; the last packet starts before that.
    let span = now - t0;
    assert!(span <= Duration::from_millis(16), "{span:?}");
    assert_eq!(p.stats().probes_completed, 1);
}
