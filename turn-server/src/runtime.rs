//! The event loop around the sans-IO core: one thread, mio readiness, UDP drained in batches
//! with recvmmsg and answered with sendmmsg, TCP/TLS connections, relay sockets bound and
//! closed when the core asks, the metrics endpoint, and signals through a signalfd
//! (SIGINT/SIGTERM stop, SIGHUP reloads the credentials).

use std::collections::HashMap;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use mio::net::{TcpListener, UdpSocket};
use mio::unix::SourceFd;
use mio::{Events, Interest, Poll, Token};
use nix::sys::signal::{SigSet, Signal};
use nix::sys::signalfd::{SfdFlags, SignalFd};
use nix::sys::socket::{setsockopt, sockopt};
use rtcweb_turn_server::{AuthConfig, Event, FiveTuple, Protocol, Server, Transmit};

use crate::http::{self, Progress};
use crate::prometheus::{self, RuntimeFigures};
use crate::stream::{Conn, ReadOutcome};
use crate::udp::{Receiver, Sender};

const SIGNALS: Token = Token(0);
/// Most client connections at once (each holds up to a few hundred KiB of buffers).
const MAX_CONNECTIONS: usize = 4096;
/// Socket buffers: large enough that bursts of a relay benchmark are not dropped.
const SOCKET_BUFFER: usize = 4 << 20;
/// recvmmsg calls on one socket before the others get a turn.
const MAX_BATCHES_PER_TURN: usize = 16;

pub fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

enum Source {
    Listener(UdpSocket, SocketAddr),
    Relay(UdpSocket, SocketAddr),
    TcpListener(TcpListener, SocketAddr, bool),
    Conn(Box<Conn>),
    MetricsListener(TcpListener),
    Metrics(Box<http::Conn>),
}

/// Builds new credentials on SIGHUP (the settings file read again), or says why not.
pub type Reload = Box<dyn FnMut() -> Result<AuthConfig, String>>;

/// What the runtime serves besides TURN.
pub struct Operations {
    /// Where to serve `/metrics`.
    pub metrics: Option<SocketAddr>,
    /// What SIGHUP does; `None`: SIGHUP is logged and ignored.
    pub reload: Option<Reload>,
}

pub struct Runtime {
    poll: Poll,
    server: Server,
    sources: HashMap<Token, Source>,
    /// UDP socket (listener or relay) by local address.
    udp_by_addr: HashMap<SocketAddr, Token>,
    /// Client connection by (client, local) address.
    conn_by_tuple: HashMap<(SocketAddr, SocketAddr), Token>,
    next_token: usize,
    tls: Option<Arc<rustls::ServerConfig>>,
    signals: SignalFd,
    receiver: Receiver,
    sender: Sender,
    pending: Vec<Transmit>,
    stream_buf: Vec<u8>,
    /// UDP sockets left with data after their share of a loop turn (fairness under floods).
    ready: Vec<Token>,
    reload: Option<Reload>,
    figures: RuntimeFigures,
    started: Instant,
    /// Scrape connections open, and the accept counter that orders them.
    metrics_conns: usize,
    metrics_serial: u64,
}

fn tune(socket: &UdpSocket) {
    // Best effort: the kernel caps these at net.core.{r,w}mem_max.
    let _ = setsockopt(socket, sockopt::RcvBuf, &SOCKET_BUFFER);
    let _ = setsockopt(socket, sockopt::SndBuf, &SOCKET_BUFFER);
}

impl Runtime {
    /// Binds every listening socket and blocks SIGINT, SIGTERM and SIGHUP into a signalfd.
    pub fn new(
        server: Server,
        udp: &[SocketAddr],
        tcp: &[SocketAddr],
        tls_listen: Option<(SocketAddr, Arc<rustls::ServerConfig>)>,
        ops: Operations,
    ) -> io::Result<Self> {
        let mut mask = SigSet::empty();
        mask.add(Signal::SIGINT);
        mask.add(Signal::SIGTERM);
        mask.add(Signal::SIGHUP);
        mask.thread_block().map_err(io::Error::from)?;
        let signals =
            SignalFd::with_flags(&mask, SfdFlags::SFD_NONBLOCK).map_err(io::Error::from)?;
        let poll = Poll::new()?;
        poll.registry().register(
            &mut SourceFd(&std::os::fd::AsRawFd::as_raw_fd(&signals)),
            SIGNALS,
            Interest::READABLE,
        )?;
        let mut rt = Runtime {
            poll,
            server,
            sources: HashMap::new(),
            udp_by_addr: HashMap::new(),
            conn_by_tuple: HashMap::new(),
            next_token: 1,
            tls: None,
            signals,
            receiver: Receiver::new(),
            sender: Sender::new(),
            pending: Vec::new(),
            stream_buf: vec![0u8; 64 * 1024],
            ready: Vec::new(),
            reload: ops.reload,
            figures: RuntimeFigures::default(),
            started: Instant::now(),
            metrics_conns: 0,
            metrics_serial: 0,
        };
        for addr in udp {
            let mut s = UdpSocket::bind(*addr)?;
            tune(&s);
            let t = rt.token();
            rt.poll.registry().register(&mut s, t, Interest::READABLE)?;
            rt.udp_by_addr.insert(*addr, t);
            rt.sources.insert(t, Source::Listener(s, *addr));
        }
        for addr in tcp {
            rt.listen_tcp(*addr, false)?;
        }
        if let Some((addr, cfg)) = tls_listen {
            rt.tls = Some(cfg);
            rt.listen_tcp(addr, true)?;
        }
        if let Some(addr) = ops.metrics {
            let mut l = TcpListener::bind(addr)?;
            let t = rt.token();
            rt.poll.registry().register(&mut l, t, Interest::READABLE)?;
            rt.sources.insert(t, Source::MetricsListener(l));
        }
        Ok(rt)
    }

    fn token(&mut self) -> Token {
        let t = Token(self.next_token);
        self.next_token += 1;
        t
    }

    fn listen_tcp(&mut self, addr: SocketAddr, tls: bool) -> io::Result<()> {
        let mut l = TcpListener::bind(addr)?;
        let t = self.token();
        self.poll
            .registry()
            .register(&mut l, t, Interest::READABLE)?;
        self.sources.insert(t, Source::TcpListener(l, addr, tls));
        Ok(())
    }

    /// Runs until SIGINT or SIGTERM.
    pub fn run(&mut self) -> io::Result<()> {
        let mut events = Events::with_capacity(256);
        let mut last_wall = Instant::now();
        loop {
            let now = Instant::now();
            if now - last_wall > Duration::from_secs(30) {
                self.server.set_unix_time(now, unix_now());
                last_wall = now;
            }
            let timeout = if self.ready.is_empty() {
                self.server
                    .poll_timeout()
                    .map(|t| t.saturating_duration_since(now))
            } else {
                Some(Duration::ZERO)
            };
            match self.poll.poll(&mut events, timeout) {
                Ok(()) => {}
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            }
            for ev in events.iter() {
                let token = ev.token();
                if token == SIGNALS {
                    if self.signals_pending() {
                        return Ok(());
                    }
                    continue;
                }
                if ev.is_readable() {
                    self.readable(token);
                }
                if ev.is_writable() {
                    self.writable(token);
                }
            }
            for token in std::mem::take(&mut self.ready) {
                self.read_udp(token);
            }
            let now = Instant::now();
            if self.server.poll_timeout().is_some_and(|t| t <= now) {
                self.server.handle_timeout(now);
            }
            self.flush();
        }
    }

    fn writable(&mut self, token: Token) {
        match self.sources.get_mut(&token) {
            Some(Source::Conn(c)) => {
                let drained = !c.flush();
                if drained {
                    let _ =
                        self.poll
                            .registry()
                            .reregister(&mut c.stream, token, Interest::READABLE);
                }
            }
            Some(Source::Metrics(c)) => {
                let progress = c.write();
                if progress == Progress::Done {
                    self.close_metrics(token);
                }
            }
            _ => {}
        }
    }

    /// Reads every queued signal: SIGHUP reloads; `true` when asked to stop.
    fn signals_pending(&mut self) -> bool {
        while let Ok(Some(sig)) = self.signals.read_signal() {
            if sig.ssi_signo == Signal::SIGHUP as i32 as u32 {
                self.reload();
                continue;
            }
            tracing::info!(signal = sig.ssi_signo, "stopping");
            return true;
        }
        false
    }

    /// New credentials for new allocations; allocations stay as they are.
    fn reload(&mut self) {
        let Some(reload) = self.reload.as_mut() else {
            tracing::warn!("SIGHUP: nothing to reload");
            return;
        };
        match reload() {
            Ok(auth) => {
                tracing::info!(
                    users = auth.users.is_some(),
                    rest_secrets = auth.rest_secrets.len(),
                    oauth_keys = auth.oauth_keys.len(),
                    allocations = self.server.stats().allocations,
                    "SIGHUP: credentials reloaded (other settings need a restart)"
                );
                self.server.set_auth(auth);
                self.figures.reloads_ok += 1;
            }
            Err(e) => {
                tracing::error!(error = %e, "SIGHUP: reload refused, the old credentials stay");
                self.figures.reloads_failed += 1;
            }
        }
    }

    fn readable(&mut self, token: Token) {
        match self.sources.get(&token) {
            Some(Source::Listener(..)) | Some(Source::Relay(..)) => self.read_udp(token),
            Some(Source::TcpListener(..)) => self.accept(token),
            Some(Source::Conn(_)) => self.read_conn(token),
            Some(Source::MetricsListener(_)) => self.accept_metrics(token),
            Some(Source::Metrics(_)) => self.read_metrics(token),
            None => {}
        }
    }

    fn accept_metrics(&mut self, token: Token) {
        loop {
            let Some(Source::MetricsListener(l)) = self.sources.get(&token) else {
                return;
            };
            let mut stream = match l.accept() {
                Ok((s, _)) => s,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return,
                Err(e) => {
                    tracing::debug!("metrics accept: {e}");
                    return;
                }
            };
            if self.metrics_conns >= http::MAX_CONNECTIONS {
                let oldest = self
                    .sources
                    .iter()
                    .filter_map(|(t, s)| match s {
                        Source::Metrics(c) => Some((c.serial, *t)),
                        _ => None,
                    })
                    .min();
                if let Some((_, t)) = oldest {
                    self.close_metrics(t);
                }
            }
            let t = self.token();
            if self
                .poll
                .registry()
                .register(&mut stream, t, Interest::READABLE)
                .is_err()
            {
                continue;
            }
            self.metrics_serial += 1;
            let conn = http::Conn::new(stream, self.metrics_serial);
            self.sources.insert(t, Source::Metrics(Box::new(conn)));
            self.metrics_conns += 1;
        }
    }

    fn read_metrics(&mut self, token: Token) {
        let Some(Source::Metrics(c)) = self.sources.get_mut(&token) else {
            return;
        };
        let progress = match c.read() {
            Progress::Request(r) => {
                let answer = match r {
                    http::Request::Metrics => {
                        self.figures.connections = self.conn_by_tuple.len();
                        self.figures.uptime_seconds = self.started.elapsed().as_secs();
                        let m = self.server.metrics(Instant::now());
                        let body = prometheus::render(&m, &self.figures);
                        http::response("200 OK", "text/plain; version=0.0.4; charset=utf-8", &body)
                    }
                    http::Request::NotFound => {
                        http::response("404 Not Found", "text/plain", "try /metrics\n")
                    }
                    http::Request::BadMethod => {
                        http::response("405 Method Not Allowed", "text/plain", "")
                    }
                    http::Request::Malformed => http::response("400 Bad Request", "text/plain", ""),
                };
                let Some(Source::Metrics(c)) = self.sources.get_mut(&token) else {
                    return;
                };
                let p = c.respond(answer);
                if p == Progress::Writing {
                    let _ =
                        self.poll
                            .registry()
                            .reregister(&mut c.stream, token, Interest::WRITABLE);
                }
                p
            }
            p => p,
        };
        if progress == Progress::Done {
            self.close_metrics(token);
        }
    }

    fn close_metrics(&mut self, token: Token) {
        if let Some(Source::Metrics(mut c)) = self.sources.remove(&token) {
            let _ = self.poll.registry().deregister(&mut c.stream);
            self.metrics_conns = self.metrics_conns.saturating_sub(1);
        }
    }

    fn read_udp(&mut self, token: Token) {
        for _ in 0..MAX_BATCHES_PER_TURN {
            let (n, local, relay) = match self.sources.get(&token) {
                Some(Source::Listener(s, a)) => (self.receiver.recv(s), *a, false),
                Some(Source::Relay(s, a)) => (self.receiver.recv(s), *a, true),
                _ => return,
            };
            let n = match n {
                Ok(0) => return,
                Ok(n) => n,
                Err(e) => {
                    tracing::debug!(%local, "recvmmsg: {e}");
                    return;
                }
            };
            let now = Instant::now();
            for i in 0..n {
                let Some((from, data)) = self.receiver.get(i) else {
                    continue;
                };
                if relay {
                    self.server.handle_peer(now, local, from, data);
                } else {
                    self.server.handle_client(
                        now,
                        FiveTuple::new(Protocol::Udp, from, local),
                        data,
                    );
                }
            }
            self.flush();
        }
        // Not drained yet: come back after the other sockets and the timers had their turn.
        if !self.ready.contains(&token) {
            self.ready.push(token);
        }
    }

    fn accept(&mut self, token: Token) {
        loop {
            let (res, local, tls) = match self.sources.get(&token) {
                Some(Source::TcpListener(l, a, tls)) => (l.accept(), *a, *tls),
                _ => return,
            };
            let (mut stream, peer) = match res {
                Ok(x) => x,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return,
                Err(e) => {
                    tracing::debug!("accept: {e}");
                    return;
                }
            };
            if self.conn_by_tuple.len() >= MAX_CONNECTIONS {
                continue;
            }
            let _ = stream.set_nodelay(true);
            let transport = if tls { Protocol::Tls } else { Protocol::Tcp };
            let tuple = FiveTuple::new(transport, peer, local);
            let t = self.token();
            if self
                .poll
                .registry()
                .register(&mut stream, t, Interest::READABLE)
                .is_err()
            {
                continue;
            }
            let tls_cfg = if tls { self.tls.as_ref() } else { None };
            match Conn::new(stream, tuple, tls_cfg) {
                Ok(c) => {
                    self.conn_by_tuple.insert((peer, local), t);
                    self.sources.insert(t, Source::Conn(Box::new(c)));
                }
                Err(e) => tracing::debug!("TLS session: {e}"),
            }
        }
    }

    fn read_conn(&mut self, token: Token) {
        let Some(Source::Conn(c)) = self.sources.get_mut(&token) else {
            return;
        };
        let now = Instant::now();
        let tuple = c.tuple;
        let server = &mut self.server;
        let outcome = c.read(&mut self.stream_buf, |frame| {
            server.handle_client(now, tuple, frame)
        });
        if let ReadOutcome::Closed = outcome {
            self.close_conn(token);
        }
        self.flush();
    }

    fn close_conn(&mut self, token: Token) {
        if let Some(Source::Conn(mut c)) = self.sources.remove(&token) {
            let _ = self.poll.registry().deregister(&mut c.stream);
            self.conn_by_tuple.remove(&(c.tuple.client, c.tuple.server));
            self.server
                .handle_connection_closed(Instant::now(), c.tuple);
        }
    }

    fn bind_relay(&mut self, addr: SocketAddr) -> bool {
        let Ok(mut s) = UdpSocket::bind(addr) else {
            return false;
        };
        tune(&s);
        let t = self.token();
        if self
            .poll
            .registry()
            .register(&mut s, t, Interest::READABLE)
            .is_err()
        {
            return false;
        }
        self.udp_by_addr.insert(addr, t);
        self.sources.insert(t, Source::Relay(s, addr));
        true
    }

    fn release_relay(&mut self, addr: SocketAddr) {
        if let Some(t) = self.udp_by_addr.remove(&addr)
            && let Some(Source::Relay(mut s, _)) = self.sources.remove(&t)
        {
            let _ = self.poll.registry().deregister(&mut s);
        }
    }

    /// Carries out the core's relay commands and sends what it queued.
    fn flush(&mut self) {
        loop {
            while let Some(e) = self.server.poll_event() {
                match e {
                    Event::BindRelay { id, addr, reserve } => {
                        let mut ok = self.bind_relay(addr);
                        if ok && let Some(r) = reserve {
                            ok = self.bind_relay(r);
                            if !ok {
                                self.release_relay(addr);
                            }
                        }
                        self.server.handle_relay_bound(Instant::now(), id, ok);
                    }
                    Event::ReleaseRelay { addr } => self.release_relay(addr),
                    Event::AllocationCreated {
                        tuple,
                        relay,
                        username,
                    } => {
                        tracing::info!(%tuple, %relay, %username, "allocation");
                    }
                    Event::AllocationDeleted {
                        tuple,
                        relay,
                        username,
                        reason,
                    } => {
                        tracing::info!(%tuple, %relay, %username, ?reason, "allocation deleted");
                    }
                    _ => {}
                }
            }
            self.pending.clear();
            while let Some(t) = self.server.poll_transmit() {
                self.pending.push(t);
            }
            if self.pending.is_empty() {
                return;
            }
            self.send_pending();
        }
    }

    fn send_pending(&mut self) {
        let mut pending = std::mem::take(&mut self.pending);
        // Datagrams of one batch leave from several sockets (the listener, each relay): one
        // run per socket means one system call per socket. The sort is stable, so the order
        // per socket, and so per destination, is kept.
        // Usually already grouped (one flow per batch): then no sort, and no allocation.
        if !pending.is_sorted_by_key(|t| (t.protocol, t.source)) {
            pending.sort_by_key(|t| (t.protocol, t.source));
        }
        let mut i = 0;
        while i < pending.len() {
            let first = &pending[i];
            // A run of datagrams from the same UDP source goes out in one sendmmsg.
            let mut j = i + 1;
            while j < pending.len()
                && pending[j].source == first.source
                && pending[j].protocol == first.protocol
            {
                j += 1;
            }
            let run = &pending[i..j];
            if first.protocol == Protocol::Udp {
                if let Some(t) = self.udp_by_addr.get(&first.source)
                    && let Some(Source::Listener(s, _) | Source::Relay(s, _)) = self.sources.get(t)
                {
                    let batch: Vec<(SocketAddr, &[u8])> = run
                        .iter()
                        .map(|t| (t.destination, &t.payload[..]))
                        .collect();
                    self.sender.send(s, &batch);
                }
            } else {
                for t in run {
                    let Some(token) = self.conn_by_tuple.get(&(t.destination, t.source)).copied()
                    else {
                        continue;
                    };
                    if let Some(Source::Conn(c)) = self.sources.get_mut(&token) {
                        c.send(&t.payload);
                        if c.flush() {
                            let _ = self.poll.registry().reregister(
                                &mut c.stream,
                                token,
                                Interest::READABLE | Interest::WRITABLE,
                            );
                        }
                    }
                }
            }
            i = j;
        }
        self.pending = pending;
    }
}
