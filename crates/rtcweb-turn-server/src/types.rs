//! Plain data exchanged with the driver: transports, 5-tuples, datagrams out, events, stats.

use std::fmt;
use std::net::SocketAddr;

/// How a client reaches the server: the same transports as the client's.
pub use rtcweb_core::{Protocol, Transmit};

/// One octet per transport for the nonce binding, so that a nonce issued over one transport
/// does not serve another.
fn protocol_code(transport: Protocol) -> u8 {
    match transport {
        Protocol::Udp => 17,
        Protocol::Tcp => 6,
        Protocol::Tls => 56,
    }
}

/// The 5-tuple that names an allocation (RFC 8656 section 2): the client's address, the
/// server address it talks to, and the transport.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FiveTuple {
    /// The transport between client and server.
    pub transport: Protocol,
    /// The client's address as the server sees it (after any NAT).
    pub client: SocketAddr,
    /// The server's address the client sent to.
    pub server: SocketAddr,
}

impl FiveTuple {
    /// A 5-tuple from its parts.
    pub fn new(transport: Protocol, client: SocketAddr, server: SocketAddr) -> Self {
        FiveTuple {
            transport,
            client,
            server,
        }
    }

    /// The octets a nonce is bound to: transport and client address.
    pub(crate) fn nonce_binding(&self, out: &mut Vec<u8>) {
        out.push(protocol_code(self.transport));
        match self.client {
            SocketAddr::V4(a) => out.extend_from_slice(&a.ip().octets()),
            SocketAddr::V6(a) => out.extend_from_slice(&a.ip().octets()),
        }
        out.extend_from_slice(&self.client.port().to_be_bytes());
    }
}

impl fmt::Display for FiveTuple {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?} {} -> {}", self.transport, self.client, self.server)
    }
}

/// Identifies a relay binding the server asked the driver for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct BindId(pub u64);

/// Why an allocation ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum DeleteReason {
    /// Refresh with LIFETIME 0.
    Deallocated,
    /// The lifetime ran out.
    Expired,
    /// The client's TCP/TLS connection closed.
    ConnectionClosed,
}

/// What the driver must do or may want to know.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Event {
    /// Bind a UDP socket on `addr` (and on `reserve` too, when given: the port kept for a
    /// later allocation with RESERVATION-TOKEN), then call
    /// [`crate::Server::handle_relay_bound`] with the outcome.
    BindRelay {
        /// The request.
        id: BindId,
        /// The relayed transport address.
        addr: SocketAddr,
        /// A second address to hold for a reservation (EVEN-PORT with the R bit).
        reserve: Option<SocketAddr>,
    },
    /// Close the socket bound on `addr`: its allocation or reservation is gone.
    ReleaseRelay {
        /// The relayed transport address.
        addr: SocketAddr,
    },
    /// An allocation was made.
    AllocationCreated {
        /// The client's 5-tuple.
        tuple: FiveTuple,
        /// The relayed transport address.
        relay: SocketAddr,
        /// Who made it.
        username: String,
    },
    /// An allocation ended.
    AllocationDeleted {
        /// The client's 5-tuple.
        tuple: FiveTuple,
        /// The relayed transport address.
        relay: SocketAddr,
        /// Who made it.
        username: String,
        /// Why.
        reason: DeleteReason,
    },
}

/// Counters and sizes, to watch the server and to check memory stays bounded.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Stats {
    /// Live allocations.
    pub allocations: usize,
    /// Authenticated Allocate requests waiting for the driver to bind their relay.
    pub pending_allocations: usize,
    /// Ports held for RESERVATION-TOKEN.
    pub reservations: usize,
    /// Entries in the timer heap.
    pub timers: usize,
    /// Datagrams queued for [`crate::Server::poll_transmit`].
    pub queued_transmits: usize,
    /// Events queued for [`crate::Server::poll_event`].
    pub queued_events: usize,
    /// Datagrams dropped because the transmit queue was full.
    pub dropped_transmits: u64,
    /// Informational events dropped because the event queue was full.
    pub dropped_events: u64,
    /// Packets relayed from clients to peers (handed to the driver).
    pub relayed_to_peers: u64,
    /// Packets relayed from peers to clients (handed to the driver).
    pub relayed_to_clients: u64,
    /// Input that was dropped (malformed, no allocation, no permission...).
    pub dropped_input: u64,
}
