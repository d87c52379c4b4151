//! RED (RFC 2198) for Opus over a lossy simulated path with a 150 ms round trip, without
//! any retransmission (NACK off).
//!
//! The sender writes 20 ms Opus-like frames for 60 s; its access link loses 10 % or 20 % of
//! packets at random in both directions, and adds up to 2 ms of jitter. The receiver plays
//! them out through its jitter buffer. With a redundancy distance of 2, at least 99 % (10 %
//! loss) and 96 % (20 % loss) of the frames must be played in time (released by the jitter
//! buffer at their slot, not concealed), each exactly once and byte for byte, over three
//! seeds. The same runs without RED and with distance 1 are printed for comparison, and
//! without RED the loss must show.

#![allow(clippy::unwrap_used)]

mod media_sim;

use std::collections::HashSet;
use std::time::{Duration, Instant};

use media_sim::*;
use rtcweb_netsim::Loss;
use rtcweb_rtp::session::{PlayoutConfig, ReceiveResilience, RedConfig, SendResilience};

struct Outcome {
    sent: usize,
    played: usize,
    twice: usize,
    wrong: usize,
    concealed_samples: u64,
    red_recovered: u64,
    red_duplicates: u64,
    retransmissions: u64,
    mean_latency: Duration,
    target: Duration,
}

fn run(loss: f64, distance: Option<usize>, seed: u64, playout: bool) -> Outcome {
    let start = Instant::now();
    let media = Media {
        audio: true,
        video: false,
        duration: Duration::from_secs(60),
    };
    let mut tx = sender(start, seed, media, false);
    if let Some(distance) = distance {
        tx.set_send_resilience(
            AUDIO_SSRC,
            SendResilience {
                red: Some(RedConfig {
                    payload_type: AUDIO_RED,
                    carried: OPUS,
                    distance,
                }),
                fec: None,
            },
        )
        .unwrap();
    }
    let mut rx = receiver(start, seed ^ 0x55, media, false);
    rx.set_receive_resilience(
        AUDIO_SSRC,
        Some(ReceiveResilience {
            red_payload_type: Some(AUDIO_RED),
            ..ReceiveResilience::default()
        }),
    )
    .unwrap();
    if playout {
        rx.set_playout(start, AUDIO_SSRC, Some(PlayoutConfig::default()))
            .unwrap();
    }
    // 37 + 38 ms each way: a 150 ms round trip.
    let mut p = Pair::new(
        start,
        seed,
        link(37, 2, Loss::Random(loss)),
        link(38, 0, Loss::None),
        tx,
        rx,
        media,
    );
    p.sim.run_for(media.duration + Duration::from_secs(2));
    let tx = p.tx();
    let rx = p.rx();
    let mut seen = HashSet::new();
    let (mut twice, mut wrong) = (0, 0);
    let mut latency = Duration::ZERO;
    for (at, f) in rx.delivered(AUDIO_SSRC) {
        if !seen.insert(f.timestamp) {
            twice += 1;
        }
        match tx.sent.get(&(AUDIO_SSRC, f.timestamp)) {
            Some((captured, data)) if *data == f.data => latency += at - *captured,
            _ => wrong += 1,
        }
    }
    let stats = rx.session.resilience_stats(AUDIO_SSRC).unwrap();
    let playout = rx.session.playout_stats(AUDIO_SSRC).unwrap_or_default();
    Outcome {
        sent: tx.sent.len(),
        played: seen.len(),
        twice,
        wrong,
        concealed_samples: playout.concealed_samples,
        red_recovered: stats.red_recovered,
        red_duplicates: stats.red_duplicates,
        retransmissions: tx.session.send_stats(AUDIO_SSRC).unwrap().retransmissions,
        mean_latency: latency / seen.len().max(1) as u32,
        target: playout.target_delay,
    }
}

fn report(what: &str, loss: f64, seed: u64, o: &Outcome) -> f64 {
    let ratio = o.played as f64 / o.sent as f64;
    println!(
        "{what}, loss {:.0} %, seed {seed}: {}/{} frames played in time ({:.2} %), {} concealed samples, \
         {} from RED ({} redundant copies dropped), {} twice, {} wrong; mean capture-to-playout {:?}, \
         target delay {:?}",
        loss * 100.0,
        o.played,
        o.sent,
        ratio * 100.0,
        o.concealed_samples,
        o.red_recovered,
        o.red_duplicates,
        o.twice,
        o.wrong,
        o.mean_latency,
        o.target,
    );
    ratio
}

#[test]
fn red_plays_opus_in_time_through_random_loss_without_retransmission() {
    for (loss, floor) in [(0.10, 0.99), (0.20, 0.96)] {
        for seed in [1, 2, 3] {
            let o = run(loss, Some(2), seed, true);
            let ratio = report("RED distance 2", loss, seed, &o);
            assert_eq!(o.sent, 3000);
            assert!(ratio >= floor, "{:.2} % played", ratio * 100.0);
            assert_eq!((o.twice, o.wrong), (0, 0), "each frame once and intact");
            assert_eq!(o.retransmissions, 0);
            assert!(o.red_recovered > 0 && o.red_duplicates > 0);
            // Everything not played was concealed, slot for slot.
            assert_eq!(o.concealed_samples, 960 * (o.sent - o.played) as u64);
            // The buffer waits for the redundant copy (two frames later), not much more.
            assert!(o.target <= Duration::from_millis(80), "{:?}", o.target);

            let d1 = run(loss, Some(1), seed, true);
            report("RED distance 1", loss, seed, &d1);
            let none = run(loss, None, seed, true);
            let without = report("no RED", loss, seed, &none);
            assert!(without < 1.0 - loss / 2.0, "without RED the loss shows");
            assert!(d1.played <= o.played && none.played < d1.played);
        }
    }
}

#[test]
fn without_playout_red_copies_never_reach_the_application_twice() {
    for seed in [4, 5] {
        let o = run(0.2, Some(2), seed, false);
        let ratio = report("RED distance 2, no jitter buffer", 0.2, seed, &o);
        assert_eq!((o.twice, o.wrong), (0, 0));
        assert!(ratio >= 0.96);
        // Frames come out as they can be: within a few frame times of the path delay.
        assert!(
            o.mean_latency < Duration::from_millis(90),
            "{:?}",
            o.mean_latency
        );
    }
}
