//! H.264 simulcast: the switch waits for a frame that starts with SPS/PPS and an IDR slice
//! (the packetizer's STAP-A), and the subscriber decodes every frame across it.
#![allow(clippy::unwrap_used)] // test code: a panic is a failed test

use std::time::{Duration, Instant};

use rtcweb_rtp::codec::{Codec, Packetizer, Payloads};
use rtcweb_rtp::frame::{AssemblerConfig, FrameAssembler};
use rtcweb_rtp::seq::SeqUnwrapper;
use rtcweb_sfu::{Feedback, Forwarder, ForwarderConfig, Input, PublisherPacket, Transmit};

const MAGIC: [u8; 2] = [0xab, 0xcd];

/// An Annex B access unit: SPS, PPS and an IDR slice for a key frame, one non-IDR slice
/// otherwise; the slice carries the layer and frame index after `MAGIC`.
fn access_unit(key: bool, layer: u8, index: u32, size: usize) -> Vec<u8> {
    let mut au = Vec::new();
    if key {
        au.extend_from_slice(&[0, 0, 0, 1, 0x67, 0x42, 0xc0, 0x1f, 0xda]);
        au.extend_from_slice(&[0, 0, 0, 1, 0x68, 0xce, 0x3c, 0x80]);
        au.extend_from_slice(&[0, 0, 0, 1, 0x65, 0x88]);
    } else {
        au.extend_from_slice(&[0, 0, 0, 1, 0x41, 0x9a]);
    }
    au.extend_from_slice(&MAGIC);
    // In text: zero octets would form start codes inside the slice.
    au.push(b'A' + layer);
    au.extend_from_slice(format!("{index:08}").as_bytes());
    // Emulation-free filler.
    au.resize(au.len() + size, 0x55);
    au
}

#[test]
fn h264_layers_switch_at_idr_frames_and_stay_decodable() {
    let t0 = Instant::now();
    let mut now = t0;
    let rates = [200_000u64, 800_000];
    let mut packetizers = [Packetizer::new(Codec::H264), Packetizer::new(Codec::H264)];
    let mut seqs = [1000u16, 50_000];
    let mut key_next = [true, true];
    let mut f = Forwarder::new(ForwarderConfig::new(Codec::H264, 77), t0).unwrap();
    let mut assembler = FrameAssembler::new(77, Codec::H264, AssemblerConfig::default());
    let mut unwrap = SeqUnwrapper::new();
    let mut decoded: Vec<(bool, u8, u32)> = Vec::new();
    let mut estimate = 300_000;
    let mut payloads = Payloads::new();
    for frame in 0..300u32 {
        if frame == 90 {
            estimate = 2_000_000;
        }
        f.handle_input(now, Input::Estimate(estimate)).unwrap();
        let mut requests = Vec::new();
        for l in 0..2 {
            let key = std::mem::take(&mut key_next[l]);
            let size = (rates[l] / 8 / 30) as usize;
            payloads.clear();
            let au = access_unit(key, l as u8, frame, size);
            packetizers[l].packetize(&au, 1100, &mut payloads).unwrap();
            let n = payloads.len();
            for (k, payload) in payloads.iter().enumerate() {
                let p = PublisherPacket {
                    layer: l as u8,
                    ssrc: 10 + l as u32,
                    payload_type: 102,
                    sequence_number: seqs[l],
                    timestamp: frame * 3000 + 17 * l as u32,
                    marker: k + 1 == n,
                    payload,
                };
                seqs[l] = seqs[l].wrapping_add(1);
                f.handle_input(now, Input::Rtp(p)).unwrap();
                while let Some(t) = f.poll_transmit() {
                    match t {
                        Transmit::Subscriber(out) => {
                            let ext = unwrap.unwrap(out.sequence_number);
                            assembler
                                .insert(now, ext, 102, out.timestamp, out.marker, &out.payload)
                                .unwrap();
                        }
                        Transmit::Publisher(Feedback::KeyFrameRequest { layer, .. }) => {
                            requests.push(layer)
                        }
                        other => panic!("{other:?}"),
                    }
                }
            }
        }
        for l in requests {
            key_next[usize::from(l)] = true;
        }
        while let Some(fr) = assembler.poll_frame() {
            let at = fr.data.windows(2).position(|w| w == MAGIC).unwrap();
            let layer = fr.data[at + 2] - b'A';
            let index: u32 = std::str::from_utf8(&fr.data[at + 3..at + 11])
                .unwrap()
                .parse()
                .unwrap();
            decoded.push((fr.keyframe, layer, index));
        }
        now += Duration::from_nanos(1_000_000_000 / 30);
    }
    // Every frame is a key frame or follows the one before it on the same layer.
    for w in decoded.windows(2) {
        let ((_, l0, i0), (key, l1, i1)) = (w[0], w[1]);
        assert!(
            key || (l0 == l1 && i1 == i0 + 1),
            "{:?} then {:?}",
            w[0],
            w[1]
        );
    }
    assert!(decoded[0].0);
    let layers: Vec<u8> = decoded.iter().map(|d| d.1).collect();
    assert_eq!(layers.first(), Some(&0));
    assert_eq!(layers.last(), Some(&1));
    assert_eq!(f.current_layer(), Some(1));
    assert_eq!(f.stats().layer_switches, 2);
    let st = assembler.stats();
    assert_eq!((st.packets_dropped, st.frames_malformed), (0, 0), "{st:?}");
    // Every frame from the first to the last arrived (one per frame interval).
    assert!(decoded.len() >= 299, "{}", decoded.len());
}
