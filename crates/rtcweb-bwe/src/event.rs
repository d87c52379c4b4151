//! What the controller tells its caller.

use std::time::Duration;

use crate::{Bitrate, ProbeClusterId};

/// Which estimate is the binding one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Limit {
    /// No feedback yet: the start rate (or a probe result) holds.
    Start,
    /// The delay-based estimate (draft-ietf-rmcat-gcc-02 section 5).
    Delay,
    /// The loss-based estimate (draft-ietf-rmcat-gcc-02 section 6, refined).
    Loss,
    /// The receiver's estimate (REMB).
    Receiver,
    /// The application's maximum.
    Max,
    /// The application's minimum (the network would allow less).
    Min,
    /// Feedback stopped arriving while packets were sent: the target was cut.
    FeedbackTimeout,
}

/// The rates a sender should use now.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TargetRate {
    /// What the encoders together should produce (media plus retransmissions).
    pub target: Bitrate,
    /// The rate the pacer drains its queue at (above the target, so a frame leaves in a
    /// fraction of a frame interval).
    pub pacing: Bitrate,
    /// The rate the pacer fills with padding when media does not reach it.
    pub padding: Bitrate,
    /// The round-trip time the controller uses.
    pub rtt: Duration,
    /// Recent loss fraction (0..1) seen in feedback.
    pub loss: f64,
    /// Which estimate limits the target.
    pub limit: Limit,
}

/// A probe the pacer should send: `min_bytes` in at least `min_probes` packets at
/// `bitrate`, each packet tagged with `id`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProbeCluster {
    /// Its identifier.
    pub id: ProbeClusterId,
    /// The rate to send at.
    pub bitrate: Bitrate,
    /// Fewest packets to send.
    pub min_probes: u32,
    /// Fewest bytes to send.
    pub min_bytes: usize,
}

/// Something the caller must act on.
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub enum Event {
    /// New rates: give `target` to the encoders and `pacing`/`padding` to the pacer
    /// ([`crate::Pacer::set_rates`]).
    TargetRate(TargetRate),
    /// Start a probe: hand it to the pacer ([`crate::Pacer::start_probe`]).
    ProbeCluster(ProbeCluster),
}
