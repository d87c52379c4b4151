//! A record of what the network did, for determinism checks and debugging.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::time::Duration;

use crate::link::DropReason;
use crate::network::HostId;

/// What happened to a datagram.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TraceKind {
    /// A host handed it to the network.
    Sent,
    /// It arrived at a host.
    Delivered,
    /// It was dropped, and why.
    Dropped(DropReason),
}

/// One traced event. Addresses are as seen at that point (a delivery shows the translated
/// addresses).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TraceEvent {
    /// Virtual time since the network's start.
    pub at: Duration,
    /// What happened.
    pub kind: TraceKind,
    /// The sending host for `Sent`, the receiving host for `Delivered`.
    pub host: Option<HostId>,
    /// Source address.
    pub from: SocketAddr,
    /// Destination address.
    pub to: SocketAddr,
    /// Payload length.
    pub len: usize,
}

/// Events (when enabled with `Network::enable_trace`) and drop counters (always).
#[derive(Debug, Clone, Default)]
pub struct Trace {
    pub(crate) enabled: bool,
    pub(crate) events: Vec<TraceEvent>,
    pub(crate) drops: BTreeMap<DropReason, u64>,
}

impl Trace {
    /// Every recorded event in order.
    pub fn events(&self) -> &[TraceEvent] {
        &self.events
    }

    /// How many datagrams were dropped for `reason`.
    pub fn drops(&self, reason: DropReason) -> u64 {
        self.drops.get(&reason).copied().unwrap_or(0)
    }

    /// How many datagrams were dropped for any reason.
    pub fn total_drops(&self) -> u64 {
        self.drops.values().sum()
    }

    pub(crate) fn count_drop(&mut self, reason: DropReason) {
        *self.drops.entry(reason).or_default() += 1;
    }
}
