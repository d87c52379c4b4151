//! Driving the sans-IO `rtcweb::PeerConnection` yourself, over a plain `std::net::UdpSocket`.
//!
//! A `PeerConnection` never touches a socket or a clock: you hand it what arrived and the
//! time; it tells you what to send, what happened, and when to call it again. Five calls make
//! the loop: `handle_input`, `handle_timeout`, `poll_transmit`, `poll_event`, `poll_timeout`.
//! Alice and Bob run in one thread on 127.0.0.1 and trade one data channel message each way.
//!
//! `cargo run -p rtcweb-examples --example sans-io-udp` (also run by `cargo test`).

use std::net::{SocketAddr, UdpSocket};
use std::time::{Duration, Instant};

use rtcweb::{DataChannelEvent, Datagram, Event, PeerConnection, RtcConfiguration};
use rtcweb_tokio::net::{generate_certificate, os_seed}; // OS randomness only: no runtime here

type Result<T> = std::result::Result<T, Box<dyn std::error::Error>>;

/// A connection, the socket it speaks through, and that socket's address.
fn peer(now: Instant) -> Result<(PeerConnection, UdpSocket, SocketAddr)> {
    let socket = UdpSocket::bind("127.0.0.1:0")?;
    socket.set_nonblocking(true)?; // `main` does the waiting
    let local = socket.local_addr()?;
    // The DTLS certificate and the seed of every random choice come from the OS.
    let mut pc = PeerConnection::new(RtcConfiguration::new(generate_certificate()?, os_seed()))?;
    pc.add_local_address(now, local); // becomes our host candidate
    Ok((pc, socket, local))
}

fn main() -> Result<()> {
    let start = Instant::now();
    let mut peers = [peer(start)?, peer(start)?];
    let [(alice, ..), (bob, ..)] = &mut peers;
    // Signaling is plain function calls here: both peers live in this process.
    alice.create_data_channel(start, "hello", &Default::default())?;
    let offer = alice.create_offer()?;
    alice.set_local_description(start, &offer)?;
    bob.set_remote_description(start, &offer)?;
    let answer = bob.create_answer()?;
    bob.set_local_description(start, &answer)?;
    alice.set_remote_description(start, &answer)?;

    let mut buf = [0u8; 2048];
    while start.elapsed() < Duration::from_secs(10) {
        for i in 0..2 {
            let [a, b] = &mut peers;
            let ((pc, socket, local), (other, ..)) = if i == 0 { (a, b) } else { (b, a) };
            let now = Instant::now();
            // 1. Every datagram that arrived, with its addresses and the time.
            while let Ok((n, from)) = socket.recv_from(&mut buf) {
                pc.handle_input(now, Datagram::udp(from, *local, &buf[..n]));
            }
            // 2. Timers that are due: ICE checks, retransmissions, keepalives.
            if pc.poll_timeout().is_some_and(|at| at <= now) {
                pc.handle_timeout(now);
            }
            // 3. Datagrams to send.
            while let Some(t) = pc.poll_transmit() {
                socket.send_to(&t.payload, t.destination)?;
            }
            // 4. What happened. Reacting (sending, adding a candidate) queues more output,
            // which step 3 sends on the next turn.
            while let Some(event) = pc.poll_event() {
                match event {
                    // Trickle ICE: each candidate goes to the other peer as it is found.
                    Event::IceCandidate(Some(c)) => other.add_ice_candidate(now, &c)?,
                    // Alice's channel is open: she speaks first.
                    Event::DataChannel(DataChannelEvent::Open { id }) => {
                        pc.send_text(now, id, "hello, Bob")?;
                    }
                    Event::DataChannel(DataChannelEvent::Message { id, data, .. }) => {
                        let text = String::from_utf8_lossy(&data);
                        println!("{} got: {text}", ["Alice", "Bob"][i]);
                        if i == 0 {
                            return Ok(()); // Bob's answer came back: done
                        }
                        pc.send_text(now, id, "hello, Alice")?;
                    }
                    _ => {}
                }
            }
        }
        // 5. Sleep until the earliest deadline. A real program waits on its sockets and that
        // deadline together (poll/epoll, or an async runtime); two sockets in one thread here
        // are looked at again after a millisecond at most.
        let wake = peers.iter().filter_map(|(pc, ..)| pc.poll_timeout()).min();
        let nap = wake.map_or(Duration::MAX, |at| {
            at.saturating_duration_since(Instant::now())
        });
        std::thread::sleep(nap.min(Duration::from_millis(1)));
    }
    Err("no answer within 10 s".into())
}
