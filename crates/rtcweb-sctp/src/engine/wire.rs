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
pub(crate) const CT_INIT: u8 = 1;
pub(crate) const CT_INIT_ACK: u8 = 2;
pub(crate) const CT_COOKIE_ECHO: u8 = 10;
const CT_DATA: u8 = 0;
const CT_SACK: u8 = 3;
const CT_HEARTBEAT: u8 = 4;
const CT_HEARTBEAT_ACK: u8 = 5;
const CT_COOKIE_ACK: u8 = 11;
const CT_FORWARD_TSN: u8 = 192;

/// Chunk header plus the fixed fields of INIT and INIT ACK (Initiate Tag, a_rwnd, stream
/// counts, initial TSN).
pub(crate) const INIT_FIXED_LEN: usize = 20;
/// The State Cookie parameter of INIT ACK (RFC 9260 section 3.3.3).
pub(crate) const PARAM_STATE_COOKIE: u16 = 7;

/// The chunk types of a packet, in order; stops at the first malformed chunk.
pub(crate) fn chunk_types(packet: &[u8]) -> impl Iterator<Item = u8> + '_ {
    chunks(packet).filter_map(|chunk| chunk.first().copied())
}

/// Walks the packet as rtc-sctp 0.21.1 will read it; false when the engine would slice out
/// of bounds (a panic on wire data, found by the `sctp_input` and `sctp_handshake` fuzz targets). It slices each
/// ABORT and ERROR cause by the cause's declared length, stepping from cause to cause without
/// the padding; and it steps from chunk to chunk by the length it computes for the chunk it
/// parsed, not by the Chunk Length field, so a chunk whose fields disagree with its length
/// makes it read the next "chunk" from inside this one. The walk here follows the engine's,
/// including through INIT, INIT ACK, HEARTBEAT, HEARTBEAT ACK and RE-CONFIG, whose length it
/// re-measures from their parameters ([`remeasured_next`]). Only if that cannot be told does
/// every 4-byte boundary inside the chunk count as reachable: treating random contents (a state cookie, a heartbeat
/// nonce) that way refused about one legitimate INIT ACK in ten thousand, for good, since
/// its retransmissions are identical. The packet is refused when an ABORT or ERROR the engine
/// may reach has a cause that overruns it, or when the walk gets too long.
///
/// It calls `visit` with every chunk the engine may reach (its bytes as the Chunk Length
/// field gives them); the packet is refused (`false`) as soon as `visit` refuses a chunk.
pub(crate) fn walk_as_engine(packet: &[u8], visit: &mut dyn FnMut(&[u8]) -> bool) -> bool {
    let Some(chunks) = packet.get(COMMON_HEADER_LEN..) else {
        return true;
    };
    // The usual packet is walked straight through, without allocating; its offsets only
    // grow, so the walk is linear without a budget.
    let (mut at, mut unlimited) = (0, usize::MAX);
    loop {
        match engine_step(chunks, at, &mut unlimited, visit) {
            Step::Next(next) => at = next,
            Step::End => return true,
            Step::Overrun => return false,
            Step::Anywhere(_) => return walk_from_anywhere(chunks, at, visit),
        }
    }
}

/// Serial-number distance from `from` to `to` when `to` is ahead (RFC 1982), else `None`.
pub(crate) fn serial_ahead(from: u32, to: u32) -> Option<u32> {
    let d = to.wrapping_sub(from);
    (d != 0 && d < 1 << 31).then_some(d)
}

/// What [`data_chunks`] tells of one DATA chunk (RFC 9260 section 3.3.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct DataChunkHeader {
    pub(crate) tsn: u32,
    pub(crate) stream: u16,
    pub(crate) ppid: u32,
    /// User data bytes.
    pub(crate) len: usize,
}

/// The DATA chunks of a packet, by their Chunk Length fields (as [`chunks`] walks). Exact for
/// packets we made; on a peer's packet a malformed chunk ends the walk early, which only
/// lets that peer's own data past a bound (`engine::backlog`), never reads out of bounds.
pub(crate) fn data_chunks(packet: &[u8]) -> impl Iterator<Item = DataChunkHeader> + '_ {
    chunks(packet).filter_map(|chunk| {
        if *chunk.first()? != CT_DATA {
            return None;
        }
        let h = chunk.get(4..16)?;
        Some(DataChunkHeader {
            tsn: u32::from_be_bytes([h[0], h[1], h[2], h[3]]),
            stream: u16::from_be_bytes([h[4], h[5]]),
            ppid: u32::from_be_bytes([h[8], h[9], h[10], h[11]]),
            len: chunk.len() - 16,
        })
    })
}

/// The chunks of a packet by their Chunk Length fields (for packets we made ourselves).
pub(crate) fn chunks(packet: &[u8]) -> impl Iterator<Item = &[u8]> + '_ {
    let mut at = COMMON_HEADER_LEN;
    std::iter::from_fn(move || {
        let header = packet.get(at..at.checked_add(4)?)?;
        let len = usize::from(u16::from_be_bytes([header[2], header[3]]));
        if len < 4 {
            return None;
        }
        let chunk = packet.get(at..at.checked_add(len)?)?;
        at = at.checked_add(len.checked_add(3)? & !3)?;
        Some(chunk)
    })
}

/// Where the engine goes from the chunk at `at`.
enum Step {
    /// To the chunk at this offset.
    Next(usize),
    /// Nowhere: the packet ends, or the engine refuses it without slicing out of bounds.
    End,
    /// It slices out of bounds here.
    Overrun,
    /// To one of these offsets (where we cannot tell which).
    Anywhere(std::ops::RangeInclusive<usize>),
}

/// `budget` is spent one per error cause; when it runs out the step counts as an overrun.
/// A chunk `visit` refuses counts as an overrun too.
fn engine_step(
    chunks: &[u8],
    at: usize,
    budget: &mut usize,
    visit: &mut dyn FnMut(&[u8]) -> bool,
) -> Step {
    let Some(h) = chunks.get(at..at + 4) else {
        return Step::End;
    };
    let len = usize::from(u16::from_be_bytes([h[2], h[3]]));
    if len < 4 || at + len > chunks.len() {
        return Step::End;
    }
    if !visit(&chunks[at..at + len]) {
        return Step::Overrun;
    }
    let next = |value_len: usize| Step::Next(at + 4 + ((value_len + 3) & !3));
    match h[0] {
        CT_DATA if len >= 16 => next(len - 4),
        CT_SACK if len >= 16 => {
            let counts = &chunks[at + 12..at + 16];
            let gaps = usize::from(u16::from_be_bytes([counts[0], counts[1]]));
            let dups = usize::from(u16::from_be_bytes([counts[2], counts[3]]));
            let value_len = 12 + 4 * (gaps + dups);
            if value_len <= len - 4 {
                next(value_len)
            } else {
                Step::End
            }
        }
        CT_ABORT | CT_ERROR => {
            let mut c = 4;
            while c + 4 <= len {
                *budget = match budget.checked_sub(1) {
                    Some(b) => b,
                    None => return Step::Overrun,
                };
                let cause_len =
                    usize::from(u16::from_be_bytes([chunks[at + c + 2], chunks[at + c + 3]]));
                if cause_len < 4 {
                    return Step::End; // the engine refuses it itself
                }
                if c + cause_len > len {
                    return Step::Overrun;
                }
                c += cause_len;
            }
            next(c - 4)
        }
        CT_SHUTDOWN if len == 8 => Step::Next(at + 8),
        CT_SHUTDOWN_ACK | CT_COOKIE_ACK | CT_SHUTDOWN_COMPLETE => Step::Next(at + 4),
        CT_COOKIE_ECHO => next(len - 4),
        CT_FORWARD_TSN if len >= 8 && (len - 8) % 4 == 0 => next(len - 4),
        CT_INIT | CT_INIT_ACK | CT_HEARTBEAT | CT_HEARTBEAT_ACK | CT_RECONFIG => {
            match remeasured_next(&chunks[at..at + len]) {
                Some(Remeasured::Length(value_len)) => next(value_len),
                Some(Remeasured::Refused) => Step::End,
                None => Step::Anywhere(at + 4..=at + 4 + ((len - 4 + 3) & !3)),
            }
        }
        _ => Step::End, // a type the engine does not know, or a length it refuses
    }
}

/// What rtc-sctp makes of a chunk it re-measures.
enum Remeasured {
    /// It parses, and the engine takes this for its value length (chunk header excluded).
    Length(usize),
    /// The engine refuses the packet.
    Refused,
}

fn padding(len: usize) -> usize {
    (4 - len % 4) % 4
}

/// The value length rtc-sctp 0.21.1 gives the parameter at `at` of `chunk` (its
/// `build_param` on `chunk[at..]`, then `value_length`), or `Refused` when that fails.
/// `None` only if the parameter is not in `chunk` after all.
fn remeasured_param(chunk: &[u8], at: usize) -> Option<Remeasured> {
    let Some(h) = chunk.get(at..at + 4) else {
        return Some(Remeasured::Refused);
    };
    let kind = u16::from_be_bytes([h[0], h[1]]);
    let len = usize::from(u16::from_be_bytes([h[2], h[3]]));
    if len < 4 || at + len > chunk.len() {
        return Some(Remeasured::Refused);
    }
    let value = len - 4;
    Some(match kind {
        // Heartbeat Info, State Cookie, Random, Chunk List, Supported Extensions: the bytes
        // as declared.
        1 | 7 | 0x8002 | 0x8003 | 0x8008 => Remeasured::Length(value),
        // Forward-TSN-Supported: always empty, whatever it declares.
        0xc000 => Remeasured::Length(0),
        // Outgoing SSN Reset Request: 12 bytes plus whole stream ids, which it checks.
        13 if len >= 16 && (len - 16) % 2 == 0 => Remeasured::Length(value),
        13 => Remeasured::Refused,
        // Re-configuration Response: 12 or 20 bytes declared, 8 re-measured.
        16 if len == 12 || len == 20 => Remeasured::Length(8),
        16 => Remeasured::Refused,
        // Requested HMAC Algorithm: whole 16-bit identifiers, each HMAC-SHA-1 or -256.
        0x8004 => {
            let ids = chunk.get(at + 4..at + 4 + value / 2 * 2)?;
            if ids
                .chunks_exact(2)
                .all(|id| matches!(u16::from_be_bytes([id[0], id[1]]), 1 | 3))
            {
                Remeasured::Length(value / 2 * 2)
            } else {
                Remeasured::Refused
            }
        }
        // Other types: kept as unknown when the high bit says "skip", else refused.
        _ if kind & 0x8000 != 0 => Remeasured::Length(value),
        _ => Remeasured::Refused,
    })
}

/// The value length rtc-sctp 0.21.1 computes for an INIT, INIT ACK, HEARTBEAT, HEARTBEAT
/// ACK or RE-CONFIG `chunk` (header included, padding excluded) from the parameters it
/// parses, following `ChunkInit`, `ChunkHeartbeat(Ack)` and `ChunkReconfig`'s `unmarshal`
/// and `value_length`. `None` when a parameter's outcome cannot be told.
fn remeasured_next(chunk: &[u8]) -> Option<Remeasured> {
    let len = chunk.len();
    let param = |at| match remeasured_param(chunk, at)? {
        Remeasured::Length(v) => Some(Ok(4 + v)),
        Remeasured::Refused => Some(Err(Remeasured::Refused)),
    };
    match chunk.first().copied()? {
        CT_INIT | CT_INIT_ACK => {
            if len < INIT_FIXED_LEN || chunk.get(1) != Some(&0) {
                return Some(Remeasured::Refused);
            }
            // Parameters are read while more than a parameter header remains (so a last
            // parameter of exactly 4 bytes is not read), each stepped over by the length
            // re-measured, padded; the value length pads all but the last.
            let (mut at, mut total, mut last_padding) = (INIT_FIXED_LEN, 16, 0);
            while len.saturating_sub(at) > 4 {
                let p = match param(at)? {
                    Ok(p) => p,
                    Err(refused) => return Some(refused),
                };
                total += last_padding + p;
                last_padding = padding(p);
                at += p + padding(p);
            }
            Some(Remeasured::Length(total))
        }
        CT_HEARTBEAT | CT_HEARTBEAT_ACK => {
            // One Heartbeat Info parameter, right after the chunk header.
            if len <= 4 || chunk.get(4..6) != Some(&[0, 1]) {
                return Some(Remeasured::Refused);
            }
            Some(match param(4)? {
                Ok(p) => Remeasured::Length(p),
                Err(refused) => refused,
            })
        }
        CT_RECONFIG => {
            let a = match param(4)? {
                Ok(a) => a,
                Err(refused) => return Some(refused),
            };
            let b_at = 4 + a + padding(a);
            if len <= b_at {
                return Some(Remeasured::Length(a));
            }
            Some(match param(b_at)? {
                Ok(b) => Remeasured::Length(a + padding(a) + b),
                Err(refused) => refused,
            })
        }
        _ => None,
    }
}

/// Whether the engine can read the packet safely: [`walk_as_engine`] with nothing more to
/// check (what the unit tests below exercise).
#[cfg(test)]
fn safe_for_engine(packet: &[u8]) -> bool {
    walk_as_engine(packet, &mut |_| true)
}

/// [`walk_as_engine`] from a chunk whose length cannot be told: every offset the engine may
/// reach is followed, each once, within a step budget.
fn walk_from_anywhere(chunks: &[u8], from: usize, visit: &mut dyn FnMut(&[u8]) -> bool) -> bool {
    let mut seen = vec![false; chunks.len() / 4 + 2];
    let mut todo = vec![from];
    // Chunk starts and error causes visited: far above what a real packet needs (a few
    // chunks, one re-measured), and a bound on the work a crafted one costs.
    let mut budget: usize = 1 << 14;
    while let Some(at) = todo.pop() {
        match seen.get_mut(at / 4) {
            Some(s) if !*s => *s = true,
            _ => continue,
        }
        budget = match budget.checked_sub(1) {
            Some(b) => b,
            None => return false,
        };
        match engine_step(chunks, at, &mut budget, visit) {
            Step::Next(next) => todo.push(next),
            Step::End => {}
            Step::Overrun => return false,
            Step::Anywhere(range) => todo.extend(range.step_by(4)),
        }
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
    set_checksum(packet);
}

/// The common header's Verification Tag.
pub(crate) fn verification_tag(packet: &[u8]) -> Option<u32> {
    let t = packet.get(4..8)?;
    Some(u32::from_be_bytes([t[0], t[1], t[2], t[3]]))
}

/// Rewrites the Verification Tag and re-computes the checksum.
pub(crate) fn set_verification_tag(packet: &mut [u8], tag: u32) {
    if let Some(t) = packet.get_mut(4..8) {
        t.copy_from_slice(&tag.to_be_bytes());
        set_checksum(packet);
    }
}

/// Writes the checksum of the packet as it now is.
pub(crate) fn set_checksum(packet: &mut [u8]) {
    if let Some(c) = checksum(packet) {
        packet[8..12].copy_from_slice(&c.to_le_bytes());
    }
}

/// The first chunk: its type and its bytes (header and value, padding excluded), if its
/// length field is sane and the chunk fits the packet.
pub(crate) fn first_chunk(packet: &[u8]) -> Option<(u8, &[u8])> {
    let header = packet.get(COMMON_HEADER_LEN..COMMON_HEADER_LEN + 4)?;
    let len = usize::from(u16::from_be_bytes([header[2], header[3]]));
    if len < 4 {
        return None;
    }
    let chunk = packet.get(COMMON_HEADER_LEN..COMMON_HEADER_LEN + len)?;
    Some((header[0], chunk))
}

/// The value of the first parameter of type `kind` among the parameters that follow the
/// fixed part of an INIT or INIT ACK chunk (RFC 9260 section 3.3.2).
pub(crate) fn init_param(chunk: &[u8], kind: u16) -> Option<&[u8]> {
    let mut at = INIT_FIXED_LEN;
    while let Some(h) = chunk.get(at..at.checked_add(4)?) {
        let len = usize::from(u16::from_be_bytes([h[2], h[3]]));
        if len < 4 {
            return None;
        }
        let value = chunk.get(at + 4..at.checked_add(len)?)?;
        if u16::from_be_bytes([h[0], h[1]]) == kind {
            return Some(value);
        }
        at = at.checked_add(len.checked_add(3)? & !3)?;
    }
    None
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
        assert!(safe_for_engine(&p));
        // The fuzzer's packet: a cause claiming 48 bytes in a 4-byte chunk value.
        let mut bad = vec![0u8; 12];
        bad.extend_from_slice(&[CT_ERROR, 0, 0, 8, 0, 0x2b, 0, 0x30]);
        assert!(!safe_for_engine(&bad));
        // A cause shorter than its header: the engine refuses it without slicing.
        let mut abort = vec![0u8; 12];
        abort.extend_from_slice(&[CT_ABORT, 0, 0, 8, 0, 1, 0, 2]);
        assert!(safe_for_engine(&abort));
        // A 5-byte cause, then bytes that, read 5 bytes on (where rtc-sctp reads the next
        // cause, padding not skipped), claim a 23816-byte cause.
        let mut odd = vec![0u8; 12];
        // Walked with the padding (RFC 9260), the causes are fine: 5 bytes, 4, 4.
        odd.extend_from_slice(&[CT_ABORT, 0, 0, 20, 0, 1, 0, 5, 0xaa, 0, 0, 0x5d]);
        odd.extend_from_slice(&[0x08, 0, 0, 4, 0, 1, 0, 4]);
        assert!(!safe_for_engine(&odd));
        // A single odd-length cause (a reason string) is fine.
        let mut reason = vec![0u8; 12];
        reason.extend_from_slice(&[CT_ABORT, 0, 0, 11, 0, 12, 0, 7, b'b', b'y', b'e', 0]);
        assert!(safe_for_engine(&reason));
        // Chunk length past the packet: the engine checks that itself.
        let mut short = vec![0u8; 12];
        short.extend_from_slice(&[CT_ABORT, 0, 0, 12, 0, 1, 0, 4]);
        assert!(safe_for_engine(&short));
    }

    #[test]
    fn the_walk_follows_the_engine_between_chunks() {
        // What the engine would take for an ERROR with a 10495-byte cause.
        let trap = [CT_ERROR, 0, 0, 12, 0, 1, 0x29, 0x03, 0, 0, 0, 0];
        // SHUTDOWN COMPLETE claiming 7 bytes: the engine steps 4 and reads the trap (the
        // `sctp_handshake` fuzz target's second find).
        let mut p = vec![0u8; 12];
        p.extend_from_slice(&[CT_SHUTDOWN_COMPLETE, 0, 0, 16]);
        p.extend_from_slice(&trap);
        assert!(!safe_for_engine(&p));
        // The same bytes as the payload of a DATA chunk are data.
        let mut data = vec![0u8; 12];
        data.extend_from_slice(&[0, 3, 0, 28, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 53]);
        data.extend_from_slice(&trap);
        assert!(safe_for_engine(&data));
        // A SACK with one gap block, then that DATA: a real bundle.
        let mut bundle = vec![0u8; 12];
        bundle.extend_from_slice(&[3, 0, 0, 20, 0, 0, 0, 9, 0, 1, 0, 0, 0, 1, 0, 0]);
        bundle.extend_from_slice(&[0, 2, 0, 3]);
        bundle.extend_from_slice(&data[12..]);
        assert!(safe_for_engine(&bundle));
        // A SACK claiming more bytes than its blocks take: the engine reads the rest as a
        // chunk.
        let mut long_sack = vec![0u8; 12];
        long_sack.extend_from_slice(&[3, 0, 0, 28, 0, 0, 0, 9, 0, 1, 0, 0, 0, 0, 0, 0]);
        long_sack.extend_from_slice(&trap);
        assert!(!safe_for_engine(&long_sack));
        // A HEARTBEAT whose Heartbeat Info is shorter than the chunk: the engine re-measures
        // the chunk by the parameter and reads the trap after it.
        let mut hb = vec![0u8; 12];
        hb.extend_from_slice(&[CT_HEARTBEAT, 0, 0, 20, 0, 1, 0, 4]);
        hb.extend_from_slice(&trap);
        assert!(!safe_for_engine(&hb));
        hb[26] = 0; // the trap's cause now claims 3 bytes: refused by the engine itself
        assert!(safe_for_engine(&hb));
        // The same bytes inside a Heartbeat Info that fills the chunk are a nonce.
        let mut nonce = vec![0u8; 12];
        nonce.extend_from_slice(&[CT_HEARTBEAT, 0, 0, 20, 0, 1, 0, 16]);
        nonce.extend_from_slice(&trap);
        assert!(safe_for_engine(&nonce));
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

    /// An INIT ACK (fixed fields, Supported Extensions, then `cookie` as its State Cookie).
    fn init_ack(cookie: &[u8], tail: &[u8]) -> Vec<u8> {
        let mut chunk = vec![CT_INIT_ACK, 0, 0, 0, 1, 2, 3, 4, 0, 16, 0, 0, 4, 0, 4, 0];
        chunk.extend_from_slice(&[9, 9, 9, 9]);
        chunk.extend_from_slice(&[0x80, 0x08, 0, 6, 130, 192, 0, 0]);
        chunk.extend_from_slice(&[0, 7]);
        chunk.extend_from_slice(&u16::try_from(4 + cookie.len()).unwrap().to_be_bytes());
        chunk.extend_from_slice(cookie);
        chunk.resize((chunk.len() + 3) & !3, 0);
        chunk.extend_from_slice(tail);
        let len = u16::try_from(chunk.len()).unwrap();
        chunk[2..4].copy_from_slice(&len.to_be_bytes());
        let mut p = vec![0u8; 12];
        p.extend_from_slice(&chunk);
        p
    }

    #[test]
    fn random_bytes_inside_an_init_ack_are_not_read_as_chunks() {
        // A state cookie (random bytes in real life) that holds what would be an ERROR with
        // an overrunning cause at a 4-byte boundary: the engine never reads it as a chunk.
        let trap = [CT_ERROR, 0, 0, 12, 0, 1, 0x29, 0x03, 0, 0, 0, 0];
        let mut cookie = vec![0x5a; 8];
        cookie.extend_from_slice(&trap);
        cookie.extend_from_slice(&[0x77; 12]);
        assert!(safe_for_engine(&init_ack(&cookie, &[])));
        // Every 4-byte placement of the trap in a cookie, and every cookie length.
        for before in 0..8 {
            let mut cookie = vec![0x11; before * 4 + before % 3];
            cookie.extend_from_slice(&trap);
            assert!(
                safe_for_engine(&init_ack(&cookie, &[])),
                "trap after {before}"
            );
        }
    }

    #[test]
    fn an_init_ack_is_walked_as_the_engine_measures_it() {
        let trap = [CT_ERROR, 0, 0, 12, 0, 1, 0x29, 0x03, 0, 0, 0, 0];
        // A last parameter of exactly 4 bytes is not read by the engine, which then takes
        // those 4 bytes for the next chunk: here the start of the trap (an ERROR header
        // claiming 12 bytes that are not there, refused by the engine itself).
        let p = init_ack(&[1, 2, 3, 4], &trap[..4]);
        assert!(safe_for_engine(&p));
        // A Forward-TSN-Supported parameter that declares 4 bytes of content: the engine
        // re-measures it as empty, is then left with 4 bytes it does not read as a
        // parameter, and takes them for the next chunk: the trap's header, whose cause
        // lies after the INIT ACK.
        let mut p = init_ack(&[1, 2, 3, 4], &[0xc0, 0, 0, 8, CT_ERROR, 0, 0, 12]);
        p.extend_from_slice(&trap[4..]);
        assert!(!safe_for_engine(&p));
        // A parameter type without the "skip" bit that the engine does not know: it
        // refuses the packet, so nothing after it is read.
        let mut p = init_ack(&[1, 2, 3, 4], &[0, 5, 0, 8, 127, 0, 0, 1]);
        p.extend_from_slice(&trap);
        assert!(safe_for_engine(&p));
    }
}
