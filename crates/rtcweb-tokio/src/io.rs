//! The sockets of one connection: UDP sockets on the local addresses, and TCP or TLS
//! connections to TURN servers, opened on first use.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;

use rtcweb::{Protocol, Transmit};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpStream, UdpSocket};
use tokio::sync::mpsc;
use tracing::{debug, warn};

use crate::error::Error;

/// Something that arrived: a datagram, or stream octets from a TURN server.
#[derive(Debug)]
pub(crate) struct Received {
    pub(crate) local: SocketAddr,
    pub(crate) remote: SocketAddr,
    pub(crate) data: Vec<u8>,
}

/// Datagrams queued from the readers to the driver before the readers wait; beyond this
/// the kernel's socket buffer holds (and then drops) them.
const INCOMING_QUEUE: usize = 4096;
/// Largest datagram we read.
const MAX_DATAGRAM: usize = 65_536;

type Writer = Box<dyn AsyncWrite + Send + Unpin>;

/// The connection's sockets.
pub(crate) struct Sockets {
    udp: Vec<Arc<UdpSocket>>,
    streams: HashMap<(SocketAddr, SocketAddr), Writer>,
    incoming: mpsc::Sender<Received>,
    tls: Arc<rustls::ClientConfig>,
    readers: Vec<tokio::task::JoinHandle<()>>,
}

impl Sockets {
    /// Binds one UDP socket per address and starts a reader task for each.
    pub(crate) async fn bind(
        addrs: &[SocketAddr],
        extra_roots: Vec<Vec<u8>>,
    ) -> Result<(Self, mpsc::Receiver<Received>), Error> {
        let (tx, rx) = mpsc::channel(INCOMING_QUEUE);
        let mut udp = Vec::new();
        let mut readers = Vec::new();
        for addr in addrs {
            let socket = Arc::new(UdpSocket::bind(addr).await?);
            readers.push(tokio::spawn(read_udp(socket.clone(), tx.clone())));
            udp.push(socket);
        }
        if udp.is_empty() {
            return Err(Error::Io("no local address to bind".into()));
        }
        let mut roots = rustls::RootCertStore::empty();
        roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
        for der in extra_roots {
            if let Err(e) = roots.add(der.into()) {
                warn!(error = %e, "extra TLS root refused");
            }
        }
        let tls = rustls::ClientConfig::builder()
            .with_root_certificates(roots)
            .with_no_client_auth();
        Ok((
            Self {
                udp,
                streams: HashMap::new(),
                incoming: tx,
                tls: Arc::new(tls),
                readers,
            },
            rx,
        ))
    }

    pub(crate) fn local_addrs(&self) -> Vec<SocketAddr> {
        self.udp
            .iter()
            .filter_map(|s| s.local_addr().ok())
            .collect()
    }

    pub(crate) fn has_streams(&self) -> bool {
        !self.streams.is_empty()
    }

    /// Sends one transmit; failures are logged and dropped (UDP semantics).
    pub(crate) async fn send(&mut self, t: Transmit) {
        match t.protocol {
            Protocol::Udp => {
                let Some(socket) = self
                    .udp
                    .iter()
                    .find(|s| s.local_addr().ok() == Some(t.source))
                else {
                    debug!(source = %t.source, "no socket for transmit");
                    return;
                };
                if let Err(e) = socket.send_to(&t.payload, t.destination).await {
                    debug!(error = %e, dest = %t.destination, "send failed");
                }
            }
            Protocol::Tcp | Protocol::Tls => {
                let key = (t.source, t.destination);
                if !self.streams.contains_key(&key) {
                    match self
                        .connect(t.source, t.destination, t.protocol == Protocol::Tls)
                        .await
                    {
                        Ok(w) => {
                            self.streams.insert(key, w);
                        }
                        Err(e) => {
                            debug!(error = %e, server = %t.destination, "TURN stream connect failed");
                            return;
                        }
                    }
                }
                if let Some(w) = self.streams.get_mut(&key)
                    && let Err(e) = w.write_all(&t.payload).await
                {
                    debug!(error = %e, "TURN stream write failed");
                    self.streams.remove(&key);
                }
            }
        }
    }

    /// Opens a TCP (and TLS) connection to a TURN server; received octets are reported as
    /// coming from the server to the local address the agent knows the allocation by.
    async fn connect(
        &mut self,
        local: SocketAddr,
        server: SocketAddr,
        tls: bool,
    ) -> Result<Writer, Error> {
        let tcp = TcpStream::connect(server).await?;
        tcp.set_nodelay(true)?;
        if !tls {
            let (r, w) = tcp.into_split();
            self.readers.push(tokio::spawn(read_stream(
                r,
                local,
                server,
                self.incoming.clone(),
            )));
            return Ok(Box::new(w));
        }
        let connector = tokio_rustls::TlsConnector::from(self.tls.clone());
        let name = rustls::pki_types::ServerName::IpAddress(server.ip().into());
        let stream = connector.connect(name, tcp).await?;
        let (r, w) = tokio::io::split(stream);
        self.readers.push(tokio::spawn(read_stream(
            r,
            local,
            server,
            self.incoming.clone(),
        )));
        Ok(Box::new(w))
    }

    /// Stops the readers and closes everything.
    pub(crate) async fn shutdown(&mut self) {
        for (_, mut w) in self.streams.drain() {
            let _ = w.shutdown().await;
        }
        for r in self.readers.drain(..) {
            r.abort();
        }
        self.udp.clear();
    }
}

async fn read_udp(socket: Arc<UdpSocket>, tx: mpsc::Sender<Received>) {
    let Ok(local) = socket.local_addr() else {
        return;
    };
    let mut buf = vec![0u8; MAX_DATAGRAM];
    loop {
        match socket.recv_from(&mut buf).await {
            Ok((n, remote)) => {
                let r = Received {
                    local,
                    remote,
                    data: buf[..n].to_vec(),
                };
                if tx.send(r).await.is_err() {
                    return;
                }
            }
            // ICMP port unreachable and friends surface as errors on some platforms.
            Err(e) => debug!(error = %e, "recv failed"),
        }
    }
}

async fn read_stream(
    mut r: impl AsyncRead + Unpin,
    local: SocketAddr,
    server: SocketAddr,
    tx: mpsc::Sender<Received>,
) {
    let mut buf = vec![0u8; 16_384];
    loop {
        match r.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => {
                if tx
                    .send(Received {
                        local,
                        remote: server,
                        data: buf[..n].to_vec(),
                    })
                    .await
                    .is_err()
                {
                    return;
                }
            }
        }
    }
}
