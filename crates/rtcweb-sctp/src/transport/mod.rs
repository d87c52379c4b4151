//! [`SctpTransport`]: the data channels of one association, sans-IO.

mod inbound;
mod outbound;

use std::collections::VecDeque;
use std::time::Instant;

use bytes::Bytes;
use rtcweb_core::SansIo;

use crate::dcep::DcepMessage;
use crate::engine::dcsctp::Dcsctp;
use crate::engine::{Engine, EngineEvent, EngineState, SHUTDOWN_GRACE, StreamPolicy};
use crate::ppid;
use crate::{
    ChannelId, ChannelInfo, ChannelOptions, ChannelState, ChannelStats, CloseReason, Error, Event,
    Role, SctpConfig, TransportState, TransportStats,
};

struct Channel {
    info: ChannelInfo,
    stats: ChannelStats,
    /// Bytes given to `send` and not yet acknowledged or abandoned.
    unacked: usize,
    /// Of `unacked`, how much has been transmitted at least once.
    on_wire: usize,
    /// DCEP bytes in the engine, not yet acknowledged.
    control: usize,
    low_threshold: usize,
    /// In-band, opened by us, DATA_CHANNEL_ACK not yet received: user messages go ordered
    /// (RFC 8832 section 6).
    awaiting_ack: bool,
    /// Messages of an unordered channel sent before the ACK, with their send time. They are
    /// held rather than sent ordered, because an ordered message cannot be abandoned before
    /// its first transmission and would outlive its maxPacketLifeTime behind a full window.
    held: VecDeque<(Instant, u32, Bytes)>,
}

impl Channel {
    /// A channel with nothing sent yet.
    fn new(info: ChannelInfo) -> Self {
        Channel {
            info,
            stats: ChannelStats::default(),
            unacked: 0,
            on_wire: 0,
            control: 0,
            low_threshold: 0,
            awaiting_ack: false,
            held: VecDeque::new(),
        }
    }

    /// W3C `bufferedAmount`: sent by the application, not yet transmitted.
    fn untransmitted(&self) -> usize {
        self.unacked.saturating_sub(self.on_wire)
    }

    fn policy(&self) -> StreamPolicy {
        StreamPolicy {
            unordered: !self.info.ordered && !self.awaiting_ack,
            reliability: self.info.reliability,
            priority: self.info.priority.to_dcep(),
        }
    }
}

/// The data channels of one SCTP association over one DTLS connection (RFC 8831), sans-IO.
///
/// Feed it the SCTP packets that DTLS delivered ([`handle_input`](Self::handle_input)), hand
/// what [`poll_transmit`](Self::poll_transmit) returns to DTLS, call
/// [`handle_timeout`](Self::handle_timeout) at [`poll_timeout`](Self::poll_timeout), and
/// after any of these (and after API calls) drain [`poll_event`](Self::poll_event) and
/// `poll_transmit`.
///
/// ```
/// use std::time::Instant;
/// use rtcweb_sctp::{ChannelOptions, Event, Role, SctpConfig, SctpTransport};
///
/// let now = Instant::now();
/// let mut a = SctpTransport::new(SctpConfig::default(), Role::Client)?;
/// let mut b = SctpTransport::new(SctpConfig::default(), Role::Server)?;
/// let chat = a.create_channel(now, ChannelOptions::new("chat"))?;
/// a.start(now)?;
/// b.start(now)?;
/// // Shuttle packets (a real program puts them into DTLS records).
/// let mut got = None;
/// for _ in 0..10 {
///     while let Some(p) = a.poll_transmit(now) { b.handle_input(now, &p); }
///     while let Some(p) = b.poll_transmit(now) { a.handle_input(now, &p); }
///     while let Some(e) = a.poll_event() {
///         if let Event::ChannelOpen { id, .. } = e { a.send_text(now, id, "hello")?; }
///     }
///     while let Some(e) = b.poll_event() {
///         if let Event::Message { message, .. } = e { got = Some(message); }
///     }
/// }
/// assert_eq!(got.unwrap().text(), Some("hello"));
/// # let _ = chat;
/// # Ok::<(), rtcweb_sctp::Error>(())
/// ```
pub struct SctpTransport {
    config: SctpConfig,
    role: Role,
    engine: Box<dyn Engine + Send>,
    /// Indexed by stream id; grows to the highest id used.
    channels: Vec<Option<Channel>>,
    events: VecDeque<Event>,
    /// Message bytes waiting in `events`: reading from the engine stops at the receive window,
    /// so an application that does not poll closes the peer's window instead of our memory.
    queued_bytes: usize,
    /// The application asked us to stop taking messages from the engine.
    reads_paused: bool,
    /// Bytes in the engine not yet acknowledged, over every channel: the send buffer.
    buffered_total: usize,
    /// Channels refused with `WouldBlock`, told when there is room again.
    blocked: Vec<u16>,
    state: TransportState,
    /// The latest `now` we were given, for work done inside `poll_event`.
    last_now: Option<Instant>,
    /// When the application asked for a graceful shutdown; SHUTDOWN goes out once everything
    /// sent is acknowledged (the engine would otherwise drop what it has not sent yet).
    shutdown_requested: Option<Instant>,
    stats: TransportStats,
}

impl std::fmt::Debug for SctpTransport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SctpTransport")
            .field("role", &self.role)
            .field("state", &self.state)
            .field("channels", &self.channels.iter().flatten().count())
            .field("buffered", &self.buffered_total)
            .finish_non_exhaustive()
    }
}

impl SctpTransport {
    /// A transport for the given SDP values and DTLS role (from `a=setup`), which decides who
    /// starts the SCTP handshake and which stream ids we pick (RFC 8832 section 6: the DTLS
    /// client uses even ids, the server odd ones). The [`Role::Client`] sends INIT; the
    /// [`Role::Server`] answers it, or also sends one with [`SctpConfig::server_initiates`].
    /// Either side may send INIT, and peers differ in who does: when the peer's INIT crosses
    /// ours, it is answered as RFC 9260 section 5.2.1 says, and one association results.
    /// Nothing is sent before [`start`](Self::start).
    pub fn new(config: SctpConfig, role: Role) -> Result<Self, Error> {
        config.validate()?;
        Ok(SctpTransport {
            engine: new_engine(&config, role),
            config,
            role,
            channels: Vec::new(),
            events: VecDeque::new(),
            queued_bytes: 0,
            reads_paused: false,
            buffered_total: 0,
            blocked: Vec::new(),
            state: TransportState::New,
            last_now: None,
            shutdown_requested: None,
            stats: TransportStats::default(),
        })
    }

    /// Sets the largest SCTP packet (see [`SctpConfig::mtu`]); only before
    /// [`start`](Self::start).
    pub fn set_mtu(&mut self, mtu: usize) -> Result<(), Error> {
        if self.state != TransportState::New {
            return Err(Error::InvalidOptions("the MTU is fixed once started"));
        }
        let mut config = self.config.clone();
        config.mtu = mtu;
        config.validate()?;
        self.engine = new_engine(&config, self.role);
        self.config = config;
        Ok(())
    }

    /// Starts the association once DTLS is connected: the DTLS client sends INIT, the server
    /// waits for it.
    pub fn start(&mut self, now: Instant) -> Result<(), Error> {
        if self.state != TransportState::New {
            return Ok(());
        }
        self.last_now = Some(now);
        self.engine.start(now)?;
        self.state = TransportState::Connecting;
        self.after(now);
        Ok(())
    }

    /// One SCTP packet from the peer (the payload of one DTLS application-data record).
    pub fn handle_input(&mut self, now: Instant, packet: &[u8]) {
        self.stats.packets_received += 1;
        self.stats.bytes_received += packet.len() as u64;
        if packet.get(8..12) == Some(&[0; 4]) {
            self.stats.zero_checksum_packets_received += 1;
        }
        if matches!(self.state, TransportState::New | TransportState::Closed) {
            self.stats.packets_ignored += 1;
            return;
        }
        self.last_now = Some(now);
        self.engine.handle_packet(now, packet);
        self.after(now);
    }

    /// Time has passed; call at [`poll_timeout`](Self::poll_timeout) (early or late is
    /// harmless).
    pub fn handle_timeout(&mut self, now: Instant) {
        if matches!(self.state, TransportState::New | TransportState::Closed) {
            return;
        }
        self.last_now = Some(now);
        self.engine.handle_timeout(now);
        self.after(now);
    }

    /// When [`handle_timeout`](Self::handle_timeout) must be called next.
    pub fn poll_timeout(&self) -> Option<Instant> {
        if self.state == TransportState::Closed {
            return None;
        }
        let shutdown = self
            .shutdown_requested
            .filter(|_| self.buffered_total > 0)
            .map(|t| t + SHUTDOWN_GRACE);
        [self.engine.poll_timeout(), shutdown]
            .into_iter()
            .flatten()
            .min()
    }

    /// The next SCTP packet for DTLS (one packet per DTLS record).
    pub fn poll_transmit(&mut self, now: Instant) -> Option<Bytes> {
        let p = self.engine.poll_transmit(now)?;
        self.engine_events(now);
        self.stats.packets_sent += 1;
        self.stats.bytes_sent += p.len() as u64;
        // Sending SHUTDOWN COMPLETE is what ends a graceful shutdown.
        self.check_closed();
        Some(p)
    }

    /// The next event.
    pub fn poll_event(&mut self) -> Option<Event> {
        let e = self.events.pop_front()?;
        if let Event::Message { message, .. } = &e {
            self.queued_bytes = self
                .queued_bytes
                .saturating_sub(inbound::queued_cost(message.data.len()));
            if self.queued_bytes < self.config.receive_window
                && let Some(now) = self.last_now
            {
                self.pump_reads(now);
            }
        }
        Some(e)
    }

    /// Stops (`true`) or resumes (`false`) taking received messages from the association.
    ///
    /// While paused, messages wait in the association's receive buffer; as it fills, the
    /// window we advertise closes and the peer stops sending. This is how an application
    /// whose reader has fallen behind pushes back without dropping anything on a reliable
    /// channel (events other than messages keep coming; DCEP messages wait too).
    pub fn pause_reads(&mut self, now: Instant, paused: bool) {
        self.reads_paused = paused;
        if !paused {
            self.pump_reads(now);
        }
    }

    /// Whether [`pause_reads`](Self::pause_reads) is in force.
    pub fn reads_paused(&self) -> bool {
        self.reads_paused
    }

    /// Creates a data channel (W3C `createDataChannel`). An in-band channel gets the lowest
    /// free id of our parity and is announced with DATA_CHANNEL_OPEN once the association is
    /// up; a negotiated one uses its given id and opens with the association.
    /// [`Event::ChannelOpen`] tells when it can send.
    pub fn create_channel(
        &mut self,
        now: Instant,
        options: ChannelOptions,
    ) -> Result<ChannelId, Error> {
        if self.state == TransportState::Closed || self.shutdown_requested.is_some() {
            return Err(Error::Closed);
        }
        let reliability = options.reliability()?;
        let limit = self.stream_limit();
        let id = match options.negotiated {
            Some(id) => {
                if id >= limit {
                    return Err(Error::InvalidOptions(
                        "negotiated id beyond the stream count",
                    ));
                }
                if self.channel_slot(id).is_some() {
                    return Err(Error::IdInUse(id));
                }
                id
            }
            None => self.free_id(limit)?,
        };
        let info = ChannelInfo {
            id: ChannelId(id),
            label: options.label,
            protocol: options.protocol,
            ordered: options.ordered,
            reliability,
            negotiated: options.negotiated.is_some(),
            priority: options.priority,
            state: ChannelState::Connecting,
            remote: false,
        };
        self.insert(Channel::new(info));
        if self.state == TransportState::Connected {
            self.open_local(now, id);
            self.after(now);
        }
        Ok(ChannelId(id))
    }

    /// Closes a channel (W3C `close`): resets our outgoing stream; the peer resets its own
    /// and [`Event::ChannelClosed`] follows (RFC 8831 section 6.7). Closing a closing or
    /// unknown channel does nothing.
    pub fn close_channel(&mut self, now: Instant, id: ChannelId) -> Result<(), Error> {
        let Some(c) = self.channel_slot(id.0) else {
            return Ok(());
        };
        match c.info.state {
            ChannelState::Closing | ChannelState::Closed => Ok(()),
            ChannelState::Connecting => {
                self.remove_channel(id.0);
                Ok(())
            }
            ChannelState::Open => {
                self.last_now = Some(now);
                if let Some(c) = self.channel_mut(id.0) {
                    c.info.state = ChannelState::Closing;
                }
                let result = self.engine.reset_stream(now, id.0);
                if result.is_err() {
                    // The engine has no such stream any more: nothing to wait for.
                    self.remove_channel(id.0);
                }
                self.after(now);
                Ok(())
            }
        }
    }

    /// Ends the association gracefully (SHUTDOWN): what was sent is still delivered first
    /// (for at most 30 s, then the association is aborted); nothing new can be sent.
    pub fn shutdown(&mut self, now: Instant) {
        match self.state {
            TransportState::New | TransportState::Closed => {
                self.close_everything(CloseReason::LocalShutdown);
            }
            TransportState::Connecting => self.abort(now),
            TransportState::Connected => {
                self.last_now = Some(now);
                self.shutdown_requested.get_or_insert(now);
                self.after(now);
            }
        }
    }

    /// Ends the association at once (ABORT), as W3C `RTCPeerConnection.close()` does.
    pub fn abort(&mut self, now: Instant) {
        if matches!(self.state, TransportState::New | TransportState::Closed) {
            self.close_everything(CloseReason::LocalAbort);
            return;
        }
        self.last_now = Some(now);
        self.engine.abort(now);
        self.after(now);
    }

    /// A channel's description and state.
    pub fn channel(&self, id: ChannelId) -> Option<&ChannelInfo> {
        self.channel_slot(id.0).map(|c| &c.info)
    }

    /// The ids of every channel not yet closed.
    pub fn channel_ids(&self) -> impl Iterator<Item = ChannelId> + '_ {
        self.channels.iter().flatten().map(|c| c.info.id)
    }

    /// A channel's counters.
    pub fn channel_stats(&self, id: ChannelId) -> Option<ChannelStats> {
        self.channel_slot(id.0).map(|c| c.stats)
    }

    /// W3C `bufferedAmount`: bytes given to `send` and not yet transmitted (an empty
    /// message counts one byte). Retransmissions do not count again; what is transmitted
    /// but unacknowledged still fills the send buffer ([`Error::WouldBlock`]).
    pub fn buffered_amount(&self, id: ChannelId) -> Option<usize> {
        self.channel_slot(id.0).map(Channel::untransmitted)
    }

    /// W3C `bufferedAmountLowThreshold`.
    pub fn set_buffered_amount_low_threshold(
        &mut self,
        id: ChannelId,
        threshold: usize,
    ) -> Result<(), Error> {
        let c = self.channel_mut(id.0).ok_or(Error::UnknownChannel(id.0))?;
        c.low_threshold = threshold;
        Ok(())
    }

    /// Association counters.
    pub fn stats(&self) -> TransportStats {
        let e = self.engine.stats();
        TransportStats {
            retransmitted_packets: e.retransmitted_packets,
            srtt: e.rtt,
            message_interleaving: e.message_interleaving,
            zero_checksum: e.zero_checksum,
            buffered_amount: self.buffered_total as u64,
            ..self.stats
        }
    }

    /// Where the association is.
    pub fn state(&self) -> TransportState {
        self.state
    }

    /// Our DTLS role.
    pub fn role(&self) -> Role {
        self.role
    }

    /// W3C `RTCSctpTransport.maxMessageSize`: the largest message `send` accepts.
    pub fn max_message_size(&self) -> usize {
        self.config.send_limit()
    }

    /// W3C `RTCSctpTransport.maxChannels`, once the association is up.
    pub fn max_channels(&self) -> Option<u16> {
        self.engine.max_streams()
    }

    /// The configuration.
    pub fn config(&self) -> &SctpConfig {
        &self.config
    }

    // ---- internals ----

    fn stream_limit(&self) -> u16 {
        self.engine
            .max_streams()
            .unwrap_or(self.config.max_streams)
            .min(self.config.max_streams)
    }

    fn free_id(&self, limit: u16) -> Result<u16, Error> {
        let first = match self.role {
            Role::Client => 0,
            Role::Server => 1,
        };
        (first..limit)
            .step_by(2)
            .find(|&id| self.channel_slot(id).is_none())
            .ok_or(Error::NoFreeId)
    }

    fn channel_slot(&self, id: u16) -> Option<&Channel> {
        self.channels.get(usize::from(id))?.as_ref()
    }

    fn channel_mut(&mut self, id: u16) -> Option<&mut Channel> {
        self.channels.get_mut(usize::from(id))?.as_mut()
    }

    fn insert(&mut self, c: Channel) {
        let i = usize::from(c.info.id.0);
        if self.channels.len() <= i {
            self.channels.resize_with(i + 1, || None);
        }
        self.channels[i] = Some(c);
    }

    /// Forgets a channel and reports it closed.
    fn remove_channel(&mut self, id: u16) {
        let Some(c) = self
            .channels
            .get_mut(usize::from(id))
            .and_then(Option::take)
        else {
            return;
        };
        self.buffered_total = self.buffered_total.saturating_sub(c.unacked + c.control);
        self.stats.channels_closed += 1;
        self.events
            .push_back(Event::ChannelClosed { id: c.info.id });
    }

    /// Opens one of our channels on the established association.
    fn open_local(&mut self, now: Instant, id: u16) {
        let Some(c) = self.channel_mut(id) else {
            return;
        };
        c.awaiting_ack = !c.info.negotiated;
        let policy = c.policy();
        let open = (!c.info.negotiated).then(|| DcepMessage::Open(c.info.open_message()));
        let mut ok = self.engine.open_stream(id, policy).is_ok();
        if ok && let Some(open) = open {
            let sent = open.to_vec().map(Bytes::from).and_then(|b| {
                let len = b.len();
                self.engine.send(now, id, ppid::DCEP, b).map(|()| len)
            });
            match sent {
                Ok(len) => self.count_control(id, len),
                Err(_) => ok = false,
            }
        }
        if !ok {
            self.remove_channel(id);
            return;
        }
        if let Some(c) = self.channel_mut(id) {
            c.info.state = ChannelState::Open;
        }
        self.stats.channels_opened += 1;
        self.events.push_back(Event::ChannelOpen {
            id: ChannelId(id),
            remote: false,
        });
    }

    /// Applies what the engine reported after any call into it.
    fn after(&mut self, now: Instant) {
        self.engine_events(now);
        if self.queued_bytes < self.config.receive_window {
            self.pump_reads(now);
        }
        if let Some(asked) = self.shutdown_requested
            && self.engine.state() == EngineState::Established
        {
            if self.buffered_total == 0 {
                self.engine.shutdown(now);
            } else if now >= asked + SHUTDOWN_GRACE {
                self.engine.abort(now);
            }
        }
        self.check_closed();
    }

    /// Applies the engine's events.
    fn engine_events(&mut self, now: Instant) {
        while let Some(e) = self.engine.poll_event() {
            match e {
                EngineEvent::Connected => {
                    if self.state == TransportState::Connecting {
                        self.state = TransportState::Connected;
                        self.events.push_back(Event::Connected);
                        let waiting: Vec<u16> = self
                            .channels
                            .iter()
                            .flatten()
                            .filter(|c| c.info.state == ChannelState::Connecting)
                            .map(|c| c.info.id.0)
                            .collect();
                        for id in waiting {
                            self.open_local(now, id);
                        }
                    }
                }
                EngineEvent::StreamReset(id) => self.remove_channel(id),
                EngineEvent::Transmitted { stream, bytes } => self.transmitted(stream, bytes),
                EngineEvent::Released { stream, bytes } => self.release(stream, bytes),
            }
        }
    }

    fn check_closed(&mut self) {
        if self.state == TransportState::Closed {
            return;
        }
        if let EngineState::Closed(reason) = self.engine.state() {
            self.close_everything(reason);
        }
    }

    fn close_everything(&mut self, reason: CloseReason) {
        if self.state == TransportState::Closed {
            return;
        }
        for id in 0..self.channels.len() {
            if let Ok(id) = u16::try_from(id) {
                self.remove_channel(id);
            }
        }
        self.buffered_total = 0;
        self.blocked.clear();
        self.state = TransportState::Closed;
        self.events.push_back(Event::Closed { reason });
    }
}

/// The engine the configuration asks for.
fn new_engine(config: &SctpConfig, role: Role) -> Box<dyn Engine + Send> {
    Box::new(Dcsctp::new(config, role))
}

impl SansIo for SctpTransport {
    /// One SCTP packet (what one DTLS record carried).
    type Input<'a> = &'a [u8];
    /// One SCTP packet, for DTLS to protect and send.
    type Transmit = Bytes;
    type Event = Event;

    fn handle_input(&mut self, now: Instant, packet: &[u8]) {
        SctpTransport::handle_input(self, now, packet);
    }
    fn handle_timeout(&mut self, now: Instant) {
        SctpTransport::handle_timeout(self, now);
    }
    fn poll_transmit(&mut self, now: Instant) -> Option<Bytes> {
        SctpTransport::poll_transmit(self, now)
    }
    fn poll_event(&mut self) -> Option<Event> {
        SctpTransport::poll_event(self)
    }
    fn poll_timeout(&self) -> Option<Instant> {
        SctpTransport::poll_timeout(self)
    }
}
