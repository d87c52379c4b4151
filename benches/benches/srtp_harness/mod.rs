//! SRTP bench harness shared by `benches/benches/srtp.rs` (rtcweb-srtp, webrtc-srtp and the
//! bare aws-lc-rs primitives) and `interop/libsrtp/bench` (the same plus Debian's libsrtp2),
//! so every implementation is timed by the same loop in the same run.
//!
//! Each timed batch covers only protect (or only unprotect) calls over `CHUNK` distinct
//! packets with consecutive sequence numbers; preparing the batch (writing the plain packets,
//! or protecting them for the unprotect bench) happens outside the timed region. Criterion's
//! throughput is one element per packet, so its "elem/s" is packets per second.
#![allow(dead_code)]

use std::hint::black_box;
use std::time::{Duration, Instant};

use aws_lc_rs::aead::{AES_128_GCM, AES_256_GCM, Aad, LessSafeKey, Nonce, UnboundKey};
use aws_lc_rs::cipher::{AES_128, EncryptingKey, EncryptionContext, UnboundCipherKey};
use aws_lc_rs::hmac;
use aws_lc_rs::iv::FixedLength;
use criterion::{BenchmarkId, Criterion, Throughput};
use rtcweb_srtp::ProtectionProfile;

/// Packets per timed batch.
pub const CHUNK: usize = 256;
/// RTP header length of the bench packets.
pub const HEADER: usize = 12;
/// Tail room past each packet: any tag, and the SRTP_MAX_TRAILER_LEN + 4 octets that
/// libsrtp's protect functions assume they may write.
pub const TAIL: usize = 160;
pub const SSRC: u32 = 0xcafe_babe;

/// One side of one implementation: protects or unprotects an RTP packet in `buf[..len]`,
/// leaving the result at the start of `buf` and returning its length.
pub trait Srtp {
    fn protect(&mut self, buf: &mut [u8], len: usize) -> usize;
    fn unprotect(&mut self, buf: &mut [u8], len: usize) -> usize;
}

/// Builds a (sender, receiver) pair for a profile from a master key and salt.
pub type Maker = fn(ProtectionProfile, &[u8], &[u8]) -> (Box<dyn Srtp>, Box<dyn Srtp>);

pub fn master(profile: ProtectionProfile) -> (Vec<u8>, Vec<u8>) {
    let key = (0..profile.master_key_len())
        .map(|i| (i * 7 + 1) as u8)
        .collect();
    let salt = (0..profile.master_salt_len())
        .map(|i| (i * 11 + 3) as u8)
        .collect();
    (key, salt)
}

pub fn write_rtp(buf: &mut [u8], seq: u16, payload: usize) -> usize {
    buf[..HEADER].copy_from_slice(&[0x80, 111, 0, 0, 0, 0, 0, 0, 0xca, 0xfe, 0xba, 0xbe]);
    buf[2..4].copy_from_slice(&seq.to_be_bytes());
    buf[4..8].copy_from_slice(&(u32::from(seq) * 960).to_be_bytes());
    for (i, b) in buf[HEADER..HEADER + payload].iter_mut().enumerate() {
        *b = i as u8;
    }
    HEADER + payload
}

// --- rtcweb-srtp ---

pub struct Rtcweb(pub rtcweb_srtp::Session);

impl Srtp for Rtcweb {
    #[inline]
    fn protect(&mut self, buf: &mut [u8], len: usize) -> usize {
        self.0.protect_rtp(buf, len).expect("rtcweb protect")
    }
    #[inline]
    fn unprotect(&mut self, buf: &mut [u8], len: usize) -> usize {
        self.0.unprotect_rtp(buf, len).expect("rtcweb unprotect")
    }
}

pub fn rtcweb(p: ProtectionProfile, key: &[u8], salt: &[u8]) -> (Box<dyn Srtp>, Box<dyn Srtp>) {
    use rtcweb_srtp::{Config, MasterKey, Session};
    let local = MasterKey::new(p, key, salt).unwrap();
    let remote = MasterKey::new(p, key, salt).unwrap();
    let tx = Session::new(p, &local, &remote, Config::default()).unwrap();
    let rx = Session::new(p, &remote, &local, Config::default()).unwrap();
    (Box::new(Rtcweb(tx)), Box::new(Rtcweb(rx)))
}

// --- webrtc-srtp (webrtc-rs) ---

pub struct WebrtcRs(pub webrtc_srtp::context::Context);

impl Srtp for WebrtcRs {
    #[inline]
    fn protect(&mut self, buf: &mut [u8], len: usize) -> usize {
        // Allocates its output: that is the API. Copying it back is part of using it in place.
        let out = self
            .0
            .encrypt_rtp(&buf[..len])
            .expect("webrtc-srtp protect");
        buf[..out.len()].copy_from_slice(&out);
        out.len()
    }
    #[inline]
    fn unprotect(&mut self, buf: &mut [u8], len: usize) -> usize {
        let out = self
            .0
            .decrypt_rtp(&buf[..len])
            .expect("webrtc-srtp unprotect");
        buf[..out.len()].copy_from_slice(&out);
        out.len()
    }
}

pub fn webrtc_rs(p: ProtectionProfile, key: &[u8], salt: &[u8]) -> (Box<dyn Srtp>, Box<dyn Srtp>) {
    use webrtc_srtp::protection_profile::ProtectionProfile as W;
    let wp = match p {
        ProtectionProfile::Aes128CmHmacSha1_80 => W::Aes128CmHmacSha1_80,
        ProtectionProfile::Aes128CmHmacSha1_32 => W::Aes128CmHmacSha1_32,
        ProtectionProfile::AeadAes128Gcm => W::AeadAes128Gcm,
        _ => W::AeadAes256Gcm,
    };
    let make = || webrtc_srtp::context::Context::new(key, salt, wp, None, None).unwrap();
    (Box::new(WebrtcRs(make())), Box::new(WebrtcRs(make())))
}

// --- the bare aws-lc-rs primitives: the floor any implementation on them pays ---

/// AES-CTR + HMAC-SHA1 (one pass over packet || ROC, as rtcweb-srtp does it) or AES-GCM on
/// the packet with an IV built from the sequence number: no header parsing, no index
/// estimation, no replay window, no stream lookup, no stats. What any SRTP implementation on
/// aws-lc-rs must at least spend; "ours minus floor" is our fixed cost per packet.
#[allow(
    clippy::large_enum_variant,
    reason = "one per bench; aws-lc's HMAC_CTX is inline"
)]
pub enum Floor {
    Cm {
        ctr: EncryptingKey,
        auth: hmac::Key,
        tag: usize,
    },
    Gcm(LessSafeKey),
}

impl Floor {
    fn new(p: ProtectionProfile, key: &[u8]) -> Self {
        if p.is_aead() {
            let alg = if p == ProtectionProfile::AeadAes256Gcm {
                &AES_256_GCM
            } else {
                &AES_128_GCM
            };
            Floor::Gcm(LessSafeKey::new(UnboundKey::new(alg, key).unwrap()))
        } else {
            let ctr = EncryptingKey::ctr(UnboundCipherKey::new(&AES_128, key).unwrap()).unwrap();
            let auth = hmac::Key::new(hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY, &[0x42; 20]);
            Floor::Cm {
                ctr,
                auth,
                tag: p.rtp_tag_len(),
            }
        }
    }
}

fn seq_iv(buf: &[u8]) -> [u8; 16] {
    let mut iv = [0u8; 16];
    iv[12..14].copy_from_slice(&buf[2..4]);
    iv
}

impl Srtp for Floor {
    #[inline]
    fn protect(&mut self, buf: &mut [u8], len: usize) -> usize {
        let iv = seq_iv(buf);
        match self {
            Floor::Cm { ctr, auth, tag } => {
                ctr.less_safe_encrypt(
                    &mut buf[HEADER..len],
                    EncryptionContext::Iv128(FixedLength::from(iv)),
                )
                .unwrap();
                // One HMAC pass over packet || ROC, the ROC written where the tag goes.
                buf[len..len + 4].copy_from_slice(&[0; 4]);
                let t = hmac::sign(auth, &buf[..len + 4]);
                buf[len..len + *tag].copy_from_slice(&t.as_ref()[..*tag]);
                len + *tag
            }
            Floor::Gcm(k) => {
                let nonce = Nonce::try_assume_unique_for_key(&iv[..12]).unwrap();
                let (h, rest) = buf.split_at_mut(HEADER);
                let t = k
                    .seal_in_place_separate_tag(nonce, Aad::from(&*h), &mut rest[..len - HEADER])
                    .unwrap();
                buf[len..len + 16].copy_from_slice(t.as_ref());
                len + 16
            }
        }
    }
    #[inline]
    fn unprotect(&mut self, buf: &mut [u8], len: usize) -> usize {
        let iv = seq_iv(buf);
        match self {
            Floor::Cm { ctr, auth, tag } => {
                let n = len - *tag;
                let mut received = [0u8; 16];
                received[..*tag].copy_from_slice(&buf[n..len]);
                buf[n..n + 4].copy_from_slice(&[0; 4]);
                let t = hmac::sign(auth, &buf[..n + 4]);
                aws_lc_rs::constant_time::verify_slices_are_equal(
                    &t.as_ref()[..*tag],
                    &received[..*tag],
                )
                .expect("floor tag");
                ctr.less_safe_encrypt(
                    &mut buf[HEADER..n],
                    EncryptionContext::Iv128(FixedLength::from(iv)),
                )
                .unwrap();
                n
            }
            Floor::Gcm(k) => {
                let nonce = Nonce::try_assume_unique_for_key(&iv[..12]).unwrap();
                let (h, rest) = buf.split_at_mut(HEADER);
                k.open_in_place(nonce, Aad::from(&*h), &mut rest[..len - HEADER])
                    .expect("floor tag");
                len - 16
            }
        }
    }
}

pub fn floor(p: ProtectionProfile, key: &[u8], _salt: &[u8]) -> (Box<dyn Srtp>, Box<dyn Srtp>) {
    (Box::new(Floor::new(p, key)), Box::new(Floor::new(p, key)))
}

// --- the timing loops ---

struct Batch {
    bufs: Vec<Vec<u8>>,
    lens: Vec<usize>,
    seq: u16,
}

impl Batch {
    fn new(payload: usize) -> Self {
        Batch {
            bufs: vec![vec![0u8; HEADER + payload + TAIL]; CHUNK],
            lens: vec![0; CHUNK],
            seq: 1,
        }
    }

    fn fill_plain(&mut self, n: usize, payload: usize) {
        for i in 0..n {
            self.lens[i] = write_rtp(&mut self.bufs[i], self.seq, payload);
            self.seq = self.seq.wrapping_add(1);
        }
    }
}

fn time_protect(tx: &mut dyn Srtp, batch: &mut Batch, payload: usize, iters: u64) -> Duration {
    let mut total = Duration::ZERO;
    let mut done = 0u64;
    while done < iters {
        let n = (iters - done).min(CHUNK as u64) as usize;
        batch.fill_plain(n, payload);
        let start = Instant::now();
        for (buf, &len) in batch.bufs[..n].iter_mut().zip(&batch.lens[..n]) {
            black_box(tx.protect(black_box(buf), len));
        }
        total += start.elapsed();
        done += n as u64;
    }
    total
}

fn time_unprotect(
    tx: &mut dyn Srtp,
    rx: &mut dyn Srtp,
    batch: &mut Batch,
    payload: usize,
    iters: u64,
) -> Duration {
    let mut total = Duration::ZERO;
    let mut done = 0u64;
    while done < iters {
        let n = (iters - done).min(CHUNK as u64) as usize;
        batch.fill_plain(n, payload);
        for (buf, len) in batch.bufs[..n].iter_mut().zip(&mut batch.lens[..n]) {
            *len = tx.protect(buf, *len);
        }
        let start = Instant::now();
        for (buf, &len) in batch.bufs[..n].iter_mut().zip(&batch.lens[..n]) {
            black_box(rx.unprotect(black_box(buf), len));
        }
        total += start.elapsed();
        done += n as u64;
    }
    total
}

/// Checks that every implementation's output is understood by rtcweb-srtp and the other way
/// round, so the benches time real, compatible SRTP (the floor is not SRTP and is skipped).
fn check_interop(p: ProtectionProfile, name: &str, make: Maker) {
    if name.contains("floor") {
        return;
    }
    let (key, salt) = master(p);
    let (mut tx, mut rx) = make(p, &key, &salt);
    let (mut our_tx, mut our_rx) = rtcweb(p, &key, &salt);
    let mut buf = vec![0u8; HEADER + 100 + TAIL];
    for seq in 1..=3u16 {
        let len = write_rtp(&mut buf, seq, 100);
        let n = tx.protect(&mut buf, len);
        assert_eq!(our_rx.unprotect(&mut buf, n), len, "{name} -> rtcweb ({p})");
        let len = write_rtp(&mut buf, seq, 100);
        let n = our_tx.protect(&mut buf, len);
        assert_eq!(rx.unprotect(&mut buf, n), len, "rtcweb -> {name} ({p})");
    }
}

/// Protect and unprotect benches for every profile, payload size and implementation.
pub fn bench_all(c: &mut Criterion, payloads: &[usize], impls: &[(&str, Maker)]) {
    for p in [
        ProtectionProfile::Aes128CmHmacSha1_80,
        ProtectionProfile::Aes128CmHmacSha1_32,
        ProtectionProfile::AeadAes128Gcm,
        ProtectionProfile::AeadAes256Gcm,
    ] {
        for &(name, make) in impls {
            check_interop(p, name, make);
        }
        for &payload in payloads {
            for dir in ["protect", "unprotect"] {
                let mut g = c.benchmark_group(format!("srtp/{p}/{dir}"));
                g.throughput(Throughput::Elements(1));
                for &(name, make) in impls {
                    let (key, salt) = master(p);
                    let (mut tx, mut rx) = make(p, &key, &salt);
                    let mut batch = Batch::new(payload);
                    g.bench_function(BenchmarkId::new(name, payload), |b| {
                        b.iter_custom(|iters| {
                            if dir == "protect" {
                                time_protect(tx.as_mut(), &mut batch, payload, iters)
                            } else {
                                time_unprotect(tx.as_mut(), rx.as_mut(), &mut batch, payload, iters)
                            }
                        })
                    });
                }
                g.finish();
            }
        }
    }
}
