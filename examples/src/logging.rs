//! Logging of the examples: `tracing` to stderr, so that stdout keeps what a program
//! reports (interop suites parse it).

/// Logs to stderr, filtered by `RUST_LOG`, else by `default_filter` (`"warn"`, `"info"`, or
/// any `tracing_subscriber::EnvFilter` directives). A second call changes nothing.
pub fn init(default_filter: &str) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default_filter));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}
