//! The delay-based controller (draft-ietf-rmcat-gcc-02 section 5): arrivals are grouped,
//! the trend of the inter-group delay variation is compared with the adaptive threshold,
//! and the verdict drives the AIMD rate control. Probe results raise the estimate
//! directly. Besides the variation (which only sees a queue that changes), it keeps the
//! one-way delay's recent minimum, so a decrease knows how large a queue it has to drain.

use crate::aimd::Aimd;
use crate::inter_arrival::InterArrival;
use crate::overuse::{OveruseDetector, Usage};
use crate::time::{Micros, SEC};
use crate::trendline::Trendline;

/// The one-way delay minimum is taken over the current and the previous epoch of this
/// length (so over 5 to 10 s): long enough to include a moment with an empty queue, short
/// enough that clock drift between the two ends (say 100 ppm: 1 ms in 10 s) stays small.
const MIN_EPOCH: Micros = 5 * SEC;

/// The delay-based estimator.
#[derive(Debug)]
pub(crate) struct DelayBased {
    inter_arrival: InterArrival,
    trendline: Trendline,
    detector: OveruseDetector,
    pub(crate) aimd: Aimd,
    /// The detector's state at the end of the last batch, and whether it said over-use
    /// anywhere in the current batch.
    usage: Usage,
    over_in_batch: bool,
    /// One-way delay (receiver clock minus sender clock, so with an unknown offset):
    /// minimum of this epoch and of the previous one, and the epoch's start.
    owd_min: (Option<Micros>, Option<Micros>),
    epoch_start: Option<Micros>,
    /// Smallest one-way delay in the current batch.
    batch_min: Option<Micros>,
    queue: Micros,
}

impl DelayBased {
    /// A delay-based estimator around `aimd`.
    pub(crate) fn new(aimd: Aimd) -> Self {
        Self {
            inter_arrival: InterArrival::default(),
            trendline: Trendline::default(),
            detector: OveruseDetector::default(),
            aimd,
            usage: Usage::Normal,
            over_in_batch: false,
            owd_min: (None, None),
            epoch_start: None,
            batch_min: None,
            queue: 0,
        }
    }

    /// A packet sent at `send` (sender clock) arrived at `arrival` (receiver clock).
    /// Packets of one report must come in arrival order.
    pub(crate) fn on_packet(&mut self, send: Micros, arrival: Micros) {
        let owd = arrival.saturating_sub(send);
        self.batch_min = Some(self.batch_min.map_or(owd, |m| m.min(owd)));
        let Some(delta) = self.inter_arrival.add(send, arrival) else {
            return;
        };
        if let Some(trend) = self.trendline.update(&delta) {
            self.usage = self.detector.detect(
                trend,
                self.trendline.deltas(),
                delta.send_delta,
                delta.arrival,
            );
            self.over_in_batch |= self.usage == Usage::Over;
        }
    }

    /// The end of a report at `now` (the controller's clock: the sender's on the send side,
    /// the receiver's in the remote estimator): updates the rate. `delivered` is the
    /// recent delivery rate, `acked` the filtered acknowledged rate, `probe` a probe
    /// result completed by this report.
    pub(crate) fn on_report(
        &mut self,
        now: Micros,
        delivered: Option<f64>,
        acked: Option<f64>,
        probe: Option<f64>,
    ) {
        self.update_queue(now);
        let over = std::mem::take(&mut self.over_in_batch);
        if over || self.usage == Usage::Over {
            self.aimd.on_overuse(now, delivered.or(acked), self.queue);
        } else if let Some(p) = probe {
            self.aimd.raise_to(p, now);
        } else {
            self.aimd.on_usage(now, self.usage, acked, self.queue);
        }
    }

    /// Whether the detector said over-use since the last report (a receive-side caller
    /// reports at once then, instead of waiting for its next periodic update).
    pub(crate) fn overuse_pending(&self) -> bool {
        self.over_in_batch
    }

    /// The standing queue at the last report: how far the smallest one-way delay in it was
    /// above the recent minimum.
    pub(crate) fn queue_delay(&self) -> Micros {
        self.queue
    }

    /// The detector's last verdict.
    #[cfg(test)]
    pub(crate) fn usage(&self) -> Usage {
        self.usage
    }

    fn update_queue(&mut self, now: Micros) {
        let Some(batch) = self.batch_min.take() else {
            return;
        };
        let start = *self.epoch_start.get_or_insert(now);
        if now.saturating_sub(start) >= MIN_EPOCH || now < start {
            self.owd_min = (None, self.owd_min.0);
            self.epoch_start = Some(now);
        }
        let cur = self.owd_min.0.map_or(batch, |m| m.min(batch));
        self.owd_min.0 = Some(cur);
        let min = self.owd_min.1.map_or(cur, |p| p.min(cur));
        self.queue = batch.saturating_sub(min).max(0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::MS;

    /// Sends `rate` bit/s of 1000-byte packets over a `capacity` bottleneck for `dur`,
    /// with a report every 50 ms; returns the estimate.
    fn run(d: &mut DelayBased, t0: Micros, dur: Micros, rate: f64, capacity: f64) -> Micros {
        let gap = (8000.0 / rate * 1e6) as Micros;
        let tx = (8000.0 / capacity * 1e6) as Micros;
        let mut t = t0;
        let mut link_free = t0;
        let mut next_report = t0 + 50 * MS;
        let mut delivered = 0.0;
        while t < t0 + dur {
            let arrival = link_free.max(t) + tx;
            link_free = arrival;
            d.on_packet(t, arrival + 20 * MS);
            delivered += 8000.0;
            t += gap;
            if t >= next_report {
                let rate = (delivered / 0.05f64).min(capacity);
                d.on_report(t, Some(rate), Some(rate), None);
                delivered = 0.0;
                next_report += 50 * MS;
            }
        }
        t
    }

    #[test]
    fn sending_above_capacity_is_detected_and_backed_off() {
        let mut d = DelayBased::new(Aimd::new(2e6, 1e4, 1e8));
        let t = run(&mut d, 0, 2 * SEC, 1e6, 2e6);
        assert_eq!(d.usage(), Usage::Normal);
        assert!(d.aimd.estimate() >= 2e6);
        assert_eq!(d.queue_delay(), 0);
        // 1.5 Mbit/s into 1 Mbit/s: over-use within a few hundred ms.
        run(&mut d, t, 300 * MS, 1.5e6, 1e6);
        assert!(d.aimd.estimate() < 1e6, "{}", d.aimd.estimate());
        assert!(d.queue_delay() > 20 * MS, "{}", d.queue_delay());
    }
}
