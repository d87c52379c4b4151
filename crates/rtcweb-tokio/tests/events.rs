//! A slow application loses no state change or candidate: B's application reads one event
//! per 100 ms while A floods it with RTP; the media events that do not fit are dropped and
//! counted, and every control event still arrives, in order.

#![allow(clippy::unwrap_used)] // test set-up

use std::time::{Duration, Instant};

use rtcweb::{Direction, MediaKind, PeerConnectionState, SignalingState};
use rtcweb_tokio::{MEDIA_EVENT_QUEUE, PeerConfig, PeerEvent, RtcPeerConnection};

fn loopback() -> PeerConfig {
    PeerConfig {
        bind: vec!["127.0.0.1:0".parse().unwrap()],
        ..PeerConfig::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_application_sees_every_state_change_and_candidate() {
    let (a, mut ea) = RtcPeerConnection::new(loopback()).await.unwrap();
    let (b, mut eb) = RtcPeerConnection::new(loopback()).await.unwrap();
    let audio = a.add_transceiver(MediaKind::Audio, Direction::SendRecv);
    let offer = a.create_offer().unwrap();
    a.set_local_description(&offer).unwrap();
    b.set_remote_description(&offer).unwrap();
    let answer = b.create_answer().unwrap();
    b.set_local_description(&answer).unwrap();
    a.set_remote_description(&answer).unwrap();
    // A's application is quick: it forwards A's candidates to B.
    let to_b = b.clone();
    tokio::spawn(async move {
        while let Some(e) = ea.recv().await {
            if let PeerEvent::IceCandidate(Some(c)) = e {
                let _ = to_b.add_ice_candidate(&c);
            }
        }
    });
    // B's application is slow for the first 3 s: one event every 100 ms.
    let slow_until = Instant::now() + Duration::from_secs(3);
    let reader = tokio::spawn(async move {
        let mut seen = Vec::new();
        while let Some(e) = eb.recv().await {
            if Instant::now() < slow_until {
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            let closed = matches!(e, PeerEvent::ConnectionState(PeerConnectionState::Closed));
            seen.push(e);
            if closed {
                break;
            }
        }
        seen
    });
    a.connected(Duration::from_secs(10)).await.unwrap();
    // The flood: RTP as fast as A can send it, while B's application sleeps.
    let packet = {
        let mut p = vec![0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
        p.resize(12 + 160, 0x55);
        p
    };
    let mut sent = 0u32;
    while Instant::now() < slow_until - Duration::from_millis(1500) {
        let mut p = packet.clone();
        p[2..4].copy_from_slice(&(sent as u16).to_be_bytes());
        a.write_rtp(audio, &p).unwrap();
        sent += 1;
        if sent.is_multiple_of(256) {
            tokio::task::yield_now().await;
        }
    }
    // Let the last packets arrive, then end B's connection: a state change after the flood.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let b_candidates = b
        .local_description()
        .unwrap()
        .lines()
        .filter(|l| l.starts_with("a=candidate:"))
        .count();
    b.close();
    let seen = tokio::time::timeout(Duration::from_secs(60), reader)
        .await
        .unwrap()
        .unwrap();

    let states: Vec<PeerConnectionState> = seen
        .iter()
        .filter_map(|e| match e {
            PeerEvent::ConnectionState(s) => Some(*s),
            _ => None,
        })
        .collect();
    let candidates = seen
        .iter()
        .filter(|e| matches!(e, PeerEvent::IceCandidate(Some(_))))
        .count();
    let signaling: Vec<SignalingState> = seen
        .iter()
        .filter_map(|e| match e {
            PeerEvent::SignalingState(s) => Some(*s),
            _ => None,
        })
        .collect();
    let rtp = seen
        .iter()
        .filter(|e| matches!(e, PeerEvent::Rtp { .. }))
        .count();
    let dropped = b.dropped_events();
    println!(
        "A sent {sent} RTP packets; B's slow application read {} events: {rtp} RTP, states \
         {states:?}, {candidates} candidates, signaling {signaling:?}; {dropped} media events dropped",
        seen.len()
    );
    // The flood really outran the application: media events were dropped, and counted.
    assert!(dropped > 0, "the flood never filled the media queue");
    assert!(rtp <= MEDIA_EVENT_QUEUE + 64, "{rtp} RTP events kept");
    // Nothing is counted twice: what B kept and dropped is at most what A sent (the
    // loopback path may lose some of the flood).
    assert!(rtp as u64 + dropped <= u64::from(sent));
    // Every control event arrived, in order.
    assert_eq!(
        states,
        vec![
            PeerConnectionState::Connecting,
            PeerConnectionState::Connected,
            PeerConnectionState::Closed
        ]
    );
    assert_eq!(candidates, b_candidates, "every local candidate of B");
    assert!(
        seen.iter()
            .any(|e| matches!(e, PeerEvent::IceCandidate(None)))
    );
    assert_eq!(
        signaling,
        vec![SignalingState::HaveRemoteOffer, SignalingState::Stable]
    );
}
