//! The RTP session between two peers on a virtual clock: reports and RTT, loss and jitter
//! statistics, keyframe requests, transport-wide CC feedback, RTX and frame delivery for
//! every codec.

#![allow(clippy::unwrap_used)] // test helpers unwrap what the test itself set up

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use rtcweb_rtp::codec::Codec;
use rtcweb_rtp::rtcp::{self, Pli, RtcpPacket, RtcpPackets, RtcpRepr};
use rtcweb_rtp::rtp::{ExtensionKind, ExtensionMap, RtpPacket};
use rtcweb_rtp::session::{
    CodecConfig, Event, KeyframeRequest, PacketKind, ReceiveStreamConfig, SendStreamConfig,
    Session, SessionConfig,
};

const SSRC: u32 = 0xa1;
const RTX: u32 = 0xa2;

fn codec(pt: u8, codec: Codec, rtx: Option<u8>) -> CodecConfig {
    CodecConfig {
        payload_type: pt,
        codec,
        rtx_payload_type: rtx,
    }
}

fn config() -> SessionConfig {
    let mut extensions = ExtensionMap::new();
    extensions
        .insert(3, ExtensionKind::TransportWideCc)
        .unwrap();
    extensions.insert(2, ExtensionKind::AbsSendTime).unwrap();
    extensions.insert(4, ExtensionKind::Mid).unwrap();
    SessionConfig {
        extensions,
        ..SessionConfig::default()
    }
}

/// Decides whether a datagram is dropped.
type DropFilter = Box<dyn FnMut(&[u8]) -> bool>;

/// Two sessions joined by a link with a fixed one-way delay and a drop filter.
struct Pair {
    now: Instant,
    a: Session,
    b: Session,
    delay: Duration,
    /// (arrival, to_b, bytes)
    flight: VecDeque<(Instant, bool, Vec<u8>)>,
    /// Drops a datagram going a→b when it returns true.
    drop_ab: DropFilter,
    events_a: Vec<Event>,
    events_b: Vec<Event>,
    sent_ab: Vec<Vec<u8>>,
}

impl Pair {
    fn new(codecs: Vec<CodecConfig>, rtx: bool) -> Self {
        let now = Instant::now();
        let mut a = Session::new(config(), now, 1);
        a.add_send_stream(SendStreamConfig {
            ssrc: SSRC,
            rtx_ssrc: rtx.then_some(RTX),
            codecs: codecs.clone(),
            mid: Some("v".into()),
            rid: None,
        })
        .unwrap();
        let mut b = Session::new(config(), now, 2);
        b.add_receive_stream(ReceiveStreamConfig {
            ssrc: SSRC,
            rtx_ssrc: rtx.then_some(RTX),
            codecs,
            nack: true,
            assemble_frames: true,
        })
        .unwrap();
        Self {
            now,
            a,
            b,
            delay: Duration::from_millis(30),
            flight: VecDeque::new(),
            drop_ab: Box::new(|_| false),
            events_a: Vec::new(),
            events_b: Vec::new(),
            sent_ab: Vec::new(),
        }
    }

    fn flush(&mut self) {
        while let Some(t) = self.a.poll_transmit() {
            self.sent_ab.push(t.payload.clone());
            if !(self.drop_ab)(&t.payload) {
                self.flight
                    .push_back((self.now + self.delay, true, t.payload));
            }
        }
        while let Some(t) = self.b.poll_transmit() {
            self.flight
                .push_back((self.now + self.delay, false, t.payload));
        }
        while let Some(e) = self.a.poll_event() {
            self.events_a.push(e);
        }
        while let Some(e) = self.b.poll_event() {
            self.events_b.push(e);
        }
    }

    /// Runs until `until`, delivering datagrams and firing timeouts in time order.
    fn run_until(&mut self, until: Instant) {
        loop {
            self.flush();
            let next = [
                self.a.poll_timeout(),
                self.b.poll_timeout(),
                self.flight.iter().map(|f| f.0).min(),
            ]
            .into_iter()
            .flatten()
            .min();
            let Some(next) = next.filter(|&t| t <= until) else {
                self.now = until;
                return;
            };
            self.now = self.now.max(next);
            let now = self.now;
            let due: Vec<_> = {
                let (d, keep): (Vec<_>, Vec<_>) = self.flight.drain(..).partition(|f| f.0 <= now);
                self.flight = keep.into();
                d
            };
            for (_, to_b, bytes) in due {
                if to_b {
                    let _ = self.b.handle_input(now, &bytes);
                } else {
                    let _ = self.a.handle_input(now, &bytes);
                }
            }
            if self.a.poll_timeout().is_some_and(|t| t <= now) {
                self.a.handle_timeout(now);
            }
            if self.b.poll_timeout().is_some_and(|t| t <= now) {
                self.b.handle_timeout(now);
            }
        }
    }

    fn run_for(&mut self, d: Duration) {
        let until = self.now + d;
        self.run_until(until);
    }

    fn frames_b(&self) -> Vec<&rtcweb_rtp::frame::Frame> {
        self.events_b
            .iter()
            .filter_map(|e| match e {
                Event::Frame(f) => Some(f),
                _ => None,
            })
            .collect()
    }
}

fn vp8(key: bool, len: usize, fill: u8) -> Vec<u8> {
    let mut f = vec![fill; len];
    if key {
        f[..10].copy_from_slice(&[0x50, 0x2d, 0x00, 0x9d, 0x01, 0x2a, 0x40, 0x01, 0xb4, 0x00]);
    } else {
        f[0] = 0x51;
    }
    f
}

#[test]
fn reports_carry_loss_jitter_and_give_both_sides_the_rtt() {
    let mut p = Pair::new(vec![codec(111, Codec::Opus, None)], false);
    // Every 10th packet is lost for good (Opus without NACK answers: no history hits).
    let mut n = 0u32;
    p.drop_ab = Box::new(move |d| {
        if RtpPacket::new_checked(d).is_ok_and(|r| r.payload_type() == 111) {
            n += 1;
            n.is_multiple_of(10)
        } else {
            false
        }
    });
    let start = p.now;
    for i in 0..500u32 {
        let at = start + Duration::from_millis(20 * u64::from(i));
        p.run_until(at);
        p.a.write_frame(at, SSRC, 111, i * 960, &[0xfc, i as u8, 1, 2, 3])
            .unwrap();
    }
    p.run_for(Duration::from_secs(3));
    let stats = p.b.receive_stats(SSRC).unwrap();
    // The receiver NACKed, but the sender's history answered with plain resends.
    assert_eq!(stats.expected(), 500);
    assert!(stats.received >= 450, "{stats:?}");
    // Packets are paced exactly on the 48 kHz clock: jitter stays at zero.
    assert_eq!(stats.jitter(), 0);
    let sent = p.a.send_stats(SSRC).unwrap();
    assert_eq!(sent.packets, 500);
    assert!(sent.retransmissions > 0);
    let report = sent.last_report.expect("the peer reported on our stream");
    assert_eq!(report.ssrc, SSRC);
    assert_eq!(
        report.extended_highest_sequence as u16,
        p.sent_ab
            .iter()
            .filter_map(|d| RtpPacket::new_checked(&d[..]).ok())
            .filter(|r| r.ssrc() == SSRC)
            .map(|r| r.sequence_number())
            .next_back()
            .unwrap()
    );
    let rtt_a = p.a.rtt().unwrap();
    let rtt_b = p.b.rtt().unwrap();
    for rtt in [rtt_a, rtt_b] {
        assert!(
            (rtt.as_secs_f64() - 0.060).abs() < 0.002,
            "RTT {rtt:?}, want 60 ms"
        );
    }
    assert!(p.events_a.iter().any(|e| matches!(e, Event::Rtt(_))));
    assert!(
        p.events_b
            .iter()
            .any(|e| matches!(e, Event::SenderReport { ssrc: SSRC, .. }))
    );
    // Opus frames are single packets delivered in order.
    let frames = p.frames_b();
    assert!(frames.len() >= 450);
    assert!(frames.windows(2).all(|w| w[0].timestamp < w[1].timestamp));
}

#[test]
fn regular_reports_follow_the_reduced_minimum_interval() {
    let mut p = Pair::new(vec![codec(96, Codec::Vp8, None)], false);
    p.run_for(Duration::from_secs(60));
    let reports = p
        .sent_ab
        .iter()
        .filter(|d| d[1] == rtcp::PT_SR || d[1] == rtcp::PT_RR)
        .count();
    // 2 Mbit/s: Tmin = 360 / 2000 = 0.18 s, randomized by [0.5, 1.5] / 1.21828: a mean
    // of 0.148 s, so about 400 reports in 60 s.
    assert!((300..=520).contains(&reports), "{reports} reports in 60 s");
    // Compound, led by SR or RR, with an SDES CNAME, as RFC 3550 requires.
    for d in &p.sent_ab {
        rtcp::validate(d, false).unwrap();
    }
}

#[test]
fn nack_is_answered_with_rtx_and_the_frame_is_whole() {
    let mut p = Pair::new(vec![codec(96, Codec::Vp8, Some(97))], true);
    // Lose the second media packet once.
    let mut seen = 0;
    p.drop_ab = Box::new(move |d| {
        if RtpPacket::new_checked(d).is_ok_and(|r| r.ssrc() == SSRC) {
            seen += 1;
            seen == 2
        } else {
            false
        }
    });
    let now = p.now;
    let key = vp8(true, 5000, 7);
    p.a.write_frame(now, SSRC, 96, 0, &key).unwrap();
    p.run_for(Duration::from_millis(500));
    let rtx: Vec<_> = p
        .sent_ab
        .iter()
        .filter_map(|d| RtpPacket::new_checked(&d[..]).ok())
        .filter(|r| r.ssrc() == RTX)
        .map(|r| (r.payload_type(), r.payload().len()))
        .collect();
    assert_eq!(rtx.len(), 1, "one RTX packet");
    assert_eq!(rtx[0].0, 97);
    let frames = p.frames_b();
    assert_eq!(frames.len(), 1);
    assert_eq!(frames[0].data, key);
    assert!(frames[0].keyframe);
    assert_eq!(frames[0].resolution, Some((320, 180)));
    let stats = p.b.receive_stats(SSRC).unwrap();
    assert_eq!(stats.recovered, 1);
    assert_eq!(stats.nacks_sent, 1);
    assert_eq!(p.a.send_stats(SSRC).unwrap().retransmissions, 1);
}

#[test]
fn pli_and_fir_go_out_and_come_in_once() {
    let mut p = Pair::new(vec![codec(96, Codec::Vp8, None)], false);
    let now = p.now;
    p.a.write_frame(now, SSRC, 96, 0, &vp8(true, 100, 1))
        .unwrap();
    p.run_for(Duration::from_millis(100));
    let now = p.now;
    assert!(
        p.b.request_keyframe(now, SSRC, KeyframeRequest::Pli)
            .unwrap()
    );
    // Rate limited.
    assert!(
        !p.b.request_keyframe(now, SSRC, KeyframeRequest::Pli)
            .unwrap()
    );
    p.run_for(Duration::from_millis(400));
    let now = p.now;
    assert!(
        p.b.request_keyframe(now, SSRC, KeyframeRequest::Fir)
            .unwrap()
    );
    p.run_for(Duration::from_millis(100));
    let kinds: Vec<_> = p
        .events_a
        .iter()
        .filter_map(|e| match e {
            Event::KeyframeRequested { ssrc: SSRC, kind } => Some(*kind),
            _ => None,
        })
        .collect();
    assert_eq!(kinds, [KeyframeRequest::Pli, KeyframeRequest::Fir]);
    // A FIR repeated with the same command sequence number is the same request; a new
    // number is a new one.
    let now = p.now;
    for seq in [9u8, 9, 10] {
        let fir = rtcp::compound_to_vec(&[RtcpRepr::Fir(rtcp::FirRepr {
            sender_ssrc: 77,
            entries: &[rtcp::FirEntry {
                ssrc: SSRC,
                sequence_number: seq,
            }],
        })])
        .unwrap();
        p.a.handle_rtcp(now, &fir).unwrap();
    }
    p.flush();
    assert_eq!(p.a.send_stats(SSRC).unwrap().keyframe_requests, 4);
}

#[test]
fn transport_feedback_reaches_the_sender_matched_with_send_times() {
    let mut p = Pair::new(vec![codec(96, Codec::Vp8, None)], false);
    let start = p.now;
    for i in 0..30u32 {
        let at = start + Duration::from_millis(33 * u64::from(i));
        p.run_until(at);
        p.a.write_frame(at, SSRC, 96, i * 3000, &vp8(i == 0, 3000, i as u8))
            .unwrap();
    }
    p.run_for(Duration::from_millis(500));
    let fb: Vec<_> = p
        .events_a
        .iter()
        .filter_map(|e| match e {
            Event::TransportFeedback(v) => Some(v.clone()),
            _ => None,
        })
        .flatten()
        .collect();
    let media = p
        .sent_ab
        .iter()
        .filter(|d| RtpPacket::new_checked(&d[..]).is_ok_and(|r| r.ssrc() == SSRC))
        .count();
    assert_eq!(fb.len(), media, "every media packet reported once");
    assert!(fb.iter().all(|f| f.arrival_us.is_some()));
    assert!(fb.windows(2).all(|w| w[1].sequence == w[0].sequence + 1));
    // One-way delay is 30 ms: arrival − send is constant to the feedback's 250 µs grain.
    let offsets: Vec<i64> = fb
        .iter()
        .map(|f| f.arrival_us.unwrap() - (f.sent_at - start).as_micros() as i64)
        .collect();
    let (lo, hi) = (offsets.iter().min().unwrap(), offsets.iter().max().unwrap());
    assert!(hi - lo <= 250, "{lo} .. {hi}");
}

#[test]
fn every_codec_crosses_the_session_frame_by_frame() {
    let cases: Vec<(Codec, Vec<Vec<u8>>)> = vec![
        (Codec::Opus, vec![vec![0xfc; 120], vec![0x78; 80]]),
        (Codec::Vp8, vec![vp8(true, 9000, 3), vp8(false, 2500, 4)]),
        (
            Codec::Vp9,
            vec![
                // Key frame, profile 0: frame marker, sync code, 8-bit 4:2:0, 352x288.
                {
                    let mut f = vec![0x82, 0x49, 0x83, 0x42, 0x00, 0x15, 0xf0, 0x11, 0xf0];
                    f.resize(7000, 0x55);
                    f
                },
                {
                    let mut f = vec![0x86];
                    f.resize(1800, 0x66);
                    f
                },
            ],
        ),
        (
            Codec::H264,
            vec![
                {
                    let mut f = vec![0, 0, 0, 1, 0x67, 0x42, 0xc0, 0x1f, 0, 0, 0, 1, 0x68, 0xce];
                    f.extend_from_slice(&[0, 0, 0, 1, 0x65]);
                    f.extend((0..6000u32).map(|i| (i % 250 + 1) as u8));
                    f
                },
                {
                    let mut f = vec![0, 0, 0, 1, 0x41];
                    f.extend((0..700u32).map(|i| (i % 200 + 1) as u8));
                    f
                },
            ],
        ),
        (
            Codec::Av1,
            vec![
                {
                    // Temporal delimiter, sequence header, frame (size fields set).
                    let mut f = vec![0x12, 0x00, 0x0a, 0x03, 0x00, 0x00, 0x00];
                    f.extend_from_slice(&[0x32, 0xf0, 0x2e]);
                    f.extend((0..6000u32).map(|i| i as u8));
                    f
                },
                {
                    let mut f = vec![0x12, 0x00, 0x32, 0x90, 0x03];
                    f.extend((0..400u32).map(|i| (i * 7) as u8));
                    f
                },
            ],
        ),
    ];
    for (c, frames) in cases {
        let mut p = Pair::new(vec![codec(100, c, None)], false);
        for (i, f) in frames.iter().enumerate() {
            let now = p.now;
            p.a.write_frame(now, SSRC, 100, 3000 * i as u32, f).unwrap();
            p.run_for(Duration::from_millis(50));
        }
        let got = p.frames_b();
        assert_eq!(got.len(), frames.len(), "{c:?}");
        for (g, f) in got.iter().zip(&frames) {
            if c == Codec::Av1 {
                // The temporal delimiter is dropped by the packetizer.
                assert_eq!(g.data, f[2..], "{c:?}");
            } else {
                assert_eq!(&g.data, f, "{c:?}");
            }
        }
        assert!(got[0].keyframe, "{c:?}");
        if c.is_video() {
            assert!(!got[1].keyframe, "{c:?}");
        }
        if c == Codec::Vp9 {
            assert_eq!(got[0].resolution, Some((352, 288)));
        }
    }
}

#[test]
fn unknown_ssrcs_remb_and_bye_are_events() {
    let mut p = Pair::new(vec![codec(96, Codec::Vp8, None)], false);
    let now = p.now;
    let mut rtp = vec![
        0x80, 96, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0x99, 0x90, 0, 0, 0, 0x10,
    ];
    p.b.handle_rtp(now, &rtp).unwrap();
    rtp[3] = 2;
    p.b.handle_rtp(now, &rtp).unwrap();
    let unknown: Vec<_> = std::iter::from_fn(|| p.b.poll_event())
        .filter(|e| matches!(e, Event::UnknownSsrc { ssrc: 0x99, .. }))
        .collect();
    assert_eq!(unknown.len(), 1, "reported once");
    let remb = rtcp::compound_to_vec(&[RtcpRepr::Remb(rtcp::RembRepr {
        sender_ssrc: 5,
        bitrate: 1_500_000,
        ssrcs: &[SSRC],
    })])
    .unwrap();
    p.a.handle_rtcp(now, &remb).unwrap();
    match p.a.poll_event() {
        Some(Event::Remb { bitrate, ssrcs }) => {
            assert!((1_499_000..=1_500_000).contains(&bitrate));
            assert_eq!(ssrcs, [SSRC]);
        }
        e => panic!("{e:?}"),
    }
    let bye = rtcp::compound_to_vec(&[RtcpRepr::Bye(rtcp::ByeRepr {
        ssrcs: &[SSRC],
        reason: Some(b"done"),
    })])
    .unwrap();
    p.b.handle_rtcp(now, &bye).unwrap();
    assert_eq!(p.b.poll_event(), Some(Event::Bye { ssrc: SSRC }));
    // Malformed input is an error and a counter, never a panic.
    assert!(p.b.handle_rtcp(now, &[0x80, 201, 0, 9]).is_err());
    assert!(p.b.handle_rtp(now, &[0x80, 96]).is_err());
    assert_eq!(p.b.stats().malformed, 2);
}

#[test]
fn reduced_size_feedback_is_sent_alone() {
    let now = Instant::now();
    let mut b = Session::new(
        SessionConfig {
            reduced_size: true,
            ..config()
        },
        now,
        3,
    );
    b.add_receive_stream(ReceiveStreamConfig {
        ssrc: SSRC,
        rtx_ssrc: None,
        codecs: vec![codec(96, Codec::Vp8, None)],
        nack: true,
        assemble_frames: true,
    })
    .unwrap();
    b.request_keyframe(now, SSRC, KeyframeRequest::Pli).unwrap();
    let t = b.poll_transmit().unwrap();
    assert_eq!(t.kind, PacketKind::Rtcp);
    assert!(rtcp::validate(&t.payload, false).is_err(), "not compound");
    rtcp::validate(&t.payload, true).unwrap();
    let first = RtcpPackets::new(&t.payload).next().unwrap().unwrap();
    assert!(matches!(
        first,
        RtcpPacket::Pli(Pli {
            media_ssrc: SSRC,
            ..
        })
    ));
}

#[test]
fn media_extensions_travel_with_packets_and_their_repairs() {
    use rtcweb_rtp::rtp::{AudioLevel, HeaderExtensions, VideoOrientation};
    let mut p = Pair::new(vec![codec(96, Codec::Vp8, Some(97))], true);
    p.a.extensions_mut()
        .insert(1, ExtensionKind::AudioLevel)
        .unwrap();
    p.a.extensions_mut()
        .insert(13, ExtensionKind::VideoOrientation)
        .unwrap();
    // Lose the second media packet once: its RTX copy must carry the same orientation.
    let mut seen = 0;
    p.drop_ab = Box::new(move |d| {
        if RtpPacket::new_checked(d).is_ok_and(|r| r.ssrc() == SSRC) {
            seen += 1;
            seen == 2
        } else {
            false
        }
    });
    let media = HeaderExtensions {
        video_orientation: Some(VideoOrientation {
            back_camera: false,
            flip: true,
            rotation: 1,
        }),
        audio_level: Some(AudioLevel {
            voice: false,
            level: 127,
        }),
        ..HeaderExtensions::default()
    };
    let now = p.now;
    p.a.write_frame_with(now, SSRC, 96, 0, &vp8(true, 3000, 1), &media)
        .unwrap();
    p.run_for(Duration::from_millis(300));
    let mut map = config().extensions;
    map.insert(1, ExtensionKind::AudioLevel).unwrap();
    map.insert(13, ExtensionKind::VideoOrientation).unwrap();
    let mut rtx = 0;
    for d in p.sent_ab.iter().filter(|d| !(192..=223).contains(&d[1])) {
        let r = RtpPacket::new_checked(&d[..]).unwrap();
        let e = map.read(&r);
        assert_eq!(e.mid, Some("v"));
        assert_eq!(e.video_orientation, media.video_orientation);
        assert_eq!(e.audio_level, media.audio_level);
        assert!(e.transport_cc.is_some() && e.abs_send_time.is_some());
        rtx += usize::from(r.ssrc() == RTX);
    }
    assert_eq!(rtx, 1);
    assert_eq!(p.frames_b().len(), 1);
}
