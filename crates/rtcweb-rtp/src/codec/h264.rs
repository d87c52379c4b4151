//! H.264 payload format (RFC 6184), packetization mode 1: single NAL unit, STAP-A and FU-A.
//! Frames are Annex B byte streams (start code before every NAL unit).

use crate::codec::{PacketInfo, Payloads, Start};
use crate::error::{Error, Result};

const STAP_A: u8 = 24;
const FU_A: u8 = 28;
const NAL_IDR: u8 = 5;
const NAL_SPS: u8 = 7;
const NAL_PPS: u8 = 8;
const NAL_AUD: u8 = 9;
const START_CODE: [u8; 4] = [0, 0, 0, 1];

/// Splits an Annex B stream into NAL units (without start codes).
pub fn nal_units(stream: &[u8]) -> impl Iterator<Item = &[u8]> {
    let mut at = 0;
    // Skip to the first start code.
    let mut started = false;
    std::iter::from_fn(move || {
        loop {
            if at >= stream.len() {
                return None;
            }
            let rest = &stream[at..];
            let Some((pos, sc)) = find_start_code(rest) else {
                at = stream.len();
                return if started && !rest.is_empty() {
                    Some(trim_trailing_zeros(rest))
                } else {
                    None
                };
            };
            if !started {
                started = true;
                at += pos + sc;
                continue;
            }
            let nal = &rest[..pos];
            at += pos + sc;
            let nal = trim_trailing_zeros(nal);
            if !nal.is_empty() {
                return Some(nal);
            }
        }
    })
    .filter(|n: &&[u8]| !n.is_empty())
}

fn trim_trailing_zeros(nal: &[u8]) -> &[u8] {
    let end = nal.iter().rposition(|&b| b != 0).map_or(0, |p| p + 1);
    &nal[..end]
}

/// Position and length of the first 00 00 01 start code.
fn find_start_code(data: &[u8]) -> Option<(usize, usize)> {
    let i = data.windows(3).position(|w| w == [0, 0, 1])?;
    Some((i, 3))
}

fn nal_type(b: u8) -> u8 {
    b & 0x1f
}

pub(crate) fn packet_info(payload: &[u8]) -> Result<PacketInfo> {
    let &h = payload
        .first()
        .ok_or(Error::Malformed("empty H264 payload"))?;
    let mut keyframe = false;
    let mut start = Start::Unknown;
    match nal_type(h) {
        1..=23 => {
            keyframe = nal_type(h) == NAL_IDR;
            if matches!(nal_type(h), NAL_SPS | NAL_AUD) {
                start = Start::Yes;
            }
        }
        STAP_A => {
            let mut first = true;
            for nal in stap_a(payload)? {
                let t = nal.first().map_or(0, |&b| nal_type(b));
                keyframe |= t == NAL_IDR;
                if first && matches!(t, NAL_SPS | NAL_AUD) {
                    start = Start::Yes;
                }
                first = false;
            }
        }
        FU_A => {
            let &fu = payload.get(1).ok_or(Error::Malformed("FU-A header"))?;
            if fu & 0x80 == 0 {
                start = Start::No;
            } else {
                keyframe = nal_type(fu) == NAL_IDR;
            }
        }
        _ => return Err(Error::Unsupported("H264 packet type")),
    }
    Ok(PacketInfo { start, keyframe })
}

/// The NAL units of a STAP-A payload.
fn stap_a(payload: &[u8]) -> Result<impl Iterator<Item = &[u8]>> {
    // Validate first so the iterator cannot fail.
    let mut at = 1;
    while at < payload.len() {
        let len = payload
            .get(at..at + 2)
            .map(|s| usize::from(u16::from_be_bytes([s[0], s[1]])))
            .ok_or(Error::Malformed("STAP-A size"))?;
        at += 2 + len;
        if len == 0 || at > payload.len() {
            return Err(Error::Malformed("STAP-A NAL unit"));
        }
    }
    let mut at = 1;
    Ok(std::iter::from_fn(move || {
        let s = payload.get(at..at + 2)?;
        let len = usize::from(u16::from_be_bytes([s[0], s[1]]));
        let nal = payload.get(at + 2..at + 2 + len)?;
        at += 2 + len;
        Some(nal)
    }))
}

/// Depacketizer state: the parameter sets seen last, to give an IDR frame that arrives
/// without them what it needs to decode.
#[derive(Debug, Clone, Default)]
pub(crate) struct H264Depacketizer {
    sps: Vec<u8>,
    pps: Vec<u8>,
}

/// Longest parameter set we keep.
const MAX_PARAMETER_SET: usize = 512;

impl H264Depacketizer {
    fn note(&mut self, nal: &[u8]) {
        let keep = |v: &mut Vec<u8>| {
            if nal.len() <= MAX_PARAMETER_SET {
                v.clear();
                v.extend_from_slice(nal);
            }
        };
        match nal.first().map(|&b| nal_type(b)) {
            Some(NAL_SPS) => keep(&mut self.sps),
            Some(NAL_PPS) => keep(&mut self.pps),
            _ => {}
        }
    }

    /// Appends the NAL units of one payload to `out` (Annex B). An FU-A fragment that does
    /// not start a NAL unit is appended to the one before it.
    pub fn depacketize(&mut self, payload: &[u8], out: &mut Vec<u8>) -> Result<()> {
        let &h = payload
            .first()
            .ok_or(Error::Malformed("empty H264 payload"))?;
        match nal_type(h) {
            1..=23 => {
                self.note(payload);
                out.extend_from_slice(&START_CODE);
                out.extend_from_slice(payload);
            }
            STAP_A => {
                for nal in stap_a(payload)? {
                    self.note(nal);
                    out.extend_from_slice(&START_CODE);
                    out.extend_from_slice(nal);
                }
            }
            FU_A => {
                let &fu = payload.get(1).ok_or(Error::Malformed("FU-A header"))?;
                if fu & 0x80 != 0 {
                    out.extend_from_slice(&START_CODE);
                    out.push((h & 0xe0) | nal_type(fu));
                } else if out.is_empty() {
                    return Err(Error::Malformed("FU-A continuation without start"));
                }
                out.extend_from_slice(&payload[2..]);
            }
            _ => return Err(Error::Unsupported("H264 packet type")),
        }
        Ok(())
    }

    /// Called with a whole key frame: notes FU-A-carried parameter sets and prepends the
    /// cached ones when the frame lacks them.
    pub fn finish_keyframe(&mut self, frame: &mut Vec<u8>) {
        let mut has_sps = false;
        let mut has_pps = false;
        for nal in nal_units(frame) {
            match nal.first().map(|&b| nal_type(b)) {
                Some(NAL_SPS) => has_sps = true,
                Some(NAL_PPS) => has_pps = true,
                _ => {}
            }
        }
        if (has_sps && has_pps) || self.sps.is_empty() || self.pps.is_empty() {
            return;
        }
        let mut prefix = Vec::with_capacity(8 + self.sps.len() + self.pps.len());
        if !has_sps {
            prefix.extend_from_slice(&START_CODE);
            prefix.extend_from_slice(&self.sps);
        }
        if !has_pps {
            prefix.extend_from_slice(&START_CODE);
            prefix.extend_from_slice(&self.pps);
        }
        frame.splice(0..0, prefix);
    }
}

/// Whether an Annex B frame holds an IDR slice.
pub fn is_keyframe(frame: &[u8]) -> bool {
    nal_units(frame).any(|n| n.first().is_some_and(|&b| nal_type(b) == NAL_IDR))
}

/// Packetizes an Annex B frame: small NAL units (parameter sets first) are aggregated into
/// STAP-A packets, NAL units larger than a packet are fragmented with FU-A.
pub(crate) fn packetize(frame: &[u8], max_payload: usize, out: &mut Payloads) -> Result<()> {
    if max_payload < 4 {
        return Err(Error::OutOfRange("max payload too small for H264"));
    }
    let mut pending: Vec<&[u8]> = Vec::new();
    let mut pending_len = 1; // STAP-A header
    let flush = |pending: &mut Vec<&[u8]>, pending_len: &mut usize, out: &mut Payloads| {
        match pending.len() {
            0 => {}
            1 => out.push_parts(&[pending[0]]),
            _ => {
                let f = pending.iter().fold(0, |a, n| a | (n[0] & 0x80));
                let nri = pending.iter().map(|n| n[0] & 0x60).max().unwrap_or(0);
                out.begin();
                out.extend(&[f | nri | STAP_A]);
                for n in pending.iter() {
                    out.extend(&(n.len() as u16).to_be_bytes());
                    out.extend(n);
                }
                out.end();
            }
        }
        pending.clear();
        *pending_len = 1;
    };
    let mut any = false;
    for nal in nal_units(frame) {
        any = true;
        if nal.len() > max_payload {
            flush(&mut pending, &mut pending_len, out);
            let indicator = (nal[0] & 0xe0) | FU_A;
            let t = nal_type(nal[0]);
            let body = &nal[1..];
            let n = body.len().div_ceil(max_payload - 2);
            let size = body.len().div_ceil(n);
            let count = body.chunks(size).count();
            for (i, chunk) in body.chunks(size).enumerate() {
                let mut fu = t;
                if i == 0 {
                    fu |= 0x80;
                }
                if i + 1 == count {
                    fu |= 0x40;
                }
                out.push_parts(&[&[indicator, fu], chunk]);
            }
            continue;
        }
        if pending_len + 2 + nal.len() > max_payload {
            flush(&mut pending, &mut pending_len, out);
        }
        pending.push(nal);
        pending_len += 2 + nal.len();
    }
    flush(&mut pending, &mut pending_len, out);
    if !any {
        return Err(Error::OutOfRange("H264 frame without NAL units"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn annex_b_split_handles_3_and_4_byte_start_codes() {
        let s = [
            0, 0, 0, 1, 0x67, 1, 2, 0, 0, 1, 0x68, 3, 0, 0, 0, 1, 0x65, 4, 5,
        ];
        let v: Vec<_> = nal_units(&s).collect();
        assert_eq!(v, [&[0x67, 1, 2][..], &[0x68, 3], &[0x65, 4, 5]]);
    }

    #[test]
    fn idr_without_parameter_sets_gets_the_cached_ones() {
        let mut d = H264Depacketizer::default();
        let mut out = Vec::new();
        // STAP-A with SPS and PPS.
        d.depacketize(&[STAP_A, 0, 2, 0x67, 1, 0, 2, 0x68, 2], &mut out)
            .unwrap();
        out.clear();
        d.depacketize(&[0x65, 9, 9], &mut out).unwrap();
        d.finish_keyframe(&mut out);
        assert_eq!(
            out,
            [
                0, 0, 0, 1, 0x67, 1, 0, 0, 0, 1, 0x68, 2, 0, 0, 0, 1, 0x65, 9, 9
            ]
        );
    }

    #[test]
    fn malformed_payloads_are_errors() {
        let mut d = H264Depacketizer::default();
        let mut out = Vec::new();
        assert!(d.depacketize(&[STAP_A, 0, 5, 1], &mut out).is_err());
        assert!(d.depacketize(&[STAP_A, 0, 0], &mut out).is_err());
        assert!(d.depacketize(&[FU_A], &mut out).is_err());
        assert!(d.depacketize(&[FU_A, 0x05, 1], &mut Vec::new()).is_err());
        assert!(d.depacketize(&[30, 1], &mut out).is_err());
    }
}
