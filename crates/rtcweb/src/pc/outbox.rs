//! What the connection hands its owner: the queues of events and transmits (bounded), the
//! transport counters they feed, and the pool of buffers the owner hands back.

use std::collections::VecDeque;

use crate::event::{Event, Transmit};
use crate::stats::TransportStats;

/// Most queued events and transmits before the oldest are dropped: an owner that stops
/// polling must not make the connection grow without bound.
const MAX_QUEUED: usize = 4096;
/// Most events taken from SCTP into the queue at once (see `pull_sctp_events`).
pub(super) const SCTP_EVENTS_QUEUED: usize = MAX_QUEUED / 4;

/// Buffers [`crate::PeerConnection::recycle`] keeps at most.
pub const MAX_POOLED_BUFFERS: usize = 256;
/// The largest buffer kept for reuse.
const MAX_POOLED_CAPACITY: usize = 65_536;

/// The owner-facing queues of a connection.
#[derive(Debug, Default)]
pub(super) struct Outbox {
    transmits: VecDeque<Transmit>,
    events: VecDeque<Event>,
    counters: Counters,
    /// Buffers handed back with `recycle`, for the next datagram or RTP packet.
    buffers: Vec<Vec<u8>>,
}

/// Transport-level counters for getStats.
#[derive(Debug, Clone, Copy, Default)]
struct Counters {
    bytes_sent: u64,
    bytes_received: u64,
    packets_sent: u64,
    packets_received: u64,
}

impl Outbox {
    /// Queues an event, dropping the oldest when the queue is full.
    pub(super) fn push_event(&mut self, event: Event) {
        if self.events.len() >= MAX_QUEUED {
            self.events.pop_front();
        }
        self.events.push_back(event);
    }

    /// Queues a transmit (counted as sent), dropping the oldest when the queue is full.
    pub(super) fn push_transmit(&mut self, t: Transmit) {
        if self.transmits.len() >= MAX_QUEUED {
            self.transmits.pop_front();
        }
        self.counters.bytes_sent += t.payload.len() as u64;
        self.counters.packets_sent += 1;
        self.transmits.push_back(t);
    }

    /// Counts a datagram received.
    pub(super) fn count_received(&mut self, len: usize) {
        self.counters.bytes_received += len as u64;
        self.counters.packets_received += 1;
    }

    pub(super) fn pop_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    pub(super) fn pop_transmit(&mut self) -> Option<Transmit> {
        self.transmits.pop_front()
    }

    pub(super) fn queued_events(&self) -> usize {
        self.events.len()
    }

    pub(super) fn has_transmits(&self) -> bool {
        !self.transmits.is_empty()
    }

    /// Keeps a buffer for reuse (see `PeerConnection::recycle`).
    pub(super) fn recycle(&mut self, mut buffer: Vec<u8>) {
        if self.buffers.len() < MAX_POOLED_BUFFERS && buffer.capacity() <= MAX_POOLED_CAPACITY {
            buffer.clear();
            self.buffers.push(buffer);
        }
    }

    /// A buffer for a datagram of up to `len` octets: a recycled one if there is one.
    pub(super) fn take_buffer(&mut self, len: usize) -> Vec<u8> {
        match self.buffers.pop() {
            Some(mut b) => {
                b.reserve(len);
                b
            }
            None => Vec::with_capacity(len.max(1500)),
        }
    }

    /// The transport statistics with the counters filled in.
    pub(super) fn transport_stats(&self) -> TransportStats {
        TransportStats {
            bytes_sent: self.counters.bytes_sent,
            bytes_received: self.counters.bytes_received,
            packets_sent: self.counters.packets_sent,
            packets_received: self.counters.packets_received,
            ..TransportStats::default()
        }
    }
}
