//! The estimator's face on its own: events, limits, timeouts, RTCP-only operation and
//! input that matches nothing.

use std::time::{Duration, Instant};

use rtcweb_bwe::{
    BandwidthEstimator, Bitrate, Config, Constraints, Error, Event, Input, Limit, LossReport,
    PacketKind, PacketResult, SentPacket,
};

fn sent(seq: u64, at: Instant) -> Input<'static> {
    Input::Sent(SentPacket {
        seq,
        size: 1000,
        send_time: at,
        kind: PacketKind::Video,
        probe_cluster: None,
    })
}

fn drain(bwe: &mut BandwidthEstimator) -> Vec<Event> {
    std::iter::from_fn(|| bwe.poll_event()).collect()
}

fn no_probing() -> Config {
    Config {
        initial_probing: false,
        ..Config::default()
    }
}

#[test]
fn first_input_emits_the_start_rate_and_the_start_up_probes() {
    let t0 = Instant::now();
    let mut bwe = BandwidthEstimator::new(Config::default()).unwrap();
    // The start rates are there at once; probes and timers wait for the first call.
    assert_eq!(bwe.poll_timeout(), None);
    let Some(Event::TargetRate(r)) = bwe.poll_event() else {
        panic!("no start rate")
    };
    assert_eq!(r.target, Bitrate::from_kbps(300));
    assert_eq!(r.pacing, Bitrate::from_kbps(750));
    assert_eq!(r.limit, Limit::Start);
    assert_eq!(bwe.poll_event(), None);
    bwe.handle_timeout(t0);
    let events = drain(&mut bwe);
    let probes: Vec<u64> = events
        .iter()
        .map(|e| match e {
            Event::ProbeCluster(c) => c.bitrate.bps(),
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(probes, [900_000, 1_800_000]);
    assert_eq!(bwe.poll_timeout(), Some(t0 + Duration::from_millis(25)));
}

#[test]
fn invalid_limits_are_refused_and_change_nothing() {
    assert!(matches!(
        BandwidthEstimator::new(Config {
            min: Bitrate::from_kbps(500),
            max: Bitrate::from_kbps(100),
            ..Config::default()
        }),
        Err(Error::InvalidLimits { .. })
    ));
    let t0 = Instant::now();
    let mut bwe = BandwidthEstimator::new(no_probing()).unwrap();
    let bad = Constraints {
        min: Bitrate::from_kbps(10),
        start: None,
        max: Bitrate::ZERO,
        padding: Bitrate::ZERO,
    };
    assert!(bwe.handle_input(t0, Input::Constraints(bad)).is_err());
    assert_eq!(bwe.estimate(), Bitrate::from_kbps(300));
}

#[test]
fn the_receiver_estimate_and_the_maximum_bound_the_target() {
    let t0 = Instant::now();
    let mut bwe = BandwidthEstimator::new(no_probing()).unwrap();
    bwe.handle_input(t0, Input::ReceiverEstimate(Bitrate::from_kbps(200)))
        .unwrap();
    assert_eq!(bwe.target_rate().target, Bitrate::from_kbps(200));
    assert_eq!(bwe.target_rate().limit, Limit::Receiver);
    let c = Constraints {
        min: Bitrate::from_kbps(30),
        start: None,
        max: Bitrate::from_kbps(100),
        padding: Bitrate::from_kbps(50),
    };
    bwe.handle_input(t0, Input::Constraints(c)).unwrap();
    let r = bwe.target_rate();
    assert_eq!((r.target, r.limit), (Bitrate::from_kbps(100), Limit::Max));
    assert_eq!(r.padding, Bitrate::from_kbps(50));
}

#[test]
fn without_transport_feedback_the_receiver_estimate_is_the_estimate() {
    let t0 = Instant::now();
    let mut bwe = BandwidthEstimator::new(no_probing()).unwrap();
    bwe.handle_input(t0, sent(1, t0)).unwrap();
    // A REMB-only peer: its estimate takes the target up and down.
    for (ms, kbps) in [(500, 900), (1500, 1200), (1600, 700)] {
        let t = t0 + Duration::from_millis(ms);
        bwe.handle_input(t, Input::ReceiverEstimate(Bitrate::from_kbps(kbps)))
            .unwrap();
        let r = bwe.target_rate();
        assert_eq!(
            (r.target, r.limit),
            (Bitrate::from_kbps(kbps), Limit::Receiver)
        );
    }
    // With transport feedback the REMB only bounds the target from above.
    let mut bwe = BandwidthEstimator::new(no_probing()).unwrap();
    bwe.handle_input(t0, sent(1, t0)).unwrap();
    let fb = [PacketResult {
        seq: 1,
        arrival_us: Some(20_000),
    }];
    bwe.handle_input(t0 + Duration::from_millis(50), Input::Feedback(&fb))
        .unwrap();
    let before = bwe.estimate();
    bwe.handle_input(
        t0 + Duration::from_millis(60),
        Input::ReceiverEstimate(Bitrate::from_kbps(5000)),
    )
    .unwrap();
    assert_eq!(bwe.estimate(), before);
    assert_ne!(bwe.target_rate().limit, Limit::Receiver);
}

#[test]
fn raising_the_maximum_probes() {
    let t0 = Instant::now();
    let mut bwe = BandwidthEstimator::new(Config {
        max: Bitrate::from_kbps(300),
        ..no_probing()
    })
    .unwrap();
    bwe.handle_timeout(t0);
    drain(&mut bwe);
    let c = Constraints {
        min: Bitrate::from_kbps(30),
        start: None,
        max: Bitrate::from_kbps(5000),
        padding: Bitrate::ZERO,
    };
    bwe.handle_input(t0, Input::Constraints(c)).unwrap();
    let probes: Vec<_> = drain(&mut bwe)
        .into_iter()
        .filter_map(|e| match e {
            Event::ProbeCluster(c) => Some(c.bitrate),
            _ => None,
        })
        .collect();
    assert_eq!(probes, [Bitrate::from_kbps(600)]);
}

#[test]
fn silence_after_feedback_halves_the_target_each_second() {
    let t0 = Instant::now();
    let mut bwe = BandwidthEstimator::new(no_probing()).unwrap();
    bwe.handle_input(t0, sent(1, t0)).unwrap();
    let fb = [PacketResult {
        seq: 1,
        arrival_us: Some(20_000),
    }];
    bwe.handle_input(t0 + Duration::from_millis(50), Input::Feedback(&fb))
        .unwrap();
    let before = bwe.estimate().as_f64();
    // Packets keep going out, no feedback comes back.
    let mut t = t0 + Duration::from_millis(50);
    for seq in 2..200 {
        t += Duration::from_millis(10);
        bwe.handle_input(t, sent(seq, t)).unwrap();
        bwe.handle_timeout(t);
    }
    let after = bwe.estimate().as_f64();
    assert_eq!(bwe.target_rate().limit, Limit::FeedbackTimeout);
    assert!(
        after <= before / 2.0 && after >= before / 4.0,
        "{before} -> {after}"
    );
}

#[test]
fn rtcp_loss_reports_drive_the_estimate_without_transport_feedback() {
    let t0 = Instant::now();
    let mut bwe = BandwidthEstimator::new(no_probing()).unwrap();
    let mut t = t0;
    let mut seq = 0;
    // 1 s report intervals at 300 kbit/s (37 packets of 1000 bytes), no loss.
    let mut report = |bwe: &mut BandwidthEstimator, t: &mut Instant, lost: u64| {
        for _ in 0..37 {
            seq += 1;
            *t += Duration::from_millis(27);
            bwe.handle_input(*t, sent(seq, *t)).unwrap();
        }
        bwe.handle_input(*t, Input::Loss(LossReport { lost, expected: 37 }))
            .unwrap();
    };
    for _ in 0..5 {
        report(&mut bwe, &mut t, 0);
    }
    let grown = bwe.estimate().as_f64();
    assert!(grown > 300_000.0, "{grown}");
    // 20 % loss: cut by 10 %.
    report(&mut bwe, &mut t, 8);
    let cut = bwe.estimate().as_f64();
    assert!(cut < 0.95 * grown, "{grown} -> {cut}");
    assert_eq!(
        LossReport::from_fraction(64, 100),
        LossReport {
            lost: 25,
            expected: 100
        }
    );
}

#[test]
fn feedback_that_matches_nothing_is_skipped_and_counted() {
    let t0 = Instant::now();
    let mut bwe = BandwidthEstimator::new(no_probing()).unwrap();
    bwe.handle_input(t0, sent(10, t0)).unwrap();
    let fb = [
        PacketResult {
            seq: 9,
            arrival_us: Some(1),
        },
        PacketResult {
            seq: u64::MAX,
            arrival_us: Some(i64::MIN + 1),
        },
        PacketResult {
            seq: 10,
            arrival_us: Some(i64::MAX),
        },
        PacketResult {
            seq: 10,
            arrival_us: Some(5),
        },
        PacketResult {
            seq: 10,
            arrival_us: None,
        },
    ];
    bwe.handle_input(t0 + Duration::from_millis(50), Input::Feedback(&fb))
        .unwrap();
    let s = bwe.stats();
    assert_eq!((s.sent, s.received, s.lost, s.skipped), (1, 1, 0, 4));
}

/// An idle estimator (nothing sent) runs its periodic work once a second, not every 25 ms:
/// an idle connection must not wake forty times a second (the soak, benches/src/soak,
/// counted 47 wake-ups a second per idle PeerConnection before). A send brings the 25 ms
/// cadence back at once, and a feedback timeout still cuts the estimate while idle.
#[test]
fn an_idle_estimator_wakes_once_a_second_and_a_send_wakes_it_up() {
    let t0 = Instant::now();
    let mut bwe = BandwidthEstimator::new(no_probing()).unwrap();
    bwe.handle_timeout(t0);
    let run = |bwe: &mut BandwidthEstimator, until: Instant| {
        let mut wakeups = 0;
        while let Some(t) = bwe.poll_timeout().filter(|t| *t <= until) {
            bwe.handle_timeout(t);
            wakeups += 1;
        }
        wakeups
    };
    // The first second at 25 ms (40 runs), then one a second.
    let idle = run(&mut bwe, t0 + Duration::from_secs(11));
    assert!((40..=52).contains(&idle), "{idle} runs in 11 idle seconds");

    let t1 = t0 + Duration::from_secs(11);
    bwe.handle_input(t1, sent(1, t1)).unwrap();
    assert!(bwe.poll_timeout().unwrap() <= t1 + Duration::from_millis(25));
    let fb = [PacketResult {
        seq: 1,
        arrival_us: Some(11_020_000),
    }];
    bwe.handle_input(t1 + Duration::from_millis(50), Input::Feedback(&fb))
        .unwrap();
    let t2 = t1 + Duration::from_millis(100);
    bwe.handle_input(t2, sent(2, t2)).unwrap();
    let before = bwe.estimate();
    // No feedback for the second packet, and nothing more sent: the feedback timeout still
    // halves the estimate after going idle.
    run(&mut bwe, t2 + Duration::from_secs(4));
    assert!(
        bwe.estimate() < before,
        "{:?} -> {:?}",
        before,
        bwe.estimate()
    );
}
