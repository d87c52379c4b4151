//! The VP8 payload descriptor (RFC 7741 section 4.2), read and rewritten: the forwarder
//! gives the subscriber one picture-id and TL0PICIDX sequence across simulcast layers.
//!
//! rtcweb-rtp reads the descriptor (`Vp8Descriptor`: where each field is and how wide the
//! picture id is); this module writes the rewritten one.

use crate::error::{Error, Result};

/// The descriptor's fields, as rtcweb-rtp reads them.
pub(crate) use rtcweb_rtp::codec::Vp8Descriptor as Descriptor;

/// Reads the descriptor at the start of `payload`.
pub(crate) fn parse(payload: &[u8]) -> Result<Descriptor> {
    Descriptor::parse(payload).map_err(|_| Error::MalformedPayload("VP8 payload descriptor"))
}

/// Appends `payload` to `out` with the descriptor's picture id replaced by `picture_id`
/// (always written in the 15-bit form, so a 7-bit input id gains an octet and the subscriber
/// sees one width whatever layer it comes from) and TL0PICIDX by `tl0_pic_idx`. Fields the
/// input does not carry stay absent. `d` must be `parse(payload)`.
pub(crate) fn rewrite(
    payload: &[u8],
    d: &Descriptor,
    picture_id: u16,
    tl0_pic_idx: u8,
    out: &mut Vec<u8>,
) {
    let Some((head, rest)) = payload.split_at_checked(d.len) else {
        out.extend_from_slice(payload);
        return;
    };
    if head.len() < 2 {
        out.extend_from_slice(payload);
        return;
    }
    out.push(head[0]);
    out.push(head[1]);
    let mut at = 2;
    if let Some((_, width)) = d.picture_id {
        out.push(0x80 | ((picture_id >> 8) as u8 & 0x7f));
        out.push(picture_id as u8);
        at += if width == 15 { 2 } else { 1 };
    }
    if d.tl0_pic_idx.is_some() {
        out.push(tl0_pic_idx);
        at += 1;
    }
    out.extend_from_slice(head.get(at..).unwrap_or_default());
    out.extend_from_slice(rest);
}

/// Extends picture ids or TL0PICIDX values of one width to a monotonic counter, taking the
/// nearest value to the last one seen (frames reordered by less than half the range).
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Unwrapper {
    last: Option<i64>,
}

impl Unwrapper {
    /// The extended value of `v`, a `bits`-wide field.
    pub fn unwrap(&mut self, v: u16, bits: u8) -> i64 {
        let range = 1i64 << bits;
        let v = i64::from(v) & (range - 1);
        let ext = match self.last {
            None => range + v,
            Some(last) => {
                let mut d = (v - last).rem_euclid(range);
                if d >= range / 2 {
                    d -= range;
                }
                last + d
            }
        };
        if self.last.is_none_or(|l| ext > l) {
            self.last = Some(ext);
        }
        ext
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seven_bit_ids_are_written_as_fifteen() {
        // X, I (7-bit id 5), L (TL0PICIDX 9), then one octet of VP8 data.
        let p = [0x90, 0xc0, 0x05, 0x09, 0xaa];
        let d = parse(&p).unwrap();
        assert_eq!(d.picture_id, Some((5, 7)));
        assert_eq!(d.tl0_pic_idx, Some(9));
        let mut out = Vec::new();
        rewrite(&p, &d, 0x1234, 77, &mut out);
        assert_eq!(out, [0x90, 0xc0, 0x92, 0x34, 77, 0xaa]);
        let d2 = parse(&out).unwrap();
        assert_eq!(d2.picture_id, Some((0x1234, 15)));
    }

    #[test]
    fn truncated_descriptors_are_errors() {
        for p in [
            &[][..],
            &[0x80],
            &[0x80, 0x80],
            &[0x80, 0x80, 0x80],
            &[0x80, 0x40],
        ] {
            assert!(parse(p).is_err(), "{p:?}");
        }
    }

    #[test]
    fn unwrapper_handles_wrap_and_reordering() {
        let mut u = Unwrapper::default();
        let a = u.unwrap(126, 7);
        assert_eq!(u.unwrap(127, 7), a + 1);
        assert_eq!(u.unwrap(0, 7), a + 2);
        assert_eq!(u.unwrap(127, 7), a + 1);
        let mut u = Unwrapper::default();
        let b = u.unwrap(0x7fff, 15);
        assert_eq!(u.unwrap(0, 15), b + 1);
    }
}
