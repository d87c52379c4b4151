//! ICE: how fast an agent answers connectivity checks (the work a server with many peers
//! does most), how much memory an agent takes, and how many agents run checks per second.
//! Virtual time to connected is printed by the rtcweb-ice NAT matrix test (docs/ice.md).
#![allow(missing_docs, clippy::unwrap_used)]

use std::hint::black_box;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use rtcweb_ice::{Credentials, Datagram, IceAgent, IceConfig, IceRole, Received};
use rtcweb_stun::{Attribute, IntegrityKey, MessageBuilder, MessageType, TransactionId};

const LOCAL: &str = "192.0.2.1:5000";
const REMOTE: &str = "198.51.100.2:6000";

fn agent(now: Instant, seed: u64) -> IceAgent {
    let mut a = IceAgent::new(IceConfig::default(), IceRole::Controlled, seed);
    a.add_host_address(now, LOCAL.parse().unwrap());
    a.set_remote_credentials(
        now,
        Credentials::new("rmte", "remotepasswordremotepassword").unwrap(),
    );
    a.add_remote_candidate(
        now,
        "candidate:1 1 udp 2122260223 198.51.100.2 6000 typ host"
            .parse()
            .unwrap(),
    )
    .unwrap();
    while a.poll_event().is_some() {}
    a
}

fn check(agent: &IceAgent) -> Vec<u8> {
    let ours = agent.local_credentials();
    let mut buf = [0u8; 200];
    let mut b = MessageBuilder::new(
        &mut buf,
        MessageType::BINDING_REQUEST,
        TransactionId([7; 12]),
    )
    .unwrap();
    b.attribute(&Attribute::Username(&format!("{}:rmte", ours.ufrag)))
        .unwrap();
    b.attribute(&Attribute::Priority(1_845_501_695)).unwrap();
    b.attribute(&Attribute::IceControlling(1)).unwrap();
    b.message_integrity(&IntegrityKey::short_term(&ours.pwd))
        .unwrap();
    b.fingerprint().unwrap();
    let len = b.finish();
    buf[..len].to_vec()
}

/// Resident set size in bytes (Linux /proc/self/statm, second field, in pages).
fn rss() -> usize {
    let s = std::fs::read_to_string("/proc/self/statm").unwrap();
    let pages: usize = s.split_whitespace().nth(1).unwrap().parse().unwrap();
    pages * 4096
}

fn bench(c: &mut Criterion) {
    let now = Instant::now();
    let local: SocketAddr = LOCAL.parse().unwrap();
    let remote: SocketAddr = REMOTE.parse().unwrap();

    let mut a = agent(now, 1);
    let request = check(&a);
    c.bench_function(
        "ice: answer a connectivity check (verify, respond, triggered check)",
        |b| {
            b.iter(|| {
                let r = a.handle_input(now, Datagram::udp(remote, local, black_box(&request)));
                assert_eq!(r, Received::Consumed);
                while let Some(t) = a.poll_transmit() {
                    black_box(t);
                }
            })
        },
    );

    // Memory per agent: 10,000 agents, each with a host candidate, remote credentials and a
    // remote candidate (one pair), as a server holds them.
    let before = rss();
    let agents: Vec<IceAgent> = (0..10_000).map(|i| agent(now, i)).collect();
    let after = rss();
    println!(
        "ice: memory per agent (10,000 agents, one pair each): {} bytes",
        (after.saturating_sub(before)) / agents.len()
    );
    drop(agents);

    // Checks out: one controlling agent pacing checks to 100 remote candidates; how many
    // requests it builds per second of CPU.
    c.bench_function("ice: build and pace 100 outgoing checks", |b| {
        b.iter(|| {
            let mut a = IceAgent::new(
                IceConfig {
                    ta: Duration::from_millis(1),
                    ..IceConfig::default()
                },
                IceRole::Controlling,
                3,
            );
            a.add_host_address(now, local);
            a.set_remote_credentials(
                now,
                Credentials::new("rmte", "remotepasswordremotepassword").unwrap(),
            );
            for i in 0..100u32 {
                let c = format!(
                    "candidate:{i} 1 udp 2122260223 198.51.{}.{} 6000 typ host",
                    100 + i / 250,
                    1 + i % 250
                );
                a.add_remote_candidate(now, c.parse().unwrap()).unwrap();
            }
            let mut t = now;
            let mut sent = 0;
            while sent < 100 {
                a.handle_timeout(t);
                while let Some(x) = a.poll_transmit() {
                    black_box(x);
                    sent += 1;
                }
                t += Duration::from_millis(1);
            }
        })
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
