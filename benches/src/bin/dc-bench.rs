//! `dc-bench MODE [--seconds S] [--pairs N] [--runtime per-peer|shared] [--dtls auto|1.2|1.3]`:
//! data-channel throughput, small-message rate and connection setup time of rtcweb, by the
//! protocol of issue 9 (the same protocol runs with node-datachannel, pion and aiortc in
//! `benches/peers/`; `benches/run-dc-bench.sh` runs them all side by side).
//!
//! Two `rtcweb_tokio::RtcPeerConnection`s in one process talk over UDP on 127.0.0.1 (host
//! candidates only), with non-trickle in-process signaling: A creates one reliable ordered
//! channel `bench` and offers, B answers, each description carries every candidate.
//!
//! - `throughput`: A sends 64 KiB messages for `--seconds` (default 10) while
//!   `bufferedAmount` < 1 MiB, and resumes at 512 KiB (`bufferedamountlow`); B checks and
//!   counts what arrives (each message carries its sequence number and a fixed fill: one
//!   missing, out of order or changed ends the run with an error). Prints
//!   `THROUGHPUT rtcweb <Mbit/s>` measured at the receiver.
//! - `smallmsg`: the same with 100-byte messages and 4 KiB / 2 KiB thresholds. Prints
//!   `SMALLMSG rtcweb <messages/s>`.
//! - `setup`: `--pairs` (default 20) fresh pairs, each timed from `createOffer` until the
//!   channel is open on both sides. Prints `SETUP rtcweb median_ms=<x> min_ms=<y>` plus the
//!   maximum and the datagrams exchanged (the round trips are counted by the test
//!   `rtcweb/tests/hot_path.rs`, on a virtual clock).
//!
//! Every mode also prints `CPU rtcweb ...`: process CPU time (getrusage, user + system) over
//! the measured interval, in cores and per unit of work.
//!
//! `--runtime per-peer` (the default) gives each peer its own one-thread tokio runtime, as two
//! endpoints in two processes (or on two machines) have; `shared` runs both on one runtime
//! with two worker threads, where tokio keeps tasks that wake each other on one worker, so
//! the pair uses about one core. Either way the application's loops run in spawned tasks, as
//! in an application. Each side
//! prepares one DTLS context (`--dtls`: both versions, the default, or one) and shares it
//! between its connections, as a server does.

use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use nix::sys::resource::{UsageWho, getrusage};
use rtcweb_tokio::rtcweb::{
    DataChannelInit, DtlsContext, PeerConnection, SessionDescription, VersionPolicy,
};
use rtcweb_tokio::{DataChannel, PeerConfig, PeerEvent, RtcPeerConnection};
use tokio::runtime::{Handle, Runtime};
use tokio::sync::{mpsc, watch};

const USAGE: &str = "usage: dc-bench throughput|smallmsg|setup [--seconds S] [--pairs N] \
                     [--runtime per-peer|shared] [--dtls auto|1.2|1.3]";

struct Args {
    mode: String,
    seconds: u64,
    pairs: usize,
    per_peer: bool,
    dtls: VersionPolicy,
}

fn args() -> Result<Args, String> {
    let mut it = std::env::args().skip(1);
    let mode = it.next().ok_or(USAGE)?;
    let mut a = Args {
        mode,
        seconds: 10,
        pairs: 20,
        per_peer: true,
        dtls: VersionPolicy::Auto,
    };
    while let Some(flag) = it.next() {
        let v = it.next().ok_or(format!("{flag} needs a value\n{USAGE}"))?;
        let num = || {
            v.parse::<u64>()
                .map_err(|_| format!("{flag}: bad number {v}"))
        };
        match flag.as_str() {
            "--seconds" => a.seconds = num()?.max(1),
            "--pairs" => a.pairs = usize::try_from(num()?).unwrap_or(20).max(1),
            "--runtime" => {
                a.per_peer = match v.as_str() {
                    "per-peer" => true,
                    "shared" => false,
                    _ => return Err(format!("--runtime: per-peer or shared\n{USAGE}")),
                }
            }
            "--dtls" => {
                a.dtls = match v.as_str() {
                    "auto" => VersionPolicy::Auto,
                    "1.2" => VersionPolicy::Dtls12,
                    "1.3" => VersionPolicy::Dtls13,
                    _ => return Err(format!("--dtls: auto, 1.2 or 1.3\n{USAGE}")),
                }
            }
            _ => return Err(format!("unknown argument {flag}\n{USAGE}")),
        }
    }
    Ok(a)
}

/// Process CPU time (user + system) so far.
fn cpu_time() -> Duration {
    match getrusage(UsageWho::RUSAGE_SELF) {
        Ok(u) => {
            let t = |tv: nix::sys::time::TimeVal| {
                Duration::from_secs(tv.tv_sec().max(0) as u64)
                    + Duration::from_micros(tv.tv_usec().max(0) as u64)
            };
            t(u.user_time()) + t(u.system_time())
        }
        Err(_) => Duration::ZERO,
    }
}

/// Where each side runs and what it shares between its connections.
struct Sides {
    a: Handle,
    b: Handle,
    dtls_a: DtlsContext,
    dtls_b: DtlsContext,
}

fn dtls_context(version: VersionPolicy) -> Result<DtlsContext, String> {
    let certificate = rtcweb_tokio::net::generate_certificate().map_err(|e| e.to_string())?;
    let mut config = PeerConnection::dtls_config();
    config.version = version;
    DtlsContext::new(config, certificate).map_err(|e| e.to_string())
}

/// One side: the connection, whether gathering is complete, and the channels the peer opens.
struct Peer {
    pc: RtcPeerConnection,
    gathered: watch::Receiver<bool>,
    incoming: mpsc::UnboundedReceiver<DataChannel>,
}

/// A connection on `runtime` (its driver and event task run there).
async fn peer(runtime: &Handle, dtls: &DtlsContext) -> Result<Peer, String> {
    let config = PeerConfig {
        bind: vec![std::net::SocketAddr::from(([127, 0, 0, 1], 0))],
        dtls_context: Some(dtls.clone()),
        ..PeerConfig::default()
    };
    let made = runtime.spawn(async move {
        let (pc, mut events) = RtcPeerConnection::new(config)
            .await
            .map_err(|e| format!("new peer connection: {e}"))?;
        let (gathered_tx, gathered) = watch::channel(false);
        let (channels, incoming) = mpsc::unbounded_channel();
        tokio::spawn(async move {
            while let Some(e) = events.recv().await {
                match e {
                    PeerEvent::IceCandidate(None) => {
                        let _ = gathered_tx.send(true);
                    }
                    PeerEvent::DataChannel(dc) => {
                        let _ = channels.send(dc);
                    }
                    _ => {}
                }
            }
        });
        Ok::<_, String>(Peer {
            pc,
            gathered,
            incoming,
        })
    });
    made.await.map_err(|e| e.to_string())?
}

/// The local description once gathering is complete (non-trickle).
async fn complete_description(p: &mut Peer, kind: &str) -> Result<SessionDescription, String> {
    p.gathered
        .wait_for(|g| *g)
        .await
        .map_err(|_| "peer gone while gathering")?;
    let sdp =
        p.pc.local_description()
            .ok_or("no local description after gathering")?;
    Ok(if kind == "offer" {
        SessionDescription::offer(sdp)
    } else {
        SessionDescription::answer(sdp)
    })
}

/// A new pair, connected: A's channel and B's incoming one, both open, and the time from
/// `createOffer` until then.
async fn connect(
    sides: &Sides,
) -> Result<(Peer, Peer, DataChannel, DataChannel, Duration), String> {
    let mut a = peer(&sides.a, &sides.dtls_a).await?;
    let mut b = peer(&sides.b, &sides.dtls_b).await?;
    let err = |e: rtcweb_tokio::Error| e.to_string();
    let dc =
        a.pc.create_data_channel("bench", &DataChannelInit::default())
            .map_err(err)?;
    let start = Instant::now();
    let offer = a.pc.create_offer().map_err(err)?;
    a.pc.set_local_description(&offer).map_err(err)?;
    let offer = complete_description(&mut a, "offer").await?;
    b.pc.set_remote_description(&offer).map_err(err)?;
    let answer = b.pc.create_answer().map_err(err)?;
    b.pc.set_local_description(&answer).map_err(err)?;
    let answer = complete_description(&mut b, "answer").await?;
    a.pc.set_remote_description(&answer).map_err(err)?;
    let opened = async {
        let remote = b.incoming.recv().await.ok_or("B's events ended")?;
        dc.wait_open().await.map_err(err)?;
        Ok::<_, String>(remote)
    };
    let remote = tokio::time::timeout(Duration::from_secs(10), opened)
        .await
        .map_err(|_| "the channel did not open within 10 s")??;
    let setup = start.elapsed();
    Ok((a, b, dc, remote, setup))
}

/// What every message byte is, after its 8-byte sequence number.
const FILL: u8 = 0xa5;

/// Sends `size`-byte messages for `seconds` with the given buffered-amount thresholds and
/// returns (messages, bytes, seconds) counted at the receiver, and the CPU time used.
async fn transfer(
    sides: &Sides,
    size: usize,
    high: usize,
    low: usize,
    seconds: u64,
) -> Result<(u64, u64, f64, Duration), String> {
    let (a, b, dc, remote, _) = connect(sides).await?;
    let received = Arc::new(AtomicU64::new(0));
    let messages = Arc::new(AtomicU64::new(0));
    let wrong = Arc::new(AtomicU64::new(0));
    let (r, m, w) = (received.clone(), messages.clone(), wrong.clone());
    // Every message is FILL but for its sequence number in the first 8 bytes; the channel is
    // reliable and ordered, so message k must be the k-th to arrive, whole and intact.
    let template = vec![FILL; size];
    // The receiving application runs on B's side, and counts only what it checked.
    let reader = sides.b.spawn(async move {
        let mut next = 0u64;
        while let Some(msg) = remote.recv().await {
            let intact = msg.data.len() == size
                && msg.data[..8] == next.to_be_bytes()
                && msg.data[8..] == template[8..];
            if !intact {
                w.fetch_add(1, Ordering::Relaxed);
                break;
            }
            next += 1;
            r.fetch_add(msg.data.len() as u64, Ordering::Relaxed);
            m.fetch_add(1, Ordering::Relaxed);
        }
    });
    let mut payload = vec![FILL; size];
    let mut seq = 0u64;
    dc.set_buffered_amount_low_threshold(low);
    let cpu0 = cpu_time();
    let start = Instant::now();
    let end = start + Duration::from_secs(seconds);
    while Instant::now() < end {
        while dc.buffered_amount() < high {
            payload[..8].copy_from_slice(&seq.to_be_bytes());
            dc.try_send(&payload)
                .map_err(|e| format!("send failed: {e}"))?;
            seq += 1;
        }
        let _ = tokio::time::timeout_at(end.into(), dc.buffered_amount_low(low)).await;
    }
    // Counted at the receiver, at the end of the interval.
    let (bytes, count) = (
        received.load(Ordering::Relaxed),
        messages.load(Ordering::Relaxed),
    );
    let elapsed = start.elapsed().as_secs_f64();
    let cpu = cpu_time() - cpu0;
    reader.abort();
    if wrong.load(Ordering::Relaxed) > 0 {
        return Err(format!(
            "message {count} arrived out of order, cut or changed (of {seq} sent)"
        ));
    }
    if count == 0 {
        return Err(format!("nothing arrived of {seq} messages sent"));
    }
    a.pc.close();
    b.pc.close();
    Ok((count, bytes, elapsed, cpu))
}

async fn run(args: Args, sides: Sides) -> Result<(), String> {
    match args.mode.as_str() {
        "throughput" => {
            let (_, bytes, secs, cpu) =
                transfer(&sides, 64 * 1024, 1024 * 1024, 512 * 1024, args.seconds).await?;
            let mbps = bytes as f64 * 8.0 / secs / 1e6;
            println!("THROUGHPUT rtcweb {mbps:.1}");
            println!(
                "CPU rtcweb cores={:.2} cpu_s={:.2} wall_s={secs:.2} ns_per_byte={:.2}",
                cpu.as_secs_f64() / secs,
                cpu.as_secs_f64(),
                cpu.as_nanos() as f64 / bytes.max(1) as f64
            );
        }
        "smallmsg" => {
            let (count, _, secs, cpu) = transfer(&sides, 100, 4096, 2048, args.seconds).await?;
            println!("SMALLMSG rtcweb {:.0}", count as f64 / secs);
            println!(
                "CPU rtcweb cores={:.2} cpu_s={:.2} wall_s={secs:.2} ns_per_message={:.0}",
                cpu.as_secs_f64() / secs,
                cpu.as_secs_f64(),
                cpu.as_nanos() as f64 / count.max(1) as f64
            );
        }
        "setup" => {
            let mut samples = Vec::new();
            let mut cpu_total = Duration::ZERO;
            for _ in 0..args.pairs {
                let cpu0 = cpu_time();
                let (a, b, _dc, _remote, setup) = connect(&sides).await?;
                cpu_total += cpu_time() - cpu0;
                let sa = a.pc.stats().transport;
                let sb = b.pc.stats().transport;
                samples.push((setup, sa.packets_sent + sb.packets_sent));
                a.pc.close();
                b.pc.close();
            }
            samples.sort();
            let ms = |d: Duration| d.as_secs_f64() * 1e3;
            let median = ms(samples[samples.len() / 2].0);
            let min = ms(samples[0].0);
            let max = ms(samples[samples.len() - 1].0);
            let datagrams = samples[samples.len() / 2].1;
            println!("SETUP rtcweb median_ms={median:.2} min_ms={min:.2} max_ms={max:.2}");
            // The slowest samples with their datagram counts: more datagrams than the median
            // means a retransmission, the same count means the time went to scheduling.
            let slowest: Vec<String> = samples
                .iter()
                .rev()
                .take(3)
                .map(|(d, n)| format!("{:.2}ms/{n}", ms(*d)))
                .collect();
            println!("SLOWEST rtcweb {}", slowest.join(" "));
            println!(
                "CPU rtcweb cpu_ms_per_pair={:.2} datagrams_per_pair={datagrams} (including new() and binding)",
                ms(cpu_total) / args.pairs as f64
            );
        }
        other => return Err(format!("unknown mode {other}\n{USAGE}")),
    }
    Ok(())
}

fn runtime(threads: usize) -> Result<Runtime, String> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(threads)
        .enable_all()
        .build()
        .map_err(|e| format!("runtime: {e}"))
}

fn main() -> ExitCode {
    let args = match args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    let result = (|| {
        let (rt_a, rt_b) = if args.per_peer {
            (runtime(1)?, Some(runtime(1)?))
        } else {
            (runtime(2)?, None)
        };
        let sides = Sides {
            a: rt_a.handle().clone(),
            b: rt_b.as_ref().map_or(rt_a.handle(), |r| r.handle()).clone(),
            dtls_a: dtls_context(args.dtls)?,
            dtls_b: dtls_context(args.dtls)?,
        };
        // The benchmark runs in a task like an application's (`block_on`'s thread is not a
        // worker of the runtime).
        rt_a.block_on(async {
            tokio::spawn(run(args, sides))
                .await
                .unwrap_or_else(|e| Err(format!("benchmark task failed: {e}")))
        })
    })();
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("dc-bench: {e}");
            ExitCode::FAILURE
        }
    }
}
