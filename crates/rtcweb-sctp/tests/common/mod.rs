//! Helpers shared by the integration tests: a back-to-back pair on a virtual clock, and an
//! SCTP-over-DTLS host for rtcweb-netsim.

#![allow(dead_code, clippy::unwrap_used)]

use std::net::SocketAddr;
use std::time::{Duration, Instant, SystemTime};

use bytes::Bytes;
use rtcweb_dtls::{Certificate, DtlsConfig, DtlsContext, DtlsEndpoint, State};
use rtcweb_netsim::{Datagram, HostId, Network, SansIo, Transmit};
use rtcweb_sctp::{ChannelId, Event, Role, SctpConfig, SctpTransport};

/// The default configuration.
pub fn config() -> SctpConfig {
    SctpConfig::default()
}

/// Decides from a packet's index in its direction and its bytes whether it is lost.
pub type DropFn = Box<dyn FnMut(usize, &[u8]) -> bool>;

/// Two transports wired back to back, no DTLS, zero latency, on a virtual clock.
pub struct Pair {
    pub now: Instant,
    pub start: Instant,
    pub a: SctpTransport,
    pub b: SctpTransport,
    pub a_events: Vec<Event>,
    pub b_events: Vec<Event>,
    pub a_to_b: usize,
    pub b_to_a: usize,
    pub drop_a_to_b: DropFn,
    pub drop_b_to_a: DropFn,
}

impl Pair {
    /// Client `a`, server `b`, both started.
    pub fn new(mut a: SctpConfig, mut b: SctpConfig) -> Self {
        // Reproducible tags and TSNs (different on the two sides, as they would be).
        a.rng_seed.get_or_insert(1);
        b.rng_seed.get_or_insert(2);
        let now = Instant::now();
        let mut p = Pair {
            now,
            start: now,
            a: SctpTransport::new(a, Role::Client).unwrap(),
            b: SctpTransport::new(b, Role::Server).unwrap(),
            a_events: Vec::new(),
            b_events: Vec::new(),
            a_to_b: 0,
            b_to_a: 0,
            drop_a_to_b: Box::new(|_, _| false),
            drop_b_to_a: Box::new(|_, _| false),
        };
        p.a.start(now).unwrap();
        p.b.start(now).unwrap();
        p
    }

    pub fn connected() -> Self {
        let mut p = Self::new(config(), config());
        p.run_until(|p| p.a_events.contains(&Event::Connected));
        p.run_until(|p| p.b_events.contains(&Event::Connected));
        p
    }

    /// Moves every packet across once; returns whether any moved.
    pub fn exchange(&mut self) -> bool {
        let mut moved = false;
        while let Some(pk) = self.a.poll_transmit(self.now) {
            moved = true;
            let i = self.a_to_b;
            self.a_to_b += 1;
            if !(self.drop_a_to_b)(i, &pk) {
                self.b.handle_input(self.now, &pk);
            }
        }
        while let Some(pk) = self.b.poll_transmit(self.now) {
            moved = true;
            let i = self.b_to_a;
            self.b_to_a += 1;
            if !(self.drop_b_to_a)(i, &pk) {
                self.a.handle_input(self.now, &pk);
            }
        }
        self.drain();
        moved
    }

    pub fn drain(&mut self) {
        while let Some(e) = self.a.poll_event() {
            self.a_events.push(e);
        }
        while let Some(e) = self.b.poll_event() {
            self.b_events.push(e);
        }
    }

    /// Exchanges packets, and when idle jumps the clock to the next timeout, until `done`
    /// (returns true) or 10 virtual minutes pass (returns false).
    pub fn run_until(&mut self, done: impl FnMut(&mut Pair) -> bool) -> bool {
        let deadline = self.now + Duration::from_secs(600);
        self.run(deadline, done)
    }

    /// Runs `dur` of virtual time.
    pub fn run_for(&mut self, dur: Duration) {
        let end = self.now + dur;
        self.run(end, |_| false);
        self.now = end;
    }

    /// Exchanges packets and fires timers due by `limit` until `done`; returns what `done`
    /// says last.
    fn run(&mut self, limit: Instant, mut done: impl FnMut(&mut Pair) -> bool) -> bool {
        loop {
            self.drain();
            if done(self) {
                return true;
            }
            if self.exchange() {
                continue;
            }
            if !next_timeout(&mut self.now, limit, &mut self.a, &mut self.b) {
                return done(self);
            }
        }
    }
}

/// For two transports with nothing in flight: moves `now` to the earlier of their timeouts
/// and fires both, unless there is none by `limit` (returns false, `now` unchanged).
pub fn next_timeout(
    now: &mut Instant,
    limit: Instant,
    a: &mut SctpTransport,
    b: &mut SctpTransport,
) -> bool {
    let next = [a.poll_timeout(), b.poll_timeout()]
        .into_iter()
        .flatten()
        .min();
    match next {
        Some(t) if t <= limit => {
            *now = (*now).max(t);
            a.handle_timeout(*now);
            b.handle_timeout(*now);
            true
        }
        _ => false,
    }
}

pub fn opened(events: &[Event], id: ChannelId) -> bool {
    events
        .iter()
        .any(|e| matches!(e, Event::ChannelOpen { id: i, .. } if *i == id))
}

pub fn closed(events: &[Event], id: ChannelId) -> usize {
    events
        .iter()
        .filter(|e| matches!(e, Event::ChannelClosed { id: i } if *i == id))
        .count()
}

pub fn messages(events: &[Event], id: ChannelId) -> Vec<rtcweb_sctp::Message> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::Message { id: i, message } if *i == id => Some(message.clone()),
            _ => None,
        })
        .collect()
}

/// One DATA chunk seen in an outgoing SCTP packet (RFC 9260 section 3.3.1).
#[derive(Debug, Clone)]
pub struct DataChunk {
    pub at: Instant,
    pub tsn: u32,
    pub stream: u16,
    pub ppid: u32,
    pub flags: u8,
    pub payload: Vec<u8>,
}

/// The DATA chunks of one SCTP packet: the tests' own look at the wire, independent of the
/// engine.
pub fn data_chunks(at: Instant, packet: &[u8]) -> Vec<DataChunk> {
    let mut out = Vec::new();
    let mut i = 12;
    while i + 4 <= packet.len() {
        let len = u16::from_be_bytes([packet[i + 2], packet[i + 3]]) as usize;
        if len < 4 || i + len > packet.len() {
            break;
        }
        if packet[i] == 0 && len >= 16 {
            let c = &packet[i..i + len];
            out.push(DataChunk {
                at,
                tsn: u32::from_be_bytes([c[4], c[5], c[6], c[7]]),
                stream: u16::from_be_bytes([c[8], c[9]]),
                ppid: u32::from_be_bytes([c[12], c[13], c[14], c[15]]),
                flags: c[1],
                payload: c[16..].to_vec(),
            });
        }
        // I-DATA (RFC 8260 section 2.1): the PPID is in the first fragment only (B bit);
        // later ones carry the fragment sequence number there, reported as PPID 0.
        if packet[i] == 64 && len >= 20 {
            let c = &packet[i..i + len];
            out.push(DataChunk {
                at,
                tsn: u32::from_be_bytes([c[4], c[5], c[6], c[7]]),
                stream: u16::from_be_bytes([c[8], c[9]]),
                ppid: if c[1] & 2 != 0 {
                    u32::from_be_bytes([c[16], c[17], c[18], c[19]])
                } else {
                    0
                },
                flags: c[1],
                payload: c[20..].to_vec(),
            });
        }
        i += (len + 3) & !3;
    }
    out
}

/// A certificate from fixed bytes, so runs are reproducible.
pub fn cert(n: u8) -> Certificate {
    let mut secret = [n; 32];
    secret[0] = 0x11; // keep the scalar below the P-256 order
    let not_before = SystemTime::UNIX_EPOCH + Duration::from_secs(1_790_000_000);
    Certificate::generate(&secret, &[n; 16], not_before, Certificate::DEFAULT_LIFETIME).unwrap()
}

/// Hosts `a` (198.51.100.1) and `b` (198.51.100.2) on a simulated internet, and the
/// client and server [`Host`] for each; the links are the test's to set.
pub struct TwoHosts {
    pub net: Network,
    pub a: HostId,
    pub b: HostId,
    pub host_a: Host,
    pub host_b: Host,
}

impl TwoHosts {
    pub fn new(start: Instant, seed: u64, sctp: SctpConfig) -> TwoHosts {
        let mut net = Network::new(start, seed);
        let inet = net.internet();
        let (a_ip, b_ip) = (
            "198.51.100.1".parse().unwrap(),
            "198.51.100.2".parse().unwrap(),
        );
        let a = net.add_host("a", inet, &[a_ip]);
        let b = net.add_host("b", inet, &[b_ip]);
        let (a_addr, b_addr) = (SocketAddr::new(a_ip, 9), SocketAddr::new(b_ip, 9));
        let (host_a, host_b) = Host::pair(start, seed, sctp, a_addr, b_addr);
        TwoHosts {
            net,
            a,
            b,
            host_a,
            host_b,
        }
    }
}

/// SCTP over DTLS on a simulated host: what a PeerConnection does with the two layers.
pub struct Host {
    pub dtls: DtlsEndpoint,
    pub sctp: SctpTransport,
    pub local: SocketAddr,
    pub peer: SocketAddr,
    pub events: Vec<Event>,
    /// Every DATA chunk this side sent, in order.
    pub sent_data: Vec<DataChunk>,
    pub dtls_failed: bool,
    /// Every SCTP packet this side sent, when `record_sctp` is set.
    pub record_sctp: bool,
    pub sctp_sent: Vec<Vec<u8>>,
    /// SCTP packets for which this returns true are dropped instead of sent (a peer that
    /// ignores them, seen from the other side).
    pub drop_sctp: Option<fn(&[u8]) -> bool>,
}

impl Host {
    /// Client and server hosts that know each other's fingerprints.
    pub fn pair(
        start: Instant,
        seed: u64,
        sctp: SctpConfig,
        a: SocketAddr,
        b: SocketAddr,
    ) -> (Host, Host) {
        let (ca, cb) = (cert(1), cert(2));
        let mut cfg = DtlsConfig::default();
        cfg.rng_seed = Some(seed.into());
        cfg.handshake_timeout = Duration::from_secs(300);
        cfg.max_retransmissions = 30;
        let ctx_a = DtlsContext::new(cfg.clone(), ca.clone()).unwrap();
        let ctx_b = DtlsContext::new(cfg, cb.clone()).unwrap();
        let da = DtlsEndpoint::new(
            &ctx_a,
            rtcweb_dtls::Role::Client,
            vec![cb.fingerprint().clone()],
            start,
        )
        .unwrap();
        let db = DtlsEndpoint::new(
            &ctx_b,
            rtcweb_dtls::Role::Server,
            vec![ca.fingerprint().clone()],
            start,
        )
        .unwrap();
        let host = |dtls, role, local, peer| Host {
            dtls,
            sctp: SctpTransport::new(
                {
                    let mut c = sctp.clone();
                    let side = u64::from(role == Role::Server);
                    c.rng_seed
                        .get_or_insert(seed.wrapping_mul(2).wrapping_add(side));
                    c
                },
                role,
            )
            .unwrap(),
            local,
            peer,
            events: Vec::new(),
            sent_data: Vec::new(),
            dtls_failed: false,
            record_sctp: false,
            sctp_sent: Vec::new(),
            drop_sctp: None,
        };
        (host(da, Role::Client, a, b), host(db, Role::Server, b, a))
    }

    fn pump_dtls(&mut self, now: Instant) {
        while let Some(e) = self.dtls.poll_event() {
            match e {
                rtcweb_dtls::Event::Connected { .. } => {
                    let mtu = self.dtls.max_application_data().unwrap();
                    self.sctp.set_mtu(mtu).unwrap();
                    self.sctp.start(now).unwrap();
                }
                rtcweb_dtls::Event::ApplicationData(p) => self.sctp.handle_input(now, &p),
                rtcweb_dtls::Event::Failed(_) => self.dtls_failed = true,
                _ => {}
            }
        }
        self.drain();
    }

    pub fn drain(&mut self) {
        while let Some(e) = self.sctp.poll_event() {
            self.events.push(e);
        }
    }
}

impl SansIo for Host {
    type Input<'a> = Datagram<'a>;
    type Transmit = Transmit;
    type Event = ();
    fn poll_event(&mut self) -> Option<()> {
        None
    }
    fn handle_input(&mut self, now: Instant, d: Datagram<'_>) {
        self.dtls.handle_input(now, d.payload);
        self.pump_dtls(now);
    }

    fn handle_timeout(&mut self, now: Instant) {
        if self.dtls.poll_timeout().is_some_and(|t| t <= now) {
            self.dtls.handle_timeout(now);
            self.pump_dtls(now);
        }
        if self.sctp.poll_timeout().is_some_and(|t| t <= now) {
            self.sctp.handle_timeout(now);
            self.drain();
        }
    }

    fn poll_transmit(&mut self, now: Instant) -> Option<Transmit> {
        self.drain();
        loop {
            if let Some(payload) = self.dtls.poll_transmit() {
                return Some(Transmit::udp(self.local, self.peer, payload));
            }
            if self.dtls.state() != &State::Connected {
                return None;
            }
            let packet: Bytes = self.sctp.poll_transmit(now)?;
            self.sent_data.extend(data_chunks(now, &packet));
            if self.record_sctp {
                self.sctp_sent.push(packet.to_vec());
            }
            if self.drop_sctp.is_some_and(|f| f(&packet)) {
                continue;
            }
            self.dtls.send(&packet).unwrap();
        }
    }

    fn poll_timeout(&self) -> Option<Instant> {
        [self.dtls.poll_timeout(), self.sctp.poll_timeout()]
            .into_iter()
            .flatten()
            .min()
    }
}
