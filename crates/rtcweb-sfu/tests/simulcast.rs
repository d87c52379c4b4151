//! Three subscribers of one three-layer VP8 publisher, with estimates of 0.3, 1 and 5 Mbit/s:
//! each settles on the layer that fits, moves up when its estimate rises and down when it
//! falls, and receives one continuous, decodable stream across every switch.
#![allow(clippy::unwrap_used)] // test code: a panic is a failed test

mod common;

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use common::{FRAME, Publisher, Subscriber};
use rtcweb_rtp::codec::Codec;
use rtcweb_sfu::{Event, Feedback, Forwarder, ForwarderConfig, Input, Transmit};

/// Round trip of a key-frame request to the publisher's encoder and back.
const REQUEST_DELAY: Duration = Duration::from_millis(50);

struct Run {
    t0: Instant,
    now: Instant,
    publisher: Publisher,
    forwarders: Vec<Forwarder>,
    subscribers: Vec<Subscriber>,
    estimates: Vec<u64>,
    /// Key-frame requests on their way to the publisher: (due, layer).
    requests: VecDeque<(Instant, u8)>,
    /// (forwarder, seconds, event)
    events: Vec<(usize, f64, Event)>,
}

impl Run {
    fn new(estimates: &[u64]) -> Self {
        let t0 = Instant::now();
        let forwarders = (0..estimates.len())
            .map(|i| {
                let mut c = ForwarderConfig::new(Codec::Vp8, 0xabc0 + i as u32);
                c.initial_sequence_number = 65_000 + 200 * i as u16;
                Forwarder::new(c, t0).unwrap()
            })
            .collect();
        Self {
            t0,
            now: t0,
            publisher: Publisher::new(&[150_000, 500_000, 1_500_000]),
            forwarders,
            subscribers: estimates.iter().map(|_| Subscriber::new()).collect(),
            estimates: estimates.to_vec(),
            requests: VecDeque::new(),
            events: Vec::new(),
        }
    }

    fn drain(&mut self, i: usize) {
        while let Some(t) = self.forwarders[i].poll_transmit() {
            match t {
                Transmit::Subscriber(p) | Transmit::Retransmission(p) => {
                    self.subscribers[i].receive(self.now, &p)
                }
                Transmit::Publisher(Feedback::KeyFrameRequest { layer, ssrc }) => {
                    assert_eq!(ssrc, 0x1000 + u32::from(layer));
                    self.requests.push_back((self.now + REQUEST_DELAY, layer));
                }
                Transmit::Publisher(f) => panic!("unexpected {f:?}"),
            }
        }
        while let Some(e) = self.forwarders[i].poll_event() {
            let s = (self.now - self.t0).as_secs_f64();
            self.events.push((i, s, e));
        }
    }

    /// Runs until `until` seconds, one frame of every layer per frame interval; estimates
    /// every 100 ms.
    fn run_until(&mut self, until: f64) {
        let end = self.t0 + Duration::from_secs_f64(until);
        let mut next_estimate = self.now;
        while self.now < end {
            while self
                .requests
                .front()
                .is_some_and(|(due, _)| *due <= self.now)
            {
                let (_, layer) = self.requests.pop_front().unwrap();
                self.publisher.request_keyframe(layer);
            }
            if self.now >= next_estimate {
                for i in 0..self.forwarders.len() {
                    let e = self.estimates[i];
                    self.forwarders[i]
                        .handle_input(self.now, Input::Estimate(e))
                        .unwrap();
                    self.drain(i);
                }
                next_estimate += Duration::from_millis(100);
            }
            for i in 0..self.forwarders.len() {
                if self.forwarders[i]
                    .poll_timeout()
                    .is_some_and(|t| t <= self.now)
                {
                    self.forwarders[i].handle_timeout(self.now);
                    self.drain(i);
                }
            }
            let pkts = self.publisher.frame();
            for (k, p) in pkts.iter().enumerate() {
                // The packets of one frame interval arrive spread over its first 10 ms.
                let at = self.now + Duration::from_micros(100 * k as u64);
                for i in 0..self.forwarders.len() {
                    self.forwarders[i]
                        .handle_input(at, Input::Rtp(p.view()))
                        .unwrap();
                    self.drain(i);
                }
            }
            self.now += FRAME;
        }
    }

    fn last_switch(&self, i: usize) -> Option<f64> {
        self.events
            .iter()
            .filter(|(f, _, e)| *f == i && matches!(e, Event::LayerSwitched { .. }))
            .map(|(_, s, _)| *s)
            .next_back()
    }

    fn check_stream(&self) {
        for (i, s) in self.subscribers.iter().enumerate() {
            assert_eq!(s.ssrcs, [0xabc0 + i as u32], "subscriber {i}: one SSRC");
            assert!(
                s.seq_gaps.is_empty(),
                "subscriber {i}: gaps {:?}",
                s.seq_gaps
            );
            assert_eq!(s.undecodable, 0, "subscriber {i}: undecodable frames");
            assert_eq!(
                s.id_breaks, 0,
                "subscriber {i}: picture id / TL0PICIDX breaks"
            );
            assert_eq!(s.ts_backwards, 0, "subscriber {i}: timestamps went back");
            let st = s.assembler.stats();
            assert_eq!(st.frames_malformed, 0, "subscriber {i}");
            assert_eq!(st.packets_dropped, 0, "subscriber {i}: {st:?}");
            assert!(!s.assembler.needs_keyframe(), "subscriber {i}");
        }
    }
}

#[test]
fn subscribers_settle_on_the_layer_that_fits_and_follow_their_estimate() {
    let mut run = Run::new(&[300_000, 1_000_000, 5_000_000]);
    run.run_until(5.0);
    let layers: Vec<_> = run.forwarders.iter().map(|f| f.current_layer()).collect();
    let decoded: Vec<_> = run.subscribers.iter().map(|s| s.layer()).collect();
    let settled: Vec<_> = (0..3).map(|i| run.last_switch(i)).collect();
    println!("at 5 s: layers {layers:?}, decoded {decoded:?}, last switch at {settled:?} s");
    assert_eq!(layers, [Some(0), Some(1), Some(2)]);
    assert_eq!(decoded, [Some(0), Some(1), Some(2)]);
    // Stable: no switch in the next second.
    run.run_until(6.0);
    assert_eq!(
        settled,
        (0..3).map(|i| run.last_switch(i)).collect::<Vec<_>>()
    );

    // Estimates rise: 0.3 -> 1 and 1 -> 5 Mbit/s.
    run.estimates = vec![1_000_000, 5_000_000, 5_000_000];
    run.run_until(11.0);
    let layers: Vec<_> = run.forwarders.iter().map(|f| f.current_layer()).collect();
    let moved: Vec<_> = (0..2).map(|i| run.last_switch(i).unwrap() - 6.0).collect();
    println!("after the rise: layers {layers:?}, moved up after {moved:?} s");
    assert_eq!(layers, [Some(1), Some(2), Some(2)]);
    assert_eq!(run.subscribers[0].layer(), Some(1));
    assert_eq!(run.subscribers[1].layer(), Some(2));

    // The third falls to 0.3 Mbit/s: down promptly (within half a second).
    run.estimates[2] = 300_000;
    run.run_until(11.5);
    let down = run.last_switch(2).unwrap() - 11.0;
    println!("down after {down:.3} s");
    assert_eq!(run.forwarders[2].current_layer(), Some(0));
    assert_eq!(run.subscribers[2].layer(), Some(0));

    run.check_stream();
    let switches: Vec<_> = run
        .forwarders
        .iter()
        .map(|f| f.stats().layer_switches)
        .collect();
    let requests: Vec<_> = run
        .forwarders
        .iter()
        .map(|f| f.stats().keyframe_requests)
        .collect();
    println!("switches {switches:?}, key-frame requests {requests:?}");
    for f in &run.forwarders {
        assert_eq!(f.stats().switches_abandoned, 0);
    }
    // Some switches began while the old layer's frame was unfinished (the layers' packets
    // are interleaved): those waited for its end, and the stream stayed whole.
    let deferred: u64 = run
        .forwarders
        .iter()
        .map(|f| f.stats().switches_deferred)
        .sum();
    println!("deferred switches {deferred}");
    assert!(deferred > 0);
}
