//! Data channel options, descriptions, messages and counters (the W3C `RTCDataChannelInit`,
//! `RTCDataChannel` attributes and `RTCDataChannelStats`, in RFC 8831/8832 terms).

use bytes::Bytes;

use crate::Error;
use crate::dcep::{ChannelType, OpenMessage};

/// A data channel's id: its SCTP stream identifier (RFC 8832 section 6).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ChannelId(pub u16);

impl std::fmt::Display for ChannelId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

/// W3C `RTCPriorityType`, sent as the DCEP priority (RFC 8831 section 6.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Priority {
    /// "very-low": DCEP 128 (below normal).
    VeryLow,
    /// "low", the W3C default: DCEP 256 (normal).
    #[default]
    Low,
    /// "medium": DCEP 512 (high).
    Medium,
    /// "high": DCEP 1024 (extra high).
    High,
}

impl Priority {
    /// The DCEP value.
    pub fn to_dcep(self) -> u16 {
        match self {
            Priority::VeryLow => 128,
            Priority::Low => 256,
            Priority::Medium => 512,
            Priority::High => 1024,
        }
    }

    /// The closest level to a received DCEP value (peers may send any 16-bit number).
    pub fn from_dcep(v: u16) -> Self {
        match v {
            0..=128 => Priority::VeryLow,
            129..=256 => Priority::Low,
            257..=512 => Priority::Medium,
            _ => Priority::High,
        }
    }
}

/// How hard a channel tries to deliver each message (RFC 3758 partial reliability).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Reliability {
    /// Retransmit until acknowledged.
    #[default]
    Reliable,
    /// W3C `maxRetransmits`: retransmit at most this many times, then give up.
    MaxRetransmits(u32),
    /// W3C `maxPacketLifeTime`: give up on a message this many milliseconds after `send`.
    MaxPacketLifeTime(u32),
}

impl Reliability {
    /// Whether a message may be given up (RFC 3758).
    pub fn is_partial(self) -> bool {
        !matches!(self, Reliability::Reliable)
    }
}

/// W3C `RTCDataChannelInit`, with the label. `Default` is a reliable ordered channel with an
/// empty label announced in band (DCEP).
///
/// ```
/// use rtcweb_sctp::ChannelOptions;
/// let unreliable = ChannelOptions::new("game-state").ordered(false).max_retransmits(0);
/// let negotiated = ChannelOptions::new("control").negotiated(0);
/// # let _ = (unreliable, negotiated);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ChannelOptions {
    /// `label`.
    pub label: String,
    /// `protocol` (subprotocol name).
    pub protocol: String,
    /// `ordered`, default `true`.
    pub ordered: bool,
    /// `maxPacketLifeTime` in ms. Setting it together with `max_retransmits` is an error.
    pub max_packet_life_time: Option<u32>,
    /// `maxRetransmits`.
    pub max_retransmits: Option<u32>,
    /// `negotiated: true` with this `id`: both sides create the channel out of band, no DCEP.
    pub negotiated: Option<u16>,
    /// `priority`.
    pub priority: Priority,
}

impl Default for ChannelOptions {
    fn default() -> Self {
        ChannelOptions {
            label: String::new(),
            protocol: String::new(),
            ordered: true,
            max_packet_life_time: None,
            max_retransmits: None,
            negotiated: None,
            priority: Priority::Low,
        }
    }
}

impl ChannelOptions {
    /// A reliable ordered in-band channel with this label.
    pub fn new(label: impl Into<String>) -> Self {
        ChannelOptions {
            label: label.into(),
            ..Self::default()
        }
    }

    /// Sets `protocol`.
    pub fn protocol(mut self, protocol: impl Into<String>) -> Self {
        self.protocol = protocol.into();
        self
    }

    /// Sets `ordered`.
    pub fn ordered(mut self, ordered: bool) -> Self {
        self.ordered = ordered;
        self
    }

    /// Sets `maxPacketLifeTime` (ms).
    pub fn max_packet_life_time(mut self, ms: u32) -> Self {
        self.max_packet_life_time = Some(ms);
        self
    }

    /// Sets `maxRetransmits`.
    pub fn max_retransmits(mut self, n: u32) -> Self {
        self.max_retransmits = Some(n);
        self
    }

    /// Sets `negotiated: true, id`.
    pub fn negotiated(mut self, id: u16) -> Self {
        self.negotiated = Some(id);
        self
    }

    /// Sets `priority`.
    pub fn priority(mut self, priority: Priority) -> Self {
        self.priority = priority;
        self
    }

    /// The reliability these options ask for; an error when both limits are set or a string
    /// does not fit DCEP's 16-bit lengths.
    pub fn reliability(&self) -> Result<Reliability, Error> {
        if self.label.len() > usize::from(u16::MAX) || self.protocol.len() > usize::from(u16::MAX) {
            return Err(Error::InvalidOptions(
                "label or protocol longer than 65535 bytes",
            ));
        }
        match (self.max_packet_life_time, self.max_retransmits) {
            (Some(_), Some(_)) => Err(Error::InvalidOptions(
                "maxPacketLifeTime and maxRetransmits are mutually exclusive",
            )),
            (Some(ms), None) => Ok(Reliability::MaxPacketLifeTime(ms)),
            (None, Some(n)) => Ok(Reliability::MaxRetransmits(n)),
            (None, None) => Ok(Reliability::Reliable),
        }
    }
}

/// W3C `RTCDataChannelState`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ChannelState {
    /// Waiting for the association (or, for an in-band channel, for it to be announced).
    Connecting,
    /// Messages can be sent and are delivered.
    Open,
    /// Our stream reset went out; waiting for the peer's (RFC 8831 section 6.7).
    Closing,
    /// Both directions are reset; the id can be reused.
    Closed,
}

/// What a channel is: the attributes of a W3C `RTCDataChannel`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ChannelInfo {
    /// `id`.
    pub id: ChannelId,
    /// `label`.
    pub label: String,
    /// `protocol`.
    pub protocol: String,
    /// `ordered`.
    pub ordered: bool,
    /// `maxRetransmits` / `maxPacketLifeTime`.
    pub reliability: Reliability,
    /// `negotiated`.
    pub negotiated: bool,
    /// `priority`.
    pub priority: Priority,
    /// `readyState`.
    pub state: ChannelState,
    /// The peer opened it (the W3C `datachannel` event).
    pub remote: bool,
}

impl ChannelInfo {
    pub(crate) fn channel_type(&self) -> ChannelType {
        let unordered = !self.ordered;
        match self.reliability {
            Reliability::Reliable => ChannelType::Reliable { unordered },
            Reliability::MaxRetransmits(_) => ChannelType::PartialReliableRexmit { unordered },
            Reliability::MaxPacketLifeTime(_) => ChannelType::PartialReliableTimed { unordered },
        }
    }

    pub(crate) fn open_message(&self) -> OpenMessage {
        OpenMessage {
            channel_type: self.channel_type(),
            priority: self.priority.to_dcep(),
            reliability_parameter: match self.reliability {
                Reliability::Reliable => 0,
                Reliability::MaxRetransmits(n) | Reliability::MaxPacketLifeTime(n) => n,
            },
            label: self.label.clone(),
            protocol: self.protocol.clone(),
        }
    }

    pub(crate) fn from_open(id: ChannelId, open: OpenMessage) -> Self {
        let (ordered, reliability) = match open.channel_type {
            ChannelType::Reliable { unordered } => (!unordered, Reliability::Reliable),
            ChannelType::PartialReliableRexmit { unordered } => (
                !unordered,
                Reliability::MaxRetransmits(open.reliability_parameter),
            ),
            ChannelType::PartialReliableTimed { unordered } => (
                !unordered,
                Reliability::MaxPacketLifeTime(open.reliability_parameter),
            ),
        };
        ChannelInfo {
            id,
            label: open.label,
            protocol: open.protocol,
            ordered,
            reliability,
            negotiated: false,
            priority: Priority::from_dcep(open.priority),
            state: ChannelState::Open,
            remote: true,
        }
    }
}

/// Whether a message is text or binary (the PPID, RFC 8831 section 8).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MessageKind {
    /// WebRTC String (51), or String Empty (56) for an empty one.
    Text,
    /// WebRTC Binary (53), or Binary Empty (57) for an empty one.
    Binary,
}

/// A received message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    /// Text or binary.
    pub kind: MessageKind,
    /// The bytes; for [`MessageKind::Text`] always valid UTF-8 (invalid sequences from the
    /// peer are replaced by U+FFFD, as a browser's decoder does).
    pub data: Bytes,
}

impl Message {
    /// The text of a text message.
    pub fn text(&self) -> Option<&str> {
        match self.kind {
            MessageKind::Text => std::str::from_utf8(&self.data).ok(),
            MessageKind::Binary => None,
        }
    }
}

/// Per-channel counters: W3C `RTCDataChannelStats`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ChannelStats {
    /// `messagesSent`.
    pub messages_sent: u64,
    /// `bytesSent` (payload bytes).
    pub bytes_sent: u64,
    /// `messagesReceived`.
    pub messages_received: u64,
    /// `bytesReceived` (payload bytes).
    pub bytes_received: u64,
}
