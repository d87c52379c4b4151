//! UDP with segmentation offload: on Linux, a run of equal-sized datagrams to one destination
//! leaves in one `sendmsg` (UDP_SEGMENT, "GSO"), and datagrams that arrive back to back from
//! one source come up in one `recvmsg` (UDP_GRO). A data channel moving bulk data sends full
//! 1200-byte datagrams, so this turns dozens of system calls (and trips through the kernel's
//! UDP and IP layers) into one. Elsewhere, or when the kernel refuses, one datagram per call.

use std::io;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};

use tokio::net::UdpSocket;

/// Most datagrams in one segmented send (the kernel's UDP_MAX_SEGMENTS is 64 on older
/// kernels).
pub(crate) const MAX_SEGMENTS: usize = 64;
/// Most bytes in one segmented send: the payload of one IPv4/IPv6 UDP datagram, with room
/// for headers.
pub(crate) const MAX_SEGMENTED_BYTES: usize = 65_000;

/// A bound UDP socket and what the kernel lets us do with it.
#[derive(Debug)]
pub(crate) struct Udp {
    socket: UdpSocket,
    local: SocketAddr,
    /// Segmented sends work (cleared on the first refusal).
    gso: AtomicBool,
    /// Receives may return several datagrams at once.
    gro: bool,
}

impl Udp {
    /// Wraps a bound socket and turns on receive coalescing where available.
    pub(crate) fn new(socket: UdpSocket) -> io::Result<Self> {
        let local = socket.local_addr()?;
        let gro = offload::enable_gro(&socket);
        Ok(Self {
            socket,
            local,
            gso: AtomicBool::new(offload::SUPPORTED),
            gro,
        })
    }

    /// The address the socket is bound to.
    pub(crate) fn local(&self) -> SocketAddr {
        self.local
    }

    /// Sends `datagrams` (all the same length but possibly the last, which may be shorter)
    /// to `to`: in one segmented send when the kernel supports it, else one by one.
    pub(crate) async fn send_run(&self, to: SocketAddr, datagrams: &[&[u8]]) -> io::Result<()> {
        let segment = datagrams.first().map_or(0, |d| d.len());
        if datagrams.len() > 1 && segment > 0 && self.gso.load(Ordering::Relaxed) {
            match offload::send_segments(&self.socket, to, datagrams, segment).await {
                Ok(()) => return Ok(()),
                // EIO / EINVAL: this path (device, checksum offload, kernel) cannot segment.
                Err(e) if offload::is_unsupported(&e) => {
                    tracing::debug!(error = %e, "UDP segmentation offload refused; sending one by one");
                    self.gso.store(false, Ordering::Relaxed);
                }
                Err(e) => return Err(e),
            }
        }
        for d in datagrams {
            self.socket.send_to(d, to).await?;
        }
        Ok(())
    }

    /// Ready when the socket may have something to read (then [`Udp::try_recv`]).
    pub(crate) fn poll_recv_ready(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.socket.poll_recv_ready(cx)
    }

    /// Receives into `buf` without waiting: the byte count, the source, and the size of each
    /// datagram in it (all but the last are that size; equal to the byte count when one
    /// datagram came). `Ok(None)` when nothing is waiting.
    pub(crate) fn try_recv(
        &self,
        buf: &mut [u8],
    ) -> io::Result<Option<(usize, SocketAddr, usize)>> {
        let result = if self.gro {
            offload::try_recv_coalesced(&self.socket, buf)
        } else {
            self.socket.try_recv_from(buf).map(|(n, from)| (n, from, n))
        };
        match result {
            Ok(r) => Ok(Some(r)),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Waits for and receives what [`Udp::try_recv`] would.
    #[cfg(test)]
    pub(crate) async fn recv(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr, usize)> {
        loop {
            std::future::poll_fn(|cx| self.poll_recv_ready(cx)).await?;
            if let Some(r) = self.try_recv(buf)? {
                return Ok(r);
            }
        }
    }
}

/// The datagrams in a coalesced receive of `n` bytes in `segment`-byte pieces.
pub(crate) fn segments(data: &[u8], segment: usize) -> std::slice::Chunks<'_, u8> {
    data.chunks(segment.max(1))
}

#[cfg(target_os = "linux")]
mod offload {
    use std::io::{self, IoSlice, IoSliceMut};
    use std::net::{SocketAddr, SocketAddrV4, SocketAddrV6};
    use std::os::fd::AsRawFd;

    use nix::sys::socket::{
        ControlMessage, ControlMessageOwned, MsgFlags, SockaddrStorage, recvmsg, sendmsg,
        setsockopt, sockopt,
    };
    use tokio::io::Interest;
    use tokio::net::UdpSocket;

    pub(super) const SUPPORTED: bool = true;

    pub(super) fn enable_gro(socket: &UdpSocket) -> bool {
        setsockopt(socket, sockopt::UdpGroSegment, &true).is_ok()
    }

    pub(super) fn is_unsupported(e: &io::Error) -> bool {
        matches!(
            e.raw_os_error(),
            Some(code) if code == nix::libc::EIO || code == nix::libc::EINVAL
        )
    }

    pub(super) async fn send_segments(
        socket: &UdpSocket,
        to: SocketAddr,
        datagrams: &[&[u8]],
        segment: usize,
    ) -> io::Result<()> {
        let segment = u16::try_from(segment).map_err(|_| io::ErrorKind::InvalidInput)?;
        let to = SockaddrStorage::from(to);
        let iov: Vec<IoSlice<'_>> = datagrams.iter().map(|d| IoSlice::new(d)).collect();
        let fd = socket.as_raw_fd();
        socket
            .async_io(Interest::WRITABLE, || {
                sendmsg(
                    fd,
                    &iov,
                    &[ControlMessage::UdpGsoSegments(&segment)],
                    MsgFlags::empty(),
                    Some(&to),
                )
                .map_err(io::Error::from)
            })
            .await
            .map(|_| ())
    }

    pub(super) fn try_recv_coalesced(
        socket: &UdpSocket,
        buf: &mut [u8],
    ) -> io::Result<(usize, SocketAddr, usize)> {
        let fd = socket.as_raw_fd();
        let mut control = nix::cmsg_space!(i32);
        socket.try_io(Interest::READABLE, || {
            let mut iov = [IoSliceMut::new(buf)];
            let msg =
                recvmsg::<SockaddrStorage>(fd, &mut iov, Some(&mut control), MsgFlags::empty())
                    .map_err(io::Error::from)?;
            let n = msg.bytes;
            let mut segment = n;
            for c in msg.cmsgs().map_err(io::Error::from)? {
                if let ControlMessageOwned::UdpGroSegments(size) = c {
                    segment = usize::try_from(size).unwrap_or(n).clamp(1, n.max(1));
                }
            }
            let from = msg
                .address
                .as_ref()
                .and_then(socket_addr)
                .ok_or_else(|| io::Error::other("datagram without a source address"))?;
            Ok((n, from, segment))
        })
    }

    fn socket_addr(a: &SockaddrStorage) -> Option<SocketAddr> {
        if let Some(v4) = a.as_sockaddr_in() {
            return Some(SocketAddr::V4(SocketAddrV4::from(*v4)));
        }
        a.as_sockaddr_in6()
            .map(|v6| SocketAddr::V6(SocketAddrV6::from(*v6)))
    }
}

#[cfg(not(target_os = "linux"))]
mod offload {
    use std::io;
    use std::net::SocketAddr;

    use tokio::net::UdpSocket;

    pub(super) const SUPPORTED: bool = false;

    pub(super) fn enable_gro(_: &UdpSocket) -> bool {
        false
    }

    pub(super) fn is_unsupported(_: &io::Error) -> bool {
        true
    }

    pub(super) async fn send_segments(
        _: &UdpSocket,
        _: SocketAddr,
        _: &[&[u8]],
        _: usize,
    ) -> io::Result<()> {
        Err(io::ErrorKind::Unsupported.into())
    }

    pub(super) fn try_recv_coalesced(
        _: &UdpSocket,
        _: &mut [u8],
    ) -> io::Result<(usize, SocketAddr, usize)> {
        Err(io::ErrorKind::Unsupported.into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A run of datagrams sent in one segmented call arrives as the same datagrams, in
    /// order, whether the receiver gets them coalesced or one by one.
    #[tokio::test]
    async fn a_segmented_run_arrives_as_the_same_datagrams() {
        let a = Udp::new(UdpSocket::bind("127.0.0.1:0").await.unwrap()).unwrap();
        let b = Udp::new(UdpSocket::bind("127.0.0.1:0").await.unwrap()).unwrap();
        let datagrams: Vec<Vec<u8>> = (0..40u8)
            .map(|i| vec![i; if i == 39 { 500 } else { 1200 }])
            .collect();
        let refs: Vec<&[u8]> = datagrams.iter().map(Vec::as_slice).collect();
        a.send_run(b.local(), &refs).await.unwrap();
        let mut got = Vec::new();
        let mut buf = vec![0u8; 65_536];
        while got.len() < datagrams.len() {
            let (n, from, segment) = b.recv(&mut buf).await.unwrap();
            assert_eq!(from, a.local());
            got.extend(segments(&buf[..n], segment).map(<[u8]>::to_vec));
        }
        assert_eq!(got, datagrams);
    }
}
