//! Arbitrary arrival sequences into the receive-side estimator that generates REMB:
//! abs-send-time values that wrap, jump and go backwards, arrivals out of order and far in
//! the past, send times switching kind, floods of SSRCs, RTT samples, long silences and
//! timer calls; and the same kind of traffic as real RTP into a session that generates
//! REMB (abs-send-time mapped, transport-wide CC not). Nothing may panic, the SSRC set
//! never outgrows its bound, REMBs stay within the limits, and a timer that was due is
//! never due again at the same instant (no busy loop).
#![no_main]

use std::time::{Duration, Instant};

use libfuzzer_sys::fuzz_target;
use rtcweb_bwe::{
    Bitrate, ReceivedPacket, RemoteConfig, RemoteEstimator, RemoteEvent, RemoteInput, SendTime,
};
use rtcweb_rtp::codec::Codec;
use rtcweb_rtp::rtp::{ExtensionKind, ExtensionMap, HeaderExtensions, RtpRepr};
use rtcweb_rtp::session::{CodecConfig, ReceiveStreamConfig, Session, SessionConfig};

/// Reads little-endian integers from the input, zero when it runs out.
struct Bytes<'a>(&'a [u8]);

impl Bytes<'_> {
    fn u8(&mut self) -> u8 {
        let Some((&b, rest)) = self.0.split_first() else {
            return 0;
        };
        self.0 = rest;
        b
    }
    fn u16(&mut self) -> u16 {
        u16::from(self.u8()) | u16::from(self.u8()) << 8
    }
    fn u32(&mut self) -> u32 {
        u32::from(self.u16()) | u32::from(self.u16()) << 16
    }
    fn u64(&mut self) -> u64 {
        u64::from(self.u32()) | u64::from(self.u32()) << 32
    }
}

fn session(now: Instant) -> Session {
    let mut extensions = ExtensionMap::new();
    extensions.insert(2, ExtensionKind::AbsSendTime).unwrap();
    let mut s = Session::new(
        SessionConfig {
            extensions,
            ..SessionConfig::default()
        },
        now,
        0,
    );
    for ssrc in [1u32, 3] {
        let _ = s.add_receive_stream(ReceiveStreamConfig {
            ssrc,
            rtx_ssrc: Some(ssrc + 1),
            codecs: vec![CodecConfig {
                payload_type: 96,
                codec: Codec::Vp8,
                rtx_payload_type: Some(97),
            }],
            nack: true,
            assemble_frames: false,
        });
    }
    s
}

fuzz_target!(|data: &[u8]| {
    let mut b = Bytes(data);
    let t0 = Instant::now();
    let mut now = t0;
    let config = RemoteConfig {
        min: Bitrate::from_kbps(30),
        max: Bitrate::from_kbps(20_000),
        interval: Duration::from_millis(1 + u64::from(b.u16() % 2000)),
        max_ssrcs: 1 + usize::from(b.u8() % 40),
    };
    let max_ssrcs = config.max_ssrcs;
    let mut est = RemoteEstimator::new(config).unwrap();
    let capacity = est.memory_bounds().1;
    assert!(capacity >= max_ssrcs);
    let mut sess = session(t0);
    let mut abs: u32 = b.u32();
    let mut seq: u16 = 0;
    let mut steps = 0;
    while !b.0.is_empty() && steps < 4000 {
        steps += 1;
        now += Duration::from_micros(u64::from(b.u16()) * u64::from(b.u8() % 8));
        match b.u8() % 10 {
            0..=4 => {
                abs = match b.u8() {
                    0 => b.u32(),
                    1..=200 => abs.wrapping_add(u32::from(b.u16()) * u32::from(b.u8() % 16)),
                    201..=250 => abs.wrapping_sub(u32::from(b.u16())),
                    _ => abs,
                };
                let arrival = match b.u8() {
                    0 => now
                        .checked_sub(Duration::from_secs(u64::from(b.u8())))
                        .unwrap_or(now),
                    1..=20 => now
                        .checked_sub(Duration::from_micros(u64::from(b.u16())))
                        .unwrap_or(now),
                    _ => now,
                };
                let ssrc = match b.u8() {
                    0xff => b.u32(),
                    0xfe => u32::from(b.u16()),
                    x => u32::from(x % 4),
                };
                let send_time = if b.u8() == 0 {
                    SendTime::Micros(b.u64() as i64)
                } else {
                    SendTime::AbsSendTime(abs)
                };
                let p = ReceivedPacket {
                    arrival,
                    send_time,
                    size: usize::from(b.u16()),
                    ssrc,
                };
                est.handle_input(now, RemoteInput::Packet(p));
            }
            5 => {
                let rtt = Duration::from_micros(u64::from(b.u32()));
                est.handle_input(now, RemoteInput::Rtt(rtt));
            }
            6 => est.handle_timeout(now),
            7 => now += Duration::from_millis(u64::from(b.u16())),
            _ => {
                // Real RTP into a session that generates REMB.
                seq = seq.wrapping_add(u16::from(b.u8() % 3));
                let ssrc = u32::from(b.u8() % 5);
                let values = HeaderExtensions {
                    abs_send_time: Some(abs),
                    ..HeaderExtensions::default()
                };
                let mut scratch = [0u8; 32];
                let map = {
                    let mut m = ExtensionMap::new();
                    m.insert(2, ExtensionKind::AbsSendTime).unwrap();
                    m
                };
                let extension = map.write(&values, &mut scratch).unwrap();
                let repr = RtpRepr {
                    payload_type: if b.u8() & 1 == 0 { 96 } else { 97 },
                    sequence_number: seq,
                    ssrc,
                    extension,
                    ..RtpRepr::default()
                };
                let payload = vec![0x10; usize::from(b.u16() % 1200)];
                if let Ok(bytes) = repr.to_vec(&payload) {
                    let _ = sess.handle_rtp(now, &bytes);
                }
                if sess.poll_timeout().is_some_and(|t| t <= now) {
                    sess.handle_timeout(now);
                }
                while sess.poll_event().is_some() {}
                while sess.poll_transmit().is_some() {}
                if let Some(e) = sess.remote_estimator() {
                    assert!(e.memory_bounds().0 <= 32);
                }
            }
        }
        if est.poll_timeout().is_some_and(|t| t <= now) {
            est.handle_timeout(now);
            assert!(
                est.poll_timeout().is_none_or(|t| t > now),
                "a timer due again at once"
            );
        }
        while let Some(ev) = est.poll_event() {
            let RemoteEvent::Remb(r) = ev else { continue };
            assert!(r.ssrcs.len() <= max_ssrcs, "{r:?}");
            assert!(
                r.bitrate >= Bitrate::from_kbps(30) && r.bitrate <= Bitrate::from_kbps(20_000),
                "{r:?}"
            );
        }
        let (len, cap) = est.memory_bounds();
        assert!(len <= max_ssrcs && cap == capacity, "{len} {cap}");
    }
});
