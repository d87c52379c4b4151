//! Stopping on request: the signals a terminal (SIGINT) or a service manager (SIGTERM)
//! sends.

use crate::Error;

/// Resolves when the process gets SIGINT or SIGTERM. Fails at once if the handlers cannot
/// be installed; call it before the work starts so that a signal is never missed.
pub fn signal() -> Result<impl Future<Output = ()>, Error> {
    use tokio::signal::unix::{SignalKind, signal};
    let os = |source| Error::Os {
        what: "cannot install a signal handler",
        source,
    };
    let mut interrupt = signal(SignalKind::interrupt()).map_err(os)?;
    let mut terminate = signal(SignalKind::terminate()).map_err(os)?;
    Ok(async move {
        tokio::select! {
            _ = interrupt.recv() => {}
            _ = terminate.recv() => {}
        }
    })
}
