//! [`Engine`] over `rtc-sctp`'s sans-IO `Endpoint` and `Association`.
//!
//! What the adapter adds to rtc-sctp, and why:
//! - One association per transport. A server endpoint makes a new association for every
//!   INIT it sees (a duplicated or retransmitted INIT included), each with its own cookie;
//!   the adapter keeps a few handshakes until one is established, then drops the others.
//! - The peer's INIT crossing ours (RFC 9260 section 5.2.1), which rtc-sctp's endpoint never
//!   routes to the association that sent INIT: [`Crossing`] routes and repairs it, so that a
//!   peer that ignores our INIT and sends its own (werift) gets the same association.
//! - `a=sctp-port` other than 5000: rtc-sctp writes 5000 into INIT, so packets are
//!   re-ported (and re-checksummed) on the way in and out.
//! - SHUTDOWN COMPLETE: rtc-sctp's initiator never leaves SHUTDOWN-SENT after sending it, so
//!   the adapter closes the association when it goes out; a shutdown that the peer never
//!   answers ends in an abort after [`SHUTDOWN_GRACE`].
//! - Why the association closed, which rtc-sctp only reports per stream.

use std::collections::VecDeque;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use rtc_sctp::{
    Association, AssociationError, AssociationHandle, ClientConfig, DatagramEvent, Endpoint,
    EndpointConfig, EndpointEvent, Event as SctpEvent, Payload, PayloadProtocolIdentifier,
    ReliabilityType, ServerConfig, StreamEvent, TimerConfig, TransportConfig,
    max_payload_size_for_mtu,
};

use super::backlog::UnreadBound;
use super::crossing::{Crossing, Inbound};
use super::forward_tsn::ForwardTsnBound;
use super::wire::{self, CT_ABORT, CT_INIT, CT_SHUTDOWN, CT_SHUTDOWN_ACK, CT_SHUTDOWN_COMPLETE};
use super::{Engine, EngineEvent, EngineState, EngineStats, Read, StreamPolicy};
use crate::{CloseReason, Error, Reliability, Role, SctpConfig};

/// The port rtc-sctp puts in every packet.
const ENGINE_PORT: u16 = 5000;
/// Handshakes a server keeps at once (one per distinct INIT it answered).
const MAX_HANDSHAKES: usize = 4;
/// How long a graceful shutdown may take before the association is aborted.
pub(crate) const SHUTDOWN_GRACE: Duration = Duration::from_secs(30);

/// rtc-sctp needs addresses; over DTLS there are none, so both sides use this one.
fn placeholder_addr() -> SocketAddr {
    SocketAddr::new(Ipv4Addr::LOCALHOST.into(), ENGINE_PORT)
}

pub(crate) struct RtcSctp {
    /// Whether we send INIT (the DTLS client, or a server told to): then the endpoint has
    /// no server configuration and the peer's INITs go through `crossing`.
    initiator: bool,
    local_port: u16,
    remote_port: u16,
    mtu: usize,
    transport: Arc<TransportConfig>,
    endpoint: Option<Endpoint>,
    /// The association, once a client connected or a server's handshake completed.
    main: Option<(AssociationHandle, Association)>,
    /// A server's handshakes in progress, oldest first.
    handshakes: VecDeque<(AssociationHandle, Association)>,
    /// An initiator's handshake, until the association is established.
    crossing: Option<Crossing>,
    events: VecDeque<EngineEvent>,
    transmits: VecDeque<Bytes>,
    connected: bool,
    closed: Option<CloseReason>,
    shutdown_deadline: Option<Instant>,
    /// What the last packet that came in said, to name a close reason.
    last_packet_chunks: u8,
    forward_tsn: ForwardTsnBound,
    unread: UnreadBound,
}

/// Bits of `last_packet_chunks`.
const SAW_ABORT: u8 = 1;
const SAW_SHUTDOWN: u8 = 2;

impl RtcSctp {
    pub(crate) fn new(config: &SctpConfig, role: Role) -> Self {
        let transport = TransportConfig::default()
            .with_max_message_size(u32::try_from(config.send_limit()).unwrap_or(u32::MAX))
            .with_max_receive_buffer_size(u32::try_from(config.receive_window).unwrap_or(u32::MAX))
            .with_max_num_inbound_streams(config.max_streams)
            .with_max_num_outbound_streams(config.max_streams)
            .with_timer_config(TimerConfig {
                // rtc-sctp's default gives up on DATA and RE-CONFIG after 5 expiries without
                // closing anything: the association goes silent with data outstanding (seen at
                // 30 % loss) or a channel stays "closing". Retransmit forever instead; whether
                // the peer is still there is ICE consent freshness's call (RFC 7675).
                max_t3_rtx_retrans: usize::MAX,
                max_reconfig_retrans: usize::MAX,
                // Likewise the handshake: after 8 expiries of T1 the side that echoes a cookie
                // gives up, though the other may be established already and only its COOKIE
                // ACKs were lost (seen at 30 % loss, `crossing.rs::crossing_inits_under_loss`).
                max_t1_init_retrans: usize::MAX,
                max_t1_cookie_retrans: usize::MAX,
                ..TimerConfig::default()
            });
        RtcSctp {
            initiator: role == Role::Client || config.server_initiates,
            local_port: config.local_port,
            remote_port: config.remote_port,
            mtu: config.mtu,
            transport: Arc::new(transport),
            endpoint: None,
            main: None,
            handshakes: VecDeque::new(),
            crossing: None,
            events: VecDeque::new(),
            transmits: VecDeque::new(),
            connected: false,
            closed: None,
            shutdown_deadline: None,
            last_packet_chunks: 0,
            forward_tsn: ForwardTsnBound::new(config.receive_window),
            unread: UnreadBound::default(),
        }
    }

    fn endpoint_config(&self) -> Arc<EndpointConfig> {
        let mut c = EndpointConfig::new();
        c.max_payload_size(max_payload_size_for_mtu(
            u32::try_from(self.mtu).unwrap_or(u32::MAX),
        ));
        Arc::new(c)
    }

    fn translating(&self) -> bool {
        self.local_port != ENGINE_PORT || self.remote_port != ENGINE_PORT
    }

    fn assoc(&mut self) -> Result<&mut Association, Error> {
        if self.closed.is_some() {
            return Err(Error::Closed);
        }
        self.main.as_mut().map(|(_, a)| a).ok_or(Error::Closed)
    }

    /// Forgets an association in the endpoint too, so that its slot is freed.
    fn drop_association(endpoint: &mut Option<Endpoint>, handle: AssociationHandle) {
        if let Some(e) = endpoint.as_mut() {
            e.handle_event(handle, EndpointEvent::drained());
        }
    }

    /// Moves what the associations produced into our queues and notices state changes.
    fn pump(&mut self, now: Instant, from_timeout: bool) {
        // A server handshake that completed becomes the association; the rest are dropped.
        if self.main.is_none()
            && let Some(i) = self
                .handshakes
                .iter()
                .position(|(_, a)| !a.is_handshaking())
        {
            if let Some(done) = self.handshakes.remove(i) {
                self.main = Some(done);
            }
            for (h, _) in self.handshakes.drain(..) {
                Self::drop_association(&mut self.endpoint, h);
            }
        }
        // Handshakes only need their packets; their events are about nothing yet.
        for (_, a) in self.handshakes.iter_mut() {
            while a.poll().is_some() {}
            while a.poll_endpoint_event().is_some() {}
            while let Some(t) = a.poll_transmit(now) {
                if let Payload::RawEncode(packets) = t.message {
                    self.transmits.extend(packets);
                }
            }
        }
        let Some((_, assoc)) = self.main.as_mut() else {
            return;
        };
        // While handshaking, every packet goes through `crossing` at once: what it learns
        // from our INIT and INIT ACK is needed for the very next packet from the peer.
        if self.crossing.is_some() {
            take_transmits(assoc, now, &mut self.crossing, &mut self.transmits);
        }
        // The endpoint events rtc-sctp emits (Drained at the start of a shutdown) would make
        // the endpoint forget the association mid-shutdown: we drop it ourselves instead.
        while assoc.poll_endpoint_event().is_some() {}
        let mut lost: Option<AssociationError> = None;
        while let Some(e) = assoc.poll() {
            match e {
                SctpEvent::Connected if !self.connected => {
                    self.connected = true;
                    // The association knows the peer's real tag now (see `Crossing`).
                    self.crossing = None;
                    self.events.push_back(EngineEvent::Connected);
                }
                SctpEvent::HandshakeFailed { reason } => {
                    self.closed
                        .get_or_insert(CloseReason::HandshakeFailed(reason.to_string()));
                }
                SctpEvent::AssociationLost { reason, id } => {
                    if assoc.is_closed() {
                        lost.get_or_insert(reason);
                    } else {
                        self.events.push_back(EngineEvent::StreamReset(id));
                    }
                }
                SctpEvent::Stream(StreamEvent::Opened { .. }) => {
                    // Accept at once: the accept queue would otherwise grow with every id
                    // the peer uses.
                    while assoc.accept_stream().is_some() {}
                }
                SctpEvent::Stream(StreamEvent::Readable { id }) => {
                    self.events.push_back(EngineEvent::Readable(id));
                }
                SctpEvent::Stream(StreamEvent::BufferedAmountReleased { id, n_bytes }) => {
                    self.events.push_back(EngineEvent::Released {
                        stream: id,
                        bytes: n_bytes,
                    });
                }
                _ => {}
            }
        }
        if self.closed.is_none() && assoc.is_closed() {
            let peer = self.last_packet_chunks;
            let reason = if from_timeout {
                CloseReason::Failed("retransmissions exhausted".into())
            } else if peer & SAW_ABORT != 0 {
                CloseReason::PeerAbort
            } else if peer & SAW_SHUTDOWN != 0 {
                CloseReason::PeerShutdown
            } else {
                match lost {
                    Some(AssociationError::Reset) => CloseReason::PeerAbort,
                    Some(AssociationError::AssociationClosed)
                    | Some(AssociationError::ApplicationClosed) => CloseReason::PeerShutdown,
                    Some(other) => CloseReason::Failed(other.to_string()),
                    None => CloseReason::Failed("association closed".into()),
                }
            };
            self.closed = Some(reason);
        }
    }

    /// Runs `f`, turning a panic inside rtc-sctp into the end of the association: wire data
    /// must not take the process down, and an engine that panicked is never called again.
    fn guarded<R>(&mut self, f: impl FnOnce(&mut Self) -> R) -> Option<R> {
        match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| f(self))) {
            Ok(r) => Some(r),
            Err(_) => {
                tracing::error!("the SCTP engine panicked; the association is closed");
                self.main = None;
                self.handshakes.clear();
                self.endpoint = None;
                self.transmits.clear();
                self.closed
                    .get_or_insert(CloseReason::Failed("SCTP engine panicked".into()));
                None
            }
        }
    }

    fn handle_packet_inner(&mut self, now: Instant, packet: &[u8]) {
        if self.closed.is_some() {
            return;
        }
        if self.endpoint.is_none() {
            return;
        }
        let data = if self.translating() {
            // Only what is addressed to our port from theirs, with a valid checksum, is
            // re-ported: the engine then checks a checksum we computed.
            if wire::ports(packet) != Some((self.remote_port, self.local_port))
                || !wire::checksum_ok(packet)
            {
                return;
            }
            let mut b = BytesMut::from(packet);
            wire::set_ports(&mut b, ENGINE_PORT, ENGINE_PORT);
            b.freeze()
        } else {
            Bytes::copy_from_slice(packet)
        };
        // One walk of the packet as the engine will read it: refused when a cause would make the
        // engine slice out of bounds (`wire::walk_as_engine`) or a FORWARD TSN jumps too far.
        if !self.forward_tsn.admit(&data, self.main.is_none()) || !self.unread.admit(&data) {
            return;
        }
        wire::outgoing_resets(&data, |id| {
            self.events.push_back(EngineEvent::PeerReset(id))
        });
        self.last_packet_chunks = wire::chunk_types(&data).fold(0, |acc, t| match t {
            CT_ABORT => acc | SAW_ABORT,
            CT_SHUTDOWN | CT_SHUTDOWN_ACK | CT_SHUTDOWN_COMPLETE => acc | SAW_SHUTDOWN,
            _ => acc,
        });
        match self.crossing.as_mut().map(|c| c.inbound(&data)) {
            Some(Inbound::Drop) => {}
            Some(Inbound::Replace(routed)) => self.feed(now, routed),
            Some(Inbound::Prepend(first)) => {
                self.feed(now, first);
                self.feed(now, data);
            }
            // An initiator has no server configuration: the endpoint would refuse an INIT
            // (noisily). Only `crossing` answers one, while we are handshaking.
            None if self.initiator
                && wire::first_chunk(&data).is_some_and(|(t, _)| t == CT_INIT) => {}
            Some(Inbound::Pass) | None => self.feed(now, data),
        }
        self.pump(now, false);
        self.last_packet_chunks = 0;
    }

    /// Hands one packet to the endpoint and the association it belongs to.
    fn feed(&mut self, now: Instant, data: Bytes) {
        let Some(endpoint) = self.endpoint.as_mut() else {
            return;
        };
        let Some((handle, event)) = endpoint.handle(now, placeholder_addr(), None, data) else {
            return;
        };
        match event {
            DatagramEvent::AssociationEvent(ev) => {
                if let Some((h, a)) = self.main.as_mut()
                    && *h == handle
                {
                    a.handle_event(ev);
                } else if let Some((_, a)) = self.handshakes.iter_mut().find(|(h, _)| *h == handle)
                {
                    a.handle_event(ev);
                }
            }
            DatagramEvent::NewAssociation(a) => {
                if self.main.is_some() {
                    // An INIT after we are established: a duplicate or a peer restart, which
                    // WebRTC does not do. Drop it.
                    Self::drop_association(&mut self.endpoint, handle);
                } else {
                    if self.handshakes.len() >= MAX_HANDSHAKES
                        && let Some((old, _)) = self.handshakes.pop_front()
                    {
                        Self::drop_association(&mut self.endpoint, old);
                    }
                    self.handshakes.push_back((handle, a));
                }
            }
            _ => {}
        }
    }

    fn handle_timeout_inner(&mut self, now: Instant) {
        if self.closed.is_some() {
            return;
        }
        if self.shutdown_deadline.is_some_and(|d| now >= d) {
            self.abort(now);
            self.closed = Some(CloseReason::Failed("shutdown not answered".into()));
            return;
        }
        for (_, a) in self.handshakes.iter_mut() {
            if a.poll_timeout().is_some_and(|t| t <= now) {
                a.handle_timeout(now);
            }
        }
        if let Some((_, a)) = self.main.as_mut()
            && a.poll_timeout().is_some_and(|t| t <= now)
        {
            a.handle_timeout(now);
        }
        self.pump(now, true);
    }

    fn next_transmit(&mut self) -> Option<Bytes> {
        let packet = self.transmits.pop_front()?;
        self.forward_tsn.observe_outbound(&packet);
        if wire::chunk_types(&packet).any(|t| t == CT_SHUTDOWN_COMPLETE)
            && let Some((_, a)) = self.main.as_mut()
        {
            let _ = a.close(AssociationError::LocallyClosed);
            if self.closed.is_none() {
                self.closed = Some(if self.shutdown_deadline.is_some() {
                    CloseReason::LocalShutdown
                } else {
                    CloseReason::PeerShutdown
                });
            }
        }
        if self.translating() {
            let mut b = BytesMut::from(&packet[..]);
            wire::set_ports(&mut b, self.local_port, self.remote_port);
            return Some(b.freeze());
        }
        Some(packet)
    }

    fn send_inner(&mut self, now: Instant, id: u16, ppid: u32, data: Bytes) -> Result<(), Error> {
        self.assoc()?
            .stream(id)
            .and_then(|mut s| s.write_chunk_with_ppi(now, &data, ppi(ppid)))
            .map_err(engine_error)?;
        Ok(())
    }

    fn read_inner(&mut self, id: u16, max_len: usize) -> Read {
        let Ok(a) = self.assoc() else {
            return Read::Empty;
        };
        let Ok(mut s) = a.stream(id) else {
            return Read::Empty;
        };
        match s.read_sctp() {
            Ok(Some(chunks)) => match chunks.to_payload(max_len) {
                Ok(data) => Read::Message {
                    ppid: ppid_of(chunks.ppi),
                    data: data.freeze(),
                },
                Err(_) => Read::TooLarge(chunks.len()),
            },
            Ok(None) | Err(_) => Read::Empty,
        }
    }

    fn gather_transmits(&mut self, now: Instant) {
        if let Some((_, assoc)) = self.main.as_mut() {
            take_transmits(assoc, now, &mut self.crossing, &mut self.transmits);
        }
    }
}

/// Moves the association's packets to `out`, through `crossing` while there is one.
fn take_transmits(
    assoc: &mut Association,
    now: Instant,
    crossing: &mut Option<Crossing>,
    out: &mut VecDeque<Bytes>,
) {
    while let Some(t) = assoc.poll_transmit(now) {
        let Payload::RawEncode(packets) = t.message else {
            continue;
        };
        match crossing.as_mut() {
            Some(c) => out.extend(packets.into_iter().filter_map(|p| c.outbound(p))),
            None => out.extend(packets),
        }
    }
}

fn ppi(ppid: u32) -> PayloadProtocolIdentifier {
    PayloadProtocolIdentifier::from(ppid)
}

fn ppid_of(p: PayloadProtocolIdentifier) -> u32 {
    match p {
        PayloadProtocolIdentifier::Dcep => 50,
        PayloadProtocolIdentifier::String => 51,
        PayloadProtocolIdentifier::Binary => 53,
        PayloadProtocolIdentifier::StringEmpty => 56,
        PayloadProtocolIdentifier::BinaryEmpty => 57,
        // rtc-sctp folds every other PPID (the deprecated partial ones, 52 and 54, too)
        // into one value.
        _ => 0,
    }
}

fn engine_error(e: impl std::fmt::Display) -> Error {
    Error::Engine(e.to_string())
}

impl Engine for RtcSctp {
    fn start(&mut self, now: Instant) -> Result<(), Error> {
        if self.endpoint.is_some() {
            return Ok(());
        }
        let server =
            (!self.initiator).then(|| Arc::new(ServerConfig::new((*self.transport).clone())));
        let endpoint_config = self.endpoint_config();
        let mut endpoint = Endpoint::new(
            placeholder_addr(),
            Default::default(),
            endpoint_config,
            server,
        );
        if self.initiator {
            let config = ClientConfig::new((*self.transport).clone());
            let (h, a) = endpoint
                .connect(now, config, placeholder_addr())
                .map_err(engine_error)?;
            self.main = Some((h, a));
            self.crossing = Some(Crossing::default());
        }
        self.endpoint = Some(endpoint);
        self.pump(now, false);
        Ok(())
    }

    fn handle_packet(&mut self, now: Instant, packet: &[u8]) {
        self.guarded(|e| e.handle_packet_inner(now, packet));
    }

    fn handle_timeout(&mut self, now: Instant) {
        self.guarded(|e| e.handle_timeout_inner(now));
    }
    fn poll_timeout(&self) -> Option<Instant> {
        if self.closed.is_some() {
            return None;
        }
        self.main
            .iter()
            .chain(self.handshakes.iter())
            .filter_map(|(_, a)| a.poll_timeout())
            .chain(self.shutdown_deadline)
            .min()
    }

    fn poll_transmit(&mut self, now: Instant) -> Option<Bytes> {
        if self.transmits.is_empty() {
            self.guarded(|e| e.gather_transmits(now));
        }
        self.next_transmit()
    }
    fn poll_event(&mut self) -> Option<EngineEvent> {
        self.events.pop_front()
    }

    fn open_stream(&mut self, id: u16, policy: StreamPolicy) -> Result<(), Error> {
        let a = self.assoc()?;
        if a.stream(id).is_err() {
            a.open_stream(id, PayloadProtocolIdentifier::Binary)
                .map_err(engine_error)?;
        }
        self.set_policy(id, policy)
    }

    fn set_policy(&mut self, id: u16, policy: StreamPolicy) -> Result<(), Error> {
        let (kind, value) = match policy.reliability {
            Reliability::Reliable => (ReliabilityType::Reliable, 0),
            Reliability::MaxRetransmits(n) => (ReliabilityType::Rexmit, n),
            Reliability::MaxPacketLifeTime(ms) => (ReliabilityType::Timed, ms),
        };
        self.assoc()?
            .stream(id)
            .and_then(|mut s| s.set_reliability_params(policy.unordered, kind, value))
            .map_err(engine_error)
    }

    fn send(&mut self, now: Instant, id: u16, ppid: u32, data: Bytes) -> Result<(), Error> {
        self.guarded(|e| e.send_inner(now, id, ppid, data))
            .unwrap_or(Err(Error::Closed))
    }

    fn set_reading(&mut self, reading: bool) {
        self.unread
            .set_reading(reading, self.forward_tsn.acknowledged());
    }
    fn read(&mut self, id: u16, max_len: usize) -> Read {
        self.guarded(|e| e.read_inner(id, max_len))
            .unwrap_or(Read::Empty)
    }
    fn reset_stream(&mut self, now: Instant, id: u16) -> Result<(), Error> {
        self.assoc()?
            .stream(id)
            .and_then(|mut s| s.close(now))
            .map_err(engine_error)
    }

    fn shutdown(&mut self, now: Instant) {
        if self.shutdown_deadline.is_some() || self.closed.is_some() {
            return;
        }
        match self.main.as_mut() {
            Some((_, a)) if !a.is_handshaking() => {
                if a.shutdown().is_ok() {
                    self.shutdown_deadline = Some(now + SHUTDOWN_GRACE);
                } else {
                    self.abort(now);
                }
            }
            _ => self.abort(now),
        }
        self.pump(now, false);
    }

    fn abort(&mut self, now: Instant) {
        if self.closed.is_some() {
            return;
        }
        if let Some((_, a)) = self.main.as_mut() {
            let _ = a.abort();
            // The ABORT is queued in the association: take it before the state says closed.
            take_transmits(a, now, &mut self.crossing, &mut self.transmits);
        }
        self.closed = Some(CloseReason::LocalAbort);
    }

    fn state(&self) -> EngineState {
        if let Some(r) = &self.closed {
            return EngineState::Closed(r.clone());
        }
        if self.endpoint.is_none() {
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
        self.main.as_ref()?.1.negotiated_max_streams()
    }

    fn stats(&self) -> EngineStats {
        let Some((_, a)) = self.main.as_ref() else {
            return EngineStats::default();
        };
        let mut s = a.stats();
        EngineStats {
            data_chunks_received: s.get_num_datas(),
            sacks_received: s.get_num_sacks(),
            t3_timeouts: s.get_num_t3timeouts(),
            fast_retransmits: s.get_num_fast_retrans(),
            rtt: a.rtt(),
        }
    }
}
