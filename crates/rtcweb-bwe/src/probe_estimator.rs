//! Probe results: the rate a probe cluster got through, from the feedback on its packets.
//! A cluster sent at rate `S` that arrives at rate `R` proves the path carries at least
//! `min(S, R)`; when `R` is clearly below `S` the bottleneck was saturated and `R` is
//! close to its capacity (taken with a small margin, since cross traffic shares it).

use crate::event::ProbeCluster;
use crate::input::ProbeClusterId;
use crate::time::{Micros, SEC};

/// Clusters tracked at once (the oldest is forgotten).
const SLOTS: usize = 8;
/// Fraction of the cluster's packets and bytes that must arrive for a result.
const MIN_RECEIVED_RATIO: f64 = 0.8;
/// Intervals longer than this are not a probe any more.
const MAX_INTERVAL: Micros = SEC;
/// Arrivals squeezed into less than half the send interval are a measurement artefact.
const MAX_VALID_RATIO: f64 = 2.0;
/// Arrivals spread over more than the send interval divided by this mean the bottleneck
/// was saturated...
const SATURATED_RATIO: f64 = 0.9;
/// ...and the result is this fraction of the receive rate (cross traffic shares it).
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
    first_arrival: Micros,
    last_arrival: Micros,
    first_arrival_size: u32,
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
            first_arrival: Micros::MAX,
            last_arrival: Micros::MIN,
            first_arrival_size: 0,
        });
        self.next = (self.next + 1) % SLOTS;
    }

    /// A probe packet arrived; returns the cluster's result (bit/s) once it has one.
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
        if send < s.first_send {
            s.first_send = send;
        }
        if send >= s.last_send {
            s.last_send = send;
            s.last_send_size = size;
        }
        if arrival < s.first_arrival {
            s.first_arrival = arrival;
            s.first_arrival_size = size;
        }
        s.last_arrival = s.last_arrival.max(arrival);
        if f64::from(s.packets) < MIN_RECEIVED_RATIO * f64::from(s.min_probes)
            || (s.bytes as f64) < MIN_RECEIVED_RATIO * s.min_bytes as f64
        {
            return None;
        }
        let send_interval = s.last_send.saturating_sub(s.first_send);
        let recv_interval = s.last_arrival.saturating_sub(s.first_arrival);
        if !(1..=MAX_INTERVAL).contains(&send_interval)
            || !(1..=MAX_INTERVAL).contains(&recv_interval)
            || (recv_interval as f64) < send_interval as f64 / MAX_VALID_RATIO
        {
            return None;
        }
        // Packet k of a cluster is sent (size of packets before it) / rate after the first,
        // so the last packet's bytes do not count towards the send interval. Where the
        // bottleneck was saturated, an arrival marks the end of that packet's own
        // transmission, so the first packet's bytes do not count towards the receive
        // interval. Probes mix media and padding sizes, so the two must not be confused.
        let after_first = (s.bytes - u64::from(s.first_arrival_size)) as f64 * 8e6;
        let before_last = (s.bytes - u64::from(s.last_send_size)) as f64 * 8e6;
        let send_rate = before_last / send_interval as f64;
        let saturated = recv_interval as f64 * SATURATED_RATIO > send_interval as f64;
        Some(if saturated {
            SATURATED_MARGIN * after_first / recv_interval as f64
        } else {
            send_rate.min(before_last / recv_interval as f64)
        })
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
