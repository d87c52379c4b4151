//! The vocabulary every rtcweb protocol crate shares.
//!
//! Every layer of rtcweb (STUN/TURN, ICE, DTLS, SRTP, RTP, SCTP, the `PeerConnection`) is a
//! sans-IO state machine: it never reads a clock, opens a socket or starts a thread. This
//! crate is what they have in common, so that composing two of them needs no glue:
//!
//! - [`SansIo`]: the five calls every state machine answers, named and shaped the same in
//!   every crate (`handle_input`, `handle_timeout`, `poll_transmit`, `poll_event`,
//!   `poll_timeout`);
//! - [`Transmit`] and [`Protocol`]: a datagram (or a piece of a TCP/TLS byte stream) to send,
//!   with its source and destination; [`Datagram`]: one that arrived;
//! - [`Rng`] and [`Seed`]: the one seedable generator, so that a test with a fixed seed is
//!   the same run every time and production seeds from the operating system (the driver's
//!   job, never a protocol crate's);
//! - the values layers hand each other, typed once where they enter and never formatted to
//!   text and parsed back on the way: [`Fingerprint`] and [`HashFunction`] (`a=fingerprint`,
//!   which JSEP parses and DTLS checks), [`Setup`] and [`Role`] (`a=setup` and the DTLS/SCTP
//!   role it gives), [`Candidate`] (what ICE gathers and pairs and JSEP writes in
//!   `a=candidate`); [`Error`] says what is wrong with one, by [`ErrorCategory`].
//!
//! Driving any layer looks the same:
//!
//! ```
//! use std::time::{Duration, Instant};
//! use rtcweb_core::SansIo;
//!
//! /// Sends "tick" every second until told to stop.
//! struct Ticker { next: Option<Instant>, due: bool }
//!
//! impl SansIo for Ticker {
//!     type Input<'a> = ();
//!     type Transmit = Vec<u8>;
//!     type Event = ();
//!     fn handle_input(&mut self, _now: Instant, _input: ()) { self.next = None; }
//!     fn handle_timeout(&mut self, now: Instant) {
//!         if self.next.is_some_and(|t| t <= now) {
//!             self.due = true;
//!             self.next = Some(now + Duration::from_secs(1));
//!         }
//!     }
//!     fn poll_transmit(&mut self, _now: Instant) -> Option<Vec<u8>> {
//!         std::mem::take(&mut self.due).then(|| b"tick".to_vec())
//!     }
//!     fn poll_event(&mut self) -> Option<()> { None }
//!     fn poll_timeout(&self) -> Option<Instant> { self.next }
//! }
//!
//! let start = Instant::now();
//! let mut t = Ticker { next: Some(start), due: false };
//! let mut sent = 0;
//! let mut now = start;
//! while let Some(at) = t.poll_timeout().filter(|at| *at < start + Duration::from_secs(3)) {
//!     now = at; // virtual time: no sleeping
//!     t.handle_timeout(now);
//!     while t.poll_transmit(now).is_some() { sent += 1; }
//! }
//! assert_eq!(sent, 3);
//! ```

mod candidate;
mod error;
mod face;
mod fingerprint;
mod rng;
mod setup;
mod transmit;

pub use candidate::{Candidate, CandidateAddress, CandidateKind, TcpType, Transport};
pub use error::{Error, ErrorCategory};
pub use face::SansIo;
pub use fingerprint::{Fingerprint, HashFunction};
pub use rng::{Rng, Seed};
pub use setup::{Role, Setup};
pub use transmit::{Datagram, Protocol, Transmit};
