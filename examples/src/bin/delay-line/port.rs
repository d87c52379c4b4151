//! One side of the bridge: an AF_PACKET socket bound to one interface, reading and writing
//! whole Ethernet frames.

use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};

use nix::errno::Errno;
use nix::sys::socket::{
    AddressFamily, LinkAddr, MsgFlags, SockFlag, SockProtocol, SockType, bind, recvfrom, send,
    socket,
};

/// `sll_pkttype` of a frame this host sent (the kernel shows packet sockets their own
/// interface's outgoing frames too, ours included): never forwarded.
const PACKET_OUTGOING: u8 = 4;

/// A raw socket on one interface.
pub struct Port {
    /// The interface's name, for messages.
    pub name: String,
    fd: OwnedFd,
}

impl Port {
    /// Opens a non-blocking raw socket receiving every protocol on interface `name`.
    ///
    /// The interface's link-layer address comes from `getifaddrs` (its AF_PACKET entry
    /// carries the interface index); binding to it with protocol 0 keeps the socket's
    /// ETH_P_ALL, so the socket sees every frame of that interface and sends out of it.
    pub fn open(name: &str) -> Result<Self, String> {
        let addr: LinkAddr = nix::ifaddrs::getifaddrs()
            .map_err(|e| format!("getifaddrs: {e}"))?
            .filter(|i| i.interface_name == name)
            .find_map(|i| i.address.and_then(|a| a.as_link_addr().copied()))
            .ok_or_else(|| format!("{name}: no such interface in this namespace"))?;
        let fd = socket(
            AddressFamily::Packet,
            SockType::Raw,
            SockFlag::SOCK_NONBLOCK | SockFlag::SOCK_CLOEXEC,
            SockProtocol::EthAll,
        )
        .map_err(|e| format!("{name}: AF_PACKET socket: {e} (needs CAP_NET_RAW)"))?;
        bind(fd.as_raw_fd(), &addr).map_err(|e| format!("{name}: bind: {e}"))?;
        // A larger receive buffer rides out a late wake-up at media rates.
        let _ = nix::sys::socket::setsockopt(&fd, nix::sys::socket::sockopt::RcvBuf, &(4 << 20));
        Ok(Self {
            name: name.to_owned(),
            fd,
        })
    }

    /// The next frame that arrived on the interface (not one sent from this host), its length
    /// written into `buf`; `None` when there is none waiting.
    pub fn recv(&self, buf: &mut [u8]) -> Result<Option<usize>, Errno> {
        loop {
            match recvfrom::<LinkAddr>(self.fd.as_raw_fd(), buf) {
                Ok((_, Some(from))) if from.pkttype() == PACKET_OUTGOING => continue,
                Ok((n, _)) => return Ok(Some(n)),
                Err(Errno::EAGAIN) => return Ok(None),
                Err(Errno::EINTR) => continue,
                Err(e) => return Err(e),
            }
        }
    }

    /// Sends one frame out of the interface. A full device queue drops it, as a link would.
    pub fn send(&self, frame: &[u8]) -> Result<(), Errno> {
        match send(self.fd.as_raw_fd(), frame, MsgFlags::MSG_DONTWAIT) {
            Ok(_) | Err(Errno::EAGAIN) | Err(Errno::ENOBUFS) => Ok(()),
            Err(e) => Err(e),
        }
    }
}

impl AsFd for Port {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }
}
