//! How a [`crate::Forwarder`] is set up, and the bounds that hold whatever arrives.

use std::time::Duration;

use rtcweb_rtp::codec::Codec;

use crate::error::{Error, Result};
use crate::select::Hysteresis;

/// Simulcast layers a forwarder tells apart (browsers send at most three).
pub const MAX_LAYERS: usize = 4;
/// Longest publisher payload accepted, in octets: a packet that fits an Ethernet MTU. The
/// retransmission buffer holds at most `retransmit_packets` packets of this size.
pub const MAX_PAYLOAD: usize = 1500;
/// Largest retransmission buffer a configuration may ask for (with [`MAX_PAYLOAD`], about
/// 6 MB per forwarder).
pub const MAX_RETRANSMIT_PACKETS: usize = 4096;

/// The subscriber's retransmission stream (RFC 4588), when negotiated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RtxConfig {
    /// SSRC of the RTX stream.
    pub ssrc: u32,
    /// Payload type of RTX for the media payload type.
    pub payload_type: u8,
}

/// A [`crate::Forwarder`]'s configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ForwarderConfig {
    /// The track's codec: VP8 (picture ids rewritten) or H.264.
    pub codec: Codec,
    /// SSRC of the stream the subscriber receives, whatever layer it comes from.
    pub ssrc: u32,
    /// First sequence number sent to the subscriber (RFC 3550 asks for a random one: the
    /// owner draws it from its `rtcweb_core::Rng`).
    pub initial_sequence_number: u16,
    /// The subscriber's RTX stream, or `None` to retransmit in the media stream.
    pub rtx: Option<RtxConfig>,
    /// Packets kept for retransmission (1 to [`MAX_RETRANSMIT_PACKETS`]). 512 is about
    /// 1.5 s of a 2.5 Mbit/s layer, long enough for a NACK after a few round trips.
    pub retransmit_packets: usize,
    /// When to go up and down.
    pub hysteresis: Hysteresis,
    /// Shortest time between two key-frame requests for one layer. A key frame takes at
    /// least a round trip plus an encode to arrive, and each costs the publisher several
    /// delta frames of bits: asking again sooner than that brings a burst of key frames, not
    /// an earlier one. 300 ms covers the round trip of most paths.
    pub keyframe_request_interval: Duration,
    /// How long a switch waits for the key frame it asked for before asking again (a PLI
    /// can be lost; the publisher's encoder may also be slow to answer).
    pub keyframe_retry: Duration,
}

impl ForwarderConfig {
    /// A configuration for `codec` sent to the subscriber as `ssrc`, with the defaults.
    pub fn new(codec: Codec, ssrc: u32) -> Self {
        Self {
            codec,
            ssrc,
            initial_sequence_number: 0,
            rtx: None,
            retransmit_packets: 512,
            hysteresis: Hysteresis::default(),
            keyframe_request_interval: Duration::from_millis(300),
            keyframe_retry: Duration::from_secs(1),
        }
    }

    pub(crate) fn validate(&self) -> Result<()> {
        if !matches!(self.codec, Codec::Vp8 | Codec::H264) {
            return Err(Error::UnsupportedCodec(self.codec));
        }
        if !(1..=MAX_RETRANSMIT_PACKETS).contains(&self.retransmit_packets) {
            return Err(Error::Config("retransmit_packets"));
        }
        if self.rtx.is_some_and(|r| r.payload_type > 127) {
            return Err(Error::Config("RTX payload type"));
        }
        if self.keyframe_request_interval.is_zero() || self.keyframe_retry.is_zero() {
            return Err(Error::Config("key-frame request intervals"));
        }
        if self.hysteresis.up_margin_percent > 1000 {
            return Err(Error::Config("up_margin_percent"));
        }
        Ok(())
    }
}
