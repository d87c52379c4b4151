//! The corpus of real SDP captured from other implementations (tests/corpus, see its
//! README): every file parses, parse-emit-parse is the identity, each real answer passes our
//! answer checks against its offer, and we answer every offer with a valid answer.

// Test helpers outside #[test] functions unwrap too (clippy.toml allows it in tests).
#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::fs;
use std::path::PathBuf;

use rtcweb_jsep::sdp::{MediaKind, SessionDescription};
use rtcweb_jsep::{Description, Jsep, JsepConfig, SdpType, SignalingState, validate_answer};

const PEERS: [&str; 8] = [
    "chromium",
    "firefox",
    "aiortc",
    "pion",
    "werift",
    "node-datachannel",
    "gstreamer",
    "janus",
];

/// The checked-in corpus, or a fresh capture when `SDP_CORPUS_DIR` names one (the interop
/// suite `30-sdp-corpus` does that).
fn corpus_dir() -> PathBuf {
    std::env::var_os("SDP_CORPUS_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/corpus"))
}

fn corpus() -> BTreeMap<String, String> {
    let dir = corpus_dir();
    let mut files = BTreeMap::new();
    for entry in fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "sdp") {
            let name = path.file_stem().unwrap().to_string_lossy().into_owned();
            files.insert(name, fs::read_to_string(&path).unwrap());
        }
    }
    files
}

#[test]
fn corpus_is_complete() {
    let files = corpus();
    for peer in PEERS {
        for what in [
            "offer-av-data",
            "offer-data",
            "answer-av-data",
            "answer-data",
        ] {
            let name = format!("{peer}-{what}");
            assert!(files.contains_key(&name), "missing {name}.sdp");
        }
    }
    assert_eq!(files.len(), PEERS.len() * 4);
}

#[test]
fn every_file_parses_and_round_trips() {
    for (name, text) in corpus() {
        let sd = SessionDescription::parse(&text).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(!sd.media.is_empty(), "{name}: no m= sections");
        let emitted = sd.to_sdp();
        let again = SessionDescription::parse(&emitted).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(again, sd, "{name}: parse-emit-parse differs");
        assert_eq!(again.to_sdp(), emitted, "{name}: emit is not stable");
        // Nothing is lost: every a= line of the input is either typed or kept verbatim, so
        // the emitted text has as many a= lines as the input (duplicates included).
        let count = |t: &str| t.lines().filter(|l| l.starts_with("a=")).count();
        let implicit_rtpmaps = static_pts_without_rtpmap(&text);
        assert_eq!(
            count(&emitted),
            count(&text) + implicit_rtpmaps,
            "{name}: a= lines lost"
        );
    }
}

/// Static payload types listed without an rtpmap get one written out.
fn static_pts_without_rtpmap(text: &str) -> usize {
    let sd = SessionDescription::parse(text).unwrap();
    sd.media
        .iter()
        .map(|m| {
            m.codecs
                .iter()
                .filter(|c| {
                    !text.contains(&format!("a=rtpmap:{} ", c.payload_type))
                        || !m.formats.contains(&c.payload_type.to_string())
                })
                .count()
        })
        .sum()
}

#[test]
fn offers_have_what_jsep_needs() {
    for (name, text) in corpus().into_iter().filter(|(n, _)| n.contains("-offer-")) {
        let sd = SessionDescription::parse(&text).unwrap();
        let data = sd.media.iter().filter(|m| m.is_data()).count();
        assert_eq!(data, 1, "{name}: one data section");
        if name.ends_with("av-data") {
            assert!(
                sd.media.iter().any(|m| m.kind == MediaKind::Audio),
                "{name}: audio"
            );
            assert!(
                sd.media.iter().any(|m| m.kind == MediaKind::Video),
                "{name}: video"
            );
        }
        for (i, m) in sd
            .media
            .iter()
            .enumerate()
            .filter(|(_, m)| !m.is_rejected())
        {
            assert!(m.mid.is_some(), "{name}: m= {i} mid");
            assert!(
                sd.ice_credentials(i).is_some() || m.bundle_only,
                "{name}: m= {i} ICE"
            );
            assert!(
                !sd.fingerprints_of(i).is_empty(),
                "{name}: m= {i} fingerprint"
            );
            if m.kind.is_rtp() {
                assert!(!m.codecs.is_empty(), "{name}: m= {i} codecs");
            }
        }
    }
}

/// Real answers pass the checks `setRemoteDescription(answer)` applies.
#[test]
fn real_answers_match_their_offers() {
    let files = corpus();
    for peer in PEERS {
        for what in ["av-data", "data"] {
            // Janus answered Chromium's offers (its EchoTest plugin only answers).
            let offerer = if peer == "janus" { "chromium" } else { peer };
            let offer =
                SessionDescription::parse(&files[&format!("{offerer}-offer-{what}")]).unwrap();
            let answer =
                SessionDescription::parse(&files[&format!("{peer}-answer-{what}")]).unwrap();
            validate_answer(&offer, &answer).unwrap_or_else(|e| panic!("{peer} {what}: {e}"));
        }
    }
}

fn answerer(seed: u64) -> Jsep {
    let fp =
        rtcweb_jsep::sdp::Fingerprint::new(rtcweb_jsep::sdp::HashFunction::Sha256, vec![7; 32])
            .unwrap();
    Jsep::new(JsepConfig {
        fingerprints: vec![fp],
        seed: seed.into(),
        ..Default::default()
    })
}

/// We answer every captured offer, and the answer is structurally valid for it.
#[test]
fn we_answer_every_offer() {
    for (name, text) in corpus().into_iter().filter(|(n, _)| n.contains("-offer-")) {
        let mut jsep = answerer(9);
        jsep.set_remote_description(Description::new(SdpType::Offer, text.clone()))
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        let answer = jsep
            .create_answer()
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        jsep.set_local_description(Description::new(SdpType::Answer, answer.clone()))
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(jsep.signaling_state(), SignalingState::Stable);
        let offer = SessionDescription::parse(&text).unwrap();
        let ours = SessionDescription::parse(&answer).unwrap();
        validate_answer(&offer, &ours).unwrap_or_else(|e| panic!("{name}: {e}"));
        let negotiated = jsep.negotiated().unwrap();
        for (o, a) in offer.media.iter().zip(ours.media.iter()) {
            if a.is_rejected() {
                continue;
            }
            // Codecs come from the offer, under its payload types.
            for c in &a.codecs {
                let offered = o
                    .codec(c.payload_type)
                    .unwrap_or_else(|| panic!("{name}: pt {}", c.payload_type));
                assert!(
                    offered.name.eq_ignore_ascii_case(&c.name),
                    "{name}: pt {} renamed",
                    c.payload_type
                );
            }
            for e in &a.extmaps {
                assert!(
                    o.extmaps
                        .iter()
                        .chain(offer.extmaps.iter())
                        .any(|x| x.id == e.id && x.uri == e.uri)
                );
            }
        }
        // Data and at least one media codec per accepted audio/video section.
        let data = negotiated.media.iter().find(|m| m.sctp.is_some());
        assert!(data.is_some(), "{name}: data channel not negotiated");
        if name.ends_with("av-data") {
            for kind in [MediaKind::Audio, MediaKind::Video] {
                let m = negotiated
                    .media
                    .iter()
                    .find(|m| m.kind == kind && !m.rejected);
                let m = m.unwrap_or_else(|| panic!("{name}: {kind:?} rejected"));
                assert!(
                    m.codecs.iter().any(|c| !c.is_resilience()),
                    "{name}: {kind:?} codecs"
                );
            }
        }
    }
}

/// Applying each real answer to the offer it answers, with us in the offerer's place, gives
/// a usable result (the same code path as a remote answer to our own offer).
#[test]
fn real_answers_negotiate() {
    let files = corpus();
    for peer in PEERS.iter().filter(|p| **p != "janus") {
        for what in ["av-data", "data"] {
            let offer = SessionDescription::parse(&files[&format!("{peer}-offer-{what}")]).unwrap();
            let answer =
                SessionDescription::parse(&files[&format!("{peer}-answer-{what}")]).unwrap();
            for (i, (o, a)) in offer.media.iter().zip(answer.media.iter()).enumerate() {
                if a.is_rejected() || o.is_rejected() {
                    continue;
                }
                for c in &a.codecs {
                    assert!(
                        o.codec(c.payload_type).is_some(),
                        "{peer} {what} m={i}: pt {} not offered",
                        c.payload_type
                    );
                }
            }
        }
    }
}

include!("../examples/common/offerer.rs");

/// Each peer's answer to our offer (`tests/corpus/answers-to-ours`): it fits the offer, and
/// applied to a session that makes the same offer, negotiates audio, video and data.
#[test]
fn peers_answers_to_our_offers() {
    let dir = corpus_dir().join("answers-to-ours");
    for kind in ["av-data", "data"] {
        let offer_text = fs::read_to_string(dir.join(format!("ours-offer-{kind}.sdp"))).unwrap();
        let offer = SessionDescription::parse(&offer_text).unwrap();
        // The captured answers answer exactly this offer: our seeded offerer still makes it.
        let mut check = offerer(kind).unwrap();
        let now = check.create_offer(Default::default()).unwrap();
        assert_eq!(
            now, offer_text,
            "our {kind} offer changed: re-capture (see the README)"
        );
        for peer in PEERS {
            let name = format!("{peer}-answer-{kind}");
            let text = fs::read_to_string(dir.join(format!("{name}.sdp"))).unwrap();
            let answer = SessionDescription::parse(&text).unwrap_or_else(|e| panic!("{name}: {e}"));
            validate_answer(&offer, &answer).unwrap_or_else(|e| panic!("{name}: {e}"));
            let mut jsep = offerer(kind).unwrap();
            let o = jsep.create_offer(Default::default()).unwrap();
            jsep.set_local_description(Description::new(SdpType::Offer, o))
                .unwrap();
            jsep.set_remote_description(Description::new(SdpType::Answer, text))
                .unwrap_or_else(|e| panic!("{name}: {e}"));
            let n = jsep.negotiated().unwrap();
            assert!(
                n.media.iter().all(|m| !m.rejected),
                "{name}: a section was rejected"
            );
            assert!(
                n.media.iter().any(|m| m.sctp.is_some()),
                "{name}: no data channel"
            );
            for m in n.media.iter().filter(|m| m.kind.is_rtp()) {
                assert!(
                    m.codecs.iter().any(|c| !c.is_resilience()),
                    "{name}: {:?} codecs",
                    m.kind
                );
            }
        }
    }
}
