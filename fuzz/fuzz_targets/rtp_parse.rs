//! RTP parsing: the packet view, header extensions (raw and typed), the repr round trip, and
//! the session's RTP input path (media, RTX, unknown SSRCs) fed with the same bytes.
#![no_main]

use std::time::{Duration, Instant};

use libfuzzer_sys::fuzz_target;
use rtcweb_rtp::codec::Codec;
use rtcweb_rtp::rtp::{ExtensionMap, RtpPacket, RtpRepr};
use rtcweb_rtp::session::{CodecConfig, ReceiveStreamConfig, Session, SessionConfig};

fuzz_target!(|data: &[u8]| {
    let map = ExtensionMap::chromium_defaults();
    if let Ok(p) = RtpPacket::new_checked(data) {
        let _ = p.csrcs().iter().count();
        let _ = p.extensions().count();
        let _ = map.read(&p);
        let repr = RtpRepr::parse(&p);
        let bytes = repr
            .to_vec(p.payload())
            .expect("a parsed header re-encodes");
        let again = RtpPacket::new_checked(&bytes[..]).expect("and parses again");
        assert_eq!(RtpRepr::parse(&again), repr);
        assert_eq!(again.payload(), p.payload());
    }

    // The session input path: the first packet's SSRC and payload type as a known stream.
    let now = Instant::now();
    let mut s = Session::new(
        SessionConfig {
            extensions: map,
            ..SessionConfig::default()
        },
        now,
        0,
    );
    let codecs: Vec<CodecConfig> = [Codec::Vp8, Codec::Vp9, Codec::H264, Codec::Av1, Codec::Opus]
        .iter()
        .enumerate()
        .map(|(i, &codec)| CodecConfig {
            payload_type: 96 + 2 * i as u8,
            codec,
            rtx_payload_type: Some(97 + 2 * i as u8),
        })
        .collect();
    for (ssrc, rtx, codec) in [
        (1u32, 2u32, 0usize),
        (3, 4, 1),
        (5, 6, 2),
        (7, 8, 3),
        (9, 10, 4),
    ] {
        let _ = s.add_receive_stream(ReceiveStreamConfig {
            ssrc,
            rtx_ssrc: Some(rtx),
            codecs: vec![codecs[codec]],
            nack: true,
            assemble_frames: true,
        });
    }
    // Split the input into packets at 0xfe octets; each advances the clock as it says.
    let mut t = now;
    for (i, chunk) in data.split(|&b| b == 0xfe).enumerate() {
        t += Duration::from_millis(u64::from(chunk.first().copied().unwrap_or(0) % 50));
        let _ = s.handle_rtp(t, chunk);
        if i % 4 == 3 {
            s.handle_timeout(t);
        }
        while s.poll_event().is_some() {}
        while s.poll_transmit().is_some() {}
    }
    s.handle_timeout(t + Duration::from_secs(5));
    while s.poll_transmit().is_some() {}
});
