//! What the engine does for the channels beside each other, over DTLS on rtcweb-netsim with a
//! 40 ms round trip: RFC 8260 interleaving (a 16 MiB message does not hold back the small
//! messages of another channel), the priority scheduler (a high-priority channel keeps its
//! rate beside a bulk one), a paused reader that resumes gets new data within a round trip
//! (a window update, not a retransmission timeout), and on a pair without DTLS: heartbeats,
//! RFC 9653 zero checksum, runs reproducible from the seed.
#![allow(clippy::unwrap_used)] // test helpers unwrap what the test itself set up

mod common;

use std::time::{Duration, Instant};

use common::{Host, Pair, TwoHosts, messages, opened};
use rtcweb_netsim::{LinkParams, Node, Simulation};
use rtcweb_sctp::{ChannelId, ChannelOptions, Error, Priority, SctpConfig};

const ONE_WAY: Duration = Duration::from_millis(20);
const RTT: Duration = Duration::from_millis(40);
const BIG: usize = 16 * 1024 * 1024;

fn big_config() -> SctpConfig {
    let mut c = common::config();
    c.max_message_size = BIG;
    c.remote_max_message_size = Some(BIG);
    c.receive_window = 2 * BIG;
    c.send_buffer_limit = 2 * BIG;
    c
}

/// Hosts a and b on links of 10 ms each way (so 40 ms round trip) and no rate limit (the
/// congestion window is the bottleneck, so the scheduler's work shows and not a queue's);
/// both channels created by a, open on both sides.
fn setup(
    sctp: SctpConfig,
    first: ChannelOptions,
    second: ChannelOptions,
) -> (
    Simulation,
    rtcweb_netsim::HostId,
    rtcweb_netsim::HostId,
    ChannelId,
    ChannelId,
) {
    let start = Instant::now();
    let TwoHosts {
        mut net,
        a,
        b,
        mut host_a,
        host_b,
    } = TwoHosts::new(start, 7, sctp);
    let half = LinkParams::with_latency(ONE_WAY / 2);
    net.set_link(Node::Host(a), half.clone());
    net.set_link(Node::Host(b), half);
    let c1 = host_a.sctp.create_channel(start, first).unwrap();
    let c2 = host_a.sctp.create_channel(start, second).unwrap();
    let mut sim = Simulation::new(net);
    sim.attach(a, host_a);
    sim.attach(b, host_b);
    let up = sim.run_until(start + Duration::from_secs(10), |s| {
        let e = &s.endpoint::<Host>(b).events;
        opened(e, c1) && opened(e, c2)
    });
    assert!(up, "channels did not open");
    sim.endpoint_mut::<Host>(b).drain();
    (sim, a, b, c1, c2)
}

/// With RFC 8260 interleaving, 100-byte messages sent while a 16 MiB message is on its way
/// on another channel arrive within a few round trips, long before it.
#[test]
fn a_big_message_does_not_hold_back_another_channel() {
    let (mut sim, a, b, bulk, chat) = setup(
        big_config(),
        ChannelOptions::new("bulk"),
        ChannelOptions::new("chat"),
    );
    let t0 = sim.now();
    let big: Vec<u8> = (0..BIG).map(|i| (i % 251) as u8).collect();
    sim.endpoint_mut::<Host>(a)
        .sctp
        .send_binary(t0, bulk, &big)
        .unwrap();
    let mut sent_at = Vec::new();
    let mut arrived_at = Vec::new();
    let mut big_at = None;
    while sim.elapsed() < Duration::from_secs(120) && (big_at.is_none() || arrived_at.len() < 20) {
        let now = sim.now();
        if sent_at.len() < 20 && now >= t0 + Duration::from_millis(10) * sent_at.len() as u32 {
            let m = (sent_at.len() as u32).to_be_bytes().repeat(25);
            sim.endpoint_mut::<Host>(a)
                .sctp
                .send_binary(now, chat, &m)
                .unwrap();
            sent_at.push(now);
        }
        sim.run_until(now + Duration::from_millis(1), |_| false);
        let hb = sim.endpoint::<Host>(b);
        while arrived_at.len() < messages(&hb.events, chat).len() {
            arrived_at.push(sim.now());
        }
        if big_at.is_none() && !messages(&hb.events, bulk).is_empty() {
            big_at = Some(sim.now());
        }
    }
    let hb = sim.endpoint::<Host>(b);
    assert!(hb.sctp.stats().message_interleaving, "I-DATA in use");
    let big_at = big_at.expect("the big message arrived");
    assert_eq!(&messages(&hb.events, bulk)[0].data[..], &big[..]);
    assert_eq!(arrived_at.len(), 20, "every small message arrived");
    for (i, (s, r)) in sent_at.iter().zip(&arrived_at).enumerate() {
        assert!(
            *r - *s <= 5 * RTT,
            "message {i} took {:?} (the big one took {:?})",
            *r - *s,
            big_at - t0
        );
    }
    // They overlapped: the last small message was sent well before the big one was in.
    assert!(
        big_at > *sent_at.last().unwrap() + RTT,
        "the big message took only {:?}",
        big_at - t0
    );
}

/// A high-priority channel sending 1 Mbit/s beside a low-priority bulk channel that keeps
/// 4 MiB queued: every message of the first arrives within a few round trips (first-in
/// first-out puts it behind the 4 MiB: rtc-sctp took 3.4-4.2 s on a 20 Mbit/s path), and the
/// bulk still flows.
#[test]
fn a_high_priority_channel_keeps_its_rate_beside_a_bulk_channel() {
    let mut cfg = common::config();
    cfg.send_buffer_limit = 8 * 1024 * 1024;
    let (mut sim, a, b, bulk, urgent) = setup(
        cfg,
        ChannelOptions::new("bulk").priority(Priority::Low),
        ChannelOptions::new("urgent").priority(Priority::High),
    );
    let t0 = sim.now();
    let chunk = vec![0x42u8; 64 * 1024];
    let mut sent_at = Vec::new();
    let mut arrived_at = Vec::new();
    // 1250-byte messages every 10 ms: 1 Mbit/s, for 5 s.
    while sim.now() < t0 + Duration::from_secs(6) {
        let now = sim.now();
        let ha = sim.endpoint_mut::<Host>(a);
        while ha.sctp.buffered_amount(bulk).unwrap() < 4 * 1024 * 1024 {
            match ha.sctp.send_binary(now, bulk, &chunk) {
                Ok(()) => {}
                Err(Error::WouldBlock { .. }) => break,
                Err(e) => panic!("{e}"),
            }
        }
        if sent_at.len() < 500 && now >= t0 + Duration::from_millis(10) * sent_at.len() as u32 {
            let m = (sent_at.len() as u32).to_be_bytes().repeat(1250 / 4);
            ha.sctp.send_binary(now, urgent, &m).unwrap();
            sent_at.push(now);
        }
        sim.run_until(now + Duration::from_millis(1), |_| false);
        let hb = sim.endpoint::<Host>(b);
        while arrived_at.len() < messages(&hb.events, urgent).len() {
            arrived_at.push(sim.now());
        }
    }
    let hb = sim.endpoint::<Host>(b);
    let bulk_bytes: usize = messages(&hb.events, bulk)
        .iter()
        .map(|m| m.data.len())
        .sum();
    assert_eq!(arrived_at.len(), 500, "every urgent message arrived");
    let worst = sent_at
        .iter()
        .zip(&arrived_at)
        .map(|(s, r)| *r - *s)
        .max()
        .unwrap();
    assert!(worst <= 5 * RTT, "an urgent message took {worst:?}");
    // The bulk had the rest: at least 10 Mbit/s over the 6 s.
    assert!(
        bulk_bytes > 10_000_000 / 8 * 6,
        "bulk got {bulk_bytes} bytes"
    );
}

/// A reader that pauses until the sender is held back, for 20 s, then resumes: new data (past
/// what had filled its window) arrives within about a round trip of the resumption, because
/// reading sends a window update; waiting for the sender's backed-off retransmission timer
/// would take seconds.
#[test]
fn a_paused_reader_gets_data_again_within_a_round_trip() {
    let (mut sim, a, b, ch, _) = setup(
        common::config(),
        ChannelOptions::new("slow reader"),
        ChannelOptions::new("unused"),
    );
    let t0 = sim.now();
    sim.endpoint_mut::<Host>(b).sctp.pause_reads(t0, true);
    let t0 = sim.now();
    let mut sent = 0;
    while sim.now() < t0 + Duration::from_secs(20) {
        let now = sim.now();
        let ha = sim.endpoint_mut::<Host>(a);
        while sent < 200 && ha.sctp.send_binary(now, ch, &[sent as u8; 60_000]).is_ok() {
            sent += 1;
        }
        sim.run_until(now + Duration::from_millis(10), |_| false);
    }
    assert!(messages(&sim.endpoint::<Host>(b).events, ch).is_empty());
    assert!(sent > 40, "{sent} sent");
    let resumed = sim.now();
    sim.endpoint_mut::<Host>(b).sctp.pause_reads(resumed, false);
    sim.endpoint_mut::<Host>(b).drain();
    let held = messages(&sim.endpoint::<Host>(b).events, ch).len();
    assert!(
        held > 0 && held < sent,
        "{held} of {sent} were held at the reader"
    );
    // New DATA (the only packets over 1000 bytes a sends) and the next whole message.
    let bytes_at_resume = sim.endpoint::<Host>(b).sctp.stats().bytes_received;
    let (mut data_at, mut next_at) = (None, None);
    while sim.now() < resumed + Duration::from_secs(30) && next_at.is_none() {
        let now = sim.now();
        sim.run_until(now + Duration::from_millis(1), |_| false);
        let hb = sim.endpoint::<Host>(b);
        if data_at.is_none() && hb.sctp.stats().bytes_received > bytes_at_resume + 1000 {
            data_at = Some(sim.now());
        }
        if messages(&hb.events, ch).len() > held {
            next_at = Some(sim.now());
        }
    }
    let data = data_at.expect("data flowed again") - resumed;
    assert!(
        data <= RTT + Duration::from_millis(5),
        "new data {data:?} after resuming"
    );
    // The next 60 kB message: the sender restarts from one packet (its window collapsed
    // while the reader paused) and slow-starts, a few round trips, not a timeout.
    let message = next_at.expect("a message arrived") - resumed;
    assert!(
        message <= 8 * RTT,
        "the next message {message:?} after resuming"
    );
    let everything = sim.run_until(resumed + Duration::from_secs(60), |s| {
        messages(&s.endpoint::<Host>(b).events, ch).len() == sent
    });
    assert!(everything);
    for (i, m) in messages(&sim.endpoint::<Host>(b).events, ch)
        .iter()
        .enumerate()
    {
        assert_eq!(m.data[0], i as u8, "message {i} out of order");
    }
}

/// An idle association sends HEARTBEATs (RFC 9260 section 8.3) and answers them.
#[test]
fn idle_associations_send_heartbeats() {
    let mut p = Pair::connected();
    let seen = std::rc::Rc::new(std::cell::Cell::new(0));
    let acks = std::rc::Rc::new(std::cell::Cell::new(0));
    let (s, k) = (seen.clone(), acks.clone());
    p.drop_a_to_b = Box::new(move |_, pk| {
        s.set(s.get() + usize::from(pk.get(12) == Some(&4)));
        false
    });
    p.drop_b_to_a = Box::new(move |_, pk| {
        k.set(k.get() + usize::from(pk.get(12) == Some(&5)));
        false
    });
    p.run_for(Duration::from_secs(100));
    assert!(seen.get() >= 2, "{} HEARTBEATs in 100 s", seen.get());
    assert!(acks.get() >= 2, "{} HEARTBEAT ACKs", acks.get());
}

/// Both sides offer RFC 9653 zero checksum (DTLS as the alternate error detection): it is
/// used, and packets after the handshake carry checksum 0; one side not offering it keeps
/// CRC32c.
#[test]
fn zero_checksum_is_negotiated_and_used() {
    for (offer_a, offer_b) in [(true, true), (true, false)] {
        let (mut ca, mut cb) = (common::config(), common::config());
        ca.zero_checksum = offer_a;
        cb.zero_checksum = offer_b;
        let mut p = Pair::new(ca, cb);
        let sums = std::rc::Rc::new(std::cell::RefCell::new(Vec::new()));
        let s = sums.clone();
        p.drop_a_to_b = Box::new(move |_, pk| {
            s.borrow_mut()
                .push(u32::from_le_bytes(pk[8..12].try_into().unwrap()));
            false
        });
        let id = p.a.create_channel(p.now, ChannelOptions::new("z")).unwrap();
        assert!(p.run_until(|p| opened(&p.b_events, id)));
        p.a.send_text(p.now, id, "zero").unwrap();
        assert!(p.run_until(|p| messages(&p.b_events, id).len() == 1));
        let both = offer_a && offer_b;
        assert_eq!(p.a.stats().zero_checksum, both);
        assert_eq!(p.b.stats().zero_checksum, both);
        let sums = sums.borrow();
        // The INIT and COOKIE ECHO carry CRC32c; what follows carries 0 when in use.
        let after = &sums[2..];
        assert!(!after.is_empty());
        assert_eq!(after.iter().all(|&c| c == 0), both, "{sums:x?}");
    }
}

/// The same seeds give the same packets, byte for byte (tags and TSNs from the seed).
#[test]
fn runs_are_reproducible_from_the_seed() {
    let run = || {
        let mut p = Pair::new(common::config(), common::config());
        let log = std::rc::Rc::new(std::cell::RefCell::new(Vec::new()));
        let l = log.clone();
        p.drop_a_to_b = Box::new(move |_, pk| {
            l.borrow_mut().push(pk.to_vec());
            false
        });
        let id =
            p.a.create_channel(p.now, ChannelOptions::new("seed"))
                .unwrap();
        assert!(p.run_until(|p| opened(&p.b_events, id)));
        p.a.send_text(p.now, id, "same").unwrap();
        p.run_for(Duration::from_secs(1));
        log.take()
    };
    let (one, two) = (run(), run());
    assert!(one.len() > 3);
    assert_eq!(one, two);
}
