//! TCP (and TLS, for `wss:` and `https:`) connections of the signaling clients, and the
//! parts of their URLs they need.

use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;

use super::signaling_error;
use crate::error::Error;

/// How long a signaling client waits for a TCP (+ TLS) connection.
pub(crate) const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// A byte stream to a server, plain or TLS.
pub(crate) trait Stream: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Stream for T {}

/// Where a URL points.
#[derive(Debug, Clone)]
pub(crate) struct Target {
    pub(crate) host: String,
    pub(crate) port: u16,
    pub(crate) tls: bool,
    /// Path and query, `/` when empty.
    pub(crate) path: String,
}

impl Target {
    /// Parses `http:`, `https:`, `ws:` or `wss:` URLs.
    pub(crate) fn parse(url: &str) -> Result<Self, Error> {
        let uri: http::Uri = url.parse().map_err(signaling_error)?;
        let tls = match uri.scheme_str() {
            Some("http" | "ws") => false,
            Some("https" | "wss") => true,
            _ => return Err(signaling_error(format!("unsupported URL {url}"))),
        };
        let host = uri
            .host()
            .ok_or_else(|| signaling_error(format!("no host in {url}")))?;
        let host = host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_owned();
        let port = uri.port_u16().unwrap_or(if tls { 443 } else { 80 });
        let path = uri
            .path_and_query()
            .map_or_else(|| "/".to_owned(), |p| p.as_str().to_owned());
        Ok(Self {
            host,
            port,
            tls,
            path: if path.is_empty() { "/".into() } else { path },
        })
    }

    /// `host:port` as the Host header wants it.
    pub(crate) fn authority(&self) -> String {
        if self.host.contains(':') {
            format!("[{}]:{}", self.host, self.port)
        } else {
            format!("{}:{}", self.host, self.port)
        }
    }

    /// Connects, with TLS (web PKI roots plus `extra_roots`) when the scheme says so.
    pub(crate) async fn connect(&self, extra_roots: &[Vec<u8>]) -> Result<Box<dyn Stream>, Error> {
        let connect = async {
            let tcp = TcpStream::connect((self.host.as_str(), self.port)).await?;
            tcp.set_nodelay(true)?;
            if !self.tls {
                return Ok::<Box<dyn Stream>, Error>(Box::new(tcp));
            }
            let mut roots = rustls::RootCertStore::empty();
            roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
            for der in extra_roots {
                roots
                    .add(der.clone().into())
                    .map_err(|e| signaling_error(format!("extra TLS root: {e}")))?;
            }
            let config = rustls::ClientConfig::builder()
                .with_root_certificates(roots)
                .with_no_client_auth();
            let name = rustls::pki_types::ServerName::try_from(self.host.clone())
                .map_err(signaling_error)?;
            let tls = tokio_rustls::TlsConnector::from(Arc::new(config))
                .connect(name, tcp)
                .await?;
            Ok(Box::new(tls))
        };
        tokio::time::timeout(CONNECT_TIMEOUT, connect)
            .await
            .map_err(|_| Error::Timeout)?
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        let t = Target::parse("ws://127.0.0.1:8080/room-1").unwrap();
        assert_eq!((t.host.as_str(), t.port, t.tls), ("127.0.0.1", 8080, false));
        assert_eq!(t.path, "/room-1");
        let t = Target::parse("https://[::1]/whip?x=1").unwrap();
        assert_eq!((t.host.as_str(), t.port, t.tls), ("::1", 443, true));
        assert_eq!(
            (t.path.as_str(), t.authority()),
            ("/whip?x=1", "[::1]:443".into())
        );
        assert_eq!(Target::parse("http://h").unwrap().path, "/");
        assert!(Target::parse("ftp://h/").is_err());
        assert!(Target::parse("nonsense").is_err());
    }
}
