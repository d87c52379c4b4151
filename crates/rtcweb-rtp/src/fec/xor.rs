//! The XOR at the heart of parity FEC (RFC 5109 section 6.1, FlexFEC-03 section 6.2): the
//! recovery fields of an RTP header and the octets after the fixed header, folded together.

use crate::rtp::HEADER_LEN;

/// `dst[i] ^= src[i]` over `src` (`dst` at least as long), eight octets at a time so the
/// compiler vectorizes it.
#[inline]
pub(crate) fn xor_into(dst: &mut [u8], src: &[u8]) {
    let n = src.len().min(dst.len());
    let (dst, src) = (&mut dst[..n], &src[..n]);
    let mut d = dst.chunks_exact_mut(8);
    let mut s = src.chunks_exact(8);
    for (d, s) in (&mut d).zip(&mut s) {
        let x = u64::from_ne_bytes([d[0], d[1], d[2], d[3], d[4], d[5], d[6], d[7]])
            ^ u64::from_ne_bytes([s[0], s[1], s[2], s[3], s[4], s[5], s[6], s[7]]);
        d.copy_from_slice(&x.to_ne_bytes());
    }
    for (d, s) in d.into_remainder().iter_mut().zip(s.remainder()) {
        *d ^= *s;
    }
}

/// The parity of a set of RTP packets: the XOR of their P, X, CC, M and PT bits, timestamps,
/// lengths after the fixed header, and the octets after the fixed header (CSRCs, extension,
/// payload, padding), zero-extended to the longest.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Parity {
    /// P, X and CC (the low 6 bits of the first octet).
    pub bits0: u8,
    /// M and PT (the second octet).
    pub bits1: u8,
    /// Length recovery: the XOR of `packet length - 12`.
    pub length: u16,
    /// Timestamp recovery.
    pub timestamp: u32,
    /// The XOR of the octets after the fixed header.
    pub payload: Vec<u8>,
}

impl Parity {
    /// Clears the parity, keeping the payload's memory.
    pub fn reset(&mut self) {
        self.bits0 = 0;
        self.bits1 = 0;
        self.length = 0;
        self.timestamp = 0;
        self.payload.clear();
    }

    /// Folds in an RTP packet (at least 12 octets; the caller checked it).
    pub fn add_packet(&mut self, packet: &[u8]) {
        if packet.len() < HEADER_LEN {
            return;
        }
        self.bits0 ^= packet[0] & 0x3f;
        self.bits1 ^= packet[1];
        self.length ^= (packet.len() - HEADER_LEN) as u16;
        self.timestamp ^= u32::from_be_bytes([packet[4], packet[5], packet[6], packet[7]]);
        self.add_payload(&packet[HEADER_LEN..]);
    }

    /// Folds in octets after the fixed header.
    pub fn add_payload(&mut self, rest: &[u8]) {
        if self.payload.len() < rest.len() {
            self.payload.resize(rest.len(), 0);
        }
        xor_into(&mut self.payload, rest);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xor_of_odd_lengths() {
        let a: Vec<u8> = (0..37).collect();
        let mut d = vec![0xffu8; 40];
        xor_into(&mut d, &a);
        for (i, x) in d.iter().enumerate() {
            let want = if i < 37 { 0xff ^ i as u8 } else { 0xff };
            assert_eq!(*x, want);
        }
    }
}
