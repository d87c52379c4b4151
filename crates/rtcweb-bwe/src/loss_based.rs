//! The loss-based estimator, in the spirit of libwebrtc's loss-based BWE v2 (and of
//! draft-ietf-rmcat-gcc-02 section 6, whose 2 %/10 % rule it replaces).
//!
//! Loss is explained by a two-parameter model of the path: an *inherent* loss rate `q`
//! that hits every packet whatever the rate (radio, a lossy hop), plus congestion loss
//! once the sending rate `r` exceeds a bandwidth `B`:
//!
//! ```text
//! p(r) = q + (1 - q) * max(0, (r - B) / r)
//! ```
//!
//! Each observation (about a quarter second of sent packets: how many, how many lost, at
//! what rate) adds a binomial log-likelihood; older observations weigh less. A few
//! candidate bandwidths around the current one (and the acknowledged rate and the
//! delay-based estimate) are scored, each with its best inherent loss (Newton's method),
//! plus a small bias towards higher bandwidth so that loss the rate does not explain
//! leaves the estimate alone. The inherent loss may not exceed `5 % + 75 kbit/s / B`: high
//! loss is only accepted as "inherent" at low rates, so at high rates persistent loss
//! does push the estimate down. On top, the weighted average loss bounds the estimate
//! directly at `75 kbit/s / (loss - 5 %)` when it is above 5 %. Low random loss (2 %)
//! therefore costs nothing; 10 % random loss settles the estimate near 1.5 Mbit/s;
//! congestion loss (a policer, a shallow buffer) puts `B` at the rate where loss starts.

use crate::time::{MS, Micros};

/// Observations kept.
const WINDOW: usize = 20;
/// An observation spans at least this much send time.
const MIN_OBSERVATION: Micros = 250 * MS;
/// Observations needed before the estimate is used.
const MIN_OBSERVATIONS: u32 = 3;
/// Weight decay per observation of age.
const TEMPORAL_WEIGHT: f64 = 0.9;
/// Bounds of the inherent loss: `q <= LOSS_OFFSET + BW_BALANCE / B`.
const LOSS_OFFSET: f64 = 0.05;
const BW_BALANCE: f64 = 75_000.0;
const MIN_INHERENT: f64 = 1e-3;
/// Candidate factors around the current estimate.
const CANDIDATE_FACTORS: [f64; 3] = [1.05, 1.0, 0.95];
/// Preference for higher bandwidth, per packet and kbit/s of candidate.
const HIGH_BW_BIAS: f64 = 2e-5;
/// While loss limits the estimate it rises at most to this times the acknowledged rate.
const RAMPUP_ACKED_FACTOR: f64 = 1.2;
/// Newton iterations on the inherent loss per candidate.
const NEWTON_ITERATIONS: usize = 3;

#[derive(Debug, Clone, Copy, Default)]
struct Observation {
    packets: f64,
    lost: f64,
    rate: f64,
}

#[derive(Debug, Clone, Copy, Default)]
struct Partial {
    packets: u64,
    lost: u64,
    bytes: u64,
    last_send: Option<Micros>,
}

/// Whether loss currently limits the estimate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum LossState {
    /// Loss is explained without congestion: no limit.
    NotLimited,
    /// The loss-based estimate is below the delay-based one.
    Limited,
}

/// The loss-based estimator.
#[derive(Debug)]
pub(crate) struct LossBased {
    obs: [Observation; WINDOW],
    count: u32,
    partial: Partial,
    /// Last send time that closed an observation.
    obs_end: Option<Micros>,
    bandwidth: Option<f64>,
    inherent: f64,
    state: LossState,
    /// `TEMPORAL_WEIGHT^age`, computed once.
    weights: [f64; WINDOW],
    /// The weighted loss fraction of the window, updated with each observation.
    loss: f64,
}

impl Default for LossBased {
    fn default() -> Self {
        Self {
            obs: [Observation::default(); WINDOW],
            count: 0,
            partial: Partial::default(),
            obs_end: None,
            bandwidth: None,
            inherent: 0.01,
            state: LossState::NotLimited,
            weights: std::array::from_fn(|age| TEMPORAL_WEIGHT.powi(age as i32)),
            loss: 0.0,
        }
    }
}

impl LossBased {
    /// A packet of `size` bytes sent at `send` was reported received or lost.
    pub(crate) fn on_packet(&mut self, send: Micros, size: u32, lost: bool) {
        let p = &mut self.partial;
        p.packets += 1;
        p.lost += u64::from(lost);
        p.bytes = p.bytes.saturating_add(u64::from(size));
        p.last_send = Some(p.last_send.map_or(send, |l| l.max(send)));
        if self.obs_end.is_none() {
            self.obs_end = Some(send);
        }
    }

    /// An observation from an RTCP report: `expected` packets, `lost` of them, sent at
    /// `rate` bit/s.
    pub(crate) fn on_report(&mut self, expected: u64, lost: u64, rate: f64) -> bool {
        if expected == 0 || !rate.is_finite() || rate <= 0.0 {
            return false;
        }
        self.push(Observation {
            packets: expected as f64,
            lost: lost.min(expected) as f64,
            rate,
        });
        true
    }

    /// Closes an observation if the packets reported so far span long enough. Returns
    /// whether one was closed (then [`LossBased::update`] should run).
    pub(crate) fn close_observation(&mut self) -> bool {
        let (Some(start), Some(end)) = (self.obs_end, self.partial.last_send) else {
            return false;
        };
        let span = end.saturating_sub(start);
        if span < MIN_OBSERVATION {
            return false;
        }
        let p = std::mem::take(&mut self.partial);
        self.obs_end = Some(end);
        let rate = p.bytes as f64 * 8.0 * 1e6 / span as f64;
        self.push(Observation {
            packets: p.packets as f64,
            lost: p.lost as f64,
            rate,
        })
    }

    fn push(&mut self, o: Observation) -> bool {
        if o.packets <= 0.0 {
            return false;
        }
        self.obs[self.count as usize % WINDOW] = o;
        self.count = self.count.saturating_add(1);
        let (mut lost, mut packets) = (0.0, 0.0);
        for (o, w) in self.weighted() {
            lost += w * o.lost;
            packets += w * o.packets;
        }
        self.loss = if packets > 0.0 { lost / packets } else { 0.0 };
        true
    }

    /// Re-estimates after a new observation, given the delay-based estimate and the
    /// acknowledged rate (bit/s).
    pub(crate) fn update(&mut self, delay_based: f64, acked: Option<f64>) {
        if self.loss == 0.0 {
            // No loss in the window: nothing to explain, no limit (and no logarithms).
            self.inherent = MIN_INHERENT;
            self.state = LossState::NotLimited;
            self.bandwidth = Some(delay_based);
            return;
        }
        let current = *self.bandwidth.get_or_insert(delay_based);
        let mut best = (current, self.inherent, f64::NEG_INFINITY);
        let extra = [acked, Some(delay_based)];
        let candidates = CANDIDATE_FACTORS
            .iter()
            .map(|f| Some(current * f))
            .chain(extra)
            .flatten();
        for bw in candidates {
            if !(bw.is_finite() && bw > 0.0) {
                continue;
            }
            let q = self.best_inherent(bw, self.inherent);
            let score = self.objective(bw, q);
            if score > best.2 {
                best = (bw, q, score);
            }
        }
        let (mut bw, q, _) = best;
        if self.state == LossState::Limited
            && bw > current
            && let Some(a) = acked
        {
            bw = bw.min(current.max(RAMPUP_ACKED_FACTOR * a));
        }
        self.inherent = q;
        let bw = bw.min(self.instant_upper_bound());
        if bw >= delay_based {
            self.state = LossState::NotLimited;
            self.bandwidth = Some(delay_based);
        } else {
            self.state = LossState::Limited;
            self.bandwidth = Some(bw);
        }
    }

    /// The estimate when loss limits it (bit/s), or `None`.
    pub(crate) fn estimate(&self) -> Option<f64> {
        if self.count < MIN_OBSERVATIONS || self.state == LossState::NotLimited {
            return None;
        }
        self.bandwidth
    }

    /// The weighted average loss fraction over the window.
    pub(crate) fn loss(&self) -> f64 {
        self.loss
    }

    /// Sets the estimate when the path is known to have changed (a probe raised it).
    pub(crate) fn reset_to(&mut self, bps: f64) {
        if self.state == LossState::NotLimited {
            self.bandwidth = Some(bps);
        }
    }

    /// Observations with their weights, newest first.
    fn weighted(&self) -> impl Iterator<Item = (&Observation, f64)> {
        let n = (self.count as usize).min(WINDOW);
        let newest = self.count as usize;
        (0..n).map(move |age| {
            let i = (newest + WINDOW - 1 - age) % WINDOW;
            (&self.obs[i], self.weights[age])
        })
    }

    fn instant_upper_bound(&self) -> f64 {
        let loss = self.loss();
        if loss > LOSS_OFFSET {
            BW_BALANCE / (loss - LOSS_OFFSET)
        } else {
            f64::INFINITY
        }
    }

    fn max_inherent(bw: f64) -> f64 {
        (LOSS_OFFSET + BW_BALANCE / bw).min(1.0)
    }

    fn loss_probability(q: f64, bw: f64, rate: f64) -> (f64, f64) {
        // Returns p and dp/dq.
        let congestion = if rate > bw { (rate - bw) / rate } else { 0.0 };
        let p = q + (1.0 - q) * congestion;
        (p.clamp(1e-6, 1.0 - 1e-6), 1.0 - congestion)
    }

    fn best_inherent(&self, bw: f64, start: f64) -> f64 {
        let hi = Self::max_inherent(bw).max(MIN_INHERENT);
        let mut q = start.clamp(MIN_INHERENT, hi);
        for _ in 0..NEWTON_ITERATIONS {
            let (mut d1, mut d2) = (0.0, 0.0);
            for (o, w) in self.weighted() {
                let (p, dp) = Self::loss_probability(q, bw, o.rate);
                let received = o.packets - o.lost;
                d1 += w * (o.lost / p - received / (1.0 - p)) * dp;
                d2 -= w * (o.lost / (p * p) + received / ((1.0 - p) * (1.0 - p))) * dp * dp;
            }
            if d2 >= 0.0 || !d1.is_finite() || !d2.is_finite() {
                break;
            }
            q = (q - d1 / d2).clamp(MIN_INHERENT, hi);
        }
        q
    }

    fn objective(&self, bw: f64, q: f64) -> f64 {
        let mut sum = 0.0;
        for (o, w) in self.weighted() {
            let (p, _) = Self::loss_probability(q, bw, o.rate);
            let received = o.packets - o.lost;
            sum += w * (o.lost * p.ln() + received * (1.0 - p).ln());
            sum += w * HIGH_BW_BIAS * (bw / 1000.0) * o.packets;
        }
        sum
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Runs observations at the loss-based target (or `delay` when not limited), with loss
    /// `loss(rate)`; returns the final estimate (None = not limited).
    fn converge(delay: f64, loss: impl Fn(f64) -> f64) -> Option<f64> {
        let mut l = LossBased::default();
        for _ in 0..100 {
            let rate = l.estimate().unwrap_or(delay);
            let packets = (rate * 0.25 / 8.0 / 1200.0).round() as u64;
            let lost = (packets as f64 * loss(rate)).round() as u64;
            l.on_report(packets, lost, rate);
            l.update(delay, Some(rate * (1.0 - loss(rate))));
        }
        l.estimate()
    }

    #[test]
    fn two_percent_random_loss_does_not_limit() {
        assert_eq!(converge(2.5e6, |_| 0.02), None);
        assert_eq!(converge(2.5e6, |_| 0.05), None);
    }

    #[test]
    fn ten_percent_random_loss_backs_off_to_about_one_and_a_half_mbps() {
        let e = converge(2.5e6, |_| 0.10).expect("limited");
        assert!((1.3e6..=1.6e6).contains(&e), "{e}");
    }

    #[test]
    fn a_policer_is_found_where_loss_starts() {
        // Everything above 1 Mbit/s is dropped; delay says nothing (no queue).
        let e = converge(2.5e6, |r| if r > 1e6 { (r - 1e6) / r } else { 0.0 }).expect("limited");
        assert!((0.85e6..=1.1e6).contains(&e), "{e}");
    }
}
