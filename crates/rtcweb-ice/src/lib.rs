//! A sans-IO ICE agent (RFC 8445) for WebRTC: one data stream, one component (BUNDLE and
//! rtcp-mux), UDP.
//!
//! Unlike most stacks, the agent gathers its own server-reflexive candidates: the owner
//! only hands it the local addresses it has sockets on. It runs the connectivity checks with
//! the frozen algorithm, triggered checks and pacing; nominates (regular nomination, and it
//! accepts aggressive nomination from a peer); resolves role conflicts; works as ICE-lite or
//! against an ICE-lite peer; takes trickled candidates (RFC 8838) and `.local` mDNS
//! candidates; restarts; and keeps consent (RFC 7675), reporting the W3C connection states.
//!
//! Like every rtcweb protocol crate it never touches a socket or a clock: feed it
//! [`IceAgent::handle_input`] and [`IceAgent::handle_timeout`], drain
//! [`IceAgent::poll_transmit`] and [`IceAgent::poll_event`], and wake it at
//! [`IceAgent::poll_timeout`].

mod agent;
mod candidate;
mod config;
mod error;
mod event;
mod pair;

pub use agent::{IceAgent, Received};
pub use candidate::{foundation, local_preference, priority};
pub use config::{Credentials, IceConfig, IceRole, TransportPolicy};
pub use error::Error;
pub use event::{ConnectionState, GatheringState, IceEvent};
pub use pair::{PairState, PairStats};
pub use rtcweb_core::{
    Candidate, CandidateAddress, CandidateKind, Datagram, Protocol, SansIo, Seed, TcpType,
    Transmit, Transport,
};
