//! rtcweb-jsep: a typed SDP model and the JSEP (RFC 8829) offer/answer state machine.
//!
//! - [`sdp`]: [`sdp::SessionDescription`] parses SDP (grammar from the `sdp` crate) into
//!   typed sections and attributes, keeps what it does not interpret verbatim, and writes it
//!   back; errors name the line.
//! - [`Jsep`]: signaling states, createOffer/createAnswer, set local/remote description,
//!   rollback, renegotiation, BUNDLE, ICE restart, codec and header extension negotiation,
//!   and the negotiated result per m= section ([`Negotiated`]).
//!
//! The crate is sans-IO: no sockets, clocks or threads; randomness comes from a seed.

pub mod codec;
mod error;
pub mod jsep;
pub mod sdp;

pub use error::{DomErrorName, Error, Mismatch, Result};
pub use jsep::types::*;
pub use jsep::types::{default_audio_codecs, default_video_codecs};
pub use jsep::{Jsep, validate_answer};
pub use rtcweb_core::Role;
pub use sdp::Limits;
