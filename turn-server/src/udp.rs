//! Batched UDP: up to [`BATCH`] datagrams per system call with `recvmmsg`/`sendmmsg` (nix's
//! safe wrappers; the workspace forbids `unsafe`). On Linux a run of equal-sized datagrams to
//! one destination (what a relayed flow is) leaves in one `sendmsg` with UDP_SEGMENT ("GSO"):
//! the kernel builds one buffer and splits it late, instead of walking the stack per datagram.

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

/// Most datagrams in one segmented send (the kernel's UDP_MAX_SEGMENTS is 64 on older
/// kernels) and most bytes (one IP datagram's worth before segmentation).
const MAX_SEGMENTS: usize = 64;
const MAX_SEGMENTED_BYTES: usize = 65_000;

/// Send headers, reused across calls.
pub struct Sender {
    headers: MultiHeaders<SockaddrStorage>,
    addrs: Vec<Option<SockaddrStorage>>,
    /// Cleared when the kernel refuses a segmented send once (EIO/EINVAL: no offload on this
    /// path); everything then goes through `sendmmsg`.
    gso: bool,
}

impl Sender {
    pub fn new() -> Self {
        Sender {
            headers: MultiHeaders::preallocate(BATCH, None),
            addrs: Vec::with_capacity(BATCH),
            gso: cfg!(target_os = "linux"),
        }
    }

    /// Sends every `(destination, data)` on `socket`, in order per destination: runs of two
    /// or more equal-sized datagrams to one destination segmented, the rest [`BATCH`] per
    /// `sendmmsg`. Datagrams the kernel refuses (full buffer, unreachable) are dropped, as
    /// UDP would. Returns how many were sent.
    pub fn send(&mut self, socket: &UdpSocket, batch: &[(SocketAddr, &[u8])]) -> usize {
        let mut sent = 0;
        let mut plain_from = 0;
        let mut i = 0;
        while i < batch.len() {
            let run = if self.gso {
                segment_run(&batch[i..])
            } else {
                1
            };
            if run < 2 {
                i += 1;
                continue;
            }
            sent += self.send_each(socket, &batch[plain_from..i]);
            match send_segmented(socket, &batch[i..i + run]) {
                Ok(()) => sent += run,
                Err(e) if e == Errno::EIO || e == Errno::EINVAL => {
                    tracing::debug!("UDP segmentation offload refused ({e}); sending one by one");
                    self.gso = false;
                    sent += self.send_each(socket, &batch[i..i + run]);
                }
                // Full buffer or unreachable: dropped, as UDP would.
                Err(_) => {}
            }
            i += run;
            plain_from = i;
        }
        sent + self.send_each(socket, &batch[plain_from..])
    }

    /// `sendmmsg`, [`BATCH`] at a time.
    fn send_each(&mut self, socket: &UdpSocket, batch: &[(SocketAddr, &[u8])]) -> usize {
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

/// How many datagrams from the start of `batch` can leave as one segmented send: same
/// destination, same size (the last may be shorter), within the kernel's limits.
fn segment_run(batch: &[(SocketAddr, &[u8])]) -> usize {
    let Some(&(to, first)) = batch.first() else {
        return 0;
    };
    let size = first.len();
    if size == 0 {
        return 1;
    }
    let mut n = 1;
    let mut bytes = size;
    for &(dest, data) in &batch[1..] {
        if dest != to
            || data.len() > size
            || n == MAX_SEGMENTS
            || bytes + data.len() > MAX_SEGMENTED_BYTES
        {
            break;
        }
        n += 1;
        bytes += data.len();
        if data.len() < size {
            // A shorter datagram can only end a run.
            break;
        }
    }
    n
}

#[cfg(target_os = "linux")]
fn send_segmented(socket: &UdpSocket, run: &[(SocketAddr, &[u8])]) -> Result<(), Errno> {
    use nix::sys::socket::{ControlMessage, sendmsg};
    let (to, first) = run[0];
    let segment = u16::try_from(first.len()).map_err(|_| Errno::EINVAL)?;
    let iov: Vec<IoSlice<'_>> = run.iter().map(|(_, d)| IoSlice::new(d)).collect();
    sendmsg(
        socket.as_raw_fd(),
        &iov,
        &[ControlMessage::UdpGsoSegments(&segment)],
        MsgFlags::MSG_DONTWAIT,
        Some(&SockaddrStorage::from(to)),
    )
    .map(|_| ())
}

#[cfg(not(target_os = "linux"))]
fn send_segmented(_: &UdpSocket, _: &[(SocketAddr, &[u8])]) -> Result<(), Errno> {
    Err(Errno::EINVAL)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addr(port: u16) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], port))
    }

    #[test]
    fn a_run_is_one_destination_and_one_size_with_a_shorter_tail() {
        let (a, b) = (addr(1), addr(2));
        let big = [0u8; 100];
        let small = [0u8; 40];
        let batch = [(a, &big[..]), (a, &big[..]), (a, &small[..]), (a, &big[..])];
        assert_eq!(segment_run(&batch), 3, "a shorter datagram ends the run");
        let batch = [(a, &big[..]), (b, &big[..])];
        assert_eq!(segment_run(&batch), 1, "another destination ends the run");
        let batch = [(a, &small[..]), (a, &big[..])];
        assert_eq!(segment_run(&batch), 1, "a longer datagram cannot follow");
        let many = vec![(a, &big[..]); 200];
        assert_eq!(segment_run(&many), MAX_SEGMENTS);
        let jumbo = [0u8; 30_000];
        let batch = [(a, &jumbo[..]); 3];
        assert_eq!(segment_run(&batch), 2, "at most one IP datagram's worth");
        assert_eq!(segment_run(&[]), 0);
    }
}
