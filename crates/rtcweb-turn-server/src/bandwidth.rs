//! Bandwidth limits: a token bucket per direction, per allocation and per user, refilled
//! from the `now` the driver passes in. A datagram that does not fit is dropped whole (never
//! queued: a relay that queued would turn a limit into latency and memory) and counted.

use std::time::Instant;

use crate::metrics::{Direction, LimitScope};

/// A rate in payload octets per second, with the burst a bucket may save up.
///
/// Each direction (to peers, to the client) has its own bucket of this size, as coturn's
/// `max-bps` treats input and output separately. Only payload octets count (see
/// [`crate::metrics`]), so the limit reads like the application's data rate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BandwidthLimit {
    /// Sustained rate, in octets per second.
    pub bytes_per_second: u64,
    /// Most octets that may pass at once after an idle period. A datagram larger than this
    /// never passes.
    pub burst: u64,
}

impl BandwidthLimit {
    /// A limit whose burst is one second's worth (and at least one 64 KiB datagram, so a
    /// small rate does not block large datagrams forever).
    pub fn per_second(bytes_per_second: u64) -> Self {
        BandwidthLimit {
            bytes_per_second,
            burst: bytes_per_second.max(65_535),
        }
    }
}

const NANOS: u64 = 1_000_000_000;

/// One bucket. Tokens are kept in octet-nanoseconds (octets * 10^9), so refills every few
/// microseconds lose nothing to rounding.
#[derive(Debug, Clone, Copy)]
pub(crate) struct TokenBucket {
    rate: u64,
    capacity: u64,
    tokens: u64,
    last: Instant,
}

impl TokenBucket {
    /// A full bucket.
    pub fn new(limit: BandwidthLimit, now: Instant) -> Self {
        let capacity = limit.burst.saturating_mul(NANOS);
        TokenBucket {
            rate: limit.bytes_per_second,
            capacity,
            tokens: capacity,
            last: now,
        }
    }

    fn refill(&mut self, now: Instant) {
        // A `now` before `last` (a driver reading the clock out of order) adds nothing.
        let elapsed = now.saturating_duration_since(self.last);
        if elapsed.is_zero() {
            return;
        }
        let ns = u64::try_from(elapsed.as_nanos()).unwrap_or(u64::MAX);
        self.tokens = self
            .tokens
            .saturating_add(self.rate.saturating_mul(ns))
            .min(self.capacity);
        self.last = now;
    }

    /// Whether `bytes` may pass now (refills first; takes nothing).
    pub fn allows(&mut self, now: Instant, bytes: usize) -> bool {
        self.refill(now);
        self.tokens >= (bytes as u64).saturating_mul(NANOS)
    }

    /// Takes `bytes` (after [`TokenBucket::allows`] said yes).
    pub fn take(&mut self, bytes: usize) {
        self.tokens = self
            .tokens
            .saturating_sub((bytes as u64).saturating_mul(NANOS));
    }
}

/// The two buckets of one limit.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Buckets([TokenBucket; 2]);

impl Buckets {
    pub fn new(limit: BandwidthLimit, now: Instant) -> Self {
        let b = TokenBucket::new(limit, now);
        Buckets([b, b])
    }

    pub fn get(&mut self, d: Direction) -> &mut TokenBucket {
        &mut self.0[d as usize]
    }
}

/// Admits `bytes` in `direction` if the allocation's and the user's buckets (those that are
/// configured) both have room, and takes from both; otherwise takes from neither and names the
/// limit that refused (the allocation's is checked first).
#[inline]
pub(crate) fn admit(
    allocation: Option<&mut Buckets>,
    user: Option<&mut Buckets>,
    now: Instant,
    direction: Direction,
    bytes: usize,
) -> Result<(), LimitScope> {
    let mut a = allocation.map(|b| b.get(direction));
    let mut u = user.map(|b| b.get(direction));
    if let Some(a) = a.as_deref_mut()
        && !a.allows(now, bytes)
    {
        return Err(LimitScope::Allocation);
    }
    if let Some(u) = u.as_deref_mut()
        && !u.allows(now, bytes)
    {
        return Err(LimitScope::User);
    }
    if let Some(a) = a {
        a.take(bytes);
    }
    if let Some(u) = u {
        u.take(bytes);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn limit(rate: u64, burst: u64) -> BandwidthLimit {
        BandwidthLimit {
            bytes_per_second: rate,
            burst,
        }
    }

    #[test]
    fn a_full_bucket_passes_its_burst_then_the_rate() {
        let t0 = Instant::now();
        let mut b = TokenBucket::new(limit(1000, 500), t0);
        let passed = (0..10).filter(|_| {
            let ok = b.allows(t0, 100);
            if ok {
                b.take(100);
            }
            ok
        });
        assert_eq!(passed.count(), 5, "the burst is 500 octets");
        // 100 ms at 1000 octets/s refill 100 octets: one more datagram, not two.
        let t1 = t0 + Duration::from_millis(100);
        assert!(b.allows(t1, 100));
        b.take(100);
        assert!(!b.allows(t1, 1));
        // Refills in tiny steps lose nothing to rounding: 1000 steps of 1 us = 1 octet.
        let mut t = t1;
        for _ in 0..1000 {
            t += Duration::from_micros(1);
            assert!(!b.allows(t, 2));
        }
        assert!(b.allows(t, 1));
        // An hour idle refills to the burst, not beyond.
        let t2 = t + Duration::from_secs(3600);
        assert!(b.allows(t2, 500));
        assert!(!b.allows(t2, 501));
    }

    #[test]
    fn sustained_rate_over_virtual_time_matches_the_limit() {
        // 1200-octet datagrams offered at 10x the limit for 10 virtual seconds: what passes
        // is the burst plus rate * time, to within one datagram.
        let t0 = Instant::now();
        let rate = 100_000;
        let mut b = TokenBucket::new(limit(rate, 20_000), t0);
        let mut passed = 0u64;
        let step = Duration::from_micros(1200); // 1,000,000 octets/s offered
        let mut t = t0;
        let mut last = t0;
        while t < t0 + Duration::from_secs(10) {
            if b.allows(t, 1200) {
                b.take(1200);
                passed += 1200;
            }
            last = t;
            t += step;
        }
        // What the bucket had earned by the last offer: the burst plus the rate times the
        // time elapsed, of which at most one datagram's worth is left unused.
        let earned = (last - t0).as_nanos() as u64 * rate / 1_000_000_000;
        let expected = 20_000 + earned;
        assert!(
            passed <= expected && passed + 1200 > expected,
            "{passed} vs {expected}"
        );
    }

    #[test]
    fn a_datagram_over_the_burst_never_passes_and_time_going_back_adds_nothing() {
        let t0 = Instant::now();
        let mut b = TokenBucket::new(limit(1_000_000, 1000), t0);
        assert!(!b.allows(t0 + Duration::from_secs(5), 1001));
        assert!(b.allows(t0, 1000));
        b.take(1000);
        assert!(!b.allows(t0, 1), "an earlier now refills nothing");
    }

    #[test]
    fn admit_takes_from_both_or_neither() {
        let t0 = Instant::now();
        let mut alloc = Buckets::new(limit(1000, 1000), t0);
        let mut user = Buckets::new(limit(1000, 300), t0);
        assert_eq!(
            admit(
                Some(&mut alloc),
                Some(&mut user),
                t0,
                Direction::ToPeer,
                200
            ),
            Ok(())
        );
        // The user's bucket has 100 left: refused by the user limit, and the allocation's
        // bucket keeps its 800.
        assert_eq!(
            admit(
                Some(&mut alloc),
                Some(&mut user),
                t0,
                Direction::ToPeer,
                200
            ),
            Err(LimitScope::User)
        );
        assert!(alloc.get(Direction::ToPeer).allows(t0, 800));
        assert!(!alloc.get(Direction::ToPeer).allows(t0, 801));
        // The other direction has its own buckets.
        assert_eq!(
            admit(
                Some(&mut alloc),
                Some(&mut user),
                t0,
                Direction::ToClient,
                300
            ),
            Ok(())
        );
        assert_eq!(
            admit(Some(&mut alloc), None, t0, Direction::ToClient, 700),
            Ok(())
        );
        assert_eq!(
            admit(Some(&mut alloc), None, t0, Direction::ToClient, 1),
            Err(LimitScope::Allocation)
        );
        assert_eq!(admit(None, None, t0, Direction::ToClient, 1 << 20), Ok(()));
    }
}
