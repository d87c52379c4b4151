//! What a `PeerConnection` tells its owner, and what it asks the owner to send.

pub use rtcweb_core::{Candidate, CandidateKind, Protocol, Transmit};
pub use rtcweb_dtls::DtlsVersion;
pub use rtcweb_ice::{ConnectionState as IceConnectionState, GatheringState};
pub use rtcweb_jsep::{SignalingState, TransceiverId};

use crate::signaling::IceCandidateInit;

/// `RTCPeerConnectionState`: ICE and DTLS together.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PeerConnectionState {
    /// Nothing has started.
    New,
    /// ICE is checking or DTLS is handshaking.
    Connecting,
    /// ICE has a pair and DTLS is up.
    Connected,
    /// ICE lost its pair for now.
    Disconnected,
    /// ICE or DTLS failed.
    Failed,
    /// `close()` was called.
    Closed,
}

/// An event from [`crate::PeerConnection::poll_event`].
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Event {
    /// Something changed that needs an offer/answer exchange.
    NegotiationNeeded,
    /// A local candidate to signal, or `None` when gathering is complete (the browser's
    /// null candidate).
    IceCandidate(Option<IceCandidateInit>),
    /// The ICE gathering state changed.
    IceGatheringState(GatheringState),
    /// The ICE connection state changed.
    IceConnectionState(IceConnectionState),
    /// The overall connection state changed.
    ConnectionState(PeerConnectionState),
    /// The signaling state changed.
    SignalingState(SignalingState),
    /// Data now flows over this candidate pair.
    SelectedCandidatePair {
        /// Local candidate.
        local: Candidate,
        /// Remote candidate.
        remote: Candidate,
    },
    /// DTLS is up; SRTP keys are in place.
    DtlsConnected {
        /// The negotiated version (displays as `DTLS 1.2` or `DTLS 1.3`).
        version: DtlsVersion,
        /// The SRTP protection profile name, if media was negotiated.
        srtp_profile: Option<&'static str>,
    },
    /// A transceiver receives media from the peer (the W3C `track` event).
    Track {
        /// The transceiver.
        transceiver: TransceiverId,
        /// Its mid.
        mid: String,
    },
    /// An RTP packet arrived and was decrypted.
    Rtp {
        /// The transceiver it belongs to, when known (by SSRC or payload type).
        transceiver: Option<TransceiverId>,
        /// The plain RTP packet.
        packet: Vec<u8>,
    },
    /// An RTCP compound packet arrived and was decrypted.
    Rtcp {
        /// The plain RTCP packet.
        packet: Vec<u8>,
    },
    /// A whole frame arrived on a transceiver ([`crate::MediaMode::Session`]): reassembled,
    /// in decode order, after NACK/RTX had its chance (a frame that could not be repaired is
    /// dropped and a key frame asked for).
    Frame {
        /// The transceiver that receives it.
        transceiver: TransceiverId,
        /// The frame: payload type, RTP timestamp, key frame flag, resolution (VP8/VP9 key
        /// frames) and the encoded bytes.
        frame: rtcweb_rtp::frame::Frame,
    },
    /// The peer asks for a key frame of what a transceiver sends (PLI or FIR,
    /// [`crate::MediaMode::Session`]): the encoder should make one.
    KeyframeRequest {
        /// The sending transceiver.
        transceiver: TransceiverId,
        /// PLI or FIR.
        kind: rtcweb_rtp::session::KeyframeRequest,
    },
    /// Transport-wide CC feedback on what we sent, matched with the send times
    /// ([`crate::MediaMode::Session`]): the input of a bandwidth estimator.
    TransportFeedback(Vec<rtcweb_rtp::session::PacketFeedback>),
    /// The peer's receiver-side bandwidth estimate (REMB).
    Remb {
        /// Bits per second.
        bitrate: u64,
    },
    /// The bandwidth estimate changed ([`crate::MediaConfig::congestion_control`]): the
    /// encoders together should produce `target` (media and retransmissions); the rest is
    /// how it was reached (the limiting estimate, RTT, loss).
    TargetBitrate(crate::TargetRate),
    /// A data channel event.
    DataChannel(crate::data_channel::DataChannelEvent),
    /// A remote candidate uses this mDNS name: resolve it and call
    /// [`crate::PeerConnection::resolve_mdns`].
    ResolveMdns(String),
}
