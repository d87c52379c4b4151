//! DTLS: one full handshake, both sides, in memory on one core (certificates and contexts made
//! once and reused, as in production; cookie exchange on). rtcweb-dtls (which adds fingerprint
//! checks, key splitting and queues) side by side with bare dimpl, the engine it wraps, in the
//! same run. Each is measured twice: wall time (criterion's default) and the thread's CPU time
//! (CLOCK_THREAD_CPUTIME_ID), which time slices lost to other processes do not inflate.
#![allow(missing_docs, clippy::unwrap_used)]

use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use criterion::{Criterion, criterion_group, criterion_main};
use rtcweb_dtls::{
    Certificate, DtlsConfig, DtlsContext, DtlsEndpoint, Event, Role, State, VersionPolicy,
};

fn certificate(n: u8) -> Certificate {
    let mut secret = [n; 32];
    secret[0] = 0x11;
    let not_before = SystemTime::UNIX_EPOCH + Duration::from_secs(1_790_000_000);
    Certificate::generate(&secret, &[n; 16], not_before, Certificate::DEFAULT_LIFETIME).unwrap()
}

/// One rtcweb-dtls handshake; returns the client's SRTP master key length as a check.
fn rtcweb_handshake(a: &DtlsContext, b: &DtlsContext, now: Instant) -> usize {
    let a_fp = a.certificate().fingerprint().clone();
    let b_fp = b.certificate().fingerprint().clone();
    let mut client = DtlsEndpoint::new(a, Role::Client, vec![b_fp], now).unwrap();
    let mut server = DtlsEndpoint::new(b, Role::Server, vec![a_fp], now).unwrap();
    while client.state() != &State::Connected || server.state() != &State::Connected {
        let mut moved = false;
        while let Some(d) = client.poll_transmit() {
            server.handle_input(now, &d);
            moved = true;
        }
        while let Some(d) = server.poll_transmit() {
            client.handle_input(now, &d);
            moved = true;
        }
        assert!(moved, "stuck: {:?} / {:?}", client.state(), server.state());
    }
    while let Some(e) = server.poll_event() {
        black_box(e);
    }
    match client.poll_event() {
        Some(Event::Connected {
            srtp: Some(keys), ..
        }) => keys.local.key.len(),
        other => panic!("{other:?}"),
    }
}

/// The same handshake with dimpl alone: no fingerprint check, no key split, no queues.
fn dimpl_handshake(
    cfg: &Arc<dimpl::Config>,
    a: &Certificate,
    b: &Certificate,
    version: &str,
) -> usize {
    let now = Instant::now();
    let cert = |c: &Certificate| dimpl::DtlsCertificate {
        certificate: c.der().to_vec(),
        private_key: c.private_key_der().to_vec(),
    };
    let make = |c| match version {
        "1.2" => dimpl::Dtls::new_12(cfg.clone(), c, now),
        "1.3" => dimpl::Dtls::new_13(cfg.clone(), c, now),
        _ => dimpl::Dtls::new_auto(cfg.clone(), c, now),
    };
    let mut client = make(cert(a));
    client.set_active(true);
    let mut server = make(cert(b));
    client.handle_timeout(now).unwrap();
    server.handle_timeout(now).unwrap();
    let mut buf = vec![0u8; 2048];
    let (mut client_up, mut server_up, mut key_len) = (false, false, 0);
    let mut to_server: Vec<Vec<u8>> = Vec::new();
    let mut to_client: Vec<Vec<u8>> = Vec::new();
    while !(client_up && server_up) {
        loop {
            match client.poll_output(&mut buf) {
                dimpl::Output::Packet(p) => to_server.push(p.to_vec()),
                dimpl::Output::Connected => client_up = true,
                dimpl::Output::KeyingMaterial(km, _) => key_len = km.len(),
                dimpl::Output::Timeout(_) => break,
                _ => {}
            }
        }
        loop {
            match server.poll_output(&mut buf) {
                dimpl::Output::Packet(p) => to_client.push(p.to_vec()),
                dimpl::Output::Connected => server_up = true,
                dimpl::Output::Timeout(_) => break,
                _ => {}
            }
        }
        for d in to_server.drain(..) {
            server.handle_packet(&d).unwrap();
        }
        for d in to_client.drain(..) {
            client.handle_packet(&d).unwrap();
        }
    }
    key_len
}

/// CPU time of this thread: what a handshake costs, whatever else the shared machine runs.
fn thread_cpu() -> Duration {
    let t = rustix::time::clock_gettime(rustix::time::ClockId::ThreadCPUTime);
    Duration::new(t.tv_sec as u64, t.tv_nsec as u32)
}

fn handshake(c: &mut Criterion) {
    let (a, b) = (certificate(1), certificate(2));
    let mut g = c.benchmark_group("dtls/full handshake, both sides");
    for (name, version) in [
        ("1.2", VersionPolicy::Dtls12),
        ("1.3", VersionPolicy::Dtls13),
        ("auto (1.3)", VersionPolicy::Auto),
    ] {
        let mut cfg = DtlsConfig::default();
        cfg.version = version;
        // Contexts are made once per application, like the certificates.
        let ctx_a = DtlsContext::new(cfg.clone(), a.clone()).unwrap();
        let ctx_b = DtlsContext::new(cfg, b.clone()).unwrap();
        let now = Instant::now();
        g.bench_function(format!("rtcweb-dtls {name}"), |bench| {
            bench.iter(|| assert_eq!(rtcweb_handshake(&ctx_a, &ctx_b, now), 32))
        });
        g.bench_function(format!("rtcweb-dtls {name}, thread CPU time"), |bench| {
            bench.iter_custom(|iters| {
                let start = thread_cpu();
                for _ in 0..iters {
                    assert_eq!(rtcweb_handshake(&ctx_a, &ctx_b, now), 32);
                }
                thread_cpu() - start
            })
        });
    }
    let dimpl_cfg = Arc::new(dimpl::Config::builder().mtu(1200).build().unwrap());
    for name in ["1.2", "1.3", "auto (1.3)"] {
        g.bench_function(format!("dimpl {name}"), |bench| {
            bench.iter(|| assert_eq!(dimpl_handshake(&dimpl_cfg, &a, &b, name), 88))
        });
        g.bench_function(format!("dimpl {name}, thread CPU time"), |bench| {
            bench.iter_custom(|iters| {
                let start = thread_cpu();
                for _ in 0..iters {
                    assert_eq!(dimpl_handshake(&dimpl_cfg, &a, &b, name), 88);
                }
                thread_cpu() - start
            })
        });
    }
    g.finish();
}

criterion_group!(benches, handshake);
criterion_main!(benches);
