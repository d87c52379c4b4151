//! `echo-client --url http://127.0.0.1:8080/offer [--test 0|1] [--ice-server URL]...
//! [--relay-only]`
//!
//! The webrtc-echoes client: offers a data channel (every candidate in the offer: gathering
//! completes first), posts the offer as JSON to `--url` and applies the JSON answer.
//! Test 0 passes when DTLS connects; test 1 (the default) when a random short string sent
//! on the data channel comes back. Exits 0 on success, 1 on failure or after 20 s.
//! `--ice-server` takes `stun:HOST:PORT` or `turn:USER:PASS@HOST:PORT[?transport=tcp]`;
//! `--relay-only` uses relayed candidates only.

#[path = "../echo_common.rs"]
mod common;

use std::process::ExitCode;
use std::time::{Duration, Instant};

use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Bytes;
use hyper::{Request, StatusCode, header};
use hyper_util::rt::TokioIo;
use rtcweb::{PeerConnectionState, SdpType, SessionDescription};
use rtcweb_tokio::{Events, PeerConfig, PeerEvent, RtcPeerConnection};
use tokio::net::TcpStream;

const USAGE: &str = "usage: echo-client --url http://HOST:PORT/offer [--test 0|1] \
                     [--ice-server URL]... [--relay-only]";
const DEADLINE: Duration = Duration::from_secs(20);
const GATHERING_TIMEOUT: Duration = Duration::from_secs(5);
/// Largest answer accepted.
const MAX_ANSWER: usize = 256 * 1024;

struct Args {
    url: String,
    test: u8,
    ice_servers: Vec<rtcweb::IceServer>,
    relay_only: bool,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        url: String::new(),
        test: 1,
        ice_servers: Vec::new(),
        relay_only: false,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().ok_or(format!("{flag} needs a value\n{USAGE}"));
        match flag.as_str() {
            "--url" => args.url = value()?,
            "--test" => {
                args.test = match value()?.as_str() {
                    "0" => 0,
                    "1" => 1,
                    other => return Err(format!("unknown test {other}: 0 or 1")),
                }
            }
            "--ice-server" => args.ice_servers.push(common::ice_server(&value()?)?),
            "--relay-only" => args.relay_only = true,
            "-h" | "--help" => return Err(USAGE.into()),
            other => return Err(format!("unknown argument {other}\n{USAGE}")),
        }
    }
    if args.url.is_empty() {
        return Err(USAGE.into());
    }
    Ok(args)
}

#[tokio::main]
async fn main() -> ExitCode {
    common::init_logging();
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
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
        ice_servers: args.ice_servers.clone(),
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
    let answer = post_offer(&args.url, &offer).await?;
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

/// `POST url` with the offer as JSON; the answer comes back as JSON (plain HTTP/1.1).
async fn post_offer(url: &str, offer: &SessionDescription) -> Result<SessionDescription, String> {
    let rest = url
        .strip_prefix("http://")
        .ok_or_else(|| format!("{url}: only http:// URLs"))?;
    let (authority, path) = match rest.find('/') {
        Some(i) => rest.split_at(i),
        None => (rest, "/"),
    };
    let host_port = if authority
        .rsplit_once(':')
        .is_some_and(|(_, p)| !p.contains(']'))
    {
        authority.to_owned()
    } else {
        format!("{authority}:80")
    };
    let stream = TcpStream::connect(host_port.as_str())
        .await
        .map_err(|e| format!("connect {host_port}: {e}"))?;
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .map_err(|e| e.to_string())?;
    tokio::spawn(conn);
    let request = Request::post(path)
        .header(header::HOST, authority)
        .header(header::CONTENT_TYPE, "application/json")
        .body(Full::new(Bytes::from(offer.to_json())))
        .map_err(|e| e.to_string())?;
    let response = sender
        .send_request(request)
        .await
        .map_err(|e| format!("POST {url}: {e}"))?;
    let status = response.status();
    let body = Limited::new(response.into_body(), MAX_ANSWER)
        .collect()
        .await
        .map_err(|e| format!("reading the answer: {e}"))?
        .to_bytes();
    let body = String::from_utf8_lossy(&body);
    if status != StatusCode::OK {
        return Err(format!("POST {url}: {status}: {}", body.trim()));
    }
    let answer = SessionDescription::from_json(&body).map_err(|e| e.to_string())?;
    if answer.sdp_type != SdpType::Answer {
        return Err(format!("expected an answer, got {:?}", answer.sdp_type));
    }
    Ok(answer)
}
