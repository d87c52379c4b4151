//! Session behaviour: round trips, ROC rollover and late packets, replay windows, SRTCP index,
//! stream limits and bad input.
#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

use rtcweb_srtp::{Config, Error, MasterKey, ProtectionProfile, Session};

const ALL: [ProtectionProfile; 4] = ProtectionProfile::ALL;

fn master(p: ProtectionProfile, seed: u8) -> MasterKey {
    let key: Vec<u8> = (0..p.master_key_len() as u8)
        .map(|i| i.wrapping_mul(31) ^ seed)
        .collect();
    let salt: Vec<u8> = (0..p.master_salt_len() as u8)
        .map(|i| i.wrapping_add(seed))
        .collect();
    MasterKey::new(p, &key, &salt).unwrap()
}

/// Two ends of one association.
fn pair_with(p: ProtectionProfile, config: Config) -> (Session, Session) {
    let (a, b) = (master(p, 1), master(p, 2));
    (
        Session::new(p, &a, &b, config.clone()).unwrap(),
        Session::new(p, &b, &a, config).unwrap(),
    )
}

fn pair(p: ProtectionProfile) -> (Session, Session) {
    pair_with(p, Config::default())
}

fn rtp(ssrc: u32, seq: u16, payload_len: usize) -> Vec<u8> {
    let mut v = vec![0x80, 96];
    v.extend_from_slice(&seq.to_be_bytes());
    v.extend_from_slice(&(u32::from(seq) * 960).to_be_bytes());
    v.extend_from_slice(&ssrc.to_be_bytes());
    v.extend((0..payload_len).map(|i| (i as u8) ^ (seq as u8)));
    v
}

fn rtcp(ssrc: u32, fill: u8) -> Vec<u8> {
    let mut v = vec![0x80, 200, 0, 6];
    v.extend_from_slice(&ssrc.to_be_bytes());
    v.extend_from_slice(&[fill; 20]);
    v
}

fn send(tx: &mut Session, packet: &[u8]) -> Vec<u8> {
    let mut v = packet.to_vec();
    tx.protect_rtp_vec(&mut v).unwrap();
    v
}

fn recv(rx: &mut Session, srtp: &[u8]) -> Result<Vec<u8>, Error> {
    let mut v = srtp.to_vec();
    rx.unprotect_rtp_vec(&mut v).map(|()| v)
}

#[test]
fn rtp_round_trip_every_profile_and_header_shape() {
    for p in ALL {
        let (mut a, mut b) = pair(p);
        let mut seq = 100u16;
        for payload in [0usize, 1, 15, 16, 17, 160, 1200] {
            for shape in 0..3 {
                let mut pkt = rtp(0x1234_5678, seq, payload);
                if shape >= 1 {
                    // Two CSRCs.
                    pkt[0] |= 2;
                    pkt.splice(12..12, [0, 0, 0, 1, 0, 0, 0, 2]);
                }
                if shape == 2 {
                    // A one-byte header extension block of two words.
                    pkt[0] |= 0x10;
                    pkt.splice(
                        20..20,
                        [0xbe, 0xde, 0, 2, 0x10, 0xaa, 0x21, 0xbb, 0xcc, 0, 0, 0],
                    );
                }
                let srtp = send(&mut a, &pkt);
                assert_eq!(srtp.len(), pkt.len() + p.rtp_tag_len());
                let header_len = pkt.len() - payload;
                assert_eq!(srtp[..header_len], pkt[..header_len], "header stays clear");
                if payload >= 16 {
                    assert_ne!(
                        srtp[header_len..pkt.len()],
                        pkt[header_len..],
                        "payload encrypted"
                    );
                }
                assert_eq!(recv(&mut b, &srtp).unwrap(), pkt, "{p} payload {payload}");
                seq += 1;
            }
        }
        assert_eq!(a.stats().rtp_protected, 21);
        assert_eq!(b.stats().rtp_unprotected, 21);
        assert_eq!(b.stats().errors(), 0);
    }
}

#[test]
fn rtcp_round_trip_index_and_e_flag() {
    for p in ALL {
        let (mut a, mut b) = pair(p);
        for i in 0..5u32 {
            let pkt = rtcp(0xdead_beef, i as u8);
            let mut v = pkt.clone();
            a.protect_rtcp_vec(&mut v).unwrap();
            assert_eq!(v.len(), pkt.len() + p.rtcp_overhead());
            // The E flag and index sit before the tag (HMAC) or at the very end (GCM).
            let at = if p.is_aead() {
                v.len() - 4
            } else {
                v.len() - 4 - p.rtcp_tag_len()
            };
            let word = u32::from_be_bytes(v[at..at + 4].try_into().unwrap());
            assert_eq!(word, 0x8000_0000 | i, "{p}");
            assert_eq!(v[..8], pkt[..8]);
            assert_ne!(v[8..pkt.len()], pkt[8..]);
            b.unprotect_rtcp_vec(&mut v).unwrap();
            assert_eq!(v, pkt);
        }
    }
}

#[test]
fn srtcp_without_e_flag_is_accepted_after_authentication() {
    // An unencrypted SRTCP packet (E = 0) made by hand for the HMAC profiles: payload in the
    // clear, E||index authenticated. Built by flipping E on a protected packet is not possible
    // (the tag covers it), so check that flipping E is refused.
    for p in ALL {
        let (mut a, mut b) = pair(p);
        let mut v = rtcp(7, 1);
        a.protect_rtcp_vec(&mut v).unwrap();
        let at = if p.is_aead() {
            v.len() - 4
        } else {
            v.len() - 4 - p.rtcp_tag_len()
        };
        v[at] &= 0x7f;
        assert_eq!(
            b.unprotect_rtcp_vec(&mut v),
            Err(Error::AuthenticationFailed),
            "{p}"
        );
    }
}

#[test]
fn roc_rollover_across_65535_to_0() {
    for p in ALL {
        let (mut a, mut b) = pair(p);
        let ssrc = 0xcafe_babe;
        for k in 0..20u32 {
            let seq = (65530 + k) as u16;
            let pkt = rtp(ssrc, seq, 50);
            let srtp = send(&mut a, &pkt);
            assert_eq!(recv(&mut b, &srtp).unwrap(), pkt, "{p} seq {seq}");
        }
        assert_eq!(a.rtp_roc(ssrc, true), Some(1));
        assert_eq!(b.rtp_roc(ssrc, false), Some(1));
        // A second wrap.
        for k in 0..70000u32 {
            let seq = (65550 + k) as u16;
            let mut v = rtp(ssrc, seq, 0);
            a.protect_rtp_vec(&mut v).unwrap();
            if k % 1000 == 0 || k > 69990 {
                b.unprotect_rtp_vec(&mut v).unwrap();
            }
        }
        assert_eq!(a.rtp_roc(ssrc, true), Some(2));
        assert_eq!(b.rtp_roc(ssrc, false), Some(2));
    }
}

#[test]
fn late_packets_across_the_wrap() {
    for p in ALL {
        let (mut a, mut b) = pair_with(p, Config::default().with_replay_window(128));
        let ssrc = 42;
        let seqs: Vec<u16> = (65500..=65535).chain(0..40).collect();
        let packets: Vec<(Vec<u8>, Vec<u8>)> = seqs
            .iter()
            .map(|&s| {
                let pkt = rtp(ssrc, s, 32);
                let srtp = send(&mut a, &pkt);
                (pkt, srtp)
            })
            .collect();
        // The first packet starts the stream at ROC 0; then the post-wrap packets (ROC 1),
        // then the remaining pre-wrap ones late (estimated at ROC - 1).
        let (before, after) = packets.split_at(36);
        for (pkt, srtp) in before[..1].iter().chain(after).chain(&before[1..]) {
            assert_eq!(&recv(&mut b, srtp).unwrap(), pkt, "{p}");
        }
        assert_eq!(b.rtp_roc(ssrc, false), Some(1));
        // Every one of them is now a replay.
        for (_, srtp) in &packets {
            assert!(matches!(recv(&mut b, srtp), Err(Error::Replayed { .. })));
        }
        assert_eq!(b.stats().replayed, packets.len() as u64);
    }
}

#[test]
fn replay_window_sizes() {
    for window in [64usize, 128, 512, 1024] {
        for p in [
            ProtectionProfile::Aes128CmHmacSha1_80,
            ProtectionProfile::AeadAes128Gcm,
        ] {
            let (mut a, mut b) = pair_with(p, Config::default().with_replay_window(window));
            let n = window as u16 + 10;
            let sent: Vec<Vec<u8>> = (0..=n)
                .map(|s| send(&mut a, &rtp(9, 1000 + s, 8)))
                .collect();
            // Newest first, then the one at the window's far edge, then one past it.
            recv(&mut b, &sent[n as usize]).unwrap();
            let edge = n as usize - (window - 1);
            recv(&mut b, &sent[edge]).unwrap();
            let past = edge - 1;
            let idx = u64::from(1000 + past as u16);
            assert_eq!(recv(&mut b, &sent[past]), Err(Error::TooOld { index: idx }));
            assert_eq!(
                recv(&mut b, &sent[edge]),
                Err(Error::Replayed { index: idx + 1 })
            );
            assert_eq!((b.stats().too_old, b.stats().replayed), (1, 1));
        }
    }
}

#[test]
fn rtcp_replay_rejected() {
    for p in ALL {
        let (mut a, mut b) = pair(p);
        let mut v = rtcp(5, 5);
        a.protect_rtcp_vec(&mut v).unwrap();
        let copy = v.clone();
        b.unprotect_rtcp_vec(&mut v).unwrap();
        let mut again = copy;
        assert_eq!(
            b.unprotect_rtcp_vec(&mut again),
            Err(Error::Replayed { index: 0 })
        );
        assert_eq!(b.stats().replayed, 1);
    }
}

#[test]
fn repeated_send_is_refused_unless_allowed() {
    for p in ALL {
        let (mut a, _) = pair(p);
        let pkt = rtp(1, 10, 20);
        send(&mut a, &pkt);
        let mut v = pkt.clone();
        assert_eq!(
            a.protect_rtp_vec(&mut v),
            Err(Error::Replayed { index: 10 })
        );
        assert_eq!(v, pkt, "a refused packet is left as it was");
        let (mut a, _) = pair_with(p, Config::default().with_allow_repeat_tx(true));
        assert_eq!(send(&mut a, &pkt), send(&mut a, &pkt));
    }
}

#[test]
fn tampering_is_detected_and_leaves_state_alone() {
    for p in ALL {
        let (mut a, mut b) = pair(p);
        let pkt = rtp(77, 500, 40);
        let srtp = send(&mut a, &pkt);
        for i in 0..srtp.len() {
            for bit in [0x01u8, 0x80] {
                let mut bad = srtp.clone();
                bad[i] ^= bit;
                assert!(
                    recv(&mut b, &bad).is_err(),
                    "{p}: octet {i} bit {bit:#x} accepted"
                );
            }
        }
        assert_eq!(b.stats().rtp_unprotected, 0);
        assert_eq!(
            b.stream_counts().2,
            0,
            "no stream for unauthenticated packets"
        );
        assert_eq!(recv(&mut b, &srtp).unwrap(), pkt);
        assert!(b.stats().auth_failures > 0);
        let mut v = rtcp(77, 3);
        a.protect_rtcp_vec(&mut v).unwrap();
        for i in 0..v.len() {
            let mut bad = v.clone();
            bad[i] ^= 0x04;
            assert!(
                b.unprotect_rtcp_vec(&mut bad).is_err(),
                "{p}: rtcp octet {i}"
            );
        }
        b.unprotect_rtcp_vec(&mut v).unwrap();
    }
}

#[test]
fn truncated_packets_are_errors() {
    for p in ALL {
        let (mut a, mut b) = pair(p);
        let srtp = send(&mut a, &rtp(3, 1, 30));
        for n in 0..srtp.len() {
            let mut buf = srtp[..n].to_vec();
            assert!(
                b.unprotect_rtp(&mut buf, n).is_err(),
                "{p}: {n} octets accepted"
            );
        }
        let mut v = rtcp(3, 1);
        a.protect_rtcp_vec(&mut v).unwrap();
        for n in 0..v.len() {
            let mut buf = v[..n].to_vec();
            assert!(
                b.unprotect_rtcp(&mut buf, n).is_err(),
                "{p}: rtcp {n} octets accepted"
            );
        }
        // len beyond the buffer is refused, not a panic.
        let mut small = [0u8; 4];
        assert_eq!(b.unprotect_rtp(&mut small, 100), Err(Error::Truncated));
        assert_eq!(a.protect_rtp(&mut small, 100), Err(Error::Truncated));
        assert!(b.stats().truncated > 0);
        assert_eq!(recv(&mut b, &srtp).unwrap(), rtp(3, 1, 30));
    }
}

#[test]
fn protect_needs_tail_room() {
    for p in ALL {
        let (mut a, _) = pair(p);
        let pkt = rtp(1, 1, 10);
        let mut buf = pkt.clone();
        buf.resize(pkt.len() + p.rtp_overhead() - 1, 0);
        let n = pkt.len();
        assert_eq!(
            a.protect_rtp(&mut buf, n),
            Err(Error::BufferTooSmall {
                needed: n + p.rtp_overhead(),
                available: n + p.rtp_overhead() - 1
            })
        );
        assert_eq!(buf[..n], pkt[..], "untouched");
        assert_eq!(a.stats().buffer_too_small, 1);
        let mut r = rtcp(1, 1);
        let n = r.len();
        assert!(matches!(
            a.protect_rtcp(&mut r, n),
            Err(Error::BufferTooSmall { .. })
        ));
        // The refused packet did not use a sequence number or SRTCP index.
        buf.push(0);
        assert_eq!(
            a.protect_rtp(&mut buf, pkt.len()),
            Ok(pkt.len() + p.rtp_overhead())
        );
    }
}

#[test]
fn stream_limit_counts_and_forgeries_take_no_slot() {
    let p = ProtectionProfile::AeadAes128Gcm;
    let (mut a, mut b) = pair_with(p, Config::default().with_max_streams(2));
    // Forged packets from many SSRCs: refused by authentication, no stream created.
    for ssrc in 100..200u32 {
        let mut forged = rtp(ssrc, 1, 20);
        forged.extend_from_slice(&[0; 16]);
        assert_eq!(recv(&mut b, &forged), Err(Error::AuthenticationFailed));
    }
    assert_eq!(b.stream_counts(), (0, 0, 0, 0));
    for ssrc in [1, 2] {
        let srtp = send(&mut a, &rtp(ssrc, 1, 20));
        recv(&mut b, &srtp).unwrap();
    }
    let mut third = rtp(3, 1, 20);
    assert_eq!(
        a.protect_rtp_vec(&mut third),
        Err(Error::StreamLimit { limit: 2 })
    );
    assert_eq!(a.stats().stream_limit, 1);
    // The receiver refuses a third SSRC before spending crypto on it.
    let (mut c, _) = pair_with(p, Config::default());
    let srtp3 = send(&mut c, &rtp(3, 1, 20));
    assert_eq!(recv(&mut b, &srtp3), Err(Error::StreamLimit { limit: 2 }));
    assert_eq!(b.stats().stream_limit, 1);
    // Removing a stream frees its slot.
    assert!(b.remove_ssrc(1));
    assert_eq!(recv(&mut b, &srtp3).unwrap(), rtp(3, 1, 20));
    assert_eq!(b.inbound_rtp_ssrcs().len(), 2);
    // RTCP tables are bounded the same way.
    for ssrc in [1, 2] {
        a.protect_rtcp_vec(&mut rtcp(ssrc, 0)).unwrap();
    }
    assert_eq!(
        a.protect_rtcp_vec(&mut rtcp(3, 0)),
        Err(Error::StreamLimit { limit: 2 })
    );
}

#[test]
fn many_streams_past_the_linear_scan() {
    let p = ProtectionProfile::Aes128CmHmacSha1_80;
    let (mut a, mut b) = pair_with(p, Config::default().with_max_streams(300));
    for round in 0..3u16 {
        for ssrc in 0..300u32 {
            let pkt = rtp(ssrc.wrapping_mul(0x9e37_79b9), round, 12);
            let srtp = send(&mut a, &pkt);
            assert_eq!(recv(&mut b, &srtp).unwrap(), pkt);
        }
    }
    assert_eq!(b.stream_counts().2, 300);
    let mut extra = rtp(0xffff_ffff, 0, 12);
    assert_eq!(
        a.protect_rtp_vec(&mut extra),
        Err(Error::StreamLimit { limit: 300 })
    );
}

#[test]
fn bad_version_and_garbage() {
    for p in ALL {
        let (_, mut b) = pair(p);
        let mut v = rtp(1, 1, 40);
        v[0] = 0x40;
        assert_eq!(recv(&mut b, &v), Err(Error::BadVersion));
        // Pseudo-random garbage of every length up to 200: never a panic, always an error.
        let mut x = 0x1234_5678u32;
        for len in 0..200 {
            let mut g: Vec<u8> = (0..len)
                .map(|_| {
                    x ^= x << 13;
                    x ^= x >> 17;
                    x ^= x << 5;
                    x as u8
                })
                .collect();
            if let Some(first) = g.first_mut() {
                *first = 0x80 | (*first & 0x3f);
            }
            let mut h = g.clone();
            assert!(b.unprotect_rtp_vec(&mut g).is_err());
            assert!(b.unprotect_rtcp_vec(&mut h).is_err());
        }
        assert_eq!(b.stats().errors(), 401);
    }
}

#[test]
fn config_is_validated() {
    let p = ProtectionProfile::Aes128CmHmacSha1_80;
    let (a, b) = (master(p, 1), master(p, 2));
    for window in [0usize, 63, 1025] {
        let c = Config::default().with_replay_window(window);
        assert!(matches!(
            Session::new(p, &a, &b, c),
            Err(Error::InvalidConfig(_))
        ));
    }
    let c = Config::default().with_max_streams(0);
    assert!(matches!(
        Session::new(p, &a, &b, c),
        Err(Error::InvalidConfig(_))
    ));
}

#[test]
fn keys_must_fit_the_profile() {
    let p = ProtectionProfile::AeadAes256Gcm;
    assert_eq!(
        MasterKey::new(p, &[0; 16], &[0; 12]).unwrap_err(),
        Error::KeyLength {
            expected: 32,
            got: 16
        }
    );
    assert_eq!(
        MasterKey::new(p, &[0; 32], &[0; 14]).unwrap_err(),
        Error::KeyLength {
            expected: 12,
            got: 14
        }
    );
    assert_eq!(
        ProtectionProfile::from_id(0x0003),
        Err(Error::UnsupportedProfile(3))
    );
    for q in ALL {
        assert_eq!(ProtectionProfile::from_id(q.id()), Ok(q));
    }
}

#[test]
fn dtls_export_split_gives_mirrored_sessions() {
    for p in ALL {
        let material: Vec<u8> = (0..p.keying_material_len() as u8).collect();
        let (cl, cr) = MasterKey::pair_from_dtls_export(p, &material, true).unwrap();
        let (sl, sr) = MasterKey::pair_from_dtls_export(p, &material, false).unwrap();
        assert_eq!(cl.key(), &material[..p.master_key_len()]);
        assert_eq!(cl.key(), sr.key());
        assert_eq!(cr.salt(), sl.salt());
        let k = p.master_key_len();
        assert_eq!(cr.salt(), &material[2 * k + p.master_salt_len()..]);
        let mut client = Session::new(p, &cl, &cr, Config::default()).unwrap();
        let mut server = Session::new(p, &sl, &sr, Config::default()).unwrap();
        let pkt = rtp(1, 1, 100);
        assert_eq!(recv(&mut server, &send(&mut client, &pkt)).unwrap(), pkt);
        assert_eq!(recv(&mut client, &send(&mut server, &pkt)).unwrap(), pkt);
        assert!(MasterKey::pair_from_dtls_export(p, &material[1..], true).is_err());
    }
}

#[test]
fn session_can_move_between_threads() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Session>();
    assert_send_sync::<MasterKey>();
    assert_send_sync::<Error>();
}
