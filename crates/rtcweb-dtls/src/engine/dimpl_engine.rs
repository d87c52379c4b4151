//! [`Engine`] over dimpl 0.9, a sans-IO DTLS 1.2/1.3 implementation.
//!
//! What dimpl decides that we cannot configure (checked in its source, 0.9.0):
//! - `use_srtp`: as a client it always offers AEAD_AES_256_GCM, AEAD_AES_128_GCM,
//!   AES128_CM_HMAC_SHA1_80 in that order. As a DTLS 1.2 server it picks by that same order
//!   among what the client offers (GCM first, whatever the client prefers); as a DTLS 1.3
//!   server it takes the client's first supported profile (Chromium 156 lists
//!   AES128_CM_HMAC_SHA1_80 first, so 1.3 with Chromium gives that). AES128_CM_HMAC_SHA1_32
//!   is never negotiated. So GCM is preferred wherever dimpl lets us prefer anything.
//! - Cryptographic randomness (key shares, ECDSA nonces) comes from the OS through aws-lc-rs;
//!   only the non-cryptographic randomness follows [`DtlsConfig::rng_seed`].
//!
//! The crypto provider is dimpl's aws-lc-rs one with the X25519MLKEM768 hybrid group
//! ([`super::hybrid_kx`]) first among the key-exchange groups and the DTLS 1.3 record-number
//! mask computed from a kept key schedule ([`super::record_number`]).

use std::sync::Arc;
use std::time::Instant;

use dimpl::{Config, Dtls, DtlsCertificate, Output as DimplOutput, ProtocolVersion};

use super::{Engine, EngineFactory, Output};
use crate::{Certificate, DtlsConfig, DtlsVersion, Error, Role, SrtpProfile, VersionPolicy};

/// Largest output buffer we grow to on `BufferTooSmall`: a full 16 KiB record plus overhead.
/// dimpl never asks for more (its records are bounded by the MTU or the TLS record limit).
const MAX_OUTPUT_BUFFER: usize = 1 << 17;

const MAX_OUTPUTS_PER_DRAIN: usize = 100_000;

pub(crate) struct DimplFactory {
    config: Arc<Config>,
    certificate: DtlsCertificate,
    version: VersionPolicy,
    buffer_len: usize,
}

impl DimplFactory {
    pub(crate) fn new(config: &DtlsConfig, certificate: &Certificate) -> Result<Self, Error> {
        let mut builder = Config::builder()
            .mtu(config.mtu)
            .handshake_timeout(config.handshake_timeout)
            .flight_start_rto(config.initial_rto)
            .flight_retries(config.max_retransmissions)
            .use_server_cookie(config.server_cookie)
            // WebRTC authenticates both sides: the server must see the client's certificate.
            .require_client_certificate(true)
            // aws-lc-rs, with X25519MLKEM768 first among the key-exchange groups and DTLS 1.3
            // record-number key schedules kept per key.
            .with_crypto_provider(super::hybrid_kx::with_hybrid_group(
                super::record_number::provider(),
            ))
            .kx_groups(&kx_groups(config.post_quantum));
        if let Some(seed) = config.rng_seed {
            // dimpl takes 64 bits: the first eight of our seed.
            let mut first = [0u8; 8];
            first.copy_from_slice(&seed.0[..8]);
            builder = builder.dangerously_set_rng_seed(u64::from_le_bytes(first));
        }
        Ok(DimplFactory {
            config: Arc::new(builder.build().map_err(|e| Error::Config(e.to_string()))?),
            certificate: DtlsCertificate {
                certificate: certificate.der().to_vec(),
                private_key: certificate.private_key_der().to_vec(),
            },
            version: config.version,
            buffer_len: config.mtu.max(2048),
        })
    }
}

/// Key-exchange groups in preference order. DTLS 1.3 offers and accepts X25519MLKEM768 first
/// when `post_quantum`; DTLS 1.2 never uses it (patches/dimpl patch 3).
fn kx_groups(post_quantum: bool) -> Vec<dimpl::NamedGroup> {
    use dimpl::NamedGroup;
    let classic = [
        NamedGroup::X25519,
        NamedGroup::Secp256r1,
        NamedGroup::Secp384r1,
    ];
    post_quantum
        .then_some(NamedGroup::X25519MLKEM768)
        .into_iter()
        .chain(classic)
        .collect()
}

impl EngineFactory for DimplFactory {
    fn new_engine(&self, role: Role, now: Instant) -> Box<dyn Engine> {
        let (config, cert) = (self.config.clone(), self.certificate.clone());
        let mut dtls = match self.version {
            VersionPolicy::Auto => Dtls::new_auto(config, cert, now),
            VersionPolicy::Dtls12 => Dtls::new_12(config, cert, now),
            VersionPolicy::Dtls13 => Dtls::new_13(config, cert, now),
        };
        dtls.set_active(role.is_client());
        Box::new(DimplEngine {
            dtls,
            buf: vec![0; self.buffer_len],
        })
    }
}

struct DimplEngine {
    dtls: Dtls,
    buf: Vec<u8>,
}

fn map_error(e: dimpl::Error) -> Error {
    match e {
        dimpl::Error::RenegotiationAttempt => Error::Renegotiation,
        dimpl::Error::Timeout(_) => Error::HandshakeTimeout,
        other => Error::Protocol(other.to_string()),
    }
}

fn map_profile(p: dimpl::SrtpProfile) -> Option<SrtpProfile> {
    match p {
        dimpl::SrtpProfile::AES128_CM_SHA1_80 => Some(SrtpProfile::Aes128CmHmacSha1_80),
        dimpl::SrtpProfile::AEAD_AES_128_GCM => Some(SrtpProfile::AeadAes128Gcm),
        dimpl::SrtpProfile::AEAD_AES_256_GCM => Some(SrtpProfile::AeadAes256Gcm),
        // dimpl's enum is non_exhaustive; a profile added later is not one we can key.
        _ => None,
    }
}

impl Engine for DimplEngine {
    fn handle_timeout(&mut self, now: Instant) -> Result<(), Error> {
        self.dtls.handle_timeout(now).map_err(map_error)
    }

    fn handle_datagram(&mut self, datagram: &[u8]) -> Result<(), Error> {
        self.dtls.handle_packet(datagram).map_err(map_error)
    }

    fn drain(&mut self, sink: &mut dyn FnMut(Output<'_>)) {
        // dimpl ends every poll cycle with a Timeout; the bound only guards against an engine
        // bug turning into a hang. Its queues hold far fewer outputs than this.
        for _ in 0..MAX_OUTPUTS_PER_DRAIN {
            let output = match self.dtls.poll_output(&mut self.buf) {
                DimplOutput::BufferTooSmall { needed } if needed <= MAX_OUTPUT_BUFFER => {
                    self.buf.resize(needed, 0);
                    continue;
                }
                DimplOutput::BufferTooSmall { needed } => {
                    tracing::warn!(needed, "dimpl output larger than any DTLS record; stopping");
                    return;
                }
                DimplOutput::Timeout(at) => {
                    sink(Output::Timeout(at));
                    return;
                }
                DimplOutput::Packet(p) => Output::Transmit(p),
                DimplOutput::Connected => Output::Connected,
                DimplOutput::PeerCert(der) => Output::PeerCertificate(der),
                DimplOutput::KeyingMaterial(km, profile) => match map_profile(profile) {
                    Some(profile) => {
                        sink(Output::SrtpKeyingMaterial {
                            profile,
                            exported: &km,
                        });
                        continue;
                    }
                    None => continue,
                },
                DimplOutput::ApplicationData(d) => Output::ApplicationData(d),
                DimplOutput::CloseNotify => Output::CloseNotify,
                _ => continue,
            };
            sink(output);
        }
        tracing::warn!("dimpl produced no Timeout after {MAX_OUTPUTS_PER_DRAIN} outputs");
    }

    fn send_application_data(&mut self, data: &[u8]) -> Result<(), Error> {
        self.dtls
            .send_application_data(data)
            .map(|_| ())
            .map_err(map_error)
    }

    fn close(&mut self) -> Result<(), Error> {
        self.dtls.close().map_err(map_error)
    }

    fn version(&self) -> Option<DtlsVersion> {
        match self.dtls.protocol_version()? {
            ProtocolVersion::DTLS1_2 => Some(DtlsVersion::Dtls12),
            ProtocolVersion::DTLS1_3 => Some(DtlsVersion::Dtls13),
            _ => None,
        }
    }
}
