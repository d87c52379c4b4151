//! What the example programs of rtcweb share. Each binary in `src/bin` is one example; they
//! do real I/O (sockets, clocks, signals) around the sans-IO protocol crates, and the two
//! teaching examples in `examples/` (`hello-peers`, `sans-io-udp`) show the API in a few
//! dozen lines each.
//!
//! The modules here hold what more than one binary needs, so that each binary keeps only
//! what it is an example of:
//! - [`cli`]: command-line pieces several binaries take the same way (`--ice-server`);
//! - [`ice_servers`]: ICE server URLs with their credentials, as the binaries take them;
//! - [`net`]: host names and socket addresses;
//! - [`random`]: seeds and keys from the operating system;
//! - [`logging`]: `tracing` to stderr, filtered by `RUST_LOG`;
//! - [`media`]: encoded frames to send (VP8 fixtures) and payload types from SDP;
//! - [`shutdown`]: waiting for SIGINT or SIGTERM.
//!
//! Errors are one [`Error`] for the whole library.

pub mod cli;
mod error;
pub mod ice_servers;
pub mod logging;
pub mod media;
pub mod net;
pub mod random;
pub mod shutdown;

pub use error::Error;
