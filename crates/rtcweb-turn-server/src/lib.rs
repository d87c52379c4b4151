//! Embeddable sans-IO STUN/TURN server core.
//!
//! - STUN Binding for everyone; RFC 5780 NAT behaviour discovery (CHANGE-REQUEST,
//!   RESPONSE-ORIGIN, OTHER-ADDRESS, RESPONSE-PORT) when a second address pair is configured
//!   ([`Rfc5780`]), off by default.
//! - TURN (RFC 8656): allocations with lifetime and refresh, permissions, channels, Send and
//!   Data indications, ChannelData, EVEN-PORT and RESERVATION-TOKEN, REQUESTED-ADDRESS-FAMILY
//!   (IPv4 and IPv6), over UDP, TCP and TLS (the driver frames streams and does TLS).
//! - Authentication by long-term users ([`UserStore`], [`StaticUsers`]), TURN REST shared
//!   secrets ([`RestSecret`], several at once for rotation) and RFC 7635 OAuth tokens
//!   ([`OAuthKey`]). Nonces are stateless (a keyed hash of time and client address) and go
//!   stale (438), so nothing is kept for a client before it authenticates, and servers that
//!   share the nonce secret and credentials need no shared state.
//! - Quotas per user (486) and in total (508); a peer policy that denies loopback, private,
//!   link-local, multicast and unspecified peers by default (403).
//! - Bandwidth limits per allocation and per user ([`BandwidthLimit`], token buckets fed the
//!   driver's `now`); over-limit datagrams are dropped and counted.
//! - Operator metrics ([`Server::metrics`]): allocations, relayed packets and bytes, requests
//!   by method, auth failures by reason, quota refusals, bandwidth drops; credentials replaced
//!   at run time without touching allocations ([`Server::set_auth`]).
//!
//! The core never opens a socket or reads a clock: it asks the driver to bind relay sockets
//! with [`Event::BindRelay`] and is told the outcome with [`Server::handle_relay_bound`].
//! The `turn-server` binary (`turn-server/` at the top of the workspace) is such a driver;
//! [`SimulatedHost`] is one in memory, for simulations and tests.

mod allocation;
mod auth;
mod bandwidth;
mod channel;
mod config;
mod credentials;
mod error;
mod host;
pub mod metrics;
mod nonce;
mod ports;
mod requests;
mod server;
mod types;
mod users;

pub use allocation::{CHANNEL_COOLDOWN, CHANNEL_LIFETIME, PERMISSION_LIFETIME};
pub use bandwidth::BandwidthLimit;
pub use config::{PeerPolicy, Rfc5780, ServerConfig};
pub use credentials::{AuthConfig, OAuthKey, RestSecret, StaticUsers, UserStore};
pub use error::{Error, Result};
pub use host::SimulatedHost;
pub use metrics::{AuthFailure, Direction, LimitScope, Metrics, QuotaRefusal, RequestKind};
pub use server::{MAX_EVENTS, RESERVATION_LIFETIME, Server};
pub use types::{BindId, DeleteReason, Event, FiveTuple, Protocol, Stats, Transmit};
