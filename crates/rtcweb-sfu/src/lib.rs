//! The sans-IO forwarding layer an SFU is built on.
//!
//! A [`Forwarder`] takes one publisher track, sent as simulcast layers, to one subscriber:
//! it measures the layers' rates, picks the one that fits the subscriber's bandwidth estimate
//! (up with hysteresis, down at once), switches only at a key frame of the new layer (asking
//! the publisher for one, at most once per layer per 300 ms), and rewrites what it forwards so
//! that the subscriber sees one continuous stream: one SSRC, sequence numbers without a gap
//! at a switch, continuous timestamps, and for VP8 continuous picture ids and TL0PICIDX. The
//! subscriber's NACKs are answered from a bounded buffer of what was sent; its PLI and FIR
//! become a key-frame request for the forwarded layer.
//!
//! Like every rtcweb state machine it reads no clock and opens no socket: the owner (an SFU
//! router with one forwarder per track and subscriber) feeds [`Input`]s with `now`, and takes
//! [`Transmit`]s (to the subscriber or the publisher) and [`Event`]s out
//! (`rtcweb_core::SansIo`). Scalable streams (VP9 SVC, AV1 with a dependency descriptor)
//! plug in as a [`LayerFilter`] over the forwarded encoding.
//!
//! Every queue is bounded: [`MAX_LAYERS`] layers, publisher payloads up to [`MAX_PAYLOAD`]
//! octets, [`ForwarderConfig::retransmit_packets`] packets kept for retransmission, 128
//! packets held while a switch waits for the old layer's frame to end, 1024 transmits and
//! 64 events waiting to be polled.

mod config;
mod error;
mod forwarder;
mod layer;
mod packet;
mod rate;
mod retransmit;
mod select;
mod vp8;

pub use config::{ForwarderConfig, MAX_LAYERS, MAX_PAYLOAD, MAX_RETRANSMIT_PACKETS, RtxConfig};
pub use error::{Error, Result};
pub use forwarder::{Forwarder, ForwarderStats};
pub use layer::LayerFilter;
pub use packet::{Event, Feedback, Input, OutPacket, PublisherPacket, Transmit};
pub use select::Hysteresis;
