//! The bounded retransmission buffer: the last packets forwarded to the subscriber, by their
//! extended outgoing sequence number, to answer its NACKs without asking the publisher.

use std::time::Instant;

use crate::packet::OutPacket;

/// One forwarded packet.
#[derive(Debug, Clone)]
pub(crate) struct Slot {
    pub ext: u64,
    pub packet: OutPacket,
    pub resent_at: Option<Instant>,
}

/// A ring of `capacity` slots indexed by sequence number: memory is at most `capacity`
/// packets of at most [`crate::MAX_PAYLOAD`] octets each.
#[derive(Debug)]
pub(crate) struct RetransmitBuffer {
    slots: Vec<Option<Slot>>,
}

impl RetransmitBuffer {
    pub fn new(capacity: usize) -> Self {
        Self {
            slots: (0..capacity.max(1)).map(|_| None).collect(),
        }
    }

    fn index(&self, ext: u64) -> usize {
        (ext % self.slots.len() as u64) as usize
    }

    /// Keeps `packet`; an older packet in its slot is forgotten, a newer one stays.
    pub fn insert(&mut self, ext: u64, packet: OutPacket) {
        let i = self.index(ext);
        if self.slots[i].as_ref().is_some_and(|s| s.ext > ext) {
            return;
        }
        self.slots[i] = Some(Slot {
            ext,
            packet,
            resent_at: None,
        });
    }

    pub fn contains(&self, ext: u64) -> bool {
        self.slots[self.index(ext)]
            .as_ref()
            .is_some_and(|s| s.ext == ext)
    }

    pub fn get_mut(&mut self, ext: u64) -> Option<&mut Slot> {
        let i = self.index(ext);
        self.slots[i].as_mut().filter(|s| s.ext == ext)
    }
}
