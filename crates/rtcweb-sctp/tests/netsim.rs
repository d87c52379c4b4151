//! Data channels over DTLS over rtcweb-netsim, with 0, 5, 20 and 30 % loss plus reordering
//! and duplication: reliable channels deliver every byte in order, unordered ones every
//! message, maxRetransmits=0 never retransmits and maxPacketLifeTime is honoured.
#![allow(clippy::unwrap_used)] // test helpers unwrap what the test itself set up

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use common::{Host, TwoHosts, messages};
use rtcweb_netsim::{LinkParams, Loss, Node, Simulation};
use rtcweb_sctp::{ChannelId, ChannelOptions, Error, Event, TransportState};

const LIFETIME_MS: u32 = 3000;
const PARTIAL_MESSAGES: u32 = 200;
const UNORDERED_MESSAGES: u32 = 300;
const RELIABLE_BYTES: usize = 200_000;
/// Pace of the partially reliable channels: one message each per this.
const PACE: Duration = Duration::from_millis(100);
/// What the sending application keeps buffered on the reliable channels.
const APP_BUFFER: usize = 8 * 1024;

/// Deterministic message sizes for the reliable channel: mostly small, some spanning many
/// chunks.
fn reliable_sizes() -> Vec<usize> {
    let mut sizes = Vec::new();
    let (mut total, mut x) = (0usize, 12345u32);
    while total < RELIABLE_BYTES {
        x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
        let n = match x % 10 {
            0 => 20_000 + (x as usize % 5000),
            1..=3 => 1 + (x as usize % 3),
            _ => 100 + (x as usize % 2000),
        };
        sizes.push(n);
        total += n;
    }
    sizes
}

fn pattern(offset: usize, len: usize) -> Vec<u8> {
    (offset..offset + len).map(|i| (i % 251) as u8).collect()
}

/// The sending application on host `a`.
struct Sender {
    rel: ChannelId,
    unord: ChannelId,
    rx0: ChannelId,
    life: ChannelId,
    sizes: Vec<usize>,
    next_rel: usize,
    rel_offset: usize,
    next_unord: u32,
    next_partial: u32,
    partial_start: Option<Instant>,
    /// Send time of each partially reliable message, by index.
    sent_at: Vec<Instant>,
}

impl Sender {
    fn step(&mut self, now: Instant, h: &mut Host) {
        if h.sctp.state() != TransportState::Connected
            || !h
                .events
                .iter()
                .any(|e| matches!(e, Event::ChannelOpen { id, .. } if *id == self.life))
        {
            return;
        }
        // A well-behaved application keeps a little buffered (bufferedAmountLowThreshold
        // style), so the partially reliable channels are not queued behind the bulk.
        while self.next_rel < self.sizes.len()
            && h.sctp.buffered_amount(self.rel).unwrap() < APP_BUFFER
        {
            let n = self.sizes[self.next_rel];
            match h
                .sctp
                .send_binary(now, self.rel, &pattern(self.rel_offset, n))
            {
                Ok(()) => {
                    self.next_rel += 1;
                    self.rel_offset += n;
                }
                Err(Error::WouldBlock { .. }) => break,
                Err(e) => panic!("{e}"),
            }
        }
        while self.next_unord < UNORDERED_MESSAGES
            && h.sctp.buffered_amount(self.unord).unwrap() < APP_BUFFER
        {
            let mut m = self.next_unord.to_be_bytes().to_vec();
            m.resize(200, 0xab);
            match h.sctp.send_binary(now, self.unord, &m) {
                Ok(()) => self.next_unord += 1,
                Err(Error::WouldBlock { .. }) => break,
                Err(e) => panic!("{e}"),
            }
        }
        let start = *self.partial_start.get_or_insert(now);
        while self.next_partial < PARTIAL_MESSAGES && now >= start + PACE * self.next_partial {
            let mut m = self.next_partial.to_be_bytes().to_vec();
            m.resize(100, 0xcd);
            h.sctp.send_binary(now, self.rx0, &m).unwrap();
            h.sctp.send_binary(now, self.life, &m).unwrap();
            self.sent_at.push(now);
            self.next_partial += 1;
        }
    }
}

fn index(m: &rtcweb_sctp::Message) -> u32 {
    u32::from_be_bytes(m.data[..4].try_into().unwrap())
}

struct Outcome {
    elapsed: Duration,
    rx0_received: usize,
    life_received: usize,
    retransmits_rel: usize,
}

fn run(loss: f64, seed: u64) -> Outcome {
    run_checked(loss, seed, true)
}

/// `life_must_send`: whether the maxPacketLifeTime channel must have transmitted at all (at
/// 30 % loss retransmission backoff can starve it for longer than every lifetime).
fn run_checked(loss: f64, seed: u64, life_must_send: bool) -> Outcome {
    let start = Instant::now();
    let TwoHosts {
        mut net,
        a,
        b,
        host_a: mut ha,
        host_b: hb,
    } = TwoHosts::new(start, seed, common::config());
    let shaky = LinkParams {
        latency: Duration::from_millis(10),
        jitter: Duration::from_millis(4),
        duplicate: 0.05,
        reorder: 0.05,
        reorder_delay: Duration::from_millis(25),
        ..LinkParams::default()
    };
    // Loss on a's link only, so each datagram (either way) meets it once.
    net.set_link(
        Node::Host(a),
        LinkParams {
            loss: Loss::Random(loss),
            ..shaky.clone()
        },
    );
    net.set_link(Node::Host(b), shaky);
    let now = start;
    let mut sender = Sender {
        rel: ha
            .sctp
            .create_channel(now, ChannelOptions::new("reliable"))
            .unwrap(),
        unord: ha
            .sctp
            .create_channel(now, ChannelOptions::new("unordered").ordered(false))
            .unwrap(),
        rx0: ha
            .sctp
            .create_channel(now, ChannelOptions::new("rexmit0").max_retransmits(0))
            .unwrap(),
        life: ha
            .sctp
            .create_channel(
                now,
                ChannelOptions::new("lifetime")
                    .ordered(false)
                    .max_packet_life_time(LIFETIME_MS),
            )
            .unwrap(),
        sizes: reliable_sizes(),
        next_rel: 0,
        rel_offset: 0,
        next_unord: 0,
        next_partial: 0,
        partial_start: None,
        sent_at: Vec::new(),
    };
    let mut sim = Simulation::new(net);
    sim.attach(a, ha);
    sim.attach(b, hb);
    let total_rel: usize = sender.sizes.iter().sum();
    let rel = sender.rel;
    let unord = sender.unord;
    let mut done_at: Option<Instant> = None;
    // Ends when everything is in and the stragglers had two seconds. Run in 10 ms slices so
    // that the paced sender gets a turn even when the network is idle.
    let mut step = |s: &mut Simulation| {
        let now = s.now();
        sender.step(now, s.endpoint_mut::<Host>(a));
        let hb = s.endpoint::<Host>(b);
        let rel_bytes: usize = messages(&hb.events, rel).iter().map(|m| m.data.len()).sum();
        let all = rel_bytes >= total_rel
            && messages(&hb.events, unord).len() >= UNORDERED_MESSAGES as usize
            && sender.next_partial == PARTIAL_MESSAGES;
        if all && done_at.is_none() {
            done_at = Some(now);
        }
        done_at.is_some_and(|t| now >= t + Duration::from_secs(2))
    };
    while sim.elapsed() < Duration::from_secs(3600) {
        let slice = sim.now() + Duration::from_millis(10);
        if sim.run_until(slice, &mut step) {
            break;
        }
    }
    let finished = done_at.is_some();
    let elapsed = done_at.map_or(sim.elapsed(), |t| t - start);
    let ha = sim.endpoint::<Host>(a);
    let hb = sim.endpoint::<Host>(b);
    if !finished {
        let sa = ha.sctp.stats();
        let sb = hb.sctp.stats();
        eprintln!(
            "a {sa:?}\nb {sb:?}\na buffered {:?} next_rel {} unord {} partial {}",
            ha.sctp.buffered_amount(rel),
            sender.next_rel,
            sender.next_unord,
            sender.next_partial
        );
        eprintln!("a dtls {:?} b dtls {:?}", ha.dtls.stats(), hb.dtls.stats());
    }
    assert!(
        finished,
        "loss {loss} seed {seed}: stalled after {elapsed:?}; b got {} reliable messages",
        messages(&hb.events, rel).len()
    );
    assert!(!ha.dtls_failed && !hb.dtls_failed);

    // Reliable, ordered: every byte, in order.
    let got: Vec<u8> = messages(&hb.events, rel)
        .iter()
        .flat_map(|m| m.data.to_vec())
        .collect();
    assert_eq!(got.len(), total_rel, "loss {loss}");
    assert!(
        got == pattern(0, total_rel),
        "loss {loss}: reliable bytes differ"
    );
    let sizes: Vec<usize> = messages(&hb.events, rel)
        .iter()
        .map(|m| m.data.len())
        .collect();
    assert_eq!(sizes, sender.sizes, "message boundaries kept");

    // Reliable, unordered: every message exactly once.
    let unord_idx: Vec<u32> = messages(&hb.events, unord).iter().map(index).collect();
    let set: BTreeSet<u32> = unord_idx.iter().copied().collect();
    assert_eq!(
        unord_idx.len(),
        set.len(),
        "loss {loss}: a duplicate was delivered"
    );
    assert_eq!(set, (0..UNORDERED_MESSAGES).collect(), "loss {loss}");

    // Partial reliability: never a duplicate, never more than was sent.
    for id in [sender.rx0, sender.life] {
        let idx: Vec<u32> = messages(&hb.events, id).iter().map(index).collect();
        let set: BTreeSet<u32> = idx.iter().copied().collect();
        assert_eq!(idx.len(), set.len(), "loss {loss}: duplicate on {id}");
        assert!(set.iter().all(|&i| i < PARTIAL_MESSAGES));
    }
    // The rexmit-0 channel is ordered: what arrives, arrives in order.
    let rx0: Vec<u32> = messages(&hb.events, sender.rx0).iter().map(index).collect();
    assert!(
        rx0.windows(2).all(|w| w[0] < w[1]),
        "loss {loss}: rx0 out of order"
    );

    // maxRetransmits = 0: no user-data TSN of that stream is ever sent twice.
    let mut seen = BTreeMap::new();
    for c in ha
        .sent_data
        .iter()
        .filter(|c| c.stream == sender.rx0.0 && c.ppid != 50)
    {
        *seen.entry(c.tsn).or_insert(0) += 1;
    }
    // (An engine may split a message over two packets: first fragments count messages.)
    let firsts = ha
        .sent_data
        .iter()
        .filter(|c| c.stream == sender.rx0.0 && c.ppid != 50 && c.flags & 2 != 0)
        .count();
    assert!(firsts <= PARTIAL_MESSAGES as usize);
    assert!(
        seen.values().all(|&n| n == 1),
        "loss {loss}: rx0 retransmitted"
    );

    // maxPacketLifeTime: no transmission of a message after its lifetime.
    let lifetime = Duration::from_millis(u64::from(LIFETIME_MS));
    let life_chunks = ha
        .sent_data
        .iter()
        .filter(|c| c.stream == sender.life.0 && c.ppid != 50)
        .count();
    assert!(
        life_chunks > 0 || !life_must_send,
        "loss {loss}: the lifetime check saw transmissions"
    );
    // (First fragments: they carry the index. A later fragment goes no earlier than its
    // first, and is abandoned with it.)
    for c in ha
        .sent_data
        .iter()
        .filter(|c| c.stream == sender.life.0 && c.ppid != 50 && c.flags & 2 != 0)
    {
        let i = u32::from_be_bytes(c.payload[..4].try_into().unwrap()) as usize;
        let sent = sender.sent_at[i];
        assert!(
            c.at <= sent + lifetime,
            "loss {loss}: message {i} sent at {:?} transmitted at {:?}",
            sent - start,
            c.at - start
        );
    }

    // The reliable channel did retransmit under loss (the check above is not vacuous).
    let mut rel_tsns = BTreeMap::new();
    for c in ha.sent_data.iter().filter(|c| c.stream == rel.0) {
        *rel_tsns.entry(c.tsn).or_insert(0usize) += 1;
    }
    let retransmits_rel = rel_tsns.values().map(|n| n - 1).sum();
    Outcome {
        elapsed,
        rx0_received: rx0.len(),
        life_received: messages(&hb.events, sender.life).len(),
        retransmits_rel,
    }
}

#[test]
fn no_loss_delivers_everything() {
    let o = run(0.0, 1);
    assert_eq!(o.rx0_received, PARTIAL_MESSAGES as usize);
    // Messages that wait behind the bulk channel past their lifetime are given up even
    // without loss; most get through.
    assert!(
        o.life_received > PARTIAL_MESSAGES as usize / 2,
        "{}",
        o.life_received
    );
    eprintln!(
        "0 %: {:?}, rx0 {} life {} rel retransmits {}",
        o.elapsed, o.rx0_received, o.life_received, o.retransmits_rel
    );
}

#[test]
fn five_percent_loss() {
    let o = run(0.05, 2);
    assert!(o.retransmits_rel > 0);
    assert!(
        o.rx0_received < PARTIAL_MESSAGES as usize,
        "some rexmit-0 messages are lost"
    );
    eprintln!(
        "5 %: {:?}, rx0 {} life {} rel retransmits {}",
        o.elapsed, o.rx0_received, o.life_received, o.retransmits_rel
    );
}

#[test]
fn twenty_percent_loss() {
    let o = run(0.20, 3);
    assert!(o.retransmits_rel > 0);
    assert!(o.rx0_received < PARTIAL_MESSAGES as usize);
    // A 3 s lifetime at 20 % loss may lose some or none: dcsctp, which schedules the
    // channels fairly instead of first-in first-out, delivers every one on this seed.
    assert!(o.life_received <= PARTIAL_MESSAGES as usize);
    eprintln!(
        "20 %: {:?}, rx0 {} life {} rel retransmits {}",
        o.elapsed, o.rx0_received, o.life_received, o.retransmits_rel
    );
}

#[test]
fn thirty_percent_loss() {
    for seed in 5..=8 {
        let o = run_checked(0.30, seed, false);
        assert!(o.retransmits_rel > 0);
        assert!(o.rx0_received < PARTIAL_MESSAGES as usize);
        // As at 20 %: a 3 s lifetime may lose some or none (run_checked checks that nothing
        // went out first after it). With patches/dcsctp patches 9 to 11, seed 8 delivers all.
        assert!(o.life_received <= PARTIAL_MESSAGES as usize);
        eprintln!(
            "30 % seed {seed}: {:?}, rx0 {} life {} rel retransmits {}",
            o.elapsed, o.rx0_received, o.life_received, o.retransmits_rel
        );
    }
}

/// Seed 4 at 30 % loss: with rtc-sctp's (the previous engine's) default timer limits the
/// reliable channel stopped after 20 messages and the association went silent for an hour of
/// virtual time. The transport retransmits without limit (ICE consent decides liveness); this
/// seed stays a regression test.
#[test]
fn thirty_percent_loss_seed_4_no_longer_stalls() {
    let o = run_checked(0.30, 4, false);
    assert!(o.retransmits_rel > 0);
    eprintln!(
        "30 % seed 4: {:?}, rx0 {} life {} rel retransmits {}",
        o.elapsed, o.rx0_received, o.life_received, o.retransmits_rel
    );
}

/// An ordered channel with maxPacketLifeTime, beside a bulk channel that keeps 256 KiB
/// queued, keeps delivering after messages on it were abandoned: a two-second outage expires
/// what was in flight, and most messages sent once the path is back arrive: at least 75 of
/// 100, what rtc-sctp (the previous engine) achieved. (dcsctp got 0 of 100 until
/// patches/dcsctp patch 10: it resent the megabyte lost in the outage four MTUs per round trip,
/// and the channel's new messages expired queued behind it.)
#[test]
fn an_ordered_lifetime_channel_delivers_again_after_an_outage() {
    for seed in 1..=3 {
        let start = Instant::now();
        let TwoHosts {
            mut net,
            a,
            b,
            host_a: mut ha,
            host_b: hb,
        } = TwoHosts::new(start, seed, common::config());
        let base = LinkParams {
            latency: Duration::from_millis(20),
            ..LinkParams::default()
        };
        net.set_link(Node::Host(a), base.clone());
        net.set_link(Node::Host(b), base.clone());
        let life = ha
            .sctp
            .create_channel(start, ChannelOptions::new("life").max_packet_life_time(500))
            .unwrap();
        let bulk = ha
            .sctp
            .create_channel(start, ChannelOptions::new("bulk"))
            .unwrap();
        let mut sim = Simulation::new(net);
        sim.attach(a, ha);
        sim.attach(b, hb);
        sim.run_for(Duration::from_secs(2));
        let mut index = 0u32;
        let send = |sim: &mut Simulation, index: &mut u32| {
            let now = sim.now();
            let mut m = index.to_be_bytes().to_vec();
            m.resize(600 + (*index as usize * 53) % 1200, 0x11);
            let h = sim.endpoint_mut::<Host>(a);
            h.sctp.send_binary(now, life, &m).unwrap();
            while h.sctp.buffered_amount(bulk).unwrap() < 256 * 1024 {
                if h.sctp.send_binary(now, bulk, &[7u8; 1500]).is_err() {
                    break;
                }
            }
            *index += 1;
        };
        // Calm, then an outage while sending, then calm again.
        for phase in 0..3 {
            if phase == 1 {
                let down = LinkParams {
                    loss: Loss::Random(1.0),
                    ..base.clone()
                };
                sim.net_mut().set_link(Node::Host(a), down);
            }
            if phase == 2 {
                sim.net_mut().set_link(Node::Host(a), base.clone());
                sim.run_for(Duration::from_secs(3));
            }
            for _ in 0..100 {
                send(&mut sim, &mut index);
                sim.run_for(Duration::from_millis(20));
            }
        }
        let last_phase_from = index - 100;
        sim.run_for(Duration::from_secs(5));
        let got: Vec<u32> = messages(&sim.endpoint::<Host>(b).events, life)
            .iter()
            .map(index_of)
            .collect();
        assert!(
            got.windows(2).all(|w| w[0] < w[1]),
            "seed {seed}: out of order"
        );
        let late = got.iter().filter(|&&i| i >= last_phase_from).count();
        println!(
            "seed {seed}: {late} of 100 sent after the outage arrived, {} in all",
            got.len()
        );
        // The bulk channel competes for the window and some messages may expire in the
        // queue (that is what the lifetime is for), but the channel must not stay stalled.
        assert!(
            late >= 75,
            "seed {seed}: {late} of the 100 messages sent after the outage arrived ({} in all)",
            got.len()
        );
    }
}

fn index_of(m: &rtcweb_sctp::Message) -> u32 {
    index(m)
}

/// An ordered maxPacketLifeTime channel whose messages span several chunks, beside a bulk
/// channel: some messages expire after their first fragments went out (and were
/// acknowledged) while the rest waited in the send queue. Each must be skipped with a
/// FORWARD-TSN; dcsctp used to drop the rest of such a message silently, so the receiver
/// waited for its end for good and delivered nothing more on the channel (the soak's
/// life500ms-ordered stall, patches/dcsctp patch 9). Once the bulk channel has drained, every
/// small message sent in calm conditions arrives.
#[test]
fn an_ordered_lifetime_channel_skips_a_message_that_expired_part_sent() {
    for seed in 1..=3 {
        let start = Instant::now();
        let TwoHosts {
            mut net,
            a,
            b,
            host_a: mut ha,
            host_b: hb,
        } = TwoHosts::new(start, seed, common::config());
        let base = LinkParams {
            latency: Duration::from_millis(20),
            ..LinkParams::default()
        };
        net.set_link(Node::Host(a), base.clone());
        net.set_link(Node::Host(b), base);
        let life = ha
            .sctp
            .create_channel(start, ChannelOptions::new("life").max_packet_life_time(150))
            .unwrap();
        let bulk = ha
            .sctp
            .create_channel(start, ChannelOptions::new("bulk"))
            .unwrap();
        let mut sim = Simulation::new(net);
        sim.attach(a, ha);
        sim.attach(b, hb);
        sim.run_for(Duration::from_secs(2));
        let mut index = 0u32;
        let send_life = |sim: &mut Simulation, index: &mut u32, len: usize| {
            let now = sim.now();
            let mut m = index.to_be_bytes().to_vec();
            m.resize(len, 0x22);
            let h = sim.endpoint_mut::<Host>(a);
            h.sctp.send_binary(now, life, &m).unwrap();
            *index += 1;
        };
        // Congested: five-chunk messages beside a bulk channel that keeps 256 KiB queued.
        for _ in 0..150 {
            send_life(&mut sim, &mut index, 6000);
            let now = sim.now();
            let h = sim.endpoint_mut::<Host>(a);
            while h.sctp.buffered_amount(bulk).unwrap() < 256 * 1024 {
                if h.sctp.send_binary(now, bulk, &[7u8; 1500]).is_err() {
                    break;
                }
            }
            sim.run_for(Duration::from_millis(20));
        }
        let congested = index;
        let drained = sim.run_until(sim.now() + Duration::from_secs(30), |s| {
            s.endpoint::<Host>(a).sctp.buffered_amount(bulk).unwrap() == 0
        });
        assert!(drained, "seed {seed}: the bulk channel did not drain");
        // Calm: small messages, nothing else queued.
        for _ in 0..50 {
            send_life(&mut sim, &mut index, 100);
            sim.run_for(Duration::from_millis(20));
        }
        sim.run_for(Duration::from_secs(2));
        let got: Vec<u32> = messages(&sim.endpoint::<Host>(b).events, life)
            .iter()
            .map(index_of)
            .collect();
        assert!(
            got.windows(2).all(|w| w[0] < w[1]),
            "seed {seed}: out of order"
        );
        // The scenario happened: messages whose first fragment went out never arrived.
        let firsts: BTreeSet<u32> = sim
            .endpoint::<Host>(a)
            .sent_data
            .iter()
            .filter(|c| c.stream == life.0 && c.ppid != 50 && c.flags & 2 != 0)
            .map(|c| u32::from_be_bytes(c.payload[..4].try_into().unwrap()))
            .filter(|&i| i < congested)
            .collect();
        let part_sent_lost = firsts.iter().filter(|i| !got.contains(i)).count();
        let calm = got.iter().filter(|&&i| i >= congested).count();
        println!(
            "seed {seed}: {} of {congested} congested messages arrived, {part_sent_lost} started \
             and abandoned; {calm} of 50 calm ones arrived",
            got.len() - calm
        );
        assert!(
            part_sent_lost > 0,
            "seed {seed}: no message expired part sent"
        );
        assert_eq!(
            calm, 50,
            "seed {seed}: {calm} of the 50 calm messages arrived"
        );
    }
}
