//! Arbitrary packets into an SRTP session's receive side, mixed with genuine packets from a
//! matching sender (so the fuzzer reaches index estimation, the replay window and decryption),
//! replays and bit-flipped copies. Checks: no panic, every error counted, and a genuine packet
//! that is accepted decrypts to what was sent.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rtcweb_srtp::{Config, MasterKey, ProtectionProfile, Session};

struct Input<'a>(&'a [u8]);

impl<'a> Input<'a> {
    fn byte(&mut self) -> Option<u8> {
        let (&b, rest) = self.0.split_first()?;
        self.0 = rest;
        Some(b)
    }
    fn bytes(&mut self, n: usize) -> &'a [u8] {
        let n = n.min(self.0.len());
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        head
    }
}

fuzz_target!(|data: &[u8]| {
    let mut input = Input(data);
    let Some(setup) = input.byte() else { return };
    let profile = ProtectionProfile::ALL[usize::from(setup & 3)];
    let window = [64, 128, 1000, 1024][usize::from(setup >> 2 & 3)];
    let config = Config::default()
        .with_replay_window(window)
        .with_max_streams(4);
    let a = MasterKey::new(
        profile,
        &[0x11; 32][..profile.master_key_len()],
        &[0x22; 14][..profile.master_salt_len()],
    )
    .unwrap();
    let b = MasterKey::new(
        profile,
        &[0x33; 32][..profile.master_key_len()],
        &[0x44; 14][..profile.master_salt_len()],
    )
    .unwrap();
    let mut tx = Session::new(profile, &a, &b, config.clone()).unwrap();
    let mut rx = Session::new(profile, &b, &a, config).unwrap();
    let mut history: Vec<Vec<u8>> = Vec::new();
    let mut errors = 0u64;
    let mut buf = vec![0u8; 2048];

    while let Some(op) = input.byte() {
        match op % 6 {
            // Raw bytes as SRTP or SRTCP.
            0 | 1 => {
                let len = usize::from(input.byte().unwrap_or(0)) * 4;
                let raw = input.bytes(len);
                buf[..raw.len()].copy_from_slice(raw);
                let r = if op % 6 == 0 {
                    rx.unprotect_rtp(&mut buf, raw.len())
                } else {
                    rx.unprotect_rtcp(&mut buf, raw.len())
                };
                errors += u64::from(r.is_err());
            }
            // A genuine RTP packet: SSRC, sequence number and payload from the input.
            2 => {
                let h = input.bytes(4);
                let (ssrc, seq, len) = match h {
                    [s, x, y, l] => (u32::from(s & 7), u16::from_be_bytes([*x, *y]), *l),
                    _ => break,
                };
                let payload = input.bytes(usize::from(len) * 4);
                let mut pkt = vec![0x80, 96];
                pkt.extend_from_slice(&seq.to_be_bytes());
                pkt.extend_from_slice(&[0, 0, 0, 0]);
                pkt.extend_from_slice(&ssrc.to_be_bytes());
                pkt.extend_from_slice(payload);
                let plain = pkt.clone();
                if tx.protect_rtp_vec(&mut pkt).is_err() {
                    continue;
                }
                history.push(pkt.clone());
                if history.len() > 16 {
                    history.remove(0);
                }
                match rx.unprotect_rtp_vec(&mut pkt) {
                    Ok(()) => assert_eq!(pkt, plain),
                    Err(_) => errors += 1,
                }
            }
            // A genuine RTCP packet.
            3 => {
                let ssrc = u32::from(input.byte().unwrap_or(0) & 7);
                let body = input.bytes(usize::from(input.0.first().copied().unwrap_or(0) & 0x3c));
                let mut pkt = vec![0x80, 200, 0, 0];
                pkt.extend_from_slice(&ssrc.to_be_bytes());
                pkt.extend_from_slice(body);
                let plain = pkt.clone();
                if tx.protect_rtcp_vec(&mut pkt).is_err() {
                    continue;
                }
                match rx.unprotect_rtcp_vec(&mut pkt) {
                    Ok(()) => assert_eq!(pkt, plain),
                    Err(_) => errors += 1,
                }
            }
            // Replay an earlier genuine packet, or a copy with one bit flipped.
            4 | 5 => {
                if history.is_empty() {
                    continue;
                }
                let pick = usize::from(input.byte().unwrap_or(0)) % history.len();
                let mut pkt = history[pick].clone();
                if op % 6 == 5 {
                    let at = usize::from(input.byte().unwrap_or(0)) % pkt.len();
                    pkt[at] ^= 1 << (input.byte().unwrap_or(0) % 8);
                }
                errors += u64::from(rx.unprotect_rtp_vec(&mut pkt).is_err());
            }
            _ => unreachable!(),
        }
    }
    assert_eq!(rx.stats().errors(), errors);
    let (_, _, rtp_streams, rtcp_streams) = rx.stream_counts();
    assert!(rtp_streams <= 4 && rtcp_streams <= 4);
});
