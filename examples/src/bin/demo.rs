//! `demo [--mib N] [--rtp-packets N]`: the README's first command,
//! `cargo run --release --bin demo`.
//!
//! Two `RtcPeerConnection`s in this process, each on its own UDP socket on 127.0.0.1,
//! negotiate over in-memory signaling (offer and answer with their candidates), connect with
//! ICE and DTLS, then:
//! - send `--mib` MiB (default 64) over a reliable ordered data channel in 64 KiB messages,
//!   with back-pressure, showing progress; the receiver checks every byte;
//! - measure the round-trip time with 100 ping-pong messages on the channel;
//! - stream `--rtp-packets` RTP packets (default 2000) over SRTP from A's video transceiver,
//!   which B receives and counts.
//!
//! Prints the selected candidate pair, DTLS version, SRTP profile, setup time, throughput
//! and RTT, and exits 0 when everything arrived (1 otherwise). Nothing leaves loopback.

use std::io::Write;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use clap::Parser;
use rtcweb_tokio::rtcweb::{
    DataChannelInit, Direction, MediaKind, SdpType, SessionDescription, SignalingMessage,
};
use rtcweb_tokio::signaling::{Signaling, memory};
use rtcweb_tokio::{DataChannel, PeerConfig, PeerEvent, RtcPeerConnection};
use tokio::sync::{mpsc, watch};

const CHUNK: usize = 64 * 1024;

/// Two peer connections in this process over UDP on 127.0.0.1: a data channel transfer
/// checked byte for byte, its round-trip time, and an RTP stream over SRTP.
#[derive(Parser)]
struct Args {
    /// MiB to send over the data channel.
    #[arg(long, value_name = "N", default_value_t = 64)]
    mib: usize,
    /// RTP packets to stream over SRTP.
    #[arg(long, value_name = "N", default_value_t = 2000)]
    rtp_packets: u16,
}

/// What one side's event task collects.
struct Side {
    pc: RtcPeerConnection,
    gathered: watch::Receiver<bool>,
    channels: mpsc::UnboundedReceiver<DataChannel>,
    rtp_received: Arc<AtomicU64>,
}

async fn side() -> Result<Side, String> {
    let config = PeerConfig {
        bind: vec![std::net::SocketAddr::from(([127, 0, 0, 1], 0))],
        ..PeerConfig::default()
    };
    let (pc, mut events) = RtcPeerConnection::new(config)
        .await
        .map_err(|e| format!("peer connection: {e}"))?;
    let (gathered_tx, gathered) = watch::channel(false);
    let (channel_tx, channels) = mpsc::unbounded_channel();
    let rtp_received = Arc::new(AtomicU64::new(0));
    let rtp = rtp_received.clone();
    tokio::spawn(async move {
        while let Some(e) = events.recv().await {
            match e {
                PeerEvent::IceCandidate(None) => {
                    let _ = gathered_tx.send(true);
                }
                PeerEvent::DataChannel(dc) => {
                    let _ = channel_tx.send(dc);
                }
                PeerEvent::Rtp {
                    transceiver: Some(_),
                    packet,
                } if packet.len() >= 12 => {
                    rtp.fetch_add(1, Ordering::Relaxed);
                }
                _ => {}
            }
        }
    });
    Ok(Side {
        pc,
        gathered,
        channels,
        rtp_received,
    })
}

/// The local description with every candidate, once gathering is complete.
async fn complete(side: &mut Side, sdp_type: SdpType) -> Result<SessionDescription, String> {
    side.gathered
        .wait_for(|g| *g)
        .await
        .map_err(|_| "gathering did not complete")?;
    let sdp = side.pc.local_description().ok_or("no local description")?;
    Ok(SessionDescription { sdp_type, sdp })
}

/// Offer from A, answer from B, over an in-memory signaling pair.
async fn negotiate(a: &mut Side, b: &mut Side) -> Result<(), String> {
    let (mut to_b, mut to_a) = memory::pair();
    let e = |e: rtcweb_tokio::Error| e.to_string();
    let offer = a.pc.create_offer().map_err(e)?;
    a.pc.set_local_description(&offer).map_err(e)?;
    let offer = complete(a, SdpType::Offer).await?;
    to_b.send(SignalingMessage::Description(offer))
        .await
        .map_err(e)?;
    let Some(SignalingMessage::Description(offer)) = to_a.recv().await.map_err(e)? else {
        return Err("B got no offer".into());
    };
    b.pc.set_remote_description(&offer).map_err(e)?;
    let answer = b.pc.create_answer().map_err(e)?;
    b.pc.set_local_description(&answer).map_err(e)?;
    let answer = complete(b, SdpType::Answer).await?;
    to_a.send(SignalingMessage::Description(answer))
        .await
        .map_err(e)?;
    let Some(SignalingMessage::Description(answer)) = to_b.recv().await.map_err(e)? else {
        return Err("A got no answer".into());
    };
    a.pc.set_remote_description(&answer).map_err(e)
}

/// Sends `mib` MiB in 64 KiB messages (back-pressure at 1 MiB buffered) while B checks
/// them; returns the seconds it took, measured until the last byte arrived.
async fn transfer(tx: &DataChannel, rx: DataChannel, mib: usize) -> Result<f64, String> {
    let total = (mib * 1024 * 1024) as u64;
    let received = Arc::new(AtomicU64::new(0));
    let counter = received.clone();
    let checker = tokio::spawn(async move {
        let mut got = 0u64;
        while got < total {
            let Some(m) = rx.recv().await else {
                return Err(format!("channel closed after {got} bytes"));
            };
            // Message i is filled with byte i: order and content are both checked.
            let expected = (got / CHUNK as u64) as u8;
            if m.data.len() != CHUNK || m.data.iter().any(|&b| b != expected) {
                return Err(format!("corrupt message at byte {got}"));
            }
            got += m.data.len() as u64;
            counter.store(got, Ordering::Relaxed);
        }
        Ok(rx)
    });
    let start = Instant::now();
    let progress = tokio::spawn({
        let received = received.clone();
        async move {
            loop {
                tokio::time::sleep(Duration::from_millis(200)).await;
                let got = received.load(Ordering::Relaxed);
                let secs = start.elapsed().as_secs_f64();
                print!(
                    "\r  data channel: {:>4} / {} MiB  {:>7.1} Mbit/s",
                    got / (1024 * 1024),
                    total / (1024 * 1024),
                    got as f64 * 8.0 / secs / 1e6
                );
                let _ = std::io::stdout().flush();
            }
        }
    });
    let mut chunk = vec![0u8; CHUNK];
    tx.set_buffered_amount_low_threshold(512 * 1024);
    for i in 0..total / CHUNK as u64 {
        chunk.fill(i as u8);
        if tx.buffered_amount() >= 1024 * 1024 {
            tx.buffered_amount_low(512 * 1024).await;
        }
        tx.send(&chunk).await.map_err(|e| format!("send: {e}"))?;
    }
    let rx = tokio::time::timeout(Duration::from_secs(60), checker)
        .await
        .map_err(|_| "transfer did not finish within 60 s")?
        .map_err(|e| e.to_string())??;
    let secs = start.elapsed().as_secs_f64();
    progress.abort();
    println!(
        "\r  data channel: {:>4} / {} MiB  {:>7.1} Mbit/s  (all bytes checked)",
        total / (1024 * 1024),
        total / (1024 * 1024),
        total as f64 * 8.0 / secs / 1e6
    );
    drop(rx);
    Ok(secs)
}

/// Median and minimum round-trip time of `n` ping-pong messages over the channel.
async fn ping(
    tx: &DataChannel,
    echo: DataChannel,
    n: usize,
) -> Result<(Duration, Duration), String> {
    let echoer = tokio::spawn(async move {
        while let Some(m) = echo.recv().await {
            if echo.send_text(m.text().unwrap_or_default()).await.is_err() {
                break;
            }
        }
    });
    let mut rtts = Vec::with_capacity(n);
    for i in 0..n {
        let sent = Instant::now();
        let text = format!("ping {i}");
        tx.send_text(&text).await.map_err(|e| e.to_string())?;
        let m = tokio::time::timeout(Duration::from_secs(5), tx.recv())
            .await
            .map_err(|_| "no pong within 5 s")?
            .ok_or("channel closed")?;
        if m.text() != Some(text.as_str()) {
            return Err(format!("pong {i} was {:?}", m.text()));
        }
        rtts.push(sent.elapsed());
    }
    echoer.abort();
    rtts.sort();
    Ok((rtts[n / 2], rtts[0]))
}

/// Streams `count` RTP packets (1000-byte payloads, 90 kHz timestamps, 1000 packets/s) on
/// A's video transceiver; returns how many B received.
async fn rtp(
    a: &Side,
    b: &Side,
    transceiver: rtcweb_tokio::rtcweb::TransceiverId,
    count: u16,
) -> Result<u64, String> {
    let mut packet = vec![0u8; 12 + 1000];
    packet[0] = 0x80;
    packet[1] = 96;
    let ssrc = a.pc.sending_ssrc(transceiver).ok_or("no sending SSRC")?;
    packet[8..12].copy_from_slice(&ssrc.to_be_bytes());
    let mut tick = tokio::time::interval(Duration::from_millis(1));
    for seq in 0..count {
        tick.tick().await;
        packet[2..4].copy_from_slice(&seq.to_be_bytes());
        packet[4..8].copy_from_slice(&(u32::from(seq) * 90).to_be_bytes());
        a.pc.write_rtp(transceiver, &packet)
            .map_err(|e| format!("write_rtp: {e}"))?;
    }
    let deadline = Instant::now() + Duration::from_secs(2);
    while b.rtp_received.load(Ordering::Relaxed) < u64::from(count) && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    Ok(b.rtp_received.load(Ordering::Relaxed))
}

async fn run(args: Args) -> Result<(), String> {
    println!("rtcweb demo: two peer connections over UDP on 127.0.0.1");
    let (mut a, mut b) = (side().await?, side().await?);
    let dc =
        a.pc.create_data_channel("demo", &DataChannelInit::default())
            .map_err(|e| e.to_string())?;
    let video = a.pc.add_transceiver(MediaKind::Video, Direction::SendOnly);
    let start = Instant::now();
    negotiate(&mut a, &mut b).await?;
    let remote = tokio::time::timeout(Duration::from_secs(10), b.channels.recv())
        .await
        .map_err(|_| "no data channel at B within 10 s")?
        .ok_or("B's events ended")?;
    dc.wait_open().await.map_err(|e| e.to_string())?;
    a.pc.connected(Duration::from_secs(10))
        .await
        .map_err(|e| format!("A not connected: {e}"))?;
    let setup = start.elapsed();
    let (local, remote_candidate) = a.pc.selected_candidate_pair().ok_or("no selected pair")?;
    let (version, profile) = a.pc.dtls_info();
    println!("  selected pair: {local}");
    println!("             ->  {remote_candidate}");
    println!(
        "  DTLS: {}, SRTP profile: {}",
        version.map_or("?", rtcweb::DtlsVersion::as_str),
        profile.unwrap_or("none")
    );
    println!(
        "  setup (createOffer until the channel is open on both sides): {:.2} ms",
        setup.as_secs_f64() * 1e3
    );

    transfer(&dc, remote.clone(), args.mib).await?;
    let (median, min) = ping(&dc, remote, 100).await?;
    let ice_rtt =
        a.pc.stats()
            .candidate_pairs
            .iter()
            .find(|p| p.nominated)
            .and_then(|p| p.current_round_trip_time);
    println!(
        "  RTT over the data channel: median {:.0} us, min {:.0} us (100 ping-pongs){}",
        median.as_secs_f64() * 1e6,
        min.as_secs_f64() * 1e6,
        ice_rtt.map_or(String::new(), |s| format!(
            "; ICE consent RTT {:.0} us",
            s * 1e6
        ))
    );
    let got = rtp(&a, &b, video, args.rtp_packets).await?;
    println!(
        "  RTP over SRTP: {got} of {} packets received and decrypted",
        args.rtp_packets
    );
    a.pc.close();
    b.pc.close();
    if got != u64::from(args.rtp_packets) {
        return Err(format!(
            "{} RTP packets lost",
            u64::from(args.rtp_packets) - got
        ));
    }
    println!("demo: OK");
    Ok(())
}

fn main() -> ExitCode {
    let args = Args::parse();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("demo: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(args)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("\ndemo: FAILED: {e}");
            ExitCode::FAILURE
        }
    }
}
