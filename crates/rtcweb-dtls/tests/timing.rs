//! Retransmission and deadlines on injected (virtual) time, and peers that misbehave: garbage,
//! stalls, a ClientHello into an established session.
#![allow(clippy::unwrap_used)] // test code: a panic is a failed test

mod common;

use std::cell::RefCell;
use std::rc::Rc;
use std::time::{Duration, Instant};

use common::{Pair, cert, config, endpoint};
use rtcweb_dtls::{Error, Event, Role, State, VersionPolicy};

const RTO: Duration = Duration::from_secs(1);

/// Lost client flights are resent after the RTO, doubling each time (±25 % jitter), on the
/// virtual clock only.
#[test]
fn lost_flights_are_retransmitted_with_backoff() {
    for version in [VersionPolicy::Dtls12, VersionPolicy::Dtls13] {
        let mut cfg = config(version, 11);
        // A one-datagram ClientHello keeps datagram indices equal to transmissions; the
        // hybrid share's two-datagram hello is retransmitted whole, see below.
        cfg.post_quantum = false;
        let mut pair = Pair::new(&cfg, &cfg);
        // Lose the first three transmissions of the ClientHello.
        pair.drop_to_server = Box::new(|i, _| i < 3);
        let wall = Instant::now();
        pair.connect();
        let times = pair.client_sent_at.clone();
        assert!(times.len() >= 4, "{version:?}: {times:?}");
        // Retransmissions at about 1 s, 1+2 s, 1+2+4 s (each interval ±25 %).
        let gaps: Vec<f64> = times
            .windows(2)
            .take(3)
            .map(|w| (w[1] - w[0]).as_secs_f64())
            .collect();
        for (k, gap) in gaps.iter().enumerate() {
            let base = RTO.as_secs_f64() * f64::from(1u32 << k);
            assert!(
                (0.74 * base..=1.26 * base).contains(gap),
                "{version:?}: gap {k} is {gap} s, want {base} s ±25 %: {times:?}"
            );
        }
        assert!(pair.elapsed() >= Duration::from_secs(5), "{version:?}");
        // Seven virtual seconds went by in (far) less real time: nothing slept.
        assert!(wall.elapsed() < Duration::from_secs(5));
    }
}

#[test]
fn poll_timeout_reports_the_retransmission_deadline() {
    for version in [
        VersionPolicy::Auto,
        VersionPolicy::Dtls12,
        VersionPolicy::Dtls13,
    ] {
        let mut cfg = config(version, 12);
        // One datagram per ClientHello (see `hybrid_client_hello_is_retransmitted_whole`).
        cfg.post_quantum = false;
        let c = cert(1);
        let start = Instant::now();
        let mut client = endpoint(
            &cfg,
            &c,
            Role::Client,
            vec![cert(2).fingerprint().clone()],
            start,
        )
        .unwrap();
        let first = client.poll_transmit().expect("ClientHello");
        assert!(client.poll_transmit().is_none());
        let at = client.poll_timeout().expect("a retransmission timer");
        let wait = at - start;
        assert!(
            wait >= RTO * 3 / 4 && wait <= RTO * 5 / 4,
            "{version:?}: {wait:?}"
        );
        // Early: nothing happens.
        client.handle_timeout(at - Duration::from_millis(1));
        assert!(client.poll_transmit().is_none(), "{version:?}");
        client.handle_timeout(at);
        let again = client.poll_transmit().expect("retransmitted ClientHello");
        // Same ClientHello; the record sequence number (bytes 5..11) is fresh, except for
        // dimpl's version-agnostic (Auto) ClientHello, which it resends byte for byte.
        assert_eq!(first[13..], again[13..], "{version:?}");
        if version != VersionPolicy::Auto {
            assert_ne!(first[5..11], again[5..11], "{version:?}");
        }
        let next = client.poll_timeout().unwrap();
        let backoff = next - at;
        assert!(
            backoff >= RTO * 3 / 2 && backoff <= RTO * 5 / 2,
            "{version:?}: {backoff:?}"
        );
    }
}

/// With the X25519MLKEM768 share the ClientHello (about 1.45 KB) goes out as two datagrams
/// within the MTU, and a retransmission resends both.
#[test]
fn hybrid_client_hello_is_retransmitted_whole() {
    for version in [VersionPolicy::Auto, VersionPolicy::Dtls13] {
        let cfg = config(version, 13);
        let c = cert(1);
        let start = Instant::now();
        let mut client = endpoint(
            &cfg,
            &c,
            Role::Client,
            vec![cert(2).fingerprint().clone()],
            start,
        )
        .unwrap();
        let first: Vec<Vec<u8>> = std::iter::from_fn(|| client.poll_transmit()).collect();
        assert_eq!(first.len(), 2, "{version:?}");
        assert!(first.iter().all(|d| d.len() <= cfg.mtu), "{version:?}");
        let body: usize = first.iter().map(|d| d.len() - 25).sum();
        assert!(body > 1216, "{version:?}: {body} bytes of ClientHello");
        let at = client.poll_timeout().expect("a retransmission timer");
        client.handle_timeout(at);
        let again: Vec<Vec<u8>> = std::iter::from_fn(|| client.poll_transmit()).collect();
        assert_eq!(again.len(), 2, "{version:?}");
        for (a, b) in first.iter().zip(&again) {
            // Same fragments (record header aside).
            assert_eq!(a[13..], b[13..], "{version:?}");
        }
    }
}

/// A peer that never answers: the handshake fails with `HandshakeTimeout` no later than the
/// configured timeout, for both roles.
#[test]
fn stalled_peer_times_out_within_the_handshake_timeout() {
    for version in [
        VersionPolicy::Dtls12,
        VersionPolicy::Dtls13,
        VersionPolicy::Auto,
    ] {
        let mut cfg = config(version, 13);
        cfg.handshake_timeout = Duration::from_secs(10);
        // Client: the server is silent.
        let mut pair = Pair::new(&cfg, &cfg);
        pair.drop_to_server = Box::new(|_, _| true);
        pair.run_until(Duration::from_secs(120), |p| {
            p.client.state() != &State::Handshaking
        });
        assert_eq!(
            pair.client.state(),
            &State::Failed(Error::HandshakeTimeout),
            "{version:?}"
        );
        assert!(
            pair.elapsed() <= Duration::from_secs(10),
            "{version:?}: {:?}",
            pair.elapsed()
        );
        assert!(
            pair.client_events
                .contains(&Event::Failed(Error::HandshakeTimeout))
        );

        // Server: the client sends its ClientHello and then goes quiet.
        let mut pair = Pair::new(&cfg, &cfg);
        pair.drop_to_server = Box::new(|i, _| i > 0);
        pair.run_until(Duration::from_secs(120), |p| {
            p.server.state() != &State::Handshaking
        });
        assert_eq!(
            pair.server.state(),
            &State::Failed(Error::HandshakeTimeout),
            "{version:?}"
        );
        assert!(
            pair.elapsed() <= Duration::from_secs(10),
            "{version:?}: {:?}",
            pair.elapsed()
        );
    }
}

/// A tiny deterministic generator for garbage.
struct Lcg(u64);
impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 >> 33
    }
    fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.next() as u8).collect()
    }
}

fn garbage(rng: &mut Lcg) -> Vec<u8> {
    let len = (rng.next() % 1300) as usize;
    let mut d = rng.bytes(len);
    match rng.next() % 4 {
        // Looks like a DTLS handshake record of epoch 0 (content type 22, version 1.2).
        0 if d.len() > 13 => d[..3].copy_from_slice(&[22, 0xfe, 0xfd]),
        // A handshake record with a plausible length and a ClientHello header.
        1 if d.len() > 25 => {
            let body = (d.len() - 13) as u16;
            d[..3].copy_from_slice(&[22, 0xfe, 0xfd]);
            d[3..5].copy_from_slice(&[0, 0]);
            d[11..13].copy_from_slice(&body.to_be_bytes());
            d[13] = 1;
        }
        // An application-data or alert record.
        2 if d.len() > 13 => d[0] = if rng.next().is_multiple_of(2) { 23 } else { 21 },
        _ => {}
    }
    d
}

/// A server fed nothing but garbage never panics, never connects and fails with
/// `HandshakeTimeout` within the timeout counted from the first datagram.
#[test]
fn garbage_ends_in_a_timeout_not_a_panic() {
    for version in [
        VersionPolicy::Dtls12,
        VersionPolicy::Dtls13,
        VersionPolicy::Auto,
    ] {
        for role in [Role::Server, Role::Client] {
            let mut cfg = config(version, 14);
            cfg.handshake_timeout = Duration::from_secs(5);
            let c = cert(1);
            let start = Instant::now();
            let mut ep =
                endpoint(&cfg, &c, role, vec![cert(2).fingerprint().clone()], start).unwrap();
            let mut rng = Lcg(u64::from(role == Role::Client) + 7);
            let mut now = start;
            let mut events = Vec::new();
            for _ in 0..2000 {
                now += Duration::from_millis(3);
                ep.handle_input(now, &garbage(&mut rng));
                while ep.poll_transmit().is_some() {}
                events.extend(std::iter::from_fn(|| ep.poll_event()));
                if let Some(t) = ep.poll_timeout().filter(|t| *t <= now) {
                    ep.handle_timeout(t);
                }
            }
            let ctx = format!("{version:?} {role:?}");
            // 2000 × 3 ms = 6 s > 5 s: the deadline has passed.
            let state = ep.state().clone();
            assert!(matches!(state, State::Failed(_)), "{ctx}: {state:?}");
            if let State::Failed(e) = &state {
                // Garbage may also be rejected outright (a malformed ClientHello body, too many
                // fragments): any clear, fatal error is fine; hanging or connecting is not.
                assert!(
                    matches!(e, Error::HandshakeTimeout | Error::Protocol(_)),
                    "{ctx}: {e:?}"
                );
            }
            assert!(
                !events.iter().any(|e| matches!(e, Event::Connected { .. })),
                "{ctx}"
            );
            assert_eq!(ep.poll_timeout(), None, "{ctx}");
        }
    }
}

/// Well-framed records with random bodies: a DTLS record header (content type, version,
/// epoch, sequence number, length) that the record layer accepts as a record, so the bytes go
/// on to handshake parsing, decryption or alert handling. Several records share a datagram.
fn framed_garbage(rng: &mut Lcg) -> Vec<u8> {
    let mut d = Vec::new();
    for _ in 0..1 + rng.next() % 3 {
        let content_type = [20u8, 21, 22, 23][(rng.next() % 4) as usize];
        let version = [[0xfe, 0xfd], [0xfe, 0xff]][(rng.next() % 2) as usize];
        // Epoch 0 (plaintext handshake) most of the time, epoch 1..2 (encrypted) otherwise.
        let epoch = [0u16, 0, 1, 2][(rng.next() % 4) as usize];
        let len = (rng.next() % 300) as usize;
        let mut body = rng.bytes(len);
        if content_type == 22 && len >= 12 {
            // A handshake header whose fragment fields agree with the record length.
            let frag = (len - 12) as u32;
            body[0] = [1u8, 2, 11, 12, 16, 20][(rng.next() % 6) as usize];
            body[1..4].copy_from_slice(&frag.to_be_bytes()[1..]);
            body[6..9].copy_from_slice(&[0, 0, 0]);
            body[9..12].copy_from_slice(&frag.to_be_bytes()[1..]);
        }
        d.push(content_type);
        d.extend_from_slice(&version);
        d.extend_from_slice(&epoch.to_be_bytes());
        d.extend_from_slice(&rng.bytes(6));
        d.extend_from_slice(&(len as u16).to_be_bytes());
        d.extend_from_slice(&body);
    }
    d
}

/// Noise on the wire during a real handshake does not stop it: records that parse as
/// records but carry nonsense (forged handshake messages, undecryptable epoch-1 records,
/// bogus alerts) are dropped, as DTLS must (RFC 6347 4.1.2.7: invalid records are silently
/// discarded), and the real flights still complete the handshake.
#[test]
fn handshake_survives_interleaved_garbage() {
    for version in [VersionPolicy::Dtls12, VersionPolicy::Dtls13] {
        let cfg = config(version, 15);
        let mut pair = Pair::new(&cfg, &cfg);
        let mut rng = Lcg(99);
        for _ in 0..50 {
            let g = framed_garbage(&mut rng);
            pair.client.handle_input(pair.now, &g);
            pair.server.handle_input(pair.now, &g);
            pair.exchange();
        }
        pair.connect();
    }
}

/// An unauthenticated ClientHello (epoch 0) arriving at an established session is dropped:
/// letting it tear down the session would let anyone on the path reset calls. A real
/// renegotiation (an encrypted HelloRequest/ClientHello) ends the session with
/// `Error::Renegotiation`; dimpl cannot produce one, see the OpenSSL interop test.
#[test]
fn plaintext_client_hello_after_handshake_is_ignored() {
    for version in [VersionPolicy::Dtls12, VersionPolicy::Dtls13] {
        let cfg = config(version, 16);
        let mut pair = Pair::new(&cfg, &cfg);
        let first_hello: Rc<RefCell<Vec<Vec<u8>>>> = Rc::default();
        let keep = first_hello.clone();
        pair.drop_to_server = Box::new(move |_, d| {
            keep.borrow_mut().push(d.to_vec());
            false
        });
        pair.connect();
        // A fresh client's ClientHello, as an attacker or a confused peer would send.
        let c = cert(5);
        let mut stranger = endpoint(
            &cfg,
            &c,
            Role::Client,
            vec![cert(2).fingerprint().clone()],
            pair.now,
        )
        .unwrap();
        while let Some(d) = stranger.poll_transmit() {
            pair.server.handle_input(pair.now, &d);
        }
        // And the session's own first ClientHello, replayed.
        for d in first_hello.borrow().iter().take(1) {
            pair.server.handle_input(pair.now, d);
        }
        pair.exchange();
        assert_eq!(pair.server.state(), &State::Connected, "{version:?}");
        pair.client.send(b"still here").unwrap();
        pair.exchange();
        assert!(
            pair.server_events
                .contains(&Event::ApplicationData(b"still here".to_vec()))
        );
    }
}

#[test]
fn time_never_runs_backwards_for_the_engine() {
    let cfg = config(VersionPolicy::Auto, 17);
    let mut pair = Pair::new(&cfg, &cfg);
    pair.connect();
    // A caller that passes an older instant must not confuse timers.
    let earlier = pair.start;
    pair.client.handle_timeout(earlier);
    pair.client.send(b"x").unwrap();
    let d = pair.client.poll_transmit().unwrap();
    pair.server.handle_input(earlier, &d);
    assert_eq!(
        pair.server.poll_event(),
        Some(Event::ApplicationData(b"x".to_vec()))
    );
}
