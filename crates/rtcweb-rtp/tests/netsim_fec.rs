//! Video FEC (ULPFEC in RED, and FlexFEC-03) over a lossy simulated path with a 150 ms
//! round trip.
//!
//! The sender writes VP8-like frames (30 fps, 3-4.5 kB, a 12 kB key frame every 3 s) for
//! 60 s; its access link loses packets in both directions (media, FEC, RTCP). The
//! protection rate follows the loss the receiver reports.
//!
//! - FEC alone (no NACK), 5 % random loss: at least 80 % of the lost media packets are
//!   rebuilt from FEC, byte for byte (the frames they belong to come out whole), for both
//!   formats and three seeds.
//! - NACK and FEC together: no frame is lost at 5 % random loss, at most 1 % at 10 % random
//!   loss and at 10 % bursty (Gilbert-Elliott, mean burst of two) loss. NACKs wait for the
//!   FEC of the frame: few packets FEC rebuilt had been NACKed.
//! - On a 10 ms round trip with NACK the sender makes (almost) no FEC.

#![allow(clippy::unwrap_used)]

mod media_sim;

use std::time::{Duration, Instant};

use media_sim::*;
use rtcweb_netsim::Loss;
use rtcweb_rtp::fec::ProtectionConfig;
use rtcweb_rtp::session::{FecKind, FecSendConfig, ReceiveResilience, SendResilience};

#[derive(Clone, Copy, Debug, PartialEq)]
enum Scheme {
    Ulpfec,
    Flexfec,
    None,
}

struct Outcome {
    media_packets: usize,
    lost: usize,
    fec_packets: usize,
    recovered: u64,
    recovered_after_nack: u64,
    fec_discarded: u64,
    frames_sent: usize,
    frames_whole: usize,
    retransmissions: u64,
    rate: f64,
}

fn run(scheme: Scheme, loss: Loss, nack: bool, one_way_ms: u64, seed: u64) -> Outcome {
    let start = Instant::now();
    let media = Media {
        audio: false,
        video: true,
        duration: Duration::from_secs(60),
    };
    let mut tx = sender(start, seed, media, nack);
    let kind = match scheme {
        Scheme::Ulpfec => FecKind::Ulpfec {
            red_payload_type: VIDEO_RED,
            ulpfec_payload_type: ULPFEC,
            red_rtx_payload_type: nack.then_some(VIDEO_RED_RTX),
        },
        Scheme::Flexfec | Scheme::None => FecKind::Flexfec {
            payload_type: FLEXFEC,
            ssrc: FLEXFEC_SSRC,
        },
    };
    if scheme != Scheme::None {
        tx.set_send_resilience(
            VIDEO_SSRC,
            SendResilience {
                red: None,
                fec: Some(FecSendConfig {
                    kind,
                    protection: ProtectionConfig::default(),
                    nack,
                }),
            },
        )
        .unwrap();
    }
    let mut rx = receiver(start, seed ^ 0x55, media, nack);
    let resilience = match scheme {
        Scheme::Ulpfec => ReceiveResilience {
            red_payload_type: Some(VIDEO_RED),
            red_rtx_payload_type: nack.then_some(VIDEO_RED_RTX),
            ulpfec_payload_type: Some(ULPFEC),
            ..ReceiveResilience::default()
        },
        Scheme::Flexfec | Scheme::None => ReceiveResilience {
            flexfec: Some((FLEXFEC, FLEXFEC_SSRC)),
            ..ReceiveResilience::default()
        },
    };
    rx.set_receive_resilience(VIDEO_SSRC, Some(resilience))
        .unwrap();
    let half = one_way_ms / 2;
    let mut p = Pair::new(
        start,
        seed,
        link(half, 0, loss),
        link(one_way_ms - half, 0, Loss::None),
        tx,
        rx,
        media,
    );
    p.sim.run_for(media.duration + Duration::from_secs(3));
    let tx = p.tx();
    let rx = p.rx();
    // Lost on the way (RTX may have repaired them).
    let lost = tx
        .packets
        .keys()
        .filter(|s| !rx.arrived.contains_key(s))
        .count();
    let stats = rx.session.resilience_stats(VIDEO_SSRC).unwrap();
    let delivered = rx.delivered(VIDEO_SSRC);
    let frames_whole = tx
        .sent
        .iter()
        .filter(|((ssrc, ts), (_, data))| {
            *ssrc == VIDEO_SSRC
                && delivered
                    .iter()
                    .any(|(_, f)| f.timestamp == *ts && f.data == *data)
        })
        .count();
    // Frames come out in order, each once.
    assert!(
        delivered
            .windows(2)
            .all(|w| w[0].1.timestamp < w[1].1.timestamp)
    );
    let send = tx
        .session
        .send_resilience_stats(VIDEO_SSRC)
        .unwrap_or_default();
    Outcome {
        media_packets: tx.packets.len(),
        lost,
        fec_packets: tx.fec_packets,
        recovered: stats.fec_recovered,
        recovered_after_nack: stats.fec_recovered_after_nack,
        fec_discarded: stats.fec_packets_discarded,
        frames_sent: tx.sent.len(),
        frames_whole,
        retransmissions: tx.session.send_stats(VIDEO_SSRC).unwrap().retransmissions,
        rate: send.fec_rate,
    }
}

fn report(what: &str, o: &Outcome) {
    println!(
        "{what}: {} media + {} FEC packets ({:.0} % overhead); {} lost, {} rebuilt from FEC \
         ({:.1} %; {} of them NACKed first), {} FEC discarded; {} retransmissions; frames whole \
         {}/{}",
        o.media_packets,
        o.fec_packets,
        100.0 * o.fec_packets as f64 / o.media_packets as f64,
        o.lost,
        o.recovered,
        100.0 * o.recovered as f64 / o.lost.max(1) as f64,
        o.recovered_after_nack,
        o.fec_discarded,
        o.retransmissions,
        o.frames_whole,
        o.frames_sent,
    );
}

#[test]
fn fec_alone_rebuilds_most_lost_packets_at_5_percent_loss() {
    for scheme in [Scheme::Ulpfec, Scheme::Flexfec] {
        for seed in [1, 2, 3] {
            let o = run(scheme, Loss::Random(0.05), false, 75, seed);
            report(
                &format!("{scheme:?} without NACK, 5 % loss, seed {seed}"),
                &o,
            );
            assert!(o.media_packets > 5000);
            assert!(o.lost > 150, "the path did lose packets");
            assert_eq!(o.retransmissions, 0);
            let ratio = o.recovered as f64 / o.lost as f64;
            assert!(ratio >= 0.8, "{:.1} % rebuilt", ratio * 100.0);
            // The rate followed the reported loss: 10 FEC packets per lost one, at most 0.5.
            let overhead = o.fec_packets as f64 / o.media_packets as f64;
            assert!((0.3..=0.5).contains(&overhead), "overhead {overhead}");
            let none = run(Scheme::None, Loss::Random(0.05), false, 75, seed);
            report(&format!("no FEC, no NACK, 5 % loss, seed {seed}"), &none);
            assert!(none.frames_whole < o.frames_whole);
        }
    }
}

#[test]
fn nack_and_fec_lose_no_frame_at_5_percent_and_at_most_1_percent_at_10() {
    let bursty = Loss::GilbertElliott {
        p: 0.1 / 0.9 * 0.5,
        r: 0.5,
        loss_good: 0.0,
        loss_bad: 1.0,
    };
    let cases = [
        ("5 % random", Loss::Random(0.05), 1.0),
        ("10 % random", Loss::Random(0.10), 0.99),
        ("10 % bursty", bursty, 0.99),
    ];
    for scheme in [Scheme::Ulpfec, Scheme::Flexfec] {
        for (name, loss, floor) in cases {
            for seed in [1, 2, 3] {
                let o = run(scheme, loss, true, 75, seed);
                report(&format!("{scheme:?} with NACK, {name}, seed {seed}"), &o);
                let whole = o.frames_whole as f64 / o.frames_sent as f64;
                assert!(
                    whole >= floor,
                    "{} of {} frames whole",
                    o.frames_whole,
                    o.frames_sent
                );
                assert!(o.recovered > 0 && o.retransmissions > 0);
                // FEC arrives before the NACK hold ends for most of what it rebuilds.
                assert!(
                    o.recovered_after_nack * 5 <= o.recovered,
                    "{} of {} rebuilt packets were NACKed first",
                    o.recovered_after_nack,
                    o.recovered
                );
            }
        }
    }
}

#[test]
fn a_cheap_round_trip_leaves_repair_to_nack() {
    let o = run(Scheme::Ulpfec, Loss::Random(0.05), true, 5, 1);
    report("ULPFEC with NACK, 5 % loss, 10 ms RTT", &o);
    assert_eq!(o.rate, 0.0, "no FEC once the round trip is known");
    // Only the start, before the first round trip was measured, may carry FEC.
    assert!(
        o.fec_packets * 100 <= o.media_packets,
        "{} FEC packets",
        o.fec_packets
    );
    assert_eq!(o.frames_whole, o.frames_sent);
}
