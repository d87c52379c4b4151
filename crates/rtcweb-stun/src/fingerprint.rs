//! FINGERPRINT (RFC 8489 section 14.7): CRC-32 of the message XOR 0x5354554e.

/// The value FINGERPRINT's CRC-32 is XOR-ed with ("STUN").
pub const FINGERPRINT_XOR: u32 = 0x5354_554E;

/// CRC-32 over `covered` (the message up to FINGERPRINT) with the header length field replaced
/// by `len`, XOR-ed with [`FINGERPRINT_XOR`].
pub(crate) fn compute(covered: &[u8], len: [u8; 2]) -> u32 {
    if covered.get(2..4) == Some(&len[..]) {
        return crc32fast::hash(covered) ^ FINGERPRINT_XOR;
    }
    let mut h = crc32fast::Hasher::new();
    h.update(covered.get(..2).unwrap_or(&[]));
    h.update(&len);
    h.update(covered.get(4..).unwrap_or(&[]));
    h.finalize() ^ FINGERPRINT_XOR
}
