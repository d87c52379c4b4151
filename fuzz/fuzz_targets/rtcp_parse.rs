//! RTCP parsing: every packet type's view and iterators, framing validation, and the
//! session's RTCP input path (reports, NACK, PLI/FIR, TWCC, REMB, XR, BYE).
#![no_main]

use std::time::Instant;

use libfuzzer_sys::fuzz_target;
use rtcweb_rtp::codec::Codec;
use rtcweb_rtp::rtcp::{self, RtcpPacket, RtcpPackets};
use rtcweb_rtp::session::{CodecConfig, SendStreamConfig, Session, SessionConfig};

fn walk(data: &[u8]) {
    for p in RtcpPackets::new(data) {
        let Ok(p) = p else { break };
        match p {
            RtcpPacket::SenderReport(sr) => {
                let _ = sr.sender_info();
                let _ = sr.report_blocks().count();
            }
            RtcpPacket::ReceiverReport(rr) => {
                let _ = rr.report_blocks().count();
            }
            RtcpPacket::Sdes(s) => {
                for (_, items) in s.chunks() {
                    let _ = items.count();
                }
                let _ = s.cname();
            }
            RtcpPacket::Bye(b) => {
                let _ = b.ssrcs().count();
                let _ = b.reason();
            }
            RtcpPacket::Nack(n) => {
                let _ = n.lost().count();
            }
            RtcpPacket::TransportFeedback(t) => {
                let n = t.packets().count();
                assert_eq!(n, usize::from(t.packet_status_count));
            }
            RtcpPacket::Fir(f) => {
                let _ = f.entries().count();
            }
            RtcpPacket::Remb(r) => {
                let _ = r.ssrcs().count();
            }
            RtcpPacket::Xr(x) => {
                let _ = x.blocks().count();
                let _ = x.dlrr_items().count();
                let _ = x.rrtr();
            }
            _ => {}
        }
    }
}

fuzz_target!(|data: &[u8]| {
    walk(data);
    let _ = rtcp::validate(data, false);
    let _ = rtcp::validate(data, true);

    let now = Instant::now();
    let mut s = Session::new(SessionConfig::default(), now, 0);
    for ssrc in [0u32, 1, 0x0101_0101] {
        let _ = s.add_send_stream(SendStreamConfig {
            ssrc,
            rtx_ssrc: Some(ssrc ^ 0xffff),
            codecs: vec![CodecConfig {
                payload_type: 96,
                codec: Codec::Vp8,
                rtx_payload_type: Some(97),
            }],
            mid: None,
            rid: None,
        });
        for i in 0..20u8 {
            let _ = s.write_rtp(now, ssrc, 96, 0, false, &[0x90, 0x80, 0, i, 0]);
        }
    }
    let _ = s.handle_rtcp(now, data);
    while s.poll_event().is_some() {}
    while s.poll_transmit().is_some() {}
});
