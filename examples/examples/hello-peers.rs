//! Two peers, one message: the smallest whole use of `rtcweb-tokio`. Alice and Bob are two
//! `RtcPeerConnection`s in this process; they negotiate over in-memory signaling (a WebSocket
//! or HTTP in a real program), connect over UDP on 127.0.0.1, and trade one data channel
//! message each way.
//!
//! `cargo run -p rtcweb-examples --example hello-peers` (also run by `cargo test`).

use std::time::Duration;

use rtcweb_tokio::rtcweb::{SdpType, SignalingMessage as Msg};
use rtcweb_tokio::signaling::{Signaling, memory};
use rtcweb_tokio::{DataChannel, Events, PeerConfig, PeerEvent, RtcPeerConnection};
use tokio::sync::mpsc;

type Result<T> = std::result::Result<T, Box<dyn std::error::Error + Send + Sync>>;

#[tokio::main]
async fn main() -> Result<()> {
    // One UDP socket per peer, on loopback: nothing leaves this machine.
    let config = PeerConfig {
        bind: vec![([127, 0, 0, 1], 0).into()],
        ..Default::default()
    };
    let (alice, alice_events) = RtcPeerConnection::new(config.clone()).await?;
    let (bob, bob_events) = RtcPeerConnection::new(config).await?;
    // A channel makes Alice need a negotiation: her signaling task will offer.
    let hello = alice.create_data_channel("hello", &Default::default())?;
    let (to_bob, to_alice) = memory::pair();
    let (opened, mut at_bob) = mpsc::channel(1);
    tokio::spawn(signal(alice, alice_events, to_bob, opened.clone()));
    tokio::spawn(signal(bob, bob_events, to_alice, opened));

    let exchange = async {
        hello.wait_open().await?;
        hello.send_text("hello, Bob").await?;
        // Bob's end of the channel arrives as an event on his side.
        let bobs: DataChannel = at_bob.recv().await.ok_or("Bob got no channel")?;
        let m = bobs.recv().await.ok_or("closed")?;
        println!("Bob got: {}", m.text().unwrap_or_default());
        bobs.send_text("hello, Alice").await?;
        let m = hello.recv().await.ok_or("closed")?;
        println!("Alice got: {}", m.text().unwrap_or_default());
        Ok(())
    };
    tokio::time::timeout(Duration::from_secs(10), exchange).await?
}

/// One peer's signaling: our offer or answer and our candidates (trickle ICE) go to the other
/// peer as they come, theirs are applied, and channels the other peer opens go to `opened`.
async fn signal(
    pc: RtcPeerConnection,
    mut events: Events,
    mut peer: impl Signaling,
    opened: mpsc::Sender<DataChannel>,
) -> Result<()> {
    loop {
        tokio::select! {
            Some(event) = events.recv() => match event {
                PeerEvent::NegotiationNeeded => {
                    let offer = pc.create_offer()?;
                    pc.set_local_description(&offer)?;
                    peer.send(Msg::Description(offer)).await?;
                }
                PeerEvent::IceCandidate(Some(c)) => peer.send(Msg::Candidate(c)).await?,
                PeerEvent::DataChannel(dc) => opened.send(dc).await?,
                _ => {}
            },
            Ok(Some(message)) = peer.recv() => match message {
                Msg::Description(d) => {
                    pc.set_remote_description(&d)?;
                    if d.sdp_type == SdpType::Offer {
                        let answer = pc.create_answer()?;
                        pc.set_local_description(&answer)?;
                        peer.send(Msg::Description(answer)).await?;
                    }
                }
                Msg::Candidate(c) => pc.add_ice_candidate(&c)?,
                _ => {}
            },
            else => return Ok(()),
        }
    }
}
