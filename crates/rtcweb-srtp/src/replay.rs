//! Packet index estimation (RFC 3711 section 3.3.1 and appendix A) and the sliding replay
//! window (section 3.3.2).

use crate::Error;

/// Largest supported replay window, in packets.
pub const MAX_REPLAY_WINDOW: usize = 1024;
/// Smallest replay window RFC 3711 section 3.3.2 allows.
pub const MIN_REPLAY_WINDOW: usize = 64;
const WORDS: usize = MAX_REPLAY_WINDOW / 64;

/// Guesses the 48-bit SRTP index `v || SEQ` of a packet from the highest index seen so far
/// (`ROC || s_l`), choosing `v` among ROC-1, ROC and ROC+1 as in RFC 3711 appendix A.
///
/// A guess of ROC-1 at ROC 0 means the packet predates the stream ([`Error::TooOld`]); ROC+1
/// past 2^32-1 means the index space is used up ([`Error::IndexExhausted`]).
#[inline]
pub(crate) fn estimate_index(highest: u64, seq: u16) -> Result<u64, Error> {
    let roc = highest >> 16;
    let s_l = highest as u16;
    let v = if s_l < 0x8000 {
        if seq > s_l && seq - s_l > 0x8000 {
            roc.checked_sub(1).ok_or(Error::TooOld {
                index: u64::from(seq),
            })?
        } else {
            roc
        }
    } else if s_l - 0x8000 > seq {
        roc + 1
    } else {
        roc
    };
    if v > u64::from(u32::MAX) {
        return Err(Error::IndexExhausted);
    }
    Ok(v << 16 | u64::from(seq))
}

/// A sliding window over packet indices: the highest index accepted and which of the
/// `size - 1` indices below it were seen.
#[derive(Clone, Debug)]
pub(crate) struct ReplayWindow {
    /// Highest index accepted so far (valid once `started`).
    top: u64,
    started: bool,
    size: u16,
    /// Words in use: `size` rounded up to 64 bits.
    words: u8,
    /// Bit `i` (word `i / 64`, bit `i % 64`) set: index `top - i` was accepted.
    bits: [u64; WORDS],
}

impl ReplayWindow {
    /// A window of `size` packets; `size` must lie in 64..=1024 (checked by `Config`).
    pub(crate) fn new(size: usize) -> Self {
        let size = size.clamp(MIN_REPLAY_WINDOW, MAX_REPLAY_WINDOW);
        Self {
            top: 0,
            started: false,
            size: size as u16,
            words: size.div_ceil(64) as u8,
            bits: [0; WORDS],
        }
    }

    /// Whether any index was accepted yet.
    #[inline]
    pub(crate) fn started(&self) -> bool {
        self.started
    }

    /// Highest index accepted so far (0 before the first).
    #[inline]
    pub(crate) fn top(&self) -> u64 {
        self.top
    }

    /// Checks `index` without recording it.
    #[inline]
    pub(crate) fn check(&self, index: u64) -> Result<(), Error> {
        if !self.started || index > self.top {
            return Ok(());
        }
        let delta = self.top - index;
        if delta >= u64::from(self.size) {
            return Err(Error::TooOld { index });
        }
        let (word, bit) = ((delta / 64) as usize, delta % 64);
        match self.bits.get(word) {
            Some(w) if w >> bit & 1 == 0 => Ok(()),
            _ => Err(Error::Replayed { index }),
        }
    }

    /// Records `index`, which `check` accepted.
    #[inline]
    pub(crate) fn accept(&mut self, index: u64) {
        if !self.started {
            self.started = true;
            self.top = index;
            self.bits = [0; WORDS];
            self.bits[0] = 1;
            return;
        }
        if index > self.top {
            self.shift(index - self.top);
            self.top = index;
            self.bits[0] |= 1;
        } else {
            let delta = self.top - index;
            if let Some(w) = self.bits.get_mut((delta / 64) as usize) {
                *w |= 1 << (delta % 64);
            }
        }
    }

    /// Moves every recorded bit `n` positions towards older indices.
    #[inline]
    fn shift(&mut self, n: u64) {
        let words = usize::from(self.words);
        if n >= u64::from(self.size) {
            self.bits[..words].fill(0);
            return;
        }
        let (ws, bs) = ((n / 64) as usize, (n % 64) as u32);
        for i in (0..words).rev() {
            let hi = if i >= ws { self.bits[i - ws] } else { 0 };
            let lo = if bs > 0 && i > ws {
                self.bits[i - ws - 1] >> (64 - bs)
            } else {
                0
            };
            self.bits[i] = if bs > 0 { hi << bs | lo } else { hi };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn index_estimation_follows_appendix_a() {
        // In order, no wrap.
        assert_eq!(estimate_index(100, 101), Ok(101));
        // Wrap forward: s_l high, seq small.
        assert_eq!(estimate_index(0xfffe, 2), Ok(0x1_0002));
        // Late packet from before the wrap: s_l small, seq high.
        assert_eq!(estimate_index(0x1_0002, 0xfffe), Ok(0xfffe));
        // Late packet from before the stream's first packet at ROC 0.
        assert_eq!(
            estimate_index(5, 0xfff0),
            Err(Error::TooOld { index: 0xfff0 })
        );
        // Exactly half the space ahead is still ROC; one more is ROC-1.
        assert_eq!(estimate_index(0, 0x8000), Ok(0x8000));
        assert_eq!(estimate_index(0x3_0000, 0x8001), Ok(0x2_8001));
        // s_l in the upper half: far below means the next ROC.
        assert_eq!(estimate_index(0x2_c000, 0x3fff), Ok(0x3_3fff));
        assert_eq!(estimate_index(0x2_c000, 0x4000), Ok(0x2_4000));
        // Last ROC: no further wrap.
        assert_eq!(
            estimate_index(u64::from(u32::MAX) << 16 | 0xffff, 0),
            Err(Error::IndexExhausted)
        );
    }

    #[test]
    fn window_rejects_replays_and_old_indices() {
        for size in [64usize, 100, 128, 1000, 1024] {
            let mut w = ReplayWindow::new(size);
            for i in 0..3001u64 {
                if i % 7 == 3 {
                    continue; // leave holes
                }
                w.check(i).unwrap();
                w.accept(i);
                assert_eq!(w.check(i), Err(Error::Replayed { index: i }));
            }
            let top = 3000u64; // 3000 % 7 != 3: accepted
            for back in 0..size as u64 {
                let i = top - back;
                let expected = if i % 7 == 3 {
                    Ok(())
                } else {
                    Err(Error::Replayed { index: i })
                };
                assert_eq!(w.check(i), expected, "size {size} back {back}");
            }
            let old = top - size as u64;
            assert_eq!(w.check(old), Err(Error::TooOld { index: old }));
            // A jump past the whole window clears it.
            w.accept(top + 5000);
            assert!(w.check(top + 4999).is_ok());
            assert_eq!(w.check(top), Err(Error::TooOld { index: top }));
        }
    }

    #[test]
    fn window_shift_across_words() {
        let mut w = ReplayWindow::new(1024);
        w.accept(10);
        w.accept(10 + 64 * 3 + 5);
        assert_eq!(w.check(10), Err(Error::Replayed { index: 10 }));
        assert!(w.check(11).is_ok());
        w.accept(10 + 1023);
        assert_eq!(
            w.check(10),
            Err(Error::Replayed { index: 10 }),
            "at the far edge"
        );
        w.accept(10 + 1024);
        assert_eq!(w.check(10), Err(Error::TooOld { index: 10 }));
        assert_eq!(
            w.check(10 + 64 * 3 + 5),
            Err(Error::Replayed {
                index: 10 + 64 * 3 + 5
            })
        );
    }
}
