//! `media-peer --listen 127.0.0.1:8080 [--send DIR] [--report FILE] [--no-twcc]
//! [--listen-address-only]`
//!
//! A media endpoint on the RTP session (`rtcweb::MediaMode::Session`): answers one
//! `POST /offer` at a time (the webrtc-echoes convention, JSON `RTCSessionDescriptionInit`
//! both ways, every candidate in the SDP), receives the offerer's video as whole frames, and
//! with `--send DIR` sends back on the same transceiver the VP8 frames stored one per file in
//! DIR (sorted by name, e.g. `gst-launch-1.0 ... ! vp8enc ! multifilesink
//! location=DIR/frame-%05d.vp8`), 30 per second, looping, restarting at the first frame (a
//! key frame) when the peer asks for a key frame.
//!
//! What it received and sent is written as JSON to `--report` every half second (replaced
//! atomically): frames and key frames per codec, the resolutions VP8 key frames announce,
//! the key frame requests it got, and its `getStats()` report. `--no-twcc` turns off
//! transport-wide CC (no feedback to the sender's bandwidth estimator), for comparison.
//!
//! ICE candidates are gathered on the `--listen` address and on every interface address
//! (`rtcweb_examples::net::ice_bind_addresses`), so that a browser on another local address
//! reaches us; `--listen-address-only` gathers on the `--listen` address alone.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use rtcweb::{
    Direction, MediaConfig, MediaKind, MediaMode, PeerConnectionState, SdpType, SessionDescription,
    SignalingMessage, TransceiverId,
};
use rtcweb_tokio::signaling::Signaling;
use rtcweb_tokio::signaling::http::{HttpSession, HttpSignalingServer};
use rtcweb_tokio::{Events, PeerConfig, PeerEvent, RtcPeerConnection};
use tracing::{info, warn};

const USAGE: &str = "usage: media-peer --listen ADDR:PORT [--send DIR] [--report FILE] [--no-twcc] \
                     [--listen-address-only]";
const GATHERING_TIMEOUT: Duration = Duration::from_secs(5);
const FPS: u32 = 30;

struct Args {
    listen: SocketAddr,
    send: Option<PathBuf>,
    report: Option<PathBuf>,
    twcc: bool,
    listen_address_only: bool,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        listen: "127.0.0.1:8080".parse().map_err(|_| "default address")?,
        send: None,
        report: None,
        twcc: true,
        listen_address_only: false,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().ok_or(format!("{flag} needs a value\n{USAGE}"));
        match flag.as_str() {
            "--listen" => {
                let v = value()?;
                args.listen = v.parse().map_err(|e| format!("bad --listen {v}: {e}"))?;
            }
            "--send" => args.send = Some(value()?.into()),
            "--report" => args.report = Some(value()?.into()),
            "--no-twcc" => args.twcc = false,
            "--listen-address-only" => args.listen_address_only = true,
            _ => return Err(USAGE.into()),
        }
    }
    Ok(args)
}

/// The VP8 frames to send, in order.
fn load_frames(dir: &PathBuf) -> Result<Vec<Vec<u8>>, String> {
    let mut names: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| format!("{}: {e}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    names.sort();
    let frames: Vec<Vec<u8>> = names
        .iter()
        .map(std::fs::read)
        .collect::<Result<_, _>>()
        .map_err(|e| e.to_string())?;
    match frames.first() {
        Some(f) if rtcweb::rtp::codec::vp8_is_keyframe(f) => Ok(frames),
        Some(_) => Err("the first frame is not a VP8 key frame".into()),
        None => Err(format!("no frames in {}", dir.display())),
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    let frames = match args.send.as_ref().map(load_frames).transpose() {
        Ok(f) => f.unwrap_or_default(),
        Err(e) => {
            eprintln!("media-peer: {e}");
            return ExitCode::FAILURE;
        }
    };
    let (http, mut sessions) = match HttpSignalingServer::bind(args.listen).await {
        Ok(s) => match s.with_offer_path("/offer").spawn() {
            Ok(x) => x,
            Err(e) => {
                eprintln!("media-peer: {e}");
                return ExitCode::FAILURE;
            }
        },
        Err(e) => {
            eprintln!("media-peer: cannot listen on {}: {e}", args.listen);
            return ExitCode::FAILURE;
        }
    };
    println!("media-peer: POST http://{}/offer", http.local_addr());
    // One peer at a time: each offer replaces the previous connection.
    while let Some(session) = sessions.recv().await {
        if let Err(e) = serve(&args, &frames, session).await {
            warn!(error = %e, "offer refused");
        }
    }
    ExitCode::SUCCESS
}

async fn serve(args: &Args, frames: &[Vec<u8>], mut session: HttpSession) -> Result<(), String> {
    let offer = match session.recv().await.map_err(|e| e.to_string())? {
        Some(SignalingMessage::Description(d)) if d.sdp_type == SdpType::Offer => d,
        other => return Err(format!("expected an offer, got {other:?}")),
    };
    let config = PeerConfig {
        bind: rtcweb_examples::net::ice_bind_addresses(args.listen.ip(), args.listen_address_only),
        media: MediaConfig {
            mode: MediaMode::Session,
            transport_cc: args.twcc,
            // `--no-twcc` means no bandwidth feedback from us at all.
            remb: args.twcc,
            ..MediaConfig::default()
        },
        ..PeerConfig::default()
    };
    let (pc, mut events) = RtcPeerConnection::new(config)
        .await
        .map_err(|e| e.to_string())?;
    pc.set_remote_description(&offer)
        .map_err(|e| e.to_string())?;
    let video: Option<TransceiverId> = pc
        .transceivers()
        .iter()
        .find(|t| t.kind == MediaKind::Video && t.created_by_remote)
        .map(|t| t.id);
    if let Some(t) = video.filter(|_| !frames.is_empty()) {
        pc.set_direction(t, Direction::SendRecv)
            .map_err(|e| e.to_string())?;
    }
    let answer = pc.create_answer().map_err(|e| e.to_string())?;
    pc.set_local_description(&answer)
        .map_err(|e| e.to_string())?;
    let gathered = async {
        while let Some(e) = events.recv().await {
            if matches!(e, PeerEvent::IceCandidate(None)) {
                break;
            }
        }
    };
    if tokio::time::timeout(GATHERING_TIMEOUT, gathered)
        .await
        .is_err()
    {
        warn!("gathering did not complete in time");
    }
    let sdp = pc.local_description().ok_or("no local description")?;
    let vp8 = payload_type(&sdp, "VP8");
    session
        .send(SignalingMessage::Description(SessionDescription::answer(
            sdp.clone(),
        )))
        .await
        .map_err(|e| e.to_string())?;
    info!("answered");
    let names = codec_names(&sdp);
    run(args, pc, events, frames, video.zip(vp8), names).await;
    Ok(())
}

/// The payload type the (answer) SDP maps to `codec`.
fn payload_type(sdp: &str, codec: &str) -> Option<u8> {
    codec_names(sdp)
        .into_iter()
        .find(|(_, name)| name.eq_ignore_ascii_case(codec))
        .map(|(pt, _)| pt)
}

/// Payload type to encoding name, from `a=rtpmap` lines.
fn codec_names(sdp: &str) -> BTreeMap<u8, String> {
    sdp.lines()
        .filter_map(|l| l.strip_prefix("a=rtpmap:"))
        .filter_map(|l| {
            let (pt, rest) = l.split_once(' ')?;
            Some((pt.parse().ok()?, rest.split('/').next()?.to_owned()))
        })
        .collect()
}

/// What the connection received, for the report.
#[derive(Default)]
struct Received {
    frames: BTreeMap<String, (u64, u64)>,
    vp8_resolutions: Vec<(u16, u16)>,
    last_keyframe_resolution: Option<(u16, u16)>,
    bytes: u64,
    keyframe_requests: u64,
    frames_sent: u64,
    loops: u64,
}

async fn run(
    args: &Args,
    pc: RtcPeerConnection,
    mut events: Events,
    frames: &[Vec<u8>],
    send: Option<(TransceiverId, u8)>,
    names: BTreeMap<u8, String>,
) {
    let mut got = Received::default();
    let mut tick = tokio::time::interval(Duration::from_secs(1) / FPS);
    let mut report = tokio::time::interval(Duration::from_millis(500));
    let mut connected = false;
    let mut next = 0usize;
    let mut timestamp: u32 = 0;
    loop {
        tokio::select! {
            e = events.recv() => {
                let Some(e) = e else { break };
                match e {
                    PeerEvent::ConnectionState(s) => {
                        info!(state = ?s, "connection state");
                        connected = s == PeerConnectionState::Connected;
                        if matches!(s, PeerConnectionState::Failed | PeerConnectionState::Closed) {
                            break;
                        }
                    }
                    PeerEvent::Frame { frame, .. } => {
                        let name = names.get(&frame.payload_type).cloned().unwrap_or_else(|| format!("pt{}", frame.payload_type));
                        let entry = got.frames.entry(name.clone()).or_default();
                        entry.0 += 1;
                        got.bytes += frame.data.len() as u64;
                        if frame.keyframe {
                            entry.1 += 1;
                            // VP8: the key frame header's size (rtcweb-rtp reads it there).
                            if let Some(r) = frame.resolution {
                                got.last_keyframe_resolution = Some(r);
                                if name.eq_ignore_ascii_case("VP8") && !got.vp8_resolutions.contains(&r) {
                                    got.vp8_resolutions.push(r);
                                }
                            }
                        }
                    }
                    PeerEvent::KeyframeRequest { kind, .. } => {
                        info!(?kind, "key frame requested");
                        got.keyframe_requests += 1;
                        next = 0;
                    }
                    _ => {}
                }
            }
            _ = tick.tick(), if connected && send.is_some() => {
                let (Some((t, pt)), Some(frame)) = (send, frames.get(next)) else { continue };
                match pc.write_frame(t, pt, timestamp, frame) {
                    Ok(()) => got.frames_sent += 1,
                    Err(e) => warn!(error = %e, "frame not sent"),
                }
                timestamp = timestamp.wrapping_add(90_000 / FPS);
                next += 1;
                if next == frames.len() {
                    next = 0;
                    got.loops += 1;
                }
            }
            _ = report.tick() => {
                if let Some(path) = &args.report {
                    write_report(path, &got, &pc.stats().to_json());
                }
            }
        }
    }
    if let Some(path) = &args.report {
        write_report(path, &got, &pc.stats().to_json());
    }
    pc.close();
}

fn write_report(path: &PathBuf, got: &Received, stats: &str) {
    let frames: Vec<String> = got
        .frames
        .iter()
        .map(|(name, (n, k))| format!("\"{name}\": {{\"frames\": {n}, \"keyFrames\": {k}}}"))
        .collect();
    let res: Vec<String> = got
        .vp8_resolutions
        .iter()
        .map(|(w, h)| format!("[{w}, {h}]"))
        .collect();
    let last = got
        .last_keyframe_resolution
        .map_or("null".into(), |(w, h)| format!("[{w}, {h}]"));
    let json = format!(
        "{{\"received\": {{{}}}, \"vp8KeyFrameResolutions\": [{}], \
         \"lastKeyFrameResolution\": {last}, \"bytesReceived\": {}, \
         \"keyFrameRequests\": {}, \"framesSent\": {}, \"fixtureLoops\": {}, \"stats\": {stats}}}",
        frames.join(", "),
        res.join(", "),
        got.bytes,
        got.keyframe_requests,
        got.frames_sent,
        got.loops,
    );
    let tmp = path.with_extension("tmp");
    if std::fs::write(&tmp, json).is_ok() {
        let _ = std::fs::rename(&tmp, path);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payload_types_from_rtpmap_lines() {
        let sdp = "m=video 9 UDP/TLS/RTP/SAVPF 96 97\r\na=rtpmap:96 VP8/90000\r\n\
                   a=rtpmap:97 rtx/90000\r\na=rtpmap:45 AV1/90000\r\n";
        assert_eq!(payload_type(sdp, "vp8"), Some(96));
        assert_eq!(payload_type(sdp, "AV1"), Some(45));
        assert_eq!(payload_type(sdp, "H264"), None);
    }
}
