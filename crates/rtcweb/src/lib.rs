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
//!
//! Media comes in two modes ([`MediaConfig::mode`]): [`MediaMode::Raw`] hands SRTP-decrypted
//! RTP and RTCP packets to the application ([`Event::Rtp`], [`PeerConnection::write_rtp`]);
//! [`MediaMode::Session`] puts an RTP session (`rtcweb-rtp`) behind the connection, built
//! from each negotiation: whole frames out and in ([`PeerConnection::write_frame`],
//! [`Event::Frame`]), key frame requests ([`PeerConnection::request_keyframe`],
//! [`Event::KeyframeRequest`]), NACK/RTX, sender and receiver reports, transport-wide CC
//! feedback, and `inbound-rtp`/`outbound-rtp` in [`PeerConnection::stats`].

mod config;
mod data_channel;

mod demux;
mod error;
mod event;
mod media_stats;
mod pc;
pub mod signaling;
mod stats;

pub use config::{
    DtlsAnswerRole, IceCredential, IceServer, IceServerUrl, IceTransportPolicy, MediaConfig,
    MediaMode, Resilience, RtcConfiguration, Scheme, UrlTransport,
};
pub use data_channel::{
    DataChannelEvent, DataChannelId, DataChannelInit, DataChannelState, Priority, Reliability,
};
pub use demux::{Demux, classify, is_rtcp};
pub use error::Error;
pub use event::{
    Candidate, CandidateKind, DtlsVersion, Event, GatheringState, IceConnectionState,
    PeerConnectionState, Protocol, SignalingState, TransceiverId, Transmit,
};
pub use media_stats::{
    InboundRtpStats, OutboundRtpStats, RemoteInboundRtpStats, RemoteOutboundRtpStats,
};
pub use pc::{MAX_POOLED_BUFFERS, PeerConnection};
pub use rtcweb_bwe::{Bitrate, Limit, TargetRate};
pub use rtcweb_core::{Datagram, ErrorCategory, SansIo, Seed};
pub use rtcweb_dtls::{Certificate, DtlsConfig, DtlsContext, VersionPolicy};
pub use rtcweb_jsep::sdp::{Direction, MediaKind};
pub use rtcweb_jsep::{BundlePolicy, SendParams, Transceiver};
/// The RTP layer (`rtcweb-rtp`): codecs' key frame helpers, the frame type, the session's
/// event types.
pub use rtcweb_rtp as rtp;
pub use rtcweb_rtp::fec::ProtectionConfig;
pub use rtcweb_rtp::frame::Frame;
pub use rtcweb_rtp::playout::PlayoutConfig;
pub use rtcweb_rtp::session::{KeyframeRequest, PacketFeedback};
pub use signaling::{IceCandidateInit, SdpType, SessionDescription, SignalingMessage};
pub use stats::{
    CandidatePairStats, DataChannelStats, SctpTransportStats, StatsReport, TransportStats,
};
