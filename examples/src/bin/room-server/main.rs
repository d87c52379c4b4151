//! `room-server --listen ADDR`
//!
//! WebSocket rooms (`rtcweb_tokio::signaling::room`: join, participant-ready, sdp,
//! candidate, bye, chat) on `ws://ADDR/ROOM`, and a page for browsers on `http://ADDR/ROOM`
//! (plain HTML and JavaScript, no build step): it joins the room, sends the camera and
//! microphone (getUserMedia) to everyone and chats over a data channel, full mesh, with
//! the W3C perfect negotiation pattern. `chat` peers and browsers meet in the same rooms.
//!
//! Page options: `?name=NAME`, `&video=0` (no camera), `&ice=URL` (repeatable;
//! `turn:USER:PASS@HOST:PORT` like `chat --ice-server`), `&relay=1` (relay only).
//! Stops on SIGINT/SIGTERM.

use std::net::SocketAddr;
use std::process::ExitCode;

use rtcweb_tokio::signaling::room::RoomServer;

const USAGE: &str = "usage: room-server --listen ADDR";

const PAGE: &str = include_str!("room.html");
const SCRIPT: &str = include_str!("room.js");

fn parse_args() -> Result<SocketAddr, String> {
    let mut listen = None;
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        match flag.as_str() {
            "--listen" => {
                let v = it
                    .next()
                    .ok_or(format!("--listen needs a value\n{USAGE}"))?;
                listen = Some(v.parse().map_err(|e| format!("--listen {v}: {e}"))?);
            }
            "-h" | "--help" => return Err(USAGE.into()),
            other => return Err(format!("unknown argument {other}\n{USAGE}")),
        }
    }
    listen.ok_or_else(|| USAGE.into())
}

#[tokio::main]
async fn main() -> ExitCode {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
    let listen = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    let server = match RoomServer::bind(listen).await {
        Ok(s) => s
            .with_room_page("text/html; charset=utf-8", PAGE)
            .with_page("/room.js", "text/javascript; charset=utf-8", SCRIPT),
        Err(e) => {
            eprintln!("room-server: cannot listen on {listen}: {e}");
            return ExitCode::FAILURE;
        }
    };
    let local = server.local_addr().unwrap_or(listen);
    println!("room-server: rooms on ws://{local}/ROOM, the page on http://{local}/ROOM");
    let mut term = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("room-server: {e}");
            return ExitCode::FAILURE;
        }
    };
    tokio::select! {
        r = server.run() => {
            if let Err(e) = r {
                eprintln!("room-server: {e}");
                return ExitCode::FAILURE;
            }
        }
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
    }
    println!("room-server: stopped");
    ExitCode::SUCCESS
}
