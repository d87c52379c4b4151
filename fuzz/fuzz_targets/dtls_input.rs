//! Arbitrary datagrams into a handshaking DTLS endpoint, either role, any version policy and
//! cookie setting, with virtual time moving between datagrams. With a flag, a server first
//! receives Chromium 156's real (fragmented) ClientHello, so the fuzzer starts past the hello.
//! Checks: no panic, datagrams within the MTU, bounded queues, never connected (the fuzzer
//! cannot hold the peer's private key), and a started handshake always ends by its timeout.
#![no_main]

use std::sync::OnceLock;
use std::time::{Duration, Instant, SystemTime};

use libfuzzer_sys::fuzz_target;
use rtcweb_dtls::{
    Certificate, DtlsConfig, DtlsContext, DtlsEndpoint, Event, Role, State, VersionPolicy,
};

const CHROMIUM_HELLO: [&[u8]; 2] = [
    include_bytes!("../../crates/rtcweb-dtls/tests/data/chromium-156/client-hello-1.bin"),
    include_bytes!("../../crates/rtcweb-dtls/tests/data/chromium-156/client-hello-2.bin"),
];

fn certificates() -> &'static (Certificate, Certificate) {
    static CERTS: OnceLock<(Certificate, Certificate)> = OnceLock::new();
    CERTS.get_or_init(|| {
        let make = |n: u8| {
            let mut secret = [n; 32];
            secret[0] = 0x11;
            Certificate::generate(
                &secret,
                &[n; 16],
                SystemTime::UNIX_EPOCH,
                Certificate::DEFAULT_LIFETIME,
            )
            .expect("certificate")
        };
        (make(1), make(2))
    })
}

struct Input<'a>(&'a [u8]);

impl<'a> Input<'a> {
    fn byte(&mut self) -> Option<u8> {
        let (&b, rest) = self.0.split_first()?;
        self.0 = rest;
        Some(b)
    }
    fn bytes(&mut self, n: usize) -> &'a [u8] {
        let n = n.min(self.0.len());
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        head
    }
}

/// Contexts are expensive (the engine self-tests its crypto), so one per configuration.
fn context(kind: u8) -> &'static DtlsContext {
    static CONTEXTS: [OnceLock<DtlsContext>; 8] = [const { OnceLock::new() }; 8];
    CONTEXTS[usize::from(kind & 7)].get_or_init(|| {
        let mut config = DtlsConfig::default();
        config.version = match kind & 3 {
            1 => VersionPolicy::Dtls12,
            2 => VersionPolicy::Dtls13,
            _ => VersionPolicy::Auto,
        };
        config.server_cookie = kind & 4 != 0;
        config.rng_seed = Some(u64::from(kind).into());
        config.max_queued_transmits = 64;
        config.max_queued_events = 64;
        DtlsContext::new(config, certificates().0.clone()).expect("context")
    })
}

fuzz_target!(|data: &[u8]| {
    let mut input = Input(data);
    let Some(setup) = input.byte() else { return };
    let role = if setup & 1 == 0 {
        Role::Server
    } else {
        Role::Client
    };
    let context = context(setup >> 1);
    let config = context.config();
    let peer = &certificates().1;
    let start = Instant::now();
    let mut now = start;
    let Ok(mut ep) = DtlsEndpoint::new(context, role, vec![peer.fingerprint().clone()], now) else {
        return;
    };
    if role == Role::Server && setup & 16 != 0 {
        for d in CHROMIUM_HELLO {
            ep.handle_input(now, d);
        }
    }
    // Each datagram: two length bytes, one byte of elapsed milliseconds (x8), the bytes.
    while let (Some(hi), Some(lo), Some(dt)) = (input.byte(), input.byte(), input.byte()) {
        let len = usize::from(u16::from_be_bytes([hi, lo]) % 2048);
        now += Duration::from_millis(u64::from(dt) * 8);
        if let Some(t) = ep.poll_timeout().filter(|t| *t <= now) {
            ep.handle_timeout(t);
        }
        ep.handle_input(now, input.bytes(len));
        let mut sent = 0;
        while let Some(d) = ep.poll_transmit() {
            assert!(
                d.len() <= config.mtu,
                "datagram of {} bytes over the MTU",
                d.len()
            );
            sent += 1;
        }
        assert!(sent <= 64);
        let mut events = 0;
        while let Some(e) = ep.poll_event() {
            // The fuzzer cannot hold the private key of `peer`, so it can never authenticate.
            assert!(
                !matches!(e, Event::Connected { .. }),
                "connected to the fuzzer"
            );
            events += 1;
        }
        assert!(events <= 65);
    }
    // Running out the clock always ends a handshake that has started.
    ep.handle_timeout(now + config.handshake_timeout);
    if ep.stats().datagrams_received > 0 || role == Role::Client {
        assert!(
            matches!(ep.state(), State::Failed(_)),
            "still {:?} after the handshake timeout",
            ep.state()
        );
    }
});
