//! `echo-client --url http://127.0.0.1:8080/offer [--test 0|1] [--ice-server URL]...
//! [--relay-only] [--video DIR]`
//!
//! The webrtc-echoes client: offers a data channel (every candidate in the offer: gathering
//! completes first), posts the offer as JSON to `--url` and applies the JSON answer
//! (`rtcweb_tokio::signaling::http::post_offer`).
//! Test 0 passes when DTLS connects; test 1 (the default) when a random short string sent
//! on the data channel comes back. Exits 0 on success, 1 on failure or after 20 s.
//! `--ice-server` takes `stun:HOST:PORT` or `turn:USER:PASS@HOST:PORT[?transport=tcp]`;
//! `--relay-only` uses relayed candidates only.
//! `--video DIR` also offers a `sendrecv` video transceiver (RTP session, VP8) and, once the
//! data channel test passed, sends the VP8 frames stored one per file in DIR, 30 a second,
//! looping (from the first frame again when the peer asks for a key frame): the test then
//! passes only when 30 whole VP8 frames, one a key frame, come back (an echo server sends
//! our video back, re-encoded or not).

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use clap::Parser;
use rtcweb::{
    Direction, MediaConfig, MediaKind, MediaMode, PeerConnectionState, SessionDescription,
    TransceiverId,
};
use rtcweb_examples::cli::IceServerArgs;
use rtcweb_examples::{logging, media};
use rtcweb_tokio::signaling::http::post_offer;
use rtcweb_tokio::{Events, PeerConfig, PeerEvent, RtcPeerConnection};

const DEADLINE: Duration = Duration::from_secs(20);
const GATHERING_TIMEOUT: Duration = Duration::from_secs(5);
/// Frames per second `--video` sends.
const FPS: u32 = 30;
/// Whole VP8 frames that must come back for `--video` to pass.
const FRAMES_BACK: u64 = 30;

/// The webrtc-echoes client: offers a data channel to an echo server and checks the echo.
/// Exits 0 when the test passes, 1 when it fails or after 20 s.
#[derive(Parser)]
struct Args {
    /// Where to POST the offer (JSON `RTCSessionDescriptionInit`), e.g.
    /// `http://127.0.0.1:8080/offer`.
    #[arg(long, value_name = "URL")]
    url: String,
    /// 0: passes when DTLS connects; 1: when a random short string sent on the data channel
    /// comes back.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u8).range(0..=1))]
    test: u8,
    #[command(flatten)]
    ice: IceServerArgs,
    /// Use relayed candidates only.
    #[arg(long)]
    relay_only: bool,
    /// Also send the VP8 frames stored one per file in DIR (the first a key frame) on a
    /// sendrecv video transceiver, and pass only when 30 whole VP8 frames come back.
    #[arg(long, value_name = "DIR")]
    video: Option<PathBuf>,
}

#[tokio::main]
async fn main() -> ExitCode {
    logging::init("warn");
    let args = Args::parse();
    let started = Instant::now();
    let result = match tokio::time::timeout(DEADLINE, run(&args)).await {
        Ok(r) => r,
        Err(_) => Err(format!("no result within {} s", DEADLINE.as_secs())),
    };
    let ms = started.elapsed().as_millis();
    match result {
        Ok(what) => {
            println!("echo-client: test {} passed in {ms} ms: {what}", args.test);
            ExitCode::SUCCESS
        }
        Err(e) => {
            println!("echo-client: test {} FAILED after {ms} ms: {e}", args.test);
            ExitCode::FAILURE
        }
    }
}

async fn run(args: &Args) -> Result<String, String> {
    let frames = match &args.video {
        Some(dir) => media::vp8_frames(dir).map_err(|e| e.to_string())?,
        None => Vec::new(),
    };
    let mut config = PeerConfig {
        ice_servers: args.ice.ice_servers.clone(),
        relay_only: args.relay_only,
        ..PeerConfig::default()
    };
    if !frames.is_empty() {
        config.media = MediaConfig {
            mode: MediaMode::Session,
            ..MediaConfig::default()
        };
    }
    let (pc, mut events) = RtcPeerConnection::new(config)
        .await
        .map_err(|e| e.to_string())?;
    let video =
        (!frames.is_empty()).then(|| pc.add_transceiver(MediaKind::Video, Direction::SendRecv));
    let dc = pc
        .create_data_channel("echo", &Default::default())
        .map_err(|e| e.to_string())?;
    let offer = pc.create_offer().map_err(|e| e.to_string())?;
    pc.set_local_description(&offer)
        .map_err(|e| e.to_string())?;
    if tokio::time::timeout(GATHERING_TIMEOUT, gathering_complete(&mut events))
        .await
        .is_err()
    {
        eprintln!("echo-client: gathering did not complete; offering the candidates so far");
    }
    let offer = SessionDescription::offer(pc.local_description().ok_or("no local description")?);
    let answer = post_offer(&args.url, &offer)
        .await
        .map_err(|e| format!("POST {}: {e}", args.url))?;
    pc.set_remote_description(&answer)
        .map_err(|e| format!("answer refused: {e}"))?;

    if args.test == 0 {
        return dtls_connected(&pc, &mut events).await;
    }
    let text = format!("echo-{:016x}", rtcweb_tokio::net::os_seed());
    let round_trip = async {
        dc.wait_open().await.map_err(|e| format!("channel: {e}"))?;
        dc.send_text(&text).await.map_err(|e| e.to_string())?;
        while let Some(m) = dc.recv().await {
            if m.text() == Some(text.as_str()) {
                return Ok(format!(
                    "{text:?} came back on data channel {:?}",
                    dc.label()
                ));
            }
            eprintln!("echo-client: unexpected message {:?}", m.text());
        }
        Err("the channel closed".to_string())
    };
    let echoed = tokio::select! {
        r = round_trip => r?,
        e = failure(&mut events) => return Err(e),
    };
    let Some(video) = video else {
        return Ok(echoed);
    };
    let pt = media::payload_type(&answer.sdp, "VP8").ok_or("the answer has no VP8")?;
    let back = video_echo(&pc, &mut events, video, pt, &frames).await?;
    Ok(format!("{echoed}; {back}"))
}

/// Sends `frames` on `video` at [`FPS`], looping, until [`FRAMES_BACK`] whole VP8 frames
/// (one a key frame) came back on it.
async fn video_echo(
    pc: &RtcPeerConnection,
    events: &mut Events,
    video: TransceiverId,
    pt: u8,
    frames: &[Vec<u8>],
) -> Result<String, String> {
    let mut tick = tokio::time::interval(Duration::from_secs(1) / FPS);
    let (mut next, mut sent, mut timestamp) = (0usize, 0u64, 0u32);
    let (mut back, mut key_frames_back) = (0u64, 0u64);
    let mut resolution = None;
    loop {
        tokio::select! {
            _ = tick.tick() => {
                let frame = frames.get(next).ok_or("no frames to send")?;
                pc.write_frame(video, pt, timestamp, frame).map_err(|e| e.to_string())?;
                sent += 1;
                timestamp = timestamp.wrapping_add(90_000 / FPS);
                next = (next + 1) % frames.len();
            }
            e = events.recv() => match e {
                Some(PeerEvent::Frame { transceiver, frame })
                    if transceiver == video && frame.payload_type == pt =>
                {
                    back += 1;
                    if frame.keyframe {
                        key_frames_back += 1;
                        resolution = frame.resolution.or(resolution);
                    }
                    if back >= FRAMES_BACK && key_frames_back > 0 {
                        let (w, h) = resolution.unwrap_or_default();
                        return Ok(format!(
                            "{back} VP8 frames ({key_frames_back} key, {w}x{h}) came back \
                             after {sent} sent"
                        ));
                    }
                }
                Some(PeerEvent::KeyframeRequest { transceiver, .. }) if transceiver == video => {
                    next = 0;
                }
                Some(PeerEvent::ConnectionState(
                    s @ (PeerConnectionState::Failed | PeerConnectionState::Closed),
                )) => return Err(format!("connection {s:?} after {back} frames came back")),
                Some(_) => {}
                None => return Err("the connection ended".into()),
            },
        }
    }
}

async fn gathering_complete(events: &mut Events) {
    while let Some(e) = events.recv().await {
        if matches!(e, PeerEvent::IceCandidate(None)) {
            return;
        }
    }
}

async fn dtls_connected(pc: &RtcPeerConnection, events: &mut Events) -> Result<String, String> {
    while let Some(e) = events.recv().await {
        match e {
            PeerEvent::DtlsConnected { version, .. } => {
                let pair = pc
                    .selected_candidate_pair()
                    .map(|(l, r)| format!("{l} <-> {r}"))
                    .unwrap_or_default();
                return Ok(format!("{version} connected over {pair}"));
            }
            PeerEvent::ConnectionState(
                s @ (PeerConnectionState::Failed | PeerConnectionState::Closed),
            ) => return Err(format!("connection {s:?}")),
            _ => {}
        }
    }
    Err("the connection ended".into())
}

/// Resolves when the connection fails or closes.
async fn failure(events: &mut Events) -> String {
    while let Some(e) = events.recv().await {
        if let PeerEvent::ConnectionState(
            s @ (PeerConnectionState::Failed | PeerConnectionState::Closed),
        ) = e
        {
            return format!("connection {s:?}");
        }
    }
    std::future::pending().await
}
