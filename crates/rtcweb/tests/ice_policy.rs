//! ICE outcomes the application must see without waiting: a relay-only connection with no
//! relay fails at once against a peer that does not trickle.

#![allow(clippy::unwrap_used)] // test set-up

mod common;

use std::time::Instant;

use rtcweb::{IceConnectionState, IceTransportPolicy, PeerConnection, SessionDescription};

fn pc(n: u8, relay_only: bool) -> PeerConnection {
    let mut config = common::config(u64::from(n));
    if relay_only {
        config.ice_transport_policy = IceTransportPolicy::Relay;
    }
    PeerConnection::new(config).unwrap()
}

#[test]
fn relay_only_without_a_relay_fails_against_a_non_trickle_peer() {
    let now = Instant::now();
    let mut a = pc(1, true);
    let mut b = pc(2, false);
    a.add_local_address(now, "192.0.2.1:5000".parse().unwrap());
    b.add_local_address(now, "192.0.2.2:5000".parse().unwrap());
    a.create_data_channel(now, "x", &Default::default())
        .unwrap();
    let offer = a.create_offer().unwrap();
    a.set_local_description(now, &offer).unwrap();
    b.set_remote_description(now, &offer).unwrap();
    let answer = b.create_answer().unwrap();
    b.set_local_description(now, &answer).unwrap();
    // The answer as a peer without trickle writes it: every candidate in it, no
    // ice-options:trickle.
    let full = b.local_description_sdp().unwrap();
    let sdp: String = full
        .split_inclusive("\r\n")
        .filter(|l| !l.starts_with("a=ice-options"))
        .collect();
    assert!(sdp.contains("a=candidate"));
    a.set_remote_description(now, &SessionDescription::answer(sdp))
        .unwrap();
    assert_eq!(a.ice_connection_state(), IceConnectionState::Failed);
}

#[test]
fn candidates_are_gathered_from_the_first_local_description_on() {
    let now = Instant::now();
    let mut a = pc(3, false);
    a.add_local_address(now, "192.0.2.1:5000".parse().unwrap());
    a.create_data_channel(now, "x", &Default::default())
        .unwrap();
    let offer = a.create_offer().unwrap();
    let before: Vec<_> = std::iter::from_fn(|| a.poll_event()).collect();
    assert!(
        !before
            .iter()
            .any(|e| matches!(e, rtcweb::Event::IceCandidate(_))),
        "{before:?}"
    );
    a.set_local_description(now, &offer).unwrap();
    let after: Vec<_> = std::iter::from_fn(|| a.poll_event()).collect();
    assert!(after.iter().any(|e| matches!(e, rtcweb::Event::IceCandidate(Some(c)) if c.candidate.contains("192.0.2.1"))), "{after:?}");
}
