//! WebRTC data channels (RFC 8831), sans-IO: DCEP (RFC 8832) over an SCTP association
//! (RFC 9260 with partial reliability, RFC 3758, and stream reset, RFC 6525) that rides in
//! DTLS application data (RFC 8261), configured from SDP (RFC 8841).
//!
//! - [`SctpTransport`]: the association and its channels. Packets in and out, timers and
//!   events are the caller's (the same `handle_*` / `poll_*` face as every rtcweb layer).
//! - [`ChannelOptions`]: W3C `RTCDataChannelInit`: ordered, `maxPacketLifeTime`,
//!   `maxRetransmits`, protocol, negotiated id, priority.
//! - [`dcep`]: the DATA_CHANNEL_OPEN / DATA_CHANNEL_ACK codec.
//!
//! Stream ids follow the DTLS role ([`Role`]): the client's channels are even, the server's
//! odd. Messages up to the peer's `a=max-message-size` are sent (larger ones are refused with
//! [`Error::MessageTooLarge`]); a full send buffer gives [`Error::WouldBlock`] rather than
//! growing.
//!
//! # Driving it from a PeerConnection
//!
//! - Create the transport when the SDP is negotiated: [`SctpConfig`] takes both
//!   `a=sctp-port` values and both `a=max-message-size` values (`None` when the peer's SDP
//!   has none), [`Role`] comes from `a=setup` (the DTLS role). Channels may be created
//!   before DTLS is up; they open with the association.
//! - The DTLS client sends INIT; a peer's INIT that crosses it (Chromium, aiortc, pion,
//!   node-datachannel and werift all send one as DTLS server, werift ignoring ours) is
//!   answered as RFC 9260 section 5.2.1 says, and one association results.
//!   [`SctpConfig::server_initiates`] makes the DTLS server send INIT as well.
//! - When DTLS connects, call [`SctpTransport::set_mtu`] with
//!   `DtlsEndpoint::max_application_data()` and then [`SctpTransport::start`].
//! - Every DTLS `ApplicationData` record goes to [`SctpTransport::handle_input`]; every
//!   packet from [`SctpTransport::poll_transmit`] becomes one `DtlsEndpoint::send`.
//!   Merge [`SctpTransport::poll_timeout`] into the connection's timer.
//! - Drain [`SctpTransport::poll_event`] after every call: received messages are read from
//!   the association only up to [`SctpConfig::receive_window`] bytes of undelivered events.
//! - [`SctpTransport::abort`] on `RTCPeerConnection.close()`; ICE consent failure (RFC 7675)
//!   is what ends an association whose peer vanished (SCTP itself retransmits forever).
//!
//! The SCTP association itself runs in an engine behind an internal seam: dcSCTP's Rust port
//! ([dcsctp](https://docs.rs/dcsctp), with the patches of patches/dcsctp;
//! docs/decisions/0008-sctp-engine-dcsctp.md says why). What it brings to the channels:
//! heartbeats, RFC 8260 interleaving ([`SctpConfig::message_interleaving`]) with a weighted
//! fair queueing scheduler fed by each channel's W3C `priority`, RFC 9653 zero checksum over
//! DTLS ([`SctpConfig::zero_checksum`]), a window update when a paused reader resumes, and
//! reproducible runs from [`SctpConfig::rng_seed`].

pub mod dcep;
pub mod ppid;

mod channel;
mod config;
mod engine;
mod error;
mod event;
mod transport;

pub use channel::{
    ChannelId, ChannelInfo, ChannelOptions, ChannelState, ChannelStats, Message, MessageKind,
    Priority, Reliability,
};
pub use config::SctpConfig;
pub use error::Error;
pub use event::{CloseReason, Event, TransportState, TransportStats};
pub use rtcweb_core::{Role, SansIo};
pub use transport::SctpTransport;
