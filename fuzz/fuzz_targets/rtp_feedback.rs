//! Structure-aware RTP header extensions and transport-wide congestion control feedback,
//! which the byte-level `rtp_parse` and `rtcp_parse` targets rarely form (their corpora
//! reached none of `rtcp/twcc.rs` and a sixth of `rtp/extension.rs`).
//!
//! 1. Header extension values from the input (mid, rid, repaired rid, abs-send-time,
//!    transport-wide sequence number, audio level, video orientation, playout delay),
//!    written with Chromium's id map (one-byte form) or a map with large ids (two-byte
//!    form): they read back equal; a copy with one byte changed still reads without panic.
//! 2. A sending session with the transport-wide extension sends packets; TWCC feedback
//!    built from the input (statuses and deltas of every size) about them emits, parses
//!    back to the same packets, and goes through the session's RTCP input, whole and with
//!    a byte changed.
//! 3. A receiving session gets packets with transport-wide sequence numbers from the input;
//!    the feedback it sends parses and reports only sequence numbers it received.
#![no_main]

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use libfuzzer_sys::fuzz_target;
use rtcweb_rtp::codec::Codec;
use rtcweb_rtp::rtcp::{RtcpPacket, RtcpPackets, TransportFeedbackRepr};
use rtcweb_rtp::rtp::{
    AudioLevel, ExtensionKind, ExtensionMap, HeaderExtensions, PlayoutDelay, RtpPacket, RtpRepr,
    VideoOrientation,
};
use rtcweb_rtp::session::{
    CodecConfig, Event, PacketKind, ReceiveStreamConfig, SendStreamConfig, Session, SessionConfig,
};

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
    fn text(&mut self) -> &'a str {
        let n = usize::from(self.byte() % 24);
        let (head, rest) = self.0.split_at(n.min(self.0.len()));
        self.0 = rest;
        std::str::from_utf8(head).unwrap_or("x")
    }
}

fn vp8() -> Vec<CodecConfig> {
    vec![CodecConfig {
        payload_type: 96,
        codec: Codec::Vp8,
        rtx_payload_type: None,
    }]
}

fn base() -> Instant {
    static BASE: std::sync::OnceLock<Instant> = std::sync::OnceLock::new();
    *BASE.get_or_init(Instant::now)
}

fn extensions(input: &mut Input<'_>) {
    let flags = input.u16();
    let map = if flags & 1 == 0 {
        ExtensionMap::chromium_defaults()
    } else {
        // Ids above 14 need the two-byte form.
        let mut m = ExtensionMap::new();
        for (i, kind) in ExtensionKind::ALL.iter().enumerate() {
            let _ = m.insert(20 + i as u8, *kind);
        }
        m
    };
    let on = |bit: u16| flags & (1 << bit) != 0;
    let (mid, rid, repaired) = (input.text(), input.text(), input.text());
    let values = HeaderExtensions {
        mid: on(1).then_some(mid),
        rid: on(2).then_some(rid),
        repaired_rid: on(3).then_some(repaired),
        abs_send_time: on(4).then(|| input.u32() & 0x00ff_ffff),
        transport_cc: on(5).then(|| input.u16()),
        audio_level: on(6).then(|| {
            let b = input.byte();
            AudioLevel {
                voice: b & 0x80 != 0,
                level: b & 0x7f,
            }
        }),
        video_orientation: on(7).then(|| {
            let b = input.byte();
            VideoOrientation {
                back_camera: b & 8 != 0,
                flip: b & 4 != 0,
                rotation: b & 3,
            }
        }),
        playout_delay: on(8).then(|| PlayoutDelay {
            min: input.u16() & 0x0fff,
            max: input.u16() & 0x0fff,
        }),
    };
    let mut scratch = [0u8; 1100];
    let Ok(block) = map.write(&values, &mut scratch) else {
        return;
    };
    let bytes = RtpRepr {
        payload_type: 96,
        sequence_number: input.u16(),
        ssrc: 7,
        extension: block,
        ..RtpRepr::default()
    }
    .to_vec(b"payload")
    .expect("an extension block that was written fits a packet");
    let p = RtpPacket::new_checked(&bytes[..]).expect("our packet parses");
    assert_eq!(map.read(&p), values, "header extensions round trip");
    let mut bad = bytes.clone();
    let at = 12 + usize::from(input.byte()) % (bad.len() - 12);
    bad[at] ^= input.byte() | 1;
    if let Ok(p) = RtpPacket::new_checked(&bad[..]) {
        let _ = map.read(&p);
        let _ = p.extensions().count();
    }
}

fn feedback_to_sender(input: &mut Input<'_>) {
    let map = ExtensionMap::chromium_defaults();
    let now = base();
    let config = SessionConfig {
        extensions: map.clone(),
        ..SessionConfig::default()
    };
    let mut s = Session::new(config, now, 1);
    s.add_send_stream(SendStreamConfig {
        ssrc: 1,
        rtx_ssrc: None,
        codecs: vp8(),
        mid: None,
        rid: None,
    })
    .expect("stream");
    let mut sent = Vec::new();
    for i in 0..input.byte() % 48 {
        let t = now + Duration::from_millis(u64::from(i) * 5);
        let _ = s.write_rtp(t, 1, 96, u32::from(i) * 3000, true, &[0x10, 0, 0, 0, i]);
        while let Some(x) = s.poll_transmit() {
            if x.kind == PacketKind::Rtp
                && let Ok(p) = RtpPacket::new_checked(&x.payload[..])
                && let Some(seq) = map.read(&p).transport_cc
            {
                sent.push(seq);
            }
        }
    }
    let flags = input.byte();
    let base_sequence_number = match sent.first() {
        Some(first) if flags & 1 == 0 => first.wrapping_add(u16::from(flags >> 4)),
        _ => input.u16(),
    };
    let count = usize::from(input.byte());
    let packets: Vec<Option<i32>> = (0..count)
        .map(|_| match input.byte() {
            0xff => None,
            b @ 0x80..=0xfe => Some((i32::from(b) - 0xbf) * 300),
            b => Some(i32::from(b)),
        })
        .collect();
    let repr = TransportFeedbackRepr {
        sender_ssrc: 9,
        media_ssrc: 1,
        base_sequence_number,
        reference_time: input.u32() & 0x00ff_ffff,
        feedback_packet_count: flags,
        packets: &packets,
    };
    let mut buf = vec![0u8; repr.buffer_len()];
    let Ok(n) = repr.emit(&mut buf) else {
        return;
    };
    let buf = &buf[..n];
    let mut parsed = Vec::new();
    for p in RtcpPackets::new(buf) {
        if let Ok(RtcpPacket::TransportFeedback(t)) = p {
            parsed.extend(t.packets());
        }
    }
    let expected: Vec<(u16, Option<i32>)> = packets
        .iter()
        .enumerate()
        .map(|(i, p)| (base_sequence_number.wrapping_add(i as u16), *p))
        .collect();
    assert_eq!(parsed, expected, "TWCC feedback round trip");
    let later = now + Duration::from_secs(1);
    let _ = s.handle_rtcp(later, buf);
    while let Some(e) = s.poll_event() {
        if let Event::TransportFeedback(v) = e {
            for f in v {
                assert!(f.arrival_us.is_none() || sent.contains(&(f.sequence as u16)));
            }
        }
    }
    let mut bad = buf.to_vec();
    let at = usize::from(input.byte()) % bad.len();
    bad[at] ^= input.byte() | 1;
    let _ = s.handle_rtcp(later, &bad);
    while s.poll_event().is_some() {}
    while s.poll_transmit().is_some() {}
}

fn feedback_from_receiver(input: &mut Input<'_>) {
    let map = ExtensionMap::chromium_defaults();
    let mut now = base();
    let config = SessionConfig {
        extensions: map.clone(),
        ..SessionConfig::default()
    };
    let interval = config.twcc_interval;
    let mut r = Session::new(config, now, 2);
    r.add_receive_stream(ReceiveStreamConfig {
        ssrc: 5,
        rtx_ssrc: None,
        codecs: vp8(),
        nack: false,
        assemble_frames: false,
    })
    .expect("stream");
    let mut received = BTreeSet::new();
    let mut reported = BTreeSet::new();
    for i in 0..input.byte() % 64 {
        let tseq = input.u16();
        let values = HeaderExtensions {
            transport_cc: Some(tseq),
            ..HeaderExtensions::default()
        };
        let mut scratch = [0u8; 64];
        let block = map.write(&values, &mut scratch).expect("fits");
        let bytes = RtpRepr {
            payload_type: 96,
            sequence_number: u16::from(i),
            ssrc: 5,
            extension: block,
            ..RtpRepr::default()
        }
        .to_vec(&[0x10, 0, 0, 0])
        .expect("fits");
        if r.handle_rtp(now, &bytes).is_ok() {
            received.insert(tseq);
        }
        now += Duration::from_millis(u64::from(input.byte()));
        if r.poll_timeout().is_some_and(|t| t <= now) {
            r.handle_timeout(now);
        }
        collect(&mut r, &mut reported);
    }
    now += interval * 2;
    r.handle_timeout(now);
    collect(&mut r, &mut reported);
    assert!(
        reported.is_subset(&received),
        "feedback reports packets that never came: {:?}",
        reported.difference(&received).collect::<Vec<_>>()
    );
}

/// The sequence numbers our feedback reports as received.
fn collect(r: &mut Session, reported: &mut BTreeSet<u16>) {
    while let Some(x) = r.poll_transmit() {
        if x.kind != PacketKind::Rtcp {
            continue;
        }
        for p in RtcpPackets::new(&x.payload) {
            if let Ok(RtcpPacket::TransportFeedback(t)) = p {
                reported.extend(t.packets().filter(|(_, d)| d.is_some()).map(|(s, _)| s));
            }
        }
    }
    while r.poll_event().is_some() {}
}

fuzz_target!(|data: &[u8]| {
    let mut input = Input(data);
    extensions(&mut input);
    feedback_to_sender(&mut input);
    feedback_from_receiver(&mut input);
});
