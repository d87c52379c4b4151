//! The disturbances the soak's schedule makes, and how soon a pair must be receiving again
//! (both sides) after each one ends.
//!
//! The bounds follow from the timers involved, not from what a run happened to show:
//! consent freshness expires 30 s after the last answered check (RFC 7675, the ICE agent's
//! `consent_timeout`), the application waits [`DISCONNECTED_PATIENCE`] in `disconnected`
//! before restarting ICE and restarts at most once per [`RESTART_SPACING`], and a restart
//! takes a signaling round trip, gathering (a TURN allocation for relayed pairs) and
//! connectivity checks: a few seconds at the soak's latencies and loss.
//!
//! [`DISCONNECTED_PATIENCE`]: super::peer::DISCONNECTED_PATIENCE
//! [`RESTART_SPACING`]: super::peer::RESTART_SPACING

use std::time::Duration;

/// What happened to a pair's network.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Disturbance {
    /// One side's NAT lost its mapping and maps the host to a new port.
    Rebind,
    /// One side's link was cut for 40 s and came back.
    LongOutage,
    /// One side's link was cut for 8 s and came back.
    ShortOutage,
    /// The TURN server restarted and lost every allocation: relayed pairs, and direct pairs
    /// whose selected candidate pair ran through the relay at that moment.
    TurnRestart,
}

impl Disturbance {
    /// Every kind, in report order.
    pub const ALL: [Disturbance; 4] = [
        Disturbance::Rebind,
        Disturbance::LongOutage,
        Disturbance::ShortOutage,
        Disturbance::TurnRestart,
    ];

    /// Name in the report.
    pub fn label(self) -> &'static str {
        match self {
            Disturbance::Rebind => "NAT rebind",
            Disturbance::LongOutage => "40 s outage",
            Disturbance::ShortOutage => "8 s outage",
            Disturbance::TurnRestart => "TURN restart",
        }
    }

    /// Index in [`Disturbance::ALL`].
    pub fn index(self) -> usize {
        Disturbance::ALL
            .iter()
            .position(|d| *d == self)
            .unwrap_or(0)
    }

    /// Longest time from the disturbance's end to both sides receiving again.
    pub fn bound(self) -> Duration {
        match self {
            // The rebound side's packets come from a new address: the worst case is that
            // consent expires (30 s), the connection goes `disconnected`, the application
            // waits 10 s and restarts ICE (a few seconds).
            Disturbance::Rebind => Duration::from_secs(50),
            // Consent expired during the outage, so the connection is `failed` or
            // `disconnected` and the application restarts ICE within one restart spacing
            // (10 s) of the link's return, or at once when its patience ran out before.
            Disturbance::LongOutage => Duration::from_secs(25),
            // Shorter than the consent timeout: the selected pair still holds; media flows
            // at once and SCTP's retransmission timer (backed off during the outage)
            // fires within a few seconds.
            Disturbance::ShortOutage => Duration::from_secs(15),
            // Relayed packets vanish at the server until consent expires (30 s), then as
            // after a rebind: patience, restart, a new allocation, checks.
            Disturbance::TurnRestart => Duration::from_secs(50),
        }
    }
}
