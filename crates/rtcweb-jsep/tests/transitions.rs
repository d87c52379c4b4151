//! The transition table: every signaling state against every call, with the W3C outcome
//! (the next state, or InvalidStateError with the state unchanged).

// Test helpers outside #[test] functions unwrap too (clippy.toml allows it in tests).
#![allow(clippy::unwrap_used)]

use SignalingState::*;
use rtcweb_jsep::sdp::{Direction, Fingerprint, MediaKind};
use rtcweb_jsep::{
    Call, Description, DomErrorName, Error, Jsep, JsepConfig, OfferOptions, SdpType,
    SignalingState, TransceiverInit,
};

fn peer(seed: u64) -> Jsep {
    let fp =
        Fingerprint::new(rtcweb_jsep::sdp::HashFunction::Sha256, vec![seed as u8; 32]).unwrap();
    let mut j = Jsep::new(JsepConfig {
        fingerprints: vec![fp],
        seed: seed.into(),
        ..Default::default()
    });
    j.add_transceiver(TransceiverInit::new(MediaKind::Audio, Direction::SendRecv));
    j.add_data_channel();
    j
}

fn offer_from(seed: u64) -> String {
    peer(seed).create_offer(OfferOptions::default()).unwrap()
}

/// `answerer` answers `offer`; the answer text.
fn answer_to(offer: &str, seed: u64) -> String {
    let mut b = peer(seed);
    b.set_remote_description(Description::new(SdpType::Offer, offer))
        .unwrap();
    b.create_answer().unwrap()
}

/// A session driven into `state`.
fn in_state(state: SignalingState) -> Jsep {
    let mut a = peer(1);
    match state {
        Stable => {}
        HaveLocalOffer => {
            let o = a.create_offer(OfferOptions::default()).unwrap();
            a.set_local_description(Description::new(SdpType::Offer, o))
                .unwrap();
        }
        HaveRemoteOffer => {
            a.set_remote_description(Description::new(SdpType::Offer, offer_from(2)))
                .unwrap();
        }
        HaveLocalPranswer => {
            a.set_remote_description(Description::new(SdpType::Offer, offer_from(2)))
                .unwrap();
            let ans = a.create_answer().unwrap();
            a.set_local_description(Description::new(SdpType::Pranswer, ans))
                .unwrap();
        }
        HaveRemotePranswer => {
            let o = a.create_offer(OfferOptions::default()).unwrap();
            a.set_local_description(Description::new(SdpType::Offer, o.clone()))
                .unwrap();
            a.set_remote_description(Description::new(SdpType::Pranswer, answer_to(&o, 3)))
                .unwrap();
        }
        Closed => a.close(),
    }
    assert_eq!(a.signaling_state(), state);
    a
}

/// Makes `call` on `a` with a description that is right for it where one can be had, so
/// that the only possible failure is the state check.
fn make(a: &mut Jsep, call: Call) -> Result<(), Error> {
    match call {
        Call::CreateOffer => a.create_offer(OfferOptions::default()).map(|_| ()),
        Call::CreateAnswer => a.create_answer().map(|_| ()),
        Call::Close => {
            a.close();
            Ok(())
        }
        Call::SetLocal(t @ SdpType::Offer) => {
            let sdp = a
                .create_offer(OfferOptions::default())
                .unwrap_or_else(|_| offer_from(5));
            a.set_local_description(Description::new(t, sdp))
        }
        Call::SetLocal(t @ (SdpType::Answer | SdpType::Pranswer)) => {
            let sdp = a
                .create_answer()
                .unwrap_or_else(|_| answer_to(&offer_from(5), 6));
            a.set_local_description(Description::new(t, sdp))
        }
        Call::SetRemote(t @ SdpType::Offer) => {
            a.set_remote_description(Description::new(t, offer_from(7)))
        }
        Call::SetRemote(t @ (SdpType::Answer | SdpType::Pranswer)) => {
            let sdp = match a.pending_local_description() {
                Some(o)
                    if o.media
                        .iter()
                        .any(|m| m.setup == Some(rtcweb_jsep::sdp::Setup::ActPass)) =>
                {
                    answer_to(&o.to_sdp(), 8)
                }
                _ => answer_to(&offer_from(5), 6),
            };
            a.set_remote_description(Description::new(t, sdp))
        }
        Call::SetLocal(SdpType::Rollback) => {
            a.set_local_description(Description::new(SdpType::Rollback, ""))
        }
        Call::SetRemote(SdpType::Rollback) => {
            a.set_remote_description(Description::new(SdpType::Rollback, ""))
        }
    }
}

/// The W3C/JSEP table: `Some(next)` when allowed, `None` for InvalidStateError.
fn expected(state: SignalingState, call: Call) -> Option<SignalingState> {
    use SdpType::*;
    if call == Call::Close {
        return Some(Closed);
    }
    if state == Closed {
        return None;
    }
    match (state, call) {
        (s, Call::CreateOffer) => Some(s),
        (s @ (HaveRemoteOffer | HaveLocalPranswer), Call::CreateAnswer) => Some(s),
        (Stable | HaveLocalOffer, Call::SetLocal(Offer)) => Some(HaveLocalOffer),
        (HaveRemoteOffer | HaveLocalPranswer, Call::SetLocal(Answer)) => Some(Stable),
        (HaveRemoteOffer | HaveLocalPranswer, Call::SetLocal(Pranswer)) => Some(HaveLocalPranswer),
        (Stable | HaveRemoteOffer | HaveLocalOffer, Call::SetRemote(Offer)) => {
            Some(HaveRemoteOffer)
        }
        (HaveLocalOffer | HaveRemotePranswer, Call::SetRemote(Answer)) => Some(Stable),
        (HaveLocalOffer | HaveRemotePranswer, Call::SetRemote(Pranswer)) => {
            Some(HaveRemotePranswer)
        }
        (
            HaveLocalOffer | HaveRemoteOffer,
            Call::SetLocal(Rollback) | Call::SetRemote(Rollback),
        ) => Some(Stable),
        _ => None,
    }
}

fn all_calls() -> Vec<Call> {
    let mut calls = vec![Call::CreateOffer, Call::CreateAnswer, Call::Close];
    for t in SdpType::ALL {
        calls.push(Call::SetLocal(t));
        calls.push(Call::SetRemote(t));
    }
    calls
}

#[test]
fn every_state_against_every_call() {
    let mut checked = 0;
    for state in SignalingState::ALL {
        for call in all_calls() {
            let mut a = in_state(state);
            let before = a.clone();
            let result = make(&mut a, call);
            match expected(state, call) {
                Some(next) => {
                    assert!(result.is_ok(), "{state} {call}: {result:?}");
                    assert_eq!(a.signaling_state(), next, "{state} {call}");
                }
                None => {
                    let err = result.expect_err(&format!("{state} {call} must fail"));
                    assert_eq!(err, Error::InvalidState { call, state }, "{state} {call}");
                    assert_eq!(err.dom_name(), DomErrorName::InvalidStateError);
                    assert_eq!(a.signaling_state(), state, "{state} {call}: state changed");
                    assert_eq!(
                        a.pending_local_description(),
                        before.pending_local_description(),
                        "{state} {call}: pending local changed"
                    );
                    assert_eq!(
                        a.pending_remote_description(),
                        before.pending_remote_description(),
                        "{state} {call}: pending remote changed"
                    );
                }
            }
            // `check` agrees with the outcome.
            assert_eq!(
                before.check(call).is_ok(),
                expected(state, call).is_some(),
                "{state} {call}"
            );
            checked += 1;
        }
    }
    assert_eq!(checked, 6 * 11);
}
