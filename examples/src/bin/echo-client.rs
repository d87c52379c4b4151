//! `echo-client --url http://127.0.0.1:8080/offer [--test 0|1] [--ice-server URL]...
//! [--relay-only]`
//!
//! The webrtc-echoes client: offers a data channel (every candidate in the offer: gathering
//! completes first), posts the offer as JSON to `--url` and applies the JSON answer
//! (`rtcweb_tokio::signaling::http::post_offer`).
//! Test 0 passes when DTLS connects; test 1 (the default) when a random short string sent
//! on the data channel comes back. Exits 0 on success, 1 on failure or after 20 s.
//! `--ice-server` takes `stun:HOST:PORT` or `turn:USER:PASS@HOST:PORT[?transport=tcp]`;
//! `--relay-only` uses relayed candidates only.

use std::process::ExitCode;
use std::time::{Duration, Instant};

use clap::Parser;
use rtcweb::{PeerConnectionState, SessionDescription};
use rtcweb_examples::cli::IceServerArgs;
use rtcweb_examples::logging;
use rtcweb_tokio::signaling::http::post_offer;
use rtcweb_tokio::{Events, PeerConfig, PeerEvent, RtcPeerConnection};

const DEADLINE: Duration = Duration::from_secs(20);
const GATHERING_TIMEOUT: Duration = Duration::from_secs(5);

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
    let config = PeerConfig {
        ice_servers: args.ice.ice_servers.clone(),
        relay_only: args.relay_only,
        ..PeerConfig::default()
    };
    let (pc, mut events) = RtcPeerConnection::new(config)
        .await
        .map_err(|e| e.to_string())?;
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
    tokio::select! {
        r = round_trip => r,
        e = failure(&mut events) => Err(e),
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
