//! What the agent has for its owner: datagrams to send and events, both bounded so that a
//! stalled owner cannot make the agent grow without bound.

use std::collections::VecDeque;
use std::net::SocketAddr;

use rtcweb_core::{Protocol, Transmit};

use crate::event::IceEvent;

/// Most queued transmits before old ones are dropped.
const MAX_QUEUED_TRANSMITS: usize = 256;
/// Most queued events, likewise.
const MAX_QUEUED_EVENTS: usize = 1024;

/// The agent's two output queues.
#[derive(Debug, Default)]
pub(super) struct Outbox {
    transmits: VecDeque<Transmit>,
    /// State changes, candidates, and data that came through a TURN relay.
    events: VecDeque<IceEvent>,
}

impl Outbox {
    /// Queues a datagram; when full, the oldest goes (a lost datagram is what a network does).
    pub(super) fn send(
        &mut self,
        source: SocketAddr,
        destination: SocketAddr,
        payload: Vec<u8>,
        protocol: Protocol,
    ) {
        if self.transmits.len() >= MAX_QUEUED_TRANSMITS {
            self.transmits.pop_front();
        }
        self.transmits.push_back(Transmit {
            source,
            destination,
            payload,
            protocol,
        });
    }

    /// Queues an event. When the owner is not polling and the queue is full, relayed data
    /// is what goes (the newest, or the oldest to make room for a state change): a lost
    /// datagram is what the layers above expect of a network, a lost state change is not.
    pub(super) fn push_event(&mut self, event: IceEvent) {
        if self.events.len() >= MAX_QUEUED_EVENTS {
            if matches!(event, IceEvent::Data(_)) {
                return;
            }
            match self
                .events
                .iter()
                .position(|e| matches!(e, IceEvent::Data(_)))
            {
                Some(i) => {
                    self.events.remove(i);
                }
                None => {
                    self.events.pop_front();
                }
            }
        }
        self.events.push_back(event);
    }

    pub(super) fn poll_transmit(&mut self) -> Option<Transmit> {
        self.transmits.pop_front()
    }

    pub(super) fn poll_event(&mut self) -> Option<IceEvent> {
        self.events.pop_front()
    }

    /// Forgets unsent datagrams (on close; what is queued after still goes out).
    pub(super) fn clear_transmits(&mut self) {
        self.transmits.clear();
    }
}
