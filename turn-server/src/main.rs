//! `turn-server`: the rtcweb STUN/TURN server (the sans-IO core of `rtcweb-turn-server` on
//! real sockets).
//!
//! ```text
//! turn-server [--config FILE] --listen 127.0.0.1:3478 --realm R --user NAME:PASS ...
//! turn-server --help        every option; each may also be set in the --config TOML file
//! ```
//!
//! Prints one line saying what it listens on, logs with `tracing` to stderr (`--log-format
//! text|json`, `--log-level` or RUST_LOG), serves Prometheus metrics with `--metrics
//! ADDR:PORT`, reloads the credentials on SIGHUP, and stops cleanly on SIGINT or SIGTERM.
//! Runtime choices: docs/decisions/turn-server-runtime.md; settings: docs/turn-server.md.

mod http;
mod prometheus;
mod runtime;
mod settings;
mod stream;
mod udp;

use std::io::IsTerminal;
use std::net::SocketAddr;
use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Instant;

use clap::Parser;
use rtcweb_turn_server::Server;
use settings::{LogFormat, Settings};
use tracing_subscriber::EnvFilter;

fn random32() -> Result<[u8; 32], String> {
    let mut b = [0u8; 32];
    aws_lc_rs::rand::fill(&mut b).map_err(|_| "no randomness from the OS".to_string())?;
    Ok(b)
}

fn tls_config(cert: &Path, key: &Path) -> Result<Arc<rustls::ServerConfig>, String> {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(cert)
        .map_err(|e| format!("{}: {e}", cert.display()))?
        .collect::<Result<_, _>>()
        .map_err(|e| format!("{}: {e}", cert.display()))?;
    let key = PrivateKeyDer::from_pem_file(key).map_err(|e| format!("{}: {e}", key.display()))?;
    let cfg = rustls::ServerConfig::builder()
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(|e| format!("TLS: {e}"))?;
    Ok(Arc::new(cfg))
}

/// Logs to stderr in the chosen format. The filter: --log-level, else RUST_LOG, else info.
fn init_logging(s: &Settings) -> Result<(), String> {
    let filter = match &s.log_level {
        Some(directives) => {
            EnvFilter::try_new(directives).map_err(|e| format!("--log-level: {e}"))?
        }
        None => EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
    };
    // Colours only for a terminal: escape codes in a file or the journal are noise.
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(std::io::stderr);
    match s.log_format.unwrap_or_default() {
        LogFormat::Text => builder.init(),
        LogFormat::Json => builder.json().init(),
    }
    Ok(())
}

fn join(addrs: &[SocketAddr]) -> String {
    addrs
        .iter()
        .map(|a| a.to_string())
        .collect::<Vec<_>>()
        .join(",")
}

/// Exit status 2 for settings that cannot work, 1 for what fails at run time.
fn run(cli: Settings) -> Result<(), (u8, String)> {
    let config_error = |e: String| (2, e);
    let s = Settings::load(cli.clone()).map_err(config_error)?;
    init_logging(&s).map_err(config_error)?;
    let config = s
        .server_config(random32().map_err(|e| (1, e))?)
        .map_err(config_error)?;
    let auth = s.auth().map_err(config_error)?;
    let tls = match s.tls().map_err(config_error)? {
        Some((addr, cert, key)) => Some((addr, tls_config(cert, key).map_err(config_error)?)),
        None => None,
    };
    let udp = s.udp_addresses(&config);
    let tcp = if s.no_tcp == Some(true) {
        Vec::new()
    } else {
        udp.clone()
    };
    let summary = format!(
        "turn-server listening on udp {} tcp {}{}{}{} realm {} relay {}{} ports {}-{}",
        join(&udp),
        if tcp.is_empty() {
            "-".into()
        } else {
            join(&tcp)
        },
        tls.as_ref()
            .map(|(a, _)| format!(" tls {a}"))
            .unwrap_or_default(),
        s.alt_listen
            .map(|a| format!(" rfc5780 alternate {a}"))
            .unwrap_or_default(),
        s.metrics
            .map(|a| format!(" metrics http://{a}/metrics"))
            .unwrap_or_default(),
        config.realm,
        config.relay_ipv4.map(|i| i.to_string()).unwrap_or_default(),
        config
            .relay_ipv6
            .map(|i| format!(" {i}"))
            .unwrap_or_default(),
        config.min_port,
        config.max_port,
    );
    let server = Server::new(
        config,
        auth,
        Instant::now(),
        runtime::unix_now(),
        random32().map_err(|e| (1, e))?,
    )
    .map_err(|e| (2, format!("configuration: {e}")))?;
    let ops = runtime::Operations {
        metrics: s.metrics,
        reload: Some(Box::new(move || settings::reload(&cli))),
    };
    let mut rt = runtime::Runtime::new(server, &udp, &tcp, tls, ops)
        .map_err(|e| (1, format!("cannot listen: {e}")))?;
    println!("{summary}");
    tracing::info!(%summary, "started");
    rt.run().map_err(|e| (1, format!("event loop: {e}")))
}

fn main() -> ExitCode {
    let cli = match Settings::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { 2 } else { 0 });
        }
    };
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err((code, e)) => {
            eprintln!("turn-server: {e}");
            ExitCode::from(code)
        }
    }
}
