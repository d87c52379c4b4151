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

use clap::Parser;
use rtcweb_examples::{logging, shutdown};
use rtcweb_tokio::signaling::room::RoomServer;

const PAGE: &str = include_str!("room.html");
const SCRIPT: &str = include_str!("room.js");

/// WebSocket rooms on `ws://ADDR/ROOM` and a page for browsers on `http://ADDR/ROOM`; `chat`
/// peers and browsers meet in the same rooms. Stops on SIGINT/SIGTERM.
#[derive(Parser)]
struct Args {
    /// The address to serve rooms and the page on.
    #[arg(long, value_name = "ADDR:PORT")]
    listen: SocketAddr,
}

#[tokio::main]
async fn main() -> ExitCode {
    logging::init("info");
    let Args { listen } = Args::parse();
    let stop = match shutdown::signal() {
        Ok(s) => s,
        Err(e) => {
            eprintln!("room-server: {e}");
            return ExitCode::FAILURE;
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
    tokio::select! {
        r = server.run() => {
            if let Err(e) = r {
                eprintln!("room-server: {e}");
                return ExitCode::FAILURE;
            }
        }
        () = stop => {}
    }
    println!("room-server: stopped");
    ExitCode::SUCCESS
}
