//! Depacketizers and frame assembly: the first byte picks the codec, the rest is cut into
//! payloads; each payload goes through `packet_info`, then all through `depacketize_frame`,
//! and through a frame assembler with sequence numbers, timestamps and markers taken from
//! the input. Packetize then depacketize must round-trip for VP8 and Opus.
#![no_main]

use std::time::{Duration, Instant};

use libfuzzer_sys::fuzz_target;
use rtcweb_rtp::codec::{Codec, Depacketizer, Packetizer, Payloads};
use rtcweb_rtp::frame::{AssemblerConfig, FrameAssembler};

const CODECS: [Codec; 5] = [Codec::Opus, Codec::Vp8, Codec::Vp9, Codec::H264, Codec::Av1];

fuzz_target!(|data: &[u8]| {
    let Some((&sel, rest)) = data.split_first() else {
        return;
    };
    let codec = CODECS[usize::from(sel) % CODECS.len()];
    let payloads: Vec<&[u8]> = rest.split(|&b| b == 0xfe).collect();

    let mut d = Depacketizer::new(codec);
    for p in &payloads {
        let _ = d.packet_info(p);
    }
    let mut out = Vec::new();
    let _ = d.depacketize_frame(payloads.iter().copied(), &mut out);

    let now = Instant::now();
    let config = AssemblerConfig {
        max_packets: 64,
        ..AssemblerConfig::default()
    };
    let mut a = FrameAssembler::new(1, codec, config);
    for (i, p) in payloads.iter().enumerate() {
        let b = p.first().copied().unwrap_or(0);
        let seq = u64::from(b % 8) + i as u64;
        let ts = u32::from(b / 16);
        let t = now + Duration::from_millis(i as u64 * 10);
        let _ = a.insert(t, seq, 96, ts, b & 1 == 1, p);
        if b & 2 == 2 {
            a.declare_lost(t, seq.saturating_sub(1));
        }
        a.handle_timeout(t + Duration::from_secs(3));
        while a.poll_frame().is_some() {}
        assert!(a.buffered() <= 64);
    }

    // Packetizers: any frame, any reasonable MTU.
    let mtu = 20 + usize::from(sel);
    let mut pk = Packetizer::new(codec);
    let mut out = Payloads::new();
    if pk.packetize(rest, mtu, &mut out).is_ok() {
        assert!(out.iter().all(|p| p.len() <= mtu));
        if matches!(codec, Codec::Vp8 | Codec::Opus) {
            let mut back = Vec::new();
            Depacketizer::new(codec)
                .depacketize_frame(out.iter(), &mut back)
                .expect("our own packets depacketize");
            assert_eq!(back, rest);
        }
    }
});
