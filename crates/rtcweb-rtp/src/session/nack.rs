//! Loss detection and NACK scheduling on the receive side (RFC 4585 generic NACK).

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

/// How a receiver asks for retransmissions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NackConfig {
    /// Requests per missing packet before it is given up (libwebrtc uses 10).
    pub max_retries: u32,
    /// Missing packets tracked at most; the oldest are given up beyond it.
    pub max_missing: usize,
    /// A missing packet more than this many sequence numbers behind the newest is given up.
    pub max_age: u64,
    /// Floor of the retry interval, for very short round trips.
    pub min_retry_interval: Duration,
    /// Round-trip time assumed until one is measured.
    pub default_rtt: Duration,
}

impl Default for NackConfig {
    fn default() -> Self {
        Self {
            max_retries: 10,
            max_missing: 1000,
            max_age: 10_000,
            min_retry_interval: Duration::from_millis(5),
            default_rtt: Duration::from_millis(100),
        }
    }
}

impl NackConfig {
    /// The wait before asking again: one round trip plus a quarter for jitter.
    pub fn retry_interval(&self, rtt: Option<Duration>) -> Duration {
        let rtt = rtt.unwrap_or(self.default_rtt);
        (rtt + rtt / 4).max(self.min_retry_interval)
    }
}

/// What an arriving packet was.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Arrival {
    /// Newer than anything before.
    New,
    /// Filled a gap.
    Recovered,
    /// Already received (or too old to know).
    Duplicate,
}

#[derive(Debug, Clone, Copy)]
struct Missing {
    retries: u32,
    next_send: Instant,
}

#[derive(Debug)]
pub(crate) struct NackTracker {
    config: NackConfig,
    missing: BTreeMap<u64, Missing>,
    highest: Option<u64>,
    /// The lowest sequence number seen: packets reordered before the first one are new.
    lowest: u64,
    /// How long a new gap waits before its first NACK (while FEC may still repair it).
    hold: Duration,
}

impl NackTracker {
    pub fn new(config: NackConfig) -> Self {
        Self {
            config,
            missing: BTreeMap::new(),
            highest: None,
            lowest: 0,
            hold: Duration::ZERO,
        }
    }

    /// Sets how long a new gap waits before its first NACK.
    pub fn set_hold(&mut self, hold: Duration) {
        self.hold = hold;
    }

    /// Stops asking for the missing packets before `seq` (of no use any more).
    pub fn forget_before(&mut self, seq: u64) {
        while let Some((&s, _)) = self.missing.first_key_value() {
            if s >= seq {
                break;
            }
            self.missing.remove(&s);
        }
    }

    /// Whether missing packet `seq` was NACKed already.
    pub fn nacked(&self, seq: u64) -> bool {
        self.missing.get(&seq).is_some_and(|m| m.retries > 0)
    }

    /// What packet `seq` would be if it arrived now (nothing is recorded).
    pub fn status(&self, seq: u64) -> Arrival {
        match self.highest {
            None => Arrival::New,
            Some(_) if seq < self.lowest => Arrival::Recovered,
            Some(h) if seq > h => Arrival::New,
            Some(_) if self.missing.contains_key(&seq) => Arrival::Recovered,
            Some(_) => Arrival::Duplicate,
        }
    }

    #[cfg(test)]
    pub fn missing(&self) -> usize {
        self.missing.len()
    }

    /// Records packet `seq`; sequence numbers given up on are appended to `lost`.
    pub fn on_packet(&mut self, now: Instant, seq: u64, lost: &mut Vec<u64>) -> Arrival {
        let Some(h) = self.highest else {
            self.highest = Some(seq);
            self.lowest = seq;
            return Arrival::New;
        };
        if seq < self.lowest {
            // Older than the first packet seen: it was reordered behind it. What lies between
            // the two is missing now (within the list's bound).
            if self.lowest - seq <= self.config.max_missing as u64 {
                for s in seq + 1..self.lowest {
                    self.missing.insert(
                        s,
                        Missing {
                            retries: 0,
                            next_send: now,
                        },
                    );
                }
            }
            self.lowest = seq;
            return Arrival::Recovered;
        }
        if seq > h {
            let gap = seq - h - 1;
            if gap > self.config.max_missing as u64 {
                // A jump this large is a restart of the stream, not loss to repair.
                lost.extend(self.missing.keys().copied());
                self.missing.clear();
                if gap < self.config.max_age {
                    lost.push(seq - 1);
                }
            } else {
                for s in h + 1..seq {
                    self.missing.insert(
                        s,
                        Missing {
                            retries: 0,
                            next_send: now + self.hold,
                        },
                    );
                }
            }
            while self.missing.len() > self.config.max_missing {
                if let Some((s, _)) = self.missing.pop_first() {
                    lost.push(s);
                }
            }
            let floor = seq.saturating_sub(self.config.max_age);
            while let Some((&s, _)) = self.missing.first_key_value() {
                if s >= floor {
                    break;
                }
                self.missing.remove(&s);
                lost.push(s);
            }
            self.highest = Some(seq);
            Arrival::New
        } else if self.missing.remove(&seq).is_some() {
            Arrival::Recovered
        } else {
            Arrival::Duplicate
        }
    }

    /// Sequence numbers to NACK now (appended to `nack`) and those given up (to `lost`).
    pub fn poll(
        &mut self,
        now: Instant,
        rtt: Option<Duration>,
        nack: &mut Vec<u64>,
        lost: &mut Vec<u64>,
    ) {
        let interval = self.config.retry_interval(rtt);
        let max = self.config.max_retries;
        let before = lost.len();
        for (&s, m) in self.missing.iter_mut() {
            if m.next_send > now {
                continue;
            }
            if m.retries >= max {
                lost.push(s);
            } else {
                m.retries += 1;
                m.next_send = now + interval;
                nack.push(s);
            }
        }
        for s in &lost[before..] {
            self.missing.remove(s);
        }
    }

    /// Gives up (appends to `lost`) the missing packets whose first NACK would be due: for
    /// a stream that does not NACK, once the hold for FEC has passed.
    pub fn expire(&mut self, now: Instant, lost: &mut Vec<u64>) {
        let before = lost.len();
        lost.extend(
            self.missing
                .iter()
                .filter(|(_, m)| m.next_send <= now)
                .map(|(&s, _)| s),
        );
        for s in &lost[before..] {
            self.missing.remove(s);
        }
    }

    /// The earliest moment [`NackTracker::poll`] has work.
    pub fn next_deadline(&self) -> Option<Instant> {
        self.missing.values().map(|m| m.next_send).min()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gaps_are_nacked_then_retried_after_an_rtt_then_given_up() {
        let t0 = Instant::now();
        let cfg = NackConfig {
            max_retries: 2,
            ..NackConfig::default()
        };
        let mut t = NackTracker::new(cfg);
        let mut lost = Vec::new();
        assert_eq!(t.on_packet(t0, 10, &mut lost), Arrival::New);
        assert_eq!(
            t.on_packet(t0, 8, &mut lost),
            Arrival::Recovered,
            "reordered"
        );
        assert_eq!(t.on_packet(t0, 8, &mut lost), Arrival::Duplicate);
        assert_eq!(
            t.on_packet(t0, 9, &mut lost),
            Arrival::Recovered,
            "between the two"
        );
        assert_eq!(t.on_packet(t0, 13, &mut lost), Arrival::New);
        let (mut nack, rtt) = (Vec::new(), Some(Duration::from_millis(40)));
        t.poll(t0, rtt, &mut nack, &mut lost);
        assert_eq!(nack, [11, 12]);
        assert_eq!(t.on_packet(t0, 11, &mut lost), Arrival::Recovered);
        assert_eq!(t.on_packet(t0, 11, &mut lost), Arrival::Duplicate);
        assert_eq!(t.next_deadline(), Some(t0 + Duration::from_millis(50)));
        nack.clear();
        t.poll(t0 + Duration::from_millis(49), rtt, &mut nack, &mut lost);
        assert!(nack.is_empty());
        t.poll(t0 + Duration::from_millis(50), rtt, &mut nack, &mut lost);
        assert_eq!(nack, [12]);
        t.poll(t0 + Duration::from_millis(100), rtt, &mut nack, &mut lost);
        assert_eq!(lost, [12]);
        assert_eq!(t.missing(), 0);
    }

    #[test]
    fn the_missing_list_is_bounded() {
        let t0 = Instant::now();
        let cfg = NackConfig {
            max_missing: 100,
            ..NackConfig::default()
        };
        let mut t = NackTracker::new(cfg);
        let mut lost = Vec::new();
        t.on_packet(t0, 0, &mut lost);
        for s in (2..2000).step_by(2) {
            t.on_packet(t0, s, &mut lost);
            assert!(t.missing() <= 100);
        }
        assert_eq!(lost.len(), 999 - 100);
        // A jump beyond the list size is a restart: nothing to repair.
        t.on_packet(t0, 1_000_000, &mut lost);
        assert_eq!(t.missing(), 0);
    }
}
