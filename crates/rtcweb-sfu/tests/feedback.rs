//! The subscriber's RTCP: NACKs answered from the forwarder's buffer (never asked of the
//! publisher for packets it has), the publisher's own losses kept as gaps and asked of the
//! publisher, PLI and FIR turned into a rate-limited key-frame request.
#![allow(clippy::unwrap_used)] // test code: a panic is a failed test

mod common;

use std::time::{Duration, Instant};

use common::{FRAME, Publisher};
use rtcweb_rtp::codec::Codec;
use rtcweb_rtp::rtcp::{self, FirEntry, FirRepr, NackPair, NackRepr, Pli, RtcpPacket, RtcpRepr};
use rtcweb_sfu::{Feedback, Forwarder, ForwarderConfig, Input, OutPacket, RtxConfig, Transmit};

const SSRC: u32 = 0x5eed;

fn nack(seqs: &[u16]) -> Vec<u8> {
    let mut pairs = Vec::new();
    NackPair::pack(seqs.iter().copied(), &mut pairs);
    rtcp::compound_to_vec(&[RtcpRepr::Nack(NackRepr {
        sender_ssrc: 9,
        media_ssrc: SSRC,
        pairs: &pairs,
    })])
    .unwrap()
}

/// Feeds `frames` frames of a one-layer publisher (with `lose` dropped before the
/// forwarder) and returns what went to the subscriber.
fn forward(
    f: &mut Forwarder,
    p: &mut Publisher,
    now: &mut Instant,
    frames: usize,
) -> Vec<OutPacket> {
    let mut out = Vec::new();
    for _ in 0..frames {
        for pkt in p.frame() {
            f.handle_input(*now, Input::Rtp(pkt.view())).unwrap();
        }
        while let Some(t) = f.poll_transmit() {
            match t {
                Transmit::Subscriber(p) => out.push(p),
                other => panic!("{other:?}"),
            }
        }
        *now += FRAME;
    }
    out
}

fn drain(f: &mut Forwarder) -> Vec<Transmit> {
    std::iter::from_fn(|| f.poll_transmit()).collect()
}

#[test]
fn nacks_are_answered_from_the_buffer_and_publisher_losses_asked_upstream() {
    let mut now = Instant::now();
    let mut f = Forwarder::new(ForwarderConfig::new(Codec::Vp8, SSRC), now).unwrap();
    let mut p = Publisher::new(&[1_000_000]);
    // The publisher's packets 1003 and 1010 of its layer 0 (sequence numbers from 65500)
    // never reach the forwarder.
    p.lose = vec![
        (0, 65500u16.wrapping_add(3)),
        (0, 65500u16.wrapping_add(10)),
    ];
    let sent = forward(&mut f, &mut p, &mut now, 10);
    let seqs: Vec<u16> = sent.iter().map(|s| s.sequence_number).collect();
    // The gaps are kept where the publisher lost the packets.
    let gaps: Vec<u16> = seqs
        .windows(2)
        .filter(|w| w[1] != w[0].wrapping_add(1))
        .map(|w| w[0].wrapping_add(1))
        .collect();
    assert_eq!(gaps.len(), 2, "{seqs:?}");

    // The subscriber lost two packets it was sent, and the two the publisher lost.
    let (a, b) = (sent[1].clone(), sent[7].clone());
    f.handle_input(
        now,
        Input::Rtcp(&nack(&[
            a.sequence_number,
            gaps[0],
            b.sequence_number,
            gaps[1],
        ])),
    )
    .unwrap();
    let out = drain(&mut f);
    assert_eq!(out.len(), 3, "{out:?}");
    assert_eq!(out[0], Transmit::Retransmission(a.clone()));
    assert_eq!(out[1], Transmit::Retransmission(b));
    match &out[2] {
        Transmit::Publisher(Feedback::Nack {
            layer: 0,
            ssrc: 0x1000,
            lost,
        }) => {
            assert_eq!(lost, &[65500u16.wrapping_add(3), 65500u16.wrapping_add(10)]);
        }
        other => panic!("{other:?}"),
    }
    // The same NACK at once again: no duplicate retransmission (20 ms spacing), but the
    // publisher is asked again for what the forwarder does not have.
    f.handle_input(now, Input::Rtcp(&nack(&[a.sequence_number])))
        .unwrap();
    assert!(drain(&mut f).is_empty());
    now += Duration::from_millis(30);
    f.handle_input(now, Input::Rtcp(&nack(&[a.sequence_number])))
        .unwrap();
    assert_eq!(drain(&mut f), [Transmit::Retransmission(a)]);
    assert_eq!(f.stats().retransmissions, 3);
    assert_eq!(f.stats().nacks_upstream, 2);

    // The publisher's retransmission of a lost packet fills the gap with its number.
    let late = p.lost[0].clone();
    f.handle_input(now, Input::Rtp(late.view())).unwrap();
    match &drain(&mut f)[..] {
        [Transmit::Subscriber(fill)] => {
            assert_eq!(fill.sequence_number, gaps[0]);
            // Descriptor of 4 octets in (7-bit picture id), 5 out (15-bit); the rest as sent.
            assert!(fill.payload[5..] == late.payload[4..]);
        }
        other => panic!("{other:?}"),
    }
    // Twice is once.
    f.handle_input(now, Input::Rtp(late.view())).unwrap();
    assert!(drain(&mut f).is_empty());
}

#[test]
fn retransmissions_go_on_the_rtx_stream_when_configured() {
    let mut now = Instant::now();
    let mut c = ForwarderConfig::new(Codec::Vp8, SSRC);
    c.rtx = Some(RtxConfig {
        ssrc: 0x7e7,
        payload_type: 97,
    });
    let mut f = Forwarder::new(c, now).unwrap();
    let mut p = Publisher::new(&[500_000]);
    let sent = forward(&mut f, &mut p, &mut now, 3);
    f.handle_input(
        now,
        Input::Rtcp(&nack(&[sent[0].sequence_number, sent[2].sequence_number])),
    )
    .unwrap();
    let out = drain(&mut f);
    for (i, (t, orig)) in out.iter().zip([&sent[0], &sent[2]]).enumerate() {
        let Transmit::Retransmission(r) = t else {
            panic!("{t:?}")
        };
        assert_eq!(
            (r.ssrc, r.payload_type, r.sequence_number),
            (0x7e7, 97, i as u16)
        );
        assert_eq!(r.timestamp, orig.timestamp);
        assert_eq!(r.payload[..2], orig.sequence_number.to_be_bytes());
        assert_eq!(r.payload[2..], orig.payload[..]);
    }
}

#[test]
fn pli_and_fir_become_rate_limited_keyframe_requests() {
    let mut now = Instant::now();
    let mut f = Forwarder::new(ForwarderConfig::new(Codec::Vp8, SSRC), now).unwrap();
    let mut p = Publisher::new(&[150_000, 500_000]);
    forward(&mut f, &mut p, &mut now, 3);
    assert_eq!(f.current_layer(), Some(0));
    let pli = rtcp::compound_to_vec(&[RtcpRepr::Pli(Pli {
        sender_ssrc: 9,
        media_ssrc: SSRC,
    })])
    .unwrap();
    let fir = rtcp::compound_to_vec(&[RtcpRepr::Fir(FirRepr {
        sender_ssrc: 9,
        entries: &[FirEntry {
            ssrc: SSRC,
            sequence_number: 1,
        }],
    })])
    .unwrap();
    let other = rtcp::compound_to_vec(&[RtcpRepr::Pli(Pli {
        sender_ssrc: 9,
        media_ssrc: 1,
    })])
    .unwrap();
    f.handle_input(now, Input::Rtcp(&pli)).unwrap();
    let out = drain(&mut f);
    assert_eq!(
        out,
        [Transmit::Publisher(Feedback::KeyFrameRequest {
            layer: 0,
            ssrc: 0x1000
        })]
    );
    let Transmit::Publisher(fb) = &out[0] else {
        unreachable!()
    };
    let bytes = fb.to_rtcp(9);
    let parsed = RtcpPacket::parse(&bytes).unwrap().0;
    assert!(matches!(
        parsed,
        RtcpPacket::Pli(Pli {
            sender_ssrc: 9,
            media_ssrc: 0x1000
        })
    ));
    // Within 300 ms: nothing more, whether PLI or FIR; a PLI about another SSRC is ignored.
    for t in [0, 100, 299] {
        let at = now + Duration::from_millis(t);
        f.handle_input(at, Input::Rtcp(&pli)).unwrap();
        f.handle_input(at, Input::Rtcp(&fir)).unwrap();
        assert!(drain(&mut f).is_empty(), "{t} ms");
    }
    now += Duration::from_millis(300);
    f.handle_input(now, Input::Rtcp(&other)).unwrap();
    assert!(drain(&mut f).is_empty());
    f.handle_input(now, Input::Rtcp(&fir)).unwrap();
    assert_eq!(drain(&mut f).len(), 1);
    assert_eq!(f.stats().keyframe_requests, 2);
    // Malformed RTCP is an error, and changes nothing.
    let err = f
        .handle_input(now, Input::Rtcp(&[0x81, 206, 0, 9]))
        .unwrap_err();
    assert_eq!(err.category(), rtcweb_core::ErrorCategory::Malformed);
}
