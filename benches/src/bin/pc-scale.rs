//! `pc-scale [--pcs N] [--idle-seconds S] [--batch B] [--no-data]`: many connected
//! PeerConnections in one process, on one thread (issue 9, "Scale").
//!
//! `--pcs` sans-IO `rtcweb::PeerConnection`s (default 10,000), in pairs inside this process,
//! each on its own UDP socket on 127.0.0.1, driven by one single-threaded loop: `mio` (epoll)
//! for the sockets and a binary heap of deadlines for the timers, so that a connection with
//! nothing due is never touched. Pairs connect `--batch` at a time (offer/answer in process,
//! A offers one data channel unless `--no-data`); once every connection is connected and its
//! data channel open at both ends, the loop runs idle for `--idle-seconds` (default 60) with
//! consent freshness (RFC 7675) running, and prints:
//!
//! - `MEMORY` resident set growth over the whole run divided by the number of connections
//!   (`/proc/self/status` VmRSS; socket buffers in the kernel are not in it);
//! - `IDLE` CPU time of the process over the idle interval (getrusage), in % of one core,
//!   with the datagrams and timer wake-ups it handled (consent checks and their answers);
//! - `POLL` what one idle connection costs: CPU per timer wake-up (handle_timeout, sending,
//!   re-arming) and per `poll_timeout()` call, to compare between a small and a large `--pcs`.
//!
//! The run fails (exit 1) if a connection does not connect or leaves `connected`.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::io::ErrorKind;
use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::{Duration, Instant, SystemTime};

use mio::net::UdpSocket;
use mio::{Events, Interest, Poll, Token};
use nix::sys::resource::{UsageWho, getrusage};
use rtcweb::{
    Certificate, DataChannelEvent, DataChannelInit, DtlsContext, Event, PeerConnection,
    PeerConnectionState, RtcConfiguration, SessionDescription,
};

const USAGE: &str = "usage: pc-scale [--pcs N] [--idle-seconds S] [--batch B] [--no-data]";

struct Args {
    pcs: usize,
    idle: u64,
    batch: usize,
    data: bool,
}

fn args() -> Result<Args, String> {
    let mut a = Args {
        pcs: 10_000,
        idle: 60,
        batch: 100,
        data: true,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        if flag == "--no-data" {
            a.data = false;
            continue;
        }
        let v = it.next().ok_or(format!("{flag} needs a value\n{USAGE}"))?;
        let n: u64 = v.parse().map_err(|_| format!("{flag}: bad number {v}"))?;
        match flag.as_str() {
            "--pcs" => a.pcs = (n as usize).max(2) & !1,
            "--idle-seconds" => a.idle = n,
            "--batch" => a.batch = (n as usize).max(1),
            _ => return Err(format!("unknown argument {flag}\n{USAGE}")),
        }
    }
    Ok(a)
}

fn cpu_time() -> Duration {
    getrusage(UsageWho::RUSAGE_SELF).map_or(Duration::ZERO, |u| {
        let t = |tv: nix::sys::time::TimeVal| {
            Duration::from_secs(tv.tv_sec().max(0) as u64)
                + Duration::from_micros(tv.tv_usec().max(0) as u64)
        };
        t(u.user_time()) + t(u.system_time())
    })
}

/// Resident set size in bytes, from /proc/self/status.
fn rss() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmRSS:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        })
        .map_or(0, |kb| kb * 1024)
}

fn certificate(seed: u8) -> Result<Certificate, String> {
    let mut key = [0u8; 32];
    let mut serial = [0u8; 16];
    getrandom_fill(&mut key, seed);
    getrandom_fill(&mut serial, seed.wrapping_add(1));
    Certificate::generate(
        &key,
        &serial,
        SystemTime::now() - Duration::from_secs(86_400),
        Certificate::DEFAULT_LIFETIME,
    )
    .map_err(|e| format!("certificate: {e}"))
}

/// Bytes for a benchmark's own certificate key and serial: the time and a counter (a
/// benchmark's keys protect nothing; the peers check fingerprints, which still differ).
fn getrandom_fill(buf: &mut [u8], salt: u8) {
    let t = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    for (i, b) in buf.iter_mut().enumerate() {
        *b = ((t >> ((i % 16) * 8)) as u8) ^ (i as u8).wrapping_mul(31) ^ salt;
    }
    buf[0] = 1;
}

struct Conn {
    pc: PeerConnection,
    socket: UdpSocket,
    local: SocketAddr,
    /// The deadline this connection has in the heap.
    armed: Option<Instant>,
    connected: bool,
    /// The data channel is open on this side (the offerer's `Open`, the answerer's
    /// `Incoming`); always true with `--no-data`.
    channel_open: bool,
}

#[derive(Default)]
struct Counters {
    datagrams_in: u64,
    datagrams_out: u64,
    stun_out: u64,
    wakeups: u64,
    wakeup_time: Duration,
    left_connected: u64,
}

struct World {
    conns: Vec<Conn>,
    heap: BinaryHeap<Reverse<(Instant, usize)>>,
    counters: Counters,
    buf: Vec<u8>,
}

impl World {
    /// Sends what connection `i` has queued, drains its events and re-arms its timer.
    fn service(&mut self, i: usize) {
        let c = &mut self.conns[i];
        while let Some(t) = c.pc.poll_transmit() {
            self.counters.datagrams_out += 1;
            if t.payload.first().is_some_and(|b| *b < 4) {
                self.counters.stun_out += 1;
            }
            if t.source == c.local {
                let _ = c.socket.send_to(&t.payload, t.destination);
            }
        }
        while let Some(e) = c.pc.poll_event() {
            match e {
                Event::ConnectionState(s) => {
                    if s == PeerConnectionState::Connected {
                        c.connected = true;
                    } else if c.connected {
                        c.connected = false;
                        self.counters.left_connected += 1;
                    }
                }
                Event::DataChannel(
                    DataChannelEvent::Open { .. } | DataChannelEvent::Incoming { .. },
                ) => c.channel_open = true,
                _ => {}
            }
        }
        let next = c.pc.poll_timeout();
        if next != c.armed {
            c.armed = next;
            if let Some(at) = next {
                self.heap.push(Reverse((at, i)));
            }
        }
    }

    fn receive(&mut self, i: usize) {
        loop {
            let c = &mut self.conns[i];
            match c.socket.recv_from(&mut self.buf) {
                Ok((n, from)) => {
                    self.counters.datagrams_in += 1;
                    let data = &self.buf[..n];
                    c.pc.handle_input(Instant::now(), rtcweb::Datagram::udp(from, c.local, data));
                }
                Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                Err(_) => break,
            }
        }
        self.service(i);
    }

    /// Handles every deadline that has passed; returns when the next one is.
    fn timers(&mut self, now: Instant) -> Option<Instant> {
        while let Some(&Reverse((at, i))) = self.heap.peek() {
            if at > now {
                return Some(at);
            }
            self.heap.pop();
            if self.conns[i].armed != Some(at) {
                continue; // superseded
            }
            let t = Instant::now();
            self.conns[i].armed = None;
            self.conns[i].pc.handle_timeout(now);
            self.service(i);
            self.counters.wakeups += 1;
            self.counters.wakeup_time += t.elapsed();
        }
        None
    }

    /// One turn of the loop: sockets that are readable, then due timers.
    fn turn(&mut self, poll: &mut Poll, events: &mut Events, limit: Instant) -> Result<(), String> {
        let now = Instant::now();
        let next = self.timers(now).unwrap_or(limit).min(limit);
        let timeout = next.saturating_duration_since(Instant::now());
        poll.poll(events, Some(timeout))
            .map_err(|e| format!("poll: {e}"))?;
        for ev in events.iter() {
            self.receive(ev.token().0);
        }
        Ok(())
    }
}

fn new_conn(poll: &Poll, i: usize, config: RtcConfiguration) -> Result<Conn, String> {
    let socket = UdpSocket::bind("127.0.0.1:0".parse().map_err(|_| "addr")?)
        .map_err(|e| format!("bind: {e} (raise the open-files limit?)"))?;
    let local = socket.local_addr().map_err(|e| e.to_string())?;
    let mut socket = socket;
    poll.registry()
        .register(&mut socket, Token(i), Interest::READABLE)
        .map_err(|e| format!("register: {e}"))?;
    let mut pc = PeerConnection::new(config).map_err(|e| e.to_string())?;
    pc.add_local_address(Instant::now(), local);
    Ok(Conn {
        pc,
        socket,
        local,
        armed: None,
        connected: false,
        channel_open: false,
    })
}

/// Offer/answer between connections `a` and `b` (non-trickle: host candidates are gathered
/// at once, so each description carries them).
fn negotiate(w: &mut World, a: usize, b: usize, data: bool) -> Result<(), String> {
    let now = Instant::now();
    let e = |e: rtcweb::Error| e.to_string();
    if data {
        w.conns[a]
            .pc
            .create_data_channel(now, "scale", &DataChannelInit::default())
            .map_err(e)?;
    } else {
        w.conns[a]
            .pc
            .add_transceiver(rtcweb::MediaKind::Audio, rtcweb::Direction::SendRecv);
    }
    let offer = w.conns[a].pc.create_offer().map_err(e)?;
    w.conns[a]
        .pc
        .set_local_description(now, &offer)
        .map_err(e)?;
    let offer = SessionDescription::offer(w.conns[a].pc.local_description_sdp().ok_or("offer")?);
    w.conns[b]
        .pc
        .set_remote_description(now, &offer)
        .map_err(e)?;
    let answer = w.conns[b].pc.create_answer().map_err(e)?;
    w.conns[b]
        .pc
        .set_local_description(now, &answer)
        .map_err(e)?;
    let answer = SessionDescription::answer(w.conns[b].pc.local_description_sdp().ok_or("answer")?);
    w.conns[a]
        .pc
        .set_remote_description(now, &answer)
        .map_err(e)?;
    w.service(a);
    w.service(b);
    Ok(())
}

fn run(args: Args) -> Result<(), String> {
    let mut poll = Poll::new().map_err(|e| e.to_string())?;
    let mut events = Events::with_capacity(1024);
    // One certificate and DTLS context per side, shared by its connections, as a server
    // with many connections does.
    let context = |cert: Certificate| {
        DtlsContext::new(PeerConnection::dtls_config(), cert).map_err(|e| e.to_string())
    };
    let (ctx_a, ctx_b) = (context(certificate(1)?)?, context(certificate(2)?)?);
    let mut w = World {
        conns: Vec::with_capacity(args.pcs),
        heap: BinaryHeap::new(),
        counters: Counters::default(),
        buf: vec![0; 65_536],
    };
    let rss0 = rss();
    let start = Instant::now();
    let mut seed = u64::from(std::process::id()) << 32;
    let mut connected_at = 0;
    let mut pair = 0;
    while pair * 2 < args.pcs {
        let end = (pair + args.batch).min(args.pcs / 2);
        for p in pair..end {
            for (k, ctx) in [&ctx_a, &ctx_b].into_iter().enumerate() {
                seed += 1;
                let mut config = RtcConfiguration::new(ctx.certificate().clone(), seed);
                config.dtls_context = Some(ctx.clone());
                let mut c = new_conn(&poll, 2 * p + k, config)?;
                c.channel_open = !args.data;
                w.conns.push(c);
            }
            negotiate(&mut w, 2 * p, 2 * p + 1, args.data)?;
        }
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            // Up means connected and, with data, the channel open at both ends: the SCTP
            // association and its state are part of what a connection costs.
            let up = |c: &Conn| c.connected && c.channel_open;
            if w.conns[2 * pair..2 * end].iter().all(up) {
                break;
            }
            if Instant::now() > deadline {
                let n = w.conns[2 * pair..2 * end].iter().filter(|c| !up(c)).count();
                return Err(format!(
                    "{n} connections of pairs {pair}..{end} did not connect (and open their channel) in 30 s"
                ));
            }
            w.turn(
                &mut poll,
                &mut events,
                Instant::now() + Duration::from_millis(10),
            )?;
        }
        pair = end;
        if pair * 2 >= connected_at + args.pcs / 10 {
            connected_at = pair * 2;
            eprintln!(
                "  {connected_at} connected, {:.1} s",
                start.elapsed().as_secs_f64()
            );
        }
    }
    let setup = start.elapsed();
    let rss1 = rss();
    let n = args.pcs as u64;
    println!(
        "CONNECTED {n} peer connections ({} pairs, {}) in {:.1} s on one thread",
        n / 2,
        if args.data {
            "one data channel each, open at both ends"
        } else {
            "one audio transceiver each"
        },
        setup.as_secs_f64()
    );
    println!(
        "MEMORY rss_before={} KiB rss_connected={} KiB per_connection={} bytes",
        rss0 / 1024,
        rss1 / 1024,
        (rss1.saturating_sub(rss0)) / n
    );

    // Idle: only consent freshness (and whatever else the connections schedule) runs.
    w.counters = Counters::default();
    let cpu0 = cpu_time();
    let t0 = Instant::now();
    let end = t0 + Duration::from_secs(args.idle);
    while Instant::now() < end {
        w.turn(&mut poll, &mut events, end)?;
    }
    let wall = t0.elapsed().as_secs_f64();
    let cpu = (cpu_time() - cpu0).as_secs_f64();
    let c = &w.counters;
    let still = w.conns.iter().filter(|c| c.connected).count();
    println!(
        "IDLE cpu={:.2}% of one core over {wall:.1} s; datagrams out={} (STUN {}) in={}; timer wake-ups={}",
        cpu / wall * 100.0,
        c.datagrams_out,
        c.stun_out,
        c.datagrams_in,
        c.wakeups
    );
    // What one idle connection costs per poll: a timer wake-up, and poll_timeout() on
    // connections all over memory (cache misses included) and on one connection (cached).
    let probes = 1_000_000usize;
    let mut armed = 0u64;
    let t = Instant::now();
    for k in 0..probes {
        let i = (k.wrapping_mul(7919)) % w.conns.len();
        armed += u64::from(w.conns[i].pc.poll_timeout().is_some());
    }
    let spread = t.elapsed().as_nanos() as f64 / probes as f64;
    let t = Instant::now();
    for _ in 0..probes {
        armed += u64::from(
            std::hint::black_box(&w.conns[0].pc)
                .poll_timeout()
                .is_some(),
        );
    }
    let cached = t.elapsed().as_nanos() as f64 / probes as f64;
    println!(
        "POLL wakeup_us={:.2} (CPU per timer wake-up of one connection) poll_timeout_ns={spread:.0} (any connection) {cached:.0} (one, cached); {armed} of {} polls armed",
        c.wakeup_time.as_secs_f64() * 1e6 / c.wakeups.max(1) as f64,
        2 * probes,
    );
    let rss2 = rss();
    println!("MEMORY after idle: rss={} KiB", rss2 / 1024);
    if still != w.conns.len() || c.left_connected > 0 {
        return Err(format!(
            "{} of {} connections are not connected after the idle period",
            w.conns.len() - still,
            w.conns.len()
        ));
    }
    println!("OK all {still} connections still connected after {wall:.0} s idle");
    Ok(())
}

fn main() -> ExitCode {
    let args = match args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    match run(args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("pc-scale: {e}");
            ExitCode::FAILURE
        }
    }
}
