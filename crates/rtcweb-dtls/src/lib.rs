//! DTLS-SRTP keying for WebRTC (RFC 5764, RFC 8842), sans-IO.
//!
//! - [`Certificate`]: a self-signed ECDSA P-256 certificate with a random serial, reusable
//!   across connections; its SHA-256 [`Fingerprint`] formats as SDP wants it.
//! - [`Fingerprint`]: `a=fingerprint` values (sha-1, sha-224, sha-256, sha-384, sha-512), the
//!   type `rtcweb-core` shares with JSEP; [`fingerprint_of`] computes one and
//!   [`verify_certificate`] checks the peer's certificate against them.
//! - [`Setup`] and [`Role`]: `a=setup` values and the DTLS role they give (also
//!   `rtcweb-core`'s, re-exported here).
//! - [`DtlsContext`]: configuration and certificate, prepared once per application.
//! - [`DtlsEndpoint`]: one DTLS 1.2 or 1.3 association driven on injected time, which checks
//!   the peer certificate against its SDP fingerprints (a mismatch is fatal and yields no
//!   keys), exports [`SrtpKeyingMaterial`] split per RFC 5764 section 4.2, and carries
//!   application data for SCTP.
//!
//! The handshake itself runs in an engine behind an internal seam; today that is
//! [dimpl](https://docs.rs/dimpl), a sans-IO DTLS 1.2/1.3 implementation. What dimpl decides
//! for us (SRTP profile choice, randomness) is documented on [`SrtpProfile`] and
//! [`DtlsConfig`].

mod certificate;
mod config;
mod context;
mod endpoint;
mod engine;
mod error;
mod fingerprint;
mod keying;

pub use certificate::Certificate;
pub use config::{DtlsConfig, DtlsVersion, VersionPolicy};
pub use context::DtlsContext;
pub use endpoint::{DtlsEndpoint, Event, State, Stats};
pub use error::Error;
pub use fingerprint::{fingerprint_of, verify_certificate};
pub use keying::{SrtpKeyingMaterial, SrtpMasterKey, SrtpProfile};
pub use rtcweb_core::{Fingerprint, HashFunction, Role, SansIo, Seed, Setup};
