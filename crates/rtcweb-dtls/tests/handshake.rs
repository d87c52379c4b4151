//! Our endpoint against our endpoint: roles, versions, keys, application data, close_notify,
//! MTU, fingerprint checks.
#![allow(clippy::unwrap_used)] // test code: a panic is a failed test

mod common;

use std::time::Duration;

use common::{Pair, cert, config, connected_keys, endpoint};
use rtcweb_dtls::{
    DtlsConfig, DtlsContext, DtlsEndpoint, DtlsVersion, Error, Event, HashFunction, Role,
    SrtpProfile, State, VersionPolicy, fingerprint_of,
};

fn connected_version(events: &[Event]) -> Option<DtlsVersion> {
    events.iter().find_map(|e| match e {
        Event::Connected { version, .. } => Some(*version),
        _ => None,
    })
}

#[test]
fn every_version_combination_connects_with_matching_keys() {
    use VersionPolicy::*;
    let cases = [
        (Dtls12, Dtls12, DtlsVersion::Dtls12),
        (Dtls13, Dtls13, DtlsVersion::Dtls13),
        (Auto, Auto, DtlsVersion::Dtls13),
        (Auto, Dtls12, DtlsVersion::Dtls12),
        (Dtls12, Auto, DtlsVersion::Dtls12),
        (Auto, Dtls13, DtlsVersion::Dtls13),
        (Dtls13, Auto, DtlsVersion::Dtls13),
    ];
    for (i, (client_v, server_v, want)) in cases.into_iter().enumerate() {
        let mut pair = Pair::new(
            &config(client_v, i as u64),
            &config(server_v, 100 + i as u64),
        );
        pair.connect();
        let ctx = format!("client {client_v:?} server {server_v:?}");
        assert_eq!(connected_version(&pair.client_events), Some(want), "{ctx}");
        assert_eq!(connected_version(&pair.server_events), Some(want), "{ctx}");
        assert_eq!(pair.client.version(), Some(want), "{ctx}");
        let ck = connected_keys(&pair.client_events).expect("client keys");
        let sk = connected_keys(&pair.server_events).expect("server keys");
        // What one side sends with, the other receives with.
        assert_eq!(ck.local, sk.remote, "{ctx}");
        assert_eq!(ck.remote, sk.local, "{ctx}");
        assert_ne!(ck.local, ck.remote, "{ctx}");
        // dimpl offers and (in 1.2) selects GCM first; in 1.3 the client's first choice wins,
        // which for our own client is GCM too.
        assert_eq!(ck.profile, SrtpProfile::AeadAes256Gcm, "{ctx}");
        assert_eq!(ck.local.key.len(), 32);
        assert_eq!(ck.local.salt.len(), 12);
        assert_eq!(pair.client.srtp_keying_material(), Some(&ck));
        assert_eq!(pair.client.peer_certificate(), Some(pair.server_cert.der()));
        assert_eq!(pair.server.peer_certificate(), Some(pair.client_cert.der()));
    }
}

#[test]
fn roles_follow_the_endpoint_not_the_certificate() {
    // Swap which certificate plays client: keys still agree and each side sees the other's
    // certificate.
    let (a, b) = (cert(7), cert(8));
    let cfg = config(VersionPolicy::Auto, 5);
    let mut pair = Pair::with(
        &cfg,
        &cfg,
        &b,
        &a,
        vec![a.fingerprint().clone()],
        vec![b.fingerprint().clone()],
        std::time::Instant::now(),
    );
    pair.connect();
    assert_eq!(pair.client.role(), Role::Client);
    assert_eq!(pair.server.role(), Role::Server);
    assert_eq!(pair.client.peer_certificate(), Some(a.der()));
    assert_eq!(pair.server.peer_certificate(), Some(b.der()));
}

#[test]
fn application_data_both_ways_then_close_notify() {
    for version in [VersionPolicy::Dtls12, VersionPolicy::Dtls13] {
        let mut pair = Pair::new(&config(version, 1), &config(version, 2));
        // Before the handshake there is nowhere to send.
        assert_eq!(pair.client.send(b"early"), Err(Error::NotConnected));
        pair.connect();
        let big = vec![0xa5; 1100];
        pair.client.send(b"hello server").unwrap();
        pair.client.send(&big).unwrap();
        pair.server.send(b"hello client").unwrap();
        pair.exchange();
        let data = |events: &[Event]| -> Vec<Vec<u8>> {
            events
                .iter()
                .filter_map(|e| match e {
                    Event::ApplicationData(d) => Some(d.clone()),
                    _ => None,
                })
                .collect()
        };
        assert_eq!(
            data(&pair.server_events),
            vec![b"hello server".to_vec(), big.clone()]
        );
        assert_eq!(data(&pair.client_events), vec![b"hello client".to_vec()]);
        assert!(
            pair.max_datagram <= 1200,
            "datagram of {} bytes",
            pair.max_datagram
        );

        pair.client.close();
        assert_eq!(pair.client.state(), &State::Closed);
        assert_eq!(pair.client.send(b"late"), Err(Error::NotConnected));
        pair.exchange();
        assert_eq!(pair.server.state(), &State::Closed, "{version:?}");
        assert!(pair.server_events.contains(&Event::Closed), "{version:?}");
        assert_eq!(pair.server.poll_timeout(), None);
        assert_eq!(pair.client.poll_timeout(), None);
    }
}

#[test]
fn server_can_close_too() {
    let mut pair = Pair::new(
        &config(VersionPolicy::Auto, 1),
        &config(VersionPolicy::Auto, 2),
    );
    pair.connect();
    pair.server.close();
    pair.exchange();
    assert!(pair.client_events.contains(&Event::Closed));
    assert_eq!(pair.client.state(), &State::Closed);
}

#[test]
fn every_datagram_fits_the_mtu() {
    for (mtu, version) in [
        (1200, VersionPolicy::Dtls12),
        (1200, VersionPolicy::Dtls13),
        (400, VersionPolicy::Dtls12),
        (400, VersionPolicy::Dtls13),
        (256, VersionPolicy::Auto),
    ] {
        let mut c = config(version, 3);
        c.mtu = mtu;
        let mut pair = Pair::new(&c, &c);
        pair.connect();
        assert!(
            pair.max_datagram <= mtu,
            "mtu {mtu}: sent {} bytes",
            pair.max_datagram
        );
        // Small MTUs really fragment the certificate flight.
        assert!(pair.to_client >= 2, "mtu {mtu}");
    }
    let mut c = DtlsConfig::default();
    c.mtu = 255;
    let cert = cert(1);
    let r = endpoint(
        &c,
        &cert,
        Role::Client,
        vec![cert.fingerprint().clone()],
        now(),
    );
    assert!(matches!(r, Err(Error::Config(_))));
}

fn now() -> std::time::Instant {
    std::time::Instant::now()
}

#[test]
fn other_hash_functions_verify() {
    for hash in [
        HashFunction::Sha1,
        HashFunction::Sha384,
        HashFunction::Sha512,
    ] {
        let (cc, sc) = (cert(1), cert(2));
        let cfg = config(VersionPolicy::Auto, 9);
        let mut pair = Pair::with(
            &cfg,
            &cfg,
            &cc,
            &sc,
            vec![fingerprint_of(hash, sc.der())],
            // As it would arrive in SDP text.
            vec![fingerprint_of(hash, cc.der()).to_string().parse().unwrap()],
            now(),
        );
        pair.connect();
    }
}

/// A wrong fingerprint on either side: that side fails with `FingerprintMismatch`, yields no
/// keys and sends nothing more; the other side never connects.
#[test]
fn fingerprint_mismatch_is_fatal_and_yields_no_keys() {
    for version in [VersionPolicy::Dtls12, VersionPolicy::Dtls13] {
        for client_is_wrong in [true, false] {
            let (cc, sc, stranger) = (cert(1), cert(2), cert(3));
            let cfg = config(version, 4);
            let (client_expects, server_expects) = if client_is_wrong {
                (stranger.fingerprint().clone(), cc.fingerprint().clone())
            } else {
                (sc.fingerprint().clone(), stranger.fingerprint().clone())
            };
            let mut pair = Pair::with(
                &cfg,
                &cfg,
                &cc,
                &sc,
                vec![client_expects],
                vec![server_expects],
                now(),
            );
            pair.run_until(Duration::from_secs(120), |p| {
                matches!(p.client.state(), State::Failed(_))
                    && matches!(p.server.state(), State::Failed(_))
            });
            let ctx = format!("{version:?}, client wrong: {client_is_wrong}");
            let (checker, checker_events, other) = if client_is_wrong {
                (&mut pair.client, &pair.client_events, &pair.server)
            } else {
                (&mut pair.server, &pair.server_events, &pair.client)
            };
            assert_eq!(
                checker.state(),
                &State::Failed(Error::FingerprintMismatch),
                "{ctx}"
            );
            assert!(
                checker_events.contains(&Event::Failed(Error::FingerprintMismatch)),
                "{ctx}"
            );
            assert!(connected_keys(checker_events).is_none(), "{ctx}");
            assert!(checker.srtp_keying_material().is_none(), "{ctx}");
            assert!(checker.peer_certificate().is_none(), "{ctx}");
            assert!(checker.poll_transmit().is_none(), "{ctx}");
            assert_eq!(checker.poll_timeout(), None, "{ctx}");
            // The other side learns nothing (dimpl cannot send a bad_certificate alert), so it
            // runs into its handshake timeout; except a DTLS 1.3 client checked by the server:
            // TLS 1.3 clients finish first, so it holds keys that nobody shares and will see
            // no media. Either way the checker never sent a datagram after its check.
            let want = if version == VersionPolicy::Dtls13 && !client_is_wrong {
                State::Connected
            } else {
                State::Failed(Error::HandshakeTimeout)
            };
            assert_eq!(other.state(), &want, "{ctx}");
        }
    }
}

#[test]
fn empty_remote_fingerprint_list_is_refused() {
    let c = cert(1);
    let r = endpoint(&DtlsConfig::default(), &c, Role::Server, vec![], now());
    assert!(matches!(r, Err(Error::NoRemoteFingerprint)));
}

#[test]
fn certificates_have_random_serials_and_parse_back() {
    let a = cert(1);
    let b = cert(2);
    assert_ne!(a.fingerprint(), b.fingerprint());
    // The serial is the random bytes we passed (top bit cleared): find it in the DER.
    let serial_a: Vec<u8> = {
        let mut s = [1u8; 16];
        s[0] &= 0x7f;
        s.to_vec()
    };
    assert!(a.der().windows(16).any(|w| w == serial_a.as_slice()));
    assert!(!b.der().windows(16).any(|w| w == serial_a.as_slice()));
    let reloaded =
        rtcweb_dtls::Certificate::from_der(a.der().to_vec(), a.private_key_der().to_vec()).unwrap();
    assert_eq!(reloaded.fingerprint(), a.fingerprint());
    assert_eq!(a.fingerprint().hash_function(), HashFunction::Sha256);
    let sdp = a.fingerprint().to_string();
    assert!(sdp.starts_with("sha-256 "));
    assert_eq!(sdp.len(), "sha-256 ".len() + 32 * 3 - 1);
    assert!(rtcweb_dtls::Certificate::from_der(a.der().to_vec(), vec![1, 2, 3]).is_err());
}

#[test]
fn one_context_serves_many_connections() {
    let cfg = config(VersionPolicy::Auto, 3);
    let alice = DtlsContext::new(cfg.clone(), cert(1)).unwrap();
    let bob = DtlsContext::new(cfg, cert(2)).unwrap();
    let mut keys = Vec::new();
    for i in 0..3 {
        // Alternate roles over the same two contexts.
        let (client, server) = if i % 2 == 0 {
            (&alice, &bob)
        } else {
            (&bob, &alice)
        };
        let now = std::time::Instant::now();
        let server_fp = server.certificate().fingerprint().clone();
        let client_fp = client.certificate().fingerprint().clone();
        let mut c = DtlsEndpoint::new(client, Role::Client, vec![server_fp], now).unwrap();
        let mut s = DtlsEndpoint::new(server, Role::Server, vec![client_fp], now).unwrap();
        while c.state() != &State::Connected || s.state() != &State::Connected {
            let mut moved = false;
            while let Some(d) = c.poll_transmit() {
                s.handle_input(now, &d);
                moved = true;
            }
            while let Some(d) = s.poll_transmit() {
                c.handle_input(now, &d);
                moved = true;
            }
            assert!(moved);
        }
        assert_eq!(c.peer_certificate(), Some(server.certificate().der()));
        let ck = c.srtp_keying_material().unwrap().clone();
        assert_eq!(Some(&ck.local), s.srtp_keying_material().map(|k| &k.remote));
        keys.push(ck);
    }
    // Fresh keys per connection.
    assert_ne!(keys[0], keys[1]);
    assert_ne!(keys[1], keys[2]);
}

#[test]
fn application_data_larger_than_the_mtu_is_refused() {
    for (version, max) in [
        (VersionPolicy::Dtls12, 1200 - 37),
        (VersionPolicy::Dtls13, 1200 - 22),
    ] {
        let mut pair = Pair::new(&config(version, 1), &config(version, 2));
        assert_eq!(pair.client.max_application_data(), None);
        pair.connect();
        assert_eq!(pair.client.max_application_data(), Some(max), "{version:?}");
        // The largest message fits one datagram of exactly the MTU.
        pair.client.send(&vec![1; max]).unwrap();
        let d = pair.client.poll_transmit().unwrap();
        assert_eq!(d.len(), 1200, "{version:?}");
        for len in [max + 1, 5000, 20_000] {
            assert_eq!(
                pair.client.send(&vec![1; len]),
                Err(Error::ApplicationDataTooLarge { len, max }),
                "{version:?}"
            );
            assert!(pair.client.poll_transmit().is_none());
        }
        // Refusing is not fatal.
        assert_eq!(pair.client.state(), &State::Connected);
    }
}
