//! Randomness from the operating system: seeds for the sans-IO state machines and key
//! material. There is no fallback: a seed from the clock would make transaction ids, ICE
//! tie-breakers and keys predictable, so a program without a random source stops instead.

use crate::Error;

/// `N` random bytes from the operating system.
pub fn bytes<const N: usize>() -> Result<[u8; N], Error> {
    let mut out = [0u8; N];
    getrandom::fill(&mut out).map_err(Error::NoRandomness)?;
    Ok(out)
}

/// A seed for a sans-IO state machine (`IceAgent::new`, `rtcweb_turn::Client::new`, ...).
pub fn seed() -> Result<rtcweb::Seed, Error> {
    bytes().map(rtcweb::Seed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn two_draws_differ() {
        assert_ne!(bytes::<16>().unwrap(), bytes::<16>().unwrap());
        assert_ne!(seed().unwrap(), seed().unwrap());
    }
}
