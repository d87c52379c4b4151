//! SRTP and SRTCP for rtcweb: protect and unprotect packets in place, on caller buffers.
//!
//! Implements the four DTLS-SRTP profiles WebRTC peers negotiate
//! ([`ProtectionProfile`]): `AES_CM_128_HMAC_SHA1_80` and `_32` (RFC 3711, RFC 5764) and
//! `AEAD_AES_128_GCM` / `AEAD_AES_256_GCM` (RFC 7714), for RTP and RTCP, with
//!
//! - key derivation per RFC 3711 section 4.3 ([`kdf`]), done once per session;
//! - rollover counter tracking and packet index estimation (sequence wrap, late packets);
//! - a replay window per SSRC (64 packets by default, up to 1024);
//! - SRTCP index and E flag;
//! - per-SSRC streams created on demand, at most [`Config::max_streams`] per table;
//! - counters for every refused packet ([`Stats`]).
//!
//! The crate is sans-IO and has no notion of time: a [`Session`] is a pure transform driven by
//! the caller. Crypto is aws-lc-rs; keys are scheduled when the session is built and packets
//! never cause an allocation.
//!
//! ```
//! use rtcweb_srtp::{Config, MasterKey, ProtectionProfile, Session};
//!
//! // What DTLS exported (RFC 5764 section 4.2), split into our and the peer's keys.
//! let profile = ProtectionProfile::from_id(0x0001).unwrap();
//! let material = [7u8; 60];
//! let (local, remote) = MasterKey::pair_from_dtls_export(profile, &material, true).unwrap();
//! let mut session = Session::new(profile, &local, &remote, Config::default()).unwrap();
//!
//! let mut packet = vec![0x80, 111, 0, 7, 0, 0, 0, 160, 0, 0, 0, 42, 0xde, 0xad];
//! session.protect_rtp_vec(&mut packet).unwrap();
//! assert_eq!(packet.len(), 14 + 10);
//! ```

mod error;
mod header;
pub mod kdf;
mod keys;
mod profile;
mod replay;
mod session;
mod stats;
mod streams;
mod transform;

pub use error::Error;
pub use keys::{DirectionKeys, KeyKind, MasterKey, SessionKeys};
pub use profile::ProtectionProfile;
pub use replay::{MAX_REPLAY_WINDOW, MIN_REPLAY_WINDOW};
pub use session::{Config, Session};
pub use stats::Stats;
