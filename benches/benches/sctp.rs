//! Data channels: an in-memory association pair on one core, no sockets, with and without
//! DTLS (AES-GCM records through rtcweb-dtls). Bulk throughput with 64 KiB messages and the
//! rate of 100-byte messages: rtcweb-sctp (on its engine, dcsctp) side by side with rtc-sctp,
//! its previous engine, driven directly with the same MTU, stream and back-pressure. Times are the thread's CPU time
//! (CLOCK_THREAD_CPUTIME_ID): the machine is shared, and lost time slices would swamp the
//! comparison.
#![allow(missing_docs, clippy::unwrap_used)]

use std::hint::black_box;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use bytes::Bytes;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use rtc_sctp::{
    Association, AssociationHandle, ClientConfig, DatagramEvent, Endpoint, EndpointConfig,
    Event as RtcEvent, Payload, PayloadProtocolIdentifier, ServerConfig, StreamEvent,
    TransportConfig,
};
use rtcweb_dtls::{Certificate, DtlsConfig, DtlsContext, DtlsEndpoint, State, VersionPolicy};
use rtcweb_sctp::{ChannelId, ChannelOptions, Event, Role, SctpConfig, SctpTransport};

const BULK_MESSAGE: usize = 64 * 1024;
const BULK_COUNT: usize = 32; // 2 MiB per iteration
const SMALL_MESSAGE: usize = 100;
const SMALL_COUNT: usize = 5000;
/// Largest SCTP packet: what a DTLS 1.2 AES-GCM record carries in a 1200-byte datagram.
const MTU: usize = 1163;

/// The wire between two SCTP endpoints: straight, or through a DTLS pair.
struct Wire {
    dtls: Option<(DtlsEndpoint, DtlsEndpoint)>,
    scratch: Vec<Vec<u8>>,
}

impl Wire {
    fn plain() -> Self {
        Wire {
            dtls: None,
            scratch: Vec::new(),
        }
    }

    fn dtls(version: VersionPolicy) -> Self {
        let cert = |n: u8| {
            let mut secret = [n; 32];
            secret[0] = 0x11;
            let nb = SystemTime::UNIX_EPOCH + Duration::from_secs(1_790_000_000);
            Certificate::generate(&secret, &[n; 16], nb, Certificate::DEFAULT_LIFETIME).unwrap()
        };
        let (ca, cb) = (cert(1), cert(2));
        let mut cfg = DtlsConfig::default();
        cfg.max_queued_transmits = 1 << 16;
        cfg.max_queued_events = 1 << 16;
        cfg.version = version;
        let (xa, xb) = (
            DtlsContext::new(cfg.clone(), ca.clone()).unwrap(),
            DtlsContext::new(cfg, cb.clone()).unwrap(),
        );
        let now = Instant::now();
        let mut a =
            DtlsEndpoint::new(&xa, Role::Client, vec![cb.fingerprint().clone()], now).unwrap();
        let mut b =
            DtlsEndpoint::new(&xb, Role::Server, vec![ca.fingerprint().clone()], now).unwrap();
        while a.state() != &State::Connected || b.state() != &State::Connected {
            while let Some(d) = a.poll_transmit() {
                b.handle_input(now, &d);
            }
            while let Some(d) = b.poll_transmit() {
                a.handle_input(now, &d);
            }
        }
        while a.poll_event().is_some() {}
        while b.poll_event().is_some() {}
        Wire {
            dtls: Some((a, b)),
            scratch: Vec::new(),
        }
    }

    /// Carries one SCTP packet from side `from_a` to the other; returns what arrives.
    fn carry(&mut self, now: Instant, from_a: bool, packet: &[u8]) -> &[Vec<u8>] {
        self.scratch.clear();
        match &mut self.dtls {
            None => self.scratch.push(packet.to_vec()),
            Some((a, b)) => {
                let (tx, rx) = if from_a { (a, b) } else { (b, a) };
                tx.send(packet).unwrap();
                while let Some(d) = tx.poll_transmit() {
                    rx.handle_input(now, &d);
                }
                while let Some(e) = rx.poll_event() {
                    if let rtcweb_dtls::Event::ApplicationData(p) = e {
                        self.scratch.push(p);
                    }
                }
            }
        }
        &self.scratch
    }
}

// ---------- rtcweb-sctp ----------

struct OurPair {
    now: Instant,
    a: SctpTransport,
    b: SctpTransport,
    id: ChannelId,
    wire: Wire,
    received: usize,
}

impl OurPair {
    fn new(wire: Wire, mtu: usize) -> Self {
        let now = Instant::now();
        let mut cfg = SctpConfig::default();
        cfg.mtu = mtu;
        let mut a = SctpTransport::new(cfg.clone(), Role::Client).unwrap();
        let mut b = SctpTransport::new(cfg, Role::Server).unwrap();
        let id = a
            .create_channel(now, ChannelOptions::new("bench").negotiated(0))
            .unwrap();
        b.create_channel(now, ChannelOptions::new("bench").negotiated(0))
            .unwrap();
        a.start(now).unwrap();
        b.start(now).unwrap();
        let mut p = OurPair {
            now,
            a,
            b,
            id,
            wire,
            received: 0,
        };
        for _ in 0..10 {
            p.pump();
        }
        p
    }

    fn pump(&mut self) -> bool {
        let mut moved = false;
        while let Some(pk) = self.a.poll_transmit(self.now) {
            moved = true;
            for p in self.wire.carry(self.now, true, &pk) {
                self.b.handle_input(self.now, p);
            }
        }
        while let Some(e) = self.b.poll_event() {
            if let Event::Message { message, .. } = e {
                self.received += 1;
                black_box(message);
            }
        }
        while let Some(pk) = self.b.poll_transmit(self.now) {
            moved = true;
            for p in self.wire.carry(self.now, false, &pk) {
                self.a.handle_input(self.now, p);
            }
        }
        while self.a.poll_event().is_some() {}
        moved
    }

    /// Sends `count` messages of `payload` and runs until all are delivered.
    fn transfer(&mut self, payload: &Bytes, count: usize) {
        let target = self.received + count;
        let mut sent = 0;
        while self.received < target {
            while sent < count
                && self
                    .a
                    .send_bytes(
                        self.now,
                        self.id,
                        rtcweb_sctp::MessageKind::Binary,
                        payload.clone(),
                    )
                    .is_ok()
            {
                sent += 1;
            }
            if !self.pump() {
                // Only the delayed-SACK timer can be pending: jump to it.
                self.now += Duration::from_millis(200);
                self.a.handle_timeout(self.now);
                self.b.handle_timeout(self.now);
            }
        }
    }
}

// ---------- rtc-sctp driven directly ----------

struct RtcPair {
    now: Instant,
    ea: Endpoint,
    eb: Endpoint,
    a: (AssociationHandle, Association),
    b: Option<(AssociationHandle, Association)>,
    wire: Wire,
    received: usize,
}

fn addr() -> SocketAddr {
    "127.0.0.1:5000".parse().unwrap()
}

impl RtcPair {
    fn new(wire: Wire, mtu: usize) -> Self {
        let now = Instant::now();
        let mut ec = EndpointConfig::new();
        ec.max_payload_size(rtc_sctp::max_payload_size_for_mtu(mtu as u32));
        let ec = Arc::new(ec);
        let tc = TransportConfig::default();
        let mut ea = Endpoint::new(addr(), Default::default(), ec.clone(), None);
        let eb = Endpoint::new(
            addr(),
            Default::default(),
            ec,
            Some(Arc::new(ServerConfig::new(tc.clone()))),
        );
        let a = ea.connect(now, ClientConfig::new(tc), addr()).unwrap();
        let mut p = RtcPair {
            now,
            ea,
            eb,
            a,
            b: None,
            wire,
            received: 0,
        };
        for _ in 0..10 {
            p.pump();
        }
        let mut s =
            p.a.1
                .open_stream(0, PayloadProtocolIdentifier::Binary)
                .unwrap();
        s.set_reliability_params(false, rtc_sctp::ReliabilityType::Reliable, 0)
            .unwrap();
        p
    }

    fn pump(&mut self) -> bool {
        let now = self.now;
        let mut moved = false;
        while let Some(t) = self.a.1.poll_transmit(now) {
            let Payload::RawEncode(pks) = t.message else {
                continue;
            };
            for pk in pks {
                moved = true;
                let arrived: Vec<Vec<u8>> = self.wire.carry(now, true, &pk).to_vec();
                for p in arrived {
                    match self.eb.handle(now, addr(), None, Bytes::from(p)) {
                        Some((h, DatagramEvent::NewAssociation(a))) => self.b = Some((h, a)),
                        Some((_, DatagramEvent::AssociationEvent(ev))) => {
                            if let Some((_, b)) = self.b.as_mut() {
                                b.handle_event(ev);
                            }
                        }
                        _ => {}
                    }
                }
            }
        }
        if let Some((_, b)) = self.b.as_mut() {
            while let Some(e) = b.poll() {
                if let RtcEvent::Stream(StreamEvent::Readable { id }) = e {
                    let mut s = b.stream(id).unwrap();
                    while let Some(chunks) = s.read_sctp().unwrap() {
                        black_box(chunks.to_payload(usize::MAX).unwrap());
                        self.received += 1;
                    }
                } else if let RtcEvent::Stream(StreamEvent::Opened { .. }) = e {
                    while b.accept_stream().is_some() {}
                }
            }
            while let Some(t) = b.poll_transmit(now) {
                let Payload::RawEncode(pks) = t.message else {
                    continue;
                };
                for pk in pks {
                    moved = true;
                    let arrived: Vec<Vec<u8>> = self.wire.carry(now, false, &pk).to_vec();
                    for p in arrived {
                        if let Some((_, DatagramEvent::AssociationEvent(ev))) =
                            self.ea.handle(now, addr(), None, Bytes::from(p))
                        {
                            self.a.1.handle_event(ev);
                        }
                    }
                }
            }
        }
        while self.a.1.poll().is_some() {}
        moved
    }

    fn transfer(&mut self, payload: &Bytes, count: usize) {
        let target = self.received + count;
        let mut sent = 0;
        while self.received < target {
            while sent < count && self.a.1.stats_buffered() < 16 * 1024 * 1024 {
                let mut s = self.a.1.stream(0).unwrap();
                s.write_chunk_with_ppi(self.now, payload, PayloadProtocolIdentifier::Binary)
                    .unwrap();
                sent += 1;
            }
            if !self.pump() {
                self.now += Duration::from_millis(200);
                self.a.1.handle_timeout(self.now);
                if let Some((_, b)) = self.b.as_mut() {
                    b.handle_timeout(self.now);
                }
            }
        }
    }
}

/// rtc-sctp's buffered amount of stream 0, the same back-pressure our layer applies.
trait Buffered {
    fn stats_buffered(&mut self) -> usize;
}

impl Buffered for Association {
    fn stats_buffered(&mut self) -> usize {
        self.stream(0)
            .and_then(|s| s.buffered_amount())
            .unwrap_or(0)
    }
}

/// Thread CPU time of `iters` runs of `f`: what the work costs, whatever else the shared
/// machine runs (page faults and other kernel time of this thread included).
fn cpu(iters: u64, mut f: impl FnMut()) -> Duration {
    let now = || {
        let t = rustix::time::clock_gettime(rustix::time::ClockId::ThreadCPUTime);
        Duration::new(t.tv_sec as u64, t.tv_nsec as u32)
    };
    let start = now();
    for _ in 0..iters {
        f();
    }
    now() - start
}

fn bench(c: &mut Criterion) {
    let bulk = Bytes::from(vec![0x5a; BULK_MESSAGE]);
    let small = Bytes::from(vec![0x5a; SMALL_MESSAGE]);
    // DTLS as negotiated by default (1.3), and pinned to 1.2 (what a 1.2-only peer gets).
    for (tag, dtls) in [
        ("plain", None),
        ("dtls", Some(VersionPolicy::Auto)),
        ("dtls12", Some(VersionPolicy::Dtls12)),
    ] {
        let wire = || dtls.map_or_else(Wire::plain, Wire::dtls);

        let mut g = c.benchmark_group(format!("sctp_bulk_64k_{tag}"));
        g.sample_size(10).measurement_time(Duration::from_secs(4));
        g.throughput(Throughput::Bytes((BULK_MESSAGE * BULK_COUNT) as u64));
        let mut ours = OurPair::new(wire(), MTU);
        g.bench_function("rtcweb-sctp", |b| {
            b.iter_custom(|iters| cpu(iters, || ours.transfer(&bulk, BULK_COUNT)))
        });
        let mut theirs = RtcPair::new(wire(), MTU);
        g.bench_function("rtc-sctp", |b| {
            b.iter_custom(|iters| cpu(iters, || theirs.transfer(&bulk, BULK_COUNT)))
        });
        g.finish();

        let mut g = c.benchmark_group(format!("sctp_small_100b_{tag}"));
        g.sample_size(10).measurement_time(Duration::from_secs(4));
        g.throughput(Throughput::Elements(SMALL_COUNT as u64));
        let mut ours = OurPair::new(wire(), MTU);
        g.bench_function("rtcweb-sctp", |b| {
            b.iter_custom(|iters| cpu(iters, || ours.transfer(&small, SMALL_COUNT)))
        });
        let mut theirs = RtcPair::new(wire(), MTU);
        g.bench_function("rtc-sctp", |b| {
            b.iter_custom(|iters| cpu(iters, || theirs.transfer(&small, SMALL_COUNT)))
        });
        g.finish();
    }
    // Not WebRTC (DTLS records cap packets near 1200 bytes): what the engine does when
    // packets may be 8 KiB, the most rtc-sctp accepts, to compare with earlier figures.
    let mut g = c.benchmark_group("sctp_bulk_64k_plain_mtu8k");
    g.sample_size(10).measurement_time(Duration::from_secs(4));
    g.throughput(Throughput::Bytes((BULK_MESSAGE * BULK_COUNT) as u64));
    let mut ours = OurPair::new(Wire::plain(), 8192);
    g.bench_function("rtcweb-sctp", |b| {
        b.iter_custom(|iters| cpu(iters, || ours.transfer(&bulk, BULK_COUNT)))
    });
    let mut theirs = RtcPair::new(Wire::plain(), 8192);
    g.bench_function("rtc-sctp", |b| {
        b.iter_custom(|iters| cpu(iters, || theirs.transfer(&bulk, BULK_COUNT)))
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
