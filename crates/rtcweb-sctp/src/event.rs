//! What a [`SctpTransport`](crate::SctpTransport) reports: events, states and counters.

use std::time::Duration;

use crate::{ChannelId, Message};

/// Why the association ended.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum CloseReason {
    /// We shut it down gracefully ([`SctpTransport::shutdown`](crate::SctpTransport::shutdown)).
    LocalShutdown,
    /// The peer shut it down gracefully (SHUTDOWN).
    PeerShutdown,
    /// We aborted it ([`SctpTransport::abort`](crate::SctpTransport::abort)).
    LocalAbort,
    /// The peer aborted it (ABORT).
    PeerAbort,
    /// The handshake (INIT / COOKIE) did not complete.
    HandshakeFailed(String),
    /// Anything else: retransmissions exhausted, a shutdown never answered, a protocol error.
    Failed(String),
}

/// W3C `RTCSctpTransportState`, plus the time before [`start`](crate::SctpTransport::start).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TransportState {
    /// Not started: DTLS is not connected yet. Channels can be created already.
    New,
    /// The SCTP handshake is running.
    Connecting,
    /// The association is established.
    Connected,
    /// The association ended; see [`Event::Closed`].
    Closed,
}

/// Something the application must know, from
/// [`SctpTransport::poll_event`](crate::SctpTransport::poll_event).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Event {
    /// The association is established (W3C `RTCSctpTransport` state "connected").
    Connected,
    /// A channel is open: one we created (`remote: false`, W3C `open`) or one the peer
    /// announced (`remote: true`, W3C `datachannel` then `open`). Its description is
    /// [`SctpTransport::channel`](crate::SctpTransport::channel).
    ChannelOpen {
        /// The channel.
        id: ChannelId,
        /// Whether the peer opened it.
        remote: bool,
    },
    /// A message arrived on an open channel.
    Message {
        /// The channel.
        id: ChannelId,
        /// The message.
        message: Message,
    },
    /// A send on this channel was refused with [`Error::WouldBlock`](crate::Error::WouldBlock)
    /// and the send buffer has room again: try once more.
    Writable {
        /// The channel.
        id: ChannelId,
    },
    /// The channel's buffered amount fell from above its low threshold to at or below it
    /// (W3C `bufferedamountlow`).
    BufferedAmountLow {
        /// The channel.
        id: ChannelId,
    },
    /// The channel is closed in both directions (W3C `close`); its id may be reused.
    ChannelClosed {
        /// The channel.
        id: ChannelId,
    },
    /// The association ended. Every channel got [`Event::ChannelClosed`] before this.
    Closed {
        /// Why.
        reason: CloseReason,
    },
}

/// Per-association counters (W3C `RTCTransportStats` / `RTCSctpTransportStats` subset).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct TransportStats {
    /// SCTP packets handed out by `poll_transmit`.
    pub packets_sent: u64,
    /// Bytes of those packets.
    pub bytes_sent: u64,
    /// SCTP packets passed to `handle_input`.
    pub packets_received: u64,
    /// Bytes of those packets.
    pub bytes_received: u64,
    /// Packets ignored because the transport was not started or already closed.
    pub packets_ignored: u64,
    /// Messages sent on every channel.
    pub messages_sent: u64,
    /// Messages delivered on every channel.
    pub messages_received: u64,
    /// Messages dropped: for no open channel, above our max-message-size, or malformed DCEP.
    pub messages_dropped: u64,
    /// Channels that reached [`ChannelState::Open`](crate::ChannelState::Open).
    pub channels_opened: u64,
    /// Channels that reached [`ChannelState::Closed`](crate::ChannelState::Closed).
    pub channels_closed: u64,
    /// Packets that carried retransmitted DATA.
    pub retransmitted_packets: u64,
    /// Smoothed round-trip time (zero before the first measurement).
    pub srtt: Duration,
    /// RFC 8260 user message interleaving (I-DATA) is in use: both sides offered it.
    pub message_interleaving: bool,
    /// RFC 9653 zero checksum is in use: both sides offered it (over DTLS).
    pub zero_checksum: bool,
    /// Packets received with checksum 0 (what the peer sends when zero checksum is in use).
    pub zero_checksum_packets_received: u64,
    /// Bytes sent on every channel and not yet acknowledged (the send buffer's fill; the
    /// channels' W3C `bufferedAmount` counts only what is not yet transmitted).
    pub buffered_amount: u64,
}
