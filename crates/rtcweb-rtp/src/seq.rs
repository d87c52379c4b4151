//! Sequence number extension: 16-bit wire sequence numbers to monotonic 64-bit ones.

/// Extends 16-bit sequence numbers (RTP, transport-wide CC) to 64 bits, taking the nearest
/// value to the highest seen so far (so reordering by less than 32768 is handled).
#[derive(Debug, Clone, Copy, Default)]
pub struct SeqUnwrapper {
    highest: Option<u64>,
}

/// The first extended value; leaves room below it for packets reordered before the first.
const ORIGIN: u64 = 1 << 16;

impl SeqUnwrapper {
    /// A fresh unwrapper.
    pub fn new() -> Self {
        Self::default()
    }

    /// The extended value of `seq`.
    pub fn unwrap(&mut self, seq: u16) -> u64 {
        match self.highest {
            None => {
                let v = ORIGIN + u64::from(seq);
                self.highest = Some(v);
                v
            }
            Some(h) => {
                let d = i64::from(seq.wrapping_sub(h as u16) as i16);
                let v = (h as i64 + d).max(0) as u64;
                if v > h {
                    self.highest = Some(v);
                }
                v
            }
        }
    }

    /// The extended value of `seq` without recording it.
    pub fn peek(&self, seq: u16) -> u64 {
        self.clone().unwrap(seq)
    }

    /// The highest extended value seen.
    pub fn highest(&self) -> Option<u64> {
        self.highest
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wraps_forward_and_handles_reordering() {
        let mut u = SeqUnwrapper::new();
        let a = u.unwrap(65534);
        assert_eq!(u.unwrap(65535), a + 1);
        assert_eq!(u.unwrap(1), a + 3);
        assert_eq!(u.unwrap(0), a + 2);
        assert_eq!(u.unwrap(65533), a - 1);
        assert_eq!(u.highest(), Some(a + 3));
    }
}
