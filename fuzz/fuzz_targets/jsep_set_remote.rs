//! Untrusted remote descriptions into the JSEP state machine: no panic; a failed call leaves
//! the state as it was; an accepted offer can always be answered, and the answer applied.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rtcweb_jsep::sdp::{Direction, Fingerprint, MediaKind};
use rtcweb_jsep::{
    Description, Jsep, JsepConfig, OfferOptions, SdpType, SignalingState, TransceiverInit,
};

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let Ok(text) = std::str::from_utf8(rest) else {
        return;
    };
    let fp = Fingerprint::new(rtcweb_jsep::sdp::HashFunction::Sha256, vec![1; 32]).unwrap();
    let mut jsep = Jsep::new(JsepConfig {
        fingerprints: vec![fp],
        seed: 3.into(),
        ..Default::default()
    });
    if mode & 1 == 1 {
        jsep.add_transceiver(TransceiverInit::new(MediaKind::Audio, Direction::SendRecv));
        jsep.add_transceiver(TransceiverInit::new(MediaKind::Video, Direction::SendRecv));
    }
    jsep.add_data_channel();
    let sdp_type = if mode & 2 == 2 {
        // Our offer is pending: the input is the answer (or a pranswer).
        let offer = jsep.create_offer(OfferOptions::default()).expect("offer");
        jsep.set_local_description(Description::new(SdpType::Offer, offer))
            .expect("local offer");
        if mode & 4 == 4 {
            SdpType::Pranswer
        } else {
            SdpType::Answer
        }
    } else {
        SdpType::Offer
    };
    let before = jsep.signaling_state();
    let before_local = jsep.pending_local_description().cloned();
    match jsep.set_remote_description(Description::new(sdp_type, text)) {
        Err(_) => {
            assert_eq!(jsep.signaling_state(), before);
            assert_eq!(jsep.pending_local_description().cloned(), before_local);
            assert!(jsep.remote_description().is_none());
        }
        Ok(()) if sdp_type == SdpType::Offer => {
            assert_eq!(jsep.signaling_state(), SignalingState::HaveRemoteOffer);
            let answer = jsep
                .create_answer()
                .expect("an accepted offer can be answered");
            jsep.set_local_description(Description::new(SdpType::Answer, answer))
                .expect("our answer applies");
            assert_eq!(jsep.signaling_state(), SignalingState::Stable);
            // Renegotiation from here must work too.
            let offer = jsep
                .create_offer(OfferOptions::default())
                .expect("re-offer");
            jsep.set_local_description(Description::new(SdpType::Offer, offer))
                .expect("re-offer applies");
        }
        Ok(()) => assert!(jsep.negotiated().is_some()),
    }
});
