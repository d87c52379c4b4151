//! What the agent tells its owner.

use crate::Candidate;
use crate::config::IceRole;

/// Candidate gathering progress (the W3C `RTCIceGatheringState`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GatheringState {
    /// Gathering has not started.
    New,
    /// Waiting for STUN or TURN servers.
    Gathering,
    /// Every local candidate is known.
    Complete,
}

/// Connectivity of the agent (the W3C `RTCIceTransportState`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConnectionState {
    /// Waiting for remote candidates or credentials.
    New,
    /// Checks are running; no usable pair yet.
    Checking,
    /// A pair is selected; checks or trickled candidates may still improve on it.
    Connected,
    /// A pair is selected and every check is done.
    Completed,
    /// The selected pair stopped answering consent checks; it may come back.
    Disconnected,
    /// No pair works, or consent was lost for good. An ICE restart may recover.
    Failed,
    /// The agent was closed.
    Closed,
}

/// An event for the agent's owner, from [`crate::IceAgent::poll_event`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum IceEvent {
    /// A new local candidate to signal to the peer (trickle ICE).
    LocalCandidate(Candidate),
    /// Gathering changed state; `Complete` means "signal end-of-candidates".
    GatheringState(GatheringState),
    /// The connection state changed.
    ConnectionState(ConnectionState),
    /// Data now flows over this pair.
    SelectedPair {
        /// The local candidate.
        local: Candidate,
        /// The remote candidate.
        remote: Candidate,
    },
    /// The agent's role flipped after a role conflict (RFC 8445 section 7.3.1.1).
    RoleChanged(IceRole),
    /// A remote candidate uses an mDNS name: resolve it and call
    /// [`crate::IceAgent::resolve_mdns`].
    ResolveMdns(String),
    /// Application data (DTLS, SRTP, ...) the peer sent through a TURN relay. Data on a
    /// direct path comes back from [`crate::IceAgent::handle_input`] as
    /// [`crate::Received::Data`], without a copy; data through a relay may come several to
    /// one input (TURN over TCP), so it is queued here, in order.
    Data(Vec<u8>),
}
