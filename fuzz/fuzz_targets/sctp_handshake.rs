//! Arbitrary SCTP packets into an association that sent INIT and waits for an answer: the
//! peer's INIT crossing ours (RFC 9260 section 5.2.1), cookies, and the INIT ACK the adapter
//! makes from the peer's INIT. Each input is a sequence of records `[flags, len_hi, len_lo,
//! bytes...]`: with flag bit 0 the bytes are chunks and get a valid common header (our ports,
//! a correct CRC32c) with, by bit 2, tag 0 (as an INIT needs) or our Initiate Tag; bit 3
//! instead sends a COOKIE ECHO with the cookie of the latest INIT ACK we sent (so handshakes
//! can complete and the fuzzer goes on into the association); bit 1 advances virtual time by
//! up to 25 s first. Bit 4 of the first record makes us the DTLS server that initiates,
//! otherwise the client. Checks: no panic, bounded output, and every INIT we send carries
//! tag 0 whatever the peer made us believe.
#![no_main]

use std::time::{Duration, Instant};

use libfuzzer_sys::fuzz_target;
use rtcweb_sctp::{ChannelOptions, Role, SctpConfig, SctpTransport};

fn packet(vtag: u32, chunks: &[u8]) -> Vec<u8> {
    let mut p = Vec::with_capacity(12 + chunks.len());
    p.extend_from_slice(&[0x13, 0x88, 0x13, 0x88]);
    p.extend_from_slice(&vtag.to_be_bytes());
    p.extend_from_slice(&[0; 4]);
    p.extend_from_slice(chunks);
    let crc = crc32c::crc32c(&p);
    p[8..12].copy_from_slice(&crc.to_le_bytes());
    p
}

/// The State Cookie (parameter 7) of an INIT ACK packet.
fn cookie_of(p: &[u8]) -> Option<Vec<u8>> {
    if p.get(12) != Some(&2) {
        return None;
    }
    let end = 12 + usize::from(u16::from_be_bytes([*p.get(14)?, *p.get(15)?]));
    let mut at = 32;
    while at + 4 <= end.min(p.len()) {
        let kind = u16::from_be_bytes([p[at], p[at + 1]]);
        let len = usize::from(u16::from_be_bytes([p[at + 2], p[at + 3]]));
        if len < 4 {
            return None;
        }
        if kind == 7 {
            return p.get(at + 4..at + len).map(<[u8]>::to_vec);
        }
        at += (len + 3) & !3;
    }
    None
}

/// Polls everything `a` sends: checks INITs, remembers our tag and cookie.
fn drain(a: &mut SctpTransport, now: Instant, own_tag: &mut u32, cookie: &mut Option<Vec<u8>>) {
    let mut packets = 0;
    while let Some(p) = a.poll_transmit(now) {
        packets += 1;
        assert!(packets < 100_000, "packet flood");
        if p.get(12) == Some(&1) && p.len() >= 20 {
            assert_eq!(&p[4..8], &[0; 4], "INIT sent with a non-zero tag");
            *own_tag = u32::from_be_bytes([p[16], p[17], p[18], p[19]]);
        }
        if let Some(c) = cookie_of(&p) {
            *cookie = Some(c);
        }
    }
    let mut events = 0;
    while a.poll_event().is_some() {
        events += 1;
        assert!(events < 200_000, "event flood");
    }
}

fuzz_target!(|data: &[u8]| {
    let mut now = Instant::now();
    let server = data.first().is_some_and(|f| f & 16 != 0);
    let mut config = SctpConfig::default();
    config.server_initiates = true;
    let role = if server { Role::Server } else { Role::Client };
    let mut a = SctpTransport::new(config, role).expect("config");
    let id = a
        .create_channel(now, ChannelOptions::new("fuzz"))
        .expect("channel");
    a.start(now).expect("start");
    let (mut own_tag, mut cookie) = (0u32, None);
    drain(&mut a, now, &mut own_tag, &mut cookie);
    let mut rest = data;
    while rest.len() >= 3 {
        let flags = rest[0];
        let len = usize::from(u16::from_be_bytes([rest[1], rest[2]])).min(rest.len() - 3);
        let body = &rest[3..3 + len];
        rest = &rest[3 + len..];
        if flags & 2 != 0 {
            now += Duration::from_millis(u64::from(flags >> 5) * 3_600);
            a.handle_timeout(now);
        }
        if flags & 8 != 0 {
            if let Some(c) = &cookie {
                let mut echo = vec![10, 0];
                echo.extend_from_slice(&u16::try_from(4 + c.len()).unwrap_or(4).to_be_bytes());
                echo.extend_from_slice(c);
                echo.resize((echo.len() + 3) & !3, 0);
                echo.extend_from_slice(body);
                a.handle_input(now, &packet(own_tag, &echo));
            }
        } else if flags & 1 != 0 {
            let vtag = if flags & 4 != 0 { 0 } else { own_tag };
            a.handle_input(now, &packet(vtag, body));
        } else {
            a.handle_input(now, body);
        }
        drain(&mut a, now, &mut own_tag, &mut cookie);
        let _ = a.send_binary(now, id, &[1; 300]);
        assert!(a.stats().buffered_amount <= 16 * 1024 * 1024);
    }
});
