//! The harness's own wire format: media packets carry a flow id, kind, transport-wide
//! sequence number and send time; feedback carries (sequence, arrival) records. Compact
//! and private to the tests (the RTCP TWCC codec lives in rtcweb-rtp).

use rtcweb_bwe::{PacketKind, PacketResult};

/// Bytes of the media header.
pub const MEDIA_HEADER: usize = 18;
/// First byte of a feedback datagram.
const FEEDBACK_TAG: u8 = 0xfb;

/// A media (or padding) packet's header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MediaHeader {
    pub flow: u8,
    pub kind: PacketKind,
    pub seq: u64,
    /// Send time, microseconds since the simulation start.
    pub send_us: u64,
}

fn kind_byte(k: PacketKind) -> u8 {
    match k {
        PacketKind::Audio => 0,
        PacketKind::Video => 1,
        PacketKind::Retransmission => 2,
        PacketKind::Padding => 3,
    }
}

/// A datagram payload of `size` bytes (at least the header) carrying `h`.
pub fn media(h: MediaHeader, size: usize) -> Vec<u8> {
    let mut p = Vec::with_capacity(size.max(MEDIA_HEADER));
    p.push(h.flow);
    p.push(kind_byte(h.kind));
    p.extend_from_slice(&h.seq.to_be_bytes());
    p.extend_from_slice(&h.send_us.to_be_bytes());
    p.resize(size.max(MEDIA_HEADER), 0);
    p
}

/// Parses a media header.
pub fn parse_media(p: &[u8]) -> Option<MediaHeader> {
    if p.len() < MEDIA_HEADER || p[0] == FEEDBACK_TAG {
        return None;
    }
    let kind = match p[1] {
        0 => PacketKind::Audio,
        1 => PacketKind::Video,
        2 => PacketKind::Retransmission,
        3 => PacketKind::Padding,
        _ => return None,
    };
    Some(MediaHeader {
        flow: p[0],
        kind,
        seq: u64::from_be_bytes(p[2..10].try_into().ok()?),
        send_us: u64::from_be_bytes(p[10..18].try_into().ok()?),
    })
}

/// A feedback datagram: tag, then per record the sequence number and the arrival time in
/// microseconds (`i64::MIN` for lost).
pub fn feedback(records: &[PacketResult]) -> Vec<u8> {
    let mut p = Vec::with_capacity(1 + records.len() * 16);
    p.push(FEEDBACK_TAG);
    for r in records {
        p.extend_from_slice(&r.seq.to_be_bytes());
        p.extend_from_slice(&r.arrival_us.unwrap_or(i64::MIN).to_be_bytes());
    }
    p
}

/// Parses a feedback datagram into `out` (cleared first); false if it is not one.
pub fn parse_feedback(p: &[u8], out: &mut Vec<PacketResult>) -> bool {
    out.clear();
    let Some((&FEEDBACK_TAG, rest)) = p.split_first() else {
        return false;
    };
    for rec in rest.chunks_exact(16) {
        let seq = u64::from_be_bytes(rec[..8].try_into().unwrap_or_default());
        let at = i64::from_be_bytes(rec[8..].try_into().unwrap_or_default());
        out.push(PacketResult {
            seq,
            arrival_us: (at != i64::MIN).then_some(at),
        });
    }
    true
}
