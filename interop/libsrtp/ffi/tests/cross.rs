//! rtcweb-srtp against Debian's libsrtp2, for every profile, RTP and RTCP, both directions:
//! what one protects the other unprotects, across a ROC rollover (sequence 65535 -> 0) and with
//! late packets; both refuse a replayed packet. RTP output is byte-identical; SRTCP output is
//! identical once the first-index difference (libsrtp 1, RFC 3711 and rtcweb 0) is accounted.

use rtcweb_libsrtp::{Direction, LibSrtp, TAIL_ROOM, status};
use rtcweb_srtp::{Config, Error, MasterKey, ProtectionProfile, Session};

const SSRC: u32 = 0x1234_abcd;

fn keys(p: ProtectionProfile, seed: u8) -> (Vec<u8>, Vec<u8>) {
    let key = (0..p.master_key_len())
        .map(|i| (i as u8).wrapping_mul(13) ^ seed)
        .collect();
    let salt = (0..p.master_salt_len())
        .map(|i| (i as u8).wrapping_add(seed))
        .collect();
    (key, salt)
}

/// Our session (sending with `send`, receiving with `recv` master keys).
fn ours(p: ProtectionProfile, send: u8, recv: u8) -> Session {
    let (k1, s1) = keys(p, send);
    let (k2, s2) = keys(p, recv);
    let local = MasterKey::new(p, &k1, &s1).unwrap();
    let remote = MasterKey::new(p, &k2, &s2).unwrap();
    Session::new(
        p,
        &local,
        &remote,
        Config::default().with_replay_window(128),
    )
    .unwrap()
}

fn theirs(p: ProtectionProfile, seed: u8, dir: Direction) -> LibSrtp {
    let (k, s) = keys(p, seed);
    LibSrtp::new(p, &k, &s, dir, 128).unwrap()
}

fn rtp(seq: u16, payload: usize) -> Vec<u8> {
    let mut v = vec![0x80, 0x60];
    v.extend_from_slice(&seq.to_be_bytes());
    v.extend_from_slice(&(u32::from(seq) * 3000).to_be_bytes());
    v.extend_from_slice(&SSRC.to_be_bytes());
    v.extend((0..payload).map(|i| (i as u8) ^ (seq as u8)));
    v
}

fn rtcp(fill: u8) -> Vec<u8> {
    // A Sender Report without report blocks plus an SDES chunk: a compound packet.
    let mut v = vec![0x80, 200, 0, 6];
    v.extend_from_slice(&SSRC.to_be_bytes());
    v.extend_from_slice(&[fill; 20]);
    v.extend_from_slice(&[0x81, 202, 0, 2]);
    v.extend_from_slice(&SSRC.to_be_bytes());
    v.extend_from_slice(&[1, 2, b'h', b'i']);
    v
}

/// Sequence numbers from 65530 across the wrap to 20.
fn wrap_seqs() -> Vec<u16> {
    (65530..=65535).chain(0..=20).collect()
}

fn with_tail(packet: &[u8]) -> Vec<u8> {
    let mut v = packet.to_vec();
    v.resize(packet.len() + TAIL_ROOM, 0);
    v
}

#[test]
fn rtp_rtcweb_to_libsrtp_across_rollover() {
    for p in ProtectionProfile::ALL {
        let mut tx = ours(p, 1, 2);
        let mut rx = theirs(p, 1, Direction::Inbound);
        let mut reference = theirs(p, 1, Direction::Outbound);
        let mut sent = Vec::new();
        for (i, seq) in wrap_seqs().into_iter().enumerate() {
            let plain = rtp(seq, [0, 1, 16, 100, 1200][i % 5]);
            let mut buf = with_tail(&plain);
            let n = tx.protect_rtp(&mut buf, plain.len()).unwrap();
            // libsrtp protecting the same packet gives the same bytes.
            let mut lib = with_tail(&plain);
            let m = reference.protect_rtp(&mut lib, plain.len()).unwrap();
            assert_eq!(buf[..n], lib[..m], "{p} seq {seq}: protected bytes differ");
            sent.push((plain, buf[..n].to_vec()));
        }
        // Deliver in order except that two pre-wrap packets arrive late, after the wrap.
        let mut order: Vec<usize> = (0..sent.len()).collect();
        order.retain(|&i| i != 3 && i != 5);
        order.insert(10, 3);
        order.insert(12, 5);
        for i in order {
            let (plain, srtp) = &sent[i];
            let mut buf = with_tail(srtp);
            let n = rx
                .unprotect_rtp(&mut buf, srtp.len())
                .unwrap_or_else(|e| panic!("{p}: libsrtp refused packet {i}: status {e}"));
            assert_eq!(&buf[..n], &plain[..], "{p} packet {i}");
        }
        assert_eq!(rx.roc(SSRC), Ok(1), "{p}: libsrtp ROC after the wrap");
        assert_eq!(tx.rtp_roc(SSRC, true), Some(1));
        // Replays are refused by libsrtp.
        for i in [0, 7, sent.len() - 1] {
            let srtp = &sent[i].1;
            let mut buf = with_tail(srtp);
            assert_eq!(
                rx.unprotect_rtp(&mut buf, srtp.len()),
                Err(status::REPLAY_FAIL),
                "{p}"
            );
        }
        // And a flipped bit fails authentication.
        let mut bad = with_tail(&sent[sent.len() - 1].1);
        let len = sent[sent.len() - 1].1.len();
        bad[len - 1] ^= 1;
        let mut fresh = theirs(p, 1, Direction::Inbound);
        assert_eq!(
            fresh.unprotect_rtp(&mut bad, len),
            Err(status::AUTH_FAIL),
            "{p}"
        );
    }
}

#[test]
fn rtp_libsrtp_to_rtcweb_across_rollover() {
    for p in ProtectionProfile::ALL {
        let mut tx = theirs(p, 3, Direction::Outbound);
        let mut rx = ours(p, 4, 3);
        let mut sent = Vec::new();
        for (i, seq) in wrap_seqs().into_iter().enumerate() {
            let plain = rtp(seq, [1200, 0, 17, 160, 1][i % 5]);
            let mut buf = with_tail(&plain);
            let n = tx.protect_rtp(&mut buf, plain.len()).unwrap();
            sent.push((plain, buf[..n].to_vec()));
        }
        let mut order: Vec<usize> = (0..sent.len()).collect();
        order.retain(|&i| i != 2 && i != 4);
        order.insert(9, 4);
        order.insert(11, 2);
        for i in order {
            let (plain, srtp) = &sent[i];
            let mut buf = srtp.clone();
            let n = rx
                .unprotect_rtp(&mut buf, srtp.len())
                .unwrap_or_else(|e| panic!("{p}: rtcweb refused libsrtp packet {i}: {e}"));
            assert_eq!(&buf[..n], &plain[..], "{p} packet {i}");
        }
        assert_eq!(
            rx.rtp_roc(SSRC, false),
            Some(1),
            "{p}: rtcweb ROC after the wrap"
        );
        assert_eq!(tx.roc(SSRC), Ok(1));
        for i in [0, 7, sent.len() - 1] {
            let mut buf = sent[i].1.clone();
            let len = buf.len();
            assert!(
                matches!(rx.unprotect_rtp(&mut buf, len), Err(Error::Replayed { .. })),
                "{p}: replay of packet {i} accepted"
            );
        }
        assert_eq!(rx.stats().replayed, 3);
    }
}

#[test]
fn rtcp_both_ways_and_replays() {
    for p in ProtectionProfile::ALL {
        // rtcweb -> libsrtp. Our first SRTCP index is 0, libsrtp's 1: send one packet that is
        // not delivered, so from then on both number alike and must produce the same bytes.
        let mut tx = ours(p, 5, 6);
        let mut rx = theirs(p, 5, Direction::Inbound);
        let mut reference = theirs(p, 5, Direction::Outbound);
        let mut skipped = with_tail(&rtcp(0xff));
        tx.protect_rtcp(&mut skipped, rtcp(0xff).len()).unwrap();
        let mut ours_sent = Vec::new();
        let mut lib_sent = Vec::new();
        for k in 0..10u8 {
            let plain = rtcp(k);
            let mut buf = with_tail(&plain);
            let n = tx.protect_rtcp(&mut buf, plain.len()).unwrap();
            let mut lib = with_tail(&plain);
            let m = reference.protect_rtcp(&mut lib, plain.len()).unwrap();
            assert_eq!(
                buf[..n],
                lib[..m],
                "{p}: SRTCP index {} bytes differ",
                k + 1
            );
            ours_sent.push((plain, buf[..n].to_vec()));
            lib_sent.push(lib[..m].to_vec());
        }
        for (plain, srtcp) in &ours_sent {
            let mut buf = with_tail(srtcp);
            let n = rx
                .unprotect_rtcp(&mut buf, srtcp.len())
                .unwrap_or_else(|e| panic!("{p}: libsrtp refused our SRTCP: status {e}"));
            assert_eq!(&buf[..n], &plain[..], "{p}");
        }
        let srtcp = &ours_sent[4].1;
        let mut buf = with_tail(srtcp);
        assert_eq!(
            rx.unprotect_rtcp(&mut buf, srtcp.len()),
            Err(status::REPLAY_FAIL),
            "{p}"
        );

        // libsrtp -> rtcweb
        let mut our_rx = ours(p, 7, 5);
        for (k, srtcp) in lib_sent.iter().enumerate() {
            let mut buf = srtcp.clone();
            let n = our_rx.unprotect_rtcp(&mut buf, srtcp.len()).unwrap();
            assert_eq!(&buf[..n], &rtcp(k as u8)[..], "{p}");
        }
        let mut buf = lib_sent[2].clone();
        let len = buf.len();
        assert_eq!(
            our_rx.unprotect_rtcp(&mut buf, len),
            Err(Error::Replayed { index: 3 }),
            "{p}"
        );
    }
}

#[test]
fn libsrtp_refuses_what_is_too_old_and_so_do_we() {
    let p = ProtectionProfile::AeadAes128Gcm;
    let mut tx = ours(p, 8, 9);
    let mut rx = theirs(p, 8, Direction::Inbound);
    let packets: Vec<Vec<u8>> = (0..300u16)
        .map(|s| {
            let plain = rtp(1000 + s, 20);
            let mut b = with_tail(&plain);
            let n = tx.protect_rtp(&mut b, plain.len()).unwrap();
            b[..n].to_vec()
        })
        .collect();
    let mut b = with_tail(&packets[299]);
    rx.unprotect_rtp(&mut b, packets[299].len()).unwrap();
    let mut b = with_tail(&packets[0]);
    assert_eq!(
        rx.unprotect_rtp(&mut b, packets[0].len()),
        Err(status::REPLAY_OLD)
    );
    let mut our_rx = ours(p, 9, 8);
    our_rx
        .unprotect_rtp(&mut packets[299].clone(), packets[299].len())
        .unwrap();
    let mut old = packets[0].clone();
    let len = old.len();
    assert!(matches!(
        our_rx.unprotect_rtp(&mut old, len),
        Err(Error::TooOld { .. })
    ));
}
