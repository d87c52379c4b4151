//! HTTP offer/answer: the webrtc-echoes convention and WHIP (RFC 9725), client and server.
//!
//! **`POST /offer`** (webrtc-echoes): the client posts its offer as JSON
//! (`RTCSessionDescriptionInit`, `Content-Type: application/json`) and gets the answer back
//! the same way in a `200`. No trickle: both descriptions carry their candidates.
//! [`OfferClient`] is the client side, [`HttpSignalingServer`] with
//! [`HttpSignalingServer::with_offer_path`] the server side.
//!
//! **WHIP** (RFC 9725): the client posts its SDP offer (`Content-Type: application/sdp`);
//! the server answers `201 Created` with the SDP answer, a `Location` naming the session
//! and an `ETag`. The client may trickle candidates with `PATCH` to that location
//! (`application/trickle-ice-sdpfrag`, RFC 8840, `If-Match` with the ETag; `204` on
//! success) and ends the session with `DELETE`. [`WhipClient`] and
//! [`HttpSignalingServer::with_whip_path`]; a `Bearer` token may be required. ICE restarts
//! by `PATCH` are not supported (`501`, which the RFC allows).
//!
//! Each server-side session is an [`HttpSession`], a [`Signaling`](super::Signaling): its
//! first message is the offer, and sending the answer completes the HTTP exchange. Later
//! messages are the WHIP client's trickled candidates and its `DELETE` (as `Bye`).

pub mod router;
pub mod sdpfrag;

#[cfg(feature = "http")]
mod client;
#[cfg(feature = "http")]
mod server;

#[cfg(feature = "http")]
pub use client::{OfferClient, WhipClient, post_offer};
pub use router::{HttpRouter, HttpSessionKind};
pub use sdpfrag::SdpFrag;
#[cfg(feature = "http")]
pub use server::{HttpServerHandle, HttpSession, HttpSignalingServer};

/// The largest body either side reads (descriptions and fragments).
pub const MAX_BODY: usize = 64 * 1024;
