//! `turn-server`: the rtcweb STUN/TURN server (the sans-IO core of `rtcweb-turn-server` on
//! real sockets).
//!
//! ```text
//! turn-server --listen 127.0.0.1:3478 [--alt-listen 127.0.0.2:3479]
//!             [--tls-listen ADDR --cert PEM --key PEM] --realm R
//!             [--user NAME:PASS]... [--user-file PATH] [--rest-secret S]...
//!             [--oauth-key KID:BASE64]... [--relay-ip IP]... [--min-port N --max-port N]
//!             [--allow-loopback-peers] [--allow-private-peers] [--max-allocations N]
//!             [--max-allocations-per-user N] [--nonce-secret HEX] [--sha256] [--no-tcp]
//! ```
//!
//! Prints one line saying what it listens on, logs with `tracing` (`RUST_LOG=debug` for
//! more), and stops cleanly on SIGINT or SIGTERM. Runtime choices: docs/decisions/
//! turn-server-runtime.md.

mod runtime;
mod stream;
mod udp;

use std::net::{IpAddr, SocketAddr};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Instant;

use base64::Engine;
use rtcweb_turn_server::{
    AuthConfig, OAuthKey, RestSecret, Rfc5780, Server, ServerConfig, StaticUsers,
};

const USAGE: &str = "usage: turn-server --listen ADDR [--alt-listen ADDR] [--tls-listen ADDR --cert PEM --key PEM] \
--realm R [--user NAME:PASS]... [--user-file PATH] [--rest-secret S]... [--oauth-key KID:BASE64]... \
[--relay-ip IP]... [--min-port N --max-port N] [--allow-loopback-peers] [--allow-private-peers] \
[--max-allocations N] [--max-allocations-per-user N] [--nonce-secret HEX] [--sha256] [--no-tcp]";

struct Args {
    listen: SocketAddr,
    alt: Option<SocketAddr>,
    tls: Option<(SocketAddr, String, String)>,
    config: ServerConfig,
    auth: AuthConfig,
    no_tcp: bool,
}

fn parse<T: std::str::FromStr>(flag: &str, v: &str) -> Result<T, String> {
    v.parse().map_err(|_| format!("{flag}: cannot parse {v:?}"))
}

fn parse_args() -> Result<Args, String> {
    let mut listen = None;
    let mut alt = None;
    let (mut tls_listen, mut cert, mut key) = (None, None, None);
    let mut config = ServerConfig::new("rtcweb");
    let mut user_pairs: Vec<(String, String)> = Vec::new();
    let mut user_file = None;
    let mut auth = AuthConfig::default();
    let mut relay_ips: Vec<IpAddr> = Vec::new();
    let mut no_tcp = false;
    let mut secret = None;
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().ok_or(format!("{flag} needs a value\n{USAGE}"));
        match flag.as_str() {
            "--listen" => listen = Some(parse::<SocketAddr>(&flag, &value()?)?),
            "--alt-listen" => alt = Some(parse::<SocketAddr>(&flag, &value()?)?),
            "--tls-listen" => tls_listen = Some(parse::<SocketAddr>(&flag, &value()?)?),
            "--cert" => cert = Some(value()?),
            "--key" => key = Some(value()?),
            "--realm" => config.realm = value()?,
            "--user" => {
                let v = value()?;
                let (name, pass) = v
                    .split_once(':')
                    .ok_or(format!("--user wants NAME:PASS, got {v:?}"))?;
                user_pairs.push((name.to_string(), pass.to_string()));
            }
            "--user-file" => user_file = Some(value()?),
            "--rest-secret" => auth
                .rest_secrets
                .push(RestSecret::new(value()?.into_bytes())),
            "--oauth-key" => {
                let v = value()?;
                let (kid, b64) = v
                    .split_once(':')
                    .ok_or(format!("--oauth-key wants KID:BASE64, got {v:?}"))?;
                let raw = base64::engine::general_purpose::STANDARD
                    .decode(b64)
                    .map_err(|e| format!("--oauth-key {kid}: {e}"))?;
                auth.oauth_keys
                    .push(OAuthKey::new(kid, raw).map_err(|e| format!("--oauth-key {kid}: {e}"))?);
            }
            "--relay-ip" => relay_ips.push(parse(&flag, &value()?)?),
            "--min-port" => config.min_port = parse(&flag, &value()?)?,
            "--max-port" => config.max_port = parse(&flag, &value()?)?,
            "--allow-loopback-peers" => config.peer_policy.allow_loopback = true,
            "--allow-private-peers" => config.peer_policy.allow_private = true,
            "--max-allocations" => config.max_allocations = parse(&flag, &value()?)?,
            "--max-allocations-per-user" => {
                config.max_allocations_per_user = parse(&flag, &value()?)?
            }
            "--nonce-secret" => secret = Some(value()?),
            "--sha256" => config.sha256_password_algorithm = true,
            "--no-tcp" => no_tcp = true,
            "--help" | "-h" => return Err(USAGE.to_string()),
            other => return Err(format!("unknown argument {other}\n{USAGE}")),
        }
    }
    let listen = listen.ok_or(format!("--listen is required\n{USAGE}"))?;
    if relay_ips.is_empty() {
        relay_ips.push(listen.ip());
    }
    for ip in relay_ips {
        match ip {
            IpAddr::V4(_) => config.relay_ipv4 = Some(ip),
            IpAddr::V6(_) => config.relay_ipv6 = Some(ip),
        }
    }
    if let Some(a) = alt {
        config.rfc5780 = Some(Rfc5780::new(listen, a).map_err(|e| format!("--alt-listen: {e}"))?);
    }
    config.nonce_secret = match secret {
        Some(hex) => parse_hex32(&hex).ok_or("--nonce-secret wants 64 hex digits")?,
        None => random32()?,
    };
    config.software = Some(format!("rtcweb-turn-server {}", env!("CARGO_PKG_VERSION")));
    if user_file.is_some() || !user_pairs.is_empty() {
        let mut users = match &user_file {
            Some(path) => {
                let text = std::fs::read_to_string(path).map_err(|e| format!("{path}: {e}"))?;
                StaticUsers::parse_user_file(&text).map_err(|e| format!("{path}: {e}"))?
            }
            None => StaticUsers::new(),
        };
        // Users given with --user win over the file's.
        for (name, pass) in &user_pairs {
            users
                .insert_password(name, pass)
                .map_err(|e| format!("--user {name}: {e}"))?;
        }
        auth.users = Some(Box::new(users));
    }
    if auth.users.is_none() && auth.rest_secrets.is_empty() && auth.oauth_keys.is_empty() {
        return Err(format!(
            "no credentials: give --user, --user-file, --rest-secret or --oauth-key\n{USAGE}"
        ));
    }
    let tls = match (tls_listen, cert, key) {
        (None, None, None) => None,
        (Some(a), Some(c), Some(k)) => Some((a, c, k)),
        _ => return Err(format!("--tls-listen needs --cert and --key\n{USAGE}")),
    };
    Ok(Args {
        listen,
        alt,
        tls,
        config,
        auth,
        no_tcp,
    })
}

fn parse_hex32(s: &str) -> Option<[u8; 32]> {
    let mut out = [0u8; 32];
    if s.len() != 64 {
        return None;
    }
    for (i, o) in out.iter_mut().enumerate() {
        *o = u8::from_str_radix(s.get(2 * i..2 * i + 2)?, 16).ok()?;
    }
    Some(out)
}

fn random32() -> Result<[u8; 32], String> {
    let mut b = [0u8; 32];
    aws_lc_rs::rand::fill(&mut b).map_err(|_| "no randomness from the OS".to_string())?;
    Ok(b)
}

fn tls_config(cert: &str, key: &str) -> Result<Arc<rustls::ServerConfig>, String> {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(cert)
        .map_err(|e| format!("{cert}: {e}"))?
        .collect::<Result<_, _>>()
        .map_err(|e| format!("{cert}: {e}"))?;
    let key = PrivateKeyDer::from_pem_file(key).map_err(|e| format!("{key}: {e}"))?;
    let cfg = rustls::ServerConfig::builder()
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(|e| format!("TLS: {e}"))?;
    Ok(Arc::new(cfg))
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        .init();
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    let mut udp = vec![args.listen];
    if let Some(r) = args.config.rfc5780 {
        udp = r.addresses().to_vec();
    }
    let tcp = if args.no_tcp { Vec::new() } else { udp.clone() };
    let tls = match &args.tls {
        Some((addr, cert, key)) => match tls_config(cert, key) {
            Ok(cfg) => Some((*addr, cfg)),
            Err(e) => {
                eprintln!("{e}");
                return ExitCode::from(2);
            }
        },
        None => None,
    };
    let summary = format!(
        "turn-server listening on udp {} tcp {}{}{} realm {} relay {}{} ports {}-{}",
        join(&udp),
        if tcp.is_empty() {
            "-".to_string()
        } else {
            join(&tcp)
        },
        args.tls
            .as_ref()
            .map(|(a, _, _)| format!(" tls {a}"))
            .unwrap_or_default(),
        args.alt
            .map(|a| format!(" rfc5780 alternate {a}"))
            .unwrap_or_default(),
        args.config.realm,
        args.config
            .relay_ipv4
            .map(|i| i.to_string())
            .unwrap_or_default(),
        args.config
            .relay_ipv6
            .map(|i| format!(" {i}"))
            .unwrap_or_default(),
        args.config.min_port,
        args.config.max_port,
    );
    let now = Instant::now();
    let server = match Server::new(
        args.config,
        args.auth,
        now,
        runtime::unix_now(),
        match random32() {
            Ok(s) => s,
            Err(e) => {
                eprintln!("{e}");
                return ExitCode::from(1);
            }
        },
    ) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("configuration: {e}");
            return ExitCode::from(2);
        }
    };
    let mut rt = match runtime::Runtime::new(server, &udp, &tcp, tls) {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("cannot listen: {e}");
            return ExitCode::from(1);
        }
    };
    println!("{summary}");
    match rt.run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("event loop: {e}");
            ExitCode::from(1)
        }
    }
}

fn join(addrs: &[SocketAddr]) -> String {
    addrs
        .iter()
        .map(|a| a.to_string())
        .collect::<Vec<_>>()
        .join(",")
}
