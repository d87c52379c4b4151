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
use std::process::ExitCode;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rtcweb_tokio::signaling::room::{Room, RoomEvent, RoomPeer};
use rtcweb_tokio::signaling::{NegotiationOptions, PerfectNegotiation};
use rtcweb_tokio::{DataChannel, PeerConfig, PeerEvent, RtcPeerConnection};
use tokio::sync::mpsc;

#[path = "../echo_common.rs"]
#[allow(dead_code)] // shared with the echo examples; not every helper is used here
mod common;

const USAGE: &str = "usage: chat --room ws://HOST:PORT/ROOM [--name N] [--ice-server URL]... \
                     [--ice-username U --ice-credential P] [--relay-only] [--bind IP]... \
                     [--send TEXT]... [--expect N] [--timeout S]";

struct Args {
    room: String,
    name: String,
    ice_servers: Vec<rtcweb::IceServer>,
    relay_only: bool,
    bind: Vec<std::net::SocketAddr>,
    send: Vec<String>,
    expect: Option<usize>,
    timeout: Option<Duration>,
}

fn parse_args() -> Result<Args, String> {
    let mut room = None;
    let mut name = None;
    let mut urls = Vec::new();
    let (mut username, mut credential) = (None, None);
    let mut args = Args {
        room: String::new(),
        name: String::new(),
        ice_servers: Vec::new(),
        relay_only: false,
        bind: Vec::new(),
        send: Vec::new(),
        expect: None,
        timeout: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().ok_or(format!("{flag} needs a value\n{USAGE}"));
        match flag.as_str() {
            "--room" => room = Some(value()?),
            "--name" => name = Some(value()?),
            "--ice-server" => urls.push(value()?),
            "--ice-username" => username = Some(value()?),
            "--ice-credential" => credential = Some(value()?),
            "--relay-only" => args.relay_only = true,
            "--bind" => {
                let v = value()?;
                let ip: std::net::IpAddr = v.parse().map_err(|e| format!("--bind {v}: {e}"))?;
                args.bind.push(std::net::SocketAddr::new(ip, 0));
            }
            "--send" => args.send.push(value()?),
            "--expect" => {
                let v = value()?;
                args.expect = Some(v.parse().map_err(|e| format!("--expect {v}: {e}"))?);
            }
            "--timeout" => {
                let v = value()?;
                let secs: f64 = v.parse().map_err(|e| format!("--timeout {v}: {e}"))?;
                if !(secs > 0.0 && secs.is_finite()) {
                    return Err(format!("--timeout {v}: must be positive"));
                }
                args.timeout = Some(Duration::from_secs_f64(secs));
            }
            "-h" | "--help" => return Err(USAGE.into()),
            other => return Err(format!("unknown argument {other}\n{USAGE}")),
        }
    }
    args.room = room.ok_or(USAGE)?;
    args.name = name.unwrap_or_else(|| format!("rust-{}", std::process::id()));
    for url in urls {
        let bare_turn =
            (url.starts_with("turn:") || url.starts_with("turns:")) && !url.contains('@');
        let server = match (bare_turn, &username, &credential) {
            (true, Some(u), Some(p)) => {
                rtcweb::IceServerUrl::parse(&url).map_err(|e| e.to_string())?;
                rtcweb::IceServer::turn(&url, u, p)
            }
            _ => common::ice_server(&url)?,
        };
        args.ice_servers.push(server);
    }
    if args.expect.is_some() && args.timeout.is_none() {
        args.timeout = Some(Duration::from_secs(60));
    }
    Ok(args)
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
    common::init_logging();
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    match run(args).await {
        Ok(code) => code,
        Err(e) => {
            say(&format!("error: {e}"));
            ExitCode::FAILURE
        }
    }
}

async fn run(args: Args) -> Result<ExitCode, rtcweb_tokio::Error> {
    let started = Instant::now();
    let deadline = args.timeout.map(|t| tokio::time::Instant::now() + t);
    let (room, mut events) = Room::join(&args.room, &args.name).await?;
    say(&format!(
        "joined {} as {} (pid {}), {} already there",
        room.name(),
        args.name,
        room.pid(),
        room.participants().len()
    ));
    let config = PeerConfig {
        ice_servers: args.ice_servers.clone(),
        relay_only: args.relay_only,
        bind: args.bind.clone(),
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
                        let (local, remote) = pc.selected_candidate_pair().unwrap_or_default();
                        let (dtls, _) = pc.dtls_info();
                        say(&format!(
                            "connected to {peer_name} in {} ms via {} -> {} ({})",
                            started.elapsed().as_millis(),
                            candidate_type(&local),
                            candidate_type(&remote),
                            dtls.unwrap_or("?"),
                        ));
                        say(&format!("pair with {peer_name}: {local} | {remote}"));
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

/// `host`, `srflx`, `prflx` or `relay` from a `candidate:` string.
fn candidate_type(candidate: &str) -> &str {
    let mut parts = candidate.split_whitespace();
    while let Some(p) = parts.next() {
        if p == "typ" {
            return parts.next().unwrap_or("?");
        }
    }
    "?"
}
