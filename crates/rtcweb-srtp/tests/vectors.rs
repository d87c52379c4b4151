//! Published and cross-implementation vectors: RFC 3711 appendix B.2/B.3, RFC 6188 section 7,
//! RFC 7714 sections 16-17, and packets protected by libsrtp2 2.5.0.
#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

mod common;

use common::{LIBSRTP, RFC3711, RFC6188, RFC7714, Record, by_name, records};
use rtcweb_srtp::kdf::{self, Label};
use rtcweb_srtp::{
    Config, DirectionKeys, Error, KeyKind, MasterKey, ProtectionProfile, Session, SessionKeys,
};

fn profile_named(name: &str) -> ProtectionProfile {
    match name {
        "SRTP_AES128_CM_HMAC_SHA1_80" | "AES_CM_128_HMAC_SHA1_80" => {
            ProtectionProfile::Aes128CmHmacSha1_80
        }
        "SRTP_AES128_CM_HMAC_SHA1_32" => ProtectionProfile::Aes128CmHmacSha1_32,
        "SRTP_AEAD_AES_128_GCM" | "AEAD_AES_128_GCM" => ProtectionProfile::AeadAes128Gcm,
        "SRTP_AEAD_AES_256_GCM" | "AEAD_AES_256_GCM" => ProtectionProfile::AeadAes256Gcm,
        other => panic!("unknown profile {other}"),
    }
}

/// A session whose both directions use the given session keys (KDF bypassed).
fn raw_session(profile: ProtectionProfile, key: &[u8], salt: &[u8], auth: &[u8]) -> Session {
    let keys = SessionKeys::from_raw(profile, key, salt, auth).unwrap();
    let dir = DirectionKeys {
        srtp: keys.clone(),
        srtcp: keys,
    };
    Session::with_session_keys(profile, &dir, &dir, Config::default()).unwrap()
}

#[test]
fn rfc3711_b2_aes_cm_keystream() {
    let recs = records(RFC3711);
    let r = by_name(&recs, "rfc3711-b2-aes-cm-keystream");
    let total = r.int("keystream_octets") as usize;
    // SSRC = ROC = SEQ = 0: encrypting zeros yields the keystream itself.
    let mut s = raw_session(
        ProtectionProfile::Aes128CmHmacSha1_80,
        &r.hex("session_key"),
        &r.hex("session_salt"),
        &[0; 20],
    );
    let mut buf = vec![0u8; 12 + total + 10];
    buf[0] = 0x80;
    let n = s.protect_rtp(&mut buf, 12 + total).unwrap();
    assert_eq!(n, 12 + total + 10);
    let ks = &buf[12..12 + total];
    let head = r.hex("keystream_head");
    assert_eq!(&ks[..head.len()], &head[..]);
    let tail_at = r.int("keystream_tail_offset") as usize;
    assert_eq!(&ks[tail_at..], &r.hex("keystream_tail")[..]);
    let mut blocks = 0;
    for b in recs
        .iter()
        .filter(|b| b.name().starts_with("rfc3711-b2-block-"))
    {
        let i = b.int("block_index") as usize;
        assert_eq!(
            &ks[16 * i..16 * i + 16],
            &b.hex("keystream")[..],
            "{}",
            b.name()
        );
        blocks += 1;
    }
    assert_eq!(blocks, 6);
}

#[test]
fn rfc3711_b3_key_derivation() {
    let recs = records(RFC3711);
    for (name, label) in [
        ("rfc3711-b3-cipher-key", Label::SrtpEncryption),
        ("rfc3711-b3-cipher-salt", Label::SrtpSalt),
        ("rfc3711-b3-auth-key", Label::SrtpAuthentication),
    ] {
        let r = by_name(&recs, name);
        let mut out = vec![0u8; r.int("output_length") as usize];
        kdf::derive(&r.hex("master_key"), &r.hex("master_salt"), label, &mut out).unwrap();
        assert_eq!(out, r.hex("output"), "{name}");
    }
    // The same through the session-key API (auth key: the 20 octets HMAC-SHA1 uses).
    let r = by_name(&recs, "rfc3711-b3-cipher-key");
    let p = ProtectionProfile::Aes128CmHmacSha1_80;
    let master = MasterKey::new(p, &r.hex("master_key"), &r.hex("master_salt")).unwrap();
    let keys = SessionKeys::derive(p, &master, KeyKind::Srtp).unwrap();
    assert_eq!(keys.cipher_key(), &r.hex("output")[..]);
    assert_eq!(
        keys.salt(),
        &by_name(&recs, "rfc3711-b3-cipher-salt").hex("output")[..]
    );
    assert_eq!(
        keys.auth_key(),
        &by_name(&recs, "rfc3711-b3-auth-key").hex("output_first_20")[..]
    );
}

#[test]
fn rfc6188_aes256_keystream_and_kdf() {
    let recs = records(RFC6188);
    // 7.1: the AES-256-CM keystream with IV = salt * 2^16 is the PRF output for label 0.
    let r = by_name(&recs, "rfc6188-7.1-aes-256-cm-keystream");
    let head = r.hex("keystream_head");
    let mut out = vec![0u8; head.len()];
    kdf::derive(
        &r.hex("session_key"),
        &r.hex("session_salt"),
        Label::SrtpEncryption,
        &mut out,
    )
    .unwrap();
    assert_eq!(out, head);
    // 7.2: AES_256_CM_PRF key derivation.
    let r = by_name(&recs, "rfc6188-7.2-aes-256-cm-prf-kdf");
    let (mk, ms) = (r.hex("master_key"), r.hex("master_salt"));
    for (key, label) in [
        ("cipher_key", Label::SrtpEncryption),
        ("cipher_salt", Label::SrtpSalt),
        ("auth_key", Label::SrtpAuthentication),
    ] {
        let want = r.hex(key);
        let mut out = vec![0u8; want.len()];
        kdf::derive(&mk, &ms, label, &mut out).unwrap();
        assert_eq!(out, want, "{key}");
    }
}

fn rfc7714_session(r: &Record) -> Session {
    raw_session(
        profile_named(r.str("profile")),
        &r.hex("session_key"),
        &r.hex("session_salt"),
        &[],
    )
}

#[test]
fn rfc7714_section16_srtp_gcm() {
    let recs = records(RFC7714);
    let mut checked = 0;
    for r in recs
        .iter()
        .filter(|r| r.str("packet_type") == "rtp" && r.str("encrypted") == "true")
    {
        let (plain, protected) = (r.hex("plain_packet"), r.hex("protected_packet"));
        let mut s = rfc7714_session(r);
        let mut buf = plain.clone();
        s.protect_rtp_vec(&mut buf).unwrap();
        assert_eq!(buf, protected, "{} protect", r.name());
        let mut s = rfc7714_session(r);
        s.unprotect_rtp_vec(&mut buf).unwrap();
        assert_eq!(buf, plain, "{} unprotect", r.name());
        checked += 1;
    }
    assert_eq!(checked, 2);
}

#[test]
fn rfc7714_section17_srtcp_gcm() {
    let recs = records(RFC7714);
    let mut checked = 0;
    for r in recs.iter().filter(|r| r.str("packet_type") == "rtcp") {
        let (plain, protected) = (r.hex("plain_packet"), r.hex("protected_packet"));
        let index = r.int("srtcp_index") as u32;
        // Receive: E = 1 (17.1, 17.2) and E = 0 (17.3, 17.4) packets both verify.
        let mut s = rfc7714_session(r);
        let mut buf = protected.clone();
        s.unprotect_rtcp_vec(&mut buf).unwrap();
        assert_eq!(buf, plain, "{} unprotect", r.name());
        // A flipped tag bit fails.
        let mut bad = protected.clone();
        let tag_at = bad.len() - 4 - 16;
        bad[tag_at] ^= 1;
        let mut s = rfc7714_session(r);
        assert_eq!(
            s.unprotect_rtcp_vec(&mut bad),
            Err(Error::AuthenticationFailed)
        );
        // Send (always E = 1): the session's own index reaches the vector's after `index`
        // packets.
        if r.str("encrypted") == "true" {
            let mut s = rfc7714_session(r);
            for _ in 0..index {
                s.protect_rtcp_vec(&mut plain.clone()).unwrap();
            }
            let mut buf = plain.clone();
            s.protect_rtcp_vec(&mut buf).unwrap();
            assert_eq!(buf, protected, "{} protect", r.name());
        }
        checked += 1;
    }
    assert_eq!(checked, 4);
}

fn libsrtp_session(r: &Record) -> (ProtectionProfile, Session) {
    let p = profile_named(r.str("profile"));
    let m = MasterKey::new(p, &r.hex("master_key"), &r.hex("master_salt")).unwrap();
    (p, Session::new(p, &m, &m, Config::default()).unwrap())
}

#[test]
fn libsrtp2_rtp_packets() {
    let recs = records(LIBSRTP);
    let mut checked = 0;
    for r in recs.iter().filter(|r| r.str("packet_type") == "rtp") {
        let (p, mut s) = libsrtp_session(r);
        // Session keys match the recomputed ones (GCM: master_salt || 0x0000 in the KDF).
        let m = MasterKey::new(p, &r.hex("master_key"), &r.hex("master_salt")).unwrap();
        let keys = SessionKeys::derive(p, &m, KeyKind::Srtp).unwrap();
        assert_eq!(keys.cipher_key(), &r.hex("session_key")[..], "{}", r.name());
        assert_eq!(keys.salt(), &r.hex("session_salt")[..], "{}", r.name());
        if let Some(auth) = r.get("session_auth_key") {
            assert_eq!(keys.auth_key(), &common::hex(auth)[..]);
        }
        assert_eq!(r.int("auth_tag_length") as usize, p.rtp_tag_len());
        let (plain, protected) = (r.hex("plain_packet"), r.hex("protected_packet"));
        let mut buf = plain.clone();
        s.protect_rtp_vec(&mut buf).unwrap();
        assert_eq!(buf, protected, "{} protect", r.name());
        s.unprotect_rtp_vec(&mut buf).unwrap();
        assert_eq!(buf, plain, "{} unprotect", r.name());
        checked += 1;
    }
    assert_eq!(checked, 4);
}

#[test]
fn libsrtp2_rtcp_packets() {
    let recs = records(LIBSRTP);
    let mut checked = 0;
    for r in recs.iter().filter(|r| r.name().ends_with("rtcp-index-1")) {
        let second = by_name(&recs, &r.name().replace("index-1", "index-2"));
        let (p, mut tx) = libsrtp_session(r);
        let m = MasterKey::new(p, &r.hex("master_key"), &r.hex("master_salt")).unwrap();
        let keys = SessionKeys::derive(p, &m, KeyKind::Srtcp).unwrap();
        assert_eq!(keys.cipher_key(), &r.hex("srtcp_session_key")[..]);
        assert_eq!(keys.salt(), &r.hex("srtcp_session_salt")[..]);
        if let Some(auth) = r.get("srtcp_session_auth_key") {
            assert_eq!(keys.auth_key(), &common::hex(auth)[..]);
        }
        let plain = r.hex("plain_packet");
        // libsrtp starts at SRTCP index 1, we at 0 (RFC 3711 section 3.4): skip one.
        tx.protect_rtcp_vec(&mut plain.clone()).unwrap();
        let (_, mut rx) = libsrtp_session(r);
        for rec in [r, second] {
            let mut buf = plain.clone();
            tx.protect_rtcp_vec(&mut buf).unwrap();
            assert_eq!(buf, rec.hex("protected_packet"), "{} protect", rec.name());
            let mut buf = rec.hex("protected_packet");
            rx.unprotect_rtcp_vec(&mut buf).unwrap();
            assert_eq!(buf, plain, "{} unprotect", rec.name());
        }
        // Both indices are now in the window.
        let mut again = r.hex("protected_packet");
        assert_eq!(
            rx.unprotect_rtcp_vec(&mut again),
            Err(Error::Replayed { index: 1 })
        );
        checked += 1;
    }
    assert_eq!(checked, 4);
}
