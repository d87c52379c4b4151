//! The host's side of networking: interface addresses, DNS, mDNS, OS randomness, and a
//! fresh DTLS certificate.

use std::net::IpAddr;
use std::time::{Duration, SystemTime};

use rtcweb::Certificate;

use crate::error::Error;

/// Addresses of the host's interfaces that ICE should offer: up, not link-local, IPv4 and
/// IPv6. Loopback only when nothing else exists (an isolated namespace, a CI container).
pub fn interface_addresses() -> Vec<IpAddr> {
    let all = if_addrs::get_if_addrs().unwrap_or_default();
    let usable = |ip: &IpAddr| match ip {
        IpAddr::V4(v4) => !v4.is_link_local() && !v4.is_unspecified(),
        IpAddr::V6(v6) => !v6.is_unicast_link_local() && !v6.is_unspecified(),
    };
    let mut out: Vec<IpAddr> = all
        .iter()
        .map(|i| i.ip())
        .filter(|ip| usable(ip) && !ip.is_loopback())
        .collect();
    if out.is_empty() {
        out = all
            .iter()
            .map(|i| i.ip())
            .filter(|ip| ip.is_loopback() && ip.is_ipv4())
            .collect();
    }
    out.sort();
    out.dedup();
    out
}

/// A seed from the operating system for the sans-IO state machines.
pub fn os_seed() -> u64 {
    let mut b = [0u8; 8];
    // getrandom only fails on exotic platforms without an entropy source; a fixed seed
    // there would make ids predictable, so fail loudly.
    getrandom::fill(&mut b).expect("the OS has no random source");
    u64::from_le_bytes(b)
}

/// A fresh ECDSA P-256 certificate with an OS-random key and serial, valid from a day ago
/// for 30 days (WebRTC checks the fingerprint, not the dates).
pub fn generate_certificate() -> Result<Certificate, Error> {
    let mut key = [0u8; 32];
    let mut serial = [0u8; 16];
    getrandom::fill(&mut key).map_err(|e| Error::Io(std::io::Error::other(e)))?;
    getrandom::fill(&mut serial).map_err(|e| Error::Io(std::io::Error::other(e)))?;
    let not_before = SystemTime::now() - Duration::from_secs(86_400);
    // A random 32-byte string is a valid P-256 scalar with overwhelming probability;
    // retry with a new one otherwise.
    match Certificate::generate(&key, &serial, not_before, Duration::from_secs(30 * 86_400)) {
        Ok(c) => Ok(c),
        Err(_) => {
            getrandom::fill(&mut key).map_err(|e| Error::Io(std::io::Error::other(e)))?;
            Ok(Certificate::generate(
                &key,
                &serial,
                not_before,
                Duration::from_secs(30 * 86_400),
            )?)
        }
    }
}

/// Resolves the host names in ICE server URLs with the system resolver.
pub async fn resolve_ice_servers(config: &mut rtcweb::RtcConfiguration) {
    let mut names = Vec::new();
    for server in &config.ice_servers {
        for url in &server.urls {
            if let Ok(u) = rtcweb::IceServerUrl::parse(url)
                && u.socket_addr().is_none()
            {
                names.push((u.host.clone(), u.port));
            }
        }
    }
    let mut resolved = std::collections::HashMap::new();
    for (host, port) in names {
        let found = tokio::net::lookup_host((host.as_str(), port))
            .await
            .ok()
            .and_then(|mut a| a.next());
        if let Some(a) = found {
            resolved.insert(host, a.ip());
        }
    }
    config.resolve_with(|h| resolved.get(h).copied());
}

/// Resolves `.local` names over multicast DNS, once per name, with a timeout.
pub struct MdnsResolver {
    daemon: Option<mdns_sd::ServiceDaemon>,
}

impl std::fmt::Debug for MdnsResolver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MdnsResolver")
            .field("running", &self.daemon.is_some())
            .finish()
    }
}

impl MdnsResolver {
    /// Starts the mDNS daemon (a background thread of the mdns-sd crate). Without
    /// multicast (an isolated namespace) it may fail; names then never resolve.
    pub fn new() -> Self {
        Self {
            daemon: mdns_sd::ServiceDaemon::new().ok(),
        }
    }

    /// Resolves `name` (e.g. `5f1c...-.local`) within `timeout`.
    pub async fn resolve(&self, name: &str, timeout: Duration) -> Option<IpAddr> {
        let daemon = self.daemon.as_ref()?;
        let rx = daemon
            .resolve_hostname(name, Some(timeout.as_millis() as u64))
            .ok()?;
        let name = name.to_owned();
        tokio::task::spawn_blocking(move || {
            while let Ok(event) = rx.recv() {
                match event {
                    mdns_sd::HostnameResolutionEvent::AddressesFound(_, addrs) => {
                        return addrs.iter().next().map(|a| a.to_ip_addr());
                    }
                    mdns_sd::HostnameResolutionEvent::SearchTimeout(_)
                    | mdns_sd::HostnameResolutionEvent::SearchStopped(_) => return None,
                    _ => {}
                }
            }
            let _ = name;
            None
        })
        .await
        .ok()
        .flatten()
    }
}

impl Default for MdnsResolver {
    fn default() -> Self {
        Self::new()
    }
}
