//! Host names and socket addresses as the examples take them.

use std::net::{SocketAddr, ToSocketAddrs};
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
}
