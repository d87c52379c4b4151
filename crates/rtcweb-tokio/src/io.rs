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
use crate::udp::{self, Udp};

/// Stream octets from a TURN server reached over TCP or TLS (UDP sockets are read by the
/// driver itself: [`Sockets::recv_udp`]).
#[derive(Debug)]
pub(crate) struct Received {
    pub(crate) local: SocketAddr,
    pub(crate) remote: SocketAddr,
    pub(crate) protocol: Protocol,
    pub(crate) data: Vec<u8>,
}

impl Received {
    /// The octets as the sans-IO layers take them.
    pub(crate) fn as_datagram(&self) -> rtcweb::Datagram<'_> {
        rtcweb::Datagram {
            source: self.remote,
            destination: self.local,
            protocol: self.protocol,
            payload: &self.data,
        }
    }
}

/// Stream reads queued from the TCP/TLS readers to the driver before the readers wait.
const INCOMING_QUEUE: usize = 4096;
/// Receive buffer: the largest datagram, or one coalesced run of datagrams.
pub(crate) const MAX_DATAGRAM: usize = 65_536;
/// Datagrams read per call of [`Sockets::recv_udp`] (about one coalesced read), so that
/// what they call for (SACKs, for one) leaves before the driver reads on: reading a whole
/// window before answering any of it would leave the sender idle meanwhile.
const DATAGRAMS_PER_TURN: usize = 48;
/// Kernel buffer we ask for on each UDP socket, both ways (the kernel caps it at
/// `net.core.rmem_max` / `wmem_max`). The default (208 KiB on Linux) holds about 90 full-size
/// datagrams: one SCTP window of data-channel traffic (up to 1 MiB) arriving while the driver
/// is busy overflows it, and every drop costs SCTP a retransmission and half its window.
const SOCKET_BUFFER: usize = 4 * 1024 * 1024;

type Writer = Box<dyn AsyncWrite + Send + Unpin>;

/// The connection's sockets. The driver reads the UDP sockets itself, straight into one
/// buffer and on into the PeerConnection: no task, queue or copy per datagram in between.
pub(crate) struct Sockets {
    udp: Vec<Arc<Udp>>,
    streams: HashMap<(SocketAddr, SocketAddr), Writer>,
    incoming: mpsc::Sender<Received>,
    tls: Arc<rustls::ClientConfig>,
    readers: Vec<tokio::task::JoinHandle<()>>,
}

impl Sockets {
    /// Binds one UDP socket per address.
    pub(crate) async fn bind(
        addrs: &[SocketAddr],
        extra_roots: Vec<Vec<u8>>,
    ) -> Result<(Self, mpsc::Receiver<Received>), Error> {
        let (tx, rx) = mpsc::channel(INCOMING_QUEUE);
        let mut udp = Vec::new();
        let readers = Vec::new();
        for addr in addrs {
            let socket = UdpSocket::bind(addr).await?;
            grow_buffers(&socket);
            udp.push(Arc::new(Udp::new(socket)?));
        }
        if udp.is_empty() {
            return Err(Error::Io(std::io::Error::new(
                std::io::ErrorKind::AddrNotAvailable,
                "no local address to bind",
            )));
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
        self.udp.iter().map(|s| s.local()).collect()
    }

    /// The UDP sockets, for [`udp_readable`].
    pub(crate) fn udp(&self) -> &[Arc<Udp>] {
        &self.udp
    }

    /// Reads what has arrived on the UDP sockets (a bounded amount per socket) into `buf`
    /// and hands each datagram to `f` as (local, remote, datagram). Returns how many.
    pub(crate) fn recv_udp(
        &self,
        buf: &mut [u8],
        mut f: impl FnMut(SocketAddr, SocketAddr, &[u8]),
    ) -> usize {
        let mut count = 0;
        for s in &self.udp {
            while count < DATAGRAMS_PER_TURN {
                match s.try_recv(buf) {
                    Ok(Some((n, remote, segment))) => {
                        for d in udp::segments(&buf[..n], segment) {
                            f(s.local(), remote, d);
                            count += 1;
                        }
                    }
                    Ok(None) => break,
                    // ICMP port unreachable and friends surface as errors on some
                    // platforms: nothing to deliver, read on.
                    Err(e) => debug!(error = %e, "recv failed"),
                }
            }
        }
        count
    }

    pub(crate) fn has_streams(&self) -> bool {
        !self.streams.is_empty()
    }

    /// Sends transmits in order; failures are logged and dropped (UDP semantics). Runs of
    /// equal-sized datagrams between the same two addresses go out in one segmented send.
    pub(crate) async fn send_all(&mut self, transmits: &[Transmit]) {
        let mut i = 0;
        while i < transmits.len() {
            let t = &transmits[i];
            if t.protocol != Protocol::Udp {
                self.send_stream(t).await;
                i += 1;
                continue;
            }
            let run = udp_run(&transmits[i..]);
            let Some(socket) = self.udp.iter().find(|s| s.local() == t.source) else {
                debug!(source = %t.source, "no socket for transmit");
                i += run;
                continue;
            };
            let datagrams: Vec<&[u8]> = transmits[i..i + run]
                .iter()
                .map(|t| t.payload.as_slice())
                .collect();
            if let Err(e) = socket.send_run(t.destination, &datagrams).await {
                debug!(error = %e, dest = %t.destination, "send failed");
            }
            i += run;
        }
    }

    /// Writes stream octets to a TURN server over TCP or TLS, connecting on first use.
    async fn send_stream(&mut self, t: &Transmit) {
        match t.protocol {
            Protocol::Udp => {}
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
                (local, server, Protocol::Tcp),
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
            (local, server, Protocol::Tls),
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

/// Asks for [`SOCKET_BUFFER`] bytes of kernel buffer; smaller is fine (best effort).
fn grow_buffers(socket: &UdpSocket) {
    let s = socket2::SockRef::from(socket);
    for (what, result) in [
        ("receive", s.set_recv_buffer_size(SOCKET_BUFFER)),
        ("send", s.set_send_buffer_size(SOCKET_BUFFER)),
    ] {
        if let Err(e) = result {
            debug!(error = %e, "UDP {what} buffer size not set");
        }
    }
}

/// Ready when one of `udp` may have datagrams (then [`Sockets::recv_udp`]). It borrows only
/// the sockets, so that the driver's future stays `Send` while it waits.
pub(crate) async fn udp_readable(udp: &[Arc<Udp>]) {
    std::future::poll_fn(|cx| {
        for s in udp {
            // An error is ready too: `recv_udp` reads it and moves on.
            if s.poll_recv_ready(cx).is_ready() {
                return std::task::Poll::Ready(());
            }
        }
        std::task::Poll::Pending
    })
    .await
}

/// How many transmits from the start of `transmits` can go out in one segmented send: UDP,
/// same addresses, every one the size of the first except the last, which may be shorter.
fn udp_run(transmits: &[Transmit]) -> usize {
    let Some(first) = transmits.first() else {
        return 0;
    };
    let size = first.payload.len();
    let mut total = 0;
    let mut n = 0;
    for t in transmits.iter().take(udp::MAX_SEGMENTS) {
        let fits = t.protocol == Protocol::Udp
            && t.source == first.source
            && t.destination == first.destination
            && t.payload.len() <= size
            && total + t.payload.len() <= udp::MAX_SEGMENTED_BYTES;
        if !fits {
            break;
        }
        total += t.payload.len();
        n += 1;
        if t.payload.len() < size {
            break;
        }
    }
    n.max(1)
}

async fn read_stream(
    mut r: impl AsyncRead + Unpin,
    (local, server, protocol): (SocketAddr, SocketAddr, Protocol),
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
                        protocol,
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
