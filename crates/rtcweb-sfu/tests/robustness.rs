//! Regressions the `sfu_forwarder` fuzz target found: the subscriber never gets two different
//! packets under one sequence number.
#![allow(clippy::unwrap_used)] // test code: a panic is a failed test

mod common;

use std::time::Instant;

use common::{FRAME, Publisher};
use rtcweb_rtp::codec::Codec;
use rtcweb_sfu::{Forwarder, ForwarderConfig, Input, OutPacket, Transmit};

fn sent(f: &mut Forwarder) -> Vec<OutPacket> {
    std::iter::from_fn(|| f.poll_transmit())
        .map(|t| match t {
            Transmit::Subscriber(p) => p,
            other => panic!("{other:?}"),
        })
        .collect()
}

#[test]
fn a_duplicate_older_than_the_buffer_is_not_sent_again() {
    let mut now = Instant::now();
    let mut config = ForwarderConfig::new(Codec::Vp8, 1);
    config.retransmit_packets = 4;
    let mut f = Forwarder::new(config, now).unwrap();
    let mut p = Publisher::new(&[150_000]);
    let first = p.frame();
    for pkt in &first {
        f.handle_input(now, Input::Rtp(pkt.view())).unwrap();
    }
    for _ in 0..10 {
        now += FRAME;
        for pkt in p.frame() {
            f.handle_input(now, Input::Rtp(pkt.view())).unwrap();
        }
    }
    assert_eq!(sent(&mut f).len(), first.len() + 10);
    // The first packet again, after its slot was reused: not a gap being filled.
    f.handle_input(now, Input::Rtp(first[0].view())).unwrap();
    assert!(sent(&mut f).is_empty());
    assert_eq!(f.stats().packets_stale, 1);
}

#[test]
fn a_publisher_that_jumps_its_sequence_numbers_is_renumbered() {
    let now = Instant::now();
    let mut f = Forwarder::new(ForwarderConfig::new(Codec::Vp8, 1), now).unwrap();
    let mut p = Publisher::new(&[150_000]);
    for pkt in p.frame() {
        f.handle_input(now, Input::Rtp(pkt.view())).unwrap();
    }
    let before = sent(&mut f);
    let mut pkt = p.frame().remove(0);
    pkt.seq = pkt.seq.wrapping_add(20_000);
    f.handle_input(now, Input::Rtp(pkt.view())).unwrap();
    let after = sent(&mut f);
    let last = before.last().unwrap().sequence_number;
    assert_eq!(after[0].sequence_number, last.wrapping_add(1));
    assert_eq!(f.stats().renumbered, 1);
    // The stream goes on from there.
    let mut next = p.frame().remove(0);
    next.seq = pkt.seq.wrapping_add(1);
    f.handle_input(now, Input::Rtp(next.view())).unwrap();
    assert_eq!(sent(&mut f)[0].sequence_number, last.wrapping_add(2));
}
