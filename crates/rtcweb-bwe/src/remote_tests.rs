//! Tests of the receive-side estimator on a simulated bottleneck (a FIFO link with a rate
//! and a drop-tail queue, 25 ms one way).

use super::*;
use crate::overuse::Usage;

const SSRC: u32 = 0x1234_5678;
const ONE_WAY: Micros = 25 * MS;
const PACKET: usize = 1000;

/// `us` of the sender's clock as abs-send-time (24 bits of 2^-18 s).
fn abs(us: i64) -> u32 {
    ((i128::from(us) * (1 << 18) / 1_000_000) as i64 & 0x00ff_ffff) as u32
}

struct Link {
    capacity: f64,
    queue: Micros,
    free: Micros,
}

impl Link {
    fn new(capacity: f64) -> Self {
        Self {
            capacity,
            queue: 300 * MS,
            free: 0,
        }
    }

    /// A packet of `size` bytes sent at `send`: its arrival, or None if the queue is full.
    fn through(&mut self, send: Micros, size: usize) -> Option<Micros> {
        let start = self.free.max(send);
        if start - send > self.queue {
            return None;
        }
        self.free = start + (size as f64 * 8.0 / self.capacity * 1e6) as Micros;
        Some(self.free + ONE_WAY)
    }
}

struct Sim {
    est: RemoteEstimator,
    t0: Instant,
    link: Link,
    /// Sender clock time of the next packet.
    t: Micros,
    /// Offset of the sender's abs-send-time clock.
    offset: i64,
    /// (time emitted, value) of each REMB.
    rembs: Vec<(Micros, f64)>,
    /// (arrival, queueing delay) of each packet.
    delays: Vec<(Micros, Micros)>,
}

impl Sim {
    fn new(capacity: f64) -> Self {
        Self {
            est: RemoteEstimator::new(RemoteConfig::default()).unwrap(),
            t0: Instant::now(),
            link: Link::new(capacity),
            t: 0,
            offset: 0,
            rembs: Vec::new(),
            delays: Vec::new(),
        }
    }

    fn at(&self, us: Micros) -> Instant {
        self.t0 + Duration::from_micros(us as u64)
    }

    /// Sends 1000-byte packets for `dur` at the rate `rate(rembs so far, now)` gives.
    fn run(&mut self, dur: Micros, mut rate: impl FnMut(&[(Micros, f64)], Micros) -> f64) {
        let end = self.t + dur;
        while self.t < end {
            let r = rate(&self.rembs, self.t).max(10_000.0);
            if let Some(arrival) = self.link.through(self.t, PACKET) {
                let at = self.at(arrival);
                if self.est.poll_timeout().is_some_and(|t| t <= at) {
                    self.est.handle_timeout(at);
                }
                let p = ReceivedPacket {
                    arrival: at,
                    send_time: SendTime::AbsSendTime(abs(self.t + self.offset)),
                    size: PACKET,
                    ssrc: SSRC,
                };
                self.est.handle_input(at, RemoteInput::Packet(p));
                while let Some(RemoteEvent::Remb(remb)) = self.est.poll_event() {
                    assert_eq!(remb.ssrcs, [SSRC]);
                    self.rembs.push((arrival, remb.bitrate.as_f64()));
                }
                let tx = (PACKET as f64 * 8.0 / self.link.capacity * 1e6) as Micros;
                self.delays.push((arrival, arrival - self.t - ONE_WAY - tx));
            }
            self.t += (PACKET as f64 * 8.0 / r * 1e6) as Micros;
        }
    }

    /// The sender follows the REMBs it has received (25 ms after they left), starting at
    /// `start`.
    fn follow(&mut self, dur: Micros, start: f64) {
        self.run(dur, |rembs, now| {
            rembs
                .iter()
                .take_while(|(t, _)| t + ONE_WAY <= now)
                .last()
                .map_or(start, |r| r.1)
        });
    }

    fn mean_remb(&self, from: Micros, to: Micros) -> f64 {
        // Time-weighted: each value holds until the next.
        let mut sum = 0.0;
        for (i, &(t, v)) in self.rembs.iter().enumerate() {
            let next = self.rembs.get(i + 1).map_or(to, |n| n.0);
            let (a, b) = (t.max(from), next.min(to));
            if b > a {
                sum += v * (b - a) as f64;
            }
        }
        sum / (to - from) as f64
    }
}

#[test]
fn the_first_remb_is_the_incoming_rate_then_one_a_second() {
    let mut s = Sim::new(10e6);
    s.run(5 * SEC, |_, _| 800e3);
    let (first_at, first) = s.rembs[0];
    assert!((500 * MS..600 * MS).contains(&first_at), "{first_at}");
    assert!((first - 800e3).abs() < 0.03 * 800e3, "{first}");
    for w in s.rembs.windows(2) {
        let gap = w[1].0 - w[0].0;
        assert!((gap - SEC).abs() <= 10 * MS, "{gap}");
        // Growing, but never beyond 1.5 x the incoming rate + 10 kbit/s.
        assert!(w[1].1 >= w[0].1 && w[1].1 <= 1.21e6, "{w:?}");
    }
    assert_eq!(s.rembs.len(), 5);
    assert_eq!(s.est.usage(), Usage::Normal);
}

#[test]
fn an_over_use_is_sent_at_once() {
    let mut s = Sim::new(1e6);
    s.run(3 * SEC, |_, _| 800e3);
    let before = s.rembs.len();
    let last = s.rembs[before - 1];
    s.run(2 * SEC, |_, _| 1.5e6);
    let (at, value) = s.rembs[before];
    println!(
        "REMB before {last:?}, after the step {:?}",
        &s.rembs[before..]
    );
    // Not the periodic one: it left within a second of the step, before the next period.
    assert!(at < last.0 + SEC && at < 4 * SEC, "{at}");
    assert!(value < DROP_FRACTION * last.1 && value < 1e6, "{value}");
}

#[test]
fn a_sender_that_follows_the_remb_uses_the_link_with_little_queueing() {
    for capacity in [0.5e6, 1.5e6, 4e6] {
        let mut s = Sim::new(capacity);
        s.follow(60 * SEC, 300e3);
        let mean = s.mean_remb(30 * SEC, 60 * SEC) / capacity;
        let highest = s
            .rembs
            .iter()
            .filter(|r| r.0 >= 30 * SEC)
            .map(|r| r.1)
            .fold(0.0, f64::max)
            / capacity;
        let late: Vec<Micros> = s
            .delays
            .iter()
            .filter(|d| d.0 >= 30 * SEC)
            .map(|d| d.1)
            .collect();
        let queue = late.iter().sum::<Micros>() / late.len() as Micros;
        println!(
            "{capacity}: mean REMB {mean:.3}, highest {highest:.3} of capacity, \
             mean queueing {queue} us, {} REMBs",
            s.rembs.len()
        );
        // AIMD: decrease to 0.9 of the delivery rate, additive increase back; the highest
        // value is the overshoot the detector needs to see a queue.
        assert!((0.8..=1.0).contains(&mean), "{capacity}: {mean}");
        assert!(highest <= 1.1, "{capacity}: {highest}");
        assert!(queue <= 50 * MS, "{capacity}: {queue}");
    }
}

#[test]
fn abs_send_time_wraps_without_a_trace() {
    let mut s = Sim::new(10e6);
    // The sender's clock is 2 s before the 64 s wrap.
    s.offset = 62 * SEC;
    s.run(5 * SEC, |_, _| 800e3);
    assert_eq!(s.est.usage(), Usage::Normal);
    assert_eq!(s.est.stats().resets, 0);
    assert!(
        s.rembs.windows(2).all(|w| w[1].1 >= w[0].1),
        "{:?}",
        s.rembs
    );
}

#[test]
fn the_ssrc_set_is_bounded() {
    let mut est = RemoteEstimator::new(RemoteConfig::default()).unwrap();
    let t0 = Instant::now();
    let mut remb_ssrcs = 0;
    for i in 0..2000u32 {
        let at = t0 + Duration::from_millis(u64::from(i));
        let p = ReceivedPacket {
            arrival: at,
            send_time: SendTime::AbsSendTime(abs(i64::from(i) * MS)),
            size: 200,
            ssrc: i,
        };
        est.handle_input(at, RemoteInput::Packet(p));
        if let Some(RemoteEvent::Remb(r)) = est.poll_event() {
            remb_ssrcs = remb_ssrcs.max(r.ssrcs.len());
        }
        assert!(est.memory_bounds().0 <= 32 && est.memory_bounds().1 <= 32);
    }
    assert_eq!(est.stats().ssrcs_evicted, 2000 - 32);
    assert_eq!(remb_ssrcs, 32);
    // The newest 32 remain.
    assert!(est.ssrcs().all(|s| s >= 2000 - 32));
}

#[test]
fn quiet_streams_leave_and_the_estimator_starts_over() {
    let mut est = RemoteEstimator::new(RemoteConfig::default()).unwrap();
    let t0 = Instant::now();
    let mut last = t0;
    for i in 0..3000u64 {
        let at = t0 + Duration::from_millis(i);
        // Two streams; the second stops at 500 ms.
        let ssrc = if i < 500 && i % 2 == 1 { 2 } else { 1 };
        let p = ReceivedPacket {
            arrival: at,
            send_time: SendTime::Micros(i as i64 * MS),
            size: 500,
            ssrc,
        };
        est.handle_input(at, RemoteInput::Packet(p));
        if est.poll_timeout().is_some_and(|t| t <= at) {
            est.handle_timeout(at);
        }
        last = at;
    }
    assert_eq!(est.ssrcs().collect::<Vec<_>>(), [1]);
    assert!(est.estimate().is_some());
    // Everything goes quiet: 2 s later the estimator has started over.
    let due = est.poll_timeout().unwrap();
    assert!(due <= last + Duration::from_secs(2));
    est.handle_timeout(last + Duration::from_secs(2));
    while est.poll_event().is_some() {}
    assert_eq!(est.estimate(), None);
    assert_eq!(est.stats().resets, 1);
    assert_eq!(est.poll_timeout(), None);
    assert_eq!(est.ssrcs().count(), 0);
}

#[test]
fn a_change_of_send_time_kind_starts_over() {
    let mut est = RemoteEstimator::new(RemoteConfig::default()).unwrap();
    let t0 = Instant::now();
    for i in 0..1000u64 {
        let at = t0 + Duration::from_millis(i);
        let send_time = if i < 700 {
            SendTime::AbsSendTime(abs(i as i64 * MS))
        } else {
            SendTime::Micros(i as i64 * MS)
        };
        let p = ReceivedPacket {
            arrival: at,
            send_time,
            size: 500,
            ssrc: 7,
        };
        est.handle_input(at, RemoteInput::Packet(p));
    }
    assert_eq!(est.stats().resets, 1);
    assert_eq!(
        est.estimate(),
        None,
        "300 ms since the restart: not measured yet"
    );
}

#[test]
fn settings_are_checked() {
    let bad = [
        RemoteConfig {
            min: Bitrate::from_kbps(100),
            max: Bitrate::from_kbps(50),
            ..RemoteConfig::default()
        },
        RemoteConfig {
            max: Bitrate::ZERO,
            min: Bitrate::ZERO,
            ..RemoteConfig::default()
        },
        RemoteConfig {
            interval: Duration::ZERO,
            ..RemoteConfig::default()
        },
        RemoteConfig {
            max_ssrcs: 0,
            ..RemoteConfig::default()
        },
        RemoteConfig {
            max_ssrcs: 256,
            ..RemoteConfig::default()
        },
    ];
    for c in bad {
        assert!(RemoteEstimator::new(c.clone()).is_err(), "{c:?}");
    }
}
