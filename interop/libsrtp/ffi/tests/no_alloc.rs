//! Proof that rtcweb-srtp does not allocate per packet, counting every malloc/calloc/realloc
//! in this process, Rust's and aws-lc's alike (aws-lc is linked statically, so its calls bind
//! to the definitions below, which forward to glibc's `__libc_*` functions). Plain `main`
//! (harness = false): no test-runner threads allocating alongside.

use std::hint::black_box;
use std::os::raw::c_void;
use std::sync::atomic::{AtomicUsize, Ordering};

use rtcweb_srtp::{Config, MasterKey, ProtectionProfile, Session};

static CALLS: AtomicUsize = AtomicUsize::new(0);

unsafe extern "C" {
    fn __libc_malloc(size: usize) -> *mut c_void;
    fn __libc_calloc(n: usize, size: usize) -> *mut c_void;
    fn __libc_realloc(ptr: *mut c_void, size: usize) -> *mut c_void;
}

/// # Safety
/// The C `malloc` contract.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn malloc(size: usize) -> *mut c_void {
    CALLS.fetch_add(1, Ordering::Relaxed);
    // SAFETY: forwards the caller's request unchanged.
    unsafe { __libc_malloc(size) }
}

/// # Safety
/// The C `calloc` contract.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn calloc(n: usize, size: usize) -> *mut c_void {
    CALLS.fetch_add(1, Ordering::Relaxed);
    // SAFETY: forwards the caller's request unchanged.
    unsafe { __libc_calloc(n, size) }
}

/// # Safety
/// The C `realloc` contract.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn realloc(ptr: *mut c_void, size: usize) -> *mut c_void {
    CALLS.fetch_add(1, Ordering::Relaxed);
    // SAFETY: forwards the caller's request unchanged.
    unsafe { __libc_realloc(ptr, size) }
}

fn calls() -> usize {
    CALLS.load(Ordering::SeqCst)
}

fn main() {
    // The hook sees allocations at all.
    let before = calls();
    black_box(Box::new([0u8; 100]));
    assert!(calls() > before, "malloc hook not active");
    // ... including aws-lc's own (EVP_MD_CTX_copy allocates the digest state).
    let digest = aws_lc_rs::digest::Context::new(&aws_lc_rs::digest::SHA256);
    let before = calls();
    black_box(digest.clone());
    assert!(calls() > before, "aws-lc allocations not seen");

    let mut packets = 0u64;
    for p in ProtectionProfile::ALL {
        let a = MasterKey::new(
            p,
            &[1; 32][..p.master_key_len()],
            &[2; 14][..p.master_salt_len()],
        )
        .unwrap();
        let b = MasterKey::new(
            p,
            &[3; 32][..p.master_key_len()],
            &[4; 14][..p.master_salt_len()],
        )
        .unwrap();
        let config = Config::default().with_replay_window(1024);
        let mut tx = Session::new(p, &a, &b, config.clone()).unwrap();
        let mut rx = Session::new(p, &b, &a, config).unwrap();
        let mut buf = vec![0u8; 1300];
        let send = |tx: &mut Session, rx: &mut Session, buf: &mut [u8], seq: u16, ssrc: u32| {
            buf[..12].copy_from_slice(&[0x80, 96, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
            buf[2..4].copy_from_slice(&seq.to_be_bytes());
            buf[8..12].copy_from_slice(&ssrc.to_be_bytes());
            let n = tx.protect_rtp(buf, 1212).unwrap();
            assert_eq!(rx.unprotect_rtp(buf, n).unwrap(), 1212);
            buf[..8].copy_from_slice(&[0x80, 200, 0, 6, 0, 0, 0, 0]);
            buf[4..8].copy_from_slice(&ssrc.to_be_bytes());
            let n = tx.protect_rtcp(buf, 28).unwrap();
            assert_eq!(rx.unprotect_rtcp(buf, n).unwrap(), 28);
        };
        // First packets of each SSRC create its stream entries (allowed: once per SSRC).
        for ssrc in [7, 8] {
            send(&mut tx, &mut rx, &mut buf, 65000, ssrc);
        }
        let before = calls();
        // Across a rollover, two SSRCs interleaved, errors included.
        for k in 1..20_000u32 {
            let seq = 65000u16.wrapping_add(k as u16);
            send(&mut tx, &mut rx, &mut buf, seq, 7 + (k & 1));
            packets += 2;
        }
        let mut forged = [
            0x80u8, 96, 0, 1, 0, 0, 0, 7, 0, 0, 0, 7, 1, 2, 3, 4, 5, 6, 7, 8,
        ];
        assert!(rx.unprotect_rtp(&mut forged, 20).is_err());
        let after = calls();
        assert_eq!(
            after,
            before,
            "{p}: {} allocations in {packets} packets",
            after - before
        );
    }
    println!("no_alloc: 0 allocations in {packets} protect+unprotect round trips (RTP and RTCP)");
    println!("1 passed, 0 failed");
}
