//! A bound on how many DATA chunks the engine takes in while nobody reads from it.
//!
//! While we do not read (the application paused reads, or our event queue is full), the
//! engine keeps accepting DATA until its receive buffer holds `receive_window` bytes of user
//! data. It counts bytes only: with messages of a few bytes that is hundreds of thousands of
//! chunks, and rtc-sctp 0.21.1 then stops delivering an ordered stream for good once the
//! unread messages span more than half of the 16-bit stream sequence number space (found by
//! `channels.rs::empty_messages_cannot_fill_an_unpolled_queue_without_bound`: of 70,000
//! empty messages 49,153 came out, then nothing). So from the moment reading stops, new DATA
//! more than [`MAX_UNREAD_CHUNKS`] TSNs past the engine's cumulative TSN of that moment is
//! dropped with its packet, as a full receive buffer would; the peer retransmits it once we
//! read again. A reader that keeps up never triggers this: reading stops only when our
//! queue is full, and then the engine has at most a packet's worth unread.

use super::wire;

/// Chunks (so messages, on any one stream) the engine may take in past the point where
/// reading stopped: well inside half the SSN space (32,768).
pub(crate) const MAX_UNREAD_CHUNKS: u32 = 8192;

/// See the module documentation.
#[derive(Debug, Default)]
pub(crate) struct UnreadBound {
    /// The engine's cumulative TSN when reading stopped; `None` while we read.
    stopped_at: Option<u32>,
}

impl UnreadBound {
    /// Reading stopped (`false`) or goes on (`true`). `acknowledged` is the engine's
    /// cumulative TSN as its last SACK gave it.
    pub(crate) fn set_reading(&mut self, reading: bool, acknowledged: Option<u32>) {
        if reading {
            self.stopped_at = None;
        } else if self.stopped_at.is_none() {
            self.stopped_at = acknowledged;
        }
    }

    /// Whether a packet from the peer may reach the engine.
    pub(crate) fn admit(&self, packet: &[u8]) -> bool {
        let Some(from) = self.stopped_at else {
            return true;
        };
        !wire::data_chunks(packet)
            .any(|c| wire::serial_ahead(from, c.tsn).is_some_and(|d| d > MAX_UNREAD_CHUNKS))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn data(tsn: u32) -> Vec<u8> {
        let mut p = vec![0u8; 12];
        p.extend_from_slice(&[0, 3, 0, 17]);
        p.extend_from_slice(&tsn.to_be_bytes());
        p.extend_from_slice(&[0, 1, 0, 0, 0, 0, 0, 53, 7, 0, 0, 0]);
        p
    }

    #[test]
    fn new_data_far_past_the_stop_is_refused_until_reading_resumes() {
        let mut b = UnreadBound::default();
        assert!(b.admit(&data(1_000_000)), "reading: everything passes");
        let stop = u32::MAX - 10;
        b.set_reading(false, Some(stop));
        assert!(
            b.admit(&data(stop.wrapping_add(MAX_UNREAD_CHUNKS))),
            "wraps like TSNs"
        );
        assert!(!b.admit(&data(stop.wrapping_add(MAX_UNREAD_CHUNKS + 1))));
        assert!(b.admit(&data(5)), "16 past the stop, across the wrap");
        assert!(
            b.admit(&data(stop - 100)),
            "behind the stop (a retransmission)"
        );
        // A later stop does not move the mark; resuming clears it.
        b.set_reading(false, Some(100));
        assert!(!b.admit(&data(100 + MAX_UNREAD_CHUNKS)));
        b.set_reading(true, Some(100));
        assert!(b.admit(&data(100 + MAX_UNREAD_CHUNKS)));
    }
}
