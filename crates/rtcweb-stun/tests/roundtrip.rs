//! Every attribute through the builder and back, unknown attributes, 420 reporting, integrity
#![allow(clippy::unwrap_used)] // helpers outside #[test] fns; tests may unwrap
//! variants and malformed input.

use std::net::SocketAddr;

use rtcweb_stun::attributes::{AddressFamily, RawPasswordAlgorithm};
use rtcweb_stun::{
    Attribute, AttributeType, Class, Error, ErrorCode, IntegrityKey, Message, MessageBuilder,
    MessageType, Method, PasswordAlgorithm, TransactionId, userhash,
};

const TID: TransactionId = TransactionId([0xA5, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 0xFF]);

fn all_attributes<'a>(hash: &'a [u8; 32], token: &'a [u8; 8]) -> Vec<Attribute<'a>> {
    let v4: SocketAddr = "192.0.2.1:32853".parse().unwrap();
    let v6: SocketAddr = "[2001:db8:1234:5678:11:2233:4455:6677]:443"
        .parse()
        .unwrap();
    vec![
        Attribute::MappedAddress(v4),
        Attribute::MappedAddress(v6),
        Attribute::XorMappedAddress(v4),
        Attribute::XorMappedAddress(v6),
        Attribute::Username("user\u{e9}"),
        Attribute::UserHash(hash),
        Attribute::ErrorCode(ErrorCode {
            code: 438,
            reason: "Stale Nonce",
        }),
        Attribute::Realm("example.org"),
        Attribute::Nonce("obMatJos2AAACf//499k954d6OL34oL9FSTvy64sA"),
        Attribute::PasswordAlgorithm(RawPasswordAlgorithm {
            algorithm: 2,
            params: &[],
        }),
        Attribute::PasswordAlgorithm(RawPasswordAlgorithm {
            algorithm: 9,
            params: &[1, 2, 3],
        }),
        Attribute::Software("rtcweb"),
        Attribute::AlternateServer(v6),
        Attribute::AlternateDomain("turn.example.org"),
        Attribute::ChannelNumber(0x4001),
        Attribute::Lifetime(600),
        Attribute::XorPeerAddress(v4),
        Attribute::XorPeerAddress(v6),
        Attribute::Data(b"payload!!"),
        Attribute::XorRelayedAddress(v6),
        Attribute::RequestedAddressFamily(AddressFamily::V6),
        Attribute::AdditionalAddressFamily(AddressFamily::V6),
        Attribute::AddressErrorCode(
            AddressFamily::V6,
            ErrorCode {
                code: 440,
                reason: "no v6",
            },
        ),
        Attribute::EvenPort(true),
        Attribute::EvenPort(false),
        Attribute::RequestedTransport(17),
        Attribute::DontFragment,
        Attribute::ReservationToken(token),
        Attribute::Icmp {
            icmp_type: 3,
            icmp_code: 4,
            error_data: 1400,
        },
        Attribute::ChangeRequest {
            change_ip: true,
            change_port: false,
        },
        Attribute::ChangeRequest {
            change_ip: false,
            change_port: true,
        },
        Attribute::ResponseOrigin(v4),
        Attribute::OtherAddress(v6),
        Attribute::ResponsePort(5000),
        Attribute::Padding(&[0; 11]),
        Attribute::CacheTimeout(60),
        Attribute::ThirdPartyAuthorization("https://as.example.org"),
        Attribute::AccessToken(&[1, 2, 3, 4, 5]),
        Attribute::Priority(0x6E0001FF),
        Attribute::UseCandidate,
        Attribute::IceControlled(0x932FF9B151263B36),
        Attribute::IceControlling(u64::MAX),
        Attribute::ConnectionId(77),
        Attribute::Unknown {
            typ: AttributeType(0x7F00),
            value: b"keep me",
        },
        Attribute::Unknown {
            typ: AttributeType(0xC001),
            value: &[],
        },
    ]
}

#[test]
fn every_attribute_round_trips() {
    let hash = userhash("user", "example.org");
    let token = [9u8; 8];
    let attrs = all_attributes(&hash, &token);
    let mut buf = vec![0u8; 2048];
    let typ = MessageType::new(Method::ALLOCATE, Class::Request);
    let mut b = MessageBuilder::new(&mut buf, typ, TID).unwrap();
    for a in &attrs {
        b.attribute(a).unwrap();
    }
    b.password_algorithms(&[
        RawPasswordAlgorithm {
            algorithm: 2,
            params: &[],
        },
        RawPasswordAlgorithm {
            algorithm: 1,
            params: &[],
        },
    ])
    .unwrap();
    b.unknown_attributes(&[AttributeType(0x7F00), AttributeType(0x0042)])
        .unwrap();
    let key =
        IntegrityKey::long_term("user", "example.org", "pw", PasswordAlgorithm::Sha256).unwrap();
    b.message_integrity(&key).unwrap();
    b.message_integrity_sha256(&key).unwrap();
    b.fingerprint().unwrap();
    let n = b.finish();

    let msg = Message::new_checked(&buf[..n]).unwrap();
    assert_eq!(msg.message_type(), typ);
    assert_eq!(msg.transaction_id(), TID);
    let parsed: Vec<Attribute<'_>> = msg
        .attributes()
        .map(|a| Attribute::parse(a.typ, a.value, &TID).unwrap())
        .collect();
    assert_eq!(&parsed[..attrs.len()], &attrs[..]);
    match parsed[attrs.len()] {
        Attribute::PasswordAlgorithms(l) => {
            let algs: Vec<u16> = l.iter().map(|a| a.algorithm).collect();
            assert_eq!(algs, vec![2, 1]);
        }
        ref other => panic!("{other:?}"),
    }
    match parsed[attrs.len() + 1] {
        Attribute::UnknownAttributes(l) => {
            assert_eq!(
                l.iter().collect::<Vec<_>>(),
                vec![AttributeType(0x7F00), AttributeType(0x0042)]
            )
        }
        ref other => panic!("{other:?}"),
    }
    msg.verify_message_integrity(&key).unwrap();
    msg.verify_message_integrity_sha256(&key).unwrap();
    msg.verify_integrity(&key).unwrap();
    msg.verify_fingerprint().unwrap();

    // The comprehension-required unknown (0x7F00) is reported; 0xC001 is optional.
    assert_eq!(
        msg.unknown_comprehension_required().collect::<Vec<_>>(),
        vec![AttributeType(0x7F00)]
    );

    // Re-encoding the parsed list gives identical octets (all padding is zero here).
    let mut again = vec![0u8; 2048];
    let mut b = MessageBuilder::new(&mut again, typ, TID).unwrap();
    for a in msg.attributes() {
        match a.typ {
            AttributeType::MESSAGE_INTEGRITY => b.message_integrity(&key).unwrap(),
            AttributeType::MESSAGE_INTEGRITY_SHA256 => b.message_integrity_sha256(&key).unwrap(),
            AttributeType::FINGERPRINT => b.fingerprint().unwrap(),
            _ => b
                .attribute(&Attribute::parse(a.typ, a.value, &TID).unwrap())
                .unwrap(),
        }
    }
    let m = b.finish();
    assert_eq!(&again[..m], &buf[..n]);
}

#[test]
fn tampering_is_detected() {
    let key = IntegrityKey::short_term("secret");
    let mut buf = [0u8; 128];
    let mut b = MessageBuilder::new(&mut buf, MessageType::BINDING_REQUEST, TID).unwrap();
    b.attribute(&Attribute::Username("a:b")).unwrap();
    b.message_integrity(&key).unwrap();
    b.message_integrity_sha256(&key).unwrap();
    b.fingerprint().unwrap();
    let n = b.finish();
    for i in 0..n {
        let mut copy = buf[..n].to_vec();
        copy[i] ^= 0x01;
        let Ok(msg) = Message::new_checked(&copy[..]) else {
            continue;
        };
        let ok = msg.verify_message_integrity(&key).is_ok()
            && msg.verify_message_integrity_sha256(&key).is_ok()
            && msg.verify_fingerprint().is_ok();
        assert!(!ok, "flip at {i} went unnoticed");
    }
}

#[test]
fn truncated_sha256_integrity_verifies() {
    // A 16-octet MESSAGE-INTEGRITY-SHA256 (the minimum RFC 8489 allows), built by hand.
    let key = IntegrityKey::short_term("k");
    let mut full = [0u8; 128];
    let mut b = MessageBuilder::new(&mut full, MessageType::BINDING_REQUEST, TID).unwrap();
    b.message_integrity_sha256(&key).unwrap();
    let n = b.finish();
    // Recompute over the header with the length of a 16-octet value.
    let mut trunc = full[..20].to_vec();
    trunc[2..4].copy_from_slice(&20u16.to_be_bytes());
    let tag = aws_lc_rs::hmac::sign(
        &aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, b"k"),
        &trunc,
    );
    trunc.extend_from_slice(&[0x00, 0x1C, 0x00, 0x10]);
    trunc.extend_from_slice(&tag.as_ref()[..16]);
    let msg = Message::new_checked(&trunc[..]).unwrap();
    msg.verify_message_integrity_sha256(&key).unwrap();
    assert_eq!(n, 20 + 36);
}

#[test]
fn attributes_after_integrity_are_ignored() {
    let key = IntegrityKey::short_term("k");
    let mut buf = [0u8; 128];
    let mut b = MessageBuilder::new(&mut buf, MessageType::BINDING_REQUEST, TID).unwrap();
    b.message_integrity(&key).unwrap();
    assert_eq!(
        b.attribute(&Attribute::Priority(1)),
        Err(Error::AttributeAfterIntegrity)
    );
    let n = b.finish();
    // Append a PRIORITY after MESSAGE-INTEGRITY by hand.
    let mut v = buf[..n].to_vec();
    v.extend_from_slice(&[0x00, 0x24, 0x00, 0x04, 0, 0, 0, 1]);
    let len = (v.len() - 20) as u16;
    v[2..4].copy_from_slice(&len.to_be_bytes());
    let msg = Message::new_checked(&v[..]).unwrap();
    assert!(msg.get(AttributeType::PRIORITY).is_none());
    msg.verify_message_integrity(&key).unwrap();
}

#[test]
fn fingerprint_must_be_last() {
    let mut buf = [0u8; 64];
    let mut b = MessageBuilder::new(&mut buf, MessageType::BINDING_REQUEST, TID).unwrap();
    b.fingerprint().unwrap();
    let n = b.finish();
    let mut v = buf[..n].to_vec();
    v.extend_from_slice(&[0x80, 0x22, 0x00, 0x00]);
    let len = (v.len() - 20) as u16;
    v[2..4].copy_from_slice(&len.to_be_bytes());
    assert_eq!(
        Message::new_checked(&v[..]).unwrap_err(),
        Error::FingerprintNotLast
    );
}

#[test]
fn malformed_input_is_an_error() {
    let mut buf = [0u8; 64];
    let mut b = MessageBuilder::new(&mut buf, MessageType::BINDING_REQUEST, TID).unwrap();
    b.attribute(&Attribute::Software("x")).unwrap();
    let n = b.finish();
    let good = buf[..n].to_vec();
    assert!(Message::new_checked(&good[..]).is_ok());
    // Every truncation fails cleanly.
    for cut in 0..n {
        assert!(Message::new_checked(&good[..cut]).is_err());
    }
    // Oversized: trailing octets.
    let mut long = good.clone();
    long.push(0);
    assert_eq!(
        Message::new_checked(&long[..]).unwrap_err(),
        Error::BadLength
    );
    // Bad cookie, bad top bits, length not a multiple of 4, attribute overrun.
    let mut v = good.clone();
    v[4] ^= 1;
    assert_eq!(Message::new_checked(&v[..]).unwrap_err(), Error::NotStun);
    let mut v = good.clone();
    v[0] |= 0x80;
    assert_eq!(Message::new_checked(&v[..]).unwrap_err(), Error::NotStun);
    let mut v = good.clone();
    v[3] = 5;
    assert!(Message::new_checked(&v[..]).is_err());
    let mut v = good.clone();
    v[23] = 200;
    assert_eq!(
        Message::new_checked(&v[..]).unwrap_err(),
        Error::AttributeOverrun(0x8022)
    );
    // Malformed values decode to errors, not panics.
    let bad_values: &[(u16, &[u8])] = &[
        (0x0001, &[0, 1, 0]),
        (0x0020, &[0, 3, 0, 0, 1, 2, 3, 4]),
        (0x0020, &[0, 2, 0, 0, 1, 2, 3, 4]),
        (0x0009, &[0, 0, 7, 0]),
        (0x0009, &[0, 0, 4, 100]),
        (0x0009, &[0, 0, 4, 1, 0xFF]),
        (0x0006, &[0xC3, 0x28]),
        (0x001D, &[0, 1, 0, 8, 1]),
        (0x8002, &[0, 1, 0, 0, 0]),
        (0x000A, &[0, 1, 0]),
        (0x0018, &[]),
        (0x001A, &[1]),
        (0x0025, &[1]),
        (0x0017, &[3, 0, 0, 0]),
        (0x8004, &[0; 7]),
        (0x001C, &[0; 12]),
        (0x0008, &[0; 19]),
    ];
    for (t, v) in bad_values {
        assert_eq!(
            Attribute::parse(AttributeType(*t), v, &TID),
            Err(Error::BadAttribute(*t)),
            "type 0x{t:04x}"
        );
    }
}

#[test]
fn builder_refuses_small_buffers_and_bad_values() {
    let mut tiny = [0u8; 10];
    assert_eq!(
        MessageBuilder::new(&mut tiny, MessageType::BINDING_REQUEST, TID).unwrap_err(),
        Error::BufferTooSmall
    );
    let mut buf = [0u8; 30];
    let mut b = MessageBuilder::new(&mut buf, MessageType::BINDING_REQUEST, TID).unwrap();
    assert_eq!(
        b.attribute(&Attribute::Software("too long for this")),
        Err(Error::BufferTooSmall)
    );
    assert_eq!(
        b.attribute(&Attribute::ErrorCode(ErrorCode {
            code: 200,
            reason: ""
        })),
        Err(Error::BadAttribute(0x0009))
    );
    // A failed attribute leaves the message as it was.
    assert_eq!(b.len(), 20);
    let n = b.finish();
    assert!(Message::new_checked(&buf[..n]).is_ok());
}
