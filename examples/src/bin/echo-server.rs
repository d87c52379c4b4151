//! `echo-server --listen 127.0.0.1:8080 [--ice-server URL]... [--full-ice] [--listen-address-only]`
//!
//! The webrtc-echoes server: `POST /offer` with a JSON `RTCSessionDescriptionInit` offer is
//! answered with the JSON answer, every candidate in its SDP (gathering completes before the
//! answer leaves); the HTTP side is `rtcweb_tokio::signaling::http::HttpSignalingServer`.
//! Each connection echoes every data channel message back on its channel and every RTP
//! stream it receives back to the sender: every media section the offer sends on is answered
//! `sendrecv` with a sender of our own, whose SSRC replaces the peer's (payload types stay:
//! an answer uses the offerer's). RTX packets are not echoed (their sequence numbers belong
//! to another stream), and the peer's picture loss indications on our streams are passed on
//! to the peer's own streams, so that the echoed video gets key frames.
//!
//! ICE sockets are bound to the `--listen` address when it is a specific one and to every
//! interface address (`rtcweb_examples::net::ice_bind_addresses`): a browser on this host
//! reaches us from its interface address, not over loopback. `--listen-address-only` binds
//! to the `--listen` address alone. `--ice-server` takes `stun:HOST:PORT` or `turn:USER:PASS@HOST:PORT`.
//! Without an ICE server the connections are ICE-lite (they answer checks and let the client
//! nominate), unless `--full-ice` is given.
//! `RUST_LOG=info` shows each connection.

use std::collections::{HashMap, HashSet};
use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use clap::Parser;
use rtcweb::{
    Direction, MediaKind, PeerConnectionState, SdpType, SessionDescription, SignalingMessage,
};
use rtcweb_examples::cli::IceServerArgs;
use rtcweb_examples::logging;
use rtcweb_tokio::signaling::Signaling;
use rtcweb_tokio::signaling::http::{HttpSession, HttpSignalingServer};
use rtcweb_tokio::{DataChannel, Events, PeerConfig, PeerEvent, RtcPeerConnection};
use tokio::sync::oneshot;
use tracing::{debug, info, warn};

/// Connections alive at once; more offers are refused (HTTP 500, "no answer").
const MAX_PEERS: usize = 256;
/// Longest wait for gathering to complete before answering with what there is.
const GATHERING_TIMEOUT: Duration = Duration::from_secs(5);
/// Fewest time between two key frame requests we pass on.
const PLI_INTERVAL: Duration = Duration::from_millis(250);

struct Server {
    ice_servers: Vec<rtcweb::IceServer>,
    full_ice: bool,
    bind: Vec<SocketAddr>,
    peers: AtomicUsize,
}

/// The webrtc-echoes server: answers `POST /offer` and echoes every data channel message and
/// RTP stream back to its sender.
#[derive(Parser)]
struct Args {
    /// The HTTP address to listen on; ICE sockets bind to its IP (unless it is unspecified)
    /// and to every interface address.
    #[arg(long, value_name = "ADDR:PORT")]
    listen: SocketAddr,
    #[command(flatten)]
    ice: IceServerArgs,
    /// Be a full ICE agent even without an ICE server (default: ICE-lite then).
    #[arg(long)]
    full_ice: bool,
    /// Gather ICE candidates on the --listen address only (default: on it and on every
    /// interface address, so that clients on another local address reach us).
    #[arg(long)]
    listen_address_only: bool,
}

#[tokio::main]
async fn main() -> ExitCode {
    logging::init("warn");
    let Args {
        listen,
        ice,
        full_ice,
        listen_address_only,
    } = Args::parse();
    let spawned = match HttpSignalingServer::bind(listen).await {
        Ok(s) => s.with_offer_path("/offer").spawn(),
        Err(e) => Err(e),
    };
    let (http, mut sessions) = match spawned {
        Ok(s) => s,
        Err(e) => {
            eprintln!("echo-server: cannot listen on {listen}: {e}");
            return ExitCode::FAILURE;
        }
    };
    let bind = rtcweb_examples::net::ice_bind_addresses(listen.ip(), listen_address_only);
    let server = Arc::new(Server {
        ice_servers: ice.ice_servers,
        full_ice,
        bind,
        peers: AtomicUsize::new(0),
    });
    println!("echo-server: POST http://{}/offer", http.local_addr());
    while let Some(session) = sessions.recv().await {
        if server.peers.fetch_add(1, Ordering::SeqCst) >= MAX_PEERS {
            server.peers.fetch_sub(1, Ordering::SeqCst);
            warn!("too many connections; offer refused");
            continue;
        }
        let slot = PeerSlot(server.clone());
        tokio::spawn(async move {
            if let Err(e) = serve(slot, session).await {
                warn!(error = %e, "offer refused");
            }
        });
    }
    ExitCode::SUCCESS
}

/// One `POST /offer`: its offer in, the answer out (a dropped session tells the client the
/// offer was refused).
async fn serve(slot: PeerSlot, mut session: HttpSession) -> Result<(), String> {
    let offer = match session.recv().await.map_err(|e| e.to_string())? {
        Some(SignalingMessage::Description(d)) if d.sdp_type == SdpType::Offer => d,
        other => return Err(format!("expected an offer, got {other:?}")),
    };
    let answer = answer(slot, offer).await?;
    session
        .send(SignalingMessage::Description(answer))
        .await
        .map_err(|e| e.to_string())
}

/// Counts a live connection; the count drops with the echo task.
struct PeerSlot(Arc<Server>);

impl Drop for PeerSlot {
    fn drop(&mut self) {
        self.0.peers.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Answers an offer: a connection that sends back what it receives, its answer sent once
/// gathering is complete.
async fn answer(slot: PeerSlot, offer: SessionDescription) -> Result<SessionDescription, String> {
    let server = slot.0.clone();
    let config = PeerConfig {
        ice_servers: server.ice_servers.clone(),
        bind: server.bind.clone(),
        // A server on an address every client reaches is ICE-lite, as SFUs are: it only
        // answers checks. Without a STUN/TURN server that is the default here (with one,
        // it gathers and checks as a full agent). Besides being the usual server setup,
        // this sidesteps a race in libdatachannel 0.33.4: checks from a full answerer that
        // reach it before it applied the answer make it drop its ICE transport in about a
        // third of the runs on loopback (20/20 passed as lite, 12/20 as full, in the
        // namespace of suite 60).
        ice_lite: server.ice_servers.is_empty() && !server.full_ice,
        ..PeerConfig::default()
    };
    let (pc, events) = RtcPeerConnection::new(config)
        .await
        .map_err(|e| e.to_string())?;
    pc.set_remote_description(&offer)
        .map_err(|e| e.to_string())?;
    // A transceiver the offer created receives the peer's media; sending on it too is
    // what echoes it back.
    for t in pc.transceivers() {
        if t.created_by_remote && t.direction.receives() {
            pc.set_direction(t.id, Direction::SendRecv)
                .map_err(|e| e.to_string())?;
        }
    }
    let answer = pc.create_answer().map_err(|e| e.to_string())?;
    pc.set_local_description(&answer)
        .map_err(|e| e.to_string())?;
    let (gathered, gathering) = oneshot::channel();
    tokio::spawn(echo(pc.clone(), events, gathered, slot));
    if tokio::time::timeout(GATHERING_TIMEOUT, gathering)
        .await
        .is_err()
    {
        warn!("gathering did not complete in time; answering with the candidates so far");
    }
    let sdp = pc.local_description().ok_or("no local description")?;
    info!(
        peers = server.peers.load(Ordering::SeqCst),
        "answered an offer"
    );
    Ok(SessionDescription::answer(sdp))
}

/// What the media echo learns as packets come.
#[derive(Default)]
struct MediaEcho {
    /// RTX payload types of the answer (not echoed), read on the first packet.
    rtx: Option<HashSet<u8>>,
    /// Video transceivers.
    video: HashSet<rtcweb::TransceiverId>,
    /// The peer's SSRC per transceiver, last seen.
    remote_ssrc: HashMap<rtcweb::TransceiverId, u32>,
    last_pli: Option<Instant>,
}

/// The connection's life: echoes media, hands data channels to their echo tasks, and ends
/// (dropping every handle) when the connection fails or closes.
async fn echo(
    pc: RtcPeerConnection,
    mut events: Events,
    gathered: oneshot::Sender<()>,
    _slot: PeerSlot,
) {
    let mut gathered = Some(gathered);
    let mut media = MediaEcho::default();
    while let Some(event) = events.recv().await {
        match event {
            PeerEvent::IceCandidate(None) => {
                if let Some(g) = gathered.take() {
                    let _ = g.send(());
                }
            }
            PeerEvent::ConnectionState(s) => {
                info!(state = ?s, "connection state");
                if matches!(s, PeerConnectionState::Failed | PeerConnectionState::Closed) {
                    break;
                }
            }
            PeerEvent::DtlsConnected {
                version,
                srtp_profile,
            } => info!(%version, ?srtp_profile, "DTLS connected"),
            PeerEvent::DataChannel(dc) => {
                info!(label = dc.label(), "data channel");
                tokio::spawn(echo_channel(dc));
            }
            PeerEvent::Track { transceiver, mid } => {
                info!(?transceiver, mid, "track");
                if pc
                    .transceivers()
                    .iter()
                    .any(|t| t.id == transceiver && t.kind == MediaKind::Video)
                {
                    media.video.insert(transceiver);
                }
            }
            PeerEvent::Rtp {
                transceiver: Some(t),
                packet,
            } => echo_rtp(&pc, &mut media, t, &packet),
            PeerEvent::Rtcp { packet } if requests_key_frame(&packet) => {
                request_key_frames(&pc, &mut media);
            }
            _ => {}
        }
    }
    pc.close();
}

fn echo_rtp(
    pc: &RtcPeerConnection,
    media: &mut MediaEcho,
    t: rtcweb::TransceiverId,
    packet: &[u8],
) {
    let (Some(pt), Some(ssrc)) = (
        packet.get(1).map(|b| b & 0x7f),
        packet
            .get(8..12)
            .and_then(|s| s.try_into().ok())
            .map(u32::from_be_bytes),
    ) else {
        return;
    };
    let rtx = media
        .rtx
        .get_or_insert_with(|| rtx_payload_types(&pc.local_description().unwrap_or_default()));
    if rtx.contains(&pt) {
        return;
    }
    media.remote_ssrc.insert(t, ssrc);
    if let Err(e) = pc.write_rtp(t, packet) {
        debug!(error = %e, "RTP not echoed");
    }
}

/// Payload types whose `a=rtpmap` names RTX.
fn rtx_payload_types(sdp: &str) -> HashSet<u8> {
    sdp.lines()
        .filter_map(|l| l.strip_prefix("a=rtpmap:"))
        .filter_map(|l| l.split_once(' '))
        .filter(|(_, codec)| codec.to_ascii_lowercase().starts_with("rtx/"))
        .filter_map(|(pt, _)| pt.parse().ok())
        .collect()
}

/// Whether an RTCP compound packet holds a PLI or FIR (RFC 4585 6.3.1, RFC 5104 4.3.1).
fn requests_key_frame(compound: &[u8]) -> bool {
    let mut rest = compound;
    while let (Some(&first), Some(&pt), Some(len)) = (
        rest.first(),
        rest.get(1),
        rest.get(2..4)
            .and_then(|l| l.try_into().ok())
            .map(|l| usize::from(u16::from_be_bytes(l))),
    ) {
        if pt == 206 && matches!(first & 0x1f, 1 | 4) {
            return true;
        }
        let Some(next) = rest.get((len + 1) * 4..) else {
            break;
        };
        rest = next;
    }
    false
}

/// Asks the peer for key frames on every video stream it sends us.
fn request_key_frames(pc: &RtcPeerConnection, media: &mut MediaEcho) {
    let now = Instant::now();
    if media.last_pli.is_some_and(|t| now - t < PLI_INTERVAL) {
        return;
    }
    media.last_pli = Some(now);
    for (t, remote) in &media.remote_ssrc {
        if !media.video.contains(t) {
            continue;
        }
        let ours = pc.sending_ssrc(*t).unwrap_or(1);
        let mut pli = vec![0x81, 206, 0, 2];
        pli.extend_from_slice(&ours.to_be_bytes());
        pli.extend_from_slice(&remote.to_be_bytes());
        if let Err(e) = pc.write_rtcp(&pli) {
            debug!(error = %e, "PLI not sent");
        }
    }
}

/// Sends every message back on its channel, as it came (text or binary).
async fn echo_channel(dc: DataChannel) {
    while let Some(m) = dc.recv().await {
        let sent = match m.text() {
            Some(text) => dc.send_text(text).await,
            None => dc.send(&m.data).await,
        };
        if let Err(e) = sent {
            debug!(error = %e, label = dc.label(), "echo stopped");
            break;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rtx_payload_types_from_an_answer() {
        let sdp = "m=video 9 UDP/TLS/RTP/SAVPF 96 97 98\r\na=rtpmap:96 VP8/90000\r\n\
                   a=rtpmap:97 rtx/90000\r\na=rtpmap:98 RTX/90000\r\n";
        assert_eq!(rtx_payload_types(sdp), HashSet::from([97, 98]));
    }

    #[test]
    fn key_frame_requests_in_compound_packets() {
        let rr = [0x80, 201, 0, 1, 0, 0, 0, 1];
        let pli = [0x81, 206, 0, 2, 0, 0, 0, 1, 0, 0, 0, 2];
        let nack = [0x81, 205, 0, 3, 0, 0, 0, 1, 0, 0, 0, 2, 0, 1, 0, 0];
        assert!(requests_key_frame(&[rr.as_slice(), &pli].concat()));
        assert!(!requests_key_frame(&[rr.as_slice(), &nack].concat()));
        assert!(!requests_key_frame(&rr[..3]));
        assert!(!requests_key_frame(&[0x81, 206]));
    }
}
