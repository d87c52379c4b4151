//! Candidate pairs and their states (RFC 8445 section 6.1.2).

/// The state of a candidate pair in the check list (RFC 8445 section 6.1.2.6).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PairState {
    /// Waiting for a pair of its foundation to succeed first.
    Frozen,
    /// Ready to be checked.
    Waiting,
    /// A check is in flight.
    InProgress,
    /// A check succeeded: the pair is valid.
    Succeeded,
    /// Every check failed.
    Failed,
}

/// A candidate pair as `getStats` reports it (`RTCIceCandidatePairStats`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PairStats {
    /// Local candidate.
    pub local: crate::Candidate,
    /// Remote candidate.
    pub remote: crate::Candidate,
    /// Check list state.
    pub state: PairState,
    /// Nominated.
    pub nominated: bool,
    /// Selected for data.
    pub selected: bool,
    /// Round-trip time of the latest successful check (`currentRoundTripTime`).
    pub rtt: Option<std::time::Duration>,
}

/// Pair priority (RFC 8445 section 6.1.2.3): G is the controlling agent's candidate
/// priority, D the controlled agent's.
pub(crate) fn pair_priority(controlling: u32, controlled: u32) -> u64 {
    let (g, d) = (u64::from(controlling), u64::from(controlled));
    (1 << 32) * g.min(d) + 2 * g.max(d) + u64::from(g > d)
}

#[cfg(test)]
mod tests {
    use super::pair_priority;

    #[test]
    fn pair_priority_is_symmetric_up_to_the_tie_bit() {
        assert_eq!(pair_priority(10, 20), (10 << 32) + 40);
        assert_eq!(pair_priority(20, 10), (10 << 32) + 41);
        assert!(pair_priority(100, 100) > pair_priority(99, 1000));
    }
}
