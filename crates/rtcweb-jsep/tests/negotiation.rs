//! Offer/answer behaviour between two of our sessions: renegotiation, rollback, BUNDLE,
//! ICE restart, glare, bad answers.

// Test helpers outside #[test] functions unwrap too (clippy.toml allows it in tests).
#![allow(clippy::unwrap_used)]

use rtcweb_jsep::sdp::{Direction, Fingerprint, MediaKind, SessionDescription, Setup};
use rtcweb_jsep::{
    BundlePolicy, Description, DomErrorName, Error, Jsep, JsepConfig, JsepEvent, Mismatch,
    OfferOptions, Role, SdpType, SendParams, SignalingState, TransceiverInit,
};

fn config(seed: u64) -> JsepConfig {
    let fp =
        Fingerprint::new(rtcweb_jsep::sdp::HashFunction::Sha256, vec![seed as u8; 32]).unwrap();
    JsepConfig {
        fingerprints: vec![fp],
        seed: seed.into(),
        ..Default::default()
    }
}

fn peer(seed: u64) -> Jsep {
    Jsep::new(config(seed))
}

fn offer(a: &mut Jsep) -> String {
    let o = a.create_offer(OfferOptions::default()).unwrap();
    a.set_local_description(Description::new(SdpType::Offer, o.clone()))
        .unwrap();
    o
}

fn answer(b: &mut Jsep, offer: &str) -> String {
    b.set_remote_description(Description::new(SdpType::Offer, offer))
        .unwrap();
    let ans = b.create_answer().unwrap();
    b.set_local_description(Description::new(SdpType::Answer, ans.clone()))
        .unwrap();
    ans
}

/// `a` offers, `b` answers, both end stable.
fn exchange(a: &mut Jsep, b: &mut Jsep) -> (String, String) {
    let o = offer(a);
    let ans = answer(b, &o);
    a.set_remote_description(Description::new(SdpType::Answer, ans.clone()))
        .unwrap();
    assert_eq!(a.signaling_state(), SignalingState::Stable);
    assert_eq!(b.signaling_state(), SignalingState::Stable);
    (o, ans)
}

fn audio_video_data(j: &mut Jsep) {
    let send = |track: &str, ssrc| SendParams {
        stream_ids: vec!["s".into()],
        track_id: track.into(),
        ssrc: Some(ssrc),
        rtx_ssrc: Some(ssrc + 1),
        cname: "c".into(),
        rids: Vec::new(),
    };
    let mut audio = TransceiverInit::new(MediaKind::Audio, Direction::SendRecv);
    audio.send = Some(send("a", 100));
    let mut video = TransceiverInit::new(MediaKind::Video, Direction::SendRecv);
    video.send = Some(send("v", 200));
    j.add_transceiver(audio);
    j.add_transceiver(video);
    j.add_data_channel();
}

fn drain(j: &mut Jsep) -> Vec<JsepEvent> {
    std::iter::from_fn(|| j.poll_event()).collect()
}

#[test]
fn initial_exchange_negotiates_everything() {
    let (mut a, mut b) = (peer(1), peer(2));
    audio_video_data(&mut a);
    let (o, ans) = exchange(&mut a, &mut b);
    let offer = SessionDescription::parse(&o).unwrap();
    assert_eq!(offer.groups[0].mids, ["0", "1", "2"]);
    assert!(offer.media.iter().all(|m| m.setup == Some(Setup::ActPass)));
    let answer = SessionDescription::parse(&ans).unwrap();
    assert!(answer.media.iter().all(|m| m.setup == Some(Setup::Active)));

    let na = a.negotiated().unwrap();
    let nb = b.negotiated().unwrap();
    assert_eq!(na.media.len(), 3);
    for (x, y) in na.media.iter().zip(nb.media.iter()) {
        assert!(!x.rejected && !y.rejected);
        assert_eq!(x.mid, y.mid);
        assert_eq!(x.codecs, y.codecs, "same payload types both ways");
        assert_eq!(
            x.transport_mid.as_deref(),
            Some("0"),
            "all bundled on the first"
        );
        assert_ne!(x.dtls_role, y.dtls_role);
    }
    assert_eq!(
        na.media[0].dtls_role,
        Role::Server,
        "answerer is active (RFC 8842)"
    );
    // b created recvonly transceivers for a's audio and video, then answered recvonly.
    assert_eq!(b.transceivers().len(), 2);
    assert!(b.transceivers().iter().all(|t| t.created_by_remote));
    assert_eq!(na.media[0].direction, Direction::SendOnly);
    assert_eq!(nb.media[0].direction, Direction::RecvOnly);
    // What b learnt about a's sender.
    assert_eq!(nb.media[1].remote_ssrc_groups[0].ssrcs, [200, 201]);
    assert_eq!(nb.media[1].remote_msid[0].track_id.as_deref(), Some("v"));
    // Data channel.
    let sctp = na.media[2].sctp.unwrap();
    assert_eq!(
        (
            sctp.local_port,
            sctp.remote_port,
            sctp.remote_max_message_size
        ),
        (5000, 5000, 262_144)
    );
    // Remote ICE and fingerprint as the other side wrote them.
    assert_eq!(
        na.media[0].remote_ufrag.as_deref(),
        Some(b.local_ice_credentials().ufrag.as_str())
    );
    assert_eq!(na.media[0].remote_fingerprints, b.config().fingerprints);
    assert_eq!(
        a.transceivers()[0].current_direction,
        Some(Direction::SendOnly)
    );
}

#[test]
fn answerer_preference_order_and_offerer_payload_types() {
    let mut a = peer(1);
    let mut t = TransceiverInit::new(MediaKind::Video, Direction::SendRecv);
    t.codecs = Some(rtcweb_jsep::default_video_codecs());
    a.add_transceiver(t);
    let mut b_cfg = config(2);
    // b prefers H264 under other payload types, and has no VP9.
    b_cfg.video_codecs = vec![
        rtcweb_jsep::sdp::Codec::new(120, "H264", 90000, None)
            .with_fmtp("packetization-mode=1;profile-level-id=42e01f")
            .with_rtcp_fb(&["nack", "nack pli"]),
        rtcweb_jsep::sdp::Codec::new(121, "rtx", 90000, None).with_fmtp("apt=120"),
        rtcweb_jsep::sdp::Codec::new(100, "VP8", 90000, None).with_rtcp_fb(&["nack", "goog-remb"]),
    ];
    let mut b = Jsep::new(b_cfg);
    exchange(&mut a, &mut b);
    let codecs = &b.negotiated().unwrap().media[0].codecs;
    let names: Vec<_> = codecs
        .iter()
        .map(|c| (c.name.as_str(), c.payload_type))
        .collect();
    // H264 first (b's order) under a's pt 102; its RTX (a's 103, apt 102); VP8 under 96.
    // No RTX for VP8 (b has none for it), no RED/ULPFEC (b has none).
    assert_eq!(names, [("H264", 102), ("rtx", 103), ("VP8", 96)]);
    assert_eq!(codecs[1].fmtp.as_deref(), Some("apt=102"));
    assert_eq!(
        codecs[0].rtcp_fb,
        ["nack", "nack pli"],
        "feedback both list"
    );
    assert_eq!(
        codecs[2].rtcp_fb,
        ["nack", "goog-remb"],
        "in the answerer's order"
    );
}

#[test]
fn h264_profile_and_packetization_mode_must_match() {
    use rtcweb_jsep::codec::negotiate;
    use rtcweb_jsep::sdp::Codec;
    let h = |pt, f: &str| Codec::new(pt, "H264", 90000, None).with_fmtp(f);
    let ours = [h(102, "packetization-mode=1;profile-level-id=42e01f")];
    // Constrained baseline 42e0.. and 42c0.. (4d with constraint_set0 too) are the same.
    for f in [
        "packetization-mode=1;profile-level-id=42e034",
        "packetization-mode=1;profile-level-id=4d801f",
    ] {
        assert_eq!(negotiate(&ours, &[h(100, f)]).len(), 1, "{f}");
    }
    // Other packetization mode, other profile (High), or a broken id: no match.
    for f in [
        "packetization-mode=0;profile-level-id=42e01f",
        "profile-level-id=42e01f",
        "packetization-mode=1;profile-level-id=640c1f",
        "packetization-mode=1;profile-level-id=4d001f",
        "packetization-mode=1;profile-level-id=zz",
    ] {
        assert!(negotiate(&ours, &[h(100, f)]).is_empty(), "{f}");
    }
}

#[test]
fn red_ulpfec_and_rtx_follow_what_they_protect() {
    use rtcweb_jsep::codec::negotiate;
    use rtcweb_jsep::sdp::Codec;
    let ours = rtcweb_jsep::default_audio_codecs();
    // RED carrying a codec that is not negotiated is dropped.
    let offered = [
        Codec::new(9, "G722", 8000, None),
        Codec::new(111, "opus", 48000, Some(2)),
        Codec::new(63, "red", 48000, Some(2)).with_fmtp("9/9"),
    ];
    let got = negotiate(&ours, &offered);
    assert!(got.iter().all(|c| c.name != "red"), "{got:?}");
    let offered = [
        Codec::new(111, "opus", 48000, Some(2)),
        Codec::new(63, "red", 48000, Some(2)).with_fmtp("111/111"),
    ];
    assert!(negotiate(&ours, &offered).iter().any(|c| c.name == "red"));

    let video = rtcweb_jsep::default_video_codecs();
    // ULPFEC without RED is dropped; RTX whose apt is not kept is dropped.
    let offered = [
        Codec::new(96, "VP8", 90000, None),
        Codec::new(97, "rtx", 90000, None).with_fmtp("apt=96"),
        Codec::new(35, "AV1", 90000, None),
        Codec::new(36, "rtx", 90000, None).with_fmtp("apt=35"),
        Codec::new(116, "ulpfec", 90000, None),
    ];
    let got: Vec<_> = negotiate(&video, &offered)
        .into_iter()
        .map(|c| c.payload_type)
        .collect();
    assert_eq!(got, [96, 97]);
}

#[test]
fn red_listed_first_by_the_answerer_stays_first() {
    use rtcweb_jsep::codec::negotiate;
    use rtcweb_jsep::sdp::Codec;
    let opus = Codec::new(111, "opus", 48000, Some(2));
    let red = Codec::new(63, "red", 48000, Some(2)).with_fmtp("111/111");
    let offered = [opus.clone(), red.clone()];
    // Our list puts RED first: the answer does too (browsers then send RED).
    let got = negotiate(&[red.clone(), opus.clone()], &offered);
    let names: Vec<_> = got.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, ["red", "opus"]);
    // Otherwise the carried codec leads.
    let got = negotiate(&[opus, red], &offered);
    let names: Vec<_> = got.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, ["opus", "red"]);
}

#[test]
fn header_extensions_by_uri() {
    use rtcweb_jsep::codec::negotiate_extmaps;
    use rtcweb_jsep::sdp::ExtMap;
    let e = |id, uri: &str| ExtMap {
        id,
        direction: None,
        uri: uri.into(),
        attributes: None,
    };
    let offered = [
        e(7, "urn:ietf:params:rtp-hdrext:sdes:mid"),
        e(3, "urn:x-unknown"),
        e(9, "urn:ietf:params:rtp-hdrext:toffset"),
    ];
    let ours = vec![
        "urn:ietf:params:rtp-hdrext:toffset".to_string(),
        "urn:ietf:params:rtp-hdrext:sdes:mid".to_string(),
    ];
    let got = negotiate_extmaps(&ours, &offered);
    assert_eq!(
        got,
        [
            e(7, "urn:ietf:params:rtp-hdrext:sdes:mid"),
            e(9, "urn:ietf:params:rtp-hdrext:toffset")
        ]
    );
}

#[test]
fn rollback_of_a_local_offer_restores_stable() {
    let (mut a, mut b) = (peer(1), peer(2));
    audio_video_data(&mut a);
    exchange(&mut a, &mut b);
    let current = a.current_local_description().cloned();
    let t = a.add_transceiver(TransceiverInit::new(MediaKind::Video, Direction::SendOnly));
    offer(&mut a);
    assert_eq!(a.transceiver(t).unwrap().mid.as_deref(), Some("3"));
    a.set_local_description(Description::new(SdpType::Rollback, ""))
        .unwrap();
    assert_eq!(a.signaling_state(), SignalingState::Stable);
    assert_eq!(a.current_local_description().cloned(), current);
    assert!(a.pending_local_description().is_none());
    // The transceiver survives, without its mid, and negotiation is still needed.
    assert_eq!(a.transceiver(t).unwrap().mid, None);
    assert!(a.is_negotiation_needed());
    // The next exchange works and gives it the same kind of section.
    exchange(&mut a, &mut b);
    assert_eq!(a.negotiated().unwrap().media.len(), 4);
}

#[test]
fn rollback_of_a_remote_offer_drops_the_transceivers_it_created() {
    let (mut a, mut b) = (peer(1), peer(2));
    audio_video_data(&mut a);
    let o = offer(&mut a);
    b.set_remote_description(Description::new(SdpType::Offer, o))
        .unwrap();
    assert_eq!(b.transceivers().len(), 2);
    let events = drain(&mut b);
    assert!(events.contains(&JsepEvent::TransceiverAdded(rtcweb_jsep::TransceiverId(0))));
    b.set_remote_description(Description::new(SdpType::Rollback, ""))
        .unwrap();
    assert_eq!(b.signaling_state(), SignalingState::Stable);
    assert!(b.transceivers().is_empty());
    assert!(b.remote_description().is_none());
}

#[test]
fn renegotiation_adds_stops_recycles_and_changes_direction() {
    let (mut a, mut b) = (peer(1), peer(2));
    let audio = a.add_transceiver(TransceiverInit::new(MediaKind::Audio, Direction::SendRecv));
    exchange(&mut a, &mut b);
    drain(&mut a);
    assert!(!a.is_negotiation_needed());

    // Data m-line added later.
    a.add_data_channel();
    assert_eq!(drain(&mut a), [JsepEvent::NegotiationNeeded]);
    exchange(&mut a, &mut b);
    assert!(a.negotiated().unwrap().media[1].sctp.is_some());
    assert!(!a.is_negotiation_needed());

    // Direction change. b's transceiver was created recvonly by a's offer: b only receives
    // until it wants to send.
    assert_eq!(
        b.negotiated().unwrap().media[0].direction,
        Direction::RecvOnly
    );
    let bt = b.transceivers()[0].id;
    b.set_direction(bt, Direction::SendRecv).unwrap();
    a.set_direction(audio, Direction::RecvOnly).unwrap();
    assert!(a.is_negotiation_needed());
    exchange(&mut a, &mut b);
    assert_eq!(
        a.negotiated().unwrap().media[0].direction,
        Direction::RecvOnly
    );
    assert_eq!(
        b.negotiated().unwrap().media[0].direction,
        Direction::SendOnly
    );
    assert!(!a.is_negotiation_needed());

    // Stop: the m= section goes to port 0 and the transceiver is stopped.
    a.stop_transceiver(audio).unwrap();
    assert!(a.is_negotiation_needed());
    let (o, ans) = exchange(&mut a, &mut b);
    assert_eq!(SessionDescription::parse(&o).unwrap().media[0].port, 0);
    assert_eq!(SessionDescription::parse(&ans).unwrap().media[0].port, 0);
    assert!(a.transceiver(audio).unwrap().stopped);
    assert!(b.transceivers()[0].stopped, "the remote side stops it too");
    assert!(a.negotiated().unwrap().media[0].rejected);

    // A new transceiver recycles the rejected m= section with a new mid.
    let video = a.add_transceiver(TransceiverInit::new(MediaKind::Video, Direction::SendRecv));
    let (o, _) = exchange(&mut a, &mut b);
    let sd = SessionDescription::parse(&o).unwrap();
    assert_eq!(sd.media.len(), 2, "recycled, not appended");
    assert_eq!(sd.media[0].kind, MediaKind::Video);
    assert_eq!(
        sd.media[0].mid.as_deref(),
        Some("2"),
        "mids are never reused"
    );
    assert_eq!(a.transceiver(video).unwrap().mline, Some(0));
    assert!(!a.negotiated().unwrap().media[0].rejected);
}

#[test]
fn remote_can_add_media_in_a_reoffer() {
    let (mut a, mut b) = (peer(1), peer(2));
    a.add_data_channel();
    exchange(&mut a, &mut b);
    // Data-only session, then b adds audio.
    assert_eq!(b.negotiated().unwrap().media.len(), 1);
    b.add_transceiver(TransceiverInit::new(MediaKind::Audio, Direction::SendRecv));
    exchange(&mut b, &mut a);
    assert_eq!(a.transceivers().len(), 1);
    assert_eq!(
        a.negotiated().unwrap().media[1].direction,
        Direction::RecvOnly
    );
}

#[test]
fn reoffer_keeps_negotiated_payload_types() {
    let mut a = peer(1);
    let mut b_cfg = config(2);
    for (i, c) in b_cfg.video_codecs.iter_mut().enumerate() {
        c.payload_type = 40 + i as u8;
        if let Some(apt) = c.fmtp.as_deref().and_then(|f| f.strip_prefix("apt=")) {
            let idx = rtcweb_jsep::default_video_codecs()
                .iter()
                .position(|x| x.payload_type.to_string() == apt)
                .unwrap();
            c.fmtp = Some(format!("apt={}", 40 + idx));
        }
    }
    let mut b = Jsep::new(b_cfg);
    b.add_transceiver(TransceiverInit::new(MediaKind::Video, Direction::SendRecv));
    exchange(&mut b, &mut a); // b offers its payload types, a answers with them
    let vp8 = a.negotiated().unwrap().media[0].codecs[0].clone();
    assert_eq!(vp8.payload_type, 40);
    // Now a offers: VP8 must stay 40, and its RTX keeps the negotiated pt and apt.
    let o = a.create_offer(OfferOptions::default()).unwrap();
    let sd = SessionDescription::parse(&o).unwrap();
    let m = &sd.media[0];
    assert_eq!(m.codec(40).unwrap().name, "VP8");
    assert_eq!(m.codec(41).unwrap().fmtp.as_deref(), Some("apt=40"));
}

#[test]
fn max_bundle_without_bundle_answer_uses_only_the_first_section() {
    let (mut a, mut b) = (peer(1), peer(2));
    audio_video_data(&mut a);
    let o = offer(&mut a);
    let ans = answer(&mut b, &o);
    let mut sd = SessionDescription::parse(&ans).unwrap();
    sd.groups.clear();
    a.set_remote_description(Description::new(SdpType::Answer, sd.to_sdp()))
        .unwrap();
    let n = a.negotiated().unwrap();
    let rejected: Vec<bool> = n.media.iter().map(|m| m.rejected).collect();
    assert_eq!(rejected, [false, true, true]);
    assert!(
        n.media
            .iter()
            .all(|m| m.transport_mid != Some("0".into()) || m.index == 0)
    );
}

#[test]
fn balanced_accepts_unbundled_answers_and_offers() {
    let mut cfg = config(1);
    cfg.bundle_policy = BundlePolicy::Balanced;
    let (mut a, mut b) = (
        Jsep::new(cfg.clone()),
        Jsep::new(JsepConfig {
            seed: 2.into(),
            ..cfg
        }),
    );
    audio_video_data(&mut a);
    let o = offer(&mut a);
    let ans = answer(&mut b, &o);
    let mut sd = SessionDescription::parse(&ans).unwrap();
    sd.groups.clear();
    a.set_remote_description(Description::new(SdpType::Answer, sd.to_sdp()))
        .unwrap();
    let n = a.negotiated().unwrap();
    assert!(n.media.iter().all(|m| !m.rejected));
    let transports: Vec<_> = n
        .media
        .iter()
        .map(|m| m.transport_mid.clone().unwrap())
        .collect();
    assert_eq!(transports, ["0", "1", "2"], "each on its own transport");

    // And an offer without BUNDLE is answered without BUNDLE, every section accepted.
    let mut c = Jsep::new(JsepConfig {
        bundle_policy: BundlePolicy::Balanced,
        ..config(3)
    });
    let mut unbundled = SessionDescription::parse(&o).unwrap();
    unbundled.groups.clear();
    let ans = answer(&mut c, &unbundled.to_sdp());
    let sd = SessionDescription::parse(&ans).unwrap();
    assert!(sd.groups.is_empty());
    assert!(sd.media.iter().all(|m| !m.is_rejected()));
    // max-bundle answering the same offer keeps only the first.
    let mut d = peer(4);
    let sd = SessionDescription::parse(&answer(&mut d, &unbundled.to_sdp())).unwrap();
    assert_eq!(sd.media.iter().filter(|m| !m.is_rejected()).count(), 1);
}

#[test]
fn bundle_only_sections_are_accepted() {
    // webrtcbin-style offer: the non-tagged sections are port 0 + bundle-only.
    let (mut a, mut b) = (peer(1), peer(2));
    audio_video_data(&mut a);
    let o = a.create_offer(OfferOptions::default()).unwrap();
    let mut sd = SessionDescription::parse(&o).unwrap();
    for m in sd.media.iter_mut().skip(1) {
        m.port = 0;
        m.bundle_only = true;
        m.ice = Default::default();
        m.fingerprints.clear();
    }
    let ans = SessionDescription::parse(&answer(&mut b, &sd.to_sdp())).unwrap();
    assert!(ans.media.iter().all(|m| !m.is_rejected()));
    assert_eq!(
        b.negotiated()
            .unwrap()
            .media
            .iter()
            .filter(|m| !m.rejected)
            .count(),
        3
    );
}

#[test]
fn ice_restart_offer_and_answer() {
    let (mut a, mut b) = (peer(1), peer(2));
    audio_video_data(&mut a);
    exchange(&mut a, &mut b);
    let (a_ice, b_ice) = (
        a.local_ice_credentials().clone(),
        b.local_ice_credentials().clone(),
    );
    a.restart_ice();
    assert!(a.is_negotiation_needed());
    let (o, ans) = exchange(&mut a, &mut b);
    let (o, ans) = (
        SessionDescription::parse(&o).unwrap(),
        SessionDescription::parse(&ans).unwrap(),
    );
    assert_ne!(o.ice_credentials(0).unwrap().0, a_ice.ufrag);
    assert_ne!(
        ans.ice_credentials(0).unwrap().0,
        b_ice.ufrag,
        "answerer restarts too"
    );
    assert!(a.negotiated().unwrap().ice_restart);
    assert!(b.negotiated().unwrap().ice_restart);
    assert_eq!(
        a.local_ice_credentials().ufrag,
        o.ice_credentials(0).unwrap().0
    );
    assert_eq!(
        b.local_ice_credentials().ufrag,
        ans.ice_credentials(0).unwrap().0
    );
    // A plain re-offer does not restart.
    exchange(&mut a, &mut b);
    assert!(!a.negotiated().unwrap().ice_restart);
    // createOffer({iceRestart: true}) works the same way.
    let before = a.local_ice_credentials().clone();
    let o = a.create_offer(OfferOptions { ice_restart: true }).unwrap();
    assert_ne!(
        SessionDescription::parse(&o)
            .unwrap()
            .ice_credentials(0)
            .unwrap()
            .0,
        before.ufrag
    );
}

/// The answerer's new credentials are known as soon as the restarting offer is applied (an
/// ICE agent restarts with them then), are the ones its answer carries, and are forgotten
/// with a rollback. Found by the soak: the PeerConnection restarted its agent with the old
/// credentials and again at the answer, which forgot the offer's credentials.
#[test]
fn a_restarting_offer_fixes_the_answer_credentials_when_applied() {
    let (mut a, mut b) = (peer(1), peer(2));
    audio_video_data(&mut a);
    exchange(&mut a, &mut b);
    assert!(b.pending_answer_ice_credentials().is_none());
    let restart = |a: &mut Jsep| {
        let o = a.create_offer(OfferOptions { ice_restart: true }).unwrap();
        a.set_local_description(Description::new(SdpType::Offer, o.clone()))
            .unwrap();
        o
    };
    let o = restart(&mut a);
    b.set_remote_description(Description::new(SdpType::Offer, o))
        .unwrap();
    let pending = b.pending_answer_ice_credentials().cloned().unwrap();
    assert_ne!(pending.ufrag, b.local_ice_credentials().ufrag);
    let ans = b.create_answer().unwrap();
    b.set_local_description(Description::new(SdpType::Answer, ans.clone()))
        .unwrap();
    let parsed = SessionDescription::parse(&ans).unwrap();
    assert_eq!(parsed.ice_credentials(0).unwrap().0, pending.ufrag);
    assert_eq!(b.local_ice_credentials().ufrag, pending.ufrag);
    assert!(b.pending_answer_ice_credentials().is_none());
    a.set_remote_description(Description::new(SdpType::Answer, ans))
        .unwrap();

    // A re-offer without a restart leaves nothing pending.
    let o = offer(&mut a);
    b.set_remote_description(Description::new(SdpType::Offer, o))
        .unwrap();
    assert!(b.pending_answer_ice_credentials().is_none());
    b.set_remote_description(Description::new(SdpType::Rollback, String::new()))
        .unwrap();
    a.set_local_description(Description::new(SdpType::Rollback, String::new()))
        .unwrap();
    // Nor does a restarting offer that was rolled back.
    let o = restart(&mut a);
    b.set_remote_description(Description::new(SdpType::Offer, o))
        .unwrap();
    assert!(b.pending_answer_ice_credentials().is_some());
    b.set_remote_description(Description::new(SdpType::Rollback, String::new()))
        .unwrap();
    assert!(b.pending_answer_ice_credentials().is_none());
}

/// W3C "perfect negotiation": both sides offer at once; the polite one rolls back.
#[test]
fn glare_resolved_by_perfect_negotiation() {
    let (mut polite, mut impolite) = (peer(1), peer(2));
    let p_t = polite.add_transceiver(TransceiverInit::new(MediaKind::Audio, Direction::SendRecv));
    impolite.add_transceiver(TransceiverInit::new(MediaKind::Video, Direction::SendRecv));
    let p_offer = offer(&mut polite);
    let i_offer = offer(&mut impolite);

    // Impolite receives the polite offer: collision, ignores it.
    assert!(impolite.is_offer_collision(false));
    // Polite receives the impolite offer: collision, applies it (implicit rollback).
    assert!(polite.is_offer_collision(false));
    polite
        .set_remote_description(Description::new(SdpType::Offer, i_offer))
        .unwrap();
    assert_eq!(polite.signaling_state(), SignalingState::HaveRemoteOffer);
    let ans = polite.create_answer().unwrap();
    polite
        .set_local_description(Description::new(SdpType::Answer, ans.clone()))
        .unwrap();
    impolite
        .set_remote_description(Description::new(SdpType::Answer, ans))
        .unwrap();
    assert_eq!(impolite.signaling_state(), SignalingState::Stable);
    // The polite side's own transceiver was not negotiated: it needs another round.
    assert!(polite.transceiver(p_t).unwrap().mid.is_none());
    assert!(polite.is_negotiation_needed());
    let _ = p_offer;
    exchange(&mut polite, &mut impolite);
    assert!(polite.transceiver(p_t).unwrap().mid.is_some());
    assert_eq!(impolite.negotiated().unwrap().media.len(), 2);
}

#[test]
fn glare_pairs_the_app_transceiver_with_a_remote_section_of_its_kind() {
    // addTrack-created transceivers are reused by a remote offer of the same kind.
    let (mut a, mut b) = (peer(1), peer(2));
    a.add_transceiver(TransceiverInit::new(MediaKind::Audio, Direction::SendRecv));
    let bt = b.add_transceiver(TransceiverInit::new(MediaKind::Audio, Direction::SendRecv));
    exchange(&mut a, &mut b);
    assert_eq!(b.transceivers().len(), 1);
    assert_eq!(b.transceiver(bt).unwrap().mid.as_deref(), Some("0"));
    assert_eq!(
        b.negotiated().unwrap().media[0].direction,
        Direction::SendRecv
    );
}

fn expect_mismatch(offerer: &mut Jsep, bad: String, want: Mismatch) {
    let before = offerer.clone();
    let err = offerer
        .set_remote_description(Description::new(SdpType::Answer, bad))
        .unwrap_err();
    assert_eq!(err, Error::AnswerMismatch(want));
    assert_eq!(err.dom_name(), DomErrorName::InvalidAccessError);
    assert_eq!(offerer.signaling_state(), SignalingState::HaveLocalOffer);
    assert_eq!(
        offerer.pending_local_description(),
        before.pending_local_description()
    );
    assert!(offerer.remote_description().is_none());
    assert!(offerer.negotiated().is_none());
}

#[test]
fn answers_that_do_not_match_the_offer_are_rejected_without_change() {
    let (mut a, mut b) = (peer(1), peer(2));
    audio_video_data(&mut a);
    let o = offer(&mut a);
    let good = SessionDescription::parse(&answer(&mut b, &o)).unwrap();

    let mut sd = good.clone();
    sd.media.pop();
    expect_mismatch(
        &mut a,
        sd.to_sdp(),
        Mismatch::MlineCount {
            offer: 3,
            answer: 2,
        },
    );

    let mut sd = good.clone();
    sd.media[1].mid = None;
    expect_mismatch(&mut a, sd.to_sdp(), Mismatch::MissingMid { index: 1 });

    let mut sd = good.clone();
    sd.media[1].mid = Some("x".into());
    sd.groups.clear();
    expect_mismatch(
        &mut a,
        sd.to_sdp(),
        Mismatch::MidChanged {
            index: 1,
            offer: "1".into(),
            answer: "x".into(),
        },
    );

    let mut sd = good.clone();
    for m in &mut sd.media {
        m.fingerprints.clear();
    }
    expect_mismatch(&mut a, sd.to_sdp(), Mismatch::NoFingerprint { index: 0 });

    let mut sd = good.clone();
    for m in &mut sd.media {
        m.ice = Default::default();
    }
    expect_mismatch(&mut a, sd.to_sdp(), Mismatch::NoIceCredentials { index: 0 });

    let mut sd = good.clone();
    for m in &mut sd.media {
        m.ice.pwd = Some("short".into());
    }
    expect_mismatch(
        &mut a,
        sd.to_sdp(),
        Mismatch::BadIceCredentials { index: 0 },
    );

    let mut sd = good.clone();
    for m in &mut sd.media {
        m.setup = Some(Setup::ActPass);
    }
    expect_mismatch(&mut a, sd.to_sdp(), Mismatch::SetupActpass { index: 0 });

    let mut sd = good.clone();
    sd.media[0].kind = MediaKind::Video;
    expect_mismatch(&mut a, sd.to_sdp(), Mismatch::KindChanged { index: 0 });

    // Garbage is a syntax error naming the line, also without any change.
    let before = a.clone();
    let err = a
        .set_remote_description(Description::new(SdpType::Answer, "v=0\r\nbogus\r\n"))
        .unwrap_err();
    assert!(matches!(err, Error::SdpSyntax { line: 2, .. }), "{err}");
    assert_eq!(
        a.pending_local_description(),
        before.pending_local_description()
    );

    // The good one still works afterwards.
    a.set_remote_description(Description::new(SdpType::Answer, good.to_sdp()))
        .unwrap();
    assert_eq!(a.signaling_state(), SignalingState::Stable);
}

#[test]
fn remote_offers_breaking_jsep_rules_are_rejected() {
    let mut a = peer(1);
    audio_video_data(&mut a);
    let good =
        SessionDescription::parse(&a.create_offer(OfferOptions::default()).unwrap()).unwrap();
    type Breaker = Box<dyn Fn(&mut SessionDescription)>;
    let cases: Vec<(&str, Breaker)> = vec![
        ("no mid", Box::new(|sd| sd.media[0].mid = None)),
        (
            "duplicate mid",
            Box::new(|sd| sd.media[1].mid = Some("0".into())),
        ),
        (
            "no fingerprint",
            Box::new(|sd| sd.media.iter_mut().for_each(|m| m.fingerprints.clear())),
        ),
        (
            "no ICE",
            Box::new(|sd| sd.media.iter_mut().for_each(|m| m.ice = Default::default())),
        ),
        (
            "ufrag too short",
            Box::new(|sd| {
                sd.media
                    .iter_mut()
                    .for_each(|m| m.ice.ufrag = Some("abc".into()))
            }),
        ),
        (
            "bundle-only outside a group",
            Box::new(|sd| {
                sd.groups.clear();
                sd.media[1].bundle_only = true;
            }),
        ),
        (
            "BUNDLE names unknown mid",
            Box::new(|sd| sd.groups[0].mids.push("zz".into())),
        ),
    ];
    for (what, break_it) in cases {
        let mut sd = good.clone();
        break_it(&mut sd);
        let mut b = peer(2);
        let err = b
            .set_remote_description(Description::new(SdpType::Offer, sd.to_sdp()))
            .unwrap_err();
        assert!(matches!(err, Error::InvalidDescription(_)), "{what}: {err}");
        assert_eq!(b.signaling_state(), SignalingState::Stable, "{what}");
        assert!(b.transceivers().is_empty(), "{what}: transceivers created");
    }
}

#[test]
fn set_local_with_a_modified_description_is_refused() {
    let mut a = peer(1);
    a.add_data_channel();
    let o = a.create_offer(OfferOptions::default()).unwrap();
    let munged = o.replace("a=max-message-size:262144", "a=max-message-size:1");
    let err = a
        .set_local_description(Description::new(SdpType::Offer, munged))
        .unwrap_err();
    assert_eq!(err.dom_name(), DomErrorName::InvalidModificationError);
    assert_eq!(a.signaling_state(), SignalingState::Stable);
    // Empty SDP means "the last created" (parameterless setLocalDescription's offer).
    a.set_local_description(Description::new(SdpType::Offer, ""))
        .unwrap();
    assert_eq!(a.signaling_state(), SignalingState::HaveLocalOffer);
}

#[test]
fn implicit_set_local_description_offers_then_answers() {
    let (mut a, mut b) = (peer(1), peer(2));
    a.add_data_channel();
    let o = a.set_local_description_implicit().unwrap();
    assert_eq!(o.sdp_type, SdpType::Offer);
    b.set_remote_description(o).unwrap();
    let ans = b.set_local_description_implicit().unwrap();
    assert_eq!(ans.sdp_type, SdpType::Answer);
    a.set_remote_description(ans).unwrap();
    assert_eq!(
        (a.signaling_state(), b.signaling_state()),
        (SignalingState::Stable, SignalingState::Stable)
    );
}

#[test]
fn pranswer_then_answer() {
    let (mut a, mut b) = (peer(1), peer(2));
    a.add_data_channel();
    let o = offer(&mut a);
    b.set_remote_description(Description::new(SdpType::Offer, o))
        .unwrap();
    let ans = b.create_answer().unwrap();
    b.set_local_description(Description::new(SdpType::Pranswer, ans.clone()))
        .unwrap();
    a.set_remote_description(Description::new(SdpType::Pranswer, ans.clone()))
        .unwrap();
    assert_eq!(a.signaling_state(), SignalingState::HaveRemotePranswer);
    assert!(
        a.negotiated().is_some(),
        "a pranswer already gives a result"
    );
    b.set_local_description(Description::new(SdpType::Answer, ans.clone()))
        .unwrap();
    a.set_remote_description(Description::new(SdpType::Answer, ans))
        .unwrap();
    assert_eq!(a.signaling_state(), SignalingState::Stable);
    assert!(a.current_remote_description().is_some());
}

#[test]
fn trickled_candidates_and_simulcast() {
    let (mut a, mut b) = (peer(1), peer(2));
    let mut t = TransceiverInit::new(MediaKind::Video, Direction::SendOnly);
    t.send = Some(SendParams {
        track_id: "v".into(),
        rids: vec!["h".into(), "m".into(), "l".into()],
        ..Default::default()
    });
    a.add_transceiver(t);
    let cand: rtcweb_jsep::sdp::Candidate =
        "candidate:1 1 udp 2122260223 1c2f8a3e-1d5c-4b4e-9f00-6c2f1a2b3c4d.local 50000 typ host generation 0"
            .parse()
            .unwrap();
    assert!(cand.is_mdns());
    a.add_local_candidate(cand.clone());
    a.end_of_local_candidates();
    let (o, ans) = exchange(&mut a, &mut b);
    let o = SessionDescription::parse(&o).unwrap();
    assert_eq!(o.media[0].candidates, std::slice::from_ref(&cand));
    assert!(o.media[0].end_of_candidates);
    assert_eq!(
        o.media[0].simulcast.as_ref().unwrap().to_string(),
        "send h;m;l"
    );
    let ans = SessionDescription::parse(&ans).unwrap();
    assert_eq!(
        ans.media[0].simulcast.as_ref().unwrap().to_string(),
        "recv h;m;l"
    );
    assert_eq!(ans.media[0].rids.len(), 3);
    assert_eq!(b.negotiated().unwrap().media[0].remote_rids.len(), 3);
    assert_eq!(
        b.negotiated().unwrap().media[0].remote_candidates,
        std::slice::from_ref(&cand)
    );
    // addIceCandidate on the answerer side.
    let c2: rtcweb_jsep::sdp::Candidate =
        "candidate:2 1 udp 1 127.0.0.1 9 typ host".parse().unwrap();
    b.add_remote_candidate("0", c2.clone()).unwrap();
    assert!(
        b.negotiated().unwrap().media[0]
            .remote_candidates
            .contains(&c2)
    );
    assert!(b.add_remote_candidate("nope", c2).is_err());
}

#[test]
fn negotiation_needed_fires_once_per_change() {
    let (mut a, mut b) = (peer(1), peer(2));
    a.add_transceiver(TransceiverInit::new(MediaKind::Audio, Direction::SendRecv));
    a.add_data_channel();
    let events = drain(&mut a);
    assert_eq!(
        events
            .iter()
            .filter(|e| **e == JsepEvent::NegotiationNeeded)
            .count(),
        1
    );
    exchange(&mut a, &mut b);
    let events = drain(&mut a);
    assert!(
        !events.contains(&JsepEvent::NegotiationNeeded),
        "{events:?}"
    );
    assert!(events.contains(&JsepEvent::Negotiated));
}

#[test]
fn close_stops_everything() {
    let mut a = peer(1);
    a.add_transceiver(TransceiverInit::new(MediaKind::Audio, Direction::SendRecv));
    a.close();
    assert_eq!(a.signaling_state(), SignalingState::Closed);
    assert!(a.transceivers().iter().all(|t| t.stopped));
    assert!(a.create_offer(OfferOptions::default()).is_err());
}

#[test]
fn bundled_offers_never_reuse_a_payload_type_or_extension_id() {
    use rtcweb_jsep::sdp::Codec;
    let mut a = peer(1);
    // Audio and video both want payload types 96 and 97.
    let mut audio = TransceiverInit::new(MediaKind::Audio, Direction::SendRecv);
    audio.codecs = Some(vec![
        Codec::new(96, "opus", 48000, Some(2)),
        Codec::new(97, "red", 48000, Some(2)).with_fmtp("96/96"),
    ]);
    let mut video = TransceiverInit::new(MediaKind::Video, Direction::SendRecv);
    video.codecs = Some(vec![
        Codec::new(96, "VP8", 90000, None),
        Codec::new(97, "rtx", 90000, None).with_fmtp("apt=96"),
    ]);
    a.add_transceiver(audio);
    a.add_transceiver(video);
    let text = a.create_offer(OfferOptions::default()).unwrap();
    let sd = SessionDescription::parse(&text).unwrap();
    let mut seen: Vec<(u8, String)> = Vec::new();
    let mut ids: Vec<(u16, String)> = Vec::new();
    for m in &sd.media {
        for c in &m.codecs {
            assert!(
                !seen
                    .iter()
                    .any(|(pt, n)| *pt == c.payload_type && *n != c.name),
                "{c:?}"
            );
            seen.push((c.payload_type, c.name.clone()));
        }
        for e in &m.extmaps {
            assert!(
                !ids.iter().any(|(id, u)| *id == e.id && *u != e.uri),
                "{e:?}"
            );
            ids.push((e.id, e.uri.clone()));
        }
    }
    let video = &sd.media[1];
    let vp8 = video.codecs.iter().find(|c| c.name == "VP8").unwrap();
    let rtx = video.codecs.iter().find(|c| c.name == "rtx").unwrap();
    assert_ne!(vp8.payload_type, 96);
    assert_eq!(
        rtx.fmtp,
        Some(format!("apt={}", vp8.payload_type)),
        "RTX follows its codec"
    );
    // And the offer still negotiates.
    let mut b = peer(2);
    let ans = answer(&mut b, &text);
    a.set_local_description(Description::new(SdpType::Offer, ""))
        .unwrap();
    a.set_remote_description(Description::new(SdpType::Answer, ans))
        .unwrap();
    assert!(
        a.negotiated()
            .unwrap()
            .media
            .iter()
            .all(|m| !m.codecs.is_empty())
    );
}

#[test]
fn answers_we_receive_are_made_consistent() {
    use rtcweb_jsep::codec::make_consistent;
    use rtcweb_jsep::sdp::Codec;
    // pion answers ULPFEC without RED; an RTX for a format that is not there is useless too.
    let got = make_consistent(vec![
        Codec::new(96, "VP8", 90000, None),
        Codec::new(97, "rtx", 90000, None).with_fmtp("apt=96"),
        Codec::new(99, "rtx", 90000, None).with_fmtp("apt=98"),
        Codec::new(116, "ulpfec", 90000, None),
    ]);
    let pts: Vec<u8> = got.iter().map(|c| c.payload_type).collect();
    assert_eq!(pts, [96, 97]);
}

#[test]
fn remote_reoffers_must_keep_the_negotiated_sections() {
    let (mut a, mut b) = (peer(1), peer(2));
    audio_video_data(&mut a);
    exchange(&mut a, &mut b);
    let reoffer =
        SessionDescription::parse(&a.create_offer(OfferOptions::default()).unwrap()).unwrap();
    // Fewer m= sections.
    let mut fewer = reoffer.clone();
    fewer.media.pop();
    fewer.groups[0].mids.pop();
    // A negotiated section changing its mid.
    let mut renamed = reoffer.clone();
    renamed.media[1].mid = Some("x".into());
    renamed.groups[0].mids[1] = "x".into();
    for (what, sd) in [("fewer", fewer), ("renamed", renamed)] {
        let before = b.clone();
        let err = b.set_remote_description(Description::new(SdpType::Offer, sd.to_sdp()));
        assert!(
            matches!(err, Err(Error::InvalidDescription(_))),
            "{what}: {err:?}"
        );
        assert_eq!(b.signaling_state(), SignalingState::Stable, "{what}");
        assert_eq!(b.transceivers(), before.transceivers(), "{what}");
        assert_eq!(
            b.current_remote_description(),
            before.current_remote_description()
        );
    }
    // The unmodified re-offer is fine.
    b.set_remote_description(Description::new(SdpType::Offer, reoffer.to_sdp()))
        .unwrap();
}

#[test]
fn answers_to_subsequent_offers_keep_the_dtls_role() {
    // RFC 8842 5.5: Chromium refuses ("Failed to set SSL role") an answer that swaps roles.
    let (mut a, mut b) = (peer(1), peer(2));
    a.add_data_channel();
    exchange(&mut a, &mut b);
    let role = |j: &Jsep| j.negotiated().unwrap().media[0].dtls_role;
    assert_eq!((role(&a), role(&b)), (Role::Server, Role::Client));
    // Now the first answerer offers (actpass), keeping the data section it accepted; the
    // first offerer, the DTLS server, answers.
    b.add_transceiver(TransceiverInit::new(MediaKind::Audio, Direction::SendRecv));
    let (_, ans) = exchange(&mut b, &mut a);
    let parsed = SessionDescription::parse(&ans).unwrap();
    assert!(parsed.media.iter().all(|m| m.setup == Some(Setup::Passive)));
    assert!(parsed.media.iter().all(|m| !m.is_rejected()));
    assert_eq!((role(&a), role(&b)), (Role::Server, Role::Client));
}
