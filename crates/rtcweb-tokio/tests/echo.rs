//! What the webrtc-echoes server relies on: channels whose connection closes end their
//! readers, and media sent back on the transceivers an offer created.

#![allow(clippy::unwrap_used)] // test set-up

use std::time::Duration;

use rtcweb_tokio::{ChannelState, PeerConfig, PeerEvent, RtcPeerConnection};

fn loopback() -> PeerConfig {
    PeerConfig {
        bind: vec!["127.0.0.1:0".parse().unwrap()],
        ..PeerConfig::default()
    }
}

/// Non-trickle offer/answer; events go to the returned receivers.
async fn pair(
    config: PeerConfig,
) -> (
    RtcPeerConnection,
    RtcPeerConnection,
    rtcweb_tokio::Events,
    rtcweb_tokio::Events,
    rtcweb_tokio::DataChannel,
) {
    let (a, ea) = RtcPeerConnection::new(config.clone()).await.unwrap();
    let (b, eb) = RtcPeerConnection::new(config).await.unwrap();
    let dc = a.create_data_channel("echo", &Default::default()).unwrap();
    let offer = a.create_offer().unwrap();
    a.set_local_description(&offer).unwrap();
    b.set_remote_description(&offer).unwrap();
    let answer = b.create_answer().unwrap();
    b.set_local_description(&answer).unwrap();
    a.set_remote_description(&answer).unwrap();
    (a, b, ea, eb, dc)
}

/// Forwards A's candidates to B, B's to A, until B announces A's channel (returned).
async fn connect(
    a: &RtcPeerConnection,
    b: &RtcPeerConnection,
    ea: rtcweb_tokio::Events,
    eb: &mut rtcweb_tokio::Events,
) -> rtcweb_tokio::DataChannel {
    tokio::spawn(forward_candidates(ea, b.clone()));
    loop {
        match tokio::time::timeout(Duration::from_secs(10), eb.recv())
            .await
            .unwrap()
            .unwrap()
        {
            PeerEvent::DataChannel(dc) => break dc,
            PeerEvent::IceCandidate(Some(c)) => a.add_ice_candidate(&c).unwrap(),
            _ => {}
        }
    }
}

async fn forward_candidates(mut from: rtcweb_tokio::Events, to: RtcPeerConnection) {
    while let Some(e) = from.recv().await {
        if let PeerEvent::IceCandidate(Some(c)) = e {
            let _ = to.add_ice_candidate(&c);
        }
    }
}

/// A reader blocked in `recv()` must wake up with `None` when the connection closes, or an
/// echo task (one per channel) waits forever and keeps the connection's memory.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn closing_the_connection_ends_every_channel_reader() {
    let (a, b, ea, mut eb, dc) = pair(loopback()).await;
    let remote = connect(&a, &b, ea, &mut eb).await;
    dc.wait_open().await.unwrap();
    let reader = tokio::spawn({
        let dc = dc.clone();
        async move { dc.recv().await }
    });
    let remote_reader = tokio::spawn(async move { remote.recv().await });
    tokio::time::sleep(Duration::from_millis(50)).await;
    a.close();
    let got = tokio::time::timeout(Duration::from_secs(2), reader).await;
    assert!(
        matches!(got, Ok(Ok(None))),
        "the local reader did not end: {got:?}"
    );
    assert_eq!(dc.state(), ChannelState::Closed);
    b.close();
    let got = tokio::time::timeout(Duration::from_secs(2), remote_reader).await;
    assert!(
        matches!(got, Ok(Ok(None))),
        "the remote reader did not end: {got:?}"
    );
}

/// A reader that falls behind must lose nothing on a reliable channel, and the connection
/// must not hold its backlog without bound: past `max_unread` it stops taking data from
/// the peer, whose sender then waits (its send buffer fills), until the reader catches up.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_reader_loses_nothing_and_holds_the_sender_back() {
    const MESSAGES: u32 = 40_000;
    const SIZE: usize = 1000;
    let config = PeerConfig {
        max_unread: 256 * 1024,
        ..loopback()
    };
    let (a, b, ea, mut eb, dc) = pair(config).await;
    let remote = connect(&a, &b, ea, &mut eb).await;
    dc.wait_open().await.unwrap();
    let sent = std::sync::Arc::new(std::sync::atomic::AtomicU32::new(0));
    let sender = tokio::spawn({
        let (dc, sent) = (dc.clone(), sent.clone());
        async move {
            for i in 0..MESSAGES {
                let mut m = i.to_be_bytes().to_vec();
                m.resize(SIZE, 0x5a);
                dc.send(&m).await.unwrap();
                sent.store(i + 1, std::sync::atomic::Ordering::SeqCst);
            }
        }
    });
    // Nobody reads: the sender must come to a stop short of the end (what it has sent
    // fits in its send buffer, the windows and `max_unread`). Waits for 300 ms without
    // progress rather than a fixed time, so a slow machine does not read as a stall.
    let sent_now = || sent.load(std::sync::atomic::Ordering::SeqCst);
    let mut stalled_at = sent_now();
    for _ in 0..100 {
        tokio::time::sleep(Duration::from_millis(300)).await;
        if sent_now() == stalled_at || sender.is_finished() {
            break;
        }
        stalled_at = sent_now();
    }
    assert!(!sender.is_finished(), "the sender never waited");
    assert!(stalled_at < MESSAGES, "the sender sent everything");
    // The stall holds: another second with nobody reading, and not one more message left.
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(
        sent_now(),
        stalled_at,
        "the sender kept going while nobody read"
    );
    // Now read everything, in order.
    for i in 0..MESSAGES {
        let m = tokio::time::timeout(Duration::from_secs(10), remote.recv())
            .await
            .unwrap_or_else(|_| panic!("message {i} did not come"))
            .unwrap();
        assert_eq!(m.data.len(), SIZE);
        assert_eq!(u32::from_be_bytes(m.data[..4].try_into().unwrap()), i);
    }
    sender.await.unwrap();
}
