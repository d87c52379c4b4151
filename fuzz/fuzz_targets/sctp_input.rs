//! Arbitrary SCTP packets into an established association that has an open channel.
//! Each input is a sequence of records `[flags, len_hi, len_lo, bytes...]`: with flag bit 0
//! the bytes are chunks and get a valid common header (our ports, the association's
//! verification tag, a correct CRC32c) so they reach the state machine; otherwise they go in
//! raw. Flag bit 1 advances virtual time by up to 25 s first; flags 0xfc and up also pause
//! reads, flags below 0x04 resume them. Checks: no panic, and bounded output: events and
//! packets per step stay below fixed limits, buffered amounts stay sane (the channel's
//! untransmitted amount within the association's unacknowledged total).
#![no_main]

use std::time::{Duration, Instant};

use libfuzzer_sys::fuzz_target;
use rtcweb_sctp::{ChannelOptions, Role, SctpConfig, SctpTransport};

fn with_header(vtag: [u8; 4], chunks: &[u8]) -> Vec<u8> {
    let mut p = Vec::with_capacity(12 + chunks.len());
    p.extend_from_slice(&[0x13, 0x88, 0x13, 0x88]);
    p.extend_from_slice(&vtag);
    p.extend_from_slice(&[0; 4]);
    p.extend_from_slice(chunks);
    let crc = crc32c::crc32c(&p);
    p[8..12].copy_from_slice(&crc.to_le_bytes());
    p
}

fuzz_target!(|data: &[u8]| {
    let mut now = Instant::now();
    let mut a = SctpTransport::new(SctpConfig::default(), Role::Client).expect("config");
    let mut b = SctpTransport::new(SctpConfig::default(), Role::Server).expect("config");
    let id = a
        .create_channel(now, ChannelOptions::new("fuzz"))
        .expect("channel");
    a.start(now).expect("start");
    b.start(now).expect("start");
    // The association's tag as `a` expects it: what `b` puts in its packets.
    let mut vtag = [0u8; 4];
    for _ in 0..8 {
        while let Some(p) = a.poll_transmit(now) {
            b.handle_input(now, &p);
        }
        while let Some(p) = b.poll_transmit(now) {
            if let Some(t) = p.get(4..8) {
                vtag.copy_from_slice(t);
            }
            a.handle_input(now, &p);
        }
        while a.poll_event().is_some() {}
        while b.poll_event().is_some() {}
    }
    let _ = a.send_text(now, id, "in flight");
    let mut rest = data;
    while rest.len() >= 3 {
        let flags = rest[0];
        let len = usize::from(u16::from_be_bytes([rest[1], rest[2]])).min(rest.len() - 3);
        let body = &rest[3..3 + len];
        rest = &rest[3 + len..];
        if flags & 2 != 0 {
            now += Duration::from_millis(u64::from(flags >> 2) * 400);
            a.handle_timeout(now);
        }
        if flags >= 0xfc {
            a.pause_reads(now, true);
        } else if flags < 0x04 {
            a.pause_reads(now, false);
        }
        if flags & 1 != 0 {
            a.handle_input(now, &with_header(vtag, body));
        } else {
            a.handle_input(now, body);
        }
        let mut events = 0;
        while a.poll_event().is_some() {
            events += 1;
            assert!(events < 200_000, "event flood");
        }
        let mut packets = 0;
        while a.poll_transmit(now).is_some() {
            packets += 1;
            assert!(packets < 100_000, "packet flood");
        }
        let _ = a.send_binary(now, id, &[1; 300]);
        let unacked = a.stats().buffered_amount;
        assert!(unacked <= 16 * 1024 * 1024);
        assert!(a.buffered_amount(id).unwrap_or(0) as u64 <= unacked);
    }
});
