//! Allocations on the data paths, counted by a counting global allocator (stats_alloc,
//! docs/decisions/0007): two connected PeerConnections in memory, warmed up, then the
//! steady state of one path is measured.
//!
//! - RTP ([`rtcweb::MediaMode::Raw`]): `write_rtp` on one side, the datagram into the
//!   other, its `Event::Rtp` polled, and both the sent datagram's and the received packet's
//!   buffers handed back with `PeerConnection::recycle`: nothing allocates.
//! - Data channels: the allocations per message are counted and printed (docs/performance.md
//!   records them), one message at a time and in bursts; they are bounded here so a
//!   regression shows.

#![allow(clippy::unwrap_used)] // test set-up

mod common;

use std::alloc::System;
use std::collections::VecDeque;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use common::certificate;
use rtcweb::{
    DataChannelEvent, DataChannelId, Datagram, Direction, Event, MediaKind, PeerConnection,
    RtcConfiguration, SessionDescription, TransceiverId,
};
use stats_alloc::{INSTRUMENTED_SYSTEM, Region, StatsAlloc};

#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

/// The allocator counts every thread: the tests of this file take turns.
static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

struct Side {
    pc: PeerConnection,
    addr: SocketAddr,
    rtp: Vec<Vec<u8>>,
    messages: usize,
    channel: Option<DataChannelId>,
}

/// Two PeerConnections wired back to back on one virtual clock.
struct Pair {
    now: Instant,
    sides: [Side; 2],
    wire: VecDeque<(usize, Vec<u8>)>,
    /// Keep received RTP packets (the set-up) or hand them back at once (the measurement).
    keep: bool,
}

impl Pair {
    /// A offers one audio transceiver and one data channel, B answers; both connect.
    fn connected() -> (Self, TransceiverId) {
        let now = Instant::now();
        let side = |n: u8, port: u16| {
            let config = RtcConfiguration::new(certificate(n), u64::from(n));
            let mut pc = PeerConnection::new(config).unwrap();
            let addr: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
            pc.add_local_address(now, addr);
            Side {
                pc,
                addr,
                rtp: Vec::new(),
                messages: 0,
                channel: None,
            }
        };
        let mut pair = Pair {
            now,
            sides: [side(1, 40_000), side(2, 40_001)],
            wire: VecDeque::with_capacity(1024),
            keep: true,
        };
        let [a, b] = &mut pair.sides;
        let audio = a.pc.add_transceiver(MediaKind::Audio, Direction::SendRecv);
        a.channel = Some(
            a.pc.create_data_channel(now, "alloc", &Default::default())
                .unwrap(),
        );
        let offer = a.pc.create_offer().unwrap();
        a.pc.set_local_description(now, &offer).unwrap();
        let offer = SessionDescription::offer(a.pc.local_description_sdp().unwrap());
        b.pc.set_remote_description(now, &offer).unwrap();
        let answer = b.pc.create_answer().unwrap();
        b.pc.set_local_description(now, &answer).unwrap();
        let answer = SessionDescription::answer(b.pc.local_description_sdp().unwrap());
        a.pc.set_remote_description(now, &answer).unwrap();
        let deadline = now + Duration::from_secs(10);
        while pair.sides[1].channel.is_none() || pair.sides[0].pc.sending_ssrc(audio).is_none() {
            assert!(pair.now < deadline, "did not connect");
            pair.step(true);
        }
        // Let the handshake's stragglers (acknowledgements, the last checks) settle.
        for _ in 0..200 {
            pair.step(true);
        }
        (pair, audio)
    }

    /// Polls both sides, then delivers one datagram or, with none in flight and `timers`,
    /// moves the clock to the next deadline.
    fn step(&mut self, timers: bool) -> bool {
        for i in 0..2 {
            let s = &mut self.sides[i];
            if timers && s.pc.poll_timeout().is_some_and(|t| t <= self.now) {
                s.pc.handle_timeout(self.now);
            }
            while let Some(t) = s.pc.poll_transmit() {
                self.wire.push_back((1 - i, t.payload));
            }
            while let Some(e) = s.pc.poll_event() {
                match e {
                    Event::Rtp { packet, .. } => {
                        if self.keep {
                            s.rtp.push(packet);
                        } else {
                            s.pc.recycle(packet);
                        }
                    }
                    Event::DataChannel(DataChannelEvent::Incoming { id, .. }) => {
                        s.channel = Some(id)
                    }
                    Event::DataChannel(DataChannelEvent::Message { data, .. }) => {
                        s.messages += 1;
                        drop(data);
                    }
                    _ => {}
                }
            }
        }
        if let Some((to, payload)) = self.wire.pop_front() {
            let from = self.sides[1 - to].addr;
            let s = &mut self.sides[to];
            s.pc.handle_input(self.now, Datagram::udp(from, s.addr, &payload));
            // The datagram's buffer goes back to the side that sent it.
            self.sides[1 - to].pc.recycle(payload);
            return true;
        }
        if !timers {
            return false;
        }
        match self.sides.iter().filter_map(|s| s.pc.poll_timeout()).min() {
            Some(t) => {
                self.now = self.now.max(t);
                true
            }
            None => false,
        }
    }

    /// Delivers everything in flight without running timers.
    fn settle(&mut self) {
        while self.step(false) {}
    }
}

/// An RTP packet of 160 payload octets (20 ms of G.711).
fn rtp_packet(seq: u16) -> Vec<u8> {
    let mut p = vec![0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
    p[2..4].copy_from_slice(&seq.to_be_bytes());
    p[4..8].copy_from_slice(&(u32::from(seq) * 160).to_be_bytes());
    p.resize(12 + 160, 0x55);
    p
}

#[test]
fn sending_and_receiving_rtp_allocates_nothing_in_steady_state() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let (mut pair, audio) = Pair::connected();
    let packets: Vec<Vec<u8>> = (0..1200).map(rtp_packet).collect();
    // Warm-up: queues and buffer pools grow to their working size.
    pair.keep = false;
    for p in &packets[..200] {
        pair.sides[0].pc.write_rtp(pair.now, audio, p).unwrap();
        pair.settle();
    }
    let region = Region::new(GLOBAL);
    for p in &packets[200..] {
        pair.sides[0].pc.write_rtp(pair.now, audio, p).unwrap();
        pair.settle();
    }
    let stats = region.change();
    let received = pair.sides[1].pc.stats(pair.now).transport.packets_received;
    println!(
        "RTP: {} packets sent and received, {} allocations, {} reallocations ({} packets received by B in all)",
        packets.len() - 200,
        stats.allocations,
        stats.reallocations,
        received
    );
    assert_eq!(stats.allocations, 0, "{stats:?}");
    assert_eq!(stats.reallocations, 0, "{stats:?}");
}

#[test]
fn data_channel_allocations_per_message_are_bounded() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let (mut pair, _) = Pair::connected();
    let id = pair.sides[0].channel.unwrap();
    let message = vec![0x42u8; 100];
    for _ in 0..200 {
        pair.sides[0]
            .pc
            .send_binary(pair.now, id, &message)
            .unwrap();
        pair.settle();
    }
    // One message at a time, each acknowledged before the next (the worst case per message),
    // then bursts of 100 (what a busy channel does).
    let mut per_message = Vec::new();
    for burst in [1usize, 100] {
        let before = pair.sides[1].messages;
        let n = 1000;
        let region = Region::new(GLOBAL);
        for _ in 0..n / burst {
            for _ in 0..burst {
                pair.sides[0]
                    .pc
                    .send_binary(pair.now, id, &message)
                    .unwrap();
            }
            pair.settle();
        }
        let stats = region.change();
        let delivered = pair.sides[1].messages - before;
        let per = stats.allocations as f64 / n as f64;
        println!(
            "data channel, bursts of {burst}: {n} messages of 100 bytes, {delivered} delivered, \
             {} allocations ({per:.1} per message), {} reallocations",
            stats.allocations, stats.reallocations
        );
        assert_eq!(delivered, n);
        per_message.push(per);
    }
    // A regression guard at about today's cost (docs/performance.md has the figures): the
    // SCTP engine allocates per chunk, and DTLS per record.
    assert!(
        per_message[0] <= 40.0,
        "{per_message:?} allocations per message"
    );
    assert!(
        per_message[1] <= 20.0,
        "{per_message:?} allocations per message"
    );
}
