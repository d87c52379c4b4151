//! Sans-IO TURN client (RFC 8656) and RFC 5780 NAT behaviour discovery client.
//!
//! - [`Client`]: allocation, refresh, permissions, channels, Send/Data indications and
//!   ChannelData over UDP, TCP or TLS (RFC 6062 framing; the driver does the TLS bytes).
//! - [`Credentials`]: long-term, TURN REST ([`credentials::rest_credentials`]) and OAuth
//!   self-contained tokens ([`oauth`], RFC 7635 section 6.2).
//! - [`nat`]: RFC 5780 NAT behaviour discovery, verdict in RFC 4787 terms and classic names.
//!
//! Nothing here opens sockets or reads clocks: time is a `now: Instant` parameter and
//! randomness comes from a caller-supplied seed.

mod auth;
mod client;
pub mod credentials;
mod error;
pub mod nat;
pub mod oauth;
mod request;
mod types;

pub use client::{
    AllocationState, CAPACITY_BACKOFF, CHANNEL_LIFETIME, CHANNEL_REFRESH, Client, MAX_EVENTS,
    MAX_REQUESTS, MAX_TRANSMITS, PERMISSION_LIFETIME, PERMISSION_REFRESH,
};
pub use credentials::Credentials;
pub use error::{Error, Result};
pub use rtcweb_core::{Datagram, Protocol, SansIo, Seed, Transmit};
pub use types::{ClientConfig, Event, Failure};
