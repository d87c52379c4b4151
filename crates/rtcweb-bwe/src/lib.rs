//! Bandwidth estimation (send side, and receive side for REMB) and pacing for rtcweb,
//! sans-IO.
//!
//! [`BandwidthEstimator`] is a congestion controller after draft-ietf-rmcat-gcc-02
//! (Google Congestion Control) as libwebrtc runs it today: the sender records every
//! packet it sends with its transport-wide sequence number, the receiver reports arrival
//! times (transport-wide CC feedback, or RFC 8888 CCFB), and the controller turns them
//! into a target bitrate for the encoders and a pacing rate for the [`Pacer`].
//!
//! The pieces, one module each:
//!
//! | component | what it does |
//! |---|---|
//! | inter-arrival grouping | packets sent within 5 ms form a group; bursts delivered together join it |
//! | trendline | least-squares slope of the accumulated delay variation over 20 groups |
//! | over-use detector | the slope against an adaptive threshold: normal, over-use, under-use |
//! | AIMD rate control | multiplicative/additive increase, decrease to 0.9 of the delivery rate (deeper to drain a large queue), link capacity band |
//! | acknowledged bitrate | Bayesian filter of the arrival rate, and the raw delivery rate |
//! | loss-based estimator | maximum-likelihood fit of inherent and congestion loss (libwebrtc's loss-based v2 model) |
//! | ALR detector | application-limited periods, from what was sent against a budget |
//! | probe controller | start-up probes, exponential search, probes on a raised maximum, on leaving ALR, after drops |
//! | probe estimator | the rate a probe cluster got through |
//! | packet trains | frames paced at 2.5x the target that arrive unsaturated hint at spare capacity |
//! | pacer | leaky bucket with a burst budget, priority classes, bounded queue, probes and padding |
//!
//! Inputs are plain records ([`Input`]): nothing here depends on an RTP stack, so an SFU
//! can run one estimator per downstream peer on its own. Every state machine has the
//! same face as the rest of rtcweb: `handle_input`, `handle_timeout`, `poll_event` (or
//! `poll_transmit` for the pacer) and `poll_timeout`.
//!
//! Wiring, per outgoing transport:
//!
//! ```
//! use std::time::{Duration, Instant};
//! use rtcweb_bwe::*;
//!
//! let t0 = Instant::now();
//! let mut bwe = BandwidthEstimator::new(Config::default()).unwrap();
//! let mut pacer: Pacer<Vec<u8>> = Pacer::new(PacerConfig::default());
//! let mut seq = 0u64;
//!
//! // The encoder produced a packet: queue it.
//! pacer.push(t0, vec![0; 1200], 1200, PacketClass::Video);
//! bwe.handle_timeout(t0);
//! // Events: rates go to the encoder and the pacer, probes to the pacer.
//! while let Some(ev) = bwe.poll_event() {
//!     match ev {
//!         Event::TargetRate(r) => pacer.set_rates(r.pacing, r.padding),
//!         Event::ProbeCluster(c) => pacer.start_probe(c),
//!         _ => {}
//!     }
//! }
//! // Release what the pacer allows; every packet sent is recorded with its sequence number.
//! while let Some(tx) = pacer.poll_transmit(t0) {
//!     let (size, kind, probe_cluster) = match tx {
//!         Release::Packet { size, probe_cluster, .. } => (size, PacketKind::Video, probe_cluster),
//!         Release::Padding(p) => (p.bytes, PacketKind::Padding, p.probe_cluster),
//!     };
//!     seq += 1;
//!     bwe.handle_input(t0, Input::Sent(SentPacket { seq, size, send_time: t0, kind, probe_cluster }))
//!         .unwrap();
//! }
//! // Later the feedback comes back.
//! let fb = [PacketResult { seq: 1, arrival_us: Some(30_000) }];
//! bwe.handle_input(t0 + Duration::from_millis(60), Input::Feedback(&fb)).unwrap();
//! ```
//!
//! For peers that send no transport-wide feedback, [`RemoteEstimator`] runs the same
//! delay-based controller at the receiver, on arrival times and the abs-send-time the
//! packets carry, and says when to send its estimate back as REMB (which the sender's
//! [`BandwidthEstimator`] takes as [`Input::ReceiverEstimate`]).
//!
//! Design, constants and the simulated-link results: docs/bwe.md.

mod acked_bitrate;
mod aimd;
mod alr;
mod controller;
mod delay_based;
mod error;
mod event;
mod history;
mod input;
mod inter_arrival;
mod link_capacity;
mod loss_based;
mod overuse;
mod pacer;
mod probe_controller;
mod probe_estimator;
mod rate;
mod remote;
mod send_time;
mod time;
mod train;
mod trendline;

pub use controller::{BandwidthEstimator, Config, Stats};
pub use error::{Error, Result};
pub use event::{Event, Limit, ProbeCluster, TargetRate};
pub use input::{
    Constraints, Input, LossReport, PacketKind, PacketResult, ProbeClusterId, SentPacket,
};
pub use pacer::{Pacer, PacerConfig, PacerStats, PacketClass, PaddingRequest, Release};
pub use rate::Bitrate;
pub use remote::{
    ReceivedPacket, Remb, RemoteConfig, RemoteEstimator, RemoteEvent, RemoteInput, RemoteStats,
};
pub use send_time::SendTime;
