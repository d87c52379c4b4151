//! A bound on how far a FORWARD TSN (RFC 3758 section 3.2) may move the engine's cumulative
//! TSN.
//!
//! rtc-sctp 0.21.1 moves its cumulative TSN to a FORWARD TSN's value one TSN at a time, with
//! no bound: a FORWARD TSN 2^31 - 1 TSNs ahead costs that many iterations (seconds of CPU
//! for one packet), and where overflow checks are on, crossing u32::MAX panics (found by the
//! `sctp_input` fuzz target). A sender can only forward over TSNs it has sent and we have
//! not acknowledged, and it cannot have more of those outstanding than our receive window
//! holds (every DATA chunk carries at least one byte). So a FORWARD TSN further ahead of our
//! last acknowledgement than that is not one a peer can send, and is dropped with its
//! packet.
//!
//! Our last acknowledgement is read from the SACKs the engine sends (their Cumulative TSN
//! Ack is the engine's cumulative TSN); before the first, from the peer's Initial TSN in its
//! INIT or INIT ACK. A SACK lags the engine, so the distance measured is never shorter than
//! the engine's own loop.

use super::wire::{self, CT_INIT, CT_INIT_ACK};

const CT_SACK: u8 = 3;
const CT_FORWARD_TSN: u8 = 192;

fn u32_at(chunk: &[u8], at: usize) -> Option<u32> {
    let b = chunk.get(at..at + 4)?;
    Some(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
}

/// See the module documentation.
#[derive(Debug)]
pub(crate) struct ForwardTsnBound {
    /// The engine's cumulative TSN as far as we know it (never ahead of the engine's).
    acknowledged: Option<u32>,
    /// Most TSNs a FORWARD TSN may move past `acknowledged`.
    max_jump: u32,
}

impl ForwardTsnBound {
    /// A bound for a receive window of `receive_window` bytes.
    pub(crate) fn new(receive_window: usize) -> Self {
        ForwardTsnBound {
            acknowledged: None,
            max_jump: u32::try_from(receive_window).unwrap_or(u32::MAX).max(1),
        }
    }

    /// A packet from the peer, before the engine reads it. Walks it as the engine will
    /// ([`wire::walk_as_engine`], so it refuses a packet whose causes would make the engine
    /// slice out of bounds),
    /// learns the peer's Initial TSN while `handshaking`, and returns false when a FORWARD
    /// TSN the engine would read jumps too far.
    pub(crate) fn admit(&mut self, packet: &[u8], handshaking: bool) -> bool {
        let mut admit = true;
        wire::walk_as_engine(packet, &mut |chunk| {
            match chunk.first().copied() {
                Some(CT_INIT | CT_INIT_ACK) if handshaking => {
                    // Initial TSN, after the tag, window and stream counts.
                    if let Some(initial) = u32_at(chunk, 16) {
                        self.acknowledged = Some(initial.wrapping_sub(1));
                    }
                }
                // Only a FORWARD TSN the engine parses (a whole number of stream entries
                // after the new cumulative TSN); it refuses the packet on any other. Where
                // the walk cannot tell the engine's path it visits every offset the engine
                // might read, and a 4-byte Forward-TSN-Supported parameter (type 0xC000)
                // there looks like a FORWARD TSN header: it must not cost a peer its INIT.
                Some(CT_FORWARD_TSN) if chunk.len() >= 8 && (chunk.len() - 8) % 4 == 0 => {
                    admit &= u32_at(chunk, 4).is_some_and(|to| self.allows(to));
                }
                _ => {}
            }
            admit
        }) && admit
    }

    fn allows(&self, new_cumulative: u32) -> bool {
        let Some(from) = self.acknowledged else {
            // No Initial TSN seen: the engine has nothing to forward over either.
            return false;
        };
        match wire::serial_ahead(from, new_cumulative) {
            // Behind or equal: the engine ignores it.
            None => true,
            Some(d) if d > self.max_jump => false,
            // The engine adds without wrapping: where overflow checks are on (debug builds),
            // moving past u32::MAX would panic. Only such builds refuse the wrap.
            Some(_) => !(cfg!(debug_assertions) && new_cumulative < from),
        }
    }

    /// The engine's cumulative TSN as far as we know it.
    pub(crate) fn acknowledged(&self) -> Option<u32> {
        self.acknowledged
    }

    /// A packet the engine sends: its SACK carries the engine's cumulative TSN.
    pub(crate) fn observe_outbound(&mut self, packet: &[u8]) {
        for chunk in wire::chunks(packet) {
            if chunk.first() == Some(&CT_SACK)
                && let Some(cumulative) = u32_at(chunk, 4)
            {
                self.acknowledged = Some(cumulative);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn packet(chunks: &[&[u8]]) -> Vec<u8> {
        let mut p = vec![0u8; 12];
        for c in chunks {
            p.extend_from_slice(c);
        }
        p
    }

    fn forward_tsn(to: u32) -> Vec<u8> {
        let mut c = vec![CT_FORWARD_TSN, 0, 0, 8];
        c.extend_from_slice(&to.to_be_bytes());
        c
    }

    fn sack(cumulative: u32) -> Vec<u8> {
        let mut c = vec![CT_SACK, 0, 0, 16];
        c.extend_from_slice(&cumulative.to_be_bytes());
        c.extend_from_slice(&[0, 1, 0, 0, 0, 0, 0, 0]);
        c
    }

    fn init(initial_tsn: u32) -> Vec<u8> {
        let mut c = vec![CT_INIT, 0, 0, 20, 1, 2, 3, 4, 0, 1, 0, 0, 4, 0, 4, 0];
        c.extend_from_slice(&initial_tsn.to_be_bytes());
        c
    }

    #[test]
    fn a_forward_tsn_may_move_at_most_a_receive_window_past_our_last_sack() {
        let mut b = ForwardTsnBound::new(1000);
        assert!(
            !b.admit(&packet(&[&forward_tsn(5)]), false),
            "no TSN known yet"
        );
        assert!(b.admit(&packet(&[&init(100)]), true));
        assert!(b.admit(&packet(&[&forward_tsn(1099)]), false));
        assert!(!b.admit(&packet(&[&forward_tsn(1100)]), false));
        assert!(
            b.admit(&packet(&[&forward_tsn(50)]), false),
            "behind: ignored by the engine"
        );
        b.observe_outbound(&packet(&[&sack(5000)]));
        assert!(b.admit(&packet(&[&forward_tsn(6000)]), false));
        assert!(!b.admit(&packet(&[&forward_tsn(6001)]), false));
        // Half the serial space ahead (the fuzz target's find): refused.
        assert!(!b.admit(&packet(&[&forward_tsn(5000 + (1 << 31) - 1)]), false));
        // An INIT after the handshake does not move the bound.
        assert!(b.admit(&packet(&[&init(1 << 30)]), false));
        assert!(!b.admit(&packet(&[&forward_tsn((1 << 30) + 10)]), false));
    }

    #[test]
    fn a_forward_tsn_hidden_where_the_engine_reads_is_found() {
        let mut b = ForwardTsnBound::new(1000);
        b.observe_outbound(&packet(&[&sack(10)]));
        // A HEARTBEAT whose parameter ends early: the engine reads on from there.
        let mut hb = vec![4, 0, 0, 16, 0, 1, 0, 4];
        hb.extend_from_slice(&forward_tsn(1 << 20));
        assert!(!b.admit(&packet(&[&hb]), false));
    }

    #[test]
    fn crossing_u32_max_is_refused_only_where_the_engine_would_panic() {
        let mut b = ForwardTsnBound::new(1000);
        b.observe_outbound(&packet(&[&sack(u32::MAX - 5)]));
        assert!(b.admit(&packet(&[&forward_tsn(u32::MAX)]), false));
        assert_eq!(
            b.admit(&packet(&[&forward_tsn(3)]), false),
            !cfg!(debug_assertions)
        );
    }

    /// node-datachannel 0.33.4's INIT (usrsctp, captured in interop `61-echoes-client`):
    /// Forward-TSN-Supported, Zero Checksum Acceptable, Supported Extensions, Random,
    /// Requested HMAC Algorithm and Chunk List parameters.
    const LIBDATACHANNEL_INIT: &str = "1388138800000000c79ace810100005e357cbd34001000000400\
        04004322536cc0000004800100080000000180080009c00fc18082000000800200244101029144e2778c\
        1b141f68d39ec497c226bd22a439e29ebd0ef62268f6b7c280040006000100008003000680c10000";

    #[test]
    fn a_real_init_with_every_parameter_is_admitted() {
        let hex: String = LIBDATACHANNEL_INIT.split_whitespace().collect();
        let packet: Vec<u8> = (0..hex.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
            .collect();
        assert!(wire::walk_as_engine(&packet, &mut |_| true));
        let mut b = ForwardTsnBound::new(1 << 20);
        assert!(b.admit(&packet, true));
        assert_eq!(b.acknowledged, Some(0x4322_536b), "Initial TSN - 1");
    }
}
