//! SRTP protect/unprotect: rtcweb-srtp vs webrtc-rs `webrtc-srtp` vs the bare aws-lc-rs
//! primitives (the floor), per profile, 1200-octet and 64-octet payloads, one core.
//! Debian's libsrtp2 joins the same harness in interop/libsrtp/bench (it needs the C library).
#![allow(missing_docs, clippy::unwrap_used)]

mod srtp_harness;

use criterion::{Criterion, criterion_group, criterion_main};
use srtp_harness::{Maker, bench_all, floor, rtcweb, webrtc_rs};

fn srtp(c: &mut Criterion) {
    let impls: [(&str, Maker); 3] = [
        ("rtcweb-srtp", rtcweb),
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
