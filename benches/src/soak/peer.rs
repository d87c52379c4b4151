//! One PeerConnection of the soak and its application: it opens a channel of every
//! reliability mode and a video stream, sends numbered messages and frames while active,
//! checks everything it receives, and restarts ICE when the connection fails (the
//! offerer; the answerer asks it to). Signaling goes through an in-memory mailbox with a
//! delay.

use std::cell::RefCell;
use std::collections::{BTreeMap, VecDeque};
use std::net::SocketAddr;
use std::rc::Rc;
use std::time::{Duration, Instant};

use rtcweb::{
    CandidateKind, DataChannelEvent, DataChannelId, Direction, Event, IceCandidateInit, MediaKind,
    PeerConnection, PeerConnectionState, RtcConfiguration, SdpType, SignalingMessage,
    TransceiverId,
};
use rtcweb_netsim::{Datagram, SansIo, Transmit};

use super::check::{FrameReceiver, Mode, Receiver, frame};

/// What one side tells the other out of band.
#[derive(Debug, Clone)]
pub enum Signal {
    /// A description or candidate.
    Sdp(SignalingMessage),
    /// The answerer's connection failed: the offerer should restart ICE.
    RestartRequest,
}

/// One direction of a pair's signaling channel: messages with the time they arrive.
pub type Mailbox = Rc<RefCell<VecDeque<(Instant, Signal)>>>;

/// How often the application wakes: a video frame per tick, messages every other tick.
pub const TICK: Duration = Duration::from_millis(100);
/// Signaling latency one way.
const SIGNALING_DELAY: Duration = Duration::from_millis(60);
/// A channel whose unsent bytes exceed this gets no new message until they drain (what an
/// application watching `bufferedAmount` does).
const MAX_BUFFERED: usize = 256 * 1024;
/// Fewest seconds between two ICE restarts (or requests for one).
pub const RESTART_SPACING: Duration = Duration::from_secs(10);
/// How long `disconnected` may last before the application restarts ICE.
pub const DISCONNECTED_PATIENCE: Duration = Duration::from_secs(10);
/// Video: frames per second and key frame interval.
const FPS: u32 = 10;
const KEY_INTERVAL: u32 = 5 * FPS;
/// The payload type of VP8 in the session's codec list.
pub const VP8: u8 = 96;

/// Per-mode numbers of one side.
#[derive(Debug, Clone, Default)]
pub struct ChannelSide {
    /// Our handle, once created or announced.
    pub id: Option<DataChannelId>,
    /// Open (the `open` or `datachannel` event came).
    pub open: bool,
    /// Closed after it was open.
    pub closed: bool,
    /// Messages sent (accepted by `send_binary`).
    pub sent: u64,
}

/// The PeerConnection and its application.
pub struct SoakPeer {
    /// The connection.
    pub pc: PeerConnection,
    /// Pair number.
    pub pair: u32,
    /// 0: the offerer (creates channels, restarts ICE), 1: the answerer.
    pub side: u8,
    outbox: Mailbox,
    inbox: Mailbox,
    /// The application sends (messages and frames).
    pub active: bool,
    next_tick: Instant,
    tick: u64,
    /// Our end of each mode's channel.
    pub channels: [ChannelSide; 6],
    /// What arrived on each mode's channel from the other side.
    pub receivers: [Receiver; 6],
    by_id: BTreeMap<DataChannelId, Mode>,
    video: Option<TransceiverId>,
    frame_n: u32,
    key_due: bool,
    target_bps: Option<u64>,
    /// Frames accepted by `write_frame`.
    pub frames_sent: u64,
    /// Frames received and checked.
    pub frames: FrameReceiver,
    /// The last time a message or a frame arrived.
    pub last_progress: Instant,
    /// `connectionState` and since when.
    pub state: PeerConnectionState,
    /// When `state` last changed.
    pub state_since: Instant,
    /// Times the state became `failed`.
    pub failures: u64,
    /// The selected candidate pair runs through a TURN relay (either end's candidate).
    pub relayed: bool,
    /// ICE restarts done (offerer) or asked for (answerer).
    pub restarts: u64,
    last_restart: Option<Instant>,
    /// Calls to `PeerConnection::handle_timeout` (the connection's own timers).
    pub wakeups: u64,
    /// Datagrams fed in.
    pub inputs: u64,
    /// API calls that failed, by message (bounded by the number of distinct errors).
    pub api_errors: BTreeMap<String, u64>,
    /// Print this connection's state changes, restarts and selected pairs to stderr.
    pub trace: Option<Instant>,
    /// Live heap bytes of the process (a counting allocator), to charge this connection
    /// with what its calls allocate and free.
    pub heap: Option<fn() -> i64>,
    /// Heap bytes this connection (and its application's bookkeeping) holds: the net of
    /// every call into it, less the datagrams it handed out (the network owns those).
    pub owned: i64,
}

impl SoakPeer {
    /// Side `side` of pair `pair`, with one local address, signaling through the two
    /// mailboxes.
    pub fn new(
        config: RtcConfiguration,
        local: SocketAddr,
        pair: u32,
        side: u8,
        outbox: Mailbox,
        inbox: Mailbox,
        now: Instant,
    ) -> Self {
        let mut pc = PeerConnection::new(config).expect("the soak's configuration is valid");
        pc.add_local_address(now, local);
        Self {
            pc,
            pair,
            side,
            outbox,
            inbox,
            active: true,
            next_tick: now,
            tick: 0,
            channels: Default::default(),
            receivers: Mode::ALL.map(Receiver::new),
            by_id: BTreeMap::new(),
            video: None,
            frame_n: 0,
            key_due: true,
            target_bps: None,
            frames_sent: 0,
            frames: FrameReceiver::default(),
            last_progress: now,
            state: PeerConnectionState::New,
            state_since: now,
            failures: 0,
            relayed: false,
            restarts: 0,
            last_restart: None,
            wakeups: 0,
            inputs: 0,
            api_errors: BTreeMap::new(),
            trace: None,
            heap: None,
            owned: 0,
        }
    }

    /// The offerer: a channel per mode and a video transceiver, and the first offer.
    pub fn start_offer(&mut self, now: Instant) {
        for mode in Mode::ALL {
            match self.pc.create_data_channel(now, mode.label(), &mode.init()) {
                Ok(id) => {
                    self.channels[mode.index()].id = Some(id);
                    self.by_id.insert(id, mode);
                }
                Err(e) => self.api_error("create_data_channel", &e),
            }
        }
        self.video = Some(
            self.pc
                .add_transceiver(MediaKind::Video, Direction::SendRecv),
        );
        match self.pc.create_offer() {
            Ok(offer) => self.send_local(now, offer),
            Err(e) => self.api_error("create_offer", &e),
        }
        self.drain(now);
    }

    fn send_local(&mut self, now: Instant, description: rtcweb::SessionDescription) {
        if let Err(e) = self.pc.set_local_description(now, &description) {
            self.api_error("set_local_description", &e);
            return;
        }
        self.post(now, Signal::Sdp(SignalingMessage::Description(description)));
    }

    fn post(&mut self, now: Instant, s: Signal) {
        self.outbox
            .borrow_mut()
            .push_back((now + SIGNALING_DELAY, s));
    }

    fn log(&self, now: Instant, what: std::fmt::Arguments<'_>) {
        if let Some(start) = self.trace {
            eprintln!(
                "[{:>9.3}] pair {} side {}: {what}",
                (now - start).as_secs_f64(),
                self.pair,
                self.side
            );
        }
    }

    fn api_error(&mut self, call: &str, e: &rtcweb::Error) {
        *self.api_errors.entry(format!("{call}: {e}")).or_default() += 1;
    }

    /// Applies the signaling messages that have arrived.
    fn apply_inbox(&mut self, now: Instant) {
        loop {
            let next = {
                let mut inbox = self.inbox.borrow_mut();
                if inbox.front().is_none_or(|(at, _)| *at > now) {
                    break;
                }
                inbox.pop_front()
            };
            let Some((_, signal)) = next else { break };
            match signal {
                Signal::Sdp(SignalingMessage::Description(d)) => {
                    if let Err(e) = self.pc.set_remote_description(now, &d) {
                        self.api_error("set_remote_description", &e);
                        continue;
                    }
                    if d.sdp_type == SdpType::Offer {
                        self.answer(now);
                    }
                }
                Signal::Sdp(SignalingMessage::Candidate(c)) => {
                    self.log(now, format_args!("remote {}", c.candidate));
                    if let Err(e) = self.pc.add_ice_candidate(now, &c) {
                        self.api_error("add_ice_candidate", &e);
                    }
                }
                Signal::Sdp(SignalingMessage::EndOfCandidates) => {
                    let end = IceCandidateInit {
                        candidate: String::new(),
                        sdp_mid: None,
                        sdp_m_line_index: None,
                        username_fragment: None,
                    };
                    if let Err(e) = self.pc.add_ice_candidate(now, &end) {
                        self.api_error("end of candidates", &e);
                    }
                }
                Signal::Sdp(SignalingMessage::Bye) => {}
                Signal::RestartRequest => self.restart_ice(now, true),
            }
        }
    }

    /// The answerer: send video back on the transceiver the offer made, and answer.
    fn answer(&mut self, now: Instant) {
        if self.video.is_none() {
            let video = self
                .pc
                .transceivers()
                .iter()
                .find(|t| t.kind == MediaKind::Video)
                .map(|t| t.id);
            if let Some(id) = video {
                if let Err(e) = self.pc.set_direction(id, Direction::SendRecv) {
                    self.api_error("set_direction", &e);
                }
                self.video = Some(id);
            }
        }
        match self.pc.create_answer() {
            Ok(answer) => self.send_local(now, answer),
            Err(e) => self.api_error("create_answer", &e),
        }
    }

    /// Restarts ICE (offerer) or asks the offerer to (answerer), at most once per
    /// [`RESTART_SPACING`]; `asked`: the answerer asked.
    fn restart_ice(&mut self, now: Instant, asked: bool) {
        if self
            .last_restart
            .is_some_and(|t| now < t + RESTART_SPACING && !asked)
        {
            return;
        }
        self.log(
            now,
            format_args!("restart ICE (asked: {asked}) in {:?}", self.state),
        );
        if self.side == 1 {
            self.last_restart = Some(now);
            self.restarts += 1;
            self.post(now, Signal::RestartRequest);
            return;
        }
        if self.pc.signaling_state() != rtcweb::SignalingState::Stable {
            // An offer is out; its answer comes first.
            return;
        }
        self.last_restart = Some(now);
        self.restarts += 1;
        match self.pc.create_offer_with_ice_restart() {
            Ok(offer) => self.send_local(now, offer),
            Err(e) => self.api_error("create_offer_with_ice_restart", &e),
        }
    }

    /// What the application does every tick: restart a failed connection, send.
    fn on_tick(&mut self, now: Instant) {
        self.tick += 1;
        let stuck = self.state == PeerConnectionState::Failed
            || (self.state == PeerConnectionState::Disconnected
                && now >= self.state_since + DISCONNECTED_PATIENCE);
        if stuck {
            self.restart_ice(now, false);
        }
        if !self.active || self.state != PeerConnectionState::Connected {
            return;
        }
        self.send_frame(now);
        if self.tick.is_multiple_of(2) {
            for mode in Mode::ALL {
                self.send_message(now, mode);
            }
        }
    }

    fn send_message(&mut self, now: Instant, mode: Mode) {
        let ch = &self.channels[mode.index()];
        let Some(id) = ch.id.filter(|_| ch.open && !ch.closed) else {
            return;
        };
        if self.pc.buffered_amount(id) > MAX_BUFFERED {
            return;
        }
        let seq = ch.sent;
        let msg = super::check::message(self.pair, self.side, mode, seq);
        match self.pc.send_binary(now, id, &msg) {
            Ok(()) => self.channels[mode.index()].sent += 1,
            Err(e) => self.api_error("send_binary", &e),
        }
    }

    fn send_frame(&mut self, now: Instant) {
        let Some(video) = self.video else { return };
        let n = self.frame_n;
        let key = self.key_due || n.is_multiple_of(KEY_INTERVAL);
        let nominal = if key {
            5000
        } else {
            600 + (n as usize * 53) % 1200
        };
        // An encoder follows the target: 80 % of a frame's share, at least 300 bytes.
        let budget = self
            .target_bps
            .map_or(usize::MAX, |bps| (bps as usize / 8 / FPS as usize) * 4 / 5);
        let len = nominal.min(budget).max(300);
        let ts = 90_000 / FPS * n;
        let data = frame(self.pair, self.side, ts, len, key);
        match self.pc.write_frame(now, video, VP8, ts, &data) {
            Ok(()) => {
                self.frames_sent += 1;
                self.frame_n += 1;
                if key {
                    self.key_due = false;
                }
            }
            Err(e) => self.api_error("write_frame", &e),
        }
    }

    /// Takes every event the connection raised.
    fn drain(&mut self, now: Instant) {
        while let Some(e) = self.pc.poll_event() {
            match e {
                Event::IceCandidate(Some(c)) => {
                    self.log(now, format_args!("gathered {}", c.candidate));
                    self.post(now, Signal::Sdp(SignalingMessage::Candidate(c)))
                }
                Event::IceCandidate(None) => {
                    self.log(now, format_args!("gathering done"));
                    self.post(now, Signal::Sdp(SignalingMessage::EndOfCandidates))
                }
                Event::ConnectionState(s) => {
                    self.log(now, format_args!("connection {s:?}"));
                    self.state = s;
                    self.state_since = now;
                    if s == PeerConnectionState::Failed {
                        self.failures += 1;
                    }
                }
                Event::DataChannel(dc) => self.on_channel(now, dc),
                Event::Frame { frame, .. } => {
                    self.frames.take(self.pair, 1 - self.side, &frame);
                    self.last_progress = now;
                }
                Event::KeyframeRequest { .. } => self.key_due = true,
                Event::IceConnectionState(s) => self.log(now, format_args!("ICE {s:?}")),
                Event::SelectedCandidatePair { local, remote } => {
                    self.relayed = [&local, &remote]
                        .iter()
                        .any(|c| c.kind == CandidateKind::Relayed);
                    self.log(now, format_args!("selected {local} -> {remote}"))
                }
                Event::TargetBitrate(t) => self.target_bps = Some(t.target.bps()),
                _ => {}
            }
        }
    }

    fn on_channel(&mut self, now: Instant, e: DataChannelEvent) {
        match e {
            DataChannelEvent::Open { id } => {
                if let Some(mode) = self.by_id.get(&id) {
                    self.channels[mode.index()].open = true;
                }
            }
            DataChannelEvent::Incoming { id, label, .. } => {
                if let Some(mode) = Mode::from_label(&label) {
                    self.by_id.insert(id, mode);
                    let ch = &mut self.channels[mode.index()];
                    ch.id = Some(id);
                    ch.open = true;
                }
            }
            DataChannelEvent::Message { id, data, .. } => {
                if let Some(mode) = self.by_id.get(&id) {
                    self.receivers[mode.index()].take(&data, self.pair, 1 - self.side);
                    self.last_progress = now;
                }
            }
            DataChannelEvent::Closed { id } => {
                if let Some(mode) = self.by_id.get(&id) {
                    self.channels[mode.index()].closed = true;
                }
            }
            _ => {}
        }
    }
}

impl SoakPeer {
    /// Runs `f`, charging this connection with the heap it leaves allocated.
    fn charged<R>(&mut self, f: impl FnOnce(&mut Self) -> R) -> R {
        let Some(heap) = self.heap else {
            return f(self);
        };
        let before = heap();
        let r = f(self);
        self.owned += heap() - before;
        r
    }
}

impl SansIo for SoakPeer {
    type Input<'a> = Datagram<'a>;
    type Transmit = Transmit;
    type Event = ();
    fn poll_event(&mut self) -> Option<()> {
        None
    }
    fn handle_input(&mut self, now: Instant, d: Datagram<'_>) {
        self.charged(|p| {
            p.inputs += 1;
            p.pc.handle_input(now, d);
            p.drain(now);
        });
    }
    fn handle_timeout(&mut self, now: Instant) {
        self.charged(|p| {
            p.apply_inbox(now);
            if p.pc.poll_timeout().is_some_and(|t| t <= now) {
                p.wakeups += 1;
                p.pc.handle_timeout(now);
            }
            p.drain(now);
            if now >= p.next_tick {
                p.next_tick = now + TICK;
                p.on_tick(now);
                p.drain(now);
            }
        });
    }
    fn poll_transmit(&mut self, now: Instant) -> Option<Transmit> {
        let t = self.charged(|p| {
            let t = p.pc.poll_transmit();
            // Sending can raise events (a flushed channel's state), taken now.
            p.drain(now);
            t
        });
        // The datagram leaves: the network holds it now.
        if let Some(t) = &t {
            self.owned -= t.payload.capacity() as i64;
        }
        t
    }
    // The inbox is shared with the other side, which fills it: the simulation reads this
    // deadline again only when this side is called, so a message posted meanwhile is taken
    // at this side's next wake-up at the latest (its tick, at most `TICK` later).
    fn poll_timeout(&self) -> Option<Instant> {
        let inbox = self.inbox.borrow().front().map(|(at, _)| *at);
        [self.pc.poll_timeout(), Some(self.next_tick), inbox]
            .into_iter()
            .flatten()
            .min()
    }
}
