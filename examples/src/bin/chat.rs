//! `chat --room ws://HOST:PORT/ROOM [--name N] [--ice-server URL]... [--ice-username U
//! --ice-credential P] [--relay-only] [--bind IP]... [--send TEXT]... [--expect N]
//! [--timeout S]`
//!
//! Joins a room of `room-server` (or any server speaking `rtcweb_tokio::signaling::room`),
//! connects to every participant over WebRTC (full mesh, perfect negotiation), sends each
//! `--send TEXT` to everyone over a data channel `chat`, and prints every line it receives
//! as `NAME: TEXT` on stdout. On a terminal, typed lines are sent too.
//!
//! Exits 0 once `--expect N` lines were received (after its own lines were delivered), 1
//! when `--timeout S` (default 60 with `--expect`, none without) passes first. Progress
//! (joins, selected candidate pairs, media received) goes to stderr.
//!
//! `--ice-server` takes `stun:HOST:PORT`, or `turn:USER:PASS@HOST:PORT[?transport=tcp]`
//! (`turns:` likewise); a TURN URL without `USER:PASS@` takes `--ice-username` and
//! `--ice-credential`.

use std::collections::HashMap;
use std::io::{IsTerminal, Write};
use std::net::{IpAddr, SocketAddr};
use std::process::ExitCode;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use clap::{CommandFactory, Parser};
use rtcweb_examples::{cli, ice_servers, logging};
use rtcweb_tokio::signaling::room::{Room, RoomEvent, RoomPeer};
use rtcweb_tokio::signaling::{NegotiationOptions, PerfectNegotiation};
use rtcweb_tokio::{DataChannel, PeerConfig, PeerEvent, RtcPeerConnection};
use tokio::sync::mpsc;

/// Joins a room of `room-server`, connects to every participant over WebRTC (full mesh,
/// perfect negotiation), sends each `--send TEXT` to everyone over a data channel `chat`, and
/// prints every line it receives as `NAME: TEXT`. On a terminal, typed lines are sent too.
#[derive(Parser)]
#[command(name = "chat")]
struct Args {
    /// The room: `ws://HOST:PORT/ROOM`.
    #[arg(long, value_name = "URL")]
    room: String,
    /// The name others see (default `rust-PID`).
    #[arg(long)]
    name: Option<String>,
    /// A STUN or TURN server: `stun:HOST:PORT`, or `turn:USER:PASS@HOST:PORT[?transport=tcp]`
    /// (`turns:` likewise); a TURN URL without `USER:PASS@` takes `--ice-username` and
    /// `--ice-credential`. Repeatable.
    #[arg(long = "ice-server", value_name = "URL")]
    ice_servers: Vec<String>,
    /// The user for TURN URLs without one.
    #[arg(long, value_name = "U", requires = "ice_credential")]
    ice_username: Option<String>,
    /// The password for TURN URLs without one.
    #[arg(long, value_name = "P", requires = "ice_username")]
    ice_credential: Option<String>,
    /// Use relayed candidates only.
    #[arg(long)]
    relay_only: bool,
    /// Bind ICE sockets to this local IP (repeatable; default: every interface).
    #[arg(long, value_name = "IP")]
    bind: Vec<IpAddr>,
    /// A line to send to everyone once connected (repeatable).
    #[arg(long, value_name = "TEXT")]
    send: Vec<String>,
    /// Exit 0 once this many lines were received (after our own lines were delivered).
    #[arg(long, value_name = "N")]
    expect: Option<usize>,
    /// Exit 1 when this many seconds pass first (default 60 with `--expect`, none without).
    #[arg(long, value_name = "S", value_parser = cli::positive_seconds)]
    timeout: Option<Duration>,
}

impl Args {
    /// The ICE servers, with `--ice-username`/`--ice-credential` for bare TURN URLs.
    fn ice_servers(&self) -> Result<Vec<rtcweb::IceServer>, rtcweb_examples::Error> {
        let credentials = self
            .ice_username
            .as_deref()
            .zip(self.ice_credential.as_deref());
        self.ice_servers
            .iter()
            .map(|url| ice_servers::parse_with_credentials(url, credentials))
            .collect()
    }
}

/// What the peer tasks tell the main loop.
enum Note {
    Line { from: String, text: String },
}

/// Every open chat channel, to send typed lines and to drain before leaving.
type Channels = Arc<Mutex<Vec<DataChannel>>>;

fn say(line: &str) {
    eprintln!("chat: {line}");
}

#[tokio::main]
async fn main() -> ExitCode {
    logging::init("warn");
    let args = Args::parse();
    // A bare TURN URL is only complete with the separate credentials: checked after parsing,
    // reported as clap reports any bad argument (exit status 2).
    let ice_servers = match args.ice_servers() {
        Ok(s) => s,
        Err(e) => Args::command()
            .error(clap::error::ErrorKind::ValueValidation, e)
            .exit(),
    };
    match run(args, ice_servers).await {
        Ok(code) => code,
        Err(e) => {
            say(&format!("error: {e}"));
            ExitCode::FAILURE
        }
    }
}

async fn run(
    args: Args,
    ice_servers: Vec<rtcweb::IceServer>,
) -> Result<ExitCode, rtcweb_tokio::Error> {
    let started = Instant::now();
    let timeout = match (args.timeout, args.expect) {
        (None, Some(_)) => Some(Duration::from_secs(60)),
        (t, _) => t,
    };
    let deadline = timeout.map(|t| tokio::time::Instant::now() + t);
    let name = args
        .name
        .clone()
        .unwrap_or_else(|| format!("rust-{}", std::process::id()));
    let (room, mut events) = Room::join(&args.room, &name).await?;
    say(&format!(
        "joined {} as {} (pid {}), {} already there",
        room.name(),
        name,
        room.pid(),
        room.participants().len()
    ));
    let config = PeerConfig {
        ice_servers,
        relay_only: args.relay_only,
        bind: args.bind.iter().map(|ip| SocketAddr::new(*ip, 0)).collect(),
        ..PeerConfig::default()
    };
    let certificate = rtcweb_tokio::net::generate_certificate()?;
    let send = Arc::new(args.send.clone());
    let channels: Channels = Arc::default();
    let (notes_tx, mut notes) = mpsc::unbounded_channel();
    let mut negotiations = HashMap::new();
    let (typed_tx, mut typed) = mpsc::unbounded_channel::<String>();
    if std::io::stdin().is_terminal() {
        std::thread::spawn(move || {
            for line in std::io::stdin().lines().map_while(Result::ok) {
                if typed_tx.send(line).is_err() {
                    break;
                }
            }
        });
    }
    let mut received = 0usize;
    let sleep = async {
        match deadline {
            Some(d) => tokio::time::sleep_until(d).await,
            None => std::future::pending().await,
        }
    };
    tokio::pin!(sleep);
    loop {
        tokio::select! {
            e = events.recv() => {
                match e {
                    Some(RoomEvent::Peer(p)) => {
                        let mut config = config.clone();
                        config.certificate = Some(certificate.clone());
                        let who = (p.participant.pid.clone(), display(&p.participant));
                        match start_peer(p, config, send.clone(), channels.clone(), notes_tx.clone()).await {
                            Ok(handle) => { negotiations.insert(who.0, (who.1, handle)); }
                            Err(e) => say(&format!("peer connection failed to start: {e}")),
                        }
                    }
                    Some(RoomEvent::Left(p)) => {
                        // Its negotiation got the bye too and closes that connection.
                        say(&format!("{} left", display(&p)));
                    }
                    Some(RoomEvent::Chat { from, text }) => {
                        say(&format!("{} (via the server): {text}", display(&from)));
                    }
                    Some(_) => {}
                    None => {
                        say("the room server closed the connection");
                        return Ok(ExitCode::FAILURE);
                    }
                }
            }
            Some(note) = notes.recv() => match note {
                Note::Line { from, text } => {
                    received += 1;
                    let mut out = std::io::stdout().lock();
                    let _ = writeln!(out, "{from}: {text}");
                    let _ = out.flush();
                    if args.expect.is_some_and(|n| received >= n) {
                        let all = channels.lock().map(|c| c.clone()).unwrap_or_default();
                        finish(&all).await;
                        report(&negotiations);
                        say(&format!(
                            "received {received} line(s) in {:.2} s; leaving",
                            started.elapsed().as_secs_f64()
                        ));
                        let _ = room.leave().await;
                        // Give the bye a moment to leave the socket.
                        tokio::time::sleep(Duration::from_millis(100)).await;
                        return Ok(ExitCode::SUCCESS);
                    }
                }
            },
            Some(line) = typed.recv() => {
                let all = channels.lock().map(|c| c.clone()).unwrap_or_default();
                for dc in all {
                    let _ = dc.send_text(&line).await;
                }
            }
            () = &mut sleep => {
                report(&negotiations);
                say(&format!(
                    "timeout after {:.1} s: received {received} of {} line(s)",
                    started.elapsed().as_secs_f64(),
                    args.expect.unwrap_or(0)
                ));
                return Ok(ExitCode::FAILURE);
            }
        }
    }
}

/// Prints what each negotiation did.
fn report(negotiations: &HashMap<String, (String, rtcweb_tokio::signaling::NegotiationHandle)>) {
    for (name, n) in negotiations.values() {
        let s = n.stats();
        say(&format!(
            "negotiation with {name}: offers sent {} received {}, answers sent {} received {}, \
             glare: ignored {} rolled back {}",
            s.offers_sent,
            s.offers_received,
            s.answers_sent,
            s.answers_received,
            s.ignored_offers,
            s.rollbacks
        ));
    }
}

fn display(p: &rtcweb_tokio::signaling::room::Participant) -> String {
    if p.name.is_empty() {
        format!("#{}", p.pid)
    } else {
        p.name.clone()
    }
}

/// Waits (briefly) until what we sent has left, so that leaving does not cut it off.
async fn finish(channels: &[DataChannel]) {
    for dc in channels {
        let _ = tokio::time::timeout(Duration::from_secs(2), dc.buffered_amount_low(0)).await;
    }
    // The last SCTP packets may still wait for their acknowledgement.
    tokio::time::sleep(Duration::from_millis(300)).await;
}

/// One peer of the mesh: its PeerConnection, negotiation, chat channel and media counter.
async fn start_peer(
    p: RoomPeer,
    config: PeerConfig,
    send: Arc<Vec<String>>,
    channels: Channels,
    notes: mpsc::UnboundedSender<Note>,
) -> Result<rtcweb_tokio::signaling::NegotiationHandle, rtcweb_tokio::Error> {
    let name = display(&p.participant);
    let (pc, pc_events) = RtcPeerConnection::new(config).await?;
    let own = if p.initiator {
        Some(pc.create_data_channel("chat", &Default::default())?)
    } else {
        None
    };
    let options = if p.initiator {
        NegotiationOptions::impolite()
    } else {
        NegotiationOptions::polite()
    };
    let (handle, mut app) = PerfectNegotiation::spawn(pc.clone(), pc_events, p.signaling, options);
    let stats_pc = pc.clone();
    let chat = move |dc: DataChannel| {
        let (name, send, channels, notes, pc) = (
            name.clone(),
            send.clone(),
            channels.clone(),
            notes.clone(),
            stats_pc.clone(),
        );
        tokio::spawn(async move {
            if dc.wait_open().await.is_err() {
                return;
            }
            if let Ok(mut c) = channels.lock() {
                c.push(dc.clone());
            }
            for text in send.iter() {
                if let Err(e) = dc.send_text(text).await {
                    say(&format!("sending to {name}: {e}"));
                }
            }
            let mut first = true;
            while let Some(m) = dc.recv().await {
                if std::mem::take(&mut first)
                    && let Some(s) = pc.stats().sctp
                {
                    say(&format!(
                        "sctp with {name}: zero checksum {}, {} packets received with checksum 0, \
                         interleaving {}",
                        s.zero_checksum, s.zero_checksum_packets_received, s.message_interleaving
                    ));
                }
                let text = String::from_utf8_lossy(&m.data).into_owned();
                let _ = notes.send(Note::Line {
                    from: name.clone(),
                    text,
                });
            }
        });
    };
    if let Some(dc) = own {
        chat(dc);
    }
    let peer_name = display(&p.participant);
    tokio::spawn(async move {
        let mut rtp = 0u64;
        let started = Instant::now();
        while let Some(e) = app.recv().await {
            match e {
                PeerEvent::DataChannel(dc) if dc.label() == "chat" => chat(dc),
                PeerEvent::ConnectionState(s) => {
                    if s == rtcweb::PeerConnectionState::Connected {
                        let pair = pc.selected_candidate_pair();
                        let kind =
                            |c: Option<&rtcweb::Candidate>| c.map_or("?", |c| c.kind.as_sdp());
                        let (local, remote) =
                            (pair.as_ref().map(|p| &p.0), pair.as_ref().map(|p| &p.1));
                        let (dtls, _) = pc.dtls_info();
                        say(&format!(
                            "connected to {peer_name} in {} ms via {} -> {} ({})",
                            started.elapsed().as_millis(),
                            kind(local),
                            kind(remote),
                            dtls.map_or("?", rtcweb::DtlsVersion::as_str),
                        ));
                        if let Some((local, remote)) = &pair {
                            say(&format!("pair with {peer_name}: {local} | {remote}"));
                        }
                    } else if matches!(
                        s,
                        rtcweb::PeerConnectionState::Failed | rtcweb::PeerConnectionState::Closed
                    ) {
                        say(&format!("connection to {peer_name}: {s:?}"));
                    }
                }
                PeerEvent::Track { mid, .. } => {
                    say(&format!("{peer_name} sends media (mid {mid})"))
                }
                PeerEvent::Rtp { .. } => {
                    rtp += 1;
                    if rtp == 1 || rtp.is_power_of_two() && rtp >= 64 {
                        say(&format!("media from {peer_name}: {rtp} RTP packets"));
                    }
                }
                _ => {}
            }
        }
    });
    Ok(handle)
}
