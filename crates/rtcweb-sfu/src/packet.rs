//! What goes in and out of a [`crate::Forwarder`]: the publisher's packets, the subscriber's
//! packets, feedback for the publisher, events.

use rtcweb_rtp::rtcp::{self, NackPair, NackRepr, Pli, RtcpRepr};
use rtcweb_rtp::rtp::{RtpPacket, RtpRepr};

use crate::error::{Error, Result};

/// One RTP packet of the publisher's track, already decrypted (and, if it came on an RTX
/// stream, already restored to its original sequence number and payload).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PublisherPacket<'a> {
    /// The simulcast layer (encoding) it belongs to, 0 the lowest; below
    /// [`crate::MAX_LAYERS`]. The owner knows it from the rid or the SSRC.
    pub layer: u8,
    /// SSRC of the layer's stream.
    pub ssrc: u32,
    /// Payload type.
    pub payload_type: u8,
    /// Sequence number in the layer's stream.
    pub sequence_number: u16,
    /// RTP timestamp in the layer's stream.
    pub timestamp: u32,
    /// The M bit: the last packet of a frame.
    pub marker: bool,
    /// The payload (padding removed), at most [`crate::MAX_PAYLOAD`] octets.
    pub payload: &'a [u8],
}

impl<'a> PublisherPacket<'a> {
    /// The fields of a parsed RTP packet of simulcast layer `layer`.
    pub fn from_rtp<T: AsRef<[u8]>>(layer: u8, packet: &'a RtpPacket<T>) -> Self {
        Self {
            layer,
            ssrc: packet.ssrc(),
            payload_type: packet.payload_type(),
            sequence_number: packet.sequence_number(),
            timestamp: packet.timestamp(),
            marker: packet.marker(),
            payload: packet.payload(),
        }
    }
}

/// What a [`crate::Forwarder`] takes in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Input<'a> {
    /// A packet of any of the publisher's layers.
    Rtp(PublisherPacket<'a>),
    /// The subscriber's bandwidth estimate for this track, in bits per second (the share of
    /// the subscriber's send-side estimate the owner gives this track).
    Estimate(u64),
    /// An RTCP datagram from the subscriber (compound or reduced-size, decrypted): NACK, PLI
    /// and FIR about the forwarder's SSRC are acted on, everything else is ignored.
    Rtcp(&'a [u8]),
}

/// An RTP packet for the subscriber, with its header fields set for the subscriber's stream.
///
/// Header extensions are the owner's to add (the subscriber's connection negotiated its own
/// ids): write them with [`OutPacket::emit`]'s result as a template, or use the fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutPacket {
    /// SSRC of the subscriber's stream (or of its RTX stream for a retransmission).
    pub ssrc: u32,
    /// Payload type.
    pub payload_type: u8,
    /// Sequence number.
    pub sequence_number: u16,
    /// RTP timestamp.
    pub timestamp: u32,
    /// The M bit.
    pub marker: bool,
    /// The payload (for a VP8 packet with its picture id and TL0PICIDX rewritten; for an RTX
    /// packet the original sequence number first, RFC 4588 section 4).
    pub payload: Vec<u8>,
}

impl OutPacket {
    fn repr(&self) -> RtpRepr<'_> {
        RtpRepr {
            marker: self.marker,
            payload_type: self.payload_type,
            sequence_number: self.sequence_number,
            timestamp: self.timestamp,
            ssrc: self.ssrc,
            ..RtpRepr::default()
        }
    }

    /// Length of the packet [`OutPacket::emit`] writes.
    pub fn buffer_len(&self) -> usize {
        self.repr().header_len() + self.payload.len()
    }

    /// Writes the packet (12-octet header, no extensions) into `buf`; returns its length.
    pub fn emit(&self, buf: &mut [u8]) -> Result<usize> {
        self.repr()
            .emit_with_payload(&self.payload, buf)
            .map_err(Error::Emit)
    }

    /// Writes the packet into a new vector.
    pub fn to_vec(&self) -> Vec<u8> {
        let mut v = vec![0; self.buffer_len()];
        let n = self.emit(&mut v).unwrap_or(0);
        v.truncate(n);
        v
    }
}

/// Feedback for the publisher, about one of its layers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Feedback {
    /// Ask for a key frame on the layer (send a PLI; the forwarder already rate-limited it).
    KeyFrameRequest {
        /// The layer.
        layer: u8,
        /// SSRC of the layer's stream.
        ssrc: u32,
    },
    /// Ask for packets the subscriber lost that the forwarder never had (the publisher's own
    /// losses): a generic NACK in the layer's sequence numbers.
    Nack {
        /// The layer.
        layer: u8,
        /// SSRC of the layer's stream.
        ssrc: u32,
        /// Lost sequence numbers, ascending, at most 64.
        lost: Vec<u16>,
    },
}

impl Feedback {
    /// The RTCP packet (reduced-size, RFC 5506) that carries it, sent as `sender_ssrc`.
    pub fn to_rtcp(&self, sender_ssrc: u32) -> Vec<u8> {
        let mut pairs = Vec::new();
        let repr = match self {
            Feedback::KeyFrameRequest { ssrc, .. } => RtcpRepr::Pli(Pli {
                sender_ssrc,
                media_ssrc: *ssrc,
            }),
            Feedback::Nack { ssrc, lost, .. } => {
                NackPair::pack(lost.iter().copied(), &mut pairs);
                RtcpRepr::Nack(NackRepr {
                    sender_ssrc,
                    media_ssrc: *ssrc,
                    pairs: &pairs,
                })
            }
        };
        rtcp::compound_to_vec(&[repr]).unwrap_or_default()
    }
}

/// What a [`crate::Forwarder`] wants sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Transmit {
    /// A media packet for the subscriber.
    Subscriber(OutPacket),
    /// A retransmission for the subscriber, answering its NACK from the forwarder's buffer
    /// (on the RTX stream when one is configured, else the original packet again).
    Retransmission(OutPacket),
    /// Feedback for the publisher.
    Publisher(Feedback),
}

/// What the owner of a [`crate::Forwarder`] hears about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Event {
    /// The layer the estimate asks for changed; a key frame of it was requested and the
    /// switch follows when it arrives.
    TargetChanged {
        /// The layer aimed at before.
        from: u8,
        /// The layer aimed at now.
        to: u8,
    },
    /// The subscriber now gets `to` (the first packet of its key frame was just forwarded).
    LayerSwitched {
        /// The layer forwarded before, `None` for the first.
        from: Option<u8>,
        /// The layer forwarded now.
        to: u8,
    },
}
