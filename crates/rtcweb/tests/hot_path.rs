//! What the data path costs, counted rather than timed: datagrams per message, round trips
//! to an open channel, and no loss between the layers when a whole window goes out at once.
//!
//! Two PeerConnections exchange datagrams in memory, in order and without loss, on a virtual
//! clock that jumps to the next deadline when nothing is in flight. Each datagram carries
//! the length of the causal chain that produced it (one more than the longest chain its
//! sender had received), so the chain length at the moment a channel opens is the number of
//! one-way trips the setup needed, whatever the timers did.

#![allow(clippy::unwrap_used)] // test helpers unwrap what the test itself set up

mod common;

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use common::certificate;
use rtcweb::{
    DataChannelEvent, DataChannelId, DtlsContext, Event, PeerConnection, RtcConfiguration,
    SessionDescription,
};

/// How the test wants DTLS: the default, or DTLS 1.2 only.
#[derive(Clone, Copy, PartialEq)]
enum Dtls {
    Default,
    Only12,
}

struct Side {
    pc: PeerConnection,
    addr: SocketAddr,
    /// Longest causal chain received so far.
    depth: u32,
    /// Chain length when this side saw its channel open.
    opened_at: Option<u32>,
    channel: Option<DataChannelId>,
    messages: Vec<Vec<u8>>,
    datagrams_sent: usize,
    bytes_sent: usize,
    /// The owner takes datagrams in and sends, but does not poll its events.
    holds_events: bool,
}

struct Pair {
    now: Instant,
    sides: [Side; 2],
    /// (to, depth, payload)
    wire: VecDeque<(usize, u32, Vec<u8>)>,
}

impl Pair {
    /// A offers one data channel, B answers; both descriptions carry their candidates.
    fn new(dtls: Dtls) -> Self {
        let now = Instant::now();
        let side = |n: u8, port: u16| {
            let mut config = RtcConfiguration::new(certificate(n), u64::from(n));
            if dtls == Dtls::Only12 {
                let mut d = PeerConnection::dtls_config();
                d.version = rtcweb_dtls::VersionPolicy::Dtls12;
                config.dtls_context = Some(DtlsContext::new(d, certificate(n)).unwrap());
            }
            let mut pc = PeerConnection::new(config).unwrap();
            let addr: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
            pc.add_local_address(now, addr);
            Side {
                pc,
                addr,
                depth: 0,
                opened_at: None,
                channel: None,
                messages: Vec::new(),
                datagrams_sent: 0,
                bytes_sent: 0,
                holds_events: false,
            }
        };
        let mut pair = Pair {
            now,
            sides: [side(1, 40_000), side(2, 40_001)],
            wire: VecDeque::new(),
        };
        let [a, b] = &mut pair.sides;
        let dc =
            a.pc.create_data_channel(now, "bench", &Default::default())
                .unwrap();
        a.channel = Some(dc);
        let offer = a.pc.create_offer().unwrap();
        a.pc.set_local_description(now, &offer).unwrap();
        let offer = SessionDescription::offer(a.pc.local_description_sdp().unwrap());
        b.pc.set_remote_description(now, &offer).unwrap();
        let answer = b.pc.create_answer().unwrap();
        b.pc.set_local_description(now, &answer).unwrap();
        let answer = SessionDescription::answer(b.pc.local_description_sdp().unwrap());
        a.pc.set_remote_description(now, &answer).unwrap();
        pair
    }

    /// Polls both sides, then delivers one datagram or, with none in flight, moves the
    /// clock to the next deadline. Returns false when nothing at all is left to do.
    fn step(&mut self) -> bool {
        for i in 0..2 {
            let s = &mut self.sides[i];
            if s.pc.poll_timeout().is_some_and(|t| t <= self.now) {
                s.pc.handle_timeout(self.now);
            }
            while let Some(t) = s.pc.poll_transmit() {
                s.datagrams_sent += 1;
                s.bytes_sent += t.payload.len();
                self.wire.push_back((1 - i, s.depth + 1, t.payload));
            }
            while !s.holds_events
                && let Some(e) = s.pc.poll_event()
            {
                match e {
                    Event::DataChannel(DataChannelEvent::Open { id }) => {
                        s.opened_at.get_or_insert(s.depth);
                        s.channel = Some(id);
                    }
                    Event::DataChannel(DataChannelEvent::Incoming { id, .. }) => {
                        s.opened_at.get_or_insert(s.depth);
                        s.channel = Some(id);
                    }
                    Event::DataChannel(DataChannelEvent::Message { data, .. }) => {
                        s.messages.push(data)
                    }
                    _ => {}
                }
            }
        }
        if let Some((to, depth, payload)) = self.wire.pop_front() {
            let from = self.sides[1 - to].addr;
            let s = &mut self.sides[to];
            s.depth = s.depth.max(depth);
            s.pc.handle_input(self.now, rtcweb::Datagram::udp(from, s.addr, &payload));
            return true;
        }
        let next = self.sides.iter().filter_map(|s| s.pc.poll_timeout()).min();
        match next {
            Some(t) => {
                self.now = self.now.max(t);
                true
            }
            None => false,
        }
    }

    fn run_until(&mut self, done: impl Fn(&Pair) -> bool) {
        for _ in 0..1_000_000 {
            if done(self) {
                return;
            }
            assert!(self.step(), "stalled");
        }
        panic!("did not finish");
    }

    fn open(&mut self) {
        self.run_until(|p| p.sides.iter().all(|s| s.opened_at.is_some()));
    }
}

/// Round trips from the offer to a channel open on both sides: ICE's check and nomination,
/// DTLS, SCTP's four-way handshake and DCEP. Signaling is in process and not counted.
#[test]
fn setup_round_trips_are_counted_and_bounded() {
    for (dtls, most) in [(Dtls::Default, 5), (Dtls::Only12, 6)] {
        let mut p = Pair::new(dtls);
        p.open();
        let one_way = p.sides.iter().filter_map(|s| s.opened_at).max().unwrap();
        let round_trips = one_way.div_ceil(2);
        let version = p.sides[0].pc.dtls_version().unwrap();
        println!("{version}: open after {one_way} one-way trips ({round_trips} round trips)");
        assert!(
            round_trips <= most,
            "{version}: {round_trips} round trips, at most {most} expected"
        );
    }
}

/// Messages sent in a burst are packetized together when the owner polls, not one datagram
/// per message.
#[test]
fn a_burst_of_small_messages_shares_datagrams() {
    let mut p = Pair::new(Dtls::Default);
    p.open();
    let dc = p.sides[0].channel.unwrap();
    let before = p.sides[0].datagrams_sent;
    let now = p.now;
    for i in 0..1000u32 {
        let mut m = vec![0u8; 100];
        m[..4].copy_from_slice(&i.to_be_bytes());
        p.sides[0].pc.send_binary(now, dc, &m).unwrap();
    }
    // The data waits to be packetized, and the owner is told to poll now.
    assert!(p.sides[0].pc.poll_timeout().is_some_and(|t| t <= now));
    p.run_until(|p| p.sides[1].messages.len() == 1000);
    for (i, m) in p.sides[1].messages.iter().enumerate() {
        assert_eq!(m[..4], (i as u32).to_be_bytes(), "order");
    }
    let datagrams = p.sides[0].datagrams_sent - before;
    println!("1000 messages of 100 bytes in {datagrams} datagrams");
    assert!(datagrams <= 150, "{datagrams} datagrams for 1000 messages");
}

/// An owner that takes in many datagrams before it polls its events (a burst of tiny
/// messages is thousands of events per receive batch) loses none: they wait in SCTP, whose
/// window closes, instead of overflowing the connection's bounded event queue.
#[test]
fn an_owner_that_polls_late_loses_no_message() {
    const COUNT: u32 = 20_000;
    let mut p = Pair::new(Dtls::Default);
    p.open();
    let dc = p.sides[0].channel.unwrap();
    let now = p.now;
    for i in 0..COUNT {
        p.sides[0]
            .pc
            .send_binary(now, dc, &i.to_be_bytes())
            .unwrap();
    }
    p.sides[1].holds_events = true;
    for _ in 0..5_000 {
        if !p.step() {
            break;
        }
    }
    assert!(p.sides[1].messages.is_empty());
    p.sides[1].holds_events = false;

    p.run_until(|p| p.sides[1].messages.len() >= COUNT as usize);
    assert_eq!(p.sides[1].messages.len(), COUNT as usize);
    for (i, m) in p.sides[1].messages.iter().enumerate() {
        assert_eq!(m[..], (i as u32).to_be_bytes(), "message {i}");
    }
}

/// Sends that let SCTP put a whole window on the wire at once (hundreds of packets once the
/// congestion window has grown): every packet must leave DTLS, whose transmit queue is
/// bounded, so nothing is retransmitted on a lossless path.
#[test]
fn a_full_window_leaves_without_loss_between_the_layers() {
    let mut p = Pair::new(Dtls::Default);
    p.open();
    let dc = p.sides[0].channel.unwrap();
    let message = vec![0x5au8; 64 * 1024];
    let count = 128;
    let before = p.sides[0].datagrams_sent;
    let bytes_before = p.sides[0].bytes_sent;
    let start = p.now;
    for round in 0..2 {
        let now = p.now;
        for _ in 0..count / 2 {
            p.sides[0].pc.send_binary(now, dc, &message).unwrap();
        }
        p.run_until(|p| p.sides[1].messages.len() == (round + 1) * count / 2);
    }
    assert!(p.sides[1].messages.iter().all(|m| *m == message));
    let datagrams = p.sides[0].datagrams_sent - before;
    let bytes = p.sides[0].bytes_sent - bytes_before;
    let took = p.now - start;
    let retransmitted = p.sides[0]
        .pc
        .stats(p.now)
        .sctp
        .map(|s| s.retransmitted_packets);
    println!(
        "{} bytes of messages in {datagrams} datagrams ({bytes} bytes), {retransmitted:?} \
         retransmitted, {took:?} of virtual time",
        count * message.len()
    );
    // A record lost between SCTP and the wire shows as a retransmission: fast (SACK gaps,
    // no time passes) or by timer. (The datagram count is no proof either way: dcsctp also
    // sends short packets at the congestion window's edge.)
    assert_eq!(retransmitted, Some(0), "something was retransmitted");
    // Delivery is instant here, so any time that passed was a retransmission timer: a
    // record lost between SCTP and the wire (400 ms of it when DTLS's queue overflowed).
    assert!(
        took < Duration::from_millis(50),
        "{took:?}: something was retransmitted"
    );
}
