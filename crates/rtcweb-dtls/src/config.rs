//! Endpoint configuration.

use rtcweb_core::Seed;
use std::time::Duration;

use crate::Error;

/// Which DTLS versions an endpoint speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum VersionPolicy {
    /// DTLS 1.3 when the peer offers it, else DTLS 1.2 (the default, what browsers need).
    ///
    /// As a server, the first complete ClientHello decides. As a client, one ClientHello is
    /// valid for both versions and the server's answer decides.
    #[default]
    Auto,
    /// DTLS 1.2 only (RFC 6347).
    Dtls12,
    /// DTLS 1.3 only (RFC 9147).
    Dtls13,
}

/// A negotiated DTLS version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DtlsVersion {
    /// DTLS 1.2.
    Dtls12,
    /// DTLS 1.3.
    Dtls13,
}

impl DtlsVersion {
    /// The readable name, `DTLS 1.2` or `DTLS 1.3`.
    pub fn as_str(self) -> &'static str {
        match self {
            DtlsVersion::Dtls12 => "DTLS 1.2",
            DtlsVersion::Dtls13 => "DTLS 1.3",
        }
    }
}

impl std::fmt::Display for DtlsVersion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Settings of a [`DtlsEndpoint`](crate::DtlsEndpoint). Build with `Default` and change the
/// fields you need.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct DtlsConfig {
    /// Largest datagram the endpoint sends (handshake flights are fragmented to fit).
    /// Default 1200, which fits IPv6 with TURN overhead; at least 256.
    pub mtu: usize,
    /// Versions to speak. Default [`VersionPolicy::Auto`].
    pub version: VersionPolicy,
    /// Deadline for the whole handshake. Starts when a client first sends, or when a server
    /// receives its first datagram (anything, so that a peer sending garbage also runs out of
    /// time). Default 30 s.
    pub handshake_timeout: Duration,
    /// First retransmission timeout of a flight; doubles on each retry, with ±25 % jitter.
    /// Default 1 s (RFC 6347 section 4.2.4.1).
    pub initial_rto: Duration,
    /// Retransmissions of one flight before the handshake fails. Default 6, so that with the
    /// defaults the handshake timeout, not the retry budget, is what ends a stalled handshake.
    pub max_retransmissions: usize,
    /// As a server, do a stateless cookie exchange (HelloVerifyRequest in 1.2,
    /// HelloRetryRequest in 1.3) before spending CPU on a ClientHello. Default `true`.
    pub server_cookie: bool,
    /// Seed for the engine's non-cryptographic randomness (record nonces, retransmission
    /// jitter, cookie secret, hello random) for reproducible tests. `None` (default) uses the
    /// OS source. Key exchange and signatures always use the OS source.
    pub rng_seed: Option<Seed>,
    /// Offer (client) and accept (server) the X25519MLKEM768 post-quantum hybrid key share
    /// (draft-ietf-tls-ecdhe-mlkem) in DTLS 1.3, preferred before x25519 and P-256. Default
    /// `true`: browsers send it first, and a server without it answers their first
    /// ClientHello with a HelloRetryRequest (one more round trip). As a client it makes the
    /// ClientHello about 1.45 KB, two datagrams at the default MTU. DTLS 1.2 never uses it.
    pub post_quantum: bool,
    /// Most datagrams queued for [`poll_transmit`](crate::DtlsEndpoint::poll_transmit); beyond
    /// that the newest are dropped (counted in stats). Default 256.
    pub max_queued_transmits: usize,
    /// Most received application-data messages queued for
    /// [`poll_event`](crate::DtlsEndpoint::poll_event); beyond that the newest are dropped
    /// (counted in stats; SCTP above retransmits). Default 1024.
    pub max_queued_events: usize,
}

impl Default for DtlsConfig {
    fn default() -> Self {
        DtlsConfig {
            mtu: 1200,
            version: VersionPolicy::Auto,
            handshake_timeout: Duration::from_secs(30),
            initial_rto: Duration::from_secs(1),
            max_retransmissions: 6,
            server_cookie: true,
            rng_seed: None,
            post_quantum: true,
            max_queued_transmits: 256,
            max_queued_events: 1024,
        }
    }
}

impl DtlsConfig {
    /// Smallest MTU accepted: a ClientHello must still fragment into a sensible number of
    /// datagrams.
    pub const MIN_MTU: usize = 256;

    pub(crate) fn validate(&self) -> Result<(), Error> {
        if self.mtu < Self::MIN_MTU || self.mtu > 65_507 {
            return Err(Error::Config(format!(
                "mtu {} outside 256..=65507",
                self.mtu
            )));
        }
        if self.handshake_timeout.is_zero() || self.initial_rto.is_zero() {
            return Err(Error::Config("timeouts must be nonzero".into()));
        }
        if self.max_queued_transmits == 0 || self.max_queued_events == 0 {
            return Err(Error::Config("queue limits must be nonzero".into()));
        }
        Ok(())
    }
}
