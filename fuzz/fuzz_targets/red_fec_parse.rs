//! RED (RFC 2198), ULPFEC (RFC 5109) and FlexFEC-03 payloads, and FEC recovery.
//!
//! 1. The input as a RED payload, an ULPFEC payload and a FlexFEC payload: parsing never
//!    panics; what parses writes back to bytes that parse to the same thing.
//! 2. A decoder of either scheme is fed media and FEC packets cut from the input (with
//!    sequence numbers from it, including far jumps and repeats): it never panics, keeps
//!    its bounds, and everything it rebuilds is a valid RTP packet of the stream.
//! 3. An encoder protects media packets cut from the input; a decoder given the FEC and all
//!    but one of them (which one from the input) rebuilds that one byte for byte.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rtcweb_rtp::codec::Payloads;
use rtcweb_rtp::fec::{FecDecoder, FecEncoder, FecScheme, flexfec, ulpfec};
use rtcweb_rtp::red::{RedBlock, RedPayload, write_red};
use rtcweb_rtp::rtp::{RtpPacket, RtpRepr};

const SSRC: u32 = 0x0102_0304;

fn parse_and_round_trip(data: &[u8]) {
    if let Ok(red) = RedPayload::new_checked(data) {
        let blocks: Vec<RedBlock<'_>> = red.redundant().collect();
        assert_eq!(blocks.len(), red.redundant_count());
        let mut out = Vec::new();
        if write_red(
            &blocks,
            red.primary().payload_type,
            red.primary().data,
            &mut out,
        )
        .is_ok()
        {
            let back = RedPayload::new_checked(&out).expect("written RED parses");
            assert_eq!(back.redundant().collect::<Vec<_>>(), blocks);
            assert_eq!(back.primary(), red.primary());
        }
    }
    if let Ok((h, payload)) = ulpfec::parse(data) {
        let mut out = Vec::new();
        ulpfec::write(&h, payload, &mut out).expect("a parsed header writes");
        assert_eq!(
            ulpfec::parse(&out).expect("written ULPFEC parses"),
            (h, payload)
        );
    }
    if let Ok((h, payload)) = flexfec::parse(data) {
        let mut out = Vec::new();
        flexfec::write(&h, payload, &mut out).expect("a parsed header writes");
        assert_eq!(
            flexfec::parse(&out).expect("written FlexFEC parses"),
            (h, payload)
        );
    }
}

/// Feeds chunks of the input to a decoder: byte 0 of each chunk picks media or FEC, bytes
/// 1-2 the sequence number, byte 3 the length.
fn decode_anything(scheme: FecScheme, data: &[u8]) {
    let mut dec = FecDecoder::new(scheme, SSRC);
    let mut rest = data;
    let mut base = 1u64 << 20;
    while rest.len() >= 4 {
        let (head, tail) = rest.split_at(4);
        let len = usize::from(head[3]).min(tail.len());
        let (body, tail) = tail.split_at(len);
        rest = tail;
        let seq16 = u16::from_be_bytes([head[1], head[2]]);
        if head[0] & 0x40 != 0 {
            base += u64::from(head[0] & 0x3f) * 1000;
        }
        let seq = base + u64::from(seq16);
        if head[0] & 1 == 0 {
            dec.on_media(seq, body);
        } else {
            let _ = dec.on_fec(body, |s| base + u64::from(s));
        }
        while let Some(p) = dec.poll_recovered() {
            let r = RtpPacket::new_checked(&p[..]).expect("rebuilt packets are RTP");
            assert_eq!(r.ssrc(), SSRC);
            dec.recycle(p);
        }
    }
}

/// Protects packets made from the input and rebuilds the one left out.
fn protect_and_recover(scheme: FecScheme, data: &[u8]) {
    let Some((&choice, data)) = data.split_first() else {
        return;
    };
    let n = usize::from(choice % 12) + 2;
    let chunk = (data.len() / n).max(1);
    let packets: Vec<Vec<u8>> = data
        .chunks(chunk)
        .take(n)
        .enumerate()
        .filter_map(|(i, c)| {
            let (m, payload) = c.split_first().unwrap_or((&0, &[]));
            RtpRepr {
                marker: m & 1 == 1,
                payload_type: m & 0x7f,
                sequence_number: 65530u16.wrapping_add(i as u16),
                timestamp: u32::from(*m) << 8,
                ssrc: SSRC,
                csrcs: &[],
                extension: None,
                padding: m >> 7,
            }
            .to_vec(payload)
            .ok()
        })
        .collect();
    if packets.len() < 2 {
        return;
    }
    let mut enc = FecEncoder::new(scheme, SSRC);
    for p in &packets {
        enc.add(p).expect("a small group fits");
    }
    let mut fec = Payloads::new();
    // One FEC packet: it protects every packet of the group.
    enc.finish(1.0 / packets.len() as f64 + 1e-9, &mut fec);
    assert_eq!(fec.len(), 1);
    let lost = usize::from(choice >> 4) % packets.len();
    let mut dec = FecDecoder::new(scheme, SSRC);
    let ext = |i: usize| (1u64 << 20) + 65530 + i as u64;
    for (i, p) in packets.iter().enumerate().filter(|(i, _)| *i != lost) {
        dec.on_media(ext(i), p);
    }
    for f in fec.iter() {
        dec.on_fec(f, |s| (1u64 << 20) + u64::from(s))
            .expect("our FEC parses");
    }
    assert_eq!(dec.poll_recovered().as_deref(), Some(&packets[lost][..]));
}

fuzz_target!(|data: &[u8]| {
    parse_and_round_trip(data);
    decode_anything(FecScheme::Ulpfec, data);
    decode_anything(FecScheme::Flexfec03, data);
    protect_and_recover(FecScheme::Ulpfec, data);
    protect_and_recover(FecScheme::Flexfec03, data);
});
