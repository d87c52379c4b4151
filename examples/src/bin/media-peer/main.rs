//! `media-peer --listen 127.0.0.1:8080 [--send DIR | --send-test-pattern [--codec vp8|h264]
//! [--max-bitrate BPS]] [--send-audio DIR] [--report FILE] [--no-twcc] [--no-nack] [--no-red]
//! [--no-fec] [--red-distance N] [--playout] [--listen-address-only]`
//!
//! A media endpoint on the RTP session (`rtcweb::MediaMode::Session`): answers one
//! `POST /offer` at a time (the webrtc-echoes convention, JSON `RTCSessionDescriptionInit`
//! both ways, every candidate in the SDP), receives the offerer's video as whole frames, and
//! sends video back on the same transceiver:
//!
//! - `--send DIR`: the VP8 frames stored one per file in DIR (sorted by name, e.g.
//!   `gst-launch-1.0 ... ! vp8enc ! multifilesink location=DIR/frame-%05d.vp8`), 30 per
//!   second, looping, restarting at the first frame (a key frame) when the peer asks for a
//!   key frame;
//! - `--send-test-pattern`: a moving 640x480 test pattern at 30 frames per second encoded
//!   live (`--codec`: VP8 by libvpx or H.264 by OpenH264), whose target bitrate follows the
//!   bandwidth estimate (`PeerEvent::TargetBitrate`, capped by `--max-bitrate`, which is
//!   also the estimator's maximum), with a key frame whenever the peer asks (PLI, FIR).
//!   Needs the `test-pattern` feature (`cargo build --release -p rtcweb-examples --features
//!   test-pattern --bin media-peer`).
//!
//! What it received and sent is written as JSON to `--report` every half second (replaced
//! atomically): frames and key frames per codec, the resolutions VP8 key frames announce,
//! the key frame requests it got, the bandwidth estimate (target, pacing and padding rates,
//! RTT, loss, which estimate limits it) sampled four times a second with the bytes encoded,
//! sent as RTP and sent on the socket by then, and its `getStats()` report. `--no-twcc` turns
//! off transport-wide CC (no feedback to the sender's bandwidth estimator), for comparison.
//!
//! ICE candidates are gathered on the `--listen` address and on every interface address
//! (`rtcweb_examples::net::ice_bind_addresses`), so that a browser on another local address
//! reaches us; `--listen-address-only` gathers on the `--listen` address alone.
//!
//! `--send-audio DIR` sends back on the offer's audio transceiver the Opus packets stored one
//! per file in DIR (`... ! opusenc frame-size=20 ! multifilesink`; the `OpusHead` and
//! `OpusTags` headers are skipped), 50 per second, looping. Loss resilience (on by default,
//! as `rtcweb::Resilience` offers it): `--no-red` does not offer RED for Opus, `--no-fec`
//! not ULPFEC for video, `--no-nack` not generic NACK (then FEC alone repairs, on both
//! sides), `--red-distance N` repeats each Opus frame in the next N packets (default 1).
//! `--playout` plays received media out through jitter buffers (frames are counted when
//! they come out at their playout time).

mod dropper;
mod pattern;
mod report;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use rtcweb::rtp::session::CongestionConfig;
use rtcweb::{
    Direction, MediaConfig, MediaKind, MediaMode, PeerConnectionState, SdpType, SessionDescription,
    SignalingMessage, TransceiverId,
};
use rtcweb_bwe::{Bitrate, PacerConfig};
use rtcweb_tokio::signaling::Signaling;
use rtcweb_tokio::signaling::http::{HttpSession, HttpSignalingServer};
use rtcweb_tokio::{Events, PeerConfig, PeerEvent, RtcPeerConnection};
use tracing::{info, warn};

use pattern::{Codec, FPS, PatternSender};
use report::{BweLog, Received};

const GATHERING_TIMEOUT: Duration = Duration::from_secs(5);
/// Opus packets per second (20 ms each).
const OPUS_PER_SECOND: u32 = 50;

/// A media endpoint on rtcweb's RTP session (see the module docs).
#[derive(Debug, Parser)]
#[command(name = "media-peer")]
struct Args {
    /// Address for the HTTP offer/answer endpoint; media binds to the same IP.
    #[arg(long, default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
    /// Send the VP8 frames stored one per file in DIR, looping.
    #[arg(long, value_name = "DIR", conflicts_with = "send_test_pattern")]
    send: Option<PathBuf>,
    /// Send a live-encoded moving test pattern whose bitrate follows the estimate.
    #[arg(long)]
    send_test_pattern: bool,
    /// The test pattern's codec.
    #[arg(long, value_enum, default_value_t = Codec::Vp8, requires = "send_test_pattern")]
    codec: Codec,
    /// Highest bitrate the estimator may reach and the encoder may use, bit/s.
    #[arg(long, value_name = "BPS", default_value_t = 2_500_000)]
    max_bitrate: u32,
    /// Write the JSON report here every half second.
    #[arg(long, value_name = "FILE")]
    report: Option<PathBuf>,
    /// No transport-wide CC feedback (and no estimate from it).
    #[arg(long)]
    no_twcc: bool,
    /// Gather ICE candidates on the --listen address alone (not on every interface address).
    #[arg(long)]
    listen_address_only: bool,
    /// Send back the Opus packets stored one per file in DIR (20 ms each), looping.
    #[arg(long, value_name = "DIR")]
    send_audio: Option<PathBuf>,
    /// Do not offer generic NACK for video (FEC alone repairs, on both sides).
    #[arg(long)]
    no_nack: bool,
    /// Do not offer RED for Opus.
    #[arg(long, conflicts_with = "red_distance")]
    no_red: bool,
    /// Do not offer ULPFEC for video.
    #[arg(long)]
    no_fec: bool,
    /// Earlier Opus frames repeated in each RED packet we send (0: receive RED only).
    #[arg(long, value_name = "N", default_value_t = 1)]
    red_distance: usize,
    /// Play received media out through jitter buffers (frames counted at their playout
    /// time).
    #[arg(long)]
    playout: bool,
}

impl Args {
    /// The loss resilience the flags ask for.
    fn resilience(&self) -> rtcweb::Resilience {
        rtcweb::Resilience {
            red_distance: (!self.no_red).then_some(self.red_distance),
            ulpfec: !self.no_fec,
            nack: !self.no_nack,
            ..rtcweb::Resilience::default()
        }
    }
}

/// The files of `dir` in name order.
fn load_files(dir: &PathBuf) -> Result<Vec<Vec<u8>>, String> {
    let mut names: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| format!("{}: {e}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    names.sort();
    names
        .iter()
        .map(std::fs::read)
        .collect::<Result<_, _>>()
        .map_err(|e| e.to_string())
}

/// The Opus packets to send, in order (Ogg-style headers left out).
fn load_opus(dir: &PathBuf) -> Result<Vec<Vec<u8>>, String> {
    let packets: Vec<Vec<u8>> = load_files(dir)?
        .into_iter()
        .filter(|p| !p.starts_with(b"OpusHead") && !p.starts_with(b"OpusTags"))
        .filter(|p| !p.is_empty() && p.len() <= 1000)
        .collect();
    if packets.is_empty() {
        return Err(format!("no Opus packets in {}", dir.display()));
    }
    Ok(packets)
}

/// The VP8 frames to send, in order.
fn load_frames(dir: &PathBuf) -> Result<Vec<Vec<u8>>, String> {
    let frames = load_files(dir)?;
    match frames.first() {
        Some(f) if rtcweb::rtp::codec::vp8_is_keyframe(f) => Ok(frames),
        Some(_) => Err("the first frame is not a VP8 key frame".into()),
        None => Err(format!("no frames in {}", dir.display())),
    }
}

/// What media-peer sends back.
enum Source {
    Nothing,
    Files(Vec<Vec<u8>>),
    Pattern(Codec),
}

impl Source {
    fn codec_name(&self) -> Option<&'static str> {
        match self {
            Source::Nothing => None,
            Source::Files(_) => Some("VP8"),
            Source::Pattern(c) => Some(c.rtpmap_name()),
        }
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    rtcweb_examples::logging::init("warn");
    let args = Args::parse();
    let opus = match args.send_audio.as_ref().map(load_opus).transpose() {
        Ok(o) => o.unwrap_or_default(),
        Err(e) => {
            eprintln!("media-peer: {e}");
            return ExitCode::FAILURE;
        }
    };
    let source = if args.send_test_pattern {
        if let Err(e) = pattern::check_available(args.codec) {
            eprintln!("media-peer: {e}");
            return ExitCode::FAILURE;
        }
        Source::Pattern(args.codec)
    } else {
        match args.send.as_ref().map(load_frames).transpose() {
            Ok(Some(f)) => Source::Files(f),
            Ok(None) => Source::Nothing,
            Err(e) => {
                eprintln!("media-peer: {e}");
                return ExitCode::FAILURE;
            }
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
        if let Err(e) = serve(&args, &source, &opus, session).await {
            warn!(error = %e, "offer refused");
        }
    }
    ExitCode::SUCCESS
}

fn congestion_config(max_bitrate: u32) -> Result<CongestionConfig, String> {
    let estimator = rtcweb_bwe::Config {
        max: Bitrate::from_bps(u64::from(max_bitrate)),
        ..rtcweb_bwe::Config::default()
    };
    CongestionConfig::new(estimator, PacerConfig::default()).map_err(|e| e.to_string())
}

async fn serve(
    args: &Args,
    source: &Source,
    opus: &[Vec<u8>],
    mut session: HttpSession,
) -> Result<(), String> {
    let offer = match session.recv().await.map_err(|e| e.to_string())? {
        Some(SignalingMessage::Description(d)) if d.sdp_type == SdpType::Offer => d,
        other => return Err(format!("expected an offer, got {other:?}")),
    };
    let config = PeerConfig {
        bind: rtcweb_examples::net::ice_bind_addresses(args.listen.ip(), args.listen_address_only),
        media: MediaConfig {
            mode: MediaMode::Session,
            transport_cc: !args.no_twcc,
            // `--no-twcc` means no bandwidth feedback from us at all.
            remb: !args.no_twcc,
            congestion_control: Some(congestion_config(args.max_bitrate)?),
            resilience: args.resilience(),
            playout: args.playout.then(rtcweb::PlayoutConfig::default),
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
    if let Some(t) = video.filter(|_| source.codec_name().is_some()) {
        pc.set_direction(t, Direction::SendRecv)
            .map_err(|e| e.to_string())?;
    }
    let audio: Option<TransceiverId> = pc
        .transceivers()
        .iter()
        .find(|t| t.kind == MediaKind::Audio && t.created_by_remote)
        .map(|t| t.id);
    if let Some(t) = audio.filter(|_| !opus.is_empty()) {
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
    let send_pt = source.codec_name().and_then(|c| payload_type(&sdp, c));
    if source.codec_name().is_some() && send_pt.is_none() {
        warn!(codec = ?source.codec_name(), "the answer has no payload type for the codec to send");
    }
    session
        .send(SignalingMessage::Description(SessionDescription::answer(
            sdp.clone(),
        )))
        .await
        .map_err(|e| e.to_string())?;
    info!("answered");
    let names = codec_names(&sdp);
    let opus_pt = payload_type(&sdp, "opus");
    let audio = Audio {
        packets: opus,
        send: audio.zip(opus_pt),
    };
    run(args, pc, events, source, video.zip(send_pt), audio, names).await;
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

/// The next frame of the test pattern, or never when there is none.
async fn next_encoded(sender: &mut Option<PatternSender>) -> Option<pattern::Encoded> {
    match sender {
        Some(s) => s.next().await,
        None => std::future::pending().await,
    }
}

/// The Opus packets to send back, and on which transceiver and payload type.
struct Audio<'a> {
    packets: &'a [Vec<u8>],
    send: Option<(TransceiverId, u8)>,
}

async fn run(
    args: &Args,
    pc: RtcPeerConnection,
    mut events: Events,
    source: &Source,
    send: Option<(TransceiverId, u8)>,
    audio: Audio<'_>,
    names: BTreeMap<u8, String>,
) {
    let send_audio = audio.send.filter(|_| !audio.packets.is_empty());
    let mut next_opus = 0usize;
    let mut opus_ts: u32 = 0;
    let mut audio_tick = tokio::time::interval(Duration::from_secs(1) / OPUS_PER_SECOND);
    let files: &[Vec<u8>] = match source {
        Source::Files(f) => f,
        _ => &[],
    };
    let mut got = Received::default();
    let mut bwe = BweLog::default();
    let mut tick = tokio::time::interval(Duration::from_secs(1) / FPS);
    let mut report = tokio::time::interval(Duration::from_millis(500));
    let mut sample = tokio::time::interval(Duration::from_millis(250));
    let mut connected = false;
    let mut next = 0usize;
    let mut timestamp: u32 = 0;
    let mut encoder: Option<PatternSender> = None;
    loop {
        tokio::select! {
            e = events.recv() => {
                let Some(e) = e else { break };
                match e {
                    PeerEvent::ConnectionState(s) => {
                        info!(state = ?s, "connection state");
                        connected = s == PeerConnectionState::Connected;
                        if connected
                            && encoder.is_none()
                            && send.is_some()
                            && let Source::Pattern(codec) = source
                        {
                            let start = bwe.last.map_or(300_000, |r| r.target.bps() as u32);
                            match PatternSender::start(*codec, start, args.max_bitrate) {
                                Ok(s) => encoder = Some(s),
                                Err(e) => warn!(error = %e, "no test pattern"),
                            }
                        }
                        if matches!(s, PeerConnectionState::Failed | PeerConnectionState::Closed) {
                            break;
                        }
                    }
                    PeerEvent::TargetBitrate(rate) => {
                        bwe.events += 1;
                        bwe.last = Some(rate);
                        tracing::debug!(target_bps = rate.target.bps(), limit = ?rate.limit, "target");
                        if let Some(s) = &encoder {
                            s.set_target(rate.target.bps().min(u64::from(u32::MAX)) as u32);
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
                        if let Some(s) = &encoder {
                            s.request_keyframe();
                        }
                    }
                    _ => {}
                }
            }
            f = next_encoded(&mut encoder) => {
                let (Some(f), Some((t, pt))) = (f, send) else {
                    // The encoder stopped (its error is logged).
                    encoder = None;
                    continue;
                };
                tracing::debug!(len = f.data.len(), key = f.keyframe, ts = f.rtp_timestamp, "encoded");
                got.encoded_frames += 1;
                got.encoded_key_frames += u64::from(f.keyframe);
                got.encoded_bytes += f.data.len() as u64;
                match pc.write_frame(t, pt, f.rtp_timestamp, &f.data) {
                    Ok(()) => got.frames_sent += 1,
                    Err(e) => warn!(error = %e, "frame not sent"),
                }
            }
            _ = tick.tick(), if connected && !files.is_empty() => {
                let (Some((t, pt)), Some(frame)) = (send, files.get(next)) else { continue };
                match pc.write_frame(t, pt, timestamp, frame) {
                    Ok(()) => got.frames_sent += 1,
                    Err(e) => warn!(error = %e, "frame not sent"),
                }
                timestamp = timestamp.wrapping_add(90_000 / FPS);
                next += 1;
                if next == files.len() {
                    next = 0;
                    got.loops += 1;
                }
            }
            _ = audio_tick.tick(), if connected && send_audio.is_some() => {
                let (Some((t, pt)), Some(p)) = (send_audio, audio.packets.get(next_opus)) else { continue };
                match pc.write_frame(t, pt, opus_ts, p) {
                    Ok(()) => got.audio_sent += 1,
                    Err(e) => warn!(error = %e, "audio not sent"),
                }
                opus_ts = opus_ts.wrapping_add(48_000 / OPUS_PER_SECOND);
                next_opus = (next_opus + 1) % audio.packets.len();
            }
            _ = sample.tick(), if connected => {
                if let Some(s) = &encoder {
                    got.capture_drops = s.capture_drops();
                    got.rate_drops = s.rate_drops();
                }
                bwe.sample(&got, &pc.stats());
            }
            _ = report.tick() => {
                if let Some(path) = &args.report {
                    report::write(path, &got, &bwe, &pc.stats());
                }
            }
        }
    }
    drop(encoder);
    if let Some(path) = &args.report {
        report::write(path, &got, &bwe, &pc.stats());
    }
    pc.close();
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

    #[test]
    fn the_command_line_parses() {
        let a = Args::try_parse_from([
            "media-peer",
            "--listen",
            "198.18.71.2:8080",
            "--send-test-pattern",
            "--codec",
            "h264",
            "--max-bitrate",
            "1000000",
        ])
        .unwrap();
        assert!(a.send_test_pattern);
        assert_eq!(a.codec, Codec::H264);
        assert_eq!(a.max_bitrate, 1_000_000);
        assert!(
            Args::try_parse_from(["media-peer", "--send", "d", "--send-test-pattern"]).is_err()
        );
        assert!(congestion_config(1_000_000).is_ok());
    }
}
