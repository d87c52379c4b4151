//! The jitter buffer over a simulated path with 40 ms of jitter, then 5 ms.
//!
//! One sender captures Opus-like audio (20 ms frames) and VP8-like video (30 fps) on one
//! clock and sends both; the path has a 75 ms one-way delay, and the sender's link adds a
//! delay drawn uniformly from [0, 40 ms) to every packet (reordering them) for 30 s, then
//! from [0, 5 ms) for 30 s. The receiver plays both out through jitter buffers in one sync
//! group. After a 3 s start:
//!
//! - at most 1 % of the frames of each stream arrive after their playout time;
//! - the delay the buffer adds (its mean target delay) is at most 1.5 times the 95th
//!   percentile of the packets' jitter (their delay above the smallest);
//! - when the jitter falls to 5 ms the target delay falls with it;
//! - audio and video stay in sync: a video frame and the audio captured with it come out
//!   within 40 ms of each other (99 % of them; the median within 10 ms), also when video
//!   takes a 60 ms slower path than audio (then audio waits for it).

#![allow(clippy::unwrap_used)]

mod media_sim;

use std::collections::HashMap;
use std::time::{Duration, Instant};

use media_sim::*;
use rtcweb_netsim::{Loss, Node};
use rtcweb_rtp::session::{PlayoutConfig, PlayoutStats};

fn percentile(v: &mut [f64], q: f64) -> f64 {
    v.sort_by(f64::total_cmp);
    v[((v.len() - 1) as f64 * q).round() as usize]
}

/// Jitter of the packets sent in [from, to): delay above the smallest delay, ms.
fn jitter(
    sent: &HashMap<u16, Instant>,
    arrived: &HashMap<u16, Instant>,
    from: Instant,
    to: Instant,
) -> Vec<f64> {
    let delays: Vec<f64> = sent
        .iter()
        .filter(|(_, t)| **t >= from && **t < to)
        .filter_map(|(s, t)| Some((*arrived.get(s)? - *t).as_secs_f64() * 1000.0))
        .collect();
    let min = delays.iter().copied().fold(f64::MAX, f64::min);
    delays.iter().map(|d| d - min).collect()
}

struct Phase {
    late: u64,
    emitted: u64,
    mean_target_ms: f64,
}

fn phase(a: &PlayoutStats, b: &PlayoutStats) -> Phase {
    let emitted = b.emitted - a.emitted;
    let count = (b.emitted_count - a.emitted_count) as f64;
    Phase {
        late: b.late - a.late,
        emitted,
        mean_target_ms: (b.jitter_buffer_target_delay - a.jitter_buffer_target_delay) / count
            * 1000.0,
    }
}

#[test]
fn the_jitter_buffer_follows_the_jitter_and_keeps_audio_and_video_in_sync() {
    for seed in [1, 2] {
        run(seed, Duration::ZERO);
    }
}

/// Video reaches the receiver 60 ms after the audio captured with it: lip sync makes audio
/// wait for it.
#[test]
fn audio_waits_for_slower_video() {
    run(3, Duration::from_millis(60));
}

fn run(seed: u64, video_hold: Duration) {
    let start = Instant::now();
    let media = Media {
        audio: true,
        video: true,
        duration: Duration::from_secs(60),
    };
    let tx = sender(start, seed, media, true);
    let mut rx = receiver(start, seed ^ 0x55, media, true);
    let config = PlayoutConfig {
        sync_group: Some(1),
        ..PlayoutConfig::default()
    };
    rx.set_playout(start, AUDIO_SSRC, Some(config)).unwrap();
    rx.set_playout(start, VIDEO_SSRC, Some(config)).unwrap();
    let mut p = Pair::new(
        start,
        seed,
        link(37, 40, Loss::None),
        link(38, 0, Loss::None),
        tx,
        rx,
        media,
    );
    p.rx_mut().video_hold = video_hold;
    let stats = |p: &Pair| {
        let s = &p.rx().session;
        (
            s.playout_stats(AUDIO_SSRC).unwrap(),
            s.playout_stats(VIDEO_SSRC).unwrap(),
        )
    };
    p.sim.run_for(Duration::from_secs(3));
    let warm = stats(&p);
    p.sim.run_for(Duration::from_secs(27));
    let high = stats(&p);
    let a = p.a;
    p.sim
        .net_mut()
        .set_link(Node::Host(a), link(37, 5, Loss::None));
    p.sim.run_for(Duration::from_secs(30));
    let low = stats(&p);
    p.sim.run_for(Duration::from_secs(2));

    let tx = p.tx();
    let rx = p.rx();
    let t3 = start + Duration::from_secs(3);
    let t30 = start + Duration::from_secs(30);
    let t60 = start + Duration::from_secs(60);
    let mut jitter_high = jitter(&tx.packets, &rx.arrived, t3, t30);
    jitter_high.extend(jitter(&tx.audio_packets, &rx.audio_arrived, t3, t30));
    let p95_high = percentile(&mut jitter_high, 0.95);
    let mut jitter_low = jitter(&tx.packets, &rx.arrived, t30 + Duration::from_secs(15), t60);
    let p95_low = percentile(&mut jitter_low, 0.95);

    for (name, w, h, l) in [
        ("audio", warm.0, high.0, low.0),
        ("video", warm.1, high.1, low.1),
    ] {
        let hi = phase(&w, &h);
        let lo = phase(&h, &l);
        println!(
            "seed {seed} {name}: 40 ms jitter (p95 {p95_high:.1} ms): {}/{} late, mean target \
             {:.1} ms, target at 30 s {:?} (sync {:?}); 5 ms jitter (p95 {p95_low:.1} ms): {}/{} \
             late, mean target {:.1} ms, target at 60 s {:?}; concealed samples {}",
            hi.late,
            hi.emitted,
            hi.mean_target_ms,
            h.target_delay,
            h.sync_delay,
            lo.late,
            lo.emitted,
            lo.mean_target_ms,
            l.target_delay,
            l.concealed_samples,
        );
        assert!(hi.emitted > 700, "{name} frames came out");
        assert!(hi.late * 100 <= hi.emitted, "{name}: {} late", hi.late);
        assert!(lo.late * 100 <= lo.emitted, "{name}: {} late", lo.late);
        assert!(
            hi.mean_target_ms <= 1.5 * p95_high,
            "{name}: target {:.1} ms for a p95 jitter of {p95_high:.1} ms",
            hi.mean_target_ms
        );
        // It shrank with the jitter.
        assert!(
            l.target_delay.as_secs_f64() * 1000.0 <= 1.5 * p95_low + 5.0,
            "{name}: target {:?} after the jitter fell to a p95 of {p95_low:.1} ms",
            l.target_delay
        );
        assert!(l.target_delay * 3 < h.target_delay);
        if name == "audio" {
            // Audio waits for the video's extra path delay.
            let sync = h.sync_delay.as_secs_f64() * 1000.0;
            let want = video_hold.as_secs_f64() * 1000.0;
            assert!((sync - want).abs() < 15.0, "audio sync delay {sync:.1} ms");
        }
    }

    // Lip sync: each video frame against the audio frame captured closest to it.
    let audio: HashMap<u32, Instant> = rx
        .delivered(AUDIO_SSRC)
        .iter()
        .map(|(t, f)| (f.timestamp, *t))
        .collect();
    let mut skews = Vec::new();
    for (t, f) in rx.delivered(VIDEO_SSRC) {
        let captured = tx.sent[&(VIDEO_SSRC, f.timestamp)].0;
        if captured < t3 {
            continue;
        }
        // The audio frame whose capture is nearest (20 ms frames, 33 ms video frames).
        let n = ((captured - start).as_millis() as u64 + 10) / 20;
        let ats = (n * 960) as u32;
        let (Some(at), Some((acap, _))) = (audio.get(&ats), tx.sent.get(&(AUDIO_SSRC, ats))) else {
            continue;
        };
        let video_latency = (t - captured).as_secs_f64();
        let audio_latency = (*at - *acap).as_secs_f64();
        skews.push((video_latency - audio_latency).abs() * 1000.0);
    }
    let n = skews.len();
    let median = percentile(&mut skews, 0.5);
    let p99 = percentile(&mut skews, 0.99);
    println!(
        "seed {seed}: A/V skew over {n} video frames: median {median:.1} ms, p99 {p99:.1} ms, max {:.1} ms",
        skews[n - 1]
    );
    assert!(n > 1500);
    assert!(median < 10.0 && p99 < 40.0);
}
