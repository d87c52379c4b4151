//! Probe results: the rate a probe cluster got through, from the feedback on its packets.
//!
//! Each pair of consecutive packets tells one of two stories. If the second arrived
//! later after the first than it was sent, it waited for the first at the bottleneck:
//! the bottleneck was busy, and the gap is that packet's transmission time there, so
//! `size / gap` is the bottleneck's rate (packet-pair dispersion). Otherwise the
//! bottleneck had room. When most pairs waited, the result is the rate over the waiting
//! pairs, with a small margin (cross traffic shares the link); otherwise it is the rate
//! the cluster was sent at, which the path carried. Looking at pairs rather than at the
//! cluster's first and last packet matters because a cluster mixes sizes (queued media
//! first, then padding): a large first packet holds the bottleneck while the small ones
//! behind it catch up, which makes the spans of a saturated cluster look unsaturated.

use crate::event::ProbeCluster;
use crate::input::ProbeClusterId;
use crate::time::{Micros, SEC};

/// Clusters tracked at once (the oldest is forgotten).
const SLOTS: usize = 8;
/// Fraction of the cluster's packets and bytes that must arrive for a result.
const MIN_RECEIVED_RATIO: f64 = 0.8;
/// Intervals longer than this are not a probe any more.
const MAX_INTERVAL: Micros = SEC;
/// A pair waited when its arrival gap exceeds its send gap by this factor plus the
/// slack (timestamp resolution).
const WAIT_FACTOR: f64 = 1.1;
const WAIT_SLACK: Micros = 250;
/// The saturated result is this fraction of the measured bottleneck rate.
const SATURATED_MARGIN: f64 = 0.95;

#[derive(Debug, Clone, Copy)]
struct Stats {
    id: ProbeClusterId,
    min_probes: u32,
    min_bytes: u64,
    packets: u32,
    bytes: u64,
    first_send: Micros,
    last_send: Micros,
    last_send_size: u32,
    /// The previous packet (send, arrival), in send order.
    prev: Option<(Micros, Micros)>,
    pairs: u32,
    /// Pairs that waited, their bytes and their arrival gaps.
    waited: u32,
    waited_bytes: u64,
    waited_time: Micros,
}

/// Measures probe clusters.
#[derive(Debug, Default)]
pub(crate) struct ProbeEstimator {
    slots: [Option<Stats>; SLOTS],
    next: usize,
}

impl ProbeEstimator {
    /// Remembers a cluster the controller asked for.
    pub(crate) fn register(&mut self, c: &ProbeCluster) {
        self.slots[self.next % SLOTS] = Some(Stats {
            id: c.id,
            min_probes: c.min_probes,
            min_bytes: c.min_bytes as u64,
            packets: 0,
            bytes: 0,
            first_send: Micros::MAX,
            last_send: Micros::MIN,
            last_send_size: 0,
            prev: None,
            pairs: 0,
            waited: 0,
            waited_bytes: 0,
            waited_time: 0,
        });
        self.next = (self.next + 1) % SLOTS;
    }

    /// A probe packet arrived (packets come in arrival order); returns the cluster's
    /// result (bit/s) once it has one.
    pub(crate) fn on_packet(
        &mut self,
        id: ProbeClusterId,
        send: Micros,
        arrival: Micros,
        size: u32,
    ) -> Option<f64> {
        let s = self.slots.iter_mut().flatten().find(|s| s.id == id)?;
        s.packets += 1;
        s.bytes = s.bytes.saturating_add(u64::from(size));
        s.first_send = s.first_send.min(send);
        if send >= s.last_send {
            s.last_send = send;
            s.last_send_size = size;
        }
        match s.prev {
            Some((ps, pa)) if send > ps && arrival >= pa => {
                let (send_gap, arrival_gap) = (send.saturating_sub(ps), arrival.saturating_sub(pa));
                s.pairs += 1;
                if arrival_gap as f64 > WAIT_FACTOR * send_gap as f64 + WAIT_SLACK as f64 {
                    s.waited += 1;
                    s.waited_bytes = s.waited_bytes.saturating_add(u64::from(size));
                    s.waited_time = s.waited_time.saturating_add(arrival_gap);
                }
                s.prev = Some((send, arrival));
            }
            // Reordered: not a pair.
            Some(_) => {}
            None => s.prev = Some((send, arrival)),
        }
        if f64::from(s.packets) < MIN_RECEIVED_RATIO * f64::from(s.min_probes)
            || (s.bytes as f64) < MIN_RECEIVED_RATIO * s.min_bytes as f64
        {
            return None;
        }
        let send_interval = s.last_send.saturating_sub(s.first_send);
        if !(1..=MAX_INTERVAL).contains(&send_interval) || s.pairs == 0 {
            return None;
        }
        if 2 * s.waited >= s.pairs && (1..=MAX_INTERVAL).contains(&s.waited_time) {
            return Some(SATURATED_MARGIN * s.waited_bytes as f64 * 8e6 / s.waited_time as f64);
        }
        // Packet k of a cluster is sent (bytes before it) / rate after the first, so the
        // last packet's bytes do not count towards the send interval.
        Some((s.bytes - u64::from(s.last_send_size)) as f64 * 8e6 / send_interval as f64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Bitrate;
    use crate::time::MS;

    fn cluster(id: u32) -> ProbeCluster {
        ProbeCluster {
            id: ProbeClusterId(id),
            bitrate: Bitrate::from_kbps(4000),
            min_probes: 5,
            min_bytes: 7500,
        }
    }

    #[test]
    fn saturated_probe_reports_the_bottleneck() {
        let mut p = ProbeEstimator::default();
        p.register(&cluster(1));
        // 1000-byte packets every 2 ms (4 Mbit/s) through a 2 Mbit/s bottleneck (4 ms each).
        let mut result = None;
        for i in 0..10 {
            result = p
                .on_packet(ProbeClusterId(1), i * 2 * MS, 50 * MS + i * 4 * MS, 1000)
                .or(result);
        }
        let r = result.expect("result");
        assert!((r - 0.95 * 2e6).abs() < 1e3, "{r}");
        assert_eq!(
            p.on_packet(ProbeClusterId(9), 0, 0, 1000),
            None,
            "unknown cluster"
        );
    }

    #[test]
    fn a_large_first_packet_does_not_hide_saturation() {
        let mut p = ProbeEstimator::default();
        p.register(&ProbeCluster {
            id: ProbeClusterId(3),
            bitrate: Bitrate::from_kbps(900),
            min_probes: 5,
            min_bytes: 1688,
        });
        // A 1078-byte media packet, then 225-byte padding 2 ms apart, through 400 kbit/s
        // (the first takes 21.6 ms there, each padding packet 4.5 ms).
        let sends = [0, 9_584, 11_584, 13_584, 15_584];
        let mut result = None;
        let mut free = 0;
        for (i, &send) in sends.iter().enumerate() {
            let size = if i == 0 { 1078 } else { 225 };
            let arrival = free.max(send) + i64::from(size) * 8_000_000 / 400_000;
            free = arrival;
            result = p
                .on_packet(ProbeClusterId(3), send, arrival, size)
                .or(result);
        }
        let r = result.expect("result");
        assert!((r - 0.95 * 400_000.0).abs() < 1e3, "{r}");
    }

    #[test]
    fn mixed_sizes_on_a_fast_path_report_the_send_rate() {
        let mut p = ProbeEstimator::default();
        p.register(&ProbeCluster {
            id: ProbeClusterId(4),
            bitrate: Bitrate::from_kbps(900),
            min_probes: 5,
            min_bytes: 1688,
        });
        let sends = [0, 9_584, 11_584, 13_584, 15_584];
        let mut result = None;
        for (i, &send) in sends.iter().enumerate() {
            let size = if i == 0 { 1078 } else { 225 };
            result = p
                .on_packet(ProbeClusterId(4), send, send + 30 * MS, size)
                .or(result);
        }
        let r = result.expect("result");
        assert!((r - 900_000.0).abs() < 2e3, "{r}");
    }

    #[test]
    fn unsaturated_probe_reports_its_own_rate() {
        let mut p = ProbeEstimator::default();
        p.register(&cluster(2));
        let mut result = None;
        for i in 0..10 {
            result = p
                .on_packet(ProbeClusterId(2), i * 2 * MS, 50 * MS + i * 2 * MS, 1000)
                .or(result);
        }
        let r = result.expect("result");
        assert!((r - 4e6).abs() < 1e3, "{r}");
    }
}
