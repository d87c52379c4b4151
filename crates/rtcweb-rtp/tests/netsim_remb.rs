//! REMB end to end: a sender with congestion control whose peer sends no transport-wide
//! CC feedback (abs-send-time is mapped, transport-wide CC is not), and a receiver that
//! runs the receive-side estimator and sends REMB, over a bottleneck of rtcweb-netsim
//! (1.5 Mbit/s, drop-tail queue of 300 ms, 50 ms base round trip).
//!
//! rtcweb-bwe's own tests prove the estimator on plain records; this proves the wiring:
//! abs-send-time stamped when the pacer releases a packet, the receiver's estimator fed
//! from real RTP, REMB written and parsed, and the sender's target following it.

#![allow(clippy::unwrap_used)] // test helpers unwrap what the test itself set up

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use rtcweb_bwe::Limit;
use rtcweb_netsim::{Datagram, LinkParams, Network, Node, SansIo, Simulation, Transmit};
use rtcweb_rtp::codec::Codec;
use rtcweb_rtp::rtcp::{RtcpPacket, RtcpPackets};
use rtcweb_rtp::rtp::{ExtensionKind, ExtensionMap, RtpPacket};
use rtcweb_rtp::session::{
    CodecConfig, CongestionConfig, Event, ReceiveStreamConfig, SendStreamConfig, Session,
    SessionConfig,
};

const MEDIA_SSRC: u32 = 0x2222_0001;
const RTX_SSRC: u32 = 0x2222_0002;
const PT: u8 = 96;
const RTX_PT: u8 = 97;
const FPS: u64 = 30;
const ONE_WAY: Duration = Duration::from_millis(25);
const QUEUE: Duration = Duration::from_millis(300);

fn codecs() -> Vec<CodecConfig> {
    vec![CodecConfig {
        payload_type: PT,
        codec: Codec::Vp8,
        rtx_payload_type: Some(RTX_PT),
    }]
}

/// abs-send-time and mid mapped; transport-wide CC only when `twcc`.
fn config(congestion: bool, twcc: bool) -> SessionConfig {
    let mut extensions = ExtensionMap::new();
    if twcc {
        extensions
            .insert(3, ExtensionKind::TransportWideCc)
            .unwrap();
    }
    extensions.insert(2, ExtensionKind::AbsSendTime).unwrap();
    extensions.insert(4, ExtensionKind::Mid).unwrap();
    SessionConfig {
        extensions,
        congestion_control: congestion.then(CongestionConfig::default),
        ..SessionConfig::default()
    }
}

/// A VP8-like frame of `bytes` (a real key frame tag every 3 s, so the receiver's
/// assembler takes the stream).
fn frame(n: u64, bytes: usize) -> Vec<u8> {
    let key = n.is_multiple_of(3 * FPS);
    let mut f: Vec<u8> = (0..bytes.max(20))
        .map(|i| ((i as u64 * 31 + n) % 250 + 1) as u8)
        .collect();
    if key {
        f[..10].copy_from_slice(&[0x50, 0x2d, 0x00, 0x9d, 0x01, 0x2a, 0x80, 0x02, 0xe0, 0x01]);
    } else {
        f[0] = 0x51;
    }
    f
}

/// Sends frames whose size follows the session's target, as an encoder would.
struct Sender {
    session: Session,
    local: SocketAddr,
    remote: SocketAddr,
    start: Instant,
    stop: Duration,
    next_frame: u64,
    /// The latest target in bit/s (the start rate until the first event).
    target: f64,
    /// (time, target, what limits it) at every change.
    targets: Vec<(Duration, f64, Limit)>,
    /// (time, bit/s) of each REMB received.
    rembs: Vec<(Duration, u64)>,
}

impl SansIo for Sender {
    type Input<'a> = Datagram<'a>;
    type Transmit = Transmit;
    type Event = ();
    fn poll_event(&mut self) -> Option<()> {
        None
    }
    fn handle_input(&mut self, now: Instant, d: Datagram<'_>) {
        self.session.handle_input(now, d.payload).unwrap();
        self.drain(now);
    }
    fn handle_timeout(&mut self, now: Instant) {
        let due = self.start + Duration::from_micros(self.next_frame * 1_000_000 / FPS);
        if now >= due && now < self.start + self.stop {
            // Media and retransmissions together should stay under the target.
            let bytes = (self.target * 0.95 / 8.0 / FPS as f64) as usize;
            let f = frame(self.next_frame, bytes);
            let ts = (self.next_frame * 90_000 / FPS) as u32;
            self.session
                .write_frame(now, MEDIA_SSRC, PT, ts, &f)
                .unwrap();
            self.next_frame += 1;
        }
        if self.session.poll_timeout().is_some_and(|t| t <= now) {
            self.session.handle_timeout(now);
        }
        self.drain(now);
    }
    fn poll_transmit(&mut self, _: Instant) -> Option<Transmit> {
        let t = self.session.poll_transmit()?;
        Some(Transmit::udp(self.local, self.remote, t.payload))
    }
    fn poll_timeout(&self) -> Option<Instant> {
        let next_frame = (Duration::from_micros(self.next_frame * 1_000_000 / FPS) < self.stop)
            .then(|| self.start + Duration::from_micros(self.next_frame * 1_000_000 / FPS));
        [self.session.poll_timeout(), next_frame]
            .into_iter()
            .flatten()
            .min()
    }
}

impl Sender {
    fn drain(&mut self, now: Instant) {
        while let Some(e) = self.session.poll_event() {
            match e {
                Event::TargetBitrate(r) => {
                    self.target = r.target.as_f64();
                    self.targets.push((now - self.start, self.target, r.limit));
                }
                Event::Remb { bitrate, ssrcs } => {
                    assert_eq!(ssrcs, [MEDIA_SSRC]);
                    self.rembs.push((now - self.start, bitrate));
                }
                _ => {}
            }
        }
    }

    /// The targets set between `from` and `to`, with the one in force at `from`.
    fn targets_in(&self, from: Duration, to: Duration) -> Vec<(Duration, f64, Limit)> {
        let before = self.targets.iter().take_while(|t| t.0 <= from).last();
        let mut v: Vec<_> = before.map(|&(_, r, l)| (from, r, l)).into_iter().collect();
        v.extend(
            self.targets
                .iter()
                .filter(|t| t.0 > from && t.0 < to)
                .copied(),
        );
        v
    }

    /// The time-weighted mean target between `from` and `to`.
    fn mean_target(&self, from: Duration, to: Duration) -> f64 {
        let v = self.targets_in(from, to);
        let mut sum = 0.0;
        for (i, &(t, r, _)) in v.iter().enumerate() {
            let next = v.get(i + 1).map_or(to, |n| n.0);
            sum += r * (next - t).as_secs_f64();
        }
        sum / (to - from).as_secs_f64()
    }
}

/// Receives, reports and records each media packet's arrival and one-way delay, and the
/// REMBs its session sends.
struct Receiver {
    session: Session,
    local: SocketAddr,
    remote: SocketAddr,
    start: Instant,
    /// (arrival since start, bytes, one-way delay) of each media packet.
    arrivals: Vec<(Duration, usize, Duration)>,
    /// (time, bit/s) of each REMB sent.
    rembs: Vec<(Duration, u64)>,
    now: Instant,
}

impl SansIo for Receiver {
    type Input<'a> = Datagram<'a>;
    type Transmit = Transmit;
    type Event = ();
    fn poll_event(&mut self) -> Option<()> {
        None
    }
    fn handle_input(&mut self, now: Instant, d: Datagram<'_>) {
        self.now = now;
        if let Ok(p) = RtpPacket::new_checked(d.payload)
            && p.ssrc() == MEDIA_SSRC
            && p.payload_type() == PT
            && !p.payload().is_empty()
        {
            // The frame's capture time from the RTP timestamp.
            let sent =
                self.start + Duration::from_micros(u64::from(p.timestamp()) * 1_000_000 / 90_000);
            self.arrivals.push((
                now - self.start,
                d.payload.len(),
                now.saturating_duration_since(sent),
            ));
        }
        self.session.handle_input(now, d.payload).unwrap();
        while self.session.poll_event().is_some() {}
    }
    fn handle_timeout(&mut self, now: Instant) {
        self.now = now;
        self.session.handle_timeout(now);
        while self.session.poll_event().is_some() {}
    }
    fn poll_transmit(&mut self, _: Instant) -> Option<Transmit> {
        let t = self.session.poll_transmit()?;
        for p in RtcpPackets::new(&t.payload) {
            if let Ok(RtcpPacket::Remb(r)) = p {
                assert_eq!(r.ssrcs().collect::<Vec<_>>(), [MEDIA_SSRC]);
                self.rembs.push((self.now - self.start, r.bitrate));
            }
        }
        Some(Transmit::udp(self.local, self.remote, t.payload))
    }
    fn poll_timeout(&self) -> Option<Instant> {
        self.session.poll_timeout()
    }
}

impl Receiver {
    /// Media bit/s received between `from` and `to`.
    fn rate(&self, from: Duration, to: Duration) -> f64 {
        let bytes: usize = self
            .arrivals
            .iter()
            .filter(|(t, _, _)| *t >= from && *t < to)
            .map(|(_, b, _)| *b)
            .sum();
        bytes as f64 * 8.0 / (to - from).as_secs_f64()
    }

    /// Mean one-way delay of media between `from` and `to`, less the base delay: the time a
    /// frame's packets spent queued (in the pacer or the bottleneck) and being serialized.
    fn mean_queueing(&self, from: Duration, to: Duration) -> Duration {
        let d: Vec<Duration> = self
            .arrivals
            .iter()
            .filter(|(t, _, _)| *t >= from && *t < to)
            .map(|(_, _, d)| d.saturating_sub(ONE_WAY))
            .collect();
        d.iter().sum::<Duration>() / d.len().max(1) as u32
    }
}

fn bottleneck(bps: u64) -> LinkParams {
    LinkParams {
        latency: ONE_WAY,
        rate_bps: Some(bps),
        queue_bytes: (bps as f64 / 8.0 * QUEUE.as_secs_f64()) as usize,
        ..LinkParams::default()
    }
}

struct Run {
    sim: Simulation,
    tx: rtcweb_netsim::HostId,
    rx: rtcweb_netsim::HostId,
}

/// A sender with congestion control and the receiver configured by `receiver`, on a
/// bottleneck of `capacity` towards the receiver.
fn run(
    seed: u64,
    capacity: u64,
    stop: Duration,
    sender: SessionConfig,
    receiver: SessionConfig,
) -> Run {
    let start = Instant::now();
    let mut net = Network::new(start, seed);
    let inet = net.internet();
    let tx = net.add_host("sender", inet, &["198.51.100.1".parse().unwrap()]);
    let rx = net.add_host("receiver", inet, &["198.51.100.2".parse().unwrap()]);
    // The bottleneck is the receiver's downlink; feedback returns unshaped.
    net.set_link_directions(
        Node::Host(rx),
        LinkParams::with_latency(ONE_WAY),
        bottleneck(capacity),
    );
    let (a, b): (SocketAddr, SocketAddr) = (
        "198.51.100.1:5000".parse().unwrap(),
        "198.51.100.2:5000".parse().unwrap(),
    );
    let mut sender = Session::new(sender, start, seed);
    sender
        .add_send_stream(SendStreamConfig {
            ssrc: MEDIA_SSRC,
            rtx_ssrc: Some(RTX_SSRC),
            codecs: codecs(),
            mid: Some("0".into()),
            rid: None,
        })
        .unwrap();
    let mut receiver = Session::new(receiver, start, seed + 100);
    receiver
        .add_receive_stream(ReceiveStreamConfig {
            ssrc: MEDIA_SSRC,
            rtx_ssrc: Some(RTX_SSRC),
            codecs: codecs(),
            nack: true,
            assemble_frames: true,
        })
        .unwrap();
    let mut sim = Simulation::new(net);
    sim.attach(
        tx,
        Sender {
            session: sender,
            local: a,
            remote: b,
            start,
            stop,
            next_frame: 0,
            target: 300_000.0,
            targets: Vec::new(),
            rembs: Vec::new(),
        },
    );
    sim.attach(
        rx,
        Receiver {
            session: receiver,
            local: b,
            remote: a,
            start,
            arrivals: Vec::new(),
            rembs: Vec::new(),
            now: start,
        },
    );
    Run { sim, tx, rx }
}

fn secs(s: f64) -> Duration {
    Duration::from_secs_f64(s)
}

const CAPACITY: u64 = 1_500_000;

/// Without transport-wide CC the sender learns the path only from the receiver's REMB: the
/// target climbs with it (the receive-side AIMD grows 8 % a second from the incoming rate,
/// as GCC does without probes) and then follows its sawtooth under the capacity.
#[test]
fn the_target_follows_the_remb_on_a_1_5_mbit_bottleneck() {
    for seed in [1, 2, 3] {
        let mut r = run(
            seed,
            CAPACITY,
            secs(60.0),
            config(true, false),
            config(false, false),
        );
        r.sim.run_for(secs(60.5));
        let s = r.sim.endpoint::<Sender>(r.tx);
        let rx = r.sim.endpoint::<Receiver>(r.rx);
        let (from, to) = (secs(30.0), secs(60.0));
        let c = CAPACITY as f64;
        let steady = s.targets_in(from, to);
        let mean = s.mean_target(from, to) / c;
        let lowest = steady.iter().map(|t| t.1).fold(f64::INFINITY, f64::min) / c;
        let highest = steady.iter().map(|t| t.1).fold(0.0, f64::max) / c;
        let by_remb = steady.iter().filter(|t| t.2 == Limit::Receiver).count();
        let reached = s
            .targets
            .iter()
            .find(|t| t.1 >= 0.8 * c)
            .map(|t| t.0.as_secs_f64());
        let util = rx.rate(from, to) / c;
        let queue = rx.mean_queueing(from, to);
        println!(
            "seed {seed}: {} REMBs sent, {} received; target 80 % of capacity at {reached:?} s; \
             30-60 s: target mean {:.1} % (lowest {:.1} %, highest {:.1} %), {by_remb}/{} \
             changes set by REMB, received {:.1} % of capacity, mean queueing {queue:?}, \
             paced drops {}",
            rx.rembs.len(),
            s.rembs.len(),
            mean * 100.0,
            lowest * 100.0,
            highest * 100.0,
            steady.len(),
            util * 100.0,
            s.session.stats().paced_dropped,
        );
        assert!(
            rx.rembs.len() >= 55,
            "seed {seed}: {} REMBs",
            rx.rembs.len()
        );
        // Every REMB sent arrived and was parsed, but those still in flight when the run
        // ends (sent in its last one-way delay).
        let landed = rx
            .rembs
            .iter()
            .filter(|t| t.0 + ONE_WAY <= secs(60.5))
            .count();
        assert_eq!(landed, s.rembs.len(), "seed {seed}: REMBs lost");
        // The target is the REMB (the receiver's delay-based estimate) in steady state...
        assert!(
            by_remb * 10 >= steady.len() * 9,
            "seed {seed}: {by_remb} of {}",
            steady.len()
        );
        // ...which, as the send-side AIMD, sits between 0.9 of the delivery rate after a
        // decrease and the capacity plus the additive overshoot the detector needs to see
        // a queue (a packet per RTT + 100 ms, a few % within a second).
        assert!((0.6..=1.0).contains(&mean), "seed {seed}: mean {mean}");
        assert!(
            lowest >= 0.6 && highest <= 1.1,
            "seed {seed}: {lowest} .. {highest}"
        );
        assert!(
            queue <= Duration::from_millis(60),
            "seed {seed}: queueing {queue:?}"
        );
    }
}

/// The receiver sends REMB only when the sender gets no transport-wide CC feedback, and
/// not when it is turned off.
#[test]
fn no_remb_with_transport_cc_or_when_turned_off() {
    let off = SessionConfig {
        generate_remb: false,
        ..config(false, false)
    };
    let cases = [
        (
            "no transport-wide CC",
            config(true, false),
            config(false, false),
            true,
        ),
        (
            "transport-wide CC",
            config(true, true),
            config(false, true),
            false,
        ),
        ("turned off", config(true, false), off, false),
    ];
    for (name, sender, receiver, want) in cases {
        let mut r = run(1, CAPACITY, secs(3.0), sender, receiver);
        r.sim.run_for(secs(3.0));
        let rx = r.sim.endpoint::<Receiver>(r.rx);
        println!("{name}: {} REMBs", rx.rembs.len());
        assert_eq!(!rx.rembs.is_empty(), want, "{name}");
        assert_eq!(rx.session.remote_estimate().is_some(), want, "{name}");
    }
}

/// With congestion control on, abs-send-time is the time a packet leaves the pacer, not the
/// time it was queued: a receiver estimating from it must not take the pacer's queue for
/// the path's.
#[test]
fn abs_send_time_is_stamped_when_the_pacer_releases() {
    let t0 = Instant::now();
    let mut s = Session::new(config(true, false), t0, 1);
    s.add_send_stream(SendStreamConfig {
        ssrc: MEDIA_SSRC,
        rtx_ssrc: Some(RTX_SSRC),
        codecs: codecs(),
        mid: Some("0".into()),
        rid: None,
    })
    .unwrap();
    // 30 kB at the start pacing rate (2.5 x 300 kbit/s) take about 320 ms to leave.
    s.write_frame(t0, MEDIA_SSRC, PT, 0, &frame(0, 30_000))
        .unwrap();
    let mut now = t0;
    let mut stamps = Vec::new();
    while now < t0 + secs(1.0) {
        while let Some(p) = s.poll_transmit() {
            let Ok(rtp) = RtpPacket::new_checked(&p.payload[..]) else {
                continue;
            };
            if rtp.ssrc() != MEDIA_SSRC {
                continue;
            }
            let ext = s.extensions_mut().read(&rtp);
            // 6.18 fixed point seconds (the session's NTP time starts at 0).
            let ast = f64::from(ext.abs_send_time.unwrap()) / f64::from(1u32 << 18);
            stamps.push(((now - t0).as_secs_f64(), ast));
        }
        let Some(t) = s.poll_timeout() else { break };
        now = t.max(now);
        s.handle_timeout(now);
    }
    let last = stamps.last().unwrap();
    println!(
        "{} packets, the last released at {:.3} s",
        stamps.len(),
        last.0
    );
    assert!(last.0 > 0.2, "the pacer held nothing back: {last:?}");
    for (released, ast) in stamps {
        assert!(
            (released - ast).abs() < 1e-5,
            "released {released}, stamped {ast}"
        );
    }
}
