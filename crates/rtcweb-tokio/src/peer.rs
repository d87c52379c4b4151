//! `RtcPeerConnection`: a `rtcweb::PeerConnection` driven by a tokio task that owns its
//! sockets and timers, behind a cheap, clonable async handle.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use rtcweb::{
    DataChannelEvent, DataChannelId, DataChannelInit, Event, IceCandidateInit, PeerConnection,
    PeerConnectionState, RtcConfiguration, SessionDescription, TransceiverId,
};
use tokio::sync::{Notify, mpsc, watch};
use tracing::{Instrument, debug, info_span, trace};

use crate::channel::{ChannelSlot, DataChannel, Message, Unread};
use crate::error::Error;
use crate::io::Sockets;
use crate::net;

/// Events for the application, from [`Events::recv`].
#[derive(Debug)]
#[non_exhaustive]
pub enum PeerEvent {
    /// A local candidate to signal, or `None` at the end of gathering.
    IceCandidate(Option<IceCandidateInit>),
    /// Renegotiation is needed.
    NegotiationNeeded,
    /// The connection state changed.
    ConnectionState(PeerConnectionState),
    /// The ICE connection state changed.
    IceConnectionState(rtcweb::IceConnectionState),
    /// The selected candidate pair changed.
    SelectedCandidatePair {
        /// Local candidate.
        local: rtcweb::Candidate,
        /// Remote candidate.
        remote: rtcweb::Candidate,
    },
    /// DTLS is up.
    DtlsConnected {
        /// The negotiated version (displays as `DTLS 1.2` or `DTLS 1.3`).
        version: rtcweb::DtlsVersion,
        /// SRTP profile, when media was negotiated.
        srtp_profile: Option<&'static str>,
    },
    /// The peer opened a data channel.
    DataChannel(DataChannel),
    /// A transceiver receives the peer's media.
    Track {
        /// The transceiver.
        transceiver: TransceiverId,
        /// Its mid.
        mid: String,
    },
    /// A decrypted RTP packet.
    Rtp {
        /// Its transceiver, when known.
        transceiver: Option<TransceiverId>,
        /// The plain packet.
        packet: Vec<u8>,
    },
    /// A decrypted RTCP packet.
    Rtcp {
        /// The plain packet.
        packet: Vec<u8>,
    },
    /// A whole received frame (`rtcweb::MediaMode::Session`).
    Frame {
        /// The transceiver that receives it.
        transceiver: TransceiverId,
        /// The frame.
        frame: rtcweb::Frame,
    },
    /// The peer asks for a key frame of what a transceiver sends
    /// (`rtcweb::MediaMode::Session`).
    KeyframeRequest {
        /// The sending transceiver.
        transceiver: TransceiverId,
        /// PLI or FIR.
        kind: rtcweb::KeyframeRequest,
    },
    /// The bandwidth estimate changed (`rtcweb::MediaConfig::congestion_control`): the
    /// encoders together should produce `target`.
    TargetBitrate(rtcweb::TargetRate),
    /// ICE gathering moved on (`icegatheringstatechange`).
    IceGatheringState(rtcweb::GatheringState),
    /// The signaling state changed (`signalingstatechange`).
    SignalingState(rtcweb::SignalingState),
    /// Transport-wide CC feedback on what we sent, matched with the send times
    /// (`rtcweb::MediaMode::Session`).
    TransportFeedback(Vec<rtcweb::PacketFeedback>),
    /// The peer's receiver-side estimate (REMB), bits per second.
    Remb(u64),
}

impl PeerEvent {
    /// Media-rate events (packets, frames, feedback, estimates): they go through a bounded
    /// queue whose overflow is counted ([`RtcPeerConnection::dropped_events`]); every other
    /// event (states, candidates, channels, tracks) is kept until read.
    fn is_media(&self) -> bool {
        matches!(
            self,
            PeerEvent::Rtp { .. }
                | PeerEvent::Rtcp { .. }
                | PeerEvent::Frame { .. }
                | PeerEvent::KeyframeRequest { .. }
                | PeerEvent::TargetBitrate(_)
                | PeerEvent::TransportFeedback(_)
                | PeerEvent::Remb(_)
        )
    }
}

/// The application's event stream. Dropping it is fine: events are then discarded.
///
/// Two queues feed it: state changes, candidates, channels and tracks are never dropped,
/// however slowly the application reads (they are few: a connection raises a bounded
/// number of them); media-rate events (packets, frames, feedback, estimates) wait in a
/// bounded queue of [`MEDIA_EVENT_QUEUE`], and what does not fit is dropped and counted
/// ([`RtcPeerConnection::dropped_events`]). When both have events, the first queue's go
/// first.
#[derive(Debug)]
pub struct Events {
    control: mpsc::UnboundedReceiver<PeerEvent>,
    media: mpsc::Receiver<PeerEvent>,
}

impl Events {
    /// The next event; `None` once the connection is closed and drained.
    pub async fn recv(&mut self) -> Option<PeerEvent> {
        tokio::select! {
            biased;
            Some(e) = self.control.recv() => Some(e),
            Some(e) = self.media.recv() => Some(e),
            else => None,
        }
    }
}

/// Settings for [`RtcPeerConnection::new`].
#[derive(Debug, Clone, Default)]
pub struct PeerConfig {
    /// ICE servers, transport policy, bundle policy (the certificate and seed are filled in
    /// when `None`/0).
    pub ice_servers: Vec<rtcweb::IceServer>,
    /// Relay-only ICE.
    pub relay_only: bool,
    /// Local addresses to bind UDP sockets on (port 0 = any). Empty: one socket per
    /// interface address ([`net::interface_addresses`]).
    pub bind: Vec<SocketAddr>,
    /// The DTLS certificate; a fresh one when `None`.
    pub certificate: Option<rtcweb::Certificate>,
    /// Be ICE-lite (a server with a public address).
    pub ice_lite: bool,
    /// Accept TURN-over-TLS servers with a certificate signed by these roots (DER), in
    /// addition to the web PKI roots.
    pub extra_tls_roots: Vec<Vec<u8>>,
    /// A DTLS context shared by many connections (its certificate replaces `certificate`):
    /// preparing one costs about a millisecond of CPU, and it chooses the DTLS versions.
    /// Prepare it with `rtcweb::DtlsContext::new(rtcweb::PeerConnection::dtls_config(),
    /// certificate)`. `None`: each connection prepares its own.
    pub dtls_context: Option<rtcweb::DtlsContext>,
    /// Raw RTP or an RTP session with frames (`rtcweb::MediaMode`). The wall clock for
    /// sender reports is read here when it is `None`.
    pub media: rtcweb::MediaConfig,
    /// The DTLS role taken when answering an `actpass` offer.
    pub dtls_answer_role: rtcweb::DtlsAnswerRole,
    /// Received data-channel bytes (counting 64 more per message) held for readers that
    /// have not taken them yet, over all channels, before the connection stops taking more
    /// from the peer: its SCTP window closes and it waits, nothing is dropped. Reading
    /// resumes at half. 0: 16 MiB.
    pub max_unread: usize,
}

/// Datagrams sent per turn of the driver before it reads what arrived meanwhile.
const SEND_BATCH: usize = 128;

/// Media-rate events queued for the application; beyond this they are dropped and counted.
pub const MEDIA_EVENT_QUEUE: usize = 4096;

/// Live driver tasks, to prove in tests that dropped connections release everything.
static LIVE_DRIVERS: AtomicUsize = AtomicUsize::new(0);

/// How many driver tasks are running in this process.
pub fn live_drivers() -> usize {
    LIVE_DRIVERS.load(Ordering::SeqCst)
}

pub(crate) struct Shared {
    pub(crate) inner: Mutex<Inner>,
    pub(crate) wake: Arc<Notify>,
}

pub(crate) struct Inner {
    pub(crate) pc: PeerConnection,
    pub(crate) channels: HashMap<DataChannelId, ChannelSlot>,
    control_events: mpsc::UnboundedSender<PeerEvent>,
    media_events: mpsc::Sender<PeerEvent>,
    /// Media-rate events the application's queue had no room for.
    pub(crate) dropped_events: u64,
    dropped: bool,
    pub(crate) state: watch::Sender<PeerConnectionState>,
    /// Received message bytes no reader has taken yet, over every channel.
    pub(crate) unread: Arc<Unread>,
    /// The application's handles, without keeping them alive: incoming data channels get
    /// a clone while any handle exists.
    guard: std::sync::Weak<HandleGuard>,
}

impl Shared {
    pub(crate) fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panic while holding the lock is a bug elsewhere; the state is still usable.
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// Closes the connection when the last application handle goes away.
pub(crate) struct HandleGuard(pub(crate) Arc<Shared>);

impl Drop for HandleGuard {
    fn drop(&mut self) {
        self.0.lock().dropped = true;
        self.0.wake.notify_one();
    }
}

/// An async WebRTC peer connection. Clone it freely; when every clone (and every
/// [`DataChannel`] of it) is dropped, the connection closes and its task and sockets go away.
#[derive(Clone)]
pub struct RtcPeerConnection {
    pub(crate) guard: Arc<HandleGuard>,
    local_addrs: Arc<Vec<SocketAddr>>,
    state: watch::Receiver<PeerConnectionState>,
}

impl std::fmt::Debug for RtcPeerConnection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RtcPeerConnection")
            .field("local", &self.local_addrs)
            .finish_non_exhaustive()
    }
}

impl RtcPeerConnection {
    /// Binds sockets, resolves ICE server names and starts the driver task. Returns the
    /// handle and the event stream.
    pub async fn new(config: PeerConfig) -> Result<(Self, Events), Error> {
        let certificate = match (&config.dtls_context, config.certificate) {
            (Some(shared), _) => shared.certificate().clone(),
            (None, Some(c)) => c,
            (None, None) => net::generate_certificate()?,
        };
        let mut rtc = RtcConfiguration::new(certificate, net::os_seed());
        rtc.dtls_context = config.dtls_context;
        rtc.ice_servers = config.ice_servers;
        rtc.ice_lite = config.ice_lite;
        rtc.dtls_answer_role = config.dtls_answer_role;
        rtc.media = config.media;
        let max_unread = match config.max_unread {
            0 => crate::channel::PAUSE_READS_AT,
            n => n,
        };
        if rtc.media.wall_clock.is_none() {
            let since_epoch = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap_or_default();
            rtc.media.wall_clock = Some((Instant::now(), since_epoch));
        }
        if config.relay_only {
            rtc.ice_transport_policy = rtcweb::IceTransportPolicy::Relay;
        }
        net::resolve_ice_servers(&mut rtc).await;
        let mut pc = PeerConnection::new(rtc)?;
        let bind = if config.bind.is_empty() {
            net::interface_addresses()
                .into_iter()
                .map(|ip| SocketAddr::new(ip, 0))
                .collect()
        } else {
            config.bind
        };
        let (sockets, incoming) = Sockets::bind(&bind, config.extra_tls_roots).await?;
        let now = Instant::now();
        for addr in sockets.local_addrs() {
            pc.add_local_address(now, addr);
        }
        let (control_tx, control_rx) = mpsc::unbounded_channel();
        let (media_tx, media_rx) = mpsc::channel(MEDIA_EVENT_QUEUE);
        let (state_tx, state_rx) = watch::channel(PeerConnectionState::New);
        let wake = Arc::new(Notify::new());
        let shared = Arc::new(Shared {
            inner: Mutex::new(Inner {
                pc,
                channels: HashMap::new(),
                control_events: control_tx,
                media_events: media_tx,
                dropped_events: 0,
                dropped: false,
                state: state_tx,
                unread: Arc::new(Unread::new(wake.clone(), max_unread)),
                guard: std::sync::Weak::new(),
            }),
            wake,
        });
        let local_addrs = Arc::new(sockets.local_addrs());
        let span = info_span!("peer", local = ?local_addrs.first());
        LIVE_DRIVERS.fetch_add(1, Ordering::SeqCst);
        tokio::spawn(drive(shared.clone(), sockets, incoming).instrument(span));
        let guard = Arc::new(HandleGuard(shared.clone()));
        shared.lock().guard = Arc::downgrade(&guard);
        let handle = Self {
            guard,
            local_addrs,
            state: state_rx,
        };
        Ok((
            handle,
            Events {
                control: control_rx,
                media: media_rx,
            },
        ))
    }

    pub(crate) fn shared(&self) -> &Arc<Shared> {
        &self.guard.0
    }

    /// Runs `f` on the PeerConnection with the current time, then wakes the driver so that
    /// whatever `f` produced is sent.
    pub(crate) fn with<T>(&self, f: impl FnOnce(&mut PeerConnection, Instant) -> T) -> T {
        let shared = self.shared();
        let out = {
            let mut inner = shared.lock();
            f(&mut inner.pc, Instant::now())
        };
        shared.wake.notify_one();
        out
    }

    /// The local UDP socket addresses.
    pub fn local_addrs(&self) -> &[SocketAddr] {
        &self.local_addrs
    }

    /// `createOffer()`.
    pub fn create_offer(&self) -> Result<SessionDescription, Error> {
        Ok(self.with(|pc, _| pc.create_offer())?)
    }

    /// `createOffer({iceRestart: true})`.
    pub fn create_offer_with_ice_restart(&self) -> Result<SessionDescription, Error> {
        Ok(self.with(|pc, _| pc.create_offer_with_ice_restart())?)
    }

    /// `createAnswer()`.
    pub fn create_answer(&self) -> Result<SessionDescription, Error> {
        Ok(self.with(|pc, _| pc.create_answer())?)
    }

    /// `setLocalDescription()`.
    pub fn set_local_description(&self, d: &SessionDescription) -> Result<(), Error> {
        Ok(self.with(|pc, now| pc.set_local_description(now, d))?)
    }

    /// `setRemoteDescription()`.
    pub fn set_remote_description(&self, d: &SessionDescription) -> Result<(), Error> {
        Ok(self.with(|pc, now| pc.set_remote_description(now, d))?)
    }

    /// `addIceCandidate()`; an empty candidate is end-of-candidates.
    pub fn add_ice_candidate(&self, c: &IceCandidateInit) -> Result<(), Error> {
        Ok(self.with(|pc, now| pc.add_ice_candidate(now, c))?)
    }

    /// `restartIce()`.
    pub fn restart_ice(&self) {
        self.with(|pc, _| pc.restart_ice());
    }

    /// `addTransceiver(kind, {direction})`.
    pub fn add_transceiver(
        &self,
        kind: rtcweb::MediaKind,
        direction: rtcweb::Direction,
    ) -> TransceiverId {
        self.with(|pc, _| pc.add_transceiver(kind, direction))
    }

    /// `transceiver.direction = direction`; a sending direction gives the transceiver a
    /// sender when it has none (see `rtcweb::PeerConnection::set_direction`).
    pub fn set_direction(
        &self,
        transceiver: TransceiverId,
        direction: rtcweb::Direction,
    ) -> Result<(), Error> {
        Ok(self.with(|pc, _| pc.set_direction(transceiver, direction))?)
    }

    /// The transceivers as they are now (kind, mid, direction, codecs, sender).
    pub fn transceivers(&self) -> Vec<rtcweb::Transceiver> {
        self.with(|pc, _| pc.transceivers().to_vec())
    }

    /// The sending SSRC of a transceiver.
    pub fn sending_ssrc(&self, transceiver: TransceiverId) -> Option<u32> {
        self.with(|pc, _| pc.sending_ssrc(transceiver))
    }

    /// Sends a plain RTP packet on a transceiver (SRTP-protected on the way).
    pub fn write_rtp(&self, transceiver: TransceiverId, packet: &[u8]) -> Result<(), Error> {
        Ok(self.with(|pc, now| pc.write_rtp(now, transceiver, packet))?)
    }

    /// Sends a plain RTCP packet.
    pub fn write_rtcp(&self, packet: &[u8]) -> Result<(), Error> {
        Ok(self.with(|pc, now| pc.write_rtcp(now, packet))?)
    }

    /// Sends one encoded frame on a transceiver (`rtcweb::MediaMode::Session`; see
    /// `rtcweb::PeerConnection::write_frame`).
    pub fn write_frame(
        &self,
        transceiver: TransceiverId,
        payload_type: u8,
        rtp_timestamp: u32,
        frame: &[u8],
    ) -> Result<(), Error> {
        Ok(self
            .with(|pc, now| pc.write_frame(now, transceiver, payload_type, rtp_timestamp, frame))?)
    }

    /// Asks the peer for a key frame of what a transceiver receives; whether a request
    /// went out (they are rate limited).
    pub fn request_keyframe(
        &self,
        transceiver: TransceiverId,
        kind: rtcweb::KeyframeRequest,
    ) -> Result<bool, Error> {
        Ok(self.with(|pc, now| pc.request_keyframe(now, transceiver, kind))?)
    }

    /// The local description (with the candidates gathered so far).
    pub fn local_description(&self) -> Option<String> {
        self.with(|pc, _| pc.local_description_sdp())
    }

    /// `createDataChannel(label, init)`.
    pub fn create_data_channel(
        &self,
        label: &str,
        init: &DataChannelInit,
    ) -> Result<DataChannel, Error> {
        let shared = self.shared().clone();
        let id = {
            let mut inner = shared.lock();
            let id = inner.pc.create_data_channel(Instant::now(), label, init)?;
            let slot = ChannelSlot::new(label, inner.unread.clone());
            let dc = DataChannel::new(self.guard.clone(), id, &slot);
            inner.channels.insert(id, slot);
            dc
        };
        shared.wake.notify_one();
        Ok(id)
    }

    /// `signalingState`.
    pub fn signaling_state(&self) -> rtcweb::SignalingState {
        self.with(|pc, _| pc.signaling_state())
    }

    /// The connection state now.
    pub fn connection_state(&self) -> PeerConnectionState {
        *self.state.borrow()
    }

    /// Waits until the connection is connected (or fails, or `timeout` passes).
    pub async fn connected(&self, timeout: Duration) -> Result<(), Error> {
        let mut rx = self.state.clone();
        let wait = rx.wait_for(|s| {
            matches!(
                s,
                PeerConnectionState::Connected
                    | PeerConnectionState::Failed
                    | PeerConnectionState::Closed
            )
        });
        match tokio::time::timeout(timeout, wait).await {
            Ok(Ok(s)) if *s == PeerConnectionState::Connected => Ok(()),
            Ok(_) => Err(Error::Closed),
            Err(_) => Err(Error::Timeout),
        }
    }

    /// The selected candidate pair: local, remote.
    pub fn selected_candidate_pair(&self) -> Option<(rtcweb::Candidate, rtcweb::Candidate)> {
        self.with(|pc, _| pc.selected_candidate_pair())
    }

    /// DTLS version and SRTP profile in use.
    pub fn dtls_info(&self) -> (Option<rtcweb::DtlsVersion>, Option<&'static str>) {
        self.with(|pc, _| (pc.dtls_version(), pc.srtp_profile()))
    }

    /// Transport statistics with W3C names (see `rtcweb::PeerConnection::stats`).
    pub fn stats(&self) -> rtcweb::StatsReport {
        self.with(|pc, now| pc.stats(now))
    }

    /// Media-rate events dropped so far because the application did not read them fast
    /// enough (see [`Events`]). State changes, candidates, channels and tracks are never
    /// dropped.
    pub fn dropped_events(&self) -> u64 {
        self.shared().lock().dropped_events
    }

    /// `close()`.
    pub fn close(&self) {
        self.with(|pc, now| pc.close(now));
    }
}

/// The driver: owns the sockets, sleeps until the next timeout, a datagram or an API call,
/// and moves everything the PeerConnection produces out.
async fn drive(
    shared: Arc<Shared>,
    mut sockets: Sockets,
    mut incoming: mpsc::Receiver<crate::io::Received>,
) {
    let mdns = Arc::new(net::MdnsResolver::new());
    let mut closing_since: Option<Instant> = None;
    let mut buf = vec![0u8; crate::io::MAX_DATAGRAM];
    let mut due_now = 0u32;
    // The datagrams of one send: their buffers go back to the connection after they left,
    // so the next ones reuse them (`PeerConnection::recycle`).
    let mut batch: Vec<rtcweb::Transmit> = Vec::with_capacity(SEND_BATCH);
    loop {
        let (deadline, done) = {
            let mut inner = shared.lock();
            for t in batch.drain(..) {
                inner.pc.recycle(t.payload);
            }
            if inner.dropped && !inner.pc.connection_state().eq(&PeerConnectionState::Closed) {
                inner.pc.close(Instant::now());
            }
            regulate_reads(&mut inner);
            dispatch_events(&shared, &mut inner, &mdns);
            regulate_reads(&mut inner);
            while let Some(t) = inner.pc.poll_transmit() {
                batch.push(t);
                if batch.len() == SEND_BATCH {
                    break;
                }
            }
            // Transmitting raises events too (`bufferedamountlow` once data leaves): a sender
            // waiting for it must not wait for the driver's next wake-up.
            dispatch_events(&shared, &mut inner, &mdns);
            // Closed (by `close()` or because every handle is gone): nothing more will
            // happen. Handles that remain see a closed connection.
            let closed = inner.pc.connection_state() == PeerConnectionState::Closed;
            if closed {
                // No message will come any more: readers waiting in `recv()` and writers
                // waiting for buffer space must see the channel closed, not wait forever.
                for (_, slot) in inner.channels.drain() {
                    slot.set_closed();
                }
            }
            (inner.pc.poll_timeout(), closed)
        };
        let more = batch.len() == SEND_BATCH;
        sockets.send_all(&batch).await;
        if more {
            // More to send: first take in what arrived meanwhile (acknowledgements open the
            // window, and the peer should not wait for them behind our whole burst).
            let mut inner = shared.lock();
            let now = Instant::now();
            sockets.recv_udp(&mut buf, |local, remote, d| {
                inner
                    .pc
                    .handle_input(now, rtcweb::Datagram::udp(remote, local, d));
            });
            continue;
        }
        if done {
            // Give TURN deallocation a moment to leave, then stop.
            let since = *closing_since.get_or_insert_with(Instant::now);
            if since.elapsed() > Duration::from_millis(200) || !sockets.has_streams() {
                break;
            }
        }
        // A deadline that has already passed (ICE schedules its first check "now") is handled
        // at once: tokio's timer rounds a sleep up to its next millisecond tick, which would
        // add up to a millisecond to every such step of a connection's setup. Bounded, so a
        // deadline that does not move on cannot keep the driver from its sockets.
        if due_now < 8 && deadline.is_some_and(|d| d <= Instant::now()) {
            due_now += 1;
            shared.lock().pc.handle_timeout(Instant::now());
            continue;
        }
        due_now = 0;
        let sleep_until = deadline.map(tokio::time::Instant::from_std);
        tokio::select! {
            () = crate::io::udp_readable(sockets.udp()) => {
                let mut inner = shared.lock();
                let now = Instant::now();
                sockets.recv_udp(&mut buf, |local, remote, d| {
                    inner.pc.handle_input(now, rtcweb::Datagram::udp(remote, local, d));
                });
            }
            received = incoming.recv() => {
                let Some(r) = received else { break };
                let mut inner = shared.lock();
                let now = Instant::now();
                inner.pc.handle_input(now, r.as_datagram());
                // Drain whatever else already arrived, under the same lock.
                while let Ok(r) = incoming.try_recv() {
                    inner.pc.handle_input(now, r.as_datagram());
                }
            }
            () = async {
                match sleep_until {
                    Some(t) => tokio::time::sleep_until(t).await,
                    None => std::future::pending().await,
                }
            } => {
                let mut inner = shared.lock();
                inner.pc.handle_timeout(Instant::now());
            }
            () = shared.wake.notified() => {}
        }
    }
    sockets.shutdown().await;
    trace!("driver stopped");
    LIVE_DRIVERS.fetch_sub(1, Ordering::SeqCst);
}

/// Routes PeerConnection events: data channel traffic to its channel, the rest to the
/// application's stream (dropped when the application does not read).
fn dispatch_events(shared: &Arc<Shared>, inner: &mut Inner, mdns: &Arc<net::MdnsResolver>) {
    while let Some(event) = inner.pc.poll_event() {
        let out = match event {
            Event::IceCandidate(c) => Some(PeerEvent::IceCandidate(c)),
            Event::NegotiationNeeded => Some(PeerEvent::NegotiationNeeded),
            Event::ConnectionState(s) => {
                let _ = inner.state.send(s);
                Some(PeerEvent::ConnectionState(s))
            }
            Event::IceConnectionState(s) => Some(PeerEvent::IceConnectionState(s)),
            Event::SelectedCandidatePair { local, remote } => {
                Some(PeerEvent::SelectedCandidatePair { local, remote })
            }
            Event::DtlsConnected {
                version,
                srtp_profile,
            } => Some(PeerEvent::DtlsConnected {
                version,
                srtp_profile,
            }),
            Event::Track { transceiver, mid } => Some(PeerEvent::Track { transceiver, mid }),
            Event::Rtp {
                transceiver,
                packet,
            } => Some(PeerEvent::Rtp {
                transceiver,
                packet,
            }),
            Event::Rtcp { packet } => Some(PeerEvent::Rtcp { packet }),
            Event::Frame { transceiver, frame } => Some(PeerEvent::Frame { transceiver, frame }),
            Event::KeyframeRequest { transceiver, kind } => {
                Some(PeerEvent::KeyframeRequest { transceiver, kind })
            }
            Event::TargetBitrate(rate) => Some(PeerEvent::TargetBitrate(rate)),
            Event::IceGatheringState(s) => Some(PeerEvent::IceGatheringState(s)),
            Event::SignalingState(s) => Some(PeerEvent::SignalingState(s)),
            Event::TransportFeedback(f) => Some(PeerEvent::TransportFeedback(f)),
            Event::Remb { bitrate } => Some(PeerEvent::Remb(bitrate)),
            Event::ResolveMdns(name) => {
                let (shared, mdns) = (shared.clone(), mdns.clone());
                tokio::spawn(async move {
                    if let Some(ip) = mdns.resolve(&name, Duration::from_secs(3)).await {
                        resolved(&shared, &name, ip);
                    } else {
                        debug!(%name, "mDNS name did not resolve");
                    }
                });
                None
            }
            Event::DataChannel(e) => on_channel_event(inner, e),
            // rtcweb's events are non-exhaustive: one added there and not here is a bug here.
            other => {
                debug!(event = ?other, "event not forwarded to the application");
                None
            }
        };
        let Some(e) = out else { continue };
        if e.is_media() {
            if inner.media_events.try_send(e).is_err() {
                inner.dropped_events += 1;
            }
        } else {
            // Fails only when the application dropped its `Events`.
            let _ = inner.control_events.send(e);
        }
    }
}

/// Pauses or resumes taking data-channel messages as the readers fall behind or catch up
/// (resumed messages become events for the dispatch that follows).
fn regulate_reads(inner: &mut Inner) {
    if let Some(paused) = inner.unread.regulate() {
        trace!(paused, "data-channel reads");
        inner.pc.pause_data_channel_reads(Instant::now(), paused);
    }
}

fn resolved(shared: &Arc<Shared>, name: &str, ip: IpAddr) {
    shared.lock().pc.resolve_mdns(Instant::now(), name, ip);
    shared.wake.notify_one();
}

fn on_channel_event(inner: &mut Inner, e: DataChannelEvent) -> Option<PeerEvent> {
    match e {
        DataChannelEvent::Incoming { id, label, .. } => {
            let slot = ChannelSlot::new(&label, inner.unread.clone());
            slot.set_open();
            // The incoming channel's handle keeps the connection alive like any other.
            let guard = inner.guard.upgrade()?;
            let dc = DataChannel::new(guard, id, &slot);
            inner.channels.insert(id, slot);
            Some(PeerEvent::DataChannel(dc))
        }
        DataChannelEvent::Open { id } => {
            if let Some(slot) = inner.channels.get(&id) {
                slot.set_open();
            }
            None
        }
        DataChannelEvent::Message { id, data, binary } => {
            if let Some(slot) = inner.channels.get(&id) {
                slot.deliver(Message { data, binary });
            }
            None
        }
        // A sender waiting in `send` retries on either.
        DataChannelEvent::BufferedAmountLow { id } | DataChannelEvent::Writable { id } => {
            if let Some(slot) = inner.channels.get(&id) {
                slot.buffered_low.notify_waiters();
            }
            None
        }
        DataChannelEvent::Closed { id } => {
            if let Some(slot) = inner.channels.remove(&id) {
                slot.set_closed();
            }
            None
        }
        _ => None,
    }
}
