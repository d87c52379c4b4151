//! The send history: what was sent under each transport-wide sequence number, so feedback
//! (which carries only sequence numbers and arrival times) can be matched with send times,
//! sizes and probe clusters. A ring indexed by sequence number: fixed memory, no
//! allocation per packet, old entries overwritten.

use crate::input::ProbeClusterId;
use crate::time::Micros;

/// What the feedback said about a packet so far.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Reported {
    /// Nothing yet.
    No,
    /// Reported lost (a later report may still say it arrived).
    Lost,
    /// Reported received; further reports of it are ignored.
    Received,
}

/// One sent packet.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Sent {
    pub(crate) seq: u64,
    pub(crate) send_us: Micros,
    pub(crate) size: u32,
    pub(crate) probe: Option<ProbeClusterId>,
    pub(crate) reported: Reported,
    /// Sent right behind the packet before it at the pacing rate (part of a train).
    pub(crate) continues: bool,
}

/// The ring of sent packets.
#[derive(Debug)]
pub(crate) struct SendHistory {
    slots: Vec<Option<Sent>>,
    mask: u64,
}

impl SendHistory {
    /// A history of at least `capacity` packets (rounded up to a power of two, at least 64).
    pub(crate) fn new(capacity: usize) -> Self {
        let n = capacity.clamp(64, 1 << 20).next_power_of_two();
        Self {
            slots: vec![None; n],
            mask: n as u64 - 1,
        }
    }

    /// How many packets it remembers.
    pub(crate) fn capacity(&self) -> usize {
        self.slots.len()
    }

    /// Records a sent packet (overwriting whatever had the same slot).
    pub(crate) fn insert(&mut self, sent: Sent) {
        let i = (sent.seq & self.mask) as usize;
        if let Some(slot) = self.slots.get_mut(i) {
            *slot = Some(sent);
        }
    }

    /// The packet sent with `seq`, if it is still remembered.
    pub(crate) fn get_mut(&mut self, seq: u64) -> Option<&mut Sent> {
        let i = (seq & self.mask) as usize;
        self.slots.get_mut(i)?.as_mut().filter(|s| s.seq == seq)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sent(seq: u64) -> Sent {
        Sent {
            seq,
            send_us: seq as i64,
            size: 100,
            probe: None,
            reported: Reported::No,
            continues: false,
        }
    }

    #[test]
    fn old_entries_are_overwritten_and_not_confused() {
        let mut h = SendHistory::new(64);
        for s in 0..100 {
            h.insert(sent(s));
        }
        assert!(h.get_mut(10).is_none(), "overwritten by 74");
        assert_eq!(h.get_mut(74).map(|s| s.seq), Some(74));
        assert_eq!(h.get_mut(99).map(|s| s.send_us), Some(99));
        assert!(h.get_mut(100).is_none());
        assert!(h.get_mut(u64::MAX).is_none());
    }
}
