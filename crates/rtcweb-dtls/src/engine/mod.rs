//! The seam between [`DtlsEndpoint`](crate::DtlsEndpoint) and the library that runs the DTLS
//! handshake and record layer.
//!
//! An engine knows nothing of SDP, fingerprints or SRTP key layout: it moves records, reports
//! the peer certificate and the raw exported keying material, and carries application data.
//! The endpoint does the WebRTC policy on top. Adding an engine (say OpenSSL, behind a feature)
//! means implementing [`Engine`] and one arm in [`new_engine`]; callers do not change.

use std::sync::Arc;
use std::time::Instant;

use crate::{Certificate, DtlsConfig, DtlsVersion, Error, Role, SrtpProfile};

mod dimpl_engine;
mod hybrid_kx;
mod record_number;

/// One thing an engine produced.
#[derive(Debug)]
pub(crate) enum Output<'a> {
    /// A datagram to send.
    Transmit(&'a [u8]),
    /// The engine wants `handle_timeout` at this instant.
    Timeout(Instant),
    /// The peer's leaf certificate (DER), not yet checked by anyone.
    PeerCertificate(&'a [u8]),
    /// `EXTRACTOR-dtls_srtp` output for the negotiated `use_srtp` profile.
    SrtpKeyingMaterial {
        /// Negotiated profile.
        profile: SrtpProfile,
        /// `profile.keying_material_len()` bytes, RFC 5764 section 4.2 order.
        exported: &'a [u8],
    },
    /// The handshake completed.
    Connected,
    /// Decrypted application data.
    ApplicationData(&'a [u8]),
    /// The peer sent `close_notify`.
    CloseNotify,
}

/// A DTLS implementation driven on injected time. Every `Err` is fatal: the endpoint stops
/// calling the engine afterwards.
pub(crate) trait Engine: Send {
    /// Advances the engine's clock (retransmissions, deadlines).
    fn handle_timeout(&mut self, now: Instant) -> Result<(), Error>;
    /// Feeds one received datagram (after `handle_timeout(now)`).
    fn handle_datagram(&mut self, datagram: &[u8]) -> Result<(), Error>;
    /// Hands every pending output to `sink`, ending with one [`Output::Timeout`] when the
    /// engine has a deadline.
    fn drain(&mut self, sink: &mut dyn FnMut(Output<'_>));
    /// Encrypts and queues application data (only after [`Output::Connected`]).
    fn send_application_data(&mut self, data: &[u8]) -> Result<(), Error>;
    /// Queues `close_notify` when connected; aborts silently during the handshake.
    fn close(&mut self) -> Result<(), Error>;
    /// The version, once known.
    fn version(&self) -> Option<DtlsVersion>;
}

/// Makes engines for one configuration and certificate. Whatever an engine can prepare once
/// (dimpl validates its crypto provider with known-answer tests, about 1.4 ms) is prepared
/// here, not per connection.
pub(crate) trait EngineFactory: Send + Sync {
    /// A new engine in `role`, its clock at `now`.
    fn new_engine(&self, role: Role, now: Instant) -> Box<dyn Engine>;
}

/// The factory for a context. There is one engine today, dimpl.
pub(crate) fn new_factory(
    config: &DtlsConfig,
    certificate: &Certificate,
) -> Result<Arc<dyn EngineFactory>, Error> {
    Ok(Arc::new(dimpl_engine::DimplFactory::new(
        config,
        certificate,
    )?))
}
