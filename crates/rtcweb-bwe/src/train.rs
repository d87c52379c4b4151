//! Packet trains: the pacer sends each frame as a run of packets at the pacing rate
//! (2.5 times the target, the first few back to back within the burst budget), and the
//! way such a run arrives says where the bottleneck is. Packets that queue at a
//! bottleneck slower than the run leave it spaced by their transmission time, so the
//! run's arrival rate is the bottleneck's rate (packet-pair dispersion); a run slower
//! than the bottleneck arrives at its own rate. Either way the arrival rate is a lower
//! bound of what the path carries when nothing else is queued there. Near the capacity
//! it is close to the estimate; when every recent run arrives well above the estimate,
//! the capacity has grown (or was never measured) and a probe will find out how much.
//! This costs nothing (the runs are the media itself) and triggers a probe only on
//! evidence; AIMD alone would take many seconds of 8 % steps after a capacity increase.

use crate::time::Micros;

/// A run needs at least this many packets to say anything.
const MIN_PACKETS: u32 = 3;
/// Runs in the decision window.
const WINDOW: usize = 5;
/// A hint needs every run of the window to arrive at this multiple of the estimate or
/// more. Runs see the bottleneck's full rate whenever no other flow's packets are queued
/// with them, so a flow with half of a shared bottleneck sees twice its estimate; a
/// factor of 2 keeps such a flow from probing (a smaller one may, which evens shares out).
const HINT_FACTOR: f64 = 2.0;

#[derive(Debug, Clone, Copy)]
struct Run {
    last_seq: u64,
    first_arrival: Micros,
    last_arrival: Micros,
    bytes: u64,
    first_size: u32,
    packets: u32,
}

/// Tracks packet runs in the feedback.
#[derive(Debug, Default)]
pub(crate) struct TrainDetector {
    run: Option<Run>,
    /// Arrival rates of the last runs, bit/s.
    samples: [f64; WINDOW],
    count: usize,
}

impl TrainDetector {
    /// A received packet, in arrival order; `continues` says it was sent right behind
    /// packet `seq - 1` at the pacing rate.
    pub(crate) fn on_packet(&mut self, seq: u64, arrival: Micros, size: u32, continues: bool) {
        if let Some(r) = self.run.as_mut()
            && continues
            && seq == r.last_seq.wrapping_add(1)
            && arrival >= r.last_arrival
        {
            r.last_seq = seq;
            r.last_arrival = arrival;
            r.bytes = r.bytes.saturating_add(u64::from(size));
            r.packets += 1;
            return;
        }
        self.finish();
        self.run = Some(Run {
            last_seq: seq,
            first_arrival: arrival,
            last_arrival: arrival,
            bytes: u64::from(size),
            first_size: size,
            packets: 1,
        });
    }

    /// Whether the recent runs show the path carries well above `estimate` (bit/s);
    /// returns the slowest of those runs' arrival rates and starts over.
    pub(crate) fn capacity_hint(&mut self, estimate: f64) -> Option<f64> {
        if self.count < WINDOW {
            return None;
        }
        let slowest = self.samples.iter().copied().fold(f64::INFINITY, f64::min);
        if slowest < HINT_FACTOR * estimate {
            return None;
        }
        self.count = 0;
        Some(slowest)
    }

    /// Forgets the runs seen so far (the estimate jumped, or the sender was limited).
    pub(crate) fn reset(&mut self) {
        self.count = 0;
        self.run = None;
    }

    fn finish(&mut self) {
        let Some(r) = self.run.take() else { return };
        let recv_span = r.last_arrival.saturating_sub(r.first_arrival);
        if r.packets < MIN_PACKETS || recv_span <= 0 {
            return;
        }
        // The first arrival marks the end of the first packet's transmission: its bytes
        // are not part of the span.
        let rate = (r.bytes - u64::from(r.first_size)) as f64 * 8e6 / recv_span as f64;
        self.samples[self.count % WINDOW] = rate;
        self.count += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::MS;

    /// Runs of 5 packets of 1000 bytes sent 4 ms apart (2 Mbit/s) over a bottleneck
    /// that takes `tx` per packet.
    fn feed(t: &mut TrainDetector, runs: u64, tx: Micros) {
        let mut seq = 0;
        for r in 0..runs as i64 {
            let base = r * 33 * MS;
            let mut free = 0;
            for i in 0..5 {
                let send = base + i * 4 * MS;
                let arrival = free.max(send) + tx;
                free = arrival;
                t.on_packet(seq, arrival + 20 * MS, 1000, i > 0);
                seq += 1;
            }
        }
    }

    #[test]
    fn runs_arrive_at_the_slower_of_their_rate_and_the_bottleneck() {
        let mut t = TrainDetector::default();
        feed(&mut t, 7, MS); // 8 Mbit/s bottleneck: the runs arrive at their 2 Mbit/s
        assert!(
            t.capacity_hint(1.5e6).is_none(),
            "runs near the estimate say nothing"
        );
        let hint = t.capacity_hint(1e6).expect("hint");
        assert!((hint - 2e6).abs() < 1e3, "{hint}");
        let mut t = TrainDetector::default();
        feed(&mut t, 7, 10 * MS); // 0.8 Mbit/s bottleneck: they arrive at 0.8
        assert!(t.capacity_hint(0.6e6).is_none());
        let hint = t.capacity_hint(0.4e6).expect("hint");
        assert!((hint - 0.8e6).abs() < 1e3, "{hint}");
    }
}
