//! [`DtlsContext`]: what every connection of an application shares.

use std::fmt;
use std::sync::Arc;

use crate::engine::{self, EngineFactory};
use crate::{Certificate, DtlsConfig, Error};

/// Configuration and certificate, prepared once and shared by every [`DtlsEndpoint`]
/// (cloning is cheap). Preparing is the expensive part: the engine checks its crypto provider
/// with known-answer tests (about 1.4 ms with dimpl), which a per-connection setup would repeat
/// on every handshake.
///
/// [`DtlsEndpoint`]: crate::DtlsEndpoint
#[derive(Clone)]
pub struct DtlsContext {
    inner: Arc<Inner>,
}

struct Inner {
    config: DtlsConfig,
    certificate: Certificate,
    factory: Arc<dyn EngineFactory>,
}

impl DtlsContext {
    /// Validates `config` and prepares the engine for `certificate`.
    pub fn new(config: DtlsConfig, certificate: Certificate) -> Result<Self, Error> {
        config.validate()?;
        let factory = engine::new_factory(&config, &certificate)?;
        Ok(DtlsContext {
            inner: Arc::new(Inner {
                config,
                certificate,
                factory,
            }),
        })
    }

    /// The configuration.
    pub fn config(&self) -> &DtlsConfig {
        &self.inner.config
    }

    /// Our certificate; its [`fingerprint`](Certificate::fingerprint) goes into our SDP.
    pub fn certificate(&self) -> &Certificate {
        &self.inner.certificate
    }

    pub(crate) fn factory(&self) -> &dyn EngineFactory {
        self.inner.factory.as_ref()
    }
}

impl fmt::Debug for DtlsContext {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DtlsContext")
            .field("config", &self.inner.config)
            .field("certificate", &self.inner.certificate)
            .finish()
    }
}
