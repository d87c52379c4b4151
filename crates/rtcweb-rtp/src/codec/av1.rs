//! AV1 payload format (AOMedia "RTP Payload Format For AV1", v1.0): OBU elements behind a
//! one-octet aggregation header `Z Y W W N 0 0 0`. Frames are in the low-overhead bitstream
//! format (every OBU carries its size field), as decoders expect.

use crate::codec::bits::{leb128_len, read_leb128, write_leb128};
use crate::codec::{PacketInfo, Payloads, Start};
use crate::error::{Error, Result};

const Z: u8 = 0x80;
const Y: u8 = 0x40;
const N: u8 = 0x08;
const OBU_SEQUENCE_HEADER: u8 = 1;
const OBU_TEMPORAL_DELIMITER: u8 = 2;
const OBU_TILE_LIST: u8 = 8;
const OBU_PADDING: u8 = 15;

fn obu_type(header: u8) -> u8 {
    (header >> 3) & 0x0f
}

/// The OBU elements of one packet: (aggregation header, elements).
fn elements(payload: &[u8]) -> Result<(u8, Vec<&[u8]>)> {
    let (&agg, mut rest) = payload
        .split_first()
        .ok_or(Error::Malformed("empty AV1 payload"))?;
    let w = usize::from((agg >> 4) & 0x03);
    let mut out = Vec::new();
    while !rest.is_empty() {
        let last = w != 0 && out.len() + 1 == w;
        let len = if last {
            rest.len()
        } else {
            let (len, n) = read_leb128(rest).ok_or(Error::Malformed("AV1 element length"))?;
            rest = &rest[n..];
            usize::try_from(len).map_err(|_| Error::Malformed("AV1 element length"))?
        };
        let e = rest
            .get(..len)
            .ok_or(Error::Malformed("AV1 element length"))?;
        out.push(e);
        rest = &rest[len..];
        if last {
            break;
        }
    }
    if w != 0 && out.len() != w {
        return Err(Error::Malformed("AV1 element count"));
    }
    Ok((agg, out))
}

pub(crate) fn packet_info(payload: &[u8]) -> Result<PacketInfo> {
    let (agg, elems) = elements(payload)?;
    let first_whole = agg & Z == 0;
    let seq_header = elems
        .iter()
        .enumerate()
        .any(|(i, e)| (i > 0 || first_whole) && e.first().is_some_and(|&h| obu_type(h) == 1));
    // A coded video sequence, a temporal delimiter or a sequence header can only begin a
    // temporal unit; other whole OBUs may sit anywhere in it.
    let begins_unit = first_whole
        && elems
            .first()
            .and_then(|e| e.first())
            .is_some_and(|&h| matches!(obu_type(h), OBU_SEQUENCE_HEADER | OBU_TEMPORAL_DELIMITER));
    Ok(PacketInfo {
        start: if agg & Z != 0 {
            Start::No
        } else if agg & N != 0 || begins_unit {
            Start::Yes
        } else {
            Start::Unknown
        },
        keyframe: agg & N != 0 || seq_header,
    })
}

/// Reassembles OBUs across the packets of one frame.
#[derive(Debug, Clone, Default)]
pub(crate) struct Av1Depacketizer {
    /// An OBU fragment continued in the next packet (the Y bit).
    partial: Vec<u8>,
}

/// Largest OBU we reassemble from fragments.
const MAX_OBU: usize = 4 << 20;

impl Av1Depacketizer {
    pub fn reset(&mut self) {
        self.partial.clear();
    }

    pub fn depacketize(&mut self, payload: &[u8], out: &mut Vec<u8>) -> Result<()> {
        let (agg, elems) = elements(payload)?;
        let n = elems.len();
        for (i, e) in elems.into_iter().enumerate() {
            let continues_previous = i == 0 && agg & Z != 0;
            let continues_next = i + 1 == n && agg & Y != 0;
            if continues_previous {
                if self.partial.is_empty() {
                    return Err(Error::Malformed("AV1 continuation without start"));
                }
            } else {
                self.partial.clear();
            }
            if self.partial.len() + e.len() > MAX_OBU {
                return Err(Error::OutOfRange("AV1 OBU too large"));
            }
            self.partial.extend_from_slice(e);
            if !continues_next {
                let obu = std::mem::take(&mut self.partial);
                write_obu(&obu, out)?;
            }
        }
        Ok(())
    }
}

/// Appends one OBU to `out` with its size field set (dropping temporal delimiters).
fn write_obu(obu: &[u8], out: &mut Vec<u8>) -> Result<()> {
    let &h = obu.first().ok_or(Error::Malformed("empty OBU"))?;
    let ext = usize::from(h & 0x04 != 0);
    let head = obu
        .get(..1 + ext)
        .ok_or(Error::Malformed("OBU extension header"))?;
    let mut body = &obu[1 + ext..];
    if h & 0x02 != 0 {
        // The sender left the size field in: trust it, not the element length.
        let (len, n) = read_leb128(body).ok_or(Error::Malformed("OBU size"))?;
        body = usize::try_from(len)
            .ok()
            .and_then(|l| body.get(n..n + l))
            .ok_or(Error::Malformed("OBU size"))?;
    }
    if obu_type(h) == OBU_TEMPORAL_DELIMITER {
        return Ok(());
    }
    out.push(h | 0x02);
    out.extend_from_slice(&head[1..]);
    write_leb128(body.len() as u64, out);
    out.extend_from_slice(body);
    Ok(())
}

/// Splits a low-overhead bitstream into OBUs: (header octets, payload).
fn obus(frame: &[u8]) -> Result<Vec<(&[u8], &[u8])>> {
    let mut out = Vec::new();
    let mut rest = frame;
    while let Some(&h) = rest.first() {
        let hl = 1 + usize::from(h & 0x04 != 0);
        let head = rest.get(..hl).ok_or(Error::Malformed("OBU header"))?;
        rest = &rest[hl..];
        let body;
        if h & 0x02 != 0 {
            let (len, n) = read_leb128(rest).ok_or(Error::Malformed("OBU size"))?;
            let len = usize::try_from(len).map_err(|_| Error::Malformed("OBU size"))?;
            body = rest.get(n..n + len).ok_or(Error::Malformed("OBU size"))?;
            rest = &rest[n + len..];
        } else {
            body = rest;
            rest = &[];
        }
        out.push((head, body));
    }
    Ok(out)
}

/// Whether a frame (low-overhead format) starts a coded video sequence.
pub fn is_keyframe(frame: &[u8]) -> bool {
    obus(frame).is_ok_and(|o| o.iter().any(|(h, _)| obu_type(h[0]) == OBU_SEQUENCE_HEADER))
}

/// Packetizes a temporal unit: OBUs lose their size fields and are carried as elements with
/// explicit lengths (W = 0), fragmented across packets where needed.
pub(crate) fn packetize(frame: &[u8], max_payload: usize, out: &mut Payloads) -> Result<()> {
    if max_payload < 4 {
        return Err(Error::OutOfRange("max payload too small for AV1"));
    }
    let list = obus(frame)?;
    let keyframe = list
        .iter()
        .any(|(h, _)| obu_type(h[0]) == OBU_SEQUENCE_HEADER);
    let mut first_packet = true;
    let mut open = false; // a packet is being written
    let mut used = 0;
    let begin = |out: &mut Payloads, z: bool, first: &mut bool| -> usize {
        out.begin();
        let mut agg = if z { Z } else { 0 };
        if *first && keyframe {
            agg |= N;
        }
        *first = false;
        out.extend(&[agg]);
        0
    };
    let mut elements = list
        .iter()
        .filter(|(h, _)| {
            !matches!(
                obu_type(h[0]),
                OBU_TEMPORAL_DELIMITER | OBU_TILE_LIST | OBU_PADDING
            )
        })
        .peekable();
    if elements.peek().is_none() {
        return Err(Error::OutOfRange("AV1 frame without OBUs"));
    }
    for (head, body) in elements {
        let elem_len = head.len() + body.len();
        let mut offset = 0;
        while offset < elem_len {
            if !open {
                used = 1 + begin(out, offset > 0, &mut first_packet);
                open = true;
            }
            let space = max_payload - used;
            // Room for a length prefix and at least one octet.
            if space < 2 {
                out.end();
                open = false;
                continue;
            }
            let left = elem_len - offset;
            let mut chunk = left.min(space - 1);
            while chunk > 0 && leb128_len(chunk as u64) + chunk > space {
                chunk -= 1;
            }
            let mut len_buf = Vec::with_capacity(4);
            write_leb128(chunk as u64, &mut len_buf);
            out.extend(&len_buf);
            // The element is header (with the size bit cleared) then body.
            let mut written = 0;
            while written < chunk {
                let pos = offset + written;
                if pos < head.len() {
                    let b = if pos == 0 { head[0] & !0x02 } else { head[pos] };
                    out.extend(&[b]);
                    written += 1;
                } else {
                    let from = pos - head.len();
                    let n = (chunk - written).min(body.len() - from);
                    out.extend(&body[from..from + n]);
                    written += n;
                }
            }
            used += len_buf.len() + chunk;
            offset += chunk;
            if offset < elem_len {
                // The element continues in the next packet.
                out.set_first_byte_flag(Y);
                out.end();
                open = false;
            }
        }
    }
    if open {
        out.end();
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn w_field_counts_elements_and_last_has_no_length() {
        // W = 2: first element with length 2, second takes the rest.
        let p = [0x20, 2, 0x30, 0xaa, 0x30, 0xbb, 0xcc];
        let (_, e) = elements(&p).unwrap();
        assert_eq!(e, [&[0x30, 0xaa][..], &[0x30, 0xbb, 0xcc]]);
        let mut d = Av1Depacketizer::default();
        let mut out = Vec::new();
        d.depacketize(&p, &mut out).unwrap();
        assert_eq!(out, [0x32, 1, 0xaa, 0x32, 2, 0xbb, 0xcc]);
        // An OBU that keeps its size field must fit it.
        assert!(
            d.depacketize(&[0x20, 2, 0x30, 0xaa, 0x32, 0x05, 0xcc], &mut out)
                .is_err()
        );
    }

    #[test]
    fn continuation_without_start_is_an_error() {
        let mut d = Av1Depacketizer::default();
        assert!(d.depacketize(&[Z, 1, 0x30], &mut Vec::new()).is_err());
    }
}

#[cfg(test)]
mod round_trip {
    use super::*;
    use crate::codec::{Codec, Depacketizer, Packetizer};

    fn temporal_unit(frame_len: usize) -> Vec<u8> {
        // Temporal delimiter, sequence header (3 octets), frame OBU with extension header.
        let mut f = vec![0x12, 0x00, 0x0a, 0x03, 0x01, 0x02, 0x03, 0x36, 0x28];
        write_leb128(frame_len as u64, &mut f);
        f.extend((0..frame_len).map(|i| (i * 13) as u8));
        f
    }

    #[test]
    fn fragments_and_aggregates_at_every_size() {
        for (len, mtu) in [
            (1usize, 40usize),
            (100, 40),
            (1000, 100),
            (6000, 1200),
            (300, 5),
        ] {
            let tu = temporal_unit(len);
            let mut out = Payloads::new();
            Packetizer::new(Codec::Av1)
                .packetize(&tu, mtu, &mut out)
                .unwrap();
            assert!(out.iter().all(|p| p.len() <= mtu), "{len}/{mtu}");
            let first = out.iter().next().unwrap();
            assert_eq!(first[0] & N, N, "new coded video sequence");
            let mut d = Depacketizer::new(Codec::Av1);
            let mut back = Vec::new();
            let info = d.depacketize_frame(out.iter(), &mut back).unwrap();
            assert!(info.keyframe);
            assert_eq!(back, tu[2..], "{len}/{mtu}");
        }
    }
}
