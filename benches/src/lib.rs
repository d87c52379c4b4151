//! Benchmarks of rtcweb (see `benches/`), each run side by side with the implementation it is
//! measured against. Results and the commands that reproduce them are in docs/performance.md.
//!
//! [`soak`] is not a speed bench but a long run on virtual time: PeerConnection pairs through
//! NATs, loss and a restarting TURN server, checked for lost messages, hangs, memory growth
//! and timer storms (`cargo run --release -p rtcweb-benches --bin soak`, a short version in
//! `tests/soak.rs`).

pub mod soak;
