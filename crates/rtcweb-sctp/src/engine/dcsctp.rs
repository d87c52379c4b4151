//! [`Engine`] over `dcsctp`'s sans-IO [`Socket`] (with the patches of patches/dcsctp).
//!
//! dcsctp does the whole association itself, crossing INITs (RFC 9260 section 5.2.1),
//! partial reliability, stream reset, heartbeats, RFC 8260 interleaving with a weighted fair
//! queueing stream scheduler and RFC 9653 zero checksum included. The adapter adds:
//! - Time: dcsctp counts from the socket's creation ([`SocketTime`]); `now` is mapped onto it.
//! - The send ledger: every message carries a lifecycle id, so that its first complete
//!   transmission and its end (acknowledged or abandoned) reach the transport, which keeps
//!   `bufferedAmount` and the send buffer from them.
//! - Closing a channel (RFC 8831 section 6.7): when the peer resets its outgoing stream we
//!   reset ours, and the channel is closed once both directions are.
//! - A graceful shutdown the peer never answers ends in an abort after
//!   [`SHUTDOWN_GRACE`]; retransmission is otherwise unlimited, liveness being ICE consent
//!   freshness's call (RFC 7675).

use std::collections::{BTreeMap, VecDeque};
use std::time::{Duration, Instant};

use bytes::Bytes;
use dcsctp::api::{
    DcSctpSocket, ErrorKind, LifecycleId, Message, Options, PpId, SendOptions, Socket, SocketEvent,
    SocketTime, StreamId, ZERO_CHECKSUM_ALTERNATE_ERROR_DETECTION_METHOD_LOWER_LAYER_DTLS,
    ZERO_CHECKSUM_ALTERNATE_ERROR_DETECTION_METHOD_NONE,
};

use super::{Engine, EngineEvent, EngineState, EngineStats, Read, SHUTDOWN_GRACE, StreamPolicy};
use crate::{CloseReason, Error, Reliability, Role, SctpConfig, ppid};

/// The weight of a stream nobody set: W3C "low", DCEP 256.
const DEFAULT_PRIORITY: u16 = 256;
/// The longest a retransmission timer backs off to.
const MAX_TIMER_BACKOFF: Duration = Duration::from_secs(3);

/// One message in the socket, by lifecycle id.
#[derive(Debug, Clone, Copy)]
struct Sent {
    stream: u16,
    len: usize,
    /// A DCEP message: acknowledged like any, but not part of `bufferedAmount`.
    control: bool,
    transmitted: bool,
}

/// Where the two directions of a stream being reset are.
#[derive(Debug, Default, Clone, Copy)]
struct Resetting {
    /// We asked to reset our outgoing stream.
    asked: bool,
    /// Our outgoing stream is reset.
    outgoing: bool,
    /// The peer reset its outgoing stream (our incoming one).
    incoming: bool,
}

pub(crate) struct Dcsctp {
    options: Options,
    /// Whether we send INIT (the DTLS client, or a server told to).
    initiator: bool,
    socket: Option<Socket>,
    /// The instant of `SocketTime::zero()`.
    epoch: Option<Instant>,
    /// The latest `now` given to the socket.
    last_now: Option<Instant>,
    policies: Vec<Option<StreamPolicy>>,
    /// Messages the socket holds, `ledger[i]` having lifecycle id `first_id + i`.
    ledger: VecDeque<Option<Sent>>,
    first_id: u64,
    resets: BTreeMap<u16, Resetting>,
    transmits: VecDeque<Bytes>,
    events: VecDeque<EngineEvent>,
    connected: bool,
    shutdown_deadline: Option<Instant>,
    closed: Option<CloseReason>,
    /// Messages were queued since the socket last packetized (see [`Dcsctp::flush`]).
    unflushed: bool,
}

impl Dcsctp {
    pub(crate) fn new(config: &SctpConfig, role: Role) -> Self {
        let mut o = Options::default();
        o.local_port = config.local_port;
        o.remote_port = config.remote_port;
        o.announced_maximum_incoming_streams = config.max_streams;
        o.announced_maximum_outgoing_streams = config.max_streams;
        o.mtu = config.mtu;
        o.max_message_size = config.send_limit();
        o.max_receiver_window_buffer_size = config.receive_window;
        // The transport bounds the send buffer (everything not yet acknowledged); the
        // socket's own limit (what is not yet sent) can then never be the one that refuses.
        o.max_send_buffer_size = config.send_buffer_limit.saturating_add(1);
        o.per_stream_send_queue_limit = o.max_send_buffer_size;
        o.default_stream_priority = DEFAULT_PRIORITY;
        // Retransmit forever: whether the peer is still there is ICE consent freshness's call
        // (RFC 7675), and a side that gives up while the other is established is stuck.
        o.max_retransmissions = None;
        o.max_init_retransmits = None;
        // Nor does a timer back off beyond 3 s (as in libwebrtc): once a long loss ends, the
        // association recovers within seconds, not a minute.
        o.max_timer_backoff_duration = Some(MAX_TIMER_BACKOFF);
        o.enable_partial_reliability = true;
        o.enable_message_interleaving = config.message_interleaving;
        o.zero_checksum_alternate_error_detection_method = if config.zero_checksum {
            ZERO_CHECKSUM_ALTERNATE_ERROR_DETECTION_METHOD_LOWER_LAYER_DTLS
        } else {
            ZERO_CHECKSUM_ALTERNATE_ERROR_DETECTION_METHOD_NONE
        };
        o.rng_seed = config.rng_seed;
        Dcsctp {
            options: o,
            initiator: role == Role::Client || config.server_initiates,
            socket: None,
            epoch: None,
            last_now: None,
            policies: Vec::new(),
            ledger: VecDeque::new(),
            first_id: 1,
            resets: BTreeMap::new(),
            transmits: VecDeque::new(),
            events: VecDeque::new(),
            connected: false,
            shutdown_deadline: None,
            closed: None,
            unflushed: false,
        }
    }

    /// `now` on the socket's clock (which starts at [`Engine::start`]).
    fn socket_time(&mut self, now: Instant) -> SocketTime {
        let epoch = *self.epoch.get_or_insert(now);
        let now = self.last_now.map_or(now, |l| l.max(now));
        self.last_now = Some(now);
        SocketTime::zero() + now.saturating_duration_since(epoch)
    }

    /// Moves the clock to `now`, firing what is due.
    fn advance(&mut self, now: Instant) {
        let t = self.socket_time(now);
        if let Some(s) = self.socket.as_mut() {
            s.advance_time(t);
        }
    }

    /// Runs `f` on the socket, turning a panic inside dcsctp into the end of the association:
    /// wire data must not take the process down, and a socket that panicked is not called
    /// again.
    fn guarded<R>(&mut self, f: impl FnOnce(&mut Self) -> R) -> Option<R> {
        match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| f(self))) {
            Ok(r) => Some(r),
            Err(_) => {
                tracing::error!("the SCTP engine panicked; the association is closed");
                self.socket = None;
                self.transmits.clear();
                self.closed
                    .get_or_insert(CloseReason::Failed("SCTP engine panicked".into()));
                None
            }
        }
    }

    /// Takes the socket's events: packets to send, state changes, the send ledger, resets.
    fn pump(&mut self) {
        loop {
            let Some(socket) = self.socket.as_mut() else {
                return;
            };
            let mut incoming_resets = Vec::new();
            while let Some(e) = socket.poll_event() {
                match e {
                    SocketEvent::SendPacket(p) => self.transmits.push_back(Bytes::from(p)),
                    SocketEvent::OnConnected() if !self.connected => {
                        self.connected = true;
                        self.events.push_back(EngineEvent::Connected);
                    }
                    SocketEvent::OnClosed() => {
                        let reason = if self.shutdown_deadline.is_some() {
                            CloseReason::LocalShutdown
                        } else {
                            CloseReason::PeerShutdown
                        };
                        self.closed.get_or_insert(reason);
                    }
                    SocketEvent::OnAborted(kind, reason) => {
                        let reason = match kind {
                            ErrorKind::PeerReported => CloseReason::PeerAbort,
                            _ if !self.connected => CloseReason::HandshakeFailed(reason),
                            _ => CloseReason::Failed(format!("{kind:?}: {reason}")),
                        };
                        self.closed.get_or_insert(reason);
                    }
                    SocketEvent::OnError(kind, reason) => {
                        tracing::debug!(?kind, %reason, "SCTP error");
                    }
                    SocketEvent::OnStreamsResetPerformed(ids)
                    | SocketEvent::OnStreamsResetFailed(ids) => {
                        for StreamId(id) in ids {
                            let r = self.resets.entry(id).or_default();
                            r.outgoing = true;
                            if r.incoming {
                                self.resets.remove(&id);
                                self.events.push_back(EngineEvent::StreamReset(id));
                            }
                        }
                    }
                    SocketEvent::OnIncomingStreamReset(ids) => incoming_resets.extend(ids),
                    SocketEvent::OnLifecycleMessageFullySent(id) => {
                        if let Some(Some(sent)) = entry(&mut self.ledger, self.first_id, id)
                            && !sent.transmitted
                        {
                            sent.transmitted = true;
                            let Sent {
                                stream,
                                len,
                                control,
                                ..
                            } = *sent;
                            if !control {
                                self.events
                                    .push_back(EngineEvent::Transmitted { stream, bytes: len });
                            }
                        }
                    }
                    SocketEvent::OnLifecycleEnd(id) => {
                        if let Some(sent) =
                            entry(&mut self.ledger, self.first_id, id).and_then(Option::take)
                        {
                            self.events.push_back(EngineEvent::Released {
                                stream: sent.stream,
                                bytes: sent.len,
                            });
                        }
                        while self.ledger.front().is_some_and(Option::is_none) {
                            self.ledger.pop_front();
                            self.first_id += 1;
                        }
                    }
                    _ => {}
                }
            }
            if incoming_resets.is_empty() {
                return;
            }
            // The peer closed its direction of these streams: close ours (RFC 8831 section
            // 6.7); the channel is closed when both are.
            let mut ours = Vec::new();
            for StreamId(id) in incoming_resets {
                let r = self.resets.entry(id).or_default();
                r.incoming = true;
                if r.outgoing {
                    self.resets.remove(&id);
                    self.events.push_back(EngineEvent::StreamReset(id));
                } else if !r.asked {
                    r.asked = true;
                    ours.push(StreamId(id));
                }
            }
            if ours.is_empty() {
                return;
            }
            if let Some(socket) = self.socket.as_mut()
                && socket.reset_streams(&ours).is_err()
            {
                for StreamId(id) in ours {
                    self.resets.remove(&id);
                    self.events.push_back(EngineEvent::StreamReset(id));
                }
            }
        }
    }

    fn send_inner(&mut self, now: Instant, id: u16, ppid: u32, data: Bytes) -> Result<(), Error> {
        if self.closed.is_some() {
            return Err(Error::Closed);
        }
        // The socket's clock is moved to `now` first: it stamps the message's lifetime
        // (maxPacketLifeTime) from its own clock, which otherwise stayed at the last packet
        // or timer and made a message expire that much early.
        self.advance(now);
        let control = ppid == ppid::DCEP;
        let policy = self
            .policies
            .get(usize::from(id))
            .copied()
            .flatten()
            .filter(|_| !control);
        let mut options = SendOptions::default();
        if let Some(p) = policy {
            options.unordered = p.unordered;
            match p.reliability {
                Reliability::Reliable => {}
                Reliability::MaxRetransmits(n) => {
                    options.max_retransmissions = Some(u16::try_from(n).unwrap_or(u16::MAX));
                }
                Reliability::MaxPacketLifeTime(ms) => {
                    // A message held back (sent before the channel's DATA_CHANNEL_ACK) lives
                    // from its `send`, not from now.
                    let age = self
                        .last_now
                        .map_or(Duration::ZERO, |l| l.saturating_duration_since(now));
                    options.lifetime =
                        Some(Duration::from_millis(u64::from(ms)).saturating_sub(age));
                }
            }
        }
        let lifecycle = self.first_id + self.ledger.len() as u64;
        options.lifecycle_id = LifecycleId::new(lifecycle);
        let len = data.len();
        self.ledger.push_back(Some(Sent {
            stream: id,
            len,
            control,
            transmitted: false,
        }));
        let socket = self.socket.as_mut().ok_or(Error::Closed)?;
        // Without a copy when the transport holds the only reference (its own copy of the
        // application's slice).
        let message = Message::new(StreamId(id), PpId(ppid), Vec::from(data));
        match socket.enqueue(message, &options) {
            Ok(()) => {
                self.unflushed = true;
                Ok(())
            }
            Err(e) => {
                // Not in the socket after all: its OnLifecycleEnd finds nothing.
                if let Some(slot) = self.ledger.back_mut() {
                    *slot = None;
                }
                self.pump();
                Err(Error::Engine(e.to_string()))
            }
        }
    }
}

impl Dcsctp {
    /// Packetizes the messages queued since the last time: sends only queue them, so that
    /// messages sent in a row share packets (and DTLS records).
    fn flush(&mut self) {
        self.unflushed = false;
        self.guarded(|e| {
            if let Some(s) = e.socket.as_mut() {
                s.flush();
            }
            e.pump();
        });
    }
}

/// The ledger entry of a lifecycle id (`ledger[0]` has `first_id`).
fn entry(
    ledger: &mut VecDeque<Option<Sent>>,
    first_id: u64,
    id: LifecycleId,
) -> Option<&mut Option<Sent>> {
    let i = id.value().checked_sub(first_id)?;
    ledger.get_mut(usize::try_from(i).ok()?)
}

impl Engine for Dcsctp {
    fn start(&mut self, now: Instant) -> Result<(), Error> {
        if self.socket.is_some() {
            return Ok(());
        }
        self.epoch = Some(now);
        self.last_now = Some(now);
        let mut socket = Socket::new("", &self.options);
        if self.initiator {
            socket.connect();
        }
        self.socket = Some(socket);
        self.pump();
        Ok(())
    }

    fn handle_packet(&mut self, now: Instant, packet: &[u8]) {
        if self.closed.is_some() {
            return;
        }
        // Only what is addressed to our port from theirs (a=sctp-port, RFC 8841).
        let ports = packet.get(..4).map(|p| {
            (
                u16::from_be_bytes([p[0], p[1]]),
                u16::from_be_bytes([p[2], p[3]]),
            )
        });
        if ports != Some((self.options.remote_port, self.options.local_port)) {
            return;
        }
        self.guarded(|e| {
            e.advance(now);
            if let Some(s) = e.socket.as_mut() {
                s.handle_input(packet);
            }
            e.pump();
        });
    }

    fn handle_timeout(&mut self, now: Instant) {
        if self.closed.is_some() {
            return;
        }
        if self.shutdown_deadline.is_some_and(|d| now >= d) {
            self.abort(now);
            self.closed = Some(CloseReason::Failed("shutdown not answered".into()));
            return;
        }
        self.guarded(|e| {
            e.advance(now);
            e.pump();
        });
    }

    fn poll_timeout(&self) -> Option<Instant> {
        if self.closed.is_some() {
            return None;
        }
        let socket = self.socket.as_ref()?;
        let t = socket.poll_timeout();
        let at = (t != SocketTime::infinite_future())
            .then(|| self.epoch.map(|e| e + (t - SocketTime::zero())))
            .flatten();
        at.into_iter().chain(self.shutdown_deadline).min()
    }

    fn poll_transmit(&mut self, _now: Instant) -> Option<Bytes> {
        if self.transmits.is_empty() && self.unflushed {
            self.flush();
        }
        self.transmits.pop_front()
    }

    fn poll_event(&mut self) -> Option<EngineEvent> {
        self.events.pop_front()
    }

    fn open_stream(&mut self, id: u16, policy: StreamPolicy) -> Result<(), Error> {
        self.set_policy(id, policy)
    }

    fn set_policy(&mut self, id: u16, policy: StreamPolicy) -> Result<(), Error> {
        if self.closed.is_some() || self.socket.is_none() {
            return Err(Error::Closed);
        }
        let i = usize::from(id);
        if self.policies.len() <= i {
            self.policies.resize(i + 1, None);
        }
        self.policies[i] = Some(policy);
        if let Some(s) = self.socket.as_mut() {
            s.set_stream_priority(StreamId(id), policy.priority.max(1));
        }
        Ok(())
    }

    fn send(&mut self, now: Instant, id: u16, ppid: u32, data: Bytes) -> Result<(), Error> {
        self.guarded(|e| e.send_inner(now, id, ppid, data))
            .unwrap_or(Err(Error::Closed))
    }

    fn read(&mut self, max_len: usize) -> Read {
        if self.closed.is_some() {
            return Read::Empty;
        }
        self.guarded(|e| {
            let Some(m) = e.socket.as_mut().and_then(|s| s.get_next_message()) else {
                return Read::Empty;
            };
            // Reading may have sent a window update.
            e.pump();
            let stream = m.stream_id.0;
            if m.payload.len() > max_len {
                return Read::TooLarge {
                    stream,
                    len: m.payload.len(),
                };
            }
            Read::Message {
                stream,
                ppid: m.ppid.0,
                data: Bytes::from(m.payload),
            }
        })
        .unwrap_or(Read::Empty)
    }

    fn reset_stream(&mut self, now: Instant, id: u16) -> Result<(), Error> {
        let _ = now;
        // What was sent before closing goes first (a reset drops what is still queued).
        self.flush();
        let socket = self.socket.as_mut().ok_or(Error::Closed)?;
        socket
            .reset_streams(&[StreamId(id)])
            .map_err(|e| Error::Engine(e.to_string()))?;
        self.resets.entry(id).or_default().asked = true;
        self.pump();
        Ok(())
    }

    fn shutdown(&mut self, now: Instant) {
        if self.shutdown_deadline.is_some() || self.closed.is_some() {
            return;
        }
        if !self.connected {
            self.abort(now);
            return;
        }
        self.shutdown_deadline = Some(now + SHUTDOWN_GRACE);
        self.flush();
        self.guarded(|e| {
            e.advance(now);
            if let Some(s) = e.socket.as_mut() {
                s.shutdown();
            }
            e.pump();
        });
    }

    fn abort(&mut self, now: Instant) {
        if self.closed.is_some() {
            return;
        }
        self.guarded(|e| {
            e.advance(now);
            if let Some(s) = e.socket.as_mut() {
                s.close();
            }
            e.pump();
        });
        self.closed = Some(CloseReason::LocalAbort);
    }

    fn state(&self) -> EngineState {
        if let Some(r) = &self.closed {
            return EngineState::Closed(r.clone());
        }
        if self.socket.is_none() {
            return EngineState::Idle;
        }
        if self.shutdown_deadline.is_some() {
            return EngineState::ShuttingDown;
        }
        if self.connected {
            EngineState::Established
        } else {
            EngineState::Connecting
        }
    }

    fn max_streams(&self) -> Option<u16> {
        let m = self.socket.as_ref()?.get_metrics()?;
        Some(
            m.negotiated_maximum_incoming_streams
                .min(m.negotiated_maximum_outgoing_streams),
        )
    }

    fn stats(&self) -> EngineStats {
        let Some(m) = self.socket.as_ref().and_then(|s| s.get_metrics()) else {
            return EngineStats::default();
        };
        EngineStats {
            retransmitted_packets: m.rtx_packets_count as u64,
            rtt: m.srtt,
            message_interleaving: m.uses_message_interleaving,
            zero_checksum: m.uses_zero_checksum,
        }
    }
}
