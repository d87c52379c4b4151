//! The delay estimate of a jitter buffer: how much later than the fastest packets a frame
//! may arrive.
//!
//! Every frame's *transit* is its arrival time minus its media time (RTP timestamp over the
//! clock rate). The smallest transit of the last [`BASE_SECONDS`] seconds is the path's base
//! (the clocks' offset plus the fastest one-way delay; a sliding minimum follows clock drift
//! and route changes). A frame's *relative delay* is its transit above the base: zero for
//! the fastest, the jitter for the others. The relative delays of the last `window` frames
//! go into a histogram of 1 ms buckets whose `quantile` is kept up to date at each insert
//! (a counter of samples at or below it moves with the inserted and evicted values), so an
//! insert costs O(1) however long the window.

use std::collections::VecDeque;

/// Seconds of per-second transit minima the base is the minimum of.
pub(crate) const BASE_SECONDS: usize = 10;
/// Relative delays are counted up to this many milliseconds (longer ones in the last
/// bucket).
const MAX_BUCKET: usize = 2047;

#[derive(Debug, Clone)]
pub(crate) struct DelayEstimator {
    /// (second of arrival, smallest transit in it), oldest first, µs.
    minima: VecDeque<(i64, i64)>,
    /// The smallest of `minima`.
    base: Option<i64>,
    /// Relative delays of the last frames, ms buckets, oldest first.
    ring: VecDeque<u16>,
    window: usize,
    hist: Vec<u32>,
    /// The quantile wanted, and the bucket holding it with the count of samples at or
    /// below that bucket.
    q: f64,
    qidx: usize,
    at_or_below: usize,
}

impl DelayEstimator {
    pub fn new(window: usize, quantile: f64) -> Self {
        Self {
            minima: VecDeque::with_capacity(BASE_SECONDS + 1),
            base: None,
            ring: VecDeque::with_capacity(window.max(1)),
            window: window.max(1),
            hist: vec![0; MAX_BUCKET + 1],
            q: quantile.clamp(0.0, 1.0),
            qidx: 0,
            at_or_below: 0,
        }
    }

    /// The base transit, µs (`None` before the first frame).
    pub fn base(&self) -> Option<i64> {
        self.base
    }

    /// The wanted quantile of the relative delays, ms.
    pub fn quantile_ms(&self) -> u64 {
        if self.ring.is_empty() {
            0
        } else {
            self.qidx as u64
        }
    }

    /// Samples in the window.
    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.ring.len()
    }

    /// A frame arrived at `arrival` µs with media time `media` µs; returns its relative
    /// delay, µs.
    pub fn on_arrival(&mut self, arrival: i64, media: i64) -> i64 {
        let transit = arrival.saturating_sub(media);
        let second = arrival.div_euclid(1_000_000);
        match self.minima.back_mut() {
            Some((s, m)) if *s == second => {
                *m = (*m).min(transit);
                self.base = Some(self.base.map_or(transit, |b| b.min(transit)));
            }
            _ => {
                self.minima.push_back((second, transit));
                while self.minima.len() > BASE_SECONDS {
                    self.minima.pop_front();
                }
                // A second ended: an old minimum may have left the window.
                self.base = self.minima.iter().map(|&(_, m)| m).min();
            }
        }
        let base = self.base.unwrap_or(transit);
        let rel = (transit - base).max(0);
        let bucket = usize::try_from(rel / 1000)
            .unwrap_or(MAX_BUCKET)
            .min(MAX_BUCKET);
        if self.ring.len() >= self.window
            && let Some(old) = self.ring.pop_front()
        {
            let old = usize::from(old);
            self.hist[old] -= 1;
            if old <= self.qidx {
                self.at_or_below -= 1;
            }
        }
        self.ring.push_back(bucket as u16);
        self.hist[bucket] += 1;
        if bucket <= self.qidx {
            self.at_or_below += 1;
        }
        self.settle();
        rel
    }

    /// Moves the quantile bucket to the smallest one with at least `q` of the samples at or
    /// below it.
    fn settle(&mut self) {
        let n = self.ring.len();
        let want = ((self.q * n as f64).ceil() as usize).clamp(1, n.max(1));
        while self.at_or_below < want && self.qidx < MAX_BUCKET {
            self.qidx += 1;
            self.at_or_below += self.hist[self.qidx] as usize;
        }
        while self.qidx > 0 && self.at_or_below - self.hist[self.qidx] as usize >= want {
            self.at_or_below -= self.hist[self.qidx] as usize;
            self.qidx -= 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_quantile_follows_the_window() {
        let mut d = DelayEstimator::new(100, 0.95);
        // Media every 20 ms, arrivals 0..39 ms late, cycling.
        for i in 0..300i64 {
            let media = i * 20_000;
            d.on_arrival(media + 50_000 + (i * 7 % 40) * 1000, media);
        }
        assert_eq!(d.base(), Some(50_000));
        let q = d.quantile_ms();
        assert!((36..=39).contains(&q), "{q}");
        // Jitter falls: after a window of calm frames the quantile is small.
        for i in 300..400i64 {
            let media = i * 20_000;
            d.on_arrival(media + 50_000 + (i % 3) * 1000, media);
        }
        assert!(d.quantile_ms() <= 2, "{}", d.quantile_ms());
        assert_eq!(d.len(), 100);
    }
}
