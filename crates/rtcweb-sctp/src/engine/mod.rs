//! The seam between data channels and the SCTP association that carries them.
//!
//! [`SctpTransport`](crate::SctpTransport) owns DCEP, channel bookkeeping and the public API;
//! everything below (RFC 9260 with RFC 3758 partial reliability and RFC 6525 stream reset)
//! is an [`Engine`]: `dcsctp` ([`dcsctp::Dcsctp`], with the patches of patches/dcsctp;
//! docs/decisions/0008-sctp-engine-dcsctp.md says why).

use std::time::{Duration, Instant};

use bytes::Bytes;

use crate::{CloseReason, Error};

pub(crate) mod dcsctp;

/// How long a graceful shutdown may take before the association is aborted.
pub(crate) const SHUTDOWN_GRACE: Duration = Duration::from_secs(30);

/// How the messages of one outgoing stream are sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct StreamPolicy {
    pub unordered: bool,
    pub reliability: crate::Reliability,
    /// The channel's priority (DCEP value: 128, 256, 512 or 1024), a weight for the stream
    /// scheduler.
    pub priority: u16,
}

/// What happened inside the engine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum EngineEvent {
    /// The association is established.
    Connected,
    /// Both directions of a stream are reset (RFC 6525); the id is free again.
    StreamReset(u16),
    /// Outgoing bytes of a stream (not DCEP) went on the wire for the first time.
    Transmitted { stream: u16, bytes: usize },
    /// Outgoing bytes of a stream were acknowledged or abandoned.
    Released { stream: u16, bytes: usize },
}

/// Result of [`Engine::read`].
#[derive(Debug)]
pub(crate) enum Read {
    /// One message with its stream and PPID.
    Message { stream: u16, ppid: u32, data: Bytes },
    /// A message larger than the limit arrived and was discarded.
    TooLarge { stream: u16, len: usize },
    /// No complete message now.
    Empty,
}

/// Where the association is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum EngineState {
    Idle,
    Connecting,
    Established,
    ShuttingDown,
    Closed(CloseReason),
}

/// Engine counters.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct EngineStats {
    pub retransmitted_packets: u64,
    pub rtt: Duration,
    pub message_interleaving: bool,
    pub zero_checksum: bool,
}

/// An SCTP association engine, sans-IO.
pub(crate) trait Engine {
    /// Starts the association: a client sends INIT, a server waits for one.
    fn start(&mut self, now: Instant) -> Result<(), Error>;
    /// One SCTP packet from the peer (the payload of one DTLS record).
    fn handle_packet(&mut self, now: Instant, packet: &[u8]);
    /// Time has passed.
    fn handle_timeout(&mut self, now: Instant);
    /// Next instant for [`handle_timeout`](Self::handle_timeout).
    fn poll_timeout(&self) -> Option<Instant>;
    /// Next SCTP packet for DTLS.
    fn poll_transmit(&mut self, now: Instant) -> Option<Bytes>;
    /// Next engine event.
    fn poll_event(&mut self) -> Option<EngineEvent>;
    /// Creates (or adopts, if the peer already used it) outgoing stream `id`.
    fn open_stream(&mut self, id: u16, policy: StreamPolicy) -> Result<(), Error>;
    /// Changes how later messages of stream `id` are sent.
    fn set_policy(&mut self, id: u16, policy: StreamPolicy) -> Result<(), Error>;
    /// Queues one message; DCEP (PPID 50) always goes reliable and ordered.
    fn send(&mut self, now: Instant, id: u16, ppid: u32, data: Bytes) -> Result<(), Error>;
    /// Takes the next complete message (of any stream), if one at most `max_len` bytes.
    fn read(&mut self, max_len: usize) -> Read;
    /// Resets outgoing stream `id` (closing the channel, RFC 8831 section 6.7).
    fn reset_stream(&mut self, now: Instant, id: u16) -> Result<(), Error>;
    /// Graceful SHUTDOWN.
    fn shutdown(&mut self, now: Instant);
    /// ABORT.
    fn abort(&mut self, now: Instant);
    /// Where the association is.
    fn state(&self) -> EngineState;
    /// Streams usable in each direction, once established.
    fn max_streams(&self) -> Option<u16>;
    /// Counters.
    fn stats(&self) -> EngineStats;
}
