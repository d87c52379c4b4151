//! When to probe, and how fast. A probe is a short burst at a chosen rate whose arrival
//! rate measures the path directly; it lets the estimate jump where AIMD would take
//! many seconds of 8 % steps.
//!
//! - At start: two clusters at 3x and 6x the start rate; while results keep reaching 70 %
//!   of what was probed, probe again at twice the result (exponential search).
//! - When the application raises its maximum above an estimate that was held by the old
//!   maximum: probe at twice the estimate (capped by the new maximum), exponentially.
//! - When the sender leaves an application-limited period: the estimate could not grow
//!   while the path was not used, so probe at twice it, exponentially.
//! - After a large drop of the estimate while application limited (a transient, since
//!   the sender was not loading the path): probe at 85 % of the rate before the drop.
//! - Optionally, periodically while application limited.
//!
//! Probes never go above the maximum; results are bounded by the path, so probing never
//! inflates the estimate beyond what the path carried.

use crate::Bitrate;
use crate::event::ProbeCluster;
use crate::input::ProbeClusterId;
use crate::time::{MS, Micros, SEC};

/// Initial probes, as multiples of the start rate.
const INITIAL_SCALES: [f64; 2] = [3.0, 6.0];
/// Each further probe is at this multiple of the last result...
const FURTHER_SCALE: f64 = 2.0;
/// ...if the result reached this fraction of the probed rate.
const FURTHER_THRESHOLD: f64 = 0.7;
/// A cluster lasts at least this long at its rate, in at least this many packets.
const PROBE_DURATION: Micros = 15 * MS;
const MIN_PROBES: u32 = 5;
/// Waiting for a probe's result ends after this.
const RESULT_TIMEOUT: Micros = SEC;
/// Probing on leaving ALR at most this often.
const MIN_ALR_EXIT_INTERVAL: Micros = 5 * SEC;
/// A drop below this fraction of the estimate is "large"...
const LARGE_DROP: f64 = 0.66;
/// ...and is probed back within this time, at this fraction of the old estimate, at most
/// this often.
const DROP_RECOVERY_WINDOW: Micros = 5 * SEC;
const DROP_RECOVERY_FRACTION: f64 = 0.85;
const MIN_DROP_PROBE_INTERVAL: Micros = 5 * SEC;
/// Periodic ALR probing interval.
const ALR_PROBE_INTERVAL: Micros = 5 * SEC;
/// Clusters waiting to be handed out.
const MAX_PENDING: usize = 4;
/// Probes on a capacity hint (packet trains arriving unsaturated) wait at least this long
/// after the previous one...
const HINT_INTERVAL: Micros = 2 * SEC;
/// ...doubled after each one that did not raise the estimate, up to this.
const MAX_HINT_INTERVAL: Micros = 32 * SEC;
/// A hint probe succeeded if the estimate rose by this factor.
const HINT_SUCCESS: f64 = 1.2;

/// The probe controller.
#[derive(Debug)]
pub(crate) struct ProbeController {
    next_id: u32,
    pending: [Option<ProbeCluster>; MAX_PENDING],
    /// While waiting for results: a result above this continues the search.
    further_above: Option<f64>,
    waiting_since: Option<Micros>,
    estimate: f64,
    max: f64,
    started: bool,
    initial: bool,
    periodic_alr: bool,
    in_alr: bool,
    last_probe: Option<Micros>,
    last_alr_exit_probe: Option<Micros>,
    drop: Option<(f64, Micros)>,
    last_drop_probe: Option<Micros>,
    /// The estimate before the last hint probe, and when it was sent.
    hint_probe: Option<(f64, Micros)>,
    hint_interval: Micros,
}

impl ProbeController {
    /// A controller; `initial` enables the start-up probes, `periodic_alr` the periodic
    /// probes while application limited.
    pub(crate) fn new(initial: bool, periodic_alr: bool, max: f64) -> Self {
        Self {
            next_id: 1,
            pending: [None; MAX_PENDING],
            further_above: None,
            waiting_since: None,
            estimate: 0.0,
            max,
            started: false,
            initial,
            periodic_alr,
            in_alr: false,
            last_probe: None,
            last_alr_exit_probe: None,
            drop: None,
            last_drop_probe: None,
            hint_probe: None,
            hint_interval: HINT_INTERVAL,
        }
    }

    /// The next cluster to send.
    pub(crate) fn poll(&mut self) -> Option<ProbeCluster> {
        let i = self.pending.iter().position(Option::is_some)?;
        let c = self.pending[i].take();
        self.pending[i..].rotate_left(1);
        c
    }

    /// Starts (once): the initial probes around the start rate.
    pub(crate) fn start(&mut self, now: Micros, start_rate: f64) {
        if std::mem::replace(&mut self.started, true) {
            return;
        }
        self.estimate = start_rate;
        if self.initial {
            let rates = INITIAL_SCALES.map(|s| s * start_rate);
            self.probe(now, &rates, true);
        }
    }

    /// The maximum changed from `old` to `new`.
    pub(crate) fn on_max(&mut self, now: Micros, old: f64, new: f64) {
        self.max = new;
        if new > old && self.estimate >= 0.95 * old && self.waiting_since.is_none() {
            self.probe(now, &[FURTHER_SCALE * self.estimate], true);
        }
    }

    /// The combined estimate is now `bps`; `probe_result` says whether a probe result
    /// just arrived.
    pub(crate) fn on_estimate(&mut self, now: Micros, bps: f64, probe_result: bool) {
        if bps < LARGE_DROP * self.estimate {
            self.drop = Some((self.estimate, now));
        }
        self.estimate = bps;
        if let Some((before, at)) = self.hint_probe
            && bps >= HINT_SUCCESS * before
            && now > at
        {
            self.hint_interval = HINT_INTERVAL;
        }
        // Results of the clusters of one round arrive one by one; the search goes on as
        // soon as one clears the threshold, and waits for the others (or the timeout)
        // otherwise.
        if probe_result && self.further_above.is_some_and(|t| bps > t) {
            self.probe(now, &[FURTHER_SCALE * bps], true);
            return;
        }
        if !self.in_alr {
            return;
        }
        // A large drop while application limited: probe back to near where it was.
        if let Some((before, at)) = self.drop {
            let recent = now.saturating_sub(at) < DROP_RECOVERY_WINDOW;
            let target = DROP_RECOVERY_FRACTION * before;
            let allowed = self
                .last_drop_probe
                .is_none_or(|t| now.saturating_sub(t) >= MIN_DROP_PROBE_INTERVAL);
            if recent && allowed && bps < 0.95 * target && self.waiting_since.is_none() {
                self.drop = None;
                self.last_drop_probe = Some(now);
                self.probe(now, &[target], false);
            }
        }
    }

    /// Packet trains showed the path carrying `hint` bit/s, well above the estimate.
    pub(crate) fn on_capacity_hint(&mut self, now: Micros, hint: f64) {
        if self.waiting_since.is_some() || self.in_alr || self.estimate >= self.max {
            return;
        }
        if let Some((_, at)) = self.hint_probe
            && now.saturating_sub(at) < self.hint_interval
        {
            return;
        }
        self.hint_probe = Some((self.estimate, now));
        // Twice the estimate, not the hint itself: on a shared bottleneck the hint is the
        // link's rate, not what is free of it.
        let _ = hint;
        self.probe(now, &[FURTHER_SCALE * self.estimate], true);
    }

    /// Whether the sender is application limited.
    pub(crate) fn on_alr(&mut self, now: Micros, in_alr: bool) {
        let was = std::mem::replace(&mut self.in_alr, in_alr);
        if was && !in_alr {
            let allowed = self
                .last_alr_exit_probe
                .is_none_or(|t| now.saturating_sub(t) >= MIN_ALR_EXIT_INTERVAL);
            if allowed && self.waiting_since.is_none() && self.estimate < self.max {
                self.last_alr_exit_probe = Some(now);
                self.probe(now, &[FURTHER_SCALE * self.estimate], true);
            }
        }
    }

    /// Periodic work: result timeouts and periodic ALR probes.
    pub(crate) fn on_timeout(&mut self, now: Micros, alr_start: Option<Micros>) {
        if self
            .waiting_since
            .is_some_and(|t| now.saturating_sub(t) > RESULT_TIMEOUT)
        {
            self.waiting_since = None;
            self.further_above = None;
            if let Some((before, at)) = self.hint_probe
                && self.estimate < HINT_SUCCESS * before
                && at + RESULT_TIMEOUT < now
            {
                self.hint_interval = (self.hint_interval * 2).min(MAX_HINT_INTERVAL);
            }
        }
        if self.periodic_alr
            && self.waiting_since.is_none()
            && let Some(start) = alr_start
        {
            let since = self.last_probe.map_or(start, |p| p.max(start));
            if now.saturating_sub(since) >= ALR_PROBE_INTERVAL && self.estimate > 0.0 {
                self.probe(now, &[FURTHER_SCALE * self.estimate], true);
            }
        }
    }

    /// Whether a probe is in flight (its result not yet in).
    #[cfg(test)]
    pub(crate) fn probing(&self) -> bool {
        self.waiting_since.is_some()
    }

    fn probe(&mut self, now: Micros, rates: &[f64], further: bool) {
        let mut further = further;
        let mut highest: f64 = 0.0;
        for &rate in rates {
            let mut rate = rate;
            if rate >= self.max {
                rate = self.max;
                further = false;
            }
            if !(rate.is_finite() && rate >= 1000.0) {
                continue;
            }
            let min_bytes = (rate * PROBE_DURATION as f64 / 8e6).ceil() as usize;
            let cluster = ProbeCluster {
                id: ProbeClusterId(self.next_id),
                bitrate: Bitrate::from_f64(rate),
                min_probes: MIN_PROBES,
                min_bytes,
            };
            self.next_id = self.next_id.wrapping_add(1).max(1);
            if let Some(slot) = self.pending.iter_mut().find(|s| s.is_none()) {
                *slot = Some(cluster);
            } else {
                // Never more than a few clusters wait; a newer one replaces the oldest.
                self.pending.rotate_left(1);
                self.pending[MAX_PENDING - 1] = Some(cluster);
            }
            highest = highest.max(rate);
        }
        if highest > 0.0 {
            self.waiting_since = Some(now);
            self.last_probe = Some(now);
            self.further_above = further.then_some(FURTHER_THRESHOLD * highest);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn initial_probes_then_exponential_search_until_a_result_falls_short() {
        let mut p = ProbeController::new(true, false, 1e8);
        p.start(0, 300_000.0);
        let a = p.poll().expect("first");
        let b = p.poll().expect("second");
        assert!(p.poll().is_none());
        assert_eq!((a.bitrate.bps(), b.bitrate.bps()), (900_000, 1_800_000));
        assert_eq!(b.min_bytes, 3375);
        // 1.8 Mbit/s got through: search on at 3.6.
        p.on_estimate(100 * MS, 1.8e6, true);
        assert_eq!(p.poll().map(|c| c.bitrate.bps()), Some(3_600_000));
        // Only 2.4 of 3.6 (below 70 %): stop once the wait for more results times out.
        p.on_estimate(200 * MS, 2.4e6, true);
        assert!(p.poll().is_none());
        assert!(p.probing());
        p.on_timeout(1300 * MS, None);
        assert!(!p.probing());
    }

    #[test]
    fn leaving_alr_and_raising_the_max_probe() {
        let mut p = ProbeController::new(false, false, 1e6);
        p.start(0, 1e6);
        assert!(p.poll().is_none());
        p.on_estimate(0, 1e6, false);
        p.on_max(SEC, 1e6, 5e6);
        assert_eq!(p.poll().map(|c| c.bitrate.bps()), Some(2_000_000));
        p.on_estimate(SEC + 100 * MS, 1.2e6, true);
        assert!(p.poll().is_none());
        p.on_timeout(2100 * MS, None);
        p.on_alr(2 * SEC, true);
        p.on_alr(3 * SEC, false);
        assert_eq!(p.poll().map(|c| c.bitrate.bps()), Some(2_400_000));
    }
}
