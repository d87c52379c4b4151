//! Values that cannot be used are refused where they enter, with a typed error, and leave
//! the connection as it was: a description without a usable fingerprint (none at all, or only
//! hash functions we do not implement), and a candidate string that does not parse.

#![allow(clippy::unwrap_used)] // test set-up

mod common;

use std::time::Instant;

use rtcweb::{Error, IceCandidateInit, PeerConnection, SessionDescription, SignalingState};
use rtcweb_core::ErrorCategory;
use rtcweb_jsep::{Error as JsepError, Mismatch};

fn pc(n: u8) -> PeerConnection {
    let mut pc = PeerConnection::new(common::config(u64::from(n))).unwrap();
    pc.add_local_address(Instant::now(), format!("192.0.2.{n}:5000").parse().unwrap());
    pc
}

/// `a` offers and `b` answers: both local descriptions set, and `b`'s remote one. Returns
/// the offer.
fn offer_answered(
    now: Instant,
    a: &mut PeerConnection,
    b: &mut PeerConnection,
) -> SessionDescription {
    let offer = a.create_offer().unwrap();
    a.set_local_description(now, &offer).unwrap();
    b.set_remote_description(now, &offer).unwrap();
    let answer = b.create_answer().unwrap();
    b.set_local_description(now, &answer).unwrap();
    offer
}

/// `sdp` with every `a=fingerprint` line replaced by `replacement` (or removed when `None`).
fn with_fingerprints(sdp: &str, replacement: Option<&str>) -> String {
    sdp.split_inclusive("\r\n")
        .filter_map(|l| match (l.starts_with("a=fingerprint:"), replacement) {
            (false, _) => Some(l.to_owned()),
            (true, Some(r)) => Some(format!("a=fingerprint:{r}\r\n")),
            (true, None) => None,
        })
        .collect()
}

/// A well-formed md5 fingerprint: RFC 8122 registers md5, browsers and we refuse it.
const MD5: &str = "md5 00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF";

fn is_unsupported_md5(e: &Error) -> bool {
    matches!(
        e,
        Error::Jsep(JsepError::SdpSyntax {
            value: Some(rtcweb_core::Error::UnsupportedHashFunction(name)),
            ..
        }) if name == "md5"
    )
}

#[test]
fn a_remote_offer_without_a_usable_fingerprint_is_refused() {
    let now = Instant::now();
    let mut a = pc(1);
    a.create_data_channel(now, "x", &Default::default())
        .unwrap();
    let offer = a.create_offer().unwrap();
    assert!(offer.sdp.contains("a=fingerprint:sha-256 "));

    let mut b = pc(2);
    let md5_only = SessionDescription::offer(with_fingerprints(&offer.sdp, Some(MD5)));
    let err = b.set_remote_description(now, &md5_only).unwrap_err();
    assert!(is_unsupported_md5(&err), "{err:?}");
    assert_eq!(b.signaling_state(), SignalingState::Stable);

    // A sha-256 fingerprint of the wrong length is malformed, not dropped.
    let short = SessionDescription::offer(with_fingerprints(&offer.sdp, Some("sha-256 AB:CD")));
    match b.set_remote_description(now, &short).unwrap_err() {
        Error::Jsep(JsepError::SdpSyntax { value: Some(v), .. }) => {
            assert_eq!(v.category(), ErrorCategory::Malformed)
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(b.signaling_state(), SignalingState::Stable);

    let none = SessionDescription::offer(with_fingerprints(&offer.sdp, None));
    let err = b.set_remote_description(now, &none).unwrap_err();
    assert!(
        matches!(&err, Error::Jsep(JsepError::InvalidDescription(why)) if why.contains("a=fingerprint")),
        "{err:?}"
    );
    assert_eq!(b.signaling_state(), SignalingState::Stable);

    // The offer as it was is fine.
    b.set_remote_description(now, &offer).unwrap();
    assert_eq!(b.signaling_state(), SignalingState::HaveRemoteOffer);
}

#[test]
fn a_remote_answer_without_a_usable_fingerprint_is_refused() {
    let now = Instant::now();
    let (mut a, mut b) = (pc(3), pc(4));
    a.create_data_channel(now, "x", &Default::default())
        .unwrap();
    let offer = a.create_offer().unwrap();
    a.set_local_description(now, &offer).unwrap();
    b.set_remote_description(now, &offer).unwrap();
    let answer = b.create_answer().unwrap();
    b.set_local_description(now, &answer).unwrap();

    let md5_only = SessionDescription::answer(with_fingerprints(&answer.sdp, Some(MD5)));
    let err = a.set_remote_description(now, &md5_only).unwrap_err();
    assert!(is_unsupported_md5(&err), "{err:?}");
    assert_eq!(a.signaling_state(), SignalingState::HaveLocalOffer);

    let none = SessionDescription::answer(with_fingerprints(&answer.sdp, None));
    let err = a.set_remote_description(now, &none).unwrap_err();
    assert!(
        matches!(
            err,
            Error::Jsep(JsepError::AnswerMismatch(Mismatch::NoFingerprint { .. }))
        ),
        "{err:?}"
    );
    assert_eq!(a.signaling_state(), SignalingState::HaveLocalOffer);

    a.set_remote_description(now, &answer).unwrap();
    assert_eq!(a.signaling_state(), SignalingState::Stable);
}

#[test]
fn a_candidate_that_does_not_parse_is_refused_not_dropped() {
    let now = Instant::now();
    let (mut a, mut b) = (pc(5), pc(6));
    a.create_data_channel(now, "x", &Default::default())
        .unwrap();
    offer_answered(now, &mut a, &mut b);
    let pairs = |pc: &PeerConnection| pc.stats(now).candidate_pairs.len();
    let before = pairs(&b);

    let init = |candidate: &str| IceCandidateInit {
        candidate: candidate.into(),
        sdp_mid: Some("0".into()),
        sdp_m_line_index: Some(0),
        username_fragment: None,
    };
    for (bad, category) in [
        (
            "candidate:1 1 udp notanumber 192.0.2.9 5000 typ host",
            ErrorCategory::Malformed,
        ),
        (
            "candidate:1 1 udp 1 example.com 5000 typ host",
            ErrorCategory::Malformed,
        ),
        // The W3C string has the `candidate:` prefix.
        (
            "1 1 udp 2122260223 192.0.2.9 5000 typ host",
            ErrorCategory::Malformed,
        ),
        (
            "candidate:1 1 sctp 2122260223 192.0.2.9 5000 typ host",
            ErrorCategory::Unsupported,
        ),
    ] {
        match b.add_ice_candidate(now, &init(bad)) {
            Err(Error::Value(e)) => assert_eq!(e.category(), category, "{bad}: {e}"),
            other => panic!("{bad}: {other:?}"),
        }
        assert_eq!(pairs(&b), before, "{bad}: a pair was formed");
    }

    // A well-formed TCP candidate (Firefox trickles them) is accepted, as browsers accept
    // it, but not paired: there is no ICE-TCP.
    b.add_ice_candidate(
        now,
        &init("candidate:2 1 tcp 1518280447 192.0.2.9 9 typ host tcptype active"),
    )
    .unwrap();
    assert_eq!(pairs(&b), before, "a TCP candidate was paired");

    // The same candidate written correctly is taken, and paired.
    b.add_ice_candidate(
        now,
        &init("candidate:1 1 udp 2122260223 192.0.2.9 5000 typ host"),
    )
    .unwrap();
    assert_eq!(pairs(&b), before + 1);
}

/// Every refusal says, by its category, what the caller can do about it, whichever layer
/// refused: the description is at fault, the call came in the wrong state, or the call named
/// something that does not exist.
#[test]
fn every_refusal_carries_a_category_from_the_layer_that_refused() {
    let now = Instant::now();
    let (mut a, mut b) = (pc(7), pc(8));
    let dc = a
        .create_data_channel(now, "x", &Default::default())
        .unwrap();
    let offer = a.create_offer().unwrap();

    // The fingerprint's hash function is one we do not implement (core, through JSEP).
    let md5_only = SessionDescription::offer(with_fingerprints(&offer.sdp, Some(MD5)));
    let err = b.set_remote_description(now, &md5_only).unwrap_err();
    assert_eq!(err.category(), ErrorCategory::Unsupported, "{err}");

    // An answer while nothing was offered (JSEP's state machine).
    let answer = SessionDescription::answer(offer.sdp.clone());
    let err = b.set_remote_description(now, &answer).unwrap_err();
    assert_eq!(err.category(), ErrorCategory::State, "{err}");

    // A description that is not SDP at all.
    let err = b
        .set_remote_description(now, &SessionDescription::offer("hello"))
        .unwrap_err();
    assert_eq!(err.category(), ErrorCategory::Malformed, "{err}");

    // Sending on a channel before the association is up (SCTP).
    let err = a.send_binary(now, dc, b"early").unwrap_err();
    assert_eq!(err.category(), ErrorCategory::State, "{err}");

    // The state is unchanged by all of it: the offer as it was is fine.
    b.set_remote_description(now, &offer).unwrap();
    assert_eq!(b.signaling_state(), SignalingState::HaveRemoteOffer);
}

/// A trickled candidate of an m= section bundled into another's transport is accepted but
/// not paired: a peer gathering per section until BUNDLE is negotiated
/// (Firefox's `balanced` policy) closes those transports once the answer accepts BUNDLE, and
/// a pair nominated on one of them would carry our DTLS records to a closed socket.
#[test]
fn a_candidate_of_a_bundled_sections_own_transport_is_not_paired() {
    use rtcweb::{Direction, MediaKind};
    let now = Instant::now();
    let (mut a, mut b) = (pc(9), pc(10));
    a.add_transceiver(MediaKind::Audio, Direction::SendRecv);
    a.add_transceiver(MediaKind::Video, Direction::SendRecv);
    a.create_data_channel(now, "x", &Default::default())
        .unwrap();
    let offer = offer_answered(now, &mut a, &mut b);
    assert!(offer.sdp.contains("a=group:BUNDLE 0 1 2"), "{}", offer.sdp);
    let pairs = |pc: &PeerConnection| pc.stats(now).candidate_pairs.len();
    let before = pairs(&b);
    let init = |candidate: &str, mid: Option<&str>, line: Option<u16>| IceCandidateInit {
        candidate: candidate.into(),
        sdp_mid: mid.map(Into::into),
        sdp_m_line_index: line,
        username_fragment: None,
    };

    // The video and data sections' own transports, by mid and by line index.
    b.add_ice_candidate(
        now,
        &init(
            "candidate:1 1 udp 2122260223 192.0.2.9 5001 typ host",
            Some("1"),
            Some(1),
        ),
    )
    .unwrap();
    b.add_ice_candidate(
        now,
        &init(
            "candidate:1 1 udp 2122260223 192.0.2.9 5002 typ host",
            None,
            Some(2),
        ),
    )
    .unwrap();
    assert_eq!(
        pairs(&b),
        before,
        "a bundled section's candidate was paired"
    );

    // The BUNDLE tag's (the transport's) candidate is paired, by mid or line index alone.
    b.add_ice_candidate(
        now,
        &init(
            "candidate:1 1 udp 2122260223 192.0.2.9 5000 typ host",
            Some("0"),
            Some(0),
        ),
    )
    .unwrap();
    b.add_ice_candidate(
        now,
        &init(
            "candidate:2 1 udp 2122260223 192.0.2.9 5003 typ host",
            None,
            Some(0),
        ),
    )
    .unwrap();
    // A candidate that names no section is taken as the transport's.
    b.add_ice_candidate(
        now,
        &init(
            "candidate:3 1 udp 2122260223 192.0.2.9 5004 typ host",
            None,
            None,
        ),
    )
    .unwrap();
    assert_eq!(pairs(&b), before + 3);
}
