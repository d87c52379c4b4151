//! A deterministic network for testing sans-IO protocol stacks.
//!
//! `rtcweb-netsim` simulates hosts, links and NAT boxes on a virtual clock. Every protocol
//! crate of rtcweb is tested on it: a TURN refresh after ten minutes, an ICE consent timeout
//! after thirty seconds or an SCTP retransmission storm under 30 % loss run in milliseconds,
//! and the same seed always gives the same run.
//!
//! The pieces:
//! - [`Network`]: address realms (the internet, and the inside of each NAT), hosts with IPv4
//!   and IPv6 addresses, and datagrams in flight. Nothing reads a clock; `now` is a parameter.
//! - [`LinkParams`]: per-direction conditions of a host's or NAT's access link: latency,
//!   jitter, random or bursty ([`Loss::GilbertElliott`]) loss, duplication, reordering, MTU
//!   and a rate limit with a drop-tail queue. [`Link`] is one such direction on its own, for
//!   real packet paths that want the same model.
//! - [`NatConfig`]: NAT boxes by RFC 4787: mapping and filtering behaviours, port
//!   preservation, hairpinning, mapping timeout; NATs can sit behind NATs (carrier-grade NAT).
//! - [`Simulation`]: state machines with the rtcweb sans-IO face ([`SansIo`] taking a
//!   [`Datagram`] and giving a [`Transmit`]) attached to hosts, advanced event by event with
//!   [`Simulation::run_until`].
//!
//! A home NAT behind a carrier-grade NAT:
//!
//! ```
//! use std::time::Instant;
//! use rtcweb_netsim::{Filtering, Mapping, NatConfig, Network, Transmit};
//!
//! let start = Instant::now();
//! let mut net = Network::new(start, 42);
//! let internet = net.internet();
//! let server = net.add_host("server", internet, &["203.0.113.1".parse().unwrap()]);
//! let cgn = NatConfig::new(Mapping::EndpointIndependent, Filtering::EndpointIndependent);
//! let (_, carrier) = net.add_nat(cgn, internet, "198.51.100.7".parse().unwrap());
//! let home = NatConfig::new(Mapping::EndpointIndependent, Filtering::AddressAndPortDependent);
//! let (_, lan) = net.add_nat(home, carrier, "100.64.0.2".parse().unwrap());
//! let laptop = net.add_host("laptop", lan, &["192.168.1.10".parse().unwrap()]);
//!
//! net.send(start, laptop, Transmit {
//!     source: "192.168.1.10:5000".parse().unwrap(),
//!     destination: "203.0.113.1:3478".parse().unwrap(),
//!     protocol: Default::default(),
//!     payload: vec![0; 20],
//! });
//! let (host, seen) = net.poll_delivery(start).unwrap();
//! assert_eq!(host, server);
//! // The server sees the carrier's address; both NATs preserved the port.
//! assert_eq!(seen.source, "198.51.100.7:5000".parse().unwrap());
//! ```

mod echo;
mod link;
mod nat;
mod network;
mod recorder;
mod sim;
mod trace;

pub use echo::Echo;
pub use link::{Departures, DropReason, Link, LinkParams, Loss};
pub use nat::{Filtering, Mapping, NatConfig};
pub use network::{HostId, NatId, Network, Node, RealmId};
pub use recorder::Recorder;
pub use rtcweb_core::{Datagram, Protocol, Rng, SansIo, Seed, Transmit};
pub use sim::{Endpoint, Simulation};
pub use trace::{Trace, TraceEvent, TraceKind};
