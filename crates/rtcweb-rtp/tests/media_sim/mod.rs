//! A sender and a receiver session over rtcweb-netsim, for the loss resilience and playout
//! tests: Opus-like audio (20 ms frames) and VP8-like video (30 fps) captured on one clock,
//! every frame's capture time and every delivered frame's time recorded.

#![allow(dead_code, clippy::unwrap_used)] // each test file uses part of it

use std::collections::HashMap;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use rtcweb_netsim::{Datagram, LinkParams, Network, Node, SansIo, Simulation, Transmit};
use rtcweb_rtp::codec::Codec;
use rtcweb_rtp::frame::Frame;
use rtcweb_rtp::rtp::{ExtensionKind, ExtensionMap, RtpPacket};
use rtcweb_rtp::session::{
    CodecConfig, Event, ReceiveStreamConfig, SendStreamConfig, Session, SessionConfig,
};

pub const AUDIO_SSRC: u32 = 0xa0d1_0001;
pub const VIDEO_SSRC: u32 = 0x1de0_0001;
pub const VIDEO_RTX_SSRC: u32 = 0x1de0_0002;
pub const FLEXFEC_SSRC: u32 = 0x1de0_0003;
pub const OPUS: u8 = 111;
pub const AUDIO_RED: u8 = 63;
pub const VP8: u8 = 96;
pub const VP8_RTX: u8 = 97;
pub const VIDEO_RED: u8 = 118;
pub const VIDEO_RED_RTX: u8 = 119;
pub const ULPFEC: u8 = 120;
pub const FLEXFEC: u8 = 35;
pub const FPS: u64 = 30;

pub fn extensions() -> ExtensionMap {
    let mut e = ExtensionMap::new();
    e.insert(3, ExtensionKind::TransportWideCc).unwrap();
    e.insert(4, ExtensionKind::Mid).unwrap();
    e
}

pub fn session_config() -> SessionConfig {
    SessionConfig {
        extensions: extensions(),
        ..SessionConfig::default()
    }
}

pub fn audio_codecs() -> Vec<CodecConfig> {
    vec![CodecConfig {
        payload_type: OPUS,
        codec: Codec::Opus,
        rtx_payload_type: None,
    }]
}

pub fn video_codecs(rtx: bool) -> Vec<CodecConfig> {
    vec![CodecConfig {
        payload_type: VP8,
        codec: Codec::Vp8,
        rtx_payload_type: rtx.then_some(VP8_RTX),
    }]
}

/// An Opus-like payload of frame `n` (content unique to the frame).
pub fn audio_frame(n: u64) -> Vec<u8> {
    let len = 60 + (n as usize * 13) % 80;
    (0..len).map(|i| (n as usize * 7 + i) as u8).collect()
}

/// A VP8 frame: a key frame every 3 s (or when asked), inter frames otherwise.
pub fn video_frame(n: u64, force_key: bool) -> Vec<u8> {
    let key = force_key || n.is_multiple_of(3 * FPS);
    let len = if key {
        12_000
    } else {
        3_000 + (n as usize * 37) % 1500
    };
    let mut f: Vec<u8> = (0..len)
        .map(|i| ((i as u64 * 31 + n) % 250 + 1) as u8)
        .collect();
    if key {
        f[..10].copy_from_slice(&[0x50, 0x2d, 0x00, 0x9d, 0x01, 0x2a, 0x80, 0x02, 0xe0, 0x01]);
    } else {
        f[0] = 0x51;
    }
    f
}

/// What the sender sends.
#[derive(Clone, Copy)]
pub struct Media {
    pub audio: bool,
    pub video: bool,
    pub duration: Duration,
}

pub struct Tx {
    pub session: Session,
    pub local: SocketAddr,
    pub remote: SocketAddr,
    pub start: Instant,
    pub media: Media,
    next_audio: u64,
    next_video: u64,
    force_key: bool,
    pub keyframe_requests: usize,
    /// Capture time of every frame by (ssrc, timestamp), and its content.
    pub sent: HashMap<(u32, u32), (Instant, Vec<u8>)>,
    /// Video media packets (not FEC) by sequence number: first transmission.
    pub packets: HashMap<u16, Instant>,
    /// Video FEC packets sent (ULPFEC in RED, or FlexFEC).
    pub fec_packets: usize,
    /// Audio packets by sequence number: when sent.
    pub audio_packets: HashMap<u16, Instant>,
}

impl Tx {
    fn audio_due(&self) -> Option<Instant> {
        let t = self.start + Duration::from_millis(20 * self.next_audio);
        (self.media.audio && t < self.start + self.media.duration).then_some(t)
    }
    fn video_due(&self) -> Option<Instant> {
        let t = self.start + Duration::from_micros(self.next_video * 1_000_000 / FPS);
        (self.media.video && t < self.start + self.media.duration).then_some(t)
    }
}

impl SansIo for Tx {
    type Input<'a> = Datagram<'a>;
    type Transmit = Transmit;
    type Event = ();
    fn poll_event(&mut self) -> Option<()> {
        None
    }
    fn handle_input(&mut self, now: Instant, d: Datagram<'_>) {
        let _ = self.session.handle_input(now, d.payload);
        while let Some(e) = self.session.poll_event() {
            if let Event::KeyframeRequested { .. } = e {
                self.force_key = true;
                self.keyframe_requests += 1;
            }
        }
    }
    fn handle_timeout(&mut self, now: Instant) {
        if self.audio_due().is_some_and(|t| t <= now) {
            let f = audio_frame(self.next_audio);
            let ts = (self.next_audio * 960) as u32;
            self.session
                .write_frame(now, AUDIO_SSRC, OPUS, ts, &f)
                .unwrap();
            self.sent.insert((AUDIO_SSRC, ts), (now, f));
            self.next_audio += 1;
        }
        if self.video_due().is_some_and(|t| t <= now) {
            let f = video_frame(self.next_video, std::mem::take(&mut self.force_key));
            let ts = (self.next_video * 90_000 / FPS) as u32;
            self.session
                .write_frame(now, VIDEO_SSRC, VP8, ts, &f)
                .unwrap();
            self.sent.insert((VIDEO_SSRC, ts), (now, f));
            self.next_video += 1;
        }
        if self.session.poll_timeout().is_some_and(|t| t <= now) {
            self.session.handle_timeout(now);
        }
    }
    fn poll_transmit(&mut self, now: Instant) -> Option<Transmit> {
        let t = self.session.poll_transmit()?;
        if let Ok(p) = RtpPacket::new_checked(&t.payload[..]) {
            let ulpfec = p.payload_type() == VIDEO_RED && p.payload().first() == Some(&ULPFEC);
            if p.ssrc() == FLEXFEC_SSRC || (p.ssrc() == VIDEO_SSRC && ulpfec) {
                self.fec_packets += 1;
            } else if p.ssrc() == VIDEO_SSRC && !p.payload().is_empty() {
                self.packets.entry(p.sequence_number()).or_insert(now);
            } else if p.ssrc() == AUDIO_SSRC {
                self.audio_packets.entry(p.sequence_number()).or_insert(now);
            }
        }
        Some(Transmit::udp(self.local, self.remote, t.payload))
    }
    fn poll_timeout(&self) -> Option<Instant> {
        [
            self.session.poll_timeout(),
            self.audio_due(),
            self.video_due(),
        ]
        .into_iter()
        .flatten()
        .min()
    }
}

pub struct Rx {
    pub session: Session,
    pub local: SocketAddr,
    pub remote: SocketAddr,
    /// Every frame the session gave, with when.
    pub frames: Vec<(Instant, Frame)>,
    /// Video packets that arrived from the network, by sequence number.
    pub arrived: HashMap<u16, Instant>,
    /// Video packets that arrived on RTX, by original sequence number.
    pub rtx_arrived: HashMap<u16, Instant>,
    /// Audio packets by sequence number: when they arrived.
    pub audio_arrived: HashMap<u16, Instant>,
    /// Video datagrams wait this long before the session gets them (a slower path for
    /// video than for audio).
    pub video_hold: Duration,
    held: std::collections::VecDeque<(Instant, Vec<u8>)>,
}

impl SansIo for Rx {
    type Input<'a> = Datagram<'a>;
    type Transmit = Transmit;
    type Event = ();
    fn poll_event(&mut self) -> Option<()> {
        None
    }
    fn handle_input(&mut self, now: Instant, d: Datagram<'_>) {
        if let Ok(p) = RtpPacket::new_checked(d.payload) {
            if p.ssrc() == AUDIO_SSRC {
                self.audio_arrived.entry(p.sequence_number()).or_insert(now);
            } else if p.ssrc() == VIDEO_SSRC {
                self.arrived.entry(p.sequence_number()).or_insert(now);
            } else if p.ssrc() == VIDEO_RTX_SSRC && p.payload().len() >= 2 {
                let osn = u16::from_be_bytes([p.payload()[0], p.payload()[1]]);
                self.rtx_arrived.entry(osn).or_insert(now);
            }
        }
        let rtcp = d.payload.get(1).is_some_and(|b| (192..=223).contains(b));
        let video =
            !rtcp && RtpPacket::new_checked(d.payload).is_ok_and(|p| p.ssrc() != AUDIO_SSRC);
        if video && !self.video_hold.is_zero() {
            self.held
                .push_back((now + self.video_hold, d.payload.to_vec()));
            return;
        }
        let _ = self.session.handle_input(now, d.payload);
        self.drain(now);
    }
    fn handle_timeout(&mut self, now: Instant) {
        while self.held.front().is_some_and(|(t, _)| *t <= now) {
            if let Some((_, p)) = self.held.pop_front() {
                let _ = self.session.handle_input(now, &p);
            }
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
        [
            self.session.poll_timeout(),
            self.held.front().map(|(t, _)| *t),
        ]
        .into_iter()
        .flatten()
        .min()
    }
}

impl Rx {
    fn drain(&mut self, now: Instant) {
        while let Some(e) = self.session.poll_event() {
            if let Event::Frame(f) = e {
                self.frames.push((now, f));
            }
        }
    }

    /// Frames of `ssrc` as (when delivered, timestamp).
    pub fn delivered(&self, ssrc: u32) -> Vec<(Instant, &Frame)> {
        self.frames
            .iter()
            .filter(|(_, f)| f.ssrc == ssrc)
            .map(|(t, f)| (*t, f))
            .collect()
    }
}

/// The two ends and the network: `tx_link` is the sender's access link (both directions),
/// `rx_link` the receiver's.
pub struct Pair {
    pub sim: Simulation,
    pub a: rtcweb_netsim::HostId,
    pub b: rtcweb_netsim::HostId,
}

impl Pair {
    pub fn new(
        start: Instant,
        seed: u64,
        tx_link: LinkParams,
        rx_link: LinkParams,
        tx: Session,
        rx: Session,
        media: Media,
    ) -> Self {
        let mut net = Network::new(start, seed);
        let inet = net.internet();
        let a = net.add_host("sender", inet, &["198.51.100.1".parse().unwrap()]);
        let b = net.add_host("receiver", inet, &["198.51.100.2".parse().unwrap()]);
        net.set_link(Node::Host(a), tx_link);
        net.set_link(Node::Host(b), rx_link);
        let sa: SocketAddr = "198.51.100.1:5000".parse().unwrap();
        let sb: SocketAddr = "198.51.100.2:6000".parse().unwrap();
        let mut sim = Simulation::new(net);
        sim.attach(
            a,
            Tx {
                session: tx,
                local: sa,
                remote: sb,
                start,
                media,
                next_audio: 0,
                next_video: 0,
                force_key: false,
                keyframe_requests: 0,
                sent: HashMap::new(),
                packets: HashMap::new(),
                fec_packets: 0,
                audio_packets: HashMap::new(),
            },
        );
        sim.attach(
            b,
            Rx {
                session: rx,
                local: sb,
                remote: sa,
                frames: Vec::new(),
                arrived: HashMap::new(),
                rtx_arrived: HashMap::new(),
                audio_arrived: HashMap::new(),
                video_hold: Duration::ZERO,
                held: std::collections::VecDeque::new(),
            },
        );
        Self { sim, a, b }
    }

    pub fn tx(&self) -> &Tx {
        self.sim.endpoint::<Tx>(self.a)
    }

    pub fn rx(&self) -> &Rx {
        self.sim.endpoint::<Rx>(self.b)
    }

    pub fn rx_mut(&mut self) -> &mut Rx {
        self.sim.endpoint_mut::<Rx>(self.b)
    }
}

/// A sender session with the audio and/or video send streams.
pub fn sender(start: Instant, seed: u64, media: Media, rtx: bool) -> Session {
    sender_with(session_config(), start, seed, media, rtx)
}

/// A sender session on `config` with the send streams of `media`.
pub fn sender_with(
    config: SessionConfig,
    start: Instant,
    seed: u64,
    media: Media,
    rtx: bool,
) -> Session {
    let mut s = Session::new(config, start, seed);
    if media.audio {
        s.add_send_stream(SendStreamConfig {
            ssrc: AUDIO_SSRC,
            rtx_ssrc: None,
            codecs: audio_codecs(),
            mid: Some("0".into()),
            rid: None,
        })
        .unwrap();
    }
    if media.video {
        s.add_send_stream(SendStreamConfig {
            ssrc: VIDEO_SSRC,
            rtx_ssrc: rtx.then_some(VIDEO_RTX_SSRC),
            codecs: video_codecs(rtx),
            mid: Some("1".into()),
            rid: None,
        })
        .unwrap();
    }
    s
}

/// A receiver session with the matching receive streams.
pub fn receiver(start: Instant, seed: u64, media: Media, nack: bool) -> Session {
    let mut s = Session::new(session_config(), start, seed);
    if media.audio {
        s.add_receive_stream(ReceiveStreamConfig {
            ssrc: AUDIO_SSRC,
            rtx_ssrc: None,
            codecs: audio_codecs(),
            nack: false,
            assemble_frames: true,
        })
        .unwrap();
    }
    if media.video {
        s.add_receive_stream(ReceiveStreamConfig {
            ssrc: VIDEO_SSRC,
            rtx_ssrc: nack.then_some(VIDEO_RTX_SSRC),
            codecs: video_codecs(nack),
            nack,
            assemble_frames: true,
        })
        .unwrap();
    }
    s
}

/// A link with a one-way delay.
pub fn link(latency_ms: u64, jitter_ms: u64, loss: rtcweb_netsim::Loss) -> LinkParams {
    LinkParams {
        latency: Duration::from_millis(latency_ms),
        jitter: Duration::from_millis(jitter_ms),
        loss,
        ..LinkParams::default()
    }
}
