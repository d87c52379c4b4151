//! STUN: parse + verify MESSAGE-INTEGRITY + FINGERPRINT of an ICE Binding request, and build
//! one, with rtcweb-stun and with webrtc-rs `stun` in the same run. Each case is measured in
//! wall time and in the thread's CPU time (CLOCK_THREAD_CPUTIME_ID), which time slices lost to
//! other processes on the shared machine do not inflate.
#![allow(missing_docs, clippy::unwrap_used)]

use std::hint::black_box;
use std::time::Duration;

use criterion::measurement::WallTime;
use criterion::{BenchmarkGroup, Criterion, criterion_group, criterion_main};

const USERNAME: &str = "evtj:h6vY";
const PASSWORD: &str = "VOkJxbRl1RmTxUk/WvJxBt";
const TID: [u8; 12] = [
    0xb7, 0xe7, 0xa7, 0x01, 0xbc, 0x34, 0xd6, 0x86, 0xfa, 0x87, 0xdf, 0xae,
];
const PRIORITY: u32 = 0x6e00_01ff;
const TIE_BREAKER: u64 = 0x932f_f9b1_5126_3b36;

fn thread_cpu() -> Duration {
    let t = rustix::time::clock_gettime(rustix::time::ClockId::ThreadCPUTime);
    Duration::new(t.tv_sec as u64, t.tv_nsec as u32)
}

/// Registers `f` twice: wall time and thread CPU time.
fn both(g: &mut BenchmarkGroup<'_, WallTime>, name: &str, mut f: impl FnMut()) {
    g.bench_function(name, |b| b.iter(&mut f));
    g.bench_function(format!("{name}, thread CPU time"), |b| {
        b.iter_custom(|iters| {
            let start = thread_cpu();
            for _ in 0..iters {
                f();
            }
            thread_cpu() - start
        })
    });
}

fn rtcweb_build(buf: &mut [u8], key: &rtcweb_stun::IntegrityKey) -> usize {
    use rtcweb_stun::{Attribute, MessageBuilder, MessageType, TransactionId};
    let mut m = MessageBuilder::new(
        buf,
        MessageType::BINDING_REQUEST,
        TransactionId(black_box(TID)),
    )
    .unwrap();
    m.attribute(&Attribute::Username(black_box(USERNAME)))
        .unwrap();
    m.attribute(&Attribute::Priority(PRIORITY)).unwrap();
    m.attribute(&Attribute::IceControlled(TIE_BREAKER)).unwrap();
    m.message_integrity(key).unwrap();
    m.fingerprint().unwrap();
    m.finish()
}

fn webrtc_build(m: &mut stun::message::Message, integrity: &stun::integrity::MessageIntegrity) {
    use stun::agent::TransactionId;
    use stun::attributes::{ATTR_ICE_CONTROLLED, ATTR_PRIORITY, ATTR_USERNAME};
    use stun::fingerprint::FINGERPRINT;
    use stun::message::{BINDING_REQUEST, Setter};
    m.reset();
    m.transaction_id = TransactionId(black_box(TID));
    m.set_type(BINDING_REQUEST);
    m.write_header();
    m.add(ATTR_USERNAME, black_box(USERNAME).as_bytes());
    m.add(ATTR_PRIORITY, &PRIORITY.to_be_bytes());
    m.add(ATTR_ICE_CONTROLLED, &TIE_BREAKER.to_be_bytes());
    integrity.add_to(m).unwrap();
    FINGERPRINT.add_to(m).unwrap();
}

/// The ICE Binding request both libraries parse: USERNAME, PRIORITY, ICE-CONTROLLED,
/// MESSAGE-INTEGRITY, FINGERPRINT (the shape of RFC 5769 section 2.1 without SOFTWARE).
fn request() -> Vec<u8> {
    let key = rtcweb_stun::IntegrityKey::short_term(PASSWORD);
    let mut buf = [0u8; 256];
    let n = rtcweb_build(&mut buf, &key);
    buf[..n].to_vec()
}

fn parse(c: &mut Criterion) {
    let bytes = request();
    let mut g = c.benchmark_group("stun/parse+verify ICE binding request");

    let key = rtcweb_stun::IntegrityKey::short_term(PASSWORD);
    both(&mut g, "rtcweb-stun", || {
        use rtcweb_stun::{Attribute, AttributeType, Message};
        let msg = Message::new_checked(black_box(&bytes[..])).unwrap();
        msg.verify_fingerprint().unwrap();
        msg.verify_message_integrity(&key).unwrap();
        let user = msg.get(AttributeType::USERNAME).unwrap();
        let prio = msg.attribute(AttributeType::PRIORITY).unwrap().unwrap();
        let ctl = msg
            .attribute(AttributeType::ICE_CONTROLLED)
            .unwrap()
            .unwrap();
        assert!(matches!(prio, Attribute::Priority(PRIORITY)));
        black_box((user, prio, ctl));
    });

    let integrity = stun::integrity::MessageIntegrity::new_short_term_integrity(PASSWORD.into());
    let mut m = stun::message::Message::new();
    both(&mut g, "webrtc-rs stun", || {
        use stun::attributes::{ATTR_ICE_CONTROLLED, ATTR_PRIORITY, ATTR_USERNAME};
        use stun::fingerprint::FINGERPRINT;
        m.raw.clear();
        m.raw.extend_from_slice(black_box(&bytes[..]));
        m.decode().unwrap();
        FINGERPRINT.check(&m).unwrap();
        integrity.check(&mut m).unwrap();
        let user = m.get(ATTR_USERNAME).unwrap();
        let prio = m.get(ATTR_PRIORITY).unwrap();
        let ctl = m.get(ATTR_ICE_CONTROLLED).unwrap();
        assert_eq!(u32::from_be_bytes(prio[..4].try_into().unwrap()), PRIORITY);
        black_box((user, prio, ctl));
    });
    g.finish();
}

fn build(c: &mut Criterion) {
    let expected = request();
    let mut g = c.benchmark_group("stun/build ICE binding request");

    let key = rtcweb_stun::IntegrityKey::short_term(PASSWORD);
    let mut buf = [0u8; 256];
    both(&mut g, "rtcweb-stun", || {
        black_box(rtcweb_build(&mut buf, &key));
    });

    let integrity = stun::integrity::MessageIntegrity::new_short_term_integrity(PASSWORD.into());
    let mut m = stun::message::Message::new();
    webrtc_build(&mut m, &integrity);
    assert_eq!(
        &m.raw[..],
        &expected[..],
        "both libraries build the same octets"
    );
    both(&mut g, "webrtc-rs stun", || {
        webrtc_build(&mut m, &integrity);
        black_box(m.raw.len());
    });
    g.finish();
}

criterion_group!(benches, parse, build);
criterion_main!(benches);
