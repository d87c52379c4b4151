//! rtcweb: a WebRTC `PeerConnection` as a sans-IO state machine.
//!
//! [`PeerConnection`] composes the rtcweb protocol crates: JSEP offer/answer
//! (`rtcweb-jsep`), ICE with its own gathering through STUN and TURN (`rtcweb-ice`), DTLS-SRTP
//! keying (`rtcweb-dtls`), SRTP (`rtcweb-srtp`) and data channels. It never opens a socket
//! or reads a clock: a driver (such as `rtcweb-tokio`) owns the sockets and the time.
//!
//! The API follows the W3C `RTCPeerConnection`: [`PeerConnection::create_offer`],
//! [`PeerConnection::set_local_description`], [`PeerConnection::set_remote_description`],
//! [`PeerConnection::add_ice_candidate`], [`PeerConnection::add_transceiver`], and events
//! from [`PeerConnection::poll_event`]. Signaling messages are plain data ([`signaling`]),
//! JSON-compatible with the browser's.

mod config;
mod data_channel;

mod demux;
mod error;
mod event;
mod pc;
pub mod signaling;
mod stats;

pub use config::{
    IceCredential, IceServer, IceServerUrl, IceTransportPolicy, RtcConfiguration, Scheme,
    UrlTransport,
};
pub use data_channel::{
    DataChannelEvent, DataChannelId, DataChannelInit, DataChannelState, Priority, Reliability,
};
pub use demux::{Demux, classify, is_rtcp};
pub use error::Error;
pub use event::{
    Event, GatheringState, IceConnectionState, PeerConnectionState, Protocol, SignalingState,
    TransceiverId, Transmit,
};
pub use pc::PeerConnection;
pub use rtcweb_dtls::{Certificate, DtlsConfig, DtlsContext};
pub use rtcweb_jsep::sdp::{Direction, MediaKind};
pub use rtcweb_jsep::{BundlePolicy, SendParams, Transceiver};
pub use signaling::{IceCandidateInit, SdpType, SessionDescription, SignalingMessage};
pub use stats::{CandidatePairStats, DataChannelStats, StatsReport, TransportStats};
