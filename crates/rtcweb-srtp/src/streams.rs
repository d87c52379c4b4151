//! Per-SSRC state, created on demand and bounded in number.

use std::collections::HashMap;

/// Up to this many streams a linear scan over the SSRC list beats hashing.
const LINEAR_SCAN_MAX: usize = 16;

/// SSRC-keyed table of stream states with a fixed upper bound on its size.
///
/// SSRCs live in their own dense vector so the common case (a handful of streams) is a short
/// scan over `u32`s; past `LINEAR_SCAN_MAX` a hash map indexes them.
#[derive(Debug)]
pub(crate) struct StreamTable<T> {
    ssrcs: Vec<u32>,
    states: Vec<T>,
    index: HashMap<u32, usize>,
    limit: usize,
}

impl<T> StreamTable<T> {
    pub(crate) fn new(limit: usize) -> Self {
        Self {
            ssrcs: Vec::new(),
            states: Vec::new(),
            index: HashMap::new(),
            limit,
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.ssrcs.len()
    }

    /// The slot of `ssrc`, if it has one.
    #[inline]
    pub(crate) fn find(&self, ssrc: u32) -> Option<usize> {
        if self.ssrcs.len() <= LINEAR_SCAN_MAX {
            self.ssrcs.iter().position(|&s| s == ssrc)
        } else {
            self.index.get(&ssrc).copied()
        }
    }

    #[inline]
    pub(crate) fn get(&self, slot: usize) -> Option<&T> {
        self.states.get(slot)
    }

    #[inline]
    pub(crate) fn get_mut(&mut self, slot: usize) -> Option<&mut T> {
        self.states.get_mut(slot)
    }

    /// Whether a new SSRC can still be added.
    #[inline]
    pub(crate) fn has_room(&self) -> bool {
        self.ssrcs.len() < self.limit
    }

    /// Adds `ssrc` (not present; the caller checked `has_room`) and returns its slot.
    pub(crate) fn insert(&mut self, ssrc: u32, state: T) -> usize {
        let slot = self.ssrcs.len();
        self.ssrcs.push(ssrc);
        self.states.push(state);
        if self.ssrcs.len() > LINEAR_SCAN_MAX {
            if self.index.is_empty() {
                self.index
                    .extend(self.ssrcs.iter().enumerate().map(|(i, &s)| (s, i)));
            } else {
                self.index.insert(ssrc, slot);
            }
        }
        slot
    }

    /// Forgets `ssrc`; returns whether it was present.
    pub(crate) fn remove(&mut self, ssrc: u32) -> bool {
        let Some(slot) = self.find(ssrc) else {
            return false;
        };
        self.ssrcs.swap_remove(slot);
        self.states.swap_remove(slot);
        if self.ssrcs.len() > LINEAR_SCAN_MAX {
            self.index.remove(&ssrc);
            if let Some(&moved) = self.ssrcs.get(slot) {
                self.index.insert(moved, slot);
            }
        } else {
            self.index.clear();
        }
        true
    }

    /// Every SSRC in the table.
    pub(crate) fn ssrcs(&self) -> &[u32] {
        &self.ssrcs
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn find_insert_remove_across_the_scan_limit() {
        let mut t = StreamTable::new(40);
        for s in 0..40u32 {
            assert!(t.has_room());
            let slot = t.insert(s * 3, s);
            assert_eq!(t.find(s * 3), Some(slot));
        }
        assert!(!t.has_room());
        for s in 0..40u32 {
            assert_eq!(t.get(t.find(s * 3).unwrap()), Some(&s));
            assert_eq!(t.find(s * 3 + 1), None);
        }
        for s in (0..40u32).step_by(2) {
            assert!(t.remove(s * 3));
            assert!(!t.remove(s * 3));
        }
        assert_eq!(t.len(), 20);
        for s in 0..40u32 {
            let found = t.find(s * 3).and_then(|i| t.get(i)).copied();
            assert_eq!(found, if s % 2 == 1 { Some(s) } else { None });
        }
    }
}
