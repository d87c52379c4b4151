//! Pre-filtering of arrivals into groups (draft-ietf-rmcat-gcc-02 section 5.2): packets
//! sent within one burst interval form a group, and the delay-based estimator only looks at
//! the variation between consecutive groups. This hides the spread a pacer or the
//! sender's own burst creates inside a frame, and a burst that a wireless link or a
//! receiver's batching delivers at once (arrival later than the send spacing predicts,
//! then several packets arriving together).

use crate::time::{MS, Micros, SEC};

/// Packets sent within this time of a group's first packet belong to it.
const BURST_INTERVAL: Micros = 5 * MS;
/// A packet that arrives within this time of the group's last arrival, earlier than its
/// send spacing predicts, is part of a delivery burst and joins the group...
const BURST_ARRIVAL: Micros = 5 * MS;
/// ...as long as the group does not last longer than this in arrival time.
const MAX_BURST_DURATION: Micros = 100 * MS;
/// A jump of the receiver clock against the sender clock larger than this restarts
/// the grouping (the receiver restarted or its clock stepped).
const CLOCK_JUMP: Micros = 3 * SEC;
/// After this many consecutive groups arriving before their predecessor, start over.
const REORDER_RESET: u32 = 3;

/// The variation between two consecutive groups (draft section 5.3: `t(i) - t(i-1)` and
/// `T(i) - T(i-1)`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct GroupDelta {
    /// Difference of the groups' last send times (sender clock).
    pub(crate) send_delta: Micros,
    /// Difference of the groups' last arrival times (receiver clock).
    pub(crate) arrival_delta: Micros,
    /// Last arrival of the newer group (receiver clock).
    pub(crate) arrival: Micros,
}

#[derive(Debug, Clone, Copy)]
struct Group {
    first_send: Micros,
    last_send: Micros,
    first_arrival: Micros,
    last_arrival: Micros,
}

impl Group {
    fn new(send: Micros, arrival: Micros) -> Self {
        Self {
            first_send: send,
            last_send: send,
            first_arrival: arrival,
            last_arrival: arrival,
        }
    }

    fn belongs(&self, send: Micros, arrival: Micros) -> bool {
        if send.saturating_sub(self.first_send) <= BURST_INTERVAL {
            return true;
        }
        let arrival_delta = arrival.saturating_sub(self.last_arrival);
        let send_delta = send.saturating_sub(self.last_send);
        arrival_delta.saturating_sub(send_delta) < 0
            && arrival_delta <= BURST_ARRIVAL
            && arrival.saturating_sub(self.first_arrival) < MAX_BURST_DURATION
    }
}

/// Groups packets (given in arrival order) and yields the delta of each completed group
/// against the one before.
#[derive(Debug, Default)]
pub(crate) struct InterArrival {
    current: Option<Group>,
    previous: Option<Group>,
    reordered: u32,
}

impl InterArrival {
    /// Adds a received packet; returns a delta when it starts a new group.
    pub(crate) fn add(&mut self, send: Micros, arrival: Micros) -> Option<GroupDelta> {
        let Some(cur) = self.current.as_mut() else {
            self.current = Some(Group::new(send, arrival));
            return None;
        };
        if send < cur.first_send {
            // Sent before the group began but reported after it: too late to place.
            return None;
        }
        if cur.belongs(send, arrival) {
            cur.last_send = cur.last_send.max(send);
            cur.last_arrival = cur.last_arrival.max(arrival);
            return None;
        }
        let done = *cur;
        self.current = Some(Group::new(send, arrival));
        let prev = self.previous.replace(done)?;
        let delta = GroupDelta {
            send_delta: done.last_send.saturating_sub(prev.last_send),
            arrival_delta: done.last_arrival.saturating_sub(prev.last_arrival),
            arrival: done.last_arrival,
        };
        if delta.arrival_delta.saturating_sub(delta.send_delta).abs() > CLOCK_JUMP {
            self.reset_to(done);
            return None;
        }
        if delta.arrival_delta < 0 {
            self.reordered += 1;
            if self.reordered >= REORDER_RESET {
                self.reset_to(done);
            } else {
                // Keep the earlier group as the reference.
                self.previous = Some(prev);
            }
            return None;
        }
        self.reordered = 0;
        Some(delta)
    }

    fn reset_to(&mut self, group: Group) {
        self.previous = Some(group);
        self.reordered = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packets_within_five_ms_form_one_group() {
        let mut ia = InterArrival::default();
        // Group 1: sent 0..4 ms. Group 2: 10..14 ms. Group 3 starts at 20 ms.
        let mut out = Vec::new();
        for g in 0..3 {
            for i in 0..5 {
                let send = g * 10 * MS + i * MS;
                let arrival = 100 * MS + send + g * 2 * MS; // 2 ms more delay per group
                out.extend(ia.add(send, arrival));
            }
        }
        out.extend(ia.add(40 * MS, 150 * MS));
        assert_eq!(out.len(), 2);
        assert_eq!(out[0].send_delta, 10 * MS);
        assert_eq!(out[0].arrival_delta, 12 * MS);
        assert_eq!(out[1].arrival_delta, 12 * MS);
    }

    #[test]
    fn a_delivery_burst_joins_the_group() {
        let mut ia = InterArrival::default();
        assert_eq!(ia.add(0, 1_000 * MS), None);
        // Sent 20 ms later but arriving 1 ms after the first: delivered in one burst.
        assert_eq!(ia.add(20 * MS, 1_001 * MS), None);
        assert_eq!(ia.add(40 * MS, 1_040 * MS), None);
        // The first two formed one group ending at send 20 ms; the third is alone.
        let d = ia.add(80 * MS, 1_080 * MS).expect("delta");
        assert_eq!(d.send_delta, 20 * MS);
        assert_eq!(d.arrival_delta, 39 * MS);
    }

    #[test]
    fn late_packets_and_clock_jumps_are_skipped() {
        let mut ia = InterArrival::default();
        assert!(ia.add(0, 0).is_none());
        assert!(
            ia.add(10 * MS, 10 * MS).is_none(),
            "first group has no predecessor"
        );
        assert_eq!(ia.add(5 * MS, 11 * MS), None, "sent before the group");
        assert!(ia.add(20 * MS, 20 * MS).is_some());
        assert!(ia.add(30 * MS, 30 * MS).is_some());
        // The receiver clock jumps by 10 s: the group before the jump still yields its
        // delta, the one across the jump does not, then all is normal again.
        assert!(ia.add(40 * MS, 10 * SEC).is_some());
        assert!(ia.add(50 * MS, 10 * SEC + 10 * MS).is_none());
        assert!(ia.add(60 * MS, 10 * SEC + 20 * MS).is_some());
    }
}
