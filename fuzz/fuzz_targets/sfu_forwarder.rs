//! The SFU forwarder's every input path: publisher packets of any layer (in range or not,
//! VP8 or H.264, key-frame starts built on purpose so switches happen), estimates, the
//! subscriber's RTCP (NACK, PLI, FIR built for the forwarder's SSRC, or raw bytes) and time.
//!
//! Checked: no panic; what goes to the subscriber has its SSRC (or the RTX SSRC) and never
//! two different packets with one sequence number; every queue stays bounded.
#![no_main]

use std::collections::HashMap;
use std::time::{Duration, Instant};

use libfuzzer_sys::fuzz_target;
use rtcweb_rtp::codec::Codec;
use rtcweb_rtp::rtcp::{self, FirEntry, FirRepr, NackPair, NackRepr, Pli, RtcpRepr};
use rtcweb_rtp::seq::SeqUnwrapper;
use rtcweb_sfu::{
    Forwarder, ForwarderConfig, Input, MAX_PAYLOAD, PublisherPacket, RtxConfig, Transmit,
};

const SSRC: u32 = 0x5f0;
const RTX_SSRC: u32 = 0x5f1;

struct Bytes<'a>(&'a [u8]);

impl<'a> Bytes<'a> {
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
    fn take(&mut self, n: usize) -> &'a [u8] {
        let (head, rest) = self.0.split_at(n.min(self.0.len()));
        self.0 = rest;
        head
    }
}

fuzz_target!(|data: &[u8]| {
    let mut b = Bytes(data);
    let mode = b.byte();
    let codec = if mode & 1 == 0 { Codec::Vp8 } else { Codec::H264 };
    let mut config = ForwarderConfig::new(codec, SSRC);
    config.initial_sequence_number = b.u16();
    config.retransmit_packets = 1 + usize::from(b.byte()) * 4;
    if mode & 2 != 0 {
        config.rtx = Some(RtxConfig {
            ssrc: RTX_SSRC,
            payload_type: 97,
        });
    }
    let mut now = Instant::now();
    let Ok(mut f) = Forwarder::new(config, now) else {
        return;
    };
    // Extended sequence number of each packet sent to the subscriber, and its payload.
    let mut unwrap = SeqUnwrapper::new();
    let mut sent: HashMap<u64, Vec<u8>> = HashMap::new();
    let mut payload = Vec::new();
    while !b.0.is_empty() {
        match b.byte() % 8 {
            0..=3 => {
                let layer = b.byte() % 6;
                let flags = b.byte();
                let len = usize::from(b.u16()) % (MAX_PAYLOAD + 64);
                payload.clear();
                if flags & 1 != 0 {
                    // A key-frame start of the codec, so that switches happen.
                    match codec {
                        Codec::Vp8 => payload.extend_from_slice(&[
                            0x90, 0xe0, 0x80 | (flags >> 1), b.byte(), b.byte(), 0x50, 0x2d, 0,
                            0x9d, 0x01, 0x2a, 0x80, 0x02, 0xe0, 0x01,
                        ]),
                        _ => payload.extend_from_slice(&[
                            0x78, 0, 4, 0x67, 0x42, 0, 0x1f, 0, 2, 0x68, 0xce, 0, 2, 0x65, 0x88,
                        ]),
                    }
                }
                payload.extend_from_slice(b.take(len));
                let p = PublisherPacket {
                    layer,
                    ssrc: 0x1000 + u32::from(layer),
                    payload_type: 96,
                    sequence_number: b.u16(),
                    timestamp: b.u32(),
                    marker: flags & 2 != 0,
                    payload: &payload,
                };
                let _ = f.handle_input(now, Input::Rtp(p));
            }
            4 => {
                let bps = u64::from(b.u32()) << (b.byte() % 8);
                let _ = f.handle_input(now, Input::Estimate(bps));
            }
            5 => {
                let kind = b.byte();
                let bytes = match kind % 4 {
                    0 => {
                        let n = usize::from(b.byte() % 20);
                        let seqs: Vec<u16> = (0..n).map(|_| b.u16()).collect();
                        let mut pairs = Vec::new();
                        NackPair::pack(seqs, &mut pairs);
                        if pairs.is_empty() {
                            continue;
                        }
                        rtcp::compound_to_vec(&[RtcpRepr::Nack(NackRepr {
                            sender_ssrc: 1,
                            media_ssrc: SSRC,
                            pairs: &pairs,
                        })])
                    }
                    1 => rtcp::compound_to_vec(&[RtcpRepr::Pli(Pli {
                        sender_ssrc: 1,
                        media_ssrc: SSRC,
                    })]),
                    2 => rtcp::compound_to_vec(&[RtcpRepr::Fir(FirRepr {
                        sender_ssrc: 1,
                        entries: &[FirEntry {
                            ssrc: SSRC,
                            sequence_number: b.byte(),
                        }],
                    })]),
                    _ => {
                        let n = usize::from(b.byte());
                        Ok(b.take(n).to_vec())
                    }
                };
                if let Ok(bytes) = bytes {
                    let _ = f.handle_input(now, Input::Rtcp(&bytes));
                }
            }
            6 => now += Duration::from_millis(u64::from(b.u16() % 2000)),
            _ => {
                if let Some(t) = f.poll_timeout() {
                    assert!(t < now + Duration::from_secs(3600), "timer too far");
                    now = now.max(t);
                    f.handle_timeout(now);
                }
            }
        }
        let mut n = 0;
        while let Some(t) = f.poll_transmit() {
            n += 1;
            match t {
                Transmit::Subscriber(p) => {
                    assert_eq!(p.ssrc, SSRC);
                    assert!(p.payload.len() <= MAX_PAYLOAD + 1);
                    let ext = unwrap.unwrap(p.sequence_number);
                    // A sequence number names one packet (a fill of a gap is a new number).
                    let prev = sent.insert(ext, p.payload.clone());
                    assert!(prev.is_none_or(|q| q == p.payload), "seq reused");
                }
                Transmit::Retransmission(p) => {
                    assert!(p.ssrc == SSRC || p.ssrc == RTX_SSRC);
                }
                Transmit::Publisher(fb) => {
                    assert!(!fb.to_rtcp(1).is_empty());
                }
            }
        }
        assert!(n <= 1024, "transmit queue over its bound: {n}");
        let mut e = 0;
        while f.poll_event().is_some() {
            e += 1;
        }
        assert!(e <= 64);
    }
});
