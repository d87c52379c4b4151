//! Signaling: how [`SignalingMessage`]s travel between two peers, and the "perfect
//! negotiation" pattern that drives offer/answer over any of them.
//!
//! [`Signaling`] is the seam: send a message to the peer, receive the next one. The
//! transports people use implement it:
//!
//! | transport | module | trickle | typical use |
//! |---|---|---|---|
//! | in-memory pair | [`memory`] | yes | tests, two peers in one process |
//! | copy-paste over stdio | [`stdio`] | no | pion-style examples: base64 JSON, one line each |
//! | WebSocket rooms, full mesh | [`room`] | yes | meetings (the Knockplop protocol shape) |
//! | HTTP offer/answer | [`http`] | no | the webrtc-echoes `POST /offer` convention |
//! | WHIP (RFC 9725) | [`http`] | PATCH | ingest into a media server |
//!
//! [`PerfectNegotiation`] runs the W3C "perfect negotiation" pattern (polite and impolite
//! peers, rollback on glare) over any transport, so either side may (re)negotiate at any
//! time.
//!
//! ```no_run
//! # async fn demo() -> Result<(), rtcweb_tokio::Error> {
//! use rtcweb_tokio::signaling::{NegotiationOptions, PerfectNegotiation, memory};
//! use rtcweb_tokio::{PeerConfig, RtcPeerConnection};
//!
//! let (sig_a, sig_b) = memory::pair();
//! let (a, events_a) = RtcPeerConnection::new(PeerConfig::default()).await?;
//! let (b, events_b) = RtcPeerConnection::new(PeerConfig::default()).await?;
//! let chat = a.create_data_channel("chat", &Default::default())?;
//! let (_na, _app_events_a) = PerfectNegotiation::spawn(a, events_a, sig_a, NegotiationOptions::impolite());
//! let (_nb, _app_events_b) = PerfectNegotiation::spawn(b, events_b, sig_b, NegotiationOptions::polite());
//! chat.wait_open().await?;
//! # Ok(()) }
//! ```

pub mod memory;
mod negotiation;
pub mod room;
pub mod stdio;

pub mod http;
#[cfg(any(feature = "ws", feature = "http"))]
mod tls;

use std::future::Future;

pub use negotiation::{
    NegotiationHandle, NegotiationOptions, NegotiationStats, PerfectNegotiation,
};
pub use rtcweb::SignalingMessage;

use crate::error::Error;

/// A way to exchange [`SignalingMessage`]s with one remote peer.
///
/// `recv` must be cancel-safe: a caller may drop its future (in a `tokio::select!`) without
/// losing a message. Every transport here reads in a background task or from a stream whose
/// `next()` is cancel-safe.
pub trait Signaling: Send {
    /// Sends a message to the peer.
    fn send(&mut self, message: SignalingMessage)
    -> impl Future<Output = Result<(), Error>> + Send;

    /// The next message from the peer; `Ok(None)` once the peer or the transport is gone.
    fn recv(&mut self) -> impl Future<Output = Result<Option<SignalingMessage>, Error>> + Send;

    /// Whether candidates may travel separately from the descriptions. Transports that carry
    /// them in the SDP only (copy-paste, the `POST /offer` convention) say `false`: a sender
    /// then waits for the end of gathering and sends the complete local description.
    fn trickle(&self) -> bool {
        true
    }
}

fn signaling_error(e: impl std::fmt::Display) -> Error {
    Error::Signaling(e.to_string())
}
