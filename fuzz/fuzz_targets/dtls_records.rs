//! DTLS after a completed handshake: two `rtcweb-dtls` endpoints connect in memory (fixed
//! certificates, fixed engine seeds, one fixed `now`), DTLS 1.2 or 1.3 as the first byte
//! says; then one of them receives what the fuzzer makes of the record layer: raw datagrams,
//! genuine application-data records of its peer with bytes changed or cut off, records
//! replayed, several records in one datagram, fresh records of fuzzer-chosen data, and time.
//! Whatever the receiver sends back goes to its peer, so both input paths run.
//!
//! Checks: no panic; bounded queues; application data delivered is only ever data the peer
//! sent, each record at most once (no forgery, no replay); fresh data of the peer arrives
//! intact; and the connection survives: nothing the fuzzer sends can close or fail it (it
//! holds no key), so at the end a fresh record still gets through.
#![no_main]

use std::sync::OnceLock;
use std::time::{Duration, Instant, SystemTime};

use libfuzzer_sys::fuzz_target;
use rtcweb_dtls::{
    Certificate, DtlsConfig, DtlsContext, DtlsEndpoint, DtlsVersion, Event, Role, State,
    VersionPolicy,
};

const MAX_QUEUED: usize = 64;

fn base() -> Instant {
    static BASE: OnceLock<Instant> = OnceLock::new();
    *BASE.get_or_init(Instant::now)
}

fn certificate(n: u8) -> Certificate {
    let mut secret = [n; 32];
    secret[0] = 0x11;
    Certificate::generate(
        &secret,
        &[n; 16],
        SystemTime::UNIX_EPOCH,
        Certificate::DEFAULT_LIFETIME,
    )
    .expect("certificate")
}

/// (client context, server context) per version.
fn contexts(v13: bool) -> &'static (DtlsContext, DtlsContext) {
    static CONTEXTS: [OnceLock<(DtlsContext, DtlsContext)>; 2] = [OnceLock::new(), OnceLock::new()];
    CONTEXTS[usize::from(v13)].get_or_init(|| {
        let make = |n: u8| {
            let mut config = DtlsConfig::default();
            config.version = if v13 {
                VersionPolicy::Dtls13
            } else {
                VersionPolicy::Dtls12
            };
            config.rng_seed = Some(u64::from(n).into());
            config.max_queued_transmits = MAX_QUEUED;
            config.max_queued_events = MAX_QUEUED;
            DtlsContext::new(config, certificate(n)).expect("context")
        };
        (make(1), make(2))
    })
}

struct Input<'a>(&'a [u8]);

impl<'a> Input<'a> {
    fn byte(&mut self) -> u8 {
        let Some((&b, rest)) = self.0.split_first() else {
            return 0;
        };
        self.0 = rest;
        b
    }
    fn chunk(&mut self) -> &'a [u8] {
        let n = usize::from(u16::from_be_bytes([self.byte(), self.byte()]) % 1400);
        let (head, rest) = self.0.split_at(n.min(self.0.len()));
        self.0 = rest;
        head
    }
}

/// What the receiver may still deliver: every plaintext the peer sent, as often as sent.
#[derive(Default)]
struct Expected(Vec<Vec<u8>>);

impl Expected {
    fn take(&mut self, data: &[u8]) {
        let at = self
            .0
            .iter()
            .position(|d| d == data)
            .unwrap_or_else(|| panic!("delivered {} bytes nobody sent (or twice)", data.len()));
        self.0.swap_remove(at);
    }
}

/// Moves datagrams both ways until neither has anything to send.
fn pump(a: &mut DtlsEndpoint, b: &mut DtlsEndpoint, now: Instant) {
    for _ in 0..32 {
        let mut moved = false;
        while let Some(d) = a.poll_transmit() {
            b.handle_input(now, &d);
            moved = true;
        }
        while let Some(d) = b.poll_transmit() {
            a.handle_input(now, &d);
            moved = true;
        }
        if !moved {
            return;
        }
    }
}

/// `peer` sends `data`; returns its record (one datagram: records are never fragmented).
fn seal(peer: &mut DtlsEndpoint, data: &[u8], expected: &mut Expected) -> Option<Vec<u8>> {
    peer.send(data).ok()?;
    expected.0.push(data.to_vec());
    let record = peer.poll_transmit();
    // Anything else queued (an ACK, say) goes nowhere.
    while peer.poll_transmit().is_some() {}
    record
}

/// Takes the receiver's events, checking the data; returns whether it closed or failed.
fn drain(rx: &mut DtlsEndpoint, expected: &mut Expected) -> usize {
    let mut events = 0;
    while let Some(e) = rx.poll_event() {
        events += 1;
        match e {
            Event::ApplicationData(d) => expected.take(&d),
            Event::Connected { .. } => panic!("connected twice"),
            Event::Closed | Event::Failed(_) => {}
        }
    }
    events
}

fuzz_target!(|data: &[u8]| {
    let mut input = Input(data);
    let setup = input.byte();
    let v13 = setup & 1 == 1;
    let (cc, sc) = contexts(v13);
    let now0 = base();
    let mut now = now0;
    let client_fp = cc.certificate().fingerprint().clone();
    let server_fp = sc.certificate().fingerprint().clone();
    let mut client = DtlsEndpoint::new(cc, Role::Client, vec![server_fp], now).expect("client");
    let mut server = DtlsEndpoint::new(sc, Role::Server, vec![client_fp], now).expect("server");
    pump(&mut client, &mut server, now);
    assert_eq!(client.state(), &State::Connected, "set-up: client");
    assert_eq!(server.state(), &State::Connected, "set-up: server");
    let version = if v13 {
        DtlsVersion::Dtls13
    } else {
        DtlsVersion::Dtls12
    };
    assert_eq!(client.version(), Some(version));
    for ep in [&mut client, &mut server] {
        while let Some(e) = ep.poll_event() {
            assert!(matches!(e, Event::Connected { srtp: Some(_), .. }));
        }
    }
    // The fuzzer talks to `rx`; `tx` is the genuine peer whose records it gets to mangle.
    let (rx, tx) = if setup & 2 == 0 {
        (&mut server, &mut client)
    } else {
        (&mut client, &mut server)
    };
    let mut expected = Expected::default();
    let mut records: Vec<Vec<u8>> = Vec::new();
    for i in 0..3u8 {
        if let Some(r) = seal(tx, &[i; 40], &mut expected) {
            records.push(r);
        }
    }
    assert_eq!(records.len(), 3, "set-up: records");

    while !input.0.is_empty() {
        let op = input.byte();
        let pick = |records: &Vec<Vec<u8>>, b: u8| records[usize::from(b) % records.len()].clone();
        match op % 7 {
            0 => rx.handle_input(now, input.chunk()),
            1 => {
                // A genuine record with bytes changed.
                let mut r = pick(&records, input.byte());
                for _ in 0..=(op >> 5) {
                    let at = usize::from(input.byte()) % r.len();
                    r[at] ^= input.byte() | 1;
                }
                rx.handle_input(now, &r);
            }
            2 => {
                // A genuine record cut short, or with the fuzzer's bytes after it.
                let mut r = pick(&records, input.byte());
                let keep = usize::from(input.byte()) % (r.len() + 1);
                r.truncate(keep);
                r.extend_from_slice(input.chunk());
                rx.handle_input(now, &r);
            }
            3 => {
                // Replay (the first delivery of a sealed record counts, later ones must not).
                let r = pick(&records, input.byte());
                rx.handle_input(now, &r);
            }
            4 => {
                // Fresh data of the peer; delivered now (and kept for later mangling).
                let d = input.chunk().to_vec();
                if let Some(r) = seal(tx, &d, &mut expected) {
                    if op & 0x80 == 0 {
                        rx.handle_input(now, &r);
                    }
                    records.push(r);
                    if records.len() > 16 {
                        records.remove(3);
                    }
                }
            }
            5 => {
                // Several records in one datagram, fuzzer bytes between.
                let mut d = pick(&records, input.byte());
                d.extend_from_slice(input.chunk());
                d.extend_from_slice(&pick(&records, input.byte()));
                rx.handle_input(now, &d);
            }
            _ => {
                now += Duration::from_millis(u64::from(input.byte()) * 50);
                for ep in [&mut *rx, &mut *tx] {
                    if ep.poll_timeout().is_some_and(|t| t <= now) {
                        ep.handle_timeout(now);
                    }
                }
            }
        }
        let mut sent = 0;
        while let Some(d) = rx.poll_transmit() {
            tx.handle_input(now, &d);
            sent += 1;
        }
        assert!(sent <= MAX_QUEUED);
        while tx.poll_transmit().is_some() {}
        while tx.poll_event().is_some() {}
        assert!(drain(rx, &mut expected) <= MAX_QUEUED + 1);
        assert_eq!(
            rx.state(),
            &State::Connected,
            "the fuzzer closed or failed the receiver"
        );
        assert_eq!(
            tx.state(),
            &State::Connected,
            "the fuzzer closed or failed the peer"
        );
    }
    // Still alive: a fresh record gets through intact.
    let last = b"still connected".to_vec();
    let mut fresh = Expected::default();
    let r = seal(tx, &last, &mut fresh).expect("the peer still sends");
    rx.handle_input(now, &r);
    let mut got = None;
    while let Some(e) = rx.poll_event() {
        if let Event::ApplicationData(d) = e {
            got = Some(d);
        }
    }
    assert_eq!(got, Some(last));
});
