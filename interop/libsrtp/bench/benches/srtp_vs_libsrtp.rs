//! SRTP protect/unprotect, one core, per profile, 1200- and 64-octet payloads: rtcweb-srtp,
//! Debian's libsrtp2 (through rtcweb-libsrtp), webrtc-rs `webrtc-srtp` and the bare aws-lc-rs
//! primitives, timed by the same harness as /work/main/benches (shared source file).

#[path = "../../../../benches/benches/srtp_harness/mod.rs"]
mod srtp_harness;

use criterion::{Criterion, criterion_group, criterion_main};
use rtcweb_libsrtp::{Direction, LibSrtp};
use rtcweb_srtp::ProtectionProfile;
use srtp_harness::{Maker, Srtp, bench_all, floor, rtcweb, webrtc_rs};

struct Lib(LibSrtp);

impl Srtp for Lib {
    #[inline]
    fn protect(&mut self, buf: &mut [u8], len: usize) -> usize {
        self.0.protect_rtp(buf, len).expect("libsrtp protect")
    }
    #[inline]
    fn unprotect(&mut self, buf: &mut [u8], len: usize) -> usize {
        self.0.unprotect_rtp(buf, len).expect("libsrtp unprotect")
    }
}

fn libsrtp(p: ProtectionProfile, key: &[u8], salt: &[u8]) -> (Box<dyn Srtp>, Box<dyn Srtp>) {
    let tx = LibSrtp::new(p, key, salt, Direction::Outbound, 0).unwrap();
    let rx = LibSrtp::new(p, key, salt, Direction::Inbound, 0).unwrap();
    (Box::new(Lib(tx)), Box::new(Lib(rx)))
}

fn srtp(c: &mut Criterion) {
    let impls: [(&str, Maker); 4] = [
        ("rtcweb-srtp", rtcweb),
        ("libsrtp2", libsrtp),
        ("webrtc-srtp", webrtc_rs),
        ("aws-lc-rs floor", floor),
    ];
    bench_all(c, &[1200, 64], &impls);
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .sample_size(30)
        .warm_up_time(std::time::Duration::from_millis(700))
        .measurement_time(std::time::Duration::from_secs(2));
    targets = srtp
}
criterion_main!(benches);
