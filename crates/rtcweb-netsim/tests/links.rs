//! Link conditions: delay, jitter, loss models, duplication, reordering, MTU, rate limit, and
//! determinism of the whole network for a seed.

#![allow(clippy::unwrap_used)] // test helpers unwrap what the test itself set up

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use rtcweb_netsim::{DropReason, HostId, LinkParams, Loss, Network, Node, TraceKind, Transmit};

fn pair(seed: u64) -> (Network, Instant, HostId, HostId) {
    let start = Instant::now();
    let mut net = Network::new(start, seed);
    let inet = net.internet();
    let a = net.add_host(
        "a",
        inet,
        &[
            "198.51.100.1".parse().unwrap(),
            "2001:db8::1".parse().unwrap(),
        ],
    );
    let b = net.add_host(
        "b",
        inet,
        &[
            "198.51.100.2".parse().unwrap(),
            "2001:db8::2".parse().unwrap(),
        ],
    );
    (net, start, a, b)
}

const A: &str = "198.51.100.1:1000";
const B: &str = "198.51.100.2:2000";

fn dgram(from: &str, to: &str, len: usize, tag: u32) -> Transmit {
    let mut payload = tag.to_be_bytes().to_vec();
    payload.resize(len.max(4), 0);
    Transmit::udp(from.parse().unwrap(), to.parse().unwrap(), payload)
}

/// Drains every delivery, returning (arrival offset, tag).
fn drain(net: &mut Network, start: Instant) -> Vec<(Duration, u32)> {
    let mut out = Vec::new();
    while let Some(at) = net.next_delivery() {
        let (_, d) = net.poll_delivery(at).unwrap();
        out.push((
            at - start,
            u32::from_be_bytes(d.payload[..4].try_into().unwrap()),
        ));
    }
    out
}

#[test]
fn latency_and_jitter_bound_the_delivery_time() {
    let (mut net, start, a, _) = pair(1);
    net.set_link_directions(
        Node::Host(a),
        LinkParams {
            latency: Duration::from_millis(30),
            jitter: Duration::from_millis(10),
            ..LinkParams::default()
        },
        LinkParams::default(),
    );
    for i in 0..1000 {
        net.send(start, a, dgram(A, B, 100, i));
    }
    let got = drain(&mut net, start);
    assert_eq!(got.len(), 1000);
    assert!(
        got.iter()
            .all(|(t, _)| *t >= Duration::from_millis(30) && *t < Duration::from_millis(40))
    );
    // Jitter spreads them: not all at one instant.
    assert!(got.first().unwrap().0 != got.last().unwrap().0);
}

#[test]
fn both_directions_of_both_links_add_up() {
    let (mut net, start, a, b) = pair(1);
    net.set_link_directions(
        Node::Host(a),
        LinkParams::with_latency(Duration::from_millis(5)),
        LinkParams::with_latency(Duration::from_millis(7)),
    );
    net.set_link_directions(
        Node::Host(b),
        LinkParams::with_latency(Duration::from_millis(11)),
        LinkParams::with_latency(Duration::from_millis(13)),
    );
    net.send(start, a, dgram(A, B, 10, 1));
    net.send(start, b, dgram(B, A, 10, 2));
    let got = drain(&mut net, start);
    assert_eq!(
        got,
        vec![
            (Duration::from_millis(18), 1),
            (Duration::from_millis(18), 2)
        ]
    );
}

#[test]
fn ipv6_hosts_talk_over_ipv6() {
    let (mut net, start, a, b) = pair(1);
    net.send(
        start,
        a,
        dgram("[2001:db8::1]:1000", "[2001:db8::2]:2000", 10, 6),
    );
    let (host, d) = net.poll_delivery(start).unwrap();
    assert_eq!(host, b);
    assert_eq!(
        d.source,
        "[2001:db8::1]:1000".parse::<SocketAddr>().unwrap()
    );
}

#[test]
fn random_loss_rate_is_within_tolerance_for_a_seed() {
    for seed in [1, 2, 3] {
        let (mut net, start, a, _) = pair(seed);
        net.set_link(
            Node::Host(a),
            LinkParams {
                loss: Loss::Random(0.10),
                ..LinkParams::default()
            },
        );
        let n = 20_000;
        for i in 0..n {
            net.send(start, a, dgram(A, B, 50, i));
        }
        let delivered = drain(&mut net, start).len() as f64;
        let lost = net.trace().drops(DropReason::Loss) as f64;
        assert_eq!(delivered + lost, f64::from(n));
        // Loss is applied on the uplink only (the downlink of b is perfect): 10 % ± 1 %
        // (about 4.7 standard deviations of a binomial with n = 20,000).
        let rate = lost / f64::from(n);
        assert!(
            (0.09..0.11).contains(&rate),
            "seed {seed}: loss rate {rate}"
        );
    }
}

#[test]
fn gilbert_elliott_loss_comes_in_bursts_at_the_long_run_rate() {
    let (mut net, start, a, _) = pair(9);
    let (p, r) = (0.02, 0.25);
    net.set_link_directions(
        Node::Host(a),
        LinkParams {
            loss: Loss::GilbertElliott {
                p,
                r,
                loss_good: 0.0,
                loss_bad: 1.0,
            },
            ..LinkParams::default()
        },
        LinkParams::default(),
    );
    let n = 100_000u32;
    for i in 0..n {
        net.send(start, a, dgram(A, B, 50, i));
    }
    let mut received = vec![false; n as usize];
    for (_, tag) in drain(&mut net, start) {
        received[tag as usize] = true;
    }
    let lost = received.iter().filter(|r| !**r).count() as f64;
    let expected = p / (p + r); // 0.074
    let rate = lost / f64::from(n);
    assert!(
        (rate - expected).abs() < 0.015,
        "loss rate {rate}, expected {expected}"
    );
    // Mean burst length of the bad state is 1/r = 4 packets.
    let bursts = received.windows(2).filter(|w| w[0] && !w[1]).count() as f64;
    let mean_burst = lost / bursts;
    assert!((3.3..4.7).contains(&mean_burst), "mean burst {mean_burst}");
}

#[test]
fn mtu_drops_oversize_datagrams() {
    let (mut net, start, a, _) = pair(1);
    net.set_link(
        Node::Host(a),
        LinkParams {
            mtu: Some(1200),
            ..LinkParams::default()
        },
    );
    net.send(start, a, dgram(A, B, 1200, 1));
    net.send(start, a, dgram(A, B, 1201, 2));
    assert_eq!(drain(&mut net, start).len(), 1);
    assert_eq!(net.trace().drops(DropReason::Mtu), 1);
}

#[test]
fn rate_limit_spaces_packets_and_tail_drops_a_full_queue() {
    let (mut net, start, a, _) = pair(1);
    net.set_link_directions(
        Node::Host(a),
        LinkParams {
            rate_bps: Some(1_000_000),
            queue_bytes: 10_000,
            ..LinkParams::default()
        },
        LinkParams::default(),
    );
    for i in 0..100 {
        net.send(start, a, dgram(A, B, 1000, i));
    }
    let got = drain(&mut net, start);
    // 1000 B at 1 Mbit/s is 8 ms each; the queue holds ten of them.
    assert_eq!(got.len(), 10);
    for (i, (t, tag)) in got.iter().enumerate() {
        assert_eq!(*tag, i as u32);
        assert_eq!(*t, Duration::from_millis(8 * (i as u64 + 1)));
    }
    assert_eq!(net.trace().drops(DropReason::QueueFull), 90);
    // Once drained, the link accepts again.
    net.send(start + Duration::from_secs(1), a, dgram(A, B, 1000, 100));
    assert_eq!(
        drain(&mut net, start),
        vec![(Duration::from_millis(1008), 100)]
    );
}

#[test]
fn duplication_and_reordering() {
    let (mut net, start, a, _) = pair(5);
    net.set_link_directions(
        Node::Host(a),
        LinkParams {
            latency: Duration::from_millis(10),
            duplicate: 0.2,
            reorder: 0.2,
            reorder_delay: Duration::from_millis(5),
            ..LinkParams::default()
        },
        LinkParams::default(),
    );
    let n = 1000;
    for i in 0..n {
        net.send(
            start + Duration::from_millis(u64::from(i)),
            a,
            dgram(A, B, 50, i),
        );
    }
    let got = drain(&mut net, start);
    let dups = got.len() - n as usize;
    assert!((150..250).contains(&dups), "{dups} duplicates");
    let out_of_order = got.windows(2).filter(|w| w[1].1 < w[0].1).count();
    assert!(out_of_order > 100, "{out_of_order} reordered");
}

#[test]
fn blackhole_cuts_a_link_until_restored() {
    let (mut net, start, a, _) = pair(1);
    net.set_blackhole(Node::Host(a), true);
    net.send(start, a, dgram(A, B, 10, 1));
    assert!(drain(&mut net, start).is_empty());
    net.set_blackhole(Node::Host(a), false);
    net.send(start, a, dgram(A, B, 10, 2));
    assert_eq!(drain(&mut net, start).len(), 1);
    assert_eq!(net.trace().drops(DropReason::Blackhole), 1);
}

#[test]
fn unknown_destinations_have_no_route() {
    let (mut net, start, a, _) = pair(1);
    net.send(start, a, dgram(A, "192.0.2.99:1", 10, 1));
    assert_eq!(net.trace().drops(DropReason::NoRoute), 1);
}

fn lossy_trace(seed: u64) -> Vec<rtcweb_netsim::TraceEvent> {
    let (mut net, start, a, b) = pair(seed);
    net.enable_trace();
    let messy = LinkParams {
        latency: Duration::from_millis(20),
        jitter: Duration::from_millis(15),
        loss: Loss::Random(0.2),
        duplicate: 0.05,
        reorder: 0.05,
        reorder_delay: Duration::from_millis(30),
        ..LinkParams::default()
    };
    net.set_link(Node::Host(a), messy.clone());
    net.set_link(Node::Host(b), messy);
    for i in 0..500 {
        net.send(
            start + Duration::from_millis(u64::from(i)),
            a,
            dgram(A, B, 100, i),
        );
        net.send(
            start + Duration::from_millis(u64::from(i)),
            b,
            dgram(B, A, 100, i),
        );
    }
    drain(&mut net, start);
    net.trace().events().to_vec()
}

#[test]
fn same_seed_same_trace_other_seed_other_trace() {
    let one = lossy_trace(11);
    assert_eq!(one, lossy_trace(11));
    assert_ne!(one, lossy_trace(12));
    assert!(
        one.iter()
            .any(|e| e.kind == TraceKind::Dropped(DropReason::Loss))
    );
    assert!(one.iter().any(|e| e.kind == TraceKind::Delivered));
}

/// `Link` on its own applies the same model as a host's link in a `Network`.
#[test]
fn a_standalone_link_queues_at_its_rate_and_drops_at_the_tail() {
    use rtcweb_netsim::Link;
    let start = Instant::now();
    let mut link = Link::new(
        LinkParams {
            latency: Duration::from_millis(20),
            rate_bps: Some(800_000),
            queue_bytes: 5_000,
            ..LinkParams::default()
        },
        3,
    );
    // 1000 bytes at 800 kbit/s: 10 ms each. Five fit in the queue, the sixth is dropped.
    let mut out = Vec::new();
    for _ in 0..6 {
        out.push(link.transit(start, 1000));
    }
    for (i, d) in out.iter().take(5).enumerate() {
        let d = d.unwrap();
        assert_eq!(
            d.first,
            start + Duration::from_millis(20 + 10 * (i as u64 + 1))
        );
        assert_eq!(d.second, None);
    }
    assert_eq!(out[5], Err(DropReason::QueueFull));
    // A capacity step: the backlog keeps its times, new packets go at the new rate. The
    // backlog counts at the new rate too: 50 ms at 1.6 Mbit/s is 10 kB, a full queue; 20 ms
    // later it is 4 kB, and one more packet fits.
    link.set_params(LinkParams {
        rate_bps: Some(1_600_000),
        ..link.params().clone()
    });
    assert_eq!(link.transit(start, 1000), Err(DropReason::QueueFull));
    let t = start + Duration::from_millis(30);
    let next = link.transit(t, 1000).unwrap();
    assert_eq!(next.first, start + Duration::from_millis(50 + 5 + 20));
    // Once the queue drained, a packet waits only its own serialisation.
    let later = start + Duration::from_secs(1);
    assert_eq!(
        link.transit(later, 1000).unwrap().first,
        later + Duration::from_millis(25)
    );
}

#[test]
fn a_standalone_link_loses_at_its_loss_rate() {
    use rtcweb_netsim::Link;
    let start = Instant::now();
    let mut link = Link::new(
        LinkParams {
            loss: Loss::Random(0.1),
            ..LinkParams::default()
        },
        9,
    );
    let lost = (0..10_000)
        .filter(|_| link.transit(start, 100) == Err(DropReason::Loss))
        .count();
    assert!((900..1100).contains(&lost), "{lost} of 10000 lost");
}
