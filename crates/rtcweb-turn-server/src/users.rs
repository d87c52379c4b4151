//! Per-user state of users that hold allocations: how many (for the 486 quota) and the
//! bandwidth buckets they share. Entries live in slots so an allocation reaches its user's
//! buckets by index on the relay path, without hashing the username per datagram.

use std::collections::HashMap;
use std::time::Instant;

use crate::bandwidth::{BandwidthLimit, Buckets};

#[derive(Debug)]
struct Entry {
    /// Allocations, pending ones included.
    allocations: usize,
    buckets: Option<Buckets>,
}

/// At most one entry per user with an allocation (pending or made), so it is bounded by
/// `max_allocations`; an entry goes when its last allocation does, and its slot is reused.
#[derive(Debug, Default)]
pub(crate) struct UserTable {
    index: HashMap<String, usize>,
    slots: Vec<Option<Entry>>,
    free: Vec<usize>,
}

impl UserTable {
    /// Allocations `name` holds.
    pub fn allocations(&self, name: &str) -> usize {
        self.slot(name)
            .and_then(|s| self.slots.get(s)?.as_ref())
            .map_or(0, |e| e.allocations)
    }

    /// The slot of `name`, while it holds an allocation.
    pub fn slot(&self, name: &str) -> Option<usize> {
        self.index.get(name).copied()
    }

    /// Counts one more allocation for `name`; a new entry starts with full buckets.
    pub fn acquire(&mut self, name: &str, now: Instant, limit: Option<BandwidthLimit>) {
        if let Some(e) = self
            .slot(name)
            .and_then(|s| self.slots.get_mut(s)?.as_mut())
        {
            e.allocations += 1;
            return;
        }
        let entry = Entry {
            allocations: 1,
            buckets: limit.map(|l| Buckets::new(l, now)),
        };
        let slot = match self.free.pop() {
            Some(s) => {
                if let Some(x) = self.slots.get_mut(s) {
                    *x = Some(entry);
                }
                s
            }
            None => {
                self.slots.push(Some(entry));
                self.slots.len() - 1
            }
        };
        self.index.insert(name.to_string(), slot);
    }

    /// Counts one allocation less for `name`; the entry goes with the last one.
    pub fn release(&mut self, name: &str) {
        let Some(slot) = self.slot(name) else {
            return;
        };
        let Some(Some(e)) = self.slots.get_mut(slot) else {
            return;
        };
        e.allocations = e.allocations.saturating_sub(1);
        if e.allocations == 0 {
            self.slots[slot] = None;
            self.free.push(slot);
            self.index.remove(name);
        }
    }

    /// The shared buckets of the user in `slot`, if a user limit is configured.
    #[inline]
    pub fn buckets(&mut self, slot: usize) -> Option<&mut Buckets> {
        self.slots.get_mut(slot)?.as_mut()?.buckets.as_mut()
    }

    /// Users holding allocations.
    pub fn len(&self) -> usize {
        self.index.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_come_and_go_with_allocations_and_slots_are_reused() {
        let now = Instant::now();
        let mut t = UserTable::default();
        t.acquire("alice", now, None);
        t.acquire("alice", now, None);
        t.acquire("bob", now, Some(BandwidthLimit::per_second(1000)));
        assert_eq!(
            (t.allocations("alice"), t.allocations("bob"), t.len()),
            (2, 1, 2)
        );
        let bob = t.slot("bob").unwrap();
        assert!(t.buckets(bob).is_some());
        assert!(t.buckets(t.slot("alice").unwrap()).is_none());
        t.release("bob");
        assert_eq!((t.allocations("bob"), t.len()), (0, 1));
        assert!(t.buckets(bob).is_none());
        t.acquire("carol", now, None);
        assert_eq!(t.slot("carol"), Some(bob), "the freed slot is reused");
        t.release("alice");
        t.release("alice");
        t.release("alice");
        t.release("nobody");
        assert_eq!((t.allocations("alice"), t.len()), (0, 1));
        assert_eq!(t.slots.len(), 2);
    }
}
