//! Dropping every handle closes the connection and ends its task, connected or not.

#![allow(clippy::unwrap_used)] // test set-up

use std::time::Duration;

use rtcweb_tokio::{PeerConfig, RtcPeerConnection, live_drivers};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropped_handles_end_their_drivers() {
    let config = || PeerConfig {
        bind: vec!["127.0.0.1:0".parse().unwrap()],
        ..PeerConfig::default()
    };
    let mut keep = Vec::new();
    for _ in 0..20 {
        let (a, _) = RtcPeerConnection::new(config()).await.unwrap();
        let (b, _) = RtcPeerConnection::new(config()).await.unwrap();
        let dc = a.create_data_channel("x", &Default::default()).unwrap();
        let offer = a.create_offer().unwrap();
        a.set_local_description(&offer).unwrap();
        b.set_remote_description(&offer).unwrap();
        let answer = b.create_answer().unwrap();
        b.set_local_description(&answer).unwrap();
        a.set_remote_description(&answer).unwrap();
        keep.push((a, b, dc));
    }
    assert_eq!(live_drivers(), 40);
    // Let some of them connect, then drop everything without calling close().
    tokio::time::sleep(Duration::from_millis(300)).await;
    drop(keep);
    for _ in 0..100 {
        if live_drivers() == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(live_drivers(), 0);
}
