//! Bit reading and LEB128, for codec headers.

/// MSB-first bit reader over a byte slice; reading past the end yields `None`.
#[derive(Debug)]
pub(crate) struct BitReader<'a> {
    data: &'a [u8],
    bit: usize,
}

impl<'a> BitReader<'a> {
    pub fn new(data: &'a [u8]) -> Self {
        Self { data, bit: 0 }
    }

    pub fn bit(&mut self) -> Option<u32> {
        let byte = *self.data.get(self.bit / 8)?;
        let v = (byte >> (7 - self.bit % 8)) & 1;
        self.bit += 1;
        Some(u32::from(v))
    }

    pub fn bits(&mut self, n: u32) -> Option<u32> {
        let mut v = 0;
        for _ in 0..n {
            v = (v << 1) | self.bit()?;
        }
        Some(v)
    }

    /// A non-symmetric unsigned value in `0..n` (`ns(n)` of the AV1 specification, section
    /// 4.10.7): the low part of the range takes one bit fewer. `n` is at least 1.
    pub fn ns(&mut self, n: u32) -> Option<u32> {
        let w = u32::BITS - n.leading_zeros();
        let m = (1u32 << w) - n;
        let v = self.bits(w.saturating_sub(1))?;
        if v < m {
            return Some(v);
        }
        let extra = self.bit()?;
        Some((v << 1) - m + extra)
    }
}

/// MSB-first bit writer appending to a byte vector; the last byte is zero-padded.
#[derive(Debug)]
pub(crate) struct BitWriter<'a> {
    out: &'a mut Vec<u8>,
    bit: usize,
}

impl<'a> BitWriter<'a> {
    /// A writer that appends after what `out` holds.
    pub fn new(out: &'a mut Vec<u8>) -> Self {
        let bit = out.len() * 8;
        Self { out, bit }
    }

    pub fn bit(&mut self, v: bool) {
        if self.bit.is_multiple_of(8) {
            self.out.push(0);
        }
        if v && let Some(last) = self.out.last_mut() {
            *last |= 0x80 >> (self.bit % 8);
        }
        self.bit += 1;
    }

    /// Writes the low `n` bits of `v`, most significant first.
    pub fn bits(&mut self, n: u32, v: u32) {
        for i in (0..n).rev() {
            self.bit((v >> i) & 1 == 1);
        }
    }

    /// Writes `v` (below `n`) as `ns(n)`.
    pub fn ns(&mut self, n: u32, v: u32) {
        let w = u32::BITS - n.leading_zeros();
        let m = (1u32 << w) - n;
        if v < m {
            self.bits(w.saturating_sub(1), v);
        } else {
            self.bits(w, v + m);
        }
    }
}

/// Reads an unsigned LEB128 value (at most 8 bytes, as AV1 allows); returns value and length.
pub(crate) fn read_leb128(data: &[u8]) -> Option<(u64, usize)> {
    let mut v = 0u64;
    for (i, &b) in data.iter().take(8).enumerate() {
        v |= u64::from(b & 0x7f) << (7 * i);
        if b & 0x80 == 0 {
            return Some((v, i + 1));
        }
    }
    None
}

/// Number of bytes LEB128 needs for `v`.
pub(crate) fn leb128_len(mut v: u64) -> usize {
    let mut n = 1;
    while v >= 0x80 {
        v >>= 7;
        n += 1;
    }
    n
}

/// Appends `v` as LEB128.
pub(crate) fn write_leb128(mut v: u64, out: &mut Vec<u8>) {
    loop {
        let b = (v & 0x7f) as u8;
        v >>= 7;
        if v == 0 {
            out.push(b);
            return;
        }
        out.push(b | 0x80);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn leb128_round_trips() {
        for v in [0u64, 1, 127, 128, 300, 16383, 16384, 1 << 40] {
            let mut out = Vec::new();
            write_leb128(v, &mut out);
            assert_eq!(out.len(), leb128_len(v));
            assert_eq!(read_leb128(&out), Some((v, out.len())));
        }
        assert_eq!(read_leb128(&[0x80, 0x80]), None);
    }

    #[test]
    fn ns_matches_the_table_of_the_av1_rtp_specification() {
        // Appendix A.8.2, n = 5: 0 -> 00, 1 -> 01, 2 -> 10, 3 -> 110, 4 -> 111.
        let codes = ["00", "01", "10", "110", "111"];
        for (v, code) in codes.iter().enumerate() {
            let mut out = Vec::new();
            let mut w = BitWriter::new(&mut out);
            w.ns(5, v as u32);
            let written: String = (0..code.len())
                .map(|i| if out[0] & (0x80 >> i) != 0 { '1' } else { '0' })
                .collect();
            assert_eq!(&written, code);
            assert_eq!(BitReader::new(&out).ns(5), Some(v as u32));
        }
        // ns(1) takes no bits.
        let mut r = BitReader::new(&[]);
        assert_eq!(r.ns(1), Some(0));
        for n in 1..40 {
            for v in 0..n {
                let mut out = Vec::new();
                BitWriter::new(&mut out).ns(n, v);
                out.push(0);
                assert_eq!(BitReader::new(&out).ns(n), Some(v), "ns({n}) of {v}");
            }
        }
    }
}
