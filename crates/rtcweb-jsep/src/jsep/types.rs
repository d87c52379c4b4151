//! Plain data that goes in and out of the JSEP state machine.

use rtcweb_core::Seed;
use std::fmt;

use crate::sdp::{
    Candidate, Codec, Direction, ExtMap, Fingerprint, Group, Limits, MediaKind, Msid, Rid, Role,
    Setup, Simulcast, SsrcAttribute, SsrcGroup,
};

/// RTCSignalingState (RFC 8829 section 3.2, W3C webrtc-pc 4.3.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SignalingState {
    /// No offer/answer exchange in progress.
    Stable,
    /// A local offer was applied.
    HaveLocalOffer,
    /// A remote offer was applied.
    HaveRemoteOffer,
    /// A remote offer and a local provisional answer were applied.
    HaveLocalPranswer,
    /// A local offer and a remote provisional answer were applied.
    HaveRemotePranswer,
    /// The session was closed.
    Closed,
}

impl SignalingState {
    /// Every state, for tables and tests.
    pub const ALL: [SignalingState; 6] = [
        SignalingState::Stable,
        SignalingState::HaveLocalOffer,
        SignalingState::HaveRemoteOffer,
        SignalingState::HaveLocalPranswer,
        SignalingState::HaveRemotePranswer,
        SignalingState::Closed,
    ];
}

impl fmt::Display for SignalingState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            SignalingState::Stable => "stable",
            SignalingState::HaveLocalOffer => "have-local-offer",
            SignalingState::HaveRemoteOffer => "have-remote-offer",
            SignalingState::HaveLocalPranswer => "have-local-pranswer",
            SignalingState::HaveRemotePranswer => "have-remote-pranswer",
            SignalingState::Closed => "closed",
        })
    }
}

/// RTCSdpType.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SdpType {
    /// `offer`
    Offer,
    /// `pranswer`
    Pranswer,
    /// `answer`
    Answer,
    /// `rollback`
    Rollback,
}

impl SdpType {
    /// Every type, for tables and tests.
    pub const ALL: [SdpType; 4] = [
        SdpType::Offer,
        SdpType::Pranswer,
        SdpType::Answer,
        SdpType::Rollback,
    ];
}

impl fmt::Display for SdpType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            SdpType::Offer => "offer",
            SdpType::Pranswer => "pranswer",
            SdpType::Answer => "answer",
            SdpType::Rollback => "rollback",
        })
    }
}

/// An API call, as named in errors and in the transition table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Call {
    /// `createOffer`
    CreateOffer,
    /// `createAnswer`
    CreateAnswer,
    /// `setLocalDescription` of a type.
    SetLocal(SdpType),
    /// `setRemoteDescription` of a type.
    SetRemote(SdpType),
    /// `close`
    Close,
}

impl fmt::Display for Call {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Call::CreateOffer => f.write_str("createOffer"),
            Call::CreateAnswer => f.write_str("createAnswer"),
            Call::SetLocal(t) => write!(f, "setLocalDescription({t})"),
            Call::SetRemote(t) => write!(f, "setRemoteDescription({t})"),
            Call::Close => f.write_str("close"),
        }
    }
}

/// RTCSessionDescriptionInit: a type and SDP text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Description {
    /// Type.
    pub sdp_type: SdpType,
    /// SDP text; empty means "the one last created" for `setLocalDescription`.
    pub sdp: String,
}

impl Description {
    /// Shorthand constructor.
    pub fn new(sdp_type: SdpType, sdp: impl Into<String>) -> Self {
        Description {
            sdp_type,
            sdp: sdp.into(),
        }
    }
}

/// RTCBundlePolicy. Both BUNDLE every m= section in offers; they differ when the peer does
/// not accept BUNDLE.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum BundlePolicy {
    /// Only the first m= section gets a transport if the peer refuses BUNDLE.
    #[default]
    MaxBundle,
    /// One transport per media kind if the peer refuses BUNDLE.
    Balanced,
}

/// ICE username fragment and password.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IceCredentials {
    /// ufrag (at least 4 characters).
    pub ufrag: String,
    /// pwd (at least 22 characters).
    pub pwd: String,
}

/// The data channel m= section's parameters (RFC 8841).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DataConfig {
    /// `a=sctp-port`
    pub sctp_port: u16,
    /// `a=max-message-size`
    pub max_message_size: u64,
}

impl Default for DataConfig {
    fn default() -> Self {
        DataConfig {
            sctp_port: 5000,
            max_message_size: 262_144,
        }
    }
}

/// What the session needs from its owner. Randomness comes in through `seed`.
#[derive(Debug, Clone)]
pub struct JsepConfig {
    /// Bundle policy (default max-bundle).
    pub bundle_policy: BundlePolicy,
    /// Local ICE credentials; generated from `seed` when `None`.
    pub ice_credentials: Option<IceCredentials>,
    /// `a=ice-options` tokens written in every description.
    pub ice_options: Vec<String>,
    /// Whether we are an ICE-lite agent.
    pub ice_lite: bool,
    /// Our DTLS certificate fingerprints.
    pub fingerprints: Vec<Fingerprint>,
    /// `a=setup` we answer an `actpass` offer with (RFC 8842 says active).
    pub answer_setup: Setup,
    /// Codecs for audio transceivers that a remote offer creates, in preference order.
    pub audio_codecs: Vec<Codec>,
    /// Codecs for video transceivers that a remote offer creates, in preference order.
    pub video_codecs: Vec<Codec>,
    /// Header extension URIs for audio.
    pub audio_extensions: Vec<String>,
    /// Header extension URIs for video.
    pub video_extensions: Vec<String>,
    /// Data channel parameters.
    pub data: DataConfig,
    /// Whether remote offers may open a data channel m= section.
    pub accept_data: bool,
    /// Write `a=extmap-allow-mixed`.
    pub extmap_allow_mixed: bool,
    /// Caps on remote descriptions.
    pub limits: Limits,
    /// The `o=` session id (below 2^63, RFC 3264 section 5); drawn from `seed` when `None`.
    pub session_id: Option<u64>,
    /// Seed for credentials, session id and other random choices.
    pub seed: Seed,
}

impl Default for JsepConfig {
    fn default() -> Self {
        JsepConfig {
            bundle_policy: BundlePolicy::MaxBundle,
            ice_credentials: None,
            ice_options: vec!["trickle".into()],
            ice_lite: false,
            fingerprints: Vec::new(),
            answer_setup: Setup::Active,
            audio_codecs: default_audio_codecs(),
            video_codecs: default_video_codecs(),
            audio_extensions: default_audio_extensions(),
            video_extensions: default_video_extensions(),
            data: DataConfig::default(),
            accept_data: true,
            extmap_allow_mixed: true,
            limits: Limits::default(),
            session_id: None,
            seed: Seed::from_u64(0),
        }
    }
}

/// Opus, with RED carrying it, and PCMU/PCMA: what browsers negotiate.
pub fn default_audio_codecs() -> Vec<Codec> {
    vec![
        Codec::new(111, "opus", 48000, Some(2))
            .with_fmtp("minptime=10;useinbandfec=1")
            .with_rtcp_fb(&["transport-cc"]),
        Codec::new(63, "red", 48000, Some(2)).with_fmtp("111/111"),
        Codec::new(0, "PCMU", 8000, None),
        Codec::new(8, "PCMA", 8000, None),
    ]
}

/// VP8, H264 (constrained baseline, packetization-mode 1) and VP9 with RTX, plus RED/ULPFEC.
pub fn default_video_codecs() -> Vec<Codec> {
    let fb = ["goog-remb", "transport-cc", "ccm fir", "nack", "nack pli"];
    vec![
        Codec::new(96, "VP8", 90000, None).with_rtcp_fb(&fb),
        Codec::new(97, "rtx", 90000, None).with_fmtp("apt=96"),
        Codec::new(102, "H264", 90000, None)
            .with_fmtp("level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f")
            .with_rtcp_fb(&fb),
        Codec::new(103, "rtx", 90000, None).with_fmtp("apt=102"),
        Codec::new(98, "VP9", 90000, None)
            .with_fmtp("profile-id=0")
            .with_rtcp_fb(&fb),
        Codec::new(99, "rtx", 90000, None).with_fmtp("apt=98"),
        Codec::new(114, "red", 90000, None),
        Codec::new(115, "rtx", 90000, None).with_fmtp("apt=114"),
        Codec::new(116, "ulpfec", 90000, None),
    ]
}

/// Header extensions for audio.
pub fn default_audio_extensions() -> Vec<String> {
    vec![
        "urn:ietf:params:rtp-hdrext:ssrc-audio-level".into(),
        "http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time".into(),
        "http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01".into(),
        "urn:ietf:params:rtp-hdrext:sdes:mid".into(),
    ]
}

/// Header extensions for video.
pub fn default_video_extensions() -> Vec<String> {
    vec![
        "urn:ietf:params:rtp-hdrext:toffset".into(),
        "http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time".into(),
        "urn:3gpp:video-orientation".into(),
        "http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01".into(),
        "urn:ietf:params:rtp-hdrext:sdes:mid".into(),
        "urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id".into(),
        "urn:ietf:params:rtp-hdrext:sdes:repaired-rtp-stream-id".into(),
    ]
}

/// Handle of a transceiver in one session.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TransceiverId(pub usize);

/// What a transceiver sends (the sender's track), if anything.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SendParams {
    /// MediaStream ids (`a=msid` one per stream; empty writes `-`).
    pub stream_ids: Vec<String>,
    /// Track id.
    pub track_id: String,
    /// Primary SSRC.
    pub ssrc: Option<u32>,
    /// RTX SSRC (written as `a=ssrc-group:FID`).
    pub rtx_ssrc: Option<u32>,
    /// CNAME for the `a=ssrc` lines.
    pub cname: String,
    /// Simulcast layers by rid (`a=rid:<id> send` and `a=simulcast:send`).
    pub rids: Vec<String>,
}

/// addTransceiver / addTrack parameters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransceiverInit {
    /// Audio or video.
    pub kind: MediaKind,
    /// Desired direction.
    pub direction: Direction,
    /// Codec preferences; the config's defaults for the kind when `None`.
    pub codecs: Option<Vec<Codec>>,
    /// Header extension URIs; the config's defaults when `None`.
    pub header_extensions: Option<Vec<String>>,
    /// Sender parameters.
    pub send: Option<SendParams>,
}

impl TransceiverInit {
    /// A transceiver of `kind` with `direction` and default codecs.
    pub fn new(kind: MediaKind, direction: Direction) -> Self {
        TransceiverInit {
            kind,
            direction,
            codecs: None,
            header_extensions: None,
            send: None,
        }
    }
}

/// RTCRtpTransceiver state as JSEP sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transceiver {
    /// Handle.
    pub id: TransceiverId,
    /// Media kind.
    pub kind: MediaKind,
    /// Associated mid, once negotiated (or in a pending description).
    pub mid: Option<String>,
    /// Desired direction.
    pub direction: Direction,
    /// Direction last negotiated.
    pub current_direction: Option<Direction>,
    /// Codec preferences.
    pub codecs: Vec<Codec>,
    /// Header extension URIs.
    pub header_extensions: Vec<String>,
    /// Sender parameters.
    pub send: Option<SendParams>,
    /// `stop()` was called; the next offer rejects its m= section.
    pub stopping: bool,
    /// Stopped for good; its m= section may be recycled.
    pub stopped: bool,
    /// Created by applying a remote offer rather than by the application.
    pub created_by_remote: bool,
    /// m= section index, when associated.
    pub mline: Option<usize>,
}

/// Options of createOffer.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OfferOptions {
    /// Generate new ICE credentials (an ICE restart).
    pub ice_restart: bool,
}

/// The data channel part of a negotiated m= section.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NegotiatedSctp {
    /// Our SCTP port.
    pub local_port: u16,
    /// The peer's SCTP port.
    pub remote_port: u16,
    /// Largest message the peer accepts (RFC 8841: 65536 when absent, 0 = no limit).
    pub remote_max_message_size: u64,
}

/// The outcome for one m= section after an answer (or pranswer) was applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NegotiatedMedia {
    /// m= section index.
    pub index: usize,
    /// mid.
    pub mid: Option<String>,
    /// Media kind.
    pub kind: MediaKind,
    /// Rejected (port 0) by either side; nothing below applies then.
    pub rejected: bool,
    /// The transceiver it belongs to (RTP sections).
    pub transceiver: Option<TransceiverId>,
    /// Direction from our point of view.
    pub direction: Direction,
    /// Negotiated codecs (the answer's), same payload types both ways.
    pub codecs: Vec<Codec>,
    /// Negotiated header extensions (the answer's ids).
    pub extmaps: Vec<ExtMap>,
    /// mid of the m= section whose transport this one uses (itself when not bundled).
    pub transport_mid: Option<String>,
    /// Peer's ICE ufrag.
    pub remote_ufrag: Option<String>,
    /// Peer's ICE pwd.
    pub remote_pwd: Option<String>,
    /// Peer's candidates in this m= section.
    pub remote_candidates: Vec<Candidate>,
    /// Peer sent `a=end-of-candidates`.
    pub remote_end_of_candidates: bool,
    /// Peer's DTLS fingerprints.
    pub remote_fingerprints: Vec<Fingerprint>,
    /// Peer's `a=setup`.
    pub remote_setup: Option<Setup>,
    /// Our DTLS role.
    pub dtls_role: Role,
    /// Peer's msid lines.
    pub remote_msid: Vec<Msid>,
    /// Peer's `a=ssrc` lines.
    pub remote_ssrcs: Vec<SsrcAttribute>,
    /// Peer's `a=ssrc-group` lines.
    pub remote_ssrc_groups: Vec<SsrcGroup>,
    /// Peer's `a=rid` lines.
    pub remote_rids: Vec<Rid>,
    /// Peer's `a=simulcast`.
    pub remote_simulcast: Option<Simulcast>,
    /// RTCP multiplexed with RTP on both sides.
    pub rtcp_mux: bool,
    /// Reduced-size RTCP on both sides.
    pub rtcp_rsize: bool,
    /// Data channel parameters (application sections).
    pub sctp: Option<NegotiatedSctp>,
}

/// The result of a completed offer/answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Negotiated {
    /// Per m= section, in order.
    pub media: Vec<NegotiatedMedia>,
    /// BUNDLE groups of the answer.
    pub bundle_groups: Vec<Group>,
    /// The peer is ICE-lite.
    pub remote_ice_lite: bool,
    /// This exchange restarted ICE (either side changed credentials).
    pub ice_restart: bool,
    /// Our ICE credentials in force.
    pub local_ice: IceCredentials,
}

/// Things the owner must act on, from [`crate::Jsep::poll_event`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JsepEvent {
    /// The signaling state changed.
    SignalingStateChange(SignalingState),
    /// Something changed that needs an offer/answer exchange.
    NegotiationNeeded,
    /// A remote offer created a transceiver (the W3C `track` event's transceiver).
    TransceiverAdded(TransceiverId),
    /// An answer was applied; [`crate::Jsep::negotiated`] has the result.
    Negotiated,
}
