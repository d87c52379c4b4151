//! Every setting of `turn-server`, from the command line (clap) and from a TOML file
//! (`--config FILE`, serde): one struct serves both, so a setting cannot exist in one and not
//! the other. TOML keys are the long option names without `--` (`max-allocations = 500`,
//! `user = ["alice:wonderland"]`, `allow-loopback-peers = true`). An option given on the
//! command line wins over the file; a list given on the command line replaces the file's.

use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use base64::Engine;
use clap::{Parser, ValueEnum};
use rtcweb_turn_server::{
    AuthConfig, BandwidthLimit, OAuthKey, RestSecret, Rfc5780, ServerConfig, StaticUsers,
};
use serde::Deserialize;

/// `NAME:PASS`: a long-term user.
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(try_from = "String")]
pub struct UserPass {
    name: String,
    password: String,
}

impl fmt::Debug for UserPass {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "UserPass({:?})", self.name)
    }
}

impl FromStr for UserPass {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.split_once(':') {
            Some((name, password)) if !name.is_empty() => Ok(UserPass {
                name: name.to_string(),
                password: password.to_string(),
            }),
            _ => Err(format!("expected NAME:PASS, got {s:?}")),
        }
    }
}

/// `KID:BASE64`: an RFC 7635 AS-RS key.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(try_from = "String")]
pub struct OAuthKeyArg(OAuthKey);

impl FromStr for OAuthKeyArg {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let (kid, b64) = s
            .split_once(':')
            .ok_or(format!("expected KID:BASE64, got {s:?}"))?;
        let raw = base64::engine::general_purpose::STANDARD
            .decode(b64)
            .map_err(|e| format!("OAuth key {kid}: {e}"))?;
        OAuthKey::new(kid, raw)
            .map(OAuthKeyArg)
            .map_err(|e| format!("OAuth key {kid}: {e}"))
    }
}

/// `ADDR/LEN`: a peer address prefix (a bare address is a /32 or /128).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(try_from = "String")]
pub struct Prefix(IpAddr, u8);

impl FromStr for Prefix {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let (ip, len) = match s.split_once('/') {
            Some((ip, len)) => (ip, Some(len)),
            None => (s, None),
        };
        let ip: IpAddr = ip.parse().map_err(|_| format!("bad address in {s:?}"))?;
        let max = if ip.is_ipv4() { 32 } else { 128 };
        let len = match len {
            Some(l) => l
                .parse::<u8>()
                .ok()
                .filter(|l| *l <= max)
                .ok_or(format!("bad prefix length in {s:?}"))?,
            None => max,
        };
        Ok(Prefix(ip, len))
    }
}

/// 64 hex digits: the nonce key.
#[derive(Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(try_from = "String")]
pub struct NonceSecret([u8; 32]);

impl fmt::Debug for NonceSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("NonceSecret(..)")
    }
}

impl FromStr for NonceSecret {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let mut out = [0u8; 32];
        let ok = s.len() == 64
            && out.iter_mut().enumerate().all(|(i, o)| {
                s.get(2 * i..2 * i + 2)
                    .and_then(|h| u8::from_str_radix(h, 16).ok())
                    .map(|b| *o = b)
                    .is_some()
            });
        if ok {
            Ok(NonceSecret(out))
        } else {
            Err("expected 64 hex digits".to_string())
        }
    }
}

macro_rules! try_from_string {
    ($($t:ty),*) => {$(
        impl TryFrom<String> for $t {
            type Error = String;
            fn try_from(s: String) -> Result<Self, String> {
                s.parse()
            }
        }
    )*};
}
try_from_string!(UserPass, OAuthKeyArg, Prefix, NonceSecret);

/// How log lines are written (to stderr).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, ValueEnum, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// One human-readable line per event, fields as `key=value`.
    #[default]
    Text,
    /// One JSON object per line, fields as members (for log shippers).
    Json,
}

/// The STUN/TURN server of rtcweb (RFC 8656, RFC 5780), with long-term, TURN REST and OAuth
/// credentials.
///
/// Every option may also be set in a TOML file given with --config, under its long name
/// without the dashes in front (`realm = "example.org"`, `user = ["alice:wonderland"]`,
/// `sha256 = true`); the command line wins. SIGHUP re-reads the file and the user file and
/// replaces the credentials (users, REST secrets, OAuth keys) without touching allocations.
#[derive(Debug, Clone, Default, PartialEq, Eq, Parser, Deserialize)]
#[command(name = "turn-server", version)]
#[serde(default, deny_unknown_fields, rename_all = "kebab-case")]
pub struct Settings {
    /// TOML file with any of the settings below.
    #[arg(long, value_name = "FILE")]
    #[serde(skip)]
    pub config: Option<PathBuf>,

    /// UDP and TCP address to listen on (required, here or in the file).
    #[arg(long, value_name = "ADDR:PORT")]
    pub listen: Option<SocketAddr>,
    /// Turns on RFC 5780 with this second address (another IP and another port); the server
    /// then listens on the four combinations.
    #[arg(long, value_name = "ADDR:PORT")]
    pub alt_listen: Option<SocketAddr>,
    /// TURN over TLS on this address (needs --cert and --key).
    #[arg(long, value_name = "ADDR:PORT")]
    pub tls_listen: Option<SocketAddr>,
    /// Certificate chain for TLS (PEM).
    #[arg(long, value_name = "PEM")]
    pub cert: Option<PathBuf>,
    /// Private key for TLS (PEM).
    #[arg(long, value_name = "PEM")]
    pub key: Option<PathBuf>,
    /// REALM (default "rtcweb"); also the OAuth server name.
    #[arg(long)]
    pub realm: Option<String>,
    /// UDP only: no TCP listener.
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true")]
    pub no_tcp: Option<bool>,

    /// A long-term user (repeatable).
    #[arg(long, value_name = "NAME:PASS")]
    pub user: Vec<UserPass>,
    /// Users, one per line: `name:password` or `name:0x<32 hex digits>` (an MD5 key); users
    /// given with --user win over the file's.
    #[arg(long, value_name = "PATH")]
    pub user_file: Option<PathBuf>,
    /// A TURN REST shared secret (repeatable: all are accepted, for rotations).
    #[arg(long, value_name = "SECRET")]
    pub rest_secret: Vec<String>,
    /// An RFC 7635 AS-RS key: 16 octets = A128GCM, 32 octets = A256GCM (repeatable).
    #[arg(long, value_name = "KID:BASE64")]
    pub oauth_key: Vec<OAuthKeyArg>,
    /// Key of the stateless nonces; servers sharing it accept each other's (default: random).
    #[arg(long, value_name = "HEX")]
    pub nonce_secret: Option<NonceSecret>,
    /// Offer SHA-256 long-term keys (RFC 8489 PASSWORD-ALGORITHMS).
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true")]
    pub sha256: Option<bool>,
    /// Seconds a nonce stays valid before 438 (default 600).
    #[arg(long, value_name = "SECONDS")]
    pub nonce_lifetime: Option<u64>,

    /// Address relays are made on; once for IPv4, once for IPv6 (default: the listen IP).
    #[arg(long, value_name = "IP")]
    pub relay_ip: Vec<IpAddr>,
    /// Lowest relay port (default 49152).
    #[arg(long, value_name = "N")]
    pub min_port: Option<u16>,
    /// Highest relay port (default 65535).
    #[arg(long, value_name = "N")]
    pub max_port: Option<u16>,
    /// Allocation lifetime when the client asks for none, in seconds (default 600).
    #[arg(long, value_name = "SECONDS")]
    pub default_lifetime: Option<u64>,
    /// Longest allocation lifetime granted, in seconds (default 3600).
    #[arg(long, value_name = "SECONDS")]
    pub max_lifetime: Option<u64>,

    /// Let allocations reach 127.0.0.0/8 and ::1.
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true")]
    pub allow_loopback_peers: Option<bool>,
    /// Let allocations reach RFC 1918, RFC 4193 and link-local addresses.
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true")]
    pub allow_private_peers: Option<bool>,
    /// Peers allowed whatever the rules above say (repeatable).
    #[arg(long, value_name = "ADDR/LEN")]
    pub allow_peer: Vec<Prefix>,
    /// Peers denied whatever the rules above say (repeatable).
    #[arg(long, value_name = "ADDR/LEN")]
    pub deny_peer: Vec<Prefix>,

    /// Allocations in total (default 10000); beyond: 508.
    #[arg(long, value_name = "N")]
    pub max_allocations: Option<usize>,
    /// Allocations per username (default 100); beyond: 486.
    #[arg(long, value_name = "N")]
    pub max_allocations_per_user: Option<usize>,
    /// Permissions per allocation (default 1000); beyond: 508.
    #[arg(long, value_name = "N")]
    pub max_permissions: Option<usize>,
    /// Channels per allocation (default 1000); beyond: 508.
    #[arg(long, value_name = "N")]
    pub max_channels: Option<usize>,
    /// Payload octets per second each allocation may relay, each direction (default:
    /// unlimited); over it datagrams are dropped.
    #[arg(long, value_name = "BYTES_PER_S")]
    pub allocation_bandwidth: Option<u64>,
    /// Payload octets per second all allocations of one user together may relay, each
    /// direction (default: unlimited).
    #[arg(long, value_name = "BYTES_PER_S")]
    pub user_bandwidth: Option<u64>,
    /// Octets a limit may let through at once after idling (default: one second's worth,
    /// at least 65535).
    #[arg(long, value_name = "BYTES")]
    pub bandwidth_burst: Option<u64>,

    /// Serve Prometheus metrics over HTTP at http://ADDR:PORT/metrics.
    #[arg(long, value_name = "ADDR:PORT")]
    pub metrics: Option<SocketAddr>,
    /// Log line format.
    #[arg(long, value_enum)]
    pub log_format: Option<LogFormat>,
    /// What to log, as RUST_LOG directives ("info", "debug", "rtcweb_turn_server=debug");
    /// default: RUST_LOG, else "info".
    #[arg(long, value_name = "FILTER")]
    pub log_level: Option<String>,
    /// Send no SOFTWARE attribute (it names this server and its version).
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true")]
    pub no_software: Option<bool>,
}

/// Every setting with the file's value where `cli` has none. A struct literal without `..`:
/// a new setting that is not listed here does not compile.
macro_rules! overlay {
    ($cli:ident, $file:ident; opt: $($o:ident),* ; list: $($l:ident),* $(,)?) => {
        Settings {
            config: $cli.config,
            $($o: $cli.$o.or($file.$o),)*
            $($l: if $cli.$l.is_empty() { $file.$l } else { $cli.$l },)*
        }
    };
}

impl Settings {
    /// The command line over the file it names (if any).
    pub fn load(cli: Settings) -> Result<Settings, String> {
        match &cli.config {
            Some(path) => {
                let file = Settings::from_file(path)?;
                Ok(cli.over(file))
            }
            None => Ok(cli),
        }
    }

    /// Reads a settings file.
    pub fn from_file(path: &Path) -> Result<Settings, String> {
        let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
        toml::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))
    }

    /// `self` (the command line) over `file`.
    pub fn over(self, file: Settings) -> Settings {
        let cli = self;
        overlay!(cli, file;
            opt: listen, alt_listen, tls_listen, cert, key, realm, no_tcp, user_file,
                nonce_secret, sha256, nonce_lifetime, min_port, max_port, default_lifetime,
                max_lifetime, allow_loopback_peers, allow_private_peers, max_allocations,
                max_allocations_per_user, max_permissions, max_channels, allocation_bandwidth,
                user_bandwidth, bandwidth_burst, metrics, log_format, log_level, no_software;
            list: user, rest_secret, oauth_key, relay_ip, allow_peer, deny_peer,
        )
    }

    /// The server's configuration; `random` gives the nonce key when none is set.
    pub fn server_config(&self, random: [u8; 32]) -> Result<ServerConfig, String> {
        let listen = self.listen.ok_or("--listen is required")?;
        let mut c = ServerConfig::new(self.realm.clone().unwrap_or_else(|| "rtcweb".into()));
        let relay_ips = if self.relay_ip.is_empty() {
            vec![listen.ip()]
        } else {
            self.relay_ip.clone()
        };
        for ip in relay_ips {
            match ip {
                IpAddr::V4(_) => c.relay_ipv4 = Some(ip),
                IpAddr::V6(_) => c.relay_ipv6 = Some(ip),
            }
        }
        if let Some(a) = self.alt_listen {
            c.rfc5780 = Some(Rfc5780::new(listen, a).map_err(|e| format!("--alt-listen: {e}"))?);
        }
        c.nonce_secret = self.nonce_secret.map_or(random, |s| s.0);
        if self.no_software != Some(true) {
            c.software = Some(format!("rtcweb-turn-server {}", env!("CARGO_PKG_VERSION")));
        }
        let secs = Duration::from_secs;
        macro_rules! set {
            ($($field:ident = $value:expr;)*) => {$(if let Some(v) = $value { c.$field = v; })*};
        }
        set! {
            min_port = self.min_port;
            max_port = self.max_port;
            default_lifetime = self.default_lifetime.map(secs);
            max_lifetime = self.max_lifetime.map(secs);
            nonce_lifetime = self.nonce_lifetime.map(secs);
            sha256_password_algorithm = self.sha256;
            max_allocations = self.max_allocations;
            max_allocations_per_user = self.max_allocations_per_user;
            max_permissions = self.max_permissions;
            max_channels = self.max_channels;
        }
        c.peer_policy.allow_loopback = self.allow_loopback_peers == Some(true);
        c.peer_policy.allow_private = self.allow_private_peers == Some(true);
        c.peer_policy.allow = self.allow_peer.iter().map(|p| (p.0, p.1)).collect();
        c.peer_policy.deny = self.deny_peer.iter().map(|p| (p.0, p.1)).collect();
        let limit = |rate: u64| match self.bandwidth_burst {
            Some(burst) => BandwidthLimit {
                bytes_per_second: rate,
                burst,
            },
            None => BandwidthLimit::per_second(rate),
        };
        c.allocation_bandwidth = self.allocation_bandwidth.map(limit);
        c.user_bandwidth = self.user_bandwidth.map(limit);
        Ok(c)
    }

    /// The credentials: users (the user file, then --user over it), REST secrets, OAuth
    /// keys. Reads the user file; called again on every reload.
    pub fn auth(&self) -> Result<AuthConfig, String> {
        let mut auth = AuthConfig {
            rest_secrets: self
                .rest_secret
                .iter()
                .map(|s| RestSecret::new(s.clone().into_bytes()))
                .collect(),
            oauth_keys: self.oauth_key.iter().map(|k| k.0.clone()).collect(),
            ..AuthConfig::default()
        };
        if self.user_file.is_some() || !self.user.is_empty() {
            let mut users = match &self.user_file {
                Some(path) => {
                    let text = std::fs::read_to_string(path)
                        .map_err(|e| format!("{}: {e}", path.display()))?;
                    StaticUsers::parse_user_file(&text)
                        .map_err(|e| format!("{}: {e}", path.display()))?
                }
                None => StaticUsers::new(),
            };
            for u in &self.user {
                users
                    .insert_password(&u.name, &u.password)
                    .map_err(|e| format!("user {}: {e}", u.name))?;
            }
            auth.users = Some(Box::new(users));
        }
        if auth.users.is_none() && auth.rest_secrets.is_empty() && auth.oauth_keys.is_empty() {
            return Err(
                "no credentials: give --user, --user-file, --rest-secret or --oauth-key".into(),
            );
        }
        Ok(auth)
    }

    /// The UDP addresses to listen on: one, or RFC 5780's four.
    pub fn udp_addresses(&self, config: &ServerConfig) -> Vec<SocketAddr> {
        match (config.rfc5780, self.listen) {
            (Some(r), _) => r.addresses().to_vec(),
            (None, Some(l)) => vec![l],
            (None, None) => Vec::new(),
        }
    }

    /// The TLS listener, if configured completely.
    pub fn tls(&self) -> Result<Option<(SocketAddr, &Path, &Path)>, String> {
        match (self.tls_listen, &self.cert, &self.key) {
            (None, None, None) => Ok(None),
            (Some(a), Some(c), Some(k)) => Ok(Some((a, c, k))),
            _ => Err("--tls-listen needs --cert and --key".into()),
        }
    }
}

/// What a SIGHUP does: the file is read again and the command line laid over it once more,
/// then the credentials are built from the result.
pub fn reload(cli: &Settings) -> Result<AuthConfig, String> {
    Settings::load(cli.clone())?.auth()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Settings {
        Settings::try_parse_from(std::iter::once("turn-server").chain(args.iter().copied()))
            .unwrap()
    }

    const FILE: &str = r#"
listen = "127.0.0.1:3478"
realm = "example.org"
user = ["alice:wonderland", "bob:builder"]
rest-secret = ["northwind"]
oauth-key = ["kid1:AAECAwQFBgcICQoLDA0ODw=="]
relay-ip = ["127.0.0.1"]
min-port = 40000
max-port = 40999
allow-loopback-peers = true
deny-peer = ["198.51.100.0/24"]
max-allocations = 50
max-allocations-per-user = 5
allocation-bandwidth = 100000
user-bandwidth = 300000
bandwidth-burst = 20000
metrics = "127.0.0.1:9641"
log-format = "json"
log-level = "debug"
nonce-secret = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
sha256 = true
no-tcp = true
"#;

    #[test]
    fn the_file_sets_everything_and_the_command_line_wins() {
        let file: Settings = toml::from_str(FILE).unwrap();
        let cli = parse(&[
            "--realm",
            "cli.example",
            "--user",
            "carol:singer",
            "--sha256=false",
            "--max-allocations",
            "7",
            "--allow-private-peers",
        ]);
        let s = cli.over(file);
        assert_eq!(s.realm.as_deref(), Some("cli.example"));
        assert_eq!(
            s.user,
            vec!["carol:singer".parse().unwrap()],
            "a list replaces"
        );
        assert_eq!(
            s.rest_secret,
            vec!["northwind".to_string()],
            "the file's stays"
        );
        assert_eq!((s.sha256, s.no_tcp), (Some(false), Some(true)));
        assert_eq!(s.log_format, Some(LogFormat::Json));
        let c = s.server_config([0; 32]).unwrap();
        assert_eq!((c.max_allocations, c.max_allocations_per_user), (7, 5));
        assert_eq!((c.min_port, c.max_port), (40000, 40999));
        assert!(c.peer_policy.allow_loopback && c.peer_policy.allow_private);
        assert_eq!(
            c.peer_policy.deny,
            vec![("198.51.100.0".parse().unwrap(), 24)]
        );
        assert_eq!(
            c.allocation_bandwidth,
            Some(BandwidthLimit {
                bytes_per_second: 100_000,
                burst: 20_000
            })
        );
        assert_eq!(c.user_bandwidth.map(|l| l.bytes_per_second), Some(300_000));
        assert_eq!(c.nonce_secret[31], 0x1f);
        assert!(!c.sha256_password_algorithm);
        let auth = s.auth().unwrap();
        assert_eq!((auth.rest_secrets.len(), auth.oauth_keys.len()), (1, 1));
    }

    #[test]
    fn typos_and_bad_values_in_the_file_are_errors() {
        for bad in [
            "lisen = \"127.0.0.1:3478\"",
            "listen = \"nowhere\"",
            "user = [\"nocolon\"]",
            "max-port = 70000",
            "deny-peer = [\"10.0.0.0/33\"]",
            "log-format = \"xml\"",
            "nonce-secret = \"abc\"",
            "config = \"other.toml\"",
        ] {
            assert!(toml::from_str::<Settings>(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn old_command_lines_still_parse() {
        // As the interop suites and the relay bench start it.
        let s = parse(&[
            "--listen",
            "127.0.0.1:3478",
            "--realm",
            "example.org",
            "--user",
            "alice:wonderland",
            "--min-port",
            "40000",
            "--max-port",
            "40999",
            "--allow-loopback-peers",
            "--no-tcp",
        ]);
        assert_eq!((s.allow_loopback_peers, s.no_tcp), (Some(true), Some(true)));
        let c = s.server_config([0; 32]).unwrap();
        assert_eq!(c.relay_ipv4, Some("127.0.0.1".parse().unwrap()));
        assert!(c.software.is_some());
        assert!(s.auth().is_ok());
        assert!(
            parse(&["--listen", "127.0.0.1:3478"]).auth().is_err(),
            "no credentials"
        );
    }

    #[test]
    fn reload_reads_the_file_again_under_the_same_command_line() {
        let dir = std::env::temp_dir().join(format!("turn-server-reload-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("turn.toml");
        std::fs::write(&file, "listen = \"127.0.0.1:3478\"\nuser = [\"alice:a\"]\n").unwrap();
        let cli = parse(&["--config", file.to_str().unwrap(), "--rest-secret", "s1"]);
        let auth = reload(&cli).unwrap();
        assert!(auth.users.is_some() && auth.rest_secrets.len() == 1);
        std::fs::write(
            &file,
            "listen = \"127.0.0.1:3478\"\nuser = [\"alice:a\", \"dave:d\"]\n",
        )
        .unwrap();
        let auth = reload(&cli).unwrap();
        let key =
            auth.users
                .as_ref()
                .unwrap()
                .key("dave", "rtcweb", rtcweb_stun::PasswordAlgorithm::Md5);
        assert!(key.is_some(), "the user added to the file");
        std::fs::write(&file, "user = [\"broken\"]\n").unwrap();
        assert!(
            reload(&cli).is_err(),
            "a broken file is refused (the old credentials stay)"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
