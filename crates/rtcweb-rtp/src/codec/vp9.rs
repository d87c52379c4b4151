//! VP9 payload format (RFC 9628), flexible and non-flexible descriptors.

use crate::codec::bits::BitReader;
use crate::codec::{PacketInfo, Payloads, Start, even_split};
use crate::error::{Error, Result};

const I: u8 = 0x80;
const P: u8 = 0x40;
const L: u8 = 0x20;
const F: u8 = 0x10;
const B: u8 = 0x08;
const E: u8 = 0x04;
const V: u8 = 0x02;

/// What the payload descriptor says.
#[derive(Debug, Clone, Copy, Default)]
struct Descriptor {
    len: usize,
    inter_predicted: bool,
    begin: bool,
    spatial_id: u8,
    resolution: Option<(u16, u16)>,
}

fn malformed() -> Error {
    Error::Malformed("VP9 payload descriptor")
}

fn descriptor(p: &[u8]) -> Result<Descriptor> {
    let &b0 = p.first().ok_or(malformed())?;
    let mut at = 1;
    let byte = |at: &mut usize| -> Result<u8> {
        let b = *p.get(*at).ok_or(malformed())?;
        *at += 1;
        Ok(b)
    };
    let mut d = Descriptor {
        inter_predicted: b0 & P != 0,
        begin: b0 & B != 0,
        ..Descriptor::default()
    };
    if b0 & I != 0 && byte(&mut at)? & 0x80 != 0 {
        byte(&mut at)?;
    }
    if b0 & L != 0 {
        d.spatial_id = (byte(&mut at)? >> 1) & 0x07;
        if b0 & F == 0 {
            byte(&mut at)?; // TL0PICIDX
        }
    }
    if b0 & F != 0 && b0 & P != 0 {
        for _ in 0..3 {
            if byte(&mut at)? & 0x01 == 0 {
                break;
            }
        }
    }
    if b0 & V != 0 {
        let ss = byte(&mut at)?;
        let n_s = usize::from(ss >> 5) + 1;
        if ss & 0x10 != 0 {
            for i in 0..n_s {
                let w = u16::from_be_bytes([byte(&mut at)?, byte(&mut at)?]);
                let h = u16::from_be_bytes([byte(&mut at)?, byte(&mut at)?]);
                if i == 0 {
                    d.resolution = Some((w, h));
                }
            }
        }
        if ss & 0x08 != 0 {
            let n_g = byte(&mut at)?;
            for _ in 0..n_g {
                let r = (byte(&mut at)? >> 2) & 0x03;
                for _ in 0..r {
                    byte(&mut at)?;
                }
            }
        }
    }
    if p.len() <= at {
        return Err(Error::Malformed("VP9 payload without data"));
    }
    d.len = at;
    Ok(d)
}

pub(crate) fn packet_info(payload: &[u8]) -> Result<PacketInfo> {
    let d = descriptor(payload)?;
    let start = d.begin && d.spatial_id == 0;
    Ok(PacketInfo {
        start: if start { Start::Yes } else { Start::No },
        keyframe: start && !d.inter_predicted,
    })
}

pub(crate) fn depacketize(payload: &[u8], out: &mut Vec<u8>) -> Result<Option<(u16, u16)>> {
    let d = descriptor(payload)?;
    out.extend_from_slice(&payload[d.len..]);
    Ok(d.resolution)
}

/// Whether a VP9 frame is a key frame, and its size if so (from the uncompressed header,
/// VP9 bitstream specification section 6.2).
pub fn keyframe_info(frame: &[u8]) -> Option<(bool, Option<(u16, u16)>)> {
    let mut r = BitReader::new(frame);
    if r.bits(2)? != 2 {
        return None;
    }
    let low = r.bit()?;
    let high = r.bit()?;
    let profile = (high << 1) | low;
    if profile == 3 {
        r.bit()?;
    }
    if r.bit()? == 1 {
        // show_existing_frame: no new frame.
        return Some((false, None));
    }
    let key = r.bit()? == 0;
    if !key {
        return Some((false, None));
    }
    r.bits(2)?; // show_frame, error_resilient_mode
    if r.bits(24)? != 0x49_83_42 {
        return Some((true, None));
    }
    if profile >= 2 {
        r.bit()?;
    }
    let color_space = r.bits(3)?;
    if color_space != 7 {
        r.bit()?;
        if profile == 1 || profile == 3 {
            r.bits(3)?;
        }
    } else if profile == 1 || profile == 3 {
        r.bit()?;
    }
    let w = r.bits(16)? + 1;
    let h = r.bits(16)? + 1;
    Some((true, Some((w as u16, h as u16))))
}

/// State of a VP9 packetizer (non-flexible mode, one spatial layer).
#[derive(Debug, Clone, Default)]
pub(crate) struct Vp9Packetizer {
    pub picture_id: u16,
}

impl Vp9Packetizer {
    pub fn packetize(
        &mut self,
        frame: &[u8],
        max_payload: usize,
        out: &mut Payloads,
    ) -> Result<()> {
        if frame.is_empty() {
            return Err(Error::OutOfRange("empty VP9 frame"));
        }
        let (key, size) = keyframe_info(frame).unwrap_or((false, None));
        let mut ss = [0u8; 5];
        let ss_len = if key {
            match size {
                Some((w, h)) => {
                    ss[0] = 0x10; // N_S = 0, Y = 1, G = 0
                    ss[1..3].copy_from_slice(&w.to_be_bytes());
                    ss[3..5].copy_from_slice(&h.to_be_bytes());
                    5
                }
                None => 1,
            }
        } else {
            0
        };
        let first_len = 3 + ss_len;
        if max_payload <= first_len {
            return Err(Error::OutOfRange("max payload too small for VP9"));
        }
        let pid = self.picture_id & 0x7fff;
        self.picture_id = self.picture_id.wrapping_add(1);
        let chunks: Vec<&[u8]> = even_split(frame, max_payload - first_len).collect();
        let n = chunks.len();
        for (i, chunk) in chunks.into_iter().enumerate() {
            let mut b0 = I;
            if !key {
                b0 |= P;
            }
            if i == 0 {
                b0 |= B;
                if key {
                    b0 |= V;
                }
            }
            if i + 1 == n {
                b0 |= E;
            }
            let hdr = [b0, 0x80 | (pid >> 8) as u8, pid as u8];
            let ss_part: &[u8] = if i == 0 { &ss[..ss_len] } else { &[] };
            out.push_parts(&[&hdr, ss_part, chunk]);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flexible_descriptor_with_layers_and_diffs() {
        // I (7-bit pid), P, L, F, B: pid, layer byte (SID 1), two P_DIFFs, then data.
        let p = [I | P | L | F | B, 0x05, 0x02, 0x03, 0x02, 0xaa];
        let d = descriptor(&p).unwrap();
        assert_eq!(d.len, 5);
        assert_eq!(d.spatial_id, 1);
        assert!(!packet_info(&p).unwrap().keyframe);
    }

    #[test]
    fn scalability_structure_gives_resolution() {
        let p = [
            B | V,
            0x30, // N_S = 1 (two layers), Y
            0x01,
            0x40,
            0x00,
            0xb4,
            0x02,
            0x80,
            0x01,
            0x68,
            0xff,
        ];
        let mut out = Vec::new();
        assert_eq!(depacketize(&p, &mut out).unwrap(), Some((320, 180)));
        assert_eq!(out, [0xff]);
        assert!(packet_info(&p).unwrap().keyframe);
        assert!(descriptor(&p[..9]).is_err());
    }
}
