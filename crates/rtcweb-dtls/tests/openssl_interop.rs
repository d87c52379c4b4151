//! Our endpoint (dimpl inside) against OpenSSL, DTLS 1.2, both roles, in memory: the handshake
//! completes for each of the three ECDSA AEAD suites, both sides export identical SRTP keys for
//! every profile both implement, application data flows both ways, close_notify is seen on each
//! side, a wrong certificate is refused, and a renegotiation ends the session.
//!
//! Needs the system OpenSSL (Debian `libssl-dev`, `pkg-config`), so it only builds with
//! `--features openssl-interop`; the interop suite 21-dtls-openssl runs it:
//! `cargo test -p rtcweb-dtls --features openssl-interop --test openssl_interop`.
#![allow(clippy::unwrap_used)] // test code: a panic is a failed test

mod common;

use std::cell::RefCell;
use std::collections::VecDeque;
use std::io::{self, Read, Write};
use std::rc::Rc;
use std::time::{Duration, Instant};

use common::{cert, config, endpoint};
use openssl::hash::MessageDigest;
use openssl::pkey::PKey;
use openssl::ssl::{
    ErrorCode, Ssl, SslContext, SslMethod, SslOptions, SslStream, SslVerifyMode, SslVersion,
};
use openssl::x509::X509;
use rtcweb_dtls::{
    Certificate, DtlsEndpoint, DtlsVersion, Error, Event, HashFunction, Role, SrtpKeyingMaterial,
    SrtpProfile, State, VersionPolicy, fingerprint_of,
};

/// A datagram pipe: each `write` is one datagram out, each `read` returns one datagram in.
#[derive(Clone, Default)]
struct Pipe {
    inbox: Rc<RefCell<VecDeque<Vec<u8>>>>,
    outbox: Rc<RefCell<VecDeque<Vec<u8>>>>,
}

impl Read for Pipe {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let Some(d) = self.inbox.borrow_mut().pop_front() else {
            return Err(io::ErrorKind::WouldBlock.into());
        };
        let n = d.len().min(buf.len());
        buf[..n].copy_from_slice(&d[..n]);
        Ok(n)
    }
}

impl Write for Pipe {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.outbox.borrow_mut().push_back(buf.to_vec());
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

fn openssl_ssl(openssl_cert: &Certificate, srtp_profiles: &str, ciphers: &str) -> Ssl {
    let mut ctx = SslContext::builder(SslMethod::dtls()).unwrap();
    ctx.set_max_proto_version(Some(SslVersion::DTLS1_2))
        .unwrap();
    ctx.set_certificate(&X509::from_der(openssl_cert.der()).unwrap())
        .unwrap();
    ctx.set_private_key(&PKey::private_key_from_der(openssl_cert.private_key_der()).unwrap())
        .unwrap();
    // WebRTC: both sides present self-signed certificates, trusted by fingerprint (checked
    // below), so accept any chain but insist on a certificate.
    ctx.set_verify_callback(
        SslVerifyMode::PEER | SslVerifyMode::FAIL_IF_NO_PEER_CERT,
        |_, _| true,
    );
    ctx.set_tlsext_use_srtp(srtp_profiles).unwrap();
    ctx.set_cipher_list(ciphers).unwrap();
    // Use our MTU instead of asking the (in-memory) BIO for one.
    ctx.set_options(SslOptions::NO_QUERY_MTU);
    let mut ssl = Ssl::new(&ctx.build()).unwrap();
    ssl.set_mtu(1200).unwrap();
    ssl
}

/// OpenSSL in the role opposite to ours, over `pipe`.
fn openssl_stream(
    our_role: Role,
    their_cert: &Certificate,
    srtp: &str,
    pipe: &Pipe,
) -> SslStream<Pipe> {
    openssl_stream_with(our_role, their_cert, srtp, ALL_SUITES, pipe)
}

/// The three ECDSA AEAD suites both implement, in OpenSSL's default order.
const ALL_SUITES: &str =
    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-ECDSA-AES128-GCM-SHA256";

fn openssl_stream_with(
    our_role: Role,
    their_cert: &Certificate,
    srtp: &str,
    ciphers: &str,
    pipe: &Pipe,
) -> SslStream<Pipe> {
    let mut ssl = openssl_ssl(their_cert, srtp, ciphers);
    match our_role {
        Role::Client => ssl.set_accept_state(),
        Role::Server => ssl.set_connect_state(),
    }
    SslStream::new(ssl, pipe.clone()).unwrap()
}

/// One handshake step for OpenSSL: `true` once done; panics on a real error.
fn openssl_step(theirs: &mut SslStream<Pipe>) -> bool {
    match theirs.do_handshake() {
        Ok(()) => true,
        Err(e) if e.code() == ErrorCode::WANT_READ => false,
        Err(e) => panic!("openssl handshake: {e}"),
    }
}

struct Run {
    our_cert: Certificate,
    ours: DtlsEndpoint,
    ours_events: Vec<Event>,
    theirs: SslStream<Pipe>,
    pipe: Pipe,
    now: Instant,
    max_datagram: usize,
}

impl Run {
    /// Moves datagrams both ways until neither side has anything to send.
    fn pump(&mut self) {
        loop {
            let mut moved = false;
            while let Some(d) = self.ours.poll_transmit() {
                self.max_datagram = self.max_datagram.max(d.len());
                self.pipe.inbox.borrow_mut().push_back(d);
                moved = true;
            }
            let from_openssl: Vec<_> = self.pipe.outbox.borrow_mut().drain(..).collect();
            for d in from_openssl {
                self.ours.handle_input(self.now, &d);
                moved = true;
            }
            self.ours_events
                .extend(std::iter::from_fn(|| self.ours.poll_event()));
            if !moved {
                return;
            }
        }
    }
}

/// Runs a handshake between our endpoint in `role` and OpenSSL in the other.
fn handshake(role: Role, version: VersionPolicy, srtp_profiles: &str) -> Run {
    handshake_with(role, version, srtp_profiles, ALL_SUITES)
}

fn handshake_with(role: Role, version: VersionPolicy, srtp_profiles: &str, ciphers: &str) -> Run {
    let (our_cert, their_cert) = (cert(1), cert(2));
    let pipe = Pipe::default();
    let mut theirs = openssl_stream_with(role, &their_cert, srtp_profiles, ciphers, &pipe);
    let now = Instant::now();
    let mut ours = endpoint(
        &config(version, 31),
        &our_cert,
        role,
        vec![their_cert.fingerprint().clone()],
        now,
    )
    .unwrap();
    let mut ours_events = Vec::new();
    let mut done = false;
    for _ in 0..100 {
        while let Some(d) = ours.poll_transmit() {
            pipe.inbox.borrow_mut().push_back(d);
        }
        done = done || openssl_step(&mut theirs);
        let from_openssl: Vec<_> = pipe.outbox.borrow_mut().drain(..).collect();
        for d in &from_openssl {
            ours.handle_input(now, d);
        }
        ours_events.extend(std::iter::from_fn(|| ours.poll_event()));
        assert!(
            !matches!(ours.state(), State::Failed(_)),
            "ours ({role:?} {version:?}): {:?}",
            ours.state()
        );
        if done && ours.state() == &State::Connected && from_openssl.is_empty() {
            break;
        }
    }
    assert!(done, "openssl never finished ({role:?} {version:?})");
    assert_eq!(ours.state(), &State::Connected, "{role:?} {version:?}");
    let mut run = Run {
        our_cert,
        ours,
        ours_events,
        theirs,
        pipe,
        now,
        max_datagram: 0,
    };
    run.pump();
    run
}

/// OpenSSL's view of the keys, split per RFC 5764 section 4.2 the same way.
fn openssl_keys(theirs: &SslStream<Pipe>, openssl_role: Role) -> SrtpKeyingMaterial {
    let ssl = theirs.ssl();
    let name = ssl
        .selected_srtp_profile()
        .expect("OpenSSL negotiated use_srtp")
        .name();
    let profile = match name {
        "SRTP_AES128_CM_SHA1_80" => SrtpProfile::Aes128CmHmacSha1_80,
        "SRTP_AEAD_AES_128_GCM" => SrtpProfile::AeadAes128Gcm,
        "SRTP_AEAD_AES_256_GCM" => SrtpProfile::AeadAes256Gcm,
        other => panic!("unexpected profile {other}"),
    };
    let mut exported = vec![0; profile.keying_material_len()];
    ssl.export_keying_material(&mut exported, "EXTRACTOR-dtls_srtp", None)
        .unwrap();
    SrtpKeyingMaterial::from_exported(profile, openssl_role, &exported).unwrap()
}

fn other(role: Role) -> Role {
    match role {
        Role::Client => Role::Server,
        Role::Server => Role::Client,
    }
}

#[test]
fn both_roles_export_identical_srtp_keys_for_every_profile() {
    let profiles = [
        ("SRTP_AEAD_AES_256_GCM", SrtpProfile::AeadAes256Gcm),
        ("SRTP_AEAD_AES_128_GCM", SrtpProfile::AeadAes128Gcm),
        ("SRTP_AES128_CM_SHA1_80", SrtpProfile::Aes128CmHmacSha1_80),
    ];
    let cases = [Role::Client, Role::Server]
        .into_iter()
        .flat_map(|role| ALL_SUITES.split(':').map(move |suite| (role, suite)));
    for (role, suite) in cases {
        for version in [VersionPolicy::Dtls12, VersionPolicy::Auto] {
            for (openssl_name, profile) in profiles {
                let run = handshake_with(role, version, openssl_name, suite);
                assert_eq!(run.theirs.ssl().current_cipher().unwrap().name(), suite);
                let ctx = format!("{role:?} {version:?} {suite} {openssl_name}");
                assert_eq!(run.ours.version(), Some(DtlsVersion::Dtls12), "{ctx}");
                let ours = run
                    .ours_events
                    .iter()
                    .find_map(|e| match e {
                        Event::Connected { srtp, .. } => srtp.clone(),
                        _ => None,
                    })
                    .expect("keys");
                let theirs = openssl_keys(&run.theirs, other(role));
                assert_eq!(ours.profile, profile, "{ctx}");
                assert_eq!(ours.local, theirs.remote, "{ctx}");
                assert_eq!(ours.remote, theirs.local, "{ctx}");
                // Each side holds the other's certificate.
                let peer = run
                    .theirs
                    .ssl()
                    .peer_certificate()
                    .expect("OpenSSL saw our cert");
                let digest = peer.digest(MessageDigest::sha256()).unwrap();
                assert_eq!(&digest[..], run.our_cert.fingerprint().value(), "{ctx}");
            }
        }
    }
}

#[test]
fn gcm_is_preferred_when_openssl_offers_everything() {
    // OpenSSL lists CM first. As a DTLS 1.2 server we still pick GCM (dimpl's fixed order). As
    // a client we offer GCM first, but an OpenSSL server picks by its own list: CM here.
    let all = "SRTP_AES128_CM_SHA1_80:SRTP_AEAD_AES_128_GCM:SRTP_AEAD_AES_256_GCM";
    for role in [Role::Client, Role::Server] {
        let run = handshake(role, VersionPolicy::Auto, all);
        let profile = run.ours.srtp_keying_material().unwrap().profile;
        let want = match role {
            Role::Server => SrtpProfile::AeadAes256Gcm,
            Role::Client => SrtpProfile::Aes128CmHmacSha1_80,
        };
        assert_eq!(profile, want, "{role:?}");
        assert_eq!(openssl_keys(&run.theirs, other(role)).profile, profile);
    }
}

#[test]
fn application_data_and_close_notify_both_ways() {
    for role in [Role::Client, Role::Server] {
        let mut run = handshake(role, VersionPolicy::Auto, "SRTP_AEAD_AES_128_GCM");
        run.ours.send(b"from rtcweb").unwrap();
        run.pump();
        let mut buf = [0u8; 2048];
        let n = run.theirs.ssl_read(&mut buf).unwrap();
        assert_eq!(&buf[..n], b"from rtcweb");

        let big = vec![0x5a; 1100];
        run.theirs.ssl_write(b"from openssl").unwrap();
        run.theirs.ssl_write(&big).unwrap();
        run.pump();
        let data: Vec<_> = run
            .ours_events
            .iter()
            .filter_map(|e| match e {
                Event::ApplicationData(d) => Some(d.clone()),
                _ => None,
            })
            .collect();
        assert_eq!(data, vec![b"from openssl".to_vec(), big]);

        if role == Role::Client {
            // OpenSSL closes; we see it and answer with our own close_notify.
            run.theirs.shutdown().unwrap();
            run.pump();
            assert!(run.ours_events.contains(&Event::Closed), "{role:?}");
            assert_eq!(run.ours.state(), &State::Closed);
        } else {
            run.ours.close();
            run.pump();
            let err = run.theirs.ssl_read(&mut buf).unwrap_err();
            assert_eq!(err.code(), ErrorCode::ZERO_RETURN, "{role:?}: {err}");
        }
        assert!(run.max_datagram <= 1200);
    }
}

#[test]
fn openssl_with_an_unexpected_certificate_is_rejected() {
    // Our endpoint expects some other certificate: the handshake must fail on our side with
    // FingerprintMismatch and export nothing.
    for role in [Role::Client, Role::Server] {
        let (our_cert, their_cert, expected) = (cert(1), cert(2), cert(3));
        let pipe = Pipe::default();
        let mut theirs = openssl_stream(role, &their_cert, "SRTP_AEAD_AES_128_GCM", &pipe);
        let now = Instant::now();
        let mut ours = endpoint(
            &config(VersionPolicy::Auto, 32),
            &our_cert,
            role,
            vec![fingerprint_of(HashFunction::Sha256, expected.der())],
            now,
        )
        .unwrap();
        let mut events = Vec::new();
        for _ in 0..20 {
            while let Some(d) = ours.poll_transmit() {
                pipe.inbox.borrow_mut().push_back(d);
            }
            // OpenSSL may finish (as a DTLS 1.2 client it completes before we check) or not;
            // only our side matters here.
            let _ = theirs.do_handshake();
            let from_openssl: Vec<_> = pipe.outbox.borrow_mut().drain(..).collect();
            for d in &from_openssl {
                ours.handle_input(now + Duration::from_millis(1), d);
            }
            events.extend(std::iter::from_fn(|| ours.poll_event()));
        }
        assert_eq!(
            ours.state(),
            &State::Failed(Error::FingerprintMismatch),
            "{role:?}"
        );
        assert!(ours.srtp_keying_material().is_none());
        assert!(!events.iter().any(|e| matches!(e, Event::Connected { .. })));
    }
}

/// TLS 1.2 PRF with SHA-256 (RFC 5246 section 5).
fn prf_sha256(secret: &[u8], label: &[u8], seed: &[u8], len: usize) -> Vec<u8> {
    use openssl::sign::Signer;
    let key = PKey::hmac(secret).unwrap();
    let hmac = |data: &[u8]| {
        let mut s = Signer::new(MessageDigest::sha256(), &key).unwrap();
        s.update(data).unwrap();
        s.sign_to_vec().unwrap()
    };
    let seed = [label, seed].concat();
    let (mut a, mut out) = (hmac(&seed), Vec::new());
    while out.len() < len {
        out.extend(hmac(&[a.as_slice(), &seed].concat()));
        a = hmac(&a);
    }
    out.truncate(len);
    out
}

/// A DTLS 1.2 record of epoch 1 carrying `handshake` (a complete handshake message), encrypted
/// with AES-128-GCM under the keys of the session OpenSSL holds, as `from` would send it.
fn encrypted_handshake_record(theirs: &SslStream<Pipe>, from: Role, handshake: &[u8]) -> Vec<u8> {
    let ssl = theirs.ssl();
    let mut master = [0u8; 48];
    assert_eq!(ssl.session().unwrap().master_key(&mut master), 48);
    let (mut client_random, mut server_random) = ([0u8; 32], [0u8; 32]);
    ssl.client_random(&mut client_random);
    ssl.server_random(&mut server_random);
    // key_block: client key, server key (16 each), client IV, server IV (4 each).
    let block = prf_sha256(
        &master,
        b"key expansion",
        &[server_random, client_random].concat(),
        40,
    );
    let (key, salt) = match from {
        Role::Client => (&block[0..16], &block[32..36]),
        Role::Server => (&block[16..32], &block[36..40]),
    };
    // A sequence number far ahead of anything sent, inside the replay window's future.
    let (epoch, seq) = (1u16, 40u64);
    let mut seq_num = epoch.to_be_bytes().to_vec();
    seq_num.extend_from_slice(&seq.to_be_bytes()[2..]);
    let explicit = seq_num.clone();
    let nonce = [salt, explicit.as_slice()].concat();
    let mut aad = seq_num.clone();
    aad.extend_from_slice(&[22, 0xfe, 0xfd]);
    aad.extend_from_slice(&(handshake.len() as u16).to_be_bytes());
    let mut tag = [0u8; 16];
    let cipher = openssl::symm::Cipher::aes_128_gcm();
    let ct =
        openssl::symm::encrypt_aead(cipher, key, Some(&nonce), &aad, handshake, &mut tag).unwrap();
    let mut record = vec![22, 0xfe, 0xfd];
    record.extend_from_slice(&seq_num);
    record.extend_from_slice(&((8 + ct.len() + 16) as u16).to_be_bytes());
    record.extend_from_slice(&explicit);
    record.extend_from_slice(&ct);
    record.extend_from_slice(&tag);
    record
}

/// A peer that renegotiates (an authenticated, encrypted new handshake after the first one):
/// the session ends with `Error::Renegotiation`, not a silent second handshake.
#[test]
fn renegotiation_by_the_peer_is_a_clear_error() {
    for role in [Role::Client, Role::Server] {
        // One suite, so that we know the record protection to forge.
        let suite = "ECDHE-ECDSA-AES128-GCM-SHA256";
        let mut run = handshake_with(role, VersionPolicy::Dtls12, "SRTP_AEAD_AES_128_GCM", suite);
        assert_eq!(
            run.theirs.ssl().current_cipher().unwrap().name(),
            "ECDHE-ECDSA-AES128-GCM-SHA256"
        );
        // What OpenSSL would send to start a renegotiation: as a server a HelloRequest, as a
        // client a new ClientHello (an empty body is enough: dimpl refuses it by its header).
        let (msg_type, body): (u8, &[u8]) = match role {
            Role::Client => (0, &[]),
            Role::Server => (1, &[0xfe, 0xfd]),
        };
        let mut message = vec![msg_type];
        message.extend_from_slice(&(body.len() as u32).to_be_bytes()[1..]);
        message.extend_from_slice(&[0, 20]); // message_seq: beyond the first handshake
        message.extend_from_slice(&[0, 0, 0]);
        message.extend_from_slice(&(body.len() as u32).to_be_bytes()[1..]);
        message.extend_from_slice(body);
        let record = encrypted_handshake_record(&run.theirs, other(role), &message);
        run.ours.handle_input(run.now, &record);
        run.ours_events
            .extend(std::iter::from_fn(|| run.ours.poll_event()));
        assert_eq!(
            run.ours.state(),
            &State::Failed(Error::Renegotiation),
            "{role:?}"
        );
        assert!(
            run.ours_events
                .contains(&Event::Failed(Error::Renegotiation))
        );
        assert!(
            run.ours.srtp_keying_material().is_none(),
            "keys are dropped on failure"
        );
        assert!(run.ours.poll_transmit().is_none());
    }
}
