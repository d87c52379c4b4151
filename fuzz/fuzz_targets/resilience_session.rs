//! The session's receive path with RED, ULPFEC, FlexFEC and playout on, fed packets built
//! from the input, and the round trip of a sender with RED and FEC through a lossy link.
//!
//! 1. A receiving session has an Opus stream with RED and a jitter buffer, a VP8 stream
//!    with ULPFEC in RED (and RTX of RED) and a VP8 stream with FlexFEC, both with jitter
//!    buffers in one sync group. Packets of every kind the input describes (RED with
//!    redundant blocks, ULPFEC and FlexFEC packets with input headers, RTX of RED, sender
//!    reports, plain bytes) arrive over advancing time, with timeouts run as the session
//!    asks: it never panics, its queues stay bounded, and no audio frame comes out twice.
//! 2. A sending session with RED (distance from the input) and ULPFEC writes frames from
//!    the input; its packets reach a receiving session through a link that drops the ones
//!    the input says. Every frame that comes out is one that was written, byte for byte,
//!    and none comes out twice.
#![no_main]

use std::collections::HashSet;
use std::time::{Duration, Instant};

use libfuzzer_sys::fuzz_target;
use rtcweb_rtp::codec::Codec;
use rtcweb_rtp::fec::{FecHeader, ProtectionConfig, flexfec, ulpfec};
use rtcweb_rtp::red::{RedBlock, write_red};
use rtcweb_rtp::rtcp::{self, RtcpRepr, SenderInfo, SenderReportRepr};
use rtcweb_rtp::rtp::RtpRepr;
use rtcweb_rtp::session::{
    CodecConfig, Event, FecKind, FecSendConfig, PlayoutConfig, ReceiveResilience,
    ReceiveStreamConfig, RedConfig, SendResilience, SendStreamConfig, Session, SessionConfig,
};

const AUDIO: u32 = 0xa0;
const VIDEO: u32 = 0xb0;
const VIDEO_RTX: u32 = 0xb1;
const VIDEO2: u32 = 0xc0;
const FLEX: u32 = 0xc1;

struct Input<'a>(&'a [u8]);

impl<'a> Input<'a> {
    fn byte(&mut self) -> u8 {
        let Some((&b, rest)) = self.0.split_first() else {
            return 0;
        };
        self.0 = rest;
        b
    }
    fn u16(&mut self) -> u16 {
        u16::from_be_bytes([self.byte(), self.byte()])
    }
    fn u32(&mut self) -> u32 {
        u32::from_be_bytes([self.byte(), self.byte(), self.byte(), self.byte()])
    }
    fn bytes(&mut self, max: usize) -> &'a [u8] {
        let n = usize::from(self.byte()).min(max);
        let (head, rest) = self.0.split_at(n.min(self.0.len()));
        self.0 = rest;
        head
    }
    fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

fn codec(pt: u8, codec: Codec, rtx: Option<u8>) -> Vec<CodecConfig> {
    vec![CodecConfig {
        payload_type: pt,
        codec,
        rtx_payload_type: rtx,
    }]
}

fn base() -> Instant {
    static BASE: std::sync::OnceLock<Instant> = std::sync::OnceLock::new();
    *BASE.get_or_init(Instant::now)
}

fn rtp(ssrc: u32, pt: u8, seq: u16, ts: u32, marker: bool, payload: &[u8]) -> Vec<u8> {
    RtpRepr {
        marker,
        payload_type: pt,
        sequence_number: seq,
        timestamp: ts,
        ssrc,
        ..RtpRepr::default()
    }
    .to_vec(payload)
    .unwrap_or_default()
}

fn receiver(now: Instant) -> Session {
    let mut s = Session::new(SessionConfig::default(), now, 7);
    let streams = [
        (AUDIO, None, codec(111, Codec::Opus, None), false),
        (
            VIDEO,
            Some(VIDEO_RTX),
            codec(96, Codec::Vp8, Some(97)),
            true,
        ),
        (VIDEO2, None, codec(98, Codec::Vp8, None), false),
    ];
    for (ssrc, rtx_ssrc, codecs, nack) in streams {
        s.add_receive_stream(ReceiveStreamConfig {
            ssrc,
            rtx_ssrc,
            codecs,
            nack,
            assemble_frames: true,
        })
        .expect("new stream");
    }
    let red = |pt| ReceiveResilience {
        red_payload_type: Some(pt),
        ..ReceiveResilience::default()
    };
    let _ = s.set_receive_resilience(AUDIO, Some(red(63)));
    let _ = s.set_receive_resilience(
        VIDEO,
        Some(ReceiveResilience {
            red_rtx_payload_type: Some(119),
            ulpfec_payload_type: Some(120),
            ..red(118)
        }),
    );
    let _ = s.set_receive_resilience(
        VIDEO2,
        Some(ReceiveResilience {
            flexfec: Some((35, FLEX)),
            ..ReceiveResilience::default()
        }),
    );
    let playout = PlayoutConfig {
        sync_group: Some(1),
        max_frames: 32,
        ..PlayoutConfig::default()
    };
    for ssrc in [AUDIO, VIDEO, VIDEO2] {
        let _ = s.set_playout(now, ssrc, Some(playout));
    }
    s
}

fn fec_header(input: &mut Input<'_>) -> FecHeader {
    FecHeader {
        bits0: input.byte(),
        bits1: input.byte(),
        length_recovery: input.u16(),
        timestamp_recovery: input.u32(),
        sequence_base: input.u16(),
        mask: u128::from(input.u32()) | u128::from(input.byte()) << 40,
        protected_ssrc: Some(VIDEO2),
    }
}

fn packet(input: &mut Input<'_>) -> Vec<u8> {
    let kind = input.byte();
    let seq = input.u16();
    let ts = input.u32();
    let marker = kind & 0x80 != 0;
    match kind % 8 {
        0 => {
            // Audio RED with up to three redundant blocks.
            let n = usize::from(input.byte() % 4);
            let datas: Vec<&[u8]> = (0..n).map(|_| input.bytes(60)).collect();
            let blocks: Vec<RedBlock<'_>> = datas
                .iter()
                .enumerate()
                .map(|(i, d)| RedBlock {
                    payload_type: 111,
                    timestamp_offset: 960 * (n - i) as u32,
                    data: d,
                })
                .collect();
            let mut body = Vec::new();
            let _ = write_red(&blocks, 111, input.bytes(80), &mut body);
            rtp(AUDIO, 63, seq, ts, marker, &body)
        }
        1 => {
            // A VP8 packet in RED.
            let mut body = vec![96, 0x90, 0x80 | (input.byte() & 0x7f), input.byte()];
            body.extend_from_slice(input.bytes(200));
            rtp(VIDEO, 118, seq, ts, marker, &body)
        }
        2 => {
            // ULPFEC in RED with a header from the input.
            let h = FecHeader {
                protected_ssrc: None,
                mask: fec_header(input).mask & ((1 << 48) - 1),
                ..fec_header(input)
            };
            let mut body = vec![120];
            let _ = ulpfec::write(&h, input.bytes(200), &mut body);
            rtp(VIDEO, 118, seq, ts, false, &body)
        }
        3 => {
            // FlexFEC.
            let h = fec_header(input);
            let mut body = Vec::new();
            let _ = flexfec::write(&h, input.bytes(200), &mut body);
            rtp(FLEX, 35, seq, ts, false, &body)
        }
        4 => {
            // RTX of RED: original sequence number, then a RED payload.
            let mut body = input.u16().to_be_bytes().to_vec();
            body.extend_from_slice(&[96, 0x90, 0x80, 0x01]);
            body.extend_from_slice(input.bytes(100));
            rtp(VIDEO_RTX, 119, seq, ts, marker, &body)
        }
        5 => {
            // A plain VP8 packet of the FlexFEC stream.
            let mut body = vec![0x90, 0x80 | (input.byte() & 0x7f), input.byte()];
            body.extend_from_slice(input.bytes(200));
            rtp(VIDEO2, 98, seq, ts, marker, &body)
        }
        6 => {
            let ssrc = [AUDIO, VIDEO, VIDEO2][usize::from(input.byte() % 3)];
            let info = SenderInfo {
                ntp_time: u64::from(input.u32()) << 16,
                rtp_time: ts,
                packet_count: 0,
                octet_count: 0,
            };
            rtcp::compound_to_vec(&[RtcpRepr::SenderReport(SenderReportRepr {
                ssrc,
                sender_info: info,
                reports: &[],
            })])
            .unwrap_or_default()
        }
        _ => input.bytes(255).to_vec(),
    }
}

fn receive_anything(data: &[u8]) {
    let mut input = Input(data);
    let mut now = base();
    let mut rx = receiver(now);
    let mut audio = HashSet::new();
    while !input.is_empty() {
        now += Duration::from_millis(u64::from(input.byte() % 64));
        while let Some(t) = rx.poll_timeout().filter(|&t| t <= now) {
            rx.handle_timeout(t);
        }
        let p = packet(&mut input);
        let _ = rx.handle_input(now, &p);
        while let Some(e) = rx.poll_event() {
            if let Event::Frame(f) = e
                && f.ssrc == AUDIO
            {
                assert!(audio.insert(f.timestamp), "an audio frame came out twice");
            }
        }
        while rx.poll_transmit().is_some() {}
    }
    for ssrc in [AUDIO, VIDEO, VIDEO2] {
        if let Some(s) = rx.playout_stats(ssrc) {
            assert!(s.buffered <= 32);
        }
    }
}

fn round_trip(data: &[u8]) {
    let mut input = Input(data);
    let now = base();
    let mut tx = Session::new(SessionConfig::default(), now, 1);
    let mut rx = Session::new(SessionConfig::default(), now, 2);
    for (ssrc, codecs) in [
        (AUDIO, codec(111, Codec::Opus, None)),
        (VIDEO, codec(96, Codec::Vp8, None)),
    ] {
        tx.add_send_stream(SendStreamConfig {
            ssrc,
            rtx_ssrc: None,
            codecs,
            mid: None,
            rid: None,
        })
        .expect("new stream");
    }
    for (ssrc, codecs) in [
        (AUDIO, codec(111, Codec::Opus, None)),
        (VIDEO, codec(96, Codec::Vp8, None)),
    ] {
        rx.add_receive_stream(ReceiveStreamConfig {
            ssrc,
            rtx_ssrc: None,
            codecs,
            nack: false,
            assemble_frames: true,
        })
        .expect("new stream");
    }
    let distance = usize::from(input.byte() % 4);
    let _ = tx.set_send_resilience(
        AUDIO,
        SendResilience {
            red: Some(RedConfig {
                payload_type: 63,
                carried: 111,
                distance,
            }),
            fec: None,
        },
    );
    let protection = ProtectionConfig {
        initial_loss: f64::from(input.byte()) / 255.0,
        ..ProtectionConfig::default()
    };
    let _ = tx.set_send_resilience(
        VIDEO,
        SendResilience {
            red: None,
            fec: Some(FecSendConfig {
                kind: FecKind::Ulpfec {
                    red_payload_type: 118,
                    ulpfec_payload_type: 120,
                    red_rtx_payload_type: None,
                },
                protection,
                nack: false,
            }),
        },
    );
    let _ = rx.set_receive_resilience(
        AUDIO,
        Some(ReceiveResilience {
            red_payload_type: Some(63),
            ..ReceiveResilience::default()
        }),
    );
    let _ = rx.set_receive_resilience(
        VIDEO,
        Some(ReceiveResilience {
            red_payload_type: Some(118),
            ulpfec_payload_type: Some(120),
            ..ReceiveResilience::default()
        }),
    );
    let mut written = Vec::new();
    let mut seen = HashSet::new();
    let mut t = now;
    for n in 0..40u32 {
        if input.is_empty() {
            break;
        }
        t += Duration::from_millis(20);
        let drops = input.u32();
        if n % 2 == 0 {
            let frame = input.bytes(200).to_vec();
            if !frame.is_empty() && tx.write_frame(t, AUDIO, 111, n * 960, &frame).is_ok() {
                written.push((AUDIO, n * 960, frame));
            }
        } else {
            // A VP8 frame: a key frame first, then inter frames (the first octet says).
            let mut frame = input.bytes(255).to_vec();
            frame.extend(std::iter::repeat_n(7u8, usize::from(input.byte()) * 12));
            if frame.len() >= 10 {
                if n == 1 {
                    frame[..10].copy_from_slice(&[0x50, 0x2d, 0, 0x9d, 1, 0x2a, 0x80, 2, 0xe0, 1]);
                } else {
                    frame[0] = 0x51;
                }
                if tx.write_frame(t, VIDEO, 96, n * 3000, &frame).is_ok() {
                    written.push((VIDEO, n * 3000, frame));
                }
            }
        }
        let mut k = 0;
        while let Some(p) = tx.poll_transmit() {
            let dropped = drops >> (k % 32) & 1 == 1;
            k += 1;
            if !dropped {
                let _ = rx.handle_input(t, &p.payload);
            }
        }
        while let Some(d) = rx.poll_timeout().filter(|&d| d <= t) {
            rx.handle_timeout(d);
        }
        while let Some(e) = rx.poll_event() {
            if let Event::Frame(f) = e {
                assert!(
                    written
                        .iter()
                        .any(|(s, ts, d)| *s == f.ssrc && *ts == f.timestamp && *d == f.data),
                    "a frame that was not written came out"
                );
                assert!(seen.insert((f.ssrc, f.timestamp)), "a frame came out twice");
            }
        }
        while rx.poll_transmit().is_some() {}
    }
}

fuzz_target!(|data: &[u8]| {
    receive_anything(data);
    round_trip(data);
});
