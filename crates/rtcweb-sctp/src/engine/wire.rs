//! The little of the SCTP packet format (RFC 9260 section 3) the adapter itself reads: the
//! common header's ports and checksum, and chunk types.

/// Common header length.
pub(crate) const COMMON_HEADER_LEN: usize = 12;

/// Chunk types the adapter looks for.
pub(crate) const CT_ABORT: u8 = 6;
pub(crate) const CT_ERROR: u8 = 9;
pub(crate) const CT_SHUTDOWN: u8 = 7;
pub(crate) const CT_SHUTDOWN_ACK: u8 = 8;
pub(crate) const CT_SHUTDOWN_COMPLETE: u8 = 14;

/// The chunk types of a packet, in order; stops at the first malformed chunk header.
pub(crate) fn chunk_types(packet: &[u8]) -> impl Iterator<Item = u8> + '_ {
    let mut at = COMMON_HEADER_LEN;
    std::iter::from_fn(move || {
        let header = packet.get(at..at.checked_add(4)?)?;
        let len = usize::from(u16::from_be_bytes([header[2], header[3]]));
        if len < 4 {
            return None;
        }
        at = at.checked_add(len.checked_add(3)? & !3)?;
        Some(header[0])
    })
}

/// Whether the error causes inside every ABORT and ERROR chunk fit their chunk. rtc-sctp
/// 0.21.1 slices a cause by its declared length without checking it (a panic on wire data,
/// found by the `sctp_input` fuzz target), so such packets never reach it.
pub(crate) fn error_causes_fit(packet: &[u8]) -> bool {
    let mut at = COMMON_HEADER_LEN;
    while let Some(header) = packet.get(at..at.saturating_add(4)) {
        let len = usize::from(u16::from_be_bytes([header[2], header[3]]));
        if len < 4 {
            return true; // the engine rejects the chunk itself
        }
        let Some(end) = at.checked_add(len) else {
            return false;
        };
        if header[0] == CT_ABORT || header[0] == CT_ERROR {
            let Some(causes) = packet.get(at + 4..end) else {
                return false;
            };
            let mut c = 0;
            while c + 4 <= causes.len() {
                let cause_len = usize::from(u16::from_be_bytes([causes[c + 2], causes[c + 3]]));
                if cause_len < 4 || c + cause_len > causes.len() {
                    return false;
                }
                c += (cause_len + 3) & !3;
            }
        }
        at = match end.checked_add(3) {
            Some(e) => e & !3,
            None => return false,
        };
    }
    true
}

/// RE-CONFIG chunk type (RFC 6525 section 3.1) and its Outgoing SSN Reset Request parameter
/// (section 4.1).
pub(crate) const CT_RECONFIG: u8 = 130;
const PARAM_OUTGOING_RESET_REQUEST: u16 = 13;

/// Calls `f` with every stream id the packet's Outgoing SSN Reset Requests name: streams the
/// peer has reset in its sending direction.
pub(crate) fn outgoing_resets(packet: &[u8], mut f: impl FnMut(u16)) {
    let mut at = COMMON_HEADER_LEN;
    while let Some(header) = packet.get(at..at.saturating_add(4)) {
        let len = usize::from(u16::from_be_bytes([header[2], header[3]]));
        let Some(chunk) = packet.get(at..at.saturating_add(len)) else {
            return;
        };
        if len < 4 {
            return;
        }
        if header[0] == CT_RECONFIG {
            let mut p = 4;
            while let Some(ph) = chunk.get(p..p + 4) {
                let kind = u16::from_be_bytes([ph[0], ph[1]]);
                let plen = usize::from(u16::from_be_bytes([ph[2], ph[3]]));
                let Some(param) = chunk.get(p..p + plen) else {
                    break;
                };
                if plen < 4 {
                    break;
                }
                if kind == PARAM_OUTGOING_RESET_REQUEST {
                    for id in param.get(16..).unwrap_or(&[]).chunks_exact(2) {
                        f(u16::from_be_bytes([id[0], id[1]]));
                    }
                }
                p += (plen + 3) & !3;
            }
        }
        at += (len + 3) & !3;
    }
}

/// Source and destination port.
pub(crate) fn ports(packet: &[u8]) -> Option<(u16, u16)> {
    let h = packet.get(..4)?;
    Some((
        u16::from_be_bytes([h[0], h[1]]),
        u16::from_be_bytes([h[2], h[3]]),
    ))
}

/// CRC32c over the packet with the checksum field taken as zero (RFC 9260 appendix B).
fn checksum(packet: &[u8]) -> Option<u32> {
    let (head, rest) = (packet.get(..8)?, packet.get(12..)?);
    let crc = crc32c::crc32c_append(crc32c::crc32c(head), &[0; 4]);
    Some(crc32c::crc32c_append(crc, rest))
}

/// Whether the packet's checksum is right.
pub(crate) fn checksum_ok(packet: &[u8]) -> bool {
    let Some(field) = packet.get(8..12) else {
        return false;
    };
    checksum(packet).is_some_and(|c| c.to_le_bytes() == field)
}

/// Rewrites the ports and re-computes the checksum. `packet` must hold a common header.
pub(crate) fn set_ports(packet: &mut [u8], source: u16, destination: u16) {
    if packet.len() < COMMON_HEADER_LEN {
        return;
    }
    packet[..2].copy_from_slice(&source.to_be_bytes());
    packet[2..4].copy_from_slice(&destination.to_be_bytes());
    if let Some(c) = checksum(packet) {
        packet[8..12].copy_from_slice(&c.to_le_bytes());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn walks_chunks_and_stops_on_garbage() {
        // Header, then a 5-byte chunk (padded to 8), then a 4-byte chunk, then a bad one.
        let mut p = vec![0u8; 12];
        p.extend_from_slice(&[0, 3, 0, 5, 0xaa, 0, 0, 0]);
        p.extend_from_slice(&[CT_ABORT, 0, 0, 4]);
        p.extend_from_slice(&[9, 0, 0, 2]);
        assert_eq!(chunk_types(&p).collect::<Vec<_>>(), [0, CT_ABORT]);
        assert_eq!(chunk_types(&p[..5]).count(), 0);
    }

    #[test]
    fn error_causes_must_fit_their_chunk() {
        let mut p = vec![0u8; 12];
        // ERROR chunk of 8 bytes holding one 4-byte cause: fine.
        p.extend_from_slice(&[CT_ERROR, 0, 0, 8, 0, 1, 0, 4]);
        assert!(error_causes_fit(&p));
        // The fuzzer's packet: a cause claiming 48 bytes in a 4-byte chunk value.
        let mut bad = vec![0u8; 12];
        bad.extend_from_slice(&[CT_ERROR, 0, 0, 8, 0, 0x2b, 0, 0x30]);
        assert!(!error_causes_fit(&bad));
        let mut abort = vec![0u8; 12];
        abort.extend_from_slice(&[CT_ABORT, 0, 0, 8, 0, 1, 0, 2]);
        assert!(!error_causes_fit(&abort));
        // Chunk length past the packet.
        let mut short = vec![0u8; 12];
        short.extend_from_slice(&[CT_ABORT, 0, 0, 12, 0, 1, 0, 4]);
        assert!(!error_causes_fit(&short));
    }

    #[test]
    fn finds_the_streams_of_an_outgoing_reset_request() {
        let mut p = vec![0u8; 12];
        // RE-CONFIG with one Outgoing SSN Reset Request for streams 4 and 9 (22 bytes, padded).
        p.extend_from_slice(&[CT_RECONFIG, 0, 0, 26, 0, 13, 0, 20]);
        p.extend_from_slice(&[0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 7, 0, 4, 0, 9]);
        p.extend_from_slice(&[0, 0]);
        let mut ids = Vec::new();
        outgoing_resets(&p, |id| ids.push(id));
        assert_eq!(ids, [4, 9]);
        let mut none = Vec::new();
        outgoing_resets(&p[..20], |id| none.push(id));
        assert!(none.is_empty());
    }

    #[test]
    fn port_rewrite_keeps_the_checksum_valid() {
        let mut p = vec![0x13, 0x88, 0x13, 0x88, 1, 2, 3, 4, 0, 0, 0, 0];
        p.extend_from_slice(&[CT_SHUTDOWN_COMPLETE, 0, 0, 4]);
        set_ports(&mut p, 5000, 5000);
        assert!(checksum_ok(&p));
        set_ports(&mut p, 7000, 9000);
        assert!(checksum_ok(&p));
        assert_eq!(ports(&p), Some((7000, 9000)));
        p[13] ^= 1;
        assert!(!checksum_ok(&p));
        assert!(!checksum_ok(&p[..7]));
    }
}
