//! Host names and socket addresses as the examples take them.

use std::net::{IpAddr, SocketAddr, ToSocketAddrs};
use std::str::FromStr;

use crate::Error;

/// Resolves `HOST:PORT` (a name or an address literal) to its first address.
pub fn resolve(host_port: &str) -> Result<SocketAddr, Error> {
    let resolve_error = |source| Error::Resolve {
        host: host_port.to_owned(),
        source,
    };
    host_port
        .to_socket_addrs()
        .map_err(resolve_error)?
        .next()
        .ok_or_else(|| resolve_error(std::io::ErrorKind::NotFound.into()))
}

/// A server given as `HOST:PORT`: the address it resolved to, and the host as written (the
/// name a TLS certificate is checked against).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerAddr {
    /// The host part as written, without brackets around an IPv6 literal.
    pub host: String,
    /// The first address it resolved to.
    pub addr: SocketAddr,
}

impl FromStr for ServerAddr {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self, Error> {
        let host = s.rsplit_once(':').map_or(s, |(h, _)| h);
        Ok(ServerAddr {
            host: host.trim_matches(['[', ']']).to_owned(),
            addr: resolve(s)?,
        })
    }
}

/// The unspecified address of `like`'s family with port 0 (`0.0.0.0:0` or `[::]:0`): what
/// to bind a socket to that talks to `like`.
pub fn unspecified(like: SocketAddr) -> SocketAddr {
    match like {
        SocketAddr::V4(_) => SocketAddr::from(([0, 0, 0, 0], 0)),
        SocketAddr::V6(_) => SocketAddr::from(([0u16; 8], 0)),
    }
}

/// The addresses a server that listens on `listen` binds its ICE sockets to, so that its
/// answer carries candidates a client on another local address reaches: every address ICE
/// offers on this host ([`rtcweb_tokio::net::interface_addresses`]) and `listen` itself when
/// it is a specific one. A server on `127.0.0.1` still gathers on the host's interfaces, as
/// aiortc does: a browser on the same host checks from its interface address and ignores
/// loopback candidates (Firefox by default), so an answer with only `127.0.0.1` fails there.
///
/// `listen_only` keeps the narrower choice: only `listen` (every interface when it is
/// unspecified). The result is never empty for a specific `listen`; for an unspecified one
/// without `listen_only` it is the interface list, as `PeerConfig::bind` takes it.
pub fn ice_bind_addresses(listen: IpAddr, listen_only: bool) -> Vec<SocketAddr> {
    let specific = (!listen.is_unspecified()).then_some(listen);
    let mut ips: Vec<IpAddr> = specific.into_iter().collect();
    if !(listen_only && specific.is_some()) {
        ips.extend(rtcweb_tokio::net::interface_addresses());
    }
    let mut seen = Vec::new();
    ips.retain(|ip| {
        let new = !seen.contains(ip);
        seen.push(*ip);
        new
    });
    ips.into_iter().map(|ip| SocketAddr::new(ip, 0)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literals_resolve_and_keep_their_host() {
        let v4: ServerAddr = "127.0.0.1:3478".parse().unwrap();
        assert_eq!(v4.host, "127.0.0.1");
        assert_eq!(v4.addr, SocketAddr::from(([127, 0, 0, 1], 3478)));
        let v6: ServerAddr = "[::1]:5349".parse().unwrap();
        assert_eq!(v6.host, "::1");
        assert_eq!(unspecified(v6.addr).to_string(), "[::]:0");
        assert_eq!(unspecified(v4.addr).to_string(), "0.0.0.0:0");
        assert!(resolve("no port").is_err());
    }

    #[test]
    fn ice_binds_cover_the_listen_address_and_the_interfaces() {
        let lo: IpAddr = [127, 0, 0, 1].into();
        let interfaces = rtcweb_tokio::net::interface_addresses();
        let all = ice_bind_addresses(lo, false);
        assert_eq!(all.first(), Some(&SocketAddr::new(lo, 0)));
        for ip in &interfaces {
            assert!(
                all.contains(&SocketAddr::new(*ip, 0)),
                "{ip} missing from {all:?}"
            );
        }
        let mut ips: Vec<IpAddr> = all.iter().map(SocketAddr::ip).collect();
        ips.sort();
        ips.dedup();
        assert_eq!(ips.len(), all.len(), "an address twice: {all:?}");
        assert_eq!(ice_bind_addresses(lo, true), vec![SocketAddr::new(lo, 0)]);
        let any: IpAddr = [0, 0, 0, 0].into();
        let expected: Vec<SocketAddr> = interfaces
            .iter()
            .map(|ip| SocketAddr::new(*ip, 0))
            .collect();
        assert_eq!(ice_bind_addresses(any, false), expected);
        assert_eq!(ice_bind_addresses(any, true), expected);
    }
}
