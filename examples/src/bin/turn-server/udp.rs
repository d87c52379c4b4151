//! Batched UDP: up to [`BATCH`] datagrams per system call with `recvmmsg`/`sendmmsg` (nix's
//! safe wrappers; the workspace forbids `unsafe`), one `recvfrom`/`sendto` at a time on
//! systems without them.

use std::io::{self, IoSlice, IoSliceMut};
use std::net::{SocketAddr, SocketAddrV4, SocketAddrV6};
use std::os::fd::AsRawFd;

use mio::net::UdpSocket;
use nix::errno::Errno;
use nix::sys::socket::{MsgFlags, MultiHeaders, SockaddrStorage, recvmmsg, sendmmsg};

/// Datagrams per system call.
pub const BATCH: usize = 32;
/// Largest datagram received whole (TURN data rarely exceeds a path MTU).
pub const MAX_DATAGRAM: usize = 4096;

fn to_std(s: &SockaddrStorage) -> Option<SocketAddr> {
    if let Some(v4) = s.as_sockaddr_in() {
        return Some(SocketAddr::V4(SocketAddrV4::from(*v4)));
    }
    s.as_sockaddr_in6()
        .map(|v6| SocketAddr::V6(SocketAddrV6::from(*v6)))
}

/// Receive buffers and headers, reused across calls.
pub struct Receiver {
    bufs: Vec<Vec<u8>>,
    headers: MultiHeaders<SockaddrStorage>,
    meta: Vec<(usize, SocketAddr)>,
}

impl Receiver {
    pub fn new() -> Self {
        Receiver {
            bufs: (0..BATCH).map(|_| vec![0u8; MAX_DATAGRAM]).collect(),
            headers: MultiHeaders::preallocate(BATCH, None),
            meta: Vec::with_capacity(BATCH),
        }
    }

    /// Receives up to [`BATCH`] datagrams; `Ok(0)` when the socket is drained.
    pub fn recv(&mut self, socket: &UdpSocket) -> io::Result<usize> {
        self.meta.clear();
        let fd = socket.as_raw_fd();
        let mut slices: Vec<[IoSliceMut<'_>; 1]> = self
            .bufs
            .iter_mut()
            .map(|b| [IoSliceMut::new(&mut b[..])])
            .collect();
        match recvmmsg(
            fd,
            &mut self.headers,
            slices.iter_mut(),
            MsgFlags::MSG_DONTWAIT,
            None,
        ) {
            Ok(results) => {
                for r in results {
                    let from = r.address.as_ref().and_then(to_std);
                    self.meta
                        .push((r.bytes, from.unwrap_or(SocketAddr::from(([0, 0, 0, 0], 0)))));
                }
                Ok(self.meta.len())
            }
            Err(Errno::EAGAIN) => Ok(0),
            Err(e) => Err(io::Error::from(e)),
        }
    }

    /// The `i`-th datagram of the last batch and its source.
    pub fn get(&self, i: usize) -> Option<(SocketAddr, &[u8])> {
        let (len, from) = *self.meta.get(i)?;
        let data = self.bufs.get(i)?.get(..len.min(MAX_DATAGRAM))?;
        (from.port() != 0).then_some((from, data))
    }
}

/// Send headers, reused across calls.
pub struct Sender {
    headers: MultiHeaders<SockaddrStorage>,
    addrs: Vec<Option<SockaddrStorage>>,
}

impl Sender {
    pub fn new() -> Self {
        Sender {
            headers: MultiHeaders::preallocate(BATCH, None),
            addrs: Vec::with_capacity(BATCH),
        }
    }

    /// Sends every `(destination, data)` on `socket`, [`BATCH`] per call. Datagrams the
    /// kernel refuses (full buffer, unreachable) are dropped, as UDP would.
    pub fn send(&mut self, socket: &UdpSocket, batch: &[(SocketAddr, &[u8])]) -> usize {
        let fd = socket.as_raw_fd();
        let mut sent = 0;
        for chunk in batch.chunks(BATCH) {
            let mut at = 0;
            while at < chunk.len() {
                let part = &chunk[at..];
                self.addrs.clear();
                self.addrs
                    .extend(part.iter().map(|(to, _)| Some(SockaddrStorage::from(*to))));
                let slices: Vec<[IoSlice<'_>; 1]> =
                    part.iter().map(|(_, d)| [IoSlice::new(d)]).collect();
                let cmsgs: [nix::sys::socket::ControlMessage<'_>; 0] = [];
                match sendmmsg(
                    fd,
                    &mut self.headers,
                    slices.iter(),
                    &self.addrs,
                    cmsgs,
                    MsgFlags::MSG_DONTWAIT,
                ) {
                    Ok(results) => {
                        let n = results.count();
                        sent += n;
                        // The first datagram not sent failed: skip it and go on.
                        at += n.max(1);
                    }
                    Err(_) => at += 1,
                }
            }
        }
        sent
    }
}
