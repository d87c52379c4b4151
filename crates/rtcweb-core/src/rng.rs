//! The one seedable random generator of rtcweb.
//!
//! ChaCha20 (RFC 8439 as a stream generator): what it produces is unpredictable to a remote
//! peer when the seed comes from the operating system, which STUN transaction ids, ICE
//! tie-breakers, TURN nonces and SCTP verification tags need; and the same seed gives the
//! same stream on every platform and release, which tests and the network simulator need.

use rand_chacha::ChaCha20Rng;
use rand_chacha::rand_core::{RngCore, SeedableRng};

/// 32 bytes that decide everything a [`Rng`] produces.
///
/// Production code fills it from the operating system (`rtcweb-tokio` does); tests use
/// [`Seed::from_u64`] so a run is repeatable.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Seed(pub [u8; 32]);

impl Seed {
    /// A seed expanded from a small number (for tests and simulations): each number gives a
    /// different, fixed seed.
    pub fn from_u64(n: u64) -> Self {
        // SplitMix64 (Steele, Lea, Flood 2014) spreads nearby numbers over all 32 bytes.
        let mut state = n;
        let mut out = [0u8; 32];
        for chunk in out.chunks_mut(8) {
            state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
            let mut z = state;
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            chunk.copy_from_slice(&(z ^ (z >> 31)).to_le_bytes());
        }
        Seed(out)
    }

    /// A different seed for a part of a machine (a sub-generator), derived from this one and
    /// `label`, so that parts do not share a stream.
    pub fn derive(&self, label: u64) -> Self {
        let mut rng = Rng::new(*self);
        let mut out = [0u8; 32];
        for chunk in out.chunks_mut(8) {
            chunk.copy_from_slice(&(rng.next_u64() ^ label).to_le_bytes());
        }
        Seed(out)
    }
}

impl From<u64> for Seed {
    fn from(n: u64) -> Self {
        Seed::from_u64(n)
    }
}

impl From<[u8; 32]> for Seed {
    fn from(bytes: [u8; 32]) -> Self {
        Seed(bytes)
    }
}

impl std::fmt::Debug for Seed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // A production seed is a secret: show only that there is one.
        f.write_str("Seed(..)")
    }
}

/// A seedable generator (ChaCha20).
#[derive(Clone)]
pub struct Rng(ChaCha20Rng);

impl std::fmt::Debug for Rng {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Rng(..)")
    }
}

impl Rng {
    /// A generator whose whole stream is decided by `seed`.
    pub fn new(seed: impl Into<Seed>) -> Self {
        Rng(ChaCha20Rng::from_seed(seed.into().0))
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0.next_u64()
    }

    /// The next 32 random bits.
    pub fn next_u32(&mut self) -> u32 {
        self.0.next_u32()
    }

    /// Fills `out` with random bytes.
    pub fn fill(&mut self, out: &mut [u8]) {
        self.0.fill_bytes(out);
    }

    /// `N` random bytes.
    pub fn bytes<const N: usize>(&mut self) -> [u8; N] {
        let mut out = [0u8; N];
        self.fill(&mut out);
        out
    }

    /// A uniform float in `[0, 1)` (53 random mantissa bits).
    pub fn next_f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// `true` with probability `p` (never for `p <= 0`, always for `p >= 1`).
    pub fn chance(&mut self, p: f64) -> bool {
        p > 0.0 && self.next_f64() < p
    }

    /// A uniform integer in `[0, n)`; 0 when `n` is 0.
    pub fn below(&mut self, n: u64) -> u64 {
        // Lemire's multiply-shift; the bias (below 2^-64 * n) is irrelevant here.
        ((u128::from(self.next_u64()) * u128::from(n)) >> 64) as u64
    }

    /// A factor in `[1 - spread, 1 + spread)`, for timer jitter.
    pub fn jitter(&mut self, spread: f64) -> f64 {
        1.0 - spread + 2.0 * spread * self.next_f64()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_stream_and_different_seeds_differ() {
        let (mut a, mut b) = (Rng::new(7), Rng::new(7));
        for _ in 0..100 {
            assert_eq!(a.next_u64(), b.next_u64());
        }
        assert_ne!(Rng::new(7).next_u64(), Rng::new(8).next_u64());
        assert_ne!(Seed::from_u64(1).derive(1), Seed::from_u64(1).derive(2));
        assert_ne!(Seed::from_u64(1).derive(1), Seed::from_u64(1));
    }

    /// The stream is fixed by the seed for good: recorded simulations and tests depend on it.
    #[test]
    fn the_stream_is_stable() {
        let mut r = Rng::new(Seed([0; 32]));
        // ChaCha20 with an all-zero key and nonce: the first keystream block of RFC 8439
        // A.1 test vector #1 starts 76 b8 e0 ad a0 f1 3d 90.
        assert_eq!(
            r.bytes::<8>(),
            [0x76, 0xb8, 0xe0, 0xad, 0xa0, 0xf1, 0x3d, 0x90]
        );
    }

    #[test]
    fn ranges_stay_in_bounds() {
        let mut r = Rng::new(1);
        for _ in 0..10_000 {
            assert!((0.0..1.0).contains(&r.next_f64()));
            assert!(r.below(10) < 10);
            let j = r.jitter(0.25);
            assert!((0.75..1.25).contains(&j));
        }
        assert_eq!(r.below(0), 0);
        assert!(!r.chance(0.0));
        assert!(r.chance(1.0));
    }
}
