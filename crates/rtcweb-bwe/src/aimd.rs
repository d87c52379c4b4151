//! The rate controller (draft-ietf-rmcat-gcc-02 section 5.5): additive-increase /
//! multiplicative-decrease driven by the over-use signal.
//!
//! - Over-use: decrease to what is actually getting through (the delivery rate) times a
//!   factor that drains the standing queue the one-way delay shows within 200 ms: 0.9
//!   for the 10-20 ms a steady-state over-use leaves on a fast link, 0.85 for the 30 ms
//!   it leaves on a slow one (where the detector needs longer to see a trend), down to 0.4
//!   for a queue of 120 ms or more (a capacity drop). After a deep decrease the rate rises
//!   as the queue shrinks and is back at 0.9 of the delivery rate once it is drained.
//! - Under-use (the queue is draining): hold, so the drain is not disturbed.
//! - Normal: increase. Multiplicatively (8 % per second) while the capacity is unknown or
//!   was left behind; additively (one average packet of a frame per response time) near
//!   the capacity measured at the last over-uses ([`LinkCapacity`]).
//!
//! An increase never takes the estimate above 1.5 times the acknowledged rate (plus a
//! little), and none happens while the sender is application limited: an estimate that
//! was never exercised is not evidence of capacity.

use crate::link_capacity::LinkCapacity;
use crate::overuse::Usage;
use crate::time::{MS, Micros, SEC};

/// Multiplicative decrease factor when the standing queue is small (draft section 5.5:
/// beta in [0.8, 0.95]). libwebrtc uses 0.85 whatever the queue; here a larger queue
/// deepens the cut (see [`drain_beta`]), so the plain factor can be 0.9: the sawtooth
/// loses less (about 95 % utilisation against 92 % on the simulated link). A plain 0.85
/// was tried against the 400 kbit/s queue below and slowed the use of a capacity rise
/// (70 % of 2.5 Mbit/s received 2-3 s after it, against the 80 % asserted).
pub(crate) const BETA: f64 = 0.9;
/// Deepest decrease when draining a standing queue.
const MIN_DRAIN_BETA: f64 = 0.4;
/// Time a standing queue should take to drain after a decrease. Side by side with
/// Chromium on a 400 kbit/s link (suite 71), 300 ms kept a mean queue of 28-30 ms against
/// Chromium's 13-16 ms; 200 ms, 26 ms against 17-18 ms, at 95-96 % utilisation against
/// Chromium's 90 %.
const DRAIN_TIME: Micros = 200 * MS;
/// After a deep (draining) decrease, the rate rises with the shrinking queue and is back
/// at the plain decrease level once the standing queue is below this...
const DRAINED_QUEUE: Micros = 20 * MS;
/// ...or this long after the decrease, whichever comes first.
const DRAIN_WINDOW: Micros = 2 * SEC;
/// Multiplicative increase per second (draft section 5.5: eta = 1.08).
const ETA: f64 = 1.08;
/// Assumed delay of the over-use detector's reaction, added to the RTT for the additive
/// increase step.
const DETECTOR_DELAY: Micros = 100 * MS;
/// Lowest additive increase, bit/s per second.
const MIN_ADDITIVE: f64 = 4_000.0;
/// Packet size and frame rate for the additive increase: one packet per response time,
/// the average packet of a frame cut into packets of at most this size (as libwebrtc
/// does). At 2.5 Mbit/s that is nearly a full packet; at 400 kbit/s a frame is two
/// 833-byte packets, so the rate climbs 30 % slower than with full packets and the
/// sawtooth spends less time above the capacity of a slow link.
const PACKET_BYTES: f64 = 1200.0;
const FRAME_RATE: f64 = 30.0;
/// Increase cap above the acknowledged rate: 1.5x plus 10 kbit/s (draft section 5.5).
const ACKED_FACTOR: f64 = 1.5;
const ACKED_SLACK: f64 = 10_000.0;
/// Before any acknowledged rate exists an over-use halves the estimate at most this often.
const INITIAL_BACKOFF: Micros = 200 * MS;

/// The rate controller's own state (draft section 5.5, figure 2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Hold,
    Increase,
    Decrease,
}

/// AIMD rate control.
#[derive(Debug)]
pub(crate) struct Aimd {
    current: f64,
    min: f64,
    max: f64,
    state: State,
    link: LinkCapacity,
    last_change: Option<Micros>,
    last_decrease: Option<Micros>,
    rtt: Micros,
    in_alr: bool,
    /// While draining a standing queue: the delivery rate at the decrease, and when.
    drain: Option<(f64, Micros)>,
}

impl Aimd {
    /// A controller starting at `start` bit/s, clamped to `[min, max]`.
    pub(crate) fn new(start: f64, min: f64, max: f64) -> Self {
        Self {
            current: start.clamp(min, max),
            min,
            max,
            state: State::Hold,
            link: LinkCapacity::default(),
            last_change: None,
            last_decrease: None,
            rtt: 200 * MS,
            in_alr: false,
            drain: None,
        }
    }

    /// The estimate, bit/s.
    pub(crate) fn estimate(&self) -> f64 {
        self.current
    }

    /// New bounds (the estimate is clamped into them).
    pub(crate) fn set_bounds(&mut self, min: f64, max: f64) {
        self.min = min;
        self.max = max;
        self.current = self.current.clamp(min, max);
    }

    /// The round-trip time (sets the decrease interval and the additive step).
    pub(crate) fn set_rtt(&mut self, rtt: Micros) {
        self.rtt = rtt.max(MS);
    }

    /// Whether the sender is application limited.
    pub(crate) fn set_alr(&mut self, in_alr: bool) {
        self.in_alr = in_alr;
    }

    /// The link capacity estimate, bit/s.
    pub(crate) fn link_capacity(&self) -> Option<f64> {
        self.link.estimate()
    }

    /// Sets the estimate directly (a probe result or the start rate). Only raises it.
    pub(crate) fn raise_to(&mut self, bps: f64, now: Micros) {
        if bps > self.current {
            self.current = bps.clamp(self.min, self.max);
            self.last_change = Some(now);
            self.link.on_probe(bps);
            self.drain = None;
        }
    }

    /// Sets the estimate to `bps` (a cut for lack of feedback, an RTCP loss decrease or
    /// growth, a new start rate).
    pub(crate) fn scale_to(&mut self, now: Micros, bps: f64) {
        if bps.is_finite() {
            self.current = bps.clamp(self.min, self.max);
            self.last_change = Some(now);
            self.drain = None;
        }
    }

    /// An over-use was detected while `delivered` bit/s got through (None before the
    /// first measurement) and the standing queue is `queue`.
    pub(crate) fn on_overuse(&mut self, now: Micros, delivered: Option<f64>, queue: Micros) {
        let Some(delivered) = delivered else {
            // No measurement yet: halve, but give each halving time to show.
            if self
                .last_decrease
                .is_none_or(|t| now.saturating_sub(t) >= INITIAL_BACKOFF)
            {
                self.set_decreased(self.current / 2.0, now);
            }
            return;
        };
        if !self.time_to_reduce(now, delivered) {
            return;
        }
        self.state = State::Decrease;
        let drain_beta = drain_beta(queue);
        let mut new = drain_beta * delivered;
        if new > self.current {
            // Never increase on an over-use; fall back to the capacity estimate.
            new = self.link.estimate().map_or(self.current, |c| BETA * c);
            new = new.min(self.current);
        }
        if delivered < self.link.lower() {
            // Far below the known capacity: the path changed, start learning it anew.
            self.link.reset();
        }
        self.link.on_overuse(delivered);
        if drain_beta < BETA {
            self.drain = Some((delivered, now));
        } else if new < self.current {
            // A plain decrease ends any drain; an over-use signal that finds the rate
            // already below the plain level (the queue is still draining) does not.
            self.drain = None;
        }
        self.set_decreased(new, now);
    }

    /// The detector reports `usage` (normal or under-use); `acked` is the filtered
    /// acknowledged rate and `queue` the standing queue.
    pub(crate) fn on_usage(
        &mut self,
        now: Micros,
        usage: Usage,
        acked: Option<f64>,
        queue: Micros,
    ) {
        if usage == Usage::Over {
            return;
        }
        if let Some((capacity, at)) = self.drain {
            // Draining: as the queue shrinks the rate rises back towards the plain
            // decrease level, which it reaches once the queue is gone.
            let beta = if queue < DRAINED_QUEUE {
                BETA
            } else {
                drain_beta(queue)
            };
            let rate = (beta * capacity).clamp(self.min, self.max);
            if rate > self.current {
                self.current = rate;
            }
            if queue < DRAINED_QUEUE || now.saturating_sub(at) > DRAIN_WINDOW {
                self.drain = None;
            }
            self.state = State::Hold;
            self.last_change = Some(now);
            return;
        }
        if usage == Usage::Under {
            self.state = State::Hold;
            return;
        }
        if self.state != State::Increase {
            self.state = State::Increase;
            self.last_change = Some(now);
        }
        let last = self.last_change.unwrap_or(now);
        let dt = now.saturating_sub(last).clamp(0, SEC) as f64 / SEC as f64;
        self.last_change = Some(now);
        if self.in_alr {
            return;
        }
        if let Some(acked) = acked
            && acked > self.link.upper()
        {
            self.link.reset();
        }
        let increased = if self.link.estimate().is_some() {
            self.current + self.additive_rate() * dt
        } else {
            self.current + (self.current * (ETA.powf(dt) - 1.0)).max(1000.0 * dt)
        };
        let cap = acked.map_or(f64::INFINITY, |a| ACKED_FACTOR * a + ACKED_SLACK);
        let new = increased.min(cap.max(self.current));
        self.current = new.clamp(self.min, self.max);
    }

    fn set_decreased(&mut self, bps: f64, now: Micros) {
        self.current = bps.clamp(self.min, self.max);
        self.state = State::Hold;
        self.last_change = Some(now);
        self.last_decrease = Some(now);
    }

    /// A further decrease waits until the last one can show in the feedback (one RTT plus
    /// the detector's delay, clamped to 100..300 ms), unless the rate got through is less
    /// than half the estimate. Deciding again sooner sees the same queue and cuts twice.
    fn time_to_reduce(&self, now: Micros, delivered: f64) -> bool {
        let interval = (self.rtt + DETECTOR_DELAY).clamp(100 * MS, 300 * MS);
        self.last_decrease
            .is_none_or(|t| now.saturating_sub(t) >= interval)
            || delivered < 0.5 * self.current
    }

    /// Whether a standing queue is being drained.
    pub(crate) fn draining(&self) -> bool {
        self.drain.is_some()
    }

    /// Bits per second gained per second near the capacity: one average packet of a
    /// frame per response time (RTT plus the detector's delay).
    fn additive_rate(&self) -> f64 {
        let frame_bytes = self.current / 8.0 / FRAME_RATE;
        let packets = (frame_bytes / PACKET_BYTES).ceil().max(1.0);
        let packet_bits = frame_bytes / packets * 8.0;
        let response = (self.rtt + DETECTOR_DELAY) as f64 / SEC as f64;
        (packet_bits / response).max(MIN_ADDITIVE)
    }
}

/// The decrease factor that drains a standing queue of `queue` within [`DRAIN_TIME`]:
/// sending at `(1 - queue / DRAIN_TIME)` of the capacity frees exactly that.
fn drain_beta(queue: Micros) -> f64 {
    (1.0 - queue as f64 / DRAIN_TIME as f64).clamp(MIN_DRAIN_BETA, BETA)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normal_increases_multiplicatively_then_over_use_decreases() {
        let mut a = Aimd::new(1e6, 1e4, 1e8);
        a.set_rtt(50 * MS);
        let mut t = 0;
        a.on_usage(t, Usage::Normal, None, 0);
        for _ in 0..10 {
            t += 100 * MS;
            a.on_usage(t, Usage::Normal, None, 0);
        }
        // 8 % per second.
        assert!((a.estimate() - 1.08e6).abs() < 1e3, "{}", a.estimate());
        t += 100 * MS;
        a.on_overuse(t, Some(1.0e6), 10 * MS);
        assert!((a.estimate() - BETA * 1.0e6).abs() < 1.0);
        // Near the now known capacity the increase is additive and slow.
        t += 100 * MS;
        a.on_usage(t, Usage::Normal, Some(BETA * 1.0e6), 0);
        let before = a.estimate();
        t += SEC;
        a.on_usage(t, Usage::Normal, Some(BETA * 1.0e6), 0);
        let gain = a.estimate() - before;
        assert!(gain > 20_000.0 && gain < 80_000.0, "{gain}");
    }

    #[test]
    fn a_large_queue_drains_then_the_rate_returns() {
        let mut a = Aimd::new(2.3e6, 1e4, 1e8);
        a.set_rtt(50 * MS);
        a.on_overuse(SEC, Some(0.8e6), 160 * MS);
        assert!((a.estimate() - 0.4 * 0.8e6).abs() < 1.0, "{}", a.estimate());
        assert!(a.draining());
        // Half drained: half way back.
        a.on_usage(SEC + 200 * MS, Usage::Under, Some(0.8e6), 80 * MS);
        assert!((a.estimate() - 0.6 * 0.8e6).abs() < 1.0, "{}", a.estimate());
        a.on_usage(SEC + 400 * MS, Usage::Normal, Some(0.8e6), 5 * MS);
        assert!(
            (a.estimate() - BETA * 0.8e6).abs() < 1.0,
            "{}",
            a.estimate()
        );
        assert!(!a.draining());
    }

    #[test]
    fn no_increase_when_application_limited_or_above_the_acked_rate() {
        let mut a = Aimd::new(1e6, 1e4, 1e8);
        a.set_alr(true);
        a.on_usage(0, Usage::Normal, Some(0.2e6), 0);
        a.on_usage(SEC, Usage::Normal, Some(0.2e6), 0);
        assert_eq!(a.estimate(), 1e6);
        a.set_alr(false);
        let mut b = Aimd::new(0.1e6, 1e4, 1e8);
        for i in 0..100 {
            b.on_usage(i * 100 * MS, Usage::Normal, Some(0.1e6), 0);
        }
        assert!((b.estimate() - 0.16e6).abs() < 1.0, "{}", b.estimate());
    }
}
