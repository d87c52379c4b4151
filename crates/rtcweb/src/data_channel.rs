//! Data channels: their handles, options and events. The association behind them is the
//! connection's (`pc::data`).

use rtcweb_sctp::ChannelOptions;

pub use rtcweb_sctp::{ChannelState as DataChannelState, Priority, Reliability};

/// A data channel handle, stable from `createDataChannel` on (the SCTP stream id is only
/// known once the DTLS role is).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DataChannelId(pub u32);

/// `RTCDataChannelInit`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DataChannelInit {
    /// `ordered` (default true).
    pub ordered: Option<bool>,
    /// `maxPacketLifeTime` in milliseconds.
    pub max_packet_life_time: Option<u32>,
    /// `maxRetransmits`.
    pub max_retransmits: Option<u32>,
    /// `protocol`.
    pub protocol: String,
    /// `negotiated` with this `id` (both sides create it; no DCEP).
    pub negotiated_id: Option<u16>,
    /// `priority`.
    pub priority: Option<Priority>,
}

impl DataChannelInit {
    pub(crate) fn options(&self, label: &str) -> ChannelOptions {
        let mut o = ChannelOptions::new(label).protocol(self.protocol.clone());
        if let Some(ordered) = self.ordered {
            o = o.ordered(ordered);
        }
        if let Some(ms) = self.max_packet_life_time {
            o = o.max_packet_life_time(ms);
        }
        if let Some(n) = self.max_retransmits {
            o = o.max_retransmits(n);
        }
        if let Some(id) = self.negotiated_id {
            o = o.negotiated(id);
        }
        if let Some(p) = self.priority {
            o = o.priority(p);
        }
        o
    }
}

/// Data channel events, inside [`Event::DataChannel`](crate::Event::DataChannel).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum DataChannelEvent {
    /// The peer opened a channel (the W3C `datachannel` event); it is open.
    Incoming {
        /// Our handle for it.
        id: DataChannelId,
        /// Its label.
        label: String,
        /// Its protocol.
        protocol: String,
    },
    /// A channel we created is open.
    Open {
        /// The channel.
        id: DataChannelId,
    },
    /// A message arrived.
    Message {
        /// The channel.
        id: DataChannelId,
        /// The payload (UTF-8 for text).
        data: Vec<u8>,
        /// Binary (true) or text (false).
        binary: bool,
    },
    /// The buffered amount fell to the low threshold.
    BufferedAmountLow {
        /// The channel.
        id: DataChannelId,
    },
    /// A send on the channel failed with `WouldBlock` (the association's send buffer of
    /// unacknowledged bytes was full) and there is room again.
    Writable {
        /// The channel.
        id: DataChannelId,
    },
    /// The channel closed.
    Closed {
        /// The channel.
        id: DataChannelId,
    },
}
