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
const Z: u8 = 0x01;

/// What the payload descriptor says.
#[derive(Debug, Clone, Copy, Default)]
struct Descriptor {
    len: usize,
    inter_predicted: bool,
    begin: bool,
    spatial_id: u8,
    resolution: Option<(u16, u16)>,
    layers: Vp9Layers,
}

/// The picture id and layer indices of a VP9 payload descriptor (RFC 9628 section 4.2), what
/// a forwarder needs to drop layers without reading the payload.
///
/// ```
/// use rtcweb_rtp::codec::vp9_layers;
///
/// // I (15-bit picture id 0x1234), P, L, B, E; layer byte T=2 U S=1 D; TL0PICIDX 7.
/// let l = vp9_layers(&[0xec, 0x92, 0x34, 0x53, 0x07, 0xaa]).unwrap();
/// assert_eq!(l.picture_id, Some(0x1234));
/// assert_eq!((l.spatial_id, l.temporal_id), (1, 2));
/// assert!(l.switching_up_point && l.inter_layer_dependency);
/// assert_eq!(l.tl0_pic_idx, Some(7));
/// assert!(l.begin_of_frame && l.end_of_frame && l.inter_picture_predicted);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Vp9Layers {
    /// PICTURE ID (7 or 15 bits), when present (I).
    pub picture_id: Option<u16>,
    /// The picture id is the 15-bit form (M).
    pub picture_id_15_bits: bool,
    /// P: the layer frame is predicted from an earlier picture (not a key or intra-only
    /// layer frame).
    pub inter_picture_predicted: bool,
    /// F: flexible mode (reference diffs in the descriptor, no TL0PICIDX).
    pub flexible: bool,
    /// B: the packet begins a layer frame.
    pub begin_of_frame: bool,
    /// E: the packet ends a layer frame.
    pub end_of_frame: bool,
    /// L: the descriptor carries layer indices (otherwise the ids below are 0).
    pub has_layer_indices: bool,
    /// T: temporal layer id.
    pub temporal_id: u8,
    /// U: switching up point: an upswitch to this temporal layer is possible here.
    pub switching_up_point: bool,
    /// S: spatial layer id.
    pub spatial_id: u8,
    /// D: the layer frame depends on the lower spatial layer frame of the same picture.
    pub inter_layer_dependency: bool,
    /// TL0PICIDX, in non-flexible mode with layer indices.
    pub tl0_pic_idx: Option<u8>,
    /// Z: not used as a reference by upper spatial layers of this picture.
    pub not_reference_for_upper: bool,
    /// V: the descriptor carries the scalability structure.
    pub scalability_structure: bool,
    /// P_DIFF values (flexible mode): this layer frame refers to pictures `picture_id -
    /// diff`; only the first `reference_count` are meaningful.
    pub reference_diffs: [u8; 3],
    /// Number of P_DIFF values.
    pub reference_count: u8,
}

impl Vp9Layers {
    /// The P_DIFF values of a flexible-mode descriptor.
    pub fn reference_diffs(&self) -> &[u8] {
        let n = usize::from(self.reference_count).min(3);
        &self.reference_diffs[..n]
    }
}

/// The picture id and layer indices of a VP9 payload; fails (malformed) as the
/// depacketizer does.
pub fn layers(payload: &[u8]) -> Result<Vp9Layers> {
    descriptor(payload).map(|d| d.layers)
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
    let l = &mut d.layers;
    l.inter_picture_predicted = b0 & P != 0;
    l.flexible = b0 & F != 0;
    l.begin_of_frame = b0 & B != 0;
    l.end_of_frame = b0 & E != 0;
    l.has_layer_indices = b0 & L != 0;
    l.scalability_structure = b0 & V != 0;
    l.not_reference_for_upper = b0 & Z != 0;
    if b0 & I != 0 {
        let p0 = byte(&mut at)?;
        if p0 & 0x80 != 0 {
            let p1 = byte(&mut at)?;
            l.picture_id = Some(u16::from_be_bytes([p0 & 0x7f, p1]));
            l.picture_id_15_bits = true;
        } else {
            l.picture_id = Some(u16::from(p0));
        }
    }
    if b0 & L != 0 {
        let lb = byte(&mut at)?;
        l.temporal_id = lb >> 5;
        l.switching_up_point = lb & 0x10 != 0;
        l.spatial_id = (lb >> 1) & 0x07;
        l.inter_layer_dependency = lb & 0x01 != 0;
        if b0 & F == 0 {
            l.tl0_pic_idx = Some(byte(&mut at)?);
        }
    }
    d.spatial_id = l.spatial_id;
    if b0 & F != 0 && b0 & P != 0 {
        for i in 0..3 {
            let r = byte(&mut at)?;
            d.layers.reference_diffs[i] = r >> 1;
            d.layers.reference_count += 1;
            if r & 0x01 == 0 {
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
        let l = layers(&p).unwrap();
        assert_eq!(l.picture_id, Some(5));
        assert!(!l.picture_id_15_bits && l.flexible && !l.end_of_frame);
        assert_eq!(l.reference_diffs(), [1, 1]);
        assert_eq!(l.tl0_pic_idx, None);
    }

    #[test]
    fn non_flexible_layer_indices() {
        // RFC 9628 section 4.2 layout: I with M (15-bit pid 0x0102), L; T=1, U=0, S=2, D=1;
        // TL0PICIDX 0xfe; E; Z.
        let p = [I | L | E | Z, 0x81, 0x02, 0x25, 0xfe, 0x00];
        let l = layers(&p).unwrap();
        assert_eq!(l.picture_id, Some(0x0102));
        assert_eq!((l.temporal_id, l.spatial_id), (1, 2));
        assert!(!l.switching_up_point && l.inter_layer_dependency);
        assert_eq!(l.tl0_pic_idx, Some(0xfe));
        assert!(l.end_of_frame && !l.begin_of_frame && l.not_reference_for_upper);
        assert!(!l.inter_picture_predicted);
        // Every prefix that stops inside the descriptor is refused, never a panic.
        for n in 0..p.len() {
            let e = layers(&p[..n]).unwrap_err();
            assert_eq!(e.category(), rtcweb_core::ErrorCategory::Malformed);
        }
    }

    #[test]
    fn packetizer_output_has_picture_ids() {
        let mut pk = Vp9Packetizer::default();
        let mut out = Payloads::new();
        pk.packetize(&[0x82, 0x49, 0x83, 0x42, 0x00], 1200, &mut out)
            .unwrap();
        pk.packetize(&[0x86, 0x00], 1200, &mut out).unwrap();
        let ids: Vec<_> = out.iter().map(|p| layers(p).unwrap().picture_id).collect();
        assert_eq!(ids, [Some(0), Some(1)]);
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
