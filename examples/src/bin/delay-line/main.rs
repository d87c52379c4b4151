//! `delay-line --a IF --b IF [LINK OPTIONS] [--control FIFO]`
//!
//! A user-space link for kernels without netem: bridges two interfaces of one network
//! namespace through AF_PACKET sockets and applies rtcweb-netsim's link model to each
//! direction (fixed delay, jitter, random or Gilbert-Elliott loss, a rate limit with a
//! drop-tail queue): every Ethernet frame arriving on one interface goes out of the other
//! when [`rtcweb_netsim::Link`] says it leaves, or never when the link drops it. ARP and
//! everything else cross too, so the two far ends see one Ethernet segment.
//!
//! The interfaces' offloads must be off (`ethtool -K IF tx off rx off tso off gso off gro
//! off`, on both ends of both veth pairs): a frame captured with a checksum left to the
//! hardware would be resent with a wrong one. `interop/shaped-path` sets all of this up.
//!
//! Each line written to `--control` (a FIFO, created if missing) holds the same link options
//! and changes the conditions while frames flow (`--rate-kbit 600` for a capacity step;
//! `--direction ab` limits a line to one direction). On SIGTERM or SIGINT it prints, per
//! direction, what it forwarded and dropped and how late frames left against their
//! scheduled time (the error it adds to the model), then exits.
//!
//! `--log FILE` writes a JSON line per direction every 250 ms: bytes and frames that left,
//! frames dropped, and the time accepted frames wait in the rate limiter's queue (departure
//! minus arrival, less the fixed delay and the frame's own serialisation; jitter, when set,
//! counts as waiting) — the queueing delay each sender causes, measured where it happens.

mod conditions;
mod port;

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::io::{Read, Write};
use std::os::fd::AsFd;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use clap::Parser;
use nix::poll::{PollFd, PollFlags, ppoll};
use nix::sys::signal::{SigSet, Signal};
use nix::sys::signalfd::{SfdFlags, SignalFd};
use nix::sys::time::TimeSpec;
use rtcweb_netsim::{DropReason, Link};

use conditions::{Conditions, LinkArgs, Which};
use port::Port;

/// Bridges two interfaces through rtcweb-netsim's link model (see the module docs).
#[derive(Debug, Parser)]
#[command(name = "delay-line")]
struct Cli {
    /// One interface; frames arriving here cross the a->b link to --b.
    #[arg(long, value_name = "IF")]
    a: String,
    /// The other interface.
    #[arg(long, value_name = "IF")]
    b: String,
    #[command(flatten)]
    link: LinkArgs,
    /// A FIFO (created if missing) whose lines change the link options while running.
    #[arg(long, value_name = "FIFO")]
    control: Option<PathBuf>,
    /// Write per-direction counters here every 250 ms (JSON lines).
    #[arg(long, value_name = "FILE")]
    log: Option<PathBuf>,
    /// Seed of the loss and jitter draws.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Most frames held at once, both directions together; beyond, frames are dropped (the
    /// memory bound when a long delay meets a fast sender).
    #[arg(long, default_value_t = 65_536)]
    max_frames: usize,
}

/// A control line: the link options alone.
#[derive(Debug, Parser)]
#[command(no_binary_name = true)]
struct ControlLine {
    #[command(flatten)]
    link: LinkArgs,
}

/// A frame waiting for its departure.
struct Held {
    at: Instant,
    seq: u64,
    /// 0: leaves on --a, 1: leaves on --b.
    out: usize,
    frame: Vec<u8>,
}

impl PartialEq for Held {
    fn eq(&self, o: &Self) -> bool {
        (self.at, self.seq) == (o.at, o.seq)
    }
}
impl Eq for Held {}
impl PartialOrd for Held {
    fn partial_cmp(&self, o: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(o))
    }
}
impl Ord for Held {
    fn cmp(&self, o: &Self) -> std::cmp::Ordering {
        (self.at, self.seq).cmp(&(o.at, o.seq))
    }
}

/// What one direction did.
#[derive(Default)]
struct Counters {
    forwarded: u64,
    bytes: u64,
    lost: u64,
    queue_full: u64,
    over_capacity: u64,
    /// Lateness of departures against the schedule, microseconds.
    late_sum_us: u64,
    late_max_us: u64,
    late_over_200us: u64,
    late_over_1ms: u64,
}

impl Counters {
    fn report(&self, name: &str) -> String {
        let mean = self.late_sum_us.checked_div(self.forwarded).unwrap_or(0);
        format!(
            "delay-line {name}: forwarded {} frames ({} bytes), dropped {} by loss, {} at a full \
             queue, {} over --max-frames; departure lateness mean {mean} us, max {} us, \
             {} over 200 us, {} over 1 ms",
            self.forwarded,
            self.bytes,
            self.lost,
            self.queue_full,
            self.over_capacity,
            self.late_max_us,
            self.late_over_200us,
            self.late_over_1ms
        )
    }
}

/// What one direction did in the current log interval.
#[derive(Default)]
struct Interval {
    bytes: u64,
    frames: u64,
    dropped: u64,
    queued: u64,
    wait_sum: f64,
    wait_max: f64,
}

/// Log interval.
const LOG_EVERY: std::time::Duration = std::time::Duration::from_millis(250);

struct Bridge {
    /// Per-direction counters of the current log interval (when logging).
    interval: [Interval; 2],
    ports: [Port; 2],
    /// `links[i]`: frames arriving on `ports[i]`.
    links: [Link; 2],
    conditions: [Conditions; 2],
    counters: [Counters; 2],
    held: BinaryHeap<Reverse<Held>>,
    seq: u64,
    max_frames: usize,
}

impl Bridge {
    /// Changes the conditions of the directions `args` names.
    fn apply(&mut self, args: &LinkArgs) -> Result<(), String> {
        let which = args.direction.unwrap_or(Which::Both);
        for (i, dir) in [Which::Ab, Which::Ba].into_iter().enumerate() {
            if which == Which::Both || which == dir {
                self.conditions[i] = self.conditions[i].with(args)?;
                self.links[i].set_params(self.conditions[i].params());
                eprintln!("delay-line {}: {}", self.direction(i), self.conditions[i]);
            }
        }
        Ok(())
    }

    fn direction(&self, i: usize) -> String {
        format!("{} -> {}", self.ports[i].name, self.ports[1 - i].name)
    }

    /// Reads every frame waiting on port `i` and schedules its departure.
    fn receive(&mut self, i: usize, buf: &mut [u8]) -> Result<(), String> {
        while let Some(n) = self.ports[i]
            .recv(buf)
            .map_err(|e| format!("{}: recv: {e}", self.ports[i].name))?
        {
            let now = Instant::now();
            let c = &mut self.counters[i];
            match self.links[i].transit(now, n) {
                Ok(d) => {
                    let cond = &self.conditions[i];
                    let wait = d
                        .first
                        .saturating_duration_since(now)
                        .saturating_sub(cond.delay() + cond.serialization(n))
                        .as_secs_f64()
                        * 1000.0;
                    let iv = &mut self.interval[i];
                    iv.queued += 1;
                    iv.wait_sum += wait;
                    iv.wait_max = iv.wait_max.max(wait);
                    for at in std::iter::once(d.first).chain(d.second) {
                        if self.held.len() >= self.max_frames {
                            c.over_capacity += 1;
                            continue;
                        }
                        self.seq += 1;
                        self.held.push(Reverse(Held {
                            at,
                            seq: self.seq,
                            out: 1 - i,
                            frame: buf[..n].to_vec(),
                        }));
                    }
                }
                Err(DropReason::QueueFull) => {
                    c.queue_full += 1;
                    self.interval[i].dropped += 1;
                }
                Err(_) => {
                    c.lost += 1;
                    self.interval[i].dropped += 1;
                }
            }
        }
        Ok(())
    }

    /// Sends every frame whose time has come; returns the next departure.
    fn depart(&mut self) -> Result<Option<Instant>, String> {
        loop {
            let now = Instant::now();
            match self.held.peek() {
                Some(Reverse(h)) if h.at <= now => {}
                Some(Reverse(h)) => return Ok(Some(h.at)),
                None => return Ok(None),
            }
            let Some(Reverse(h)) = self.held.pop() else {
                return Ok(None);
            };
            self.ports[h.out]
                .send(&h.frame)
                .map_err(|e| format!("{}: send: {e}", self.ports[h.out].name))?;
            let late = Instant::now().saturating_duration_since(h.at).as_micros() as u64;
            let c = &mut self.counters[1 - h.out];
            c.forwarded += 1;
            c.bytes += h.frame.len() as u64;
            let iv = &mut self.interval[1 - h.out];
            iv.frames += 1;
            iv.bytes += h.frame.len() as u64;
            c.late_sum_us += late;
            c.late_max_us = c.late_max_us.max(late);
            c.late_over_200us += u64::from(late > 200);
            c.late_over_1ms += u64::from(late > 1000);
        }
    }
}

impl Bridge {
    /// Writes and resets the interval counters: one JSON line per direction.
    fn flush_log(&mut self, out: &mut impl Write) -> std::io::Result<()> {
        let t = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0.0, |d| d.as_secs_f64());
        for (i, dir) in ["ab", "ba"].into_iter().enumerate() {
            let iv = std::mem::take(&mut self.interval[i]);
            writeln!(
                out,
                "{{\"t\": {t:.3}, \"dir\": \"{dir}\", \"bytes\": {}, \"frames\": {}, \
                 \"dropped\": {}, \"queued\": {}, \"waitMsSum\": {:.3}, \"waitMsMax\": {:.3}}}",
                iv.bytes, iv.frames, iv.dropped, iv.queued, iv.wait_sum, iv.wait_max
            )?;
        }
        out.flush()
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("delay-line: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Opens the control FIFO read-write, so that it never reports end-of-file when a writer
/// closes it (each `echo ... > FIFO` opens and closes).
fn open_control(path: &PathBuf) -> Result<std::fs::File, String> {
    use nix::fcntl::OFlag;
    use nix::sys::stat::Mode;
    if !path.exists() {
        nix::unistd::mkfifo(path, Mode::from_bits_truncate(0o600))
            .map_err(|e| format!("mkfifo {}: {e}", path.display()))?;
    }
    let fd = nix::fcntl::open(
        path,
        OFlag::O_RDWR | OFlag::O_NONBLOCK | OFlag::O_CLOEXEC,
        Mode::empty(),
    )
    .map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(std::fs::File::from(fd))
}

fn run(cli: Cli) -> Result<(), String> {
    let ports = [Port::open(&cli.a)?, Port::open(&cli.b)?];
    // Departures are the measurement: wake at the requested time, not up to the default 50 us
    // later. (A real-time scheduling class, as interop/shaped-path asks for, has no slack.)
    let _ = nix::sys::prctl::set_timerslack(1_000);
    let mut bridge = Bridge {
        interval: Default::default(),
        ports,
        links: [
            Link::new(Default::default(), cli.seed),
            Link::new(Default::default(), cli.seed.wrapping_add(1)),
        ],
        conditions: [Conditions::default(), Conditions::default()],
        counters: [Counters::default(), Counters::default()],
        held: BinaryHeap::new(),
        seq: 0,
        max_frames: cli.max_frames,
    };
    bridge.apply(&cli.link)?;
    let mut control = cli.control.as_ref().map(open_control).transpose()?;
    let mut pending = String::new();
    // SIGTERM and SIGINT arrive through a descriptor, so the loop ends cleanly and reports.
    let mut signals = SigSet::empty();
    signals.add(Signal::SIGTERM);
    signals.add(Signal::SIGINT);
    signals
        .thread_block()
        .map_err(|e| format!("sigprocmask: {e}"))?;
    let sigfd = SignalFd::with_flags(&signals, SfdFlags::SFD_NONBLOCK | SfdFlags::SFD_CLOEXEC)
        .map_err(|e| format!("signalfd: {e}"))?;
    let mut log = cli
        .log
        .as_ref()
        .map(|p| {
            std::fs::File::create(p)
                .map(std::io::BufWriter::new)
                .map_err(|e| format!("{}: {e}", p.display()))
        })
        .transpose()?;
    let mut next_log = Instant::now() + LOG_EVERY;
    let mut buf = vec![0u8; 65_536];
    let mut next: Option<Instant> = None;
    loop {
        if log.is_some() {
            next = Some(next.map_or(next_log, |n| n.min(next_log)));
        }
        let timeout =
            next.map(|at| TimeSpec::from_duration(at.saturating_duration_since(Instant::now())));
        let (ready_a, ready_b, ready_ctl, stop) = {
            let mut fds = vec![
                PollFd::new(bridge.ports[0].as_fd(), PollFlags::POLLIN),
                PollFd::new(bridge.ports[1].as_fd(), PollFlags::POLLIN),
                PollFd::new(sigfd.as_fd(), PollFlags::POLLIN),
            ];
            if let Some(c) = &control {
                fds.push(PollFd::new(c.as_fd(), PollFlags::POLLIN));
            }
            match ppoll(&mut fds, timeout, None) {
                Ok(_) | Err(nix::errno::Errno::EINTR) => {}
                Err(e) => return Err(format!("ppoll: {e}")),
            }
            let ready = |i: usize| {
                fds.get(i)
                    .and_then(|f| f.revents())
                    .is_some_and(|r| !r.is_empty())
            };
            (ready(0), ready(1), ready(3), ready(2))
        };
        if stop {
            break;
        }
        if ready_a {
            bridge.receive(0, &mut buf)?;
        }
        if ready_b {
            bridge.receive(1, &mut buf)?;
        }
        if ready_ctl && let Some(c) = control.as_mut() {
            read_control(c, &mut pending, &mut bridge);
        }
        next = bridge.depart()?;
        if let Some(out) = log.as_mut()
            && Instant::now() >= next_log
        {
            bridge.flush_log(out).map_err(|e| format!("--log: {e}"))?;
            next_log += LOG_EVERY;
        }
    }
    for i in 0..2 {
        println!("{}", bridge.counters[i].report(&bridge.direction(i)));
    }
    Ok(())
}

/// Applies every complete line waiting in the control FIFO; a bad line is reported and
/// ignored.
fn read_control(c: &mut std::fs::File, pending: &mut String, bridge: &mut Bridge) {
    let mut chunk = [0u8; 4096];
    while let Ok(n @ 1..) = c.read(&mut chunk) {
        pending.push_str(&String::from_utf8_lossy(&chunk[..n]));
        // A line longer than this is garbage, not options.
        if pending.len() > 65_536 {
            pending.clear();
        }
    }
    while let Some(end) = pending.find('\n') {
        let line: String = pending.drain(..=end).collect();
        let words = line.split_whitespace();
        if line.trim().is_empty() {
            continue;
        }
        match ControlLine::try_parse_from(words) {
            Ok(l) => {
                if let Err(e) = bridge.apply(&l.link) {
                    eprintln!("delay-line: control line {:?}: {e}", line.trim());
                }
            }
            Err(e) => eprintln!("delay-line: control line {:?}: {e}", line.trim()),
        }
    }
}
