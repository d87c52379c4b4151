//! `turn-relay-bench`: ChannelData relay rate of our `turn-server` and coturn's `turnserver`,
//! side by side in one run on loopback (run it inside `interop/isolated`; see
//! `benches/turn-relay.sh` and docs/performance.md).
//!
//! For each packet size and round, and for each server in turn: make `--allocations`
//! allocations with our TURN client, bind a channel from each to a peer socket, then for
//! `--seconds` flood both directions at once (ChannelData client -> server -> peer, and plain
//! UDP peer -> relay -> ChannelData to the client) with `sendmmsg`, count what arrives with
//! `recvmmsg`, and read the server's CPU time (utime + stime of every thread) from /proc.
//! Every datagram carries a header (allocation, direction, sequence number) and a known fill:
//! only datagrams that arrive on the right socket, intact and once are counted, and any other
//! ends the run with an error. Deliveries and CPU are both counted from the first send to the
//! end of a 300 ms drain. The figure compared is packets relayed per CPU-second of the server:
//! its rate per core.

use std::io::IoSliceMut;
use std::net::{SocketAddr, UdpSocket};
use std::os::fd::AsRawFd;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use nix::sys::socket::{
    MsgFlags, MultiHeaders, SockaddrStorage, recvmmsg, sendmmsg, setsockopt, sockopt,
};
use rtcweb_turn::{Client, ClientConfig, Credentials, Datagram, Event, Protocol};

const BATCH: usize = 32;

struct Args {
    ours: String,
    coturn: String,
    seconds: u64,
    rounds: usize,
    sizes: Vec<usize>,
    allocations: usize,
    work: String,
    /// Offered packets per second, both directions together; 0 = as fast as possible.
    rate: u64,
}

fn args() -> Result<Args, String> {
    let mut a = Args {
        ours: "target/release/turn-server".into(),
        coturn: "turnserver".into(),
        seconds: 5,
        rounds: 3,
        sizes: vec![120, 1200],
        allocations: 4,
        work: "interop/work/turn-relay-bench".into(),
        rate: 100_000,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let v = it.next().ok_or(format!("{flag} needs a value"))?;
        let num = |v: &str| {
            v.parse::<u64>()
                .map_err(|_| format!("{flag}: bad number {v}"))
        };
        match flag.as_str() {
            "--ours" => a.ours = v,
            "--coturn" => a.coturn = v,
            "--seconds" => a.seconds = num(&v)?,
            "--rounds" => a.rounds = num(&v)? as usize,
            "--allocations" => a.allocations = num(&v)? as usize,
            "--sizes" => {
                a.sizes = v
                    .split(',')
                    .map(|s| s.parse().map_err(|_| format!("bad size {s}")))
                    .collect::<Result<_, _>>()?
            }
            "--work" => a.work = v,
            "--rate" => a.rate = num(&v)?,
            other => return Err(format!("unknown argument {other}")),
        }
    }
    Ok(a)
}

struct Server {
    name: &'static str,
    child: Child,
    addr: SocketAddr,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// utime + stime of the whole process, in seconds.
fn cpu_seconds(pid: u32, ticks: f64) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // Fields after the command name (which may hold spaces) start at ") ".
    let rest = stat.rsplit_once(") ").map_or("", |(_, r)| r);
    let f: Vec<u64> = rest
        .split_whitespace()
        .map(|x| x.parse().unwrap_or(0))
        .collect();
    // utime and stime are fields 14 and 15 of stat, i.e. 11 and 12 after the state field.
    let (u, s) = (
        f.get(11).copied().unwrap_or(0),
        f.get(12).copied().unwrap_or(0),
    );
    (u + s) as f64 / ticks
}

fn wait_port(addr: SocketAddr) -> Result<(), String> {
    // A Binding request must be answered.
    let s = UdpSocket::bind("127.0.0.1:0").map_err(|e| e.to_string())?;
    s.set_read_timeout(Some(Duration::from_millis(100)))
        .map_err(|e| e.to_string())?;
    let req = [
        0u8, 1, 0, 0, 0x21, 0x12, 0xa4, 0x42, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12,
    ];
    let mut buf = [0u8; 512];
    for _ in 0..100 {
        let _ = s.send_to(&req, addr);
        if s.recv_from(&mut buf).is_ok() {
            return Ok(());
        }
    }
    Err(format!("no STUN answer from {addr}"))
}

fn start(a: &Args) -> Result<(Server, Server), String> {
    std::fs::create_dir_all(&a.work).map_err(|e| e.to_string())?;
    let ours = Command::new(&a.ours)
        .args([
            "--listen",
            "127.0.0.1:3478",
            "--realm",
            "example.org",
            "--user",
            "alice:wonderland",
        ])
        .args([
            "--min-port",
            "40000",
            "--max-port",
            "40999",
            "--allow-loopback-peers",
            "--no-tcp",
        ])
        .stdout(Stdio::null())
        .spawn()
        .map_err(|e| format!("{}: {e}", a.ours))?;
    let ours = Server {
        name: "rtcweb turn-server",
        child: ours,
        addr: "127.0.0.1:3478".parse().expect("literal"),
    };
    let coturn = Command::new(&a.coturn)
        .args([
            "-n",
            "--no-cli",
            "--no-dtls",
            "--no-tls",
            "--no-tcp",
            "--no-tcp-relay",
            "--simple-log",
        ])
        .arg(format!("--log-file={}/coturn.log", a.work))
        .args([
            "--listening-ip=127.0.0.1",
            "--listening-port=3578",
            "--relay-ip=127.0.0.1",
        ])
        .args([
            "--min-port=41000",
            "--max-port=41999",
            "--relay-threads=1",
            "--allow-loopback-peers",
        ])
        .args([
            "--lt-cred-mech",
            "--user=alice:wonderland",
            "--realm=example.org",
        ])
        .arg(format!("--pidfile={}/coturn.pid", a.work))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("{}: {e}", a.coturn))?;
    let coturn = Server {
        name: "coturn turnserver",
        child: coturn,
        addr: "127.0.0.1:3578".parse().expect("literal"),
    };
    wait_port(ours.addr)?;
    wait_port(coturn.addr)?;
    Ok((ours, coturn))
}

struct Alloc {
    client: UdpSocket,
    peer: UdpSocket,
    relay: SocketAddr,
    channel: u16,
}

/// One allocation with a channel to a fresh peer socket, made by our sans-IO client.
fn allocate(server: SocketAddr, seed: u8) -> Result<Alloc, String> {
    let client = UdpSocket::bind("127.0.0.1:0").map_err(|e| e.to_string())?;
    let peer = UdpSocket::bind("127.0.0.1:0").map_err(|e| e.to_string())?;
    let peer_addr = peer.local_addr().map_err(|e| e.to_string())?;
    let creds = Credentials::LongTerm {
        username: "alice".into(),
        password: "wonderland".into(),
    };
    let local = client.local_addr().map_err(|e| e.to_string())?;
    let mut c = Client::new(
        ClientConfig::new(server, Protocol::Udp, creds),
        local,
        [seed; 32],
    );
    c.allocate(Instant::now()).map_err(|e| e.to_string())?;
    let deadline = Instant::now() + Duration::from_secs(5);
    let mut channel = None;
    let mut buf = vec![0u8; 2048];
    while Instant::now() < deadline {
        while let Some(t) = c.poll_transmit() {
            client
                .send_to(&t.payload, t.destination)
                .map_err(|e| e.to_string())?;
        }
        let now = Instant::now();
        let wait = c
            .poll_timeout()
            .map_or(Duration::from_millis(50), |t| {
                t.saturating_duration_since(now)
            })
            .max(Duration::from_millis(1));
        client
            .set_read_timeout(Some(wait.min(Duration::from_millis(50))))
            .map_err(|e| e.to_string())?;
        if let Ok((n, from)) = client.recv_from(&mut buf) {
            c.handle_input(Instant::now(), Datagram::udp(from, local, &buf[..n]));
        }
        c.handle_timeout(Instant::now());
        while let Some(e) = c.poll_event() {
            match e {
                Event::Allocated { .. } => {
                    channel = Some(
                        c.bind_channel(Instant::now(), peer_addr)
                            .map_err(|e| e.to_string())?,
                    );
                }
                Event::ChannelBound { channel: ch, .. } => {
                    let relay = c.relayed_address().ok_or("no relayed address")?;
                    return Ok(Alloc {
                        client,
                        peer,
                        relay,
                        channel: ch,
                    });
                }
                Event::AllocationFailed(f) => return Err(format!("allocation failed: {f:?}")),
                _ => {}
            }
        }
    }
    Err(format!("no allocation from {server} (channel {channel:?})"))
}

fn tune(s: &UdpSocket) {
    let _ = setsockopt(s, sockopt::RcvBuf, &(8usize << 20));
    let _ = setsockopt(s, sockopt::SndBuf, &(8usize << 20));
    let _ = s.set_nonblocking(true);
}

struct Measurement {
    sent: u64,
    /// Datagrams that arrived where they should, with the content that was sent, once each.
    delivered: u64,
    /// Datagrams that arrived with wrong content, on the wrong socket or twice.
    bad: u64,
    /// The send window alone.
    send_wall: f64,
    /// Send window plus drain: the window `delivered` and `cpu` are both counted over.
    wall: f64,
    cpu: f64,
}

/// Every relayed datagram carries this header, so the receiver can check it is a datagram
/// this run sent, on the path it was sent on, and count each one once.
const MAGIC: [u8; 4] = *b"RTWB";
const HEADER: usize = 16;
const FILL: u8 = 0xab;
/// Direction byte: client -> peer (arrives plain at the peer) and peer -> client (arrives as
/// ChannelData at the client).
const TO_PEER: u8 = 0;
const TO_CLIENT: u8 = 1;

/// Writes the header of datagram `seq` of allocation `alloc` in direction `dir`.
fn stamp(payload: &mut [u8], alloc: usize, dir: u8, seq: u64) {
    payload[..4].copy_from_slice(&MAGIC);
    payload[4] = alloc as u8;
    payload[5] = dir;
    payload[8..16].copy_from_slice(&seq.to_be_bytes());
}

/// Which sequence numbers arrived, per allocation and direction.
#[derive(Default)]
struct Seen {
    bits: Vec<u64>,
}

impl Seen {
    /// Records `seq`; false if it had already arrived.
    fn insert(&mut self, seq: u64) -> bool {
        let (word, bit) = ((seq / 64) as usize, seq % 64);
        if word >= self.bits.len() {
            self.bits.resize(word + 1, 0);
        }
        let fresh = self.bits[word] & (1 << bit) == 0;
        self.bits[word] |= 1 << bit;
        fresh
    }
}

/// Checks one received datagram; returns its sequence number if it is what `alloc` should
/// receive in direction `dir` (ChannelData on `channel` for the client, the bare payload for
/// the peer), with every byte as sent.
fn check(data: &[u8], size: usize, alloc: usize, dir: u8, channel: u16) -> Option<u64> {
    let payload = if dir == TO_CLIENT {
        let (head, rest) = data.split_at_checked(4)?;
        if head[..2] != channel.to_be_bytes() || head[2..4] != (size as u16).to_be_bytes() {
            return None;
        }
        // ChannelData over UDP may be padded to 4 bytes (RFC 8656 12.5).
        rest.get(..size).filter(|_| rest.len() < size + 4)?
    } else {
        data
    };
    if payload.len() != size
        || payload[..4] != MAGIC
        || usize::from(payload[4]) != alloc
        || payload[5] != dir
        || payload[HEADER..].iter().any(|b| *b != FILL)
    {
        return None;
    }
    Some(u64::from_be_bytes(payload[8..16].try_into().ok()?))
}

fn measure(
    server: &Server,
    size: usize,
    a: &Args,
    seed: u8,
    ticks: f64,
) -> Result<Measurement, String> {
    if size < HEADER {
        return Err(format!(
            "packet size {size} is below the {HEADER}-byte check header"
        ));
    }
    let allocs: Vec<Alloc> = (0..a.allocations)
        .map(|i| allocate(server.addr, seed.wrapping_add(i as u8)))
        .collect::<Result<_, _>>()?;
    for al in &allocs {
        tune(&al.client);
        tune(&al.peer);
    }
    let allocs = Arc::new(allocs);
    let stop = Arc::new(AtomicBool::new(false));
    let delivered = Arc::new(AtomicU64::new(0));
    let bad = Arc::new(AtomicU64::new(0));
    let receiver = {
        let (allocs, stop, delivered, bad) =
            (allocs.clone(), stop.clone(), delivered.clone(), bad.clone());
        std::thread::spawn(move || {
            let mut bufs: Vec<Vec<u8>> = (0..BATCH).map(|_| vec![0u8; 2048]).collect();
            let mut headers = MultiHeaders::<SockaddrStorage>::preallocate(BATCH, None);
            let mut seen: Vec<[Seen; 2]> = (0..allocs.len()).map(|_| Default::default()).collect();
            while !stop.load(Ordering::Relaxed) {
                let (mut got, mut wrong) = (0u64, 0u64);
                for (idx, al) in allocs.iter().enumerate() {
                    for (s, dir) in [(&al.client, TO_CLIENT), (&al.peer, TO_PEER)] {
                        let mut slices: Vec<[IoSliceMut<'_>; 1]> = bufs
                            .iter_mut()
                            .map(|b| [IoSliceMut::new(&mut b[..])])
                            .collect();
                        let lens: Vec<usize> = match recvmmsg(
                            s.as_raw_fd(),
                            &mut headers,
                            slices.iter_mut(),
                            MsgFlags::MSG_DONTWAIT,
                            None,
                        ) {
                            Ok(r) => r.map(|m| m.bytes).collect(),
                            Err(_) => continue,
                        };
                        for (buf, len) in bufs.iter().zip(lens) {
                            match check(&buf[..len], size, idx, dir, al.channel) {
                                Some(seq) if seen[idx][usize::from(dir)].insert(seq) => got += 1,
                                _ => wrong += 1,
                            }
                        }
                    }
                }
                delivered.fetch_add(got, Ordering::Relaxed);
                bad.fetch_add(wrong, Ordering::Relaxed);
                if got + wrong == 0 {
                    std::thread::sleep(Duration::from_micros(200));
                }
            }
        })
    };
    // Per allocation and direction, a batch of datagrams stamped with fresh sequence numbers
    // before each send: ChannelData from each client, the bare payload from each peer.
    let template = vec![FILL; size];
    let mut batches: Vec<[Vec<Vec<u8>>; 2]> = allocs
        .iter()
        .map(|al| {
            let mut cd = Vec::with_capacity(4 + size);
            cd.extend_from_slice(&al.channel.to_be_bytes());
            cd.extend_from_slice(&(size as u16).to_be_bytes());
            cd.extend_from_slice(&template);
            [vec![cd; BATCH], vec![template.clone(); BATCH]]
        })
        .collect();
    let mut next_seq = vec![[0u64; 2]; allocs.len()];
    let mut headers = MultiHeaders::<SockaddrStorage>::preallocate(BATCH, None);
    let cpu0 = cpu_seconds(server.child.id(), ticks);
    let t0 = Instant::now();
    let end = t0 + Duration::from_secs(a.seconds);
    let mut sent = 0u64;
    let cmsgs: [nix::sys::socket::ControlMessage<'_>; 0] = [];
    let mut turn = 0usize;
    loop {
        let now = Instant::now();
        if now >= end {
            break;
        }
        // Paced: send what is due by now, in batches, round robin over sockets and directions.
        let due = if a.rate == 0 {
            u64::MAX
        } else {
            (a.rate as f64 * (now - t0).as_secs_f64()) as u64
        };
        if sent >= due {
            std::thread::sleep(Duration::from_micros(100));
            continue;
        }
        let n = ((due - sent).min(BATCH as u64)) as usize;
        let idx = (turn / 2) % allocs.len();
        let al = &allocs[idx];
        let to_peer = turn.is_multiple_of(2);
        let (socket, dest, dir, offset) = if to_peer {
            (&al.client, server.addr, TO_PEER, 4)
        } else {
            (&al.peer, al.relay, TO_CLIENT, 0)
        };
        turn += 1;
        let batch = &mut batches[idx][usize::from(dir)];
        let seq = &mut next_seq[idx][usize::from(dir)];
        for (k, d) in batch.iter_mut().take(n).enumerate() {
            stamp(&mut d[offset..], idx, dir, *seq + k as u64);
        }
        let addrs = vec![Some(SockaddrStorage::from(dest)); n];
        let slices: Vec<[std::io::IoSlice<'_>; 1]> = batch[..n]
            .iter()
            .map(|d| [std::io::IoSlice::new(d)])
            .collect();
        // A full socket buffer: the batch counts as offered and lost.
        let went = match sendmmsg(
            socket.as_raw_fd(),
            &mut headers,
            slices.iter(),
            &addrs,
            cmsgs,
            MsgFlags::MSG_DONTWAIT,
        ) {
            Ok(r) => r.count(),
            Err(_) => 0,
        };
        sent += n as u64;
        // Numbers not sent are used again, so every number that went out is unique.
        *seq += went as u64;
    }
    let send_wall = t0.elapsed().as_secs_f64();
    // Let what is in flight arrive; CPU and deliveries are both counted to the end of it.
    std::thread::sleep(Duration::from_millis(300));
    stop.store(true, Ordering::Relaxed);
    let _ = receiver.join();
    let cpu1 = cpu_seconds(server.child.id(), ticks);
    let wall = t0.elapsed().as_secs_f64();
    Ok(Measurement {
        sent,
        delivered: delivered.load(Ordering::Relaxed),
        bad: bad.load(Ordering::Relaxed),
        send_wall,
        wall,
        cpu: cpu1 - cpu0,
    })
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v.get(v.len() / 2).copied().unwrap_or(0.0)
}

fn main() {
    let a = match args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("turn-relay-bench: {e}");
            std::process::exit(2);
        }
    };
    let ticks: f64 = Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(100.0);
    let (ours, coturn) = match start(&a) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("turn-relay-bench: {e}");
            std::process::exit(1);
        }
    };
    println!(
        "offered {} packets/s ({}), {} allocations, {} s per run",
        a.rate,
        if a.rate == 0 { "flood" } else { "paced" },
        a.allocations,
        a.seconds
    );
    println!(
        "size  server              round  sent/s     relayed/s  server CPU  relayed per CPU-second"
    );
    let mut summary = Vec::new();
    for &size in &a.sizes {
        let mut per_core: [Vec<f64>; 2] = [Vec::new(), Vec::new()];
        for round in 0..a.rounds {
            for (i, server) in [&ours, &coturn].into_iter().enumerate() {
                let seed = (round * 16 + i * 8) as u8;
                match measure(server, size, &a, seed, ticks) {
                    Ok(m) if m.bad > 0 => {
                        eprintln!(
                            "turn-relay-bench: {}: {} datagrams arrived wrong (content, path or twice)",
                            server.name, m.bad
                        );
                        std::process::exit(1);
                    }
                    Ok(m) => {
                        // Over the send window: everything sent in it has arrived by the end
                        // of the drain.
                        let rate = m.delivered as f64 / m.send_wall;
                        let pc = if m.cpu > 0.0 {
                            m.delivered as f64 / m.cpu
                        } else {
                            0.0
                        };
                        println!(
                            "{size:<5} {:<19} {round:<6} {:<10.0} {:<10.0} {:>5.0} %     {pc:.0}",
                            server.name,
                            m.sent as f64 / m.send_wall,
                            rate,
                            100.0 * m.cpu / m.wall
                        );
                        per_core[i].push(pc);
                    }
                    Err(e) => {
                        eprintln!("turn-relay-bench: {}: {e}", server.name);
                        std::process::exit(1);
                    }
                }
            }
        }
        let (o, c) = (median(per_core[0].clone()), median(per_core[1].clone()));
        summary.push((size, o, c));
    }
    println!();
    println!("median packets relayed per CPU-second (per core):");
    for (size, o, c) in summary {
        println!(
            "  {size:>5} bytes: rtcweb {o:.0}, coturn {c:.0}, ratio {:.2}",
            if c > 0.0 { o / c } else { 0.0 }
        );
    }
}
