//! Two RtcPeerConnections over real UDP sockets on 127.0.0.1.

#![allow(clippy::unwrap_used)] // test set-up

use std::time::Duration;

use rtcweb_tokio::{PeerConfig, PeerEvent, RtcPeerConnection, live_drivers};

fn loopback() -> PeerConfig {
    PeerConfig {
        bind: vec!["127.0.0.1:0".parse().unwrap()],
        ..PeerConfig::default()
    }
}

/// Offer/answer with every candidate in the SDP (no trickle), as in-process signaling.
async fn connect(a: &RtcPeerConnection, b: &RtcPeerConnection) {
    let offer = a.create_offer().unwrap();
    a.set_local_description(&offer).unwrap();
    b.set_remote_description(&offer).unwrap();
    let answer = b.create_answer().unwrap();
    b.set_local_description(&answer).unwrap();
    a.set_remote_description(&answer).unwrap();
}

/// Forwards trickled candidates from one side's events to the other, and hands over the
/// peer's incoming data channels.
fn pump(
    mut events: rtcweb_tokio::Events,
    to: RtcPeerConnection,
    channels: tokio::sync::mpsc::UnboundedSender<rtcweb_tokio::DataChannel>,
) {
    tokio::spawn(async move {
        while let Some(e) = events.recv().await {
            match e {
                PeerEvent::IceCandidate(Some(c)) => {
                    let _ = to.add_ice_candidate(&c);
                }
                PeerEvent::IceCandidate(None) => {
                    let _ = to.add_ice_candidate(&rtcweb::IceCandidateInit {
                        candidate: String::new(),
                        sdp_mid: None,
                        sdp_m_line_index: None,
                        username_fragment: None,
                    });
                }
                PeerEvent::DataChannel(dc) => {
                    let _ = channels.send(dc);
                }
                _ => {}
            }
        }
    });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn data_channel_echo_over_loopback_and_nothing_leaks() {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_test_writer()
        .try_init();
    let before = live_drivers();
    {
        let (a, ea) = RtcPeerConnection::new(loopback()).await.unwrap();
        let (b, eb) = RtcPeerConnection::new(loopback()).await.unwrap();
        let (_tx_a, _rx_a) = tokio::sync::mpsc::unbounded_channel();
        let (tx_b, mut rx_b) = tokio::sync::mpsc::unbounded_channel();
        let dc = a.create_data_channel("echo", &Default::default()).unwrap();
        connect(&a, &b).await;
        pump(ea, b.clone(), _tx_a);
        pump(eb, a.clone(), tx_b);
        a.connected(Duration::from_secs(10)).await.unwrap();
        b.connected(Duration::from_secs(10)).await.unwrap();
        let remote = tokio::time::timeout(Duration::from_secs(10), rx_b.recv())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(remote.label(), "echo");
        // B echoes.
        tokio::spawn(async move {
            while let Some(m) = remote.recv().await {
                if m.binary {
                    remote.send(&m.data).await.unwrap()
                } else {
                    remote.send_text(m.text().unwrap()).await.unwrap()
                }
            }
        });
        dc.wait_open().await.unwrap();
        dc.send_text("ping").await.unwrap();
        let m = tokio::time::timeout(Duration::from_secs(5), dc.recv())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(m.text(), Some("ping"));
        // 8 MiB in 64 KiB messages, with back-pressure, all echoed back.
        let chunk = vec![0x5a; 64 * 1024];
        let sender = dc.clone();
        let send = tokio::spawn(async move {
            for _ in 0..128 {
                sender.send(&chunk).await.unwrap();
            }
        });
        let mut got = 0;
        while got < 128 * 64 * 1024 {
            let m = tokio::time::timeout(Duration::from_secs(10), dc.recv())
                .await
                .unwrap()
                .unwrap();
            got += m.data.len();
        }
        send.await.unwrap();
        assert!(a.selected_candidate_pair().is_some());
        let (version, _) = a.dtls_info();
        assert!(version.is_some());
        assert!(live_drivers() >= before + 2);
        a.close();
        b.close();
    }
    // Every handle is gone: the drivers stop and release their sockets.
    for _ in 0..100 {
        if live_drivers() == before {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(live_drivers(), before);
}
