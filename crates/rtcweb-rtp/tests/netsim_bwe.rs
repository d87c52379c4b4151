//! The RTP session's congestion control end to end: real RTP and RTCP (transport-wide CC
//! feedback written and parsed by the sessions), a pacer in the send path and an encoder
//! that follows the estimate, over a bottleneck of rtcweb-netsim (drop-tail queue of
//! 300 ms, 50 ms base round trip).
//!
//! rtcweb-bwe's own scenarios prove the estimator on plain records; this proves the wiring:
//! sequence numbers written when the pacer releases a packet, feedback matched with them,
//! loss reports and RTT taken, padding made of RTX resends, and the target handed to the
//! application.

#![allow(clippy::unwrap_used)] // test helpers unwrap what the test itself set up

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use rtcweb_netsim::{Datagram, LinkParams, Network, Node, SansIo, Simulation, Transmit};
use rtcweb_rtp::codec::Codec;
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

fn codecs(rtx: bool) -> Vec<CodecConfig> {
    vec![CodecConfig {
        payload_type: PT,
        codec: Codec::Vp8,
        rtx_payload_type: rtx.then_some(RTX_PT),
    }]
}

fn config(congestion: bool) -> SessionConfig {
    let mut extensions = ExtensionMap::new();
    extensions
        .insert(3, ExtensionKind::TransportWideCc)
        .unwrap();
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
    /// (time, target) at every change.
    targets: Vec<(Duration, f64)>,
    padding_packets: usize,
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
        if let Ok(p) = RtpPacket::new_checked(&t.payload[..])
            && p.padding()
        {
            self.padding_packets += 1;
        }
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
            if let Event::TargetBitrate(r) = e {
                self.target = r.target.as_f64();
                self.targets.push((now - self.start, self.target));
            }
        }
    }

    /// The target at `t` (the last one set before it).
    fn target_at(&self, t: Duration) -> f64 {
        self.targets
            .iter()
            .take_while(|(at, _)| *at <= t)
            .last()
            .map_or(0.0, |(_, r)| *r)
    }
}

/// Receives, reports and records each media packet's arrival and one-way delay.
struct Receiver {
    session: Session,
    local: SocketAddr,
    remote: SocketAddr,
    start: Instant,
    /// (arrival since start, bytes, one-way delay) of each media packet.
    arrivals: Vec<(Duration, usize, Duration)>,
    /// When each media packet was written, by sequence number, shared with the test.
    frames: usize,
}

impl SansIo for Receiver {
    type Input<'a> = Datagram<'a>;
    type Transmit = Transmit;
    type Event = ();
    fn poll_event(&mut self) -> Option<()> {
        None
    }
    fn handle_input(&mut self, now: Instant, d: Datagram<'_>) {
        if let Ok(p) = RtpPacket::new_checked(d.payload)
            && p.ssrc() == MEDIA_SSRC
            && p.payload_type() == PT
            && !p.payload().is_empty()
        {
            // The payload's first bytes are the frame counter's pattern: recover the frame's
            // capture time from the RTP timestamp instead.
            let sent =
                self.start + Duration::from_micros(u64::from(p.timestamp()) * 1_000_000 / 90_000);
            self.arrivals.push((
                now - self.start,
                d.payload.len(),
                now.saturating_duration_since(sent),
            ));
        }
        self.session.handle_input(now, d.payload).unwrap();
        while let Some(e) = self.session.poll_event() {
            if let Event::Frame(_) = e {
                self.frames += 1;
            }
        }
    }
    fn handle_timeout(&mut self, now: Instant) {
        self.session.handle_timeout(now);
        while self.session.poll_event().is_some() {}
    }
    fn poll_transmit(&mut self, _: Instant) -> Option<Transmit> {
        let t = self.session.poll_transmit()?;
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
    start: Instant,
}

fn run(seed: u64, capacity: u64, stop: Duration) -> Run {
    run_with(seed, capacity, stop, true)
}

/// As [`run`]; `rtx`: whether the stream has an RTX stream (padding goes there, or else
/// on the media stream itself).
fn run_with(seed: u64, capacity: u64, stop: Duration, rtx: bool) -> Run {
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
    let mut sender = Session::new(config(true), start, seed);
    sender
        .add_send_stream(SendStreamConfig {
            ssrc: MEDIA_SSRC,
            rtx_ssrc: rtx.then_some(RTX_SSRC),
            codecs: codecs(rtx),
            mid: Some("0".into()),
            rid: None,
        })
        .unwrap();
    let mut receiver = Session::new(config(false), start, seed + 100);
    receiver
        .add_receive_stream(ReceiveStreamConfig {
            ssrc: MEDIA_SSRC,
            rtx_ssrc: rtx.then_some(RTX_SSRC),
            codecs: codecs(rtx),
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
            padding_packets: 0,
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
            frames: 0,
        },
    );
    Run { sim, tx, rx, start }
}

fn secs(s: f64) -> Duration {
    Duration::from_secs_f64(s)
}

/// The estimate climbs to the bottleneck within seconds and the media fills it with little
/// queueing; the encoder is given the target through `Event::TargetBitrate`.
#[test]
fn the_send_rate_follows_a_2_5_mbit_bottleneck() {
    for seed in [1, 2, 3] {
        let mut r = run(seed, 2_500_000, secs(20.0));
        r.sim.run_for(secs(20.5));
        let s = r.sim.endpoint::<Sender>(r.tx);
        let rx = r.sim.endpoint::<Receiver>(r.rx);
        let target_2s = s.target_at(secs(2.0));
        let util = rx.rate(secs(10.0), secs(20.0)) / 2_500_000.0;
        let queue = rx.mean_queueing(secs(10.0), secs(20.0));
        println!(
            "seed {seed}: target at 2 s {:.0} kbit/s, received 10-20 s {:.1} % of 2.5 Mbit/s, \
             mean queueing {queue:?}, {} frames, {} padding packets, paced drops {}",
            target_2s / 1e3,
            util * 100.0,
            rx.frames,
            s.padding_packets,
            s.session.stats().paced_dropped,
        );
        assert!(
            target_2s >= 0.8 * 2_500_000.0,
            "seed {seed}: target at 2 s {target_2s}"
        );
        assert!(util >= 0.85, "seed {seed}: utilisation {util}");
        assert!(
            queue <= Duration::from_millis(60),
            "seed {seed}: queueing {queue:?}"
        );
        // Every frame was sent whole: the receiver assembled nearly all of them.
        assert!(rx.frames >= 590, "seed {seed}: {} frames", rx.frames);
        let _ = r.start;
    }
}

/// When the bottleneck narrows, the target follows it down within a second and the queue
/// it built drains; when it widens, the target climbs again.
#[test]
fn the_target_follows_capacity_steps() {
    let mut r = run(7, 2_500_000, secs(30.0));
    r.sim.run_for(secs(10.0));
    let rx_host = r.rx;
    let step = |sim: &mut Simulation, bps: u64| {
        sim.net_mut().set_link_directions(
            Node::Host(rx_host),
            LinkParams::with_latency(ONE_WAY),
            bottleneck(bps),
        );
    };
    step(&mut r.sim, 800_000);
    r.sim.run_for(secs(10.0));
    step(&mut r.sim, 2_500_000);
    r.sim.run_for(secs(10.5));
    let s = r.sim.endpoint::<Sender>(r.tx);
    let rx = r.sim.endpoint::<Receiver>(r.rx);
    let down_queue = rx.mean_queueing(secs(11.0), secs(20.0));
    let low_target = s.target_at(secs(12.0));
    let high_target = s.target_at(secs(24.0));
    println!(
        "step: target 1 s after 2.5 -> 0.8 {:.0} kbit/s, queueing 11-20 s {down_queue:?}, \
         target 4 s after 0.8 -> 2.5 {:.0} kbit/s",
        low_target / 1e3,
        high_target / 1e3
    );
    assert!(low_target <= 800_000.0, "target stayed at {low_target}");
    assert!(down_queue <= Duration::from_millis(100), "{down_queue:?}");
    assert!(
        high_target >= 0.8 * 2_500_000.0,
        "target only {high_target}"
    );
}

/// Without RTX the probes pad on the media stream itself (padding-only packets, RFC 3550
/// 5.1): they take sequence numbers but are no frame's part, and the receiver's frames
/// stay whole and on time around them.
#[test]
fn without_rtx_padding_rides_the_media_stream_and_frames_stay_whole() {
    let mut r = run_with(4, 2_500_000, secs(10.0), false);
    r.sim.run_for(secs(10.5));
    let s = r.sim.endpoint::<Sender>(r.tx);
    let rx = r.sim.endpoint::<Receiver>(r.rx);
    let target_2s = s.target_at(secs(2.0));
    println!(
        "no RTX: {} padding packets on the media stream, {} frames, target at 2 s {:.0} kbit/s",
        s.padding_packets,
        rx.frames,
        target_2s / 1e3
    );
    assert!(s.padding_packets > 0, "the probes sent no padding");
    assert!(rx.frames >= 295, "{} frames of 300", rx.frames);
    assert!(target_2s >= 0.8 * 2_500_000.0, "target at 2 s {target_2s}");
}
