//! Datagrams in and out of the layers that own a network path.

use std::net::SocketAddr;

/// How a datagram travels between two socket addresses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub enum Protocol {
    /// A UDP datagram.
    #[default]
    Udp,
    /// Octets on the TCP connection between `source` and `destination` (RFC 4571 or STUN
    /// framing is the layer's business; the driver writes the octets as they are).
    Tcp,
    /// Octets for the TLS connection between `source` and `destination`: the driver encrypts.
    Tls,
}

impl Protocol {
    /// Whether this is a byte stream (TCP or TLS) rather than datagrams.
    pub fn is_stream(self) -> bool {
        !matches!(self, Protocol::Udp)
    }
}

/// Something to send: from a local socket address to a remote one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transmit {
    /// The local socket address to send from (the state machine knows its sockets: the owner
    /// told it about them).
    pub source: SocketAddr,
    /// Where to send it.
    pub destination: SocketAddr,
    /// UDP, or the TCP/TLS connection it belongs on.
    pub protocol: Protocol,
    /// The UDP payload, or stream octets for TCP and TLS.
    pub payload: Vec<u8>,
}

impl Transmit {
    /// A UDP datagram from local `source` to `destination`.
    pub fn udp(source: SocketAddr, destination: SocketAddr, payload: Vec<u8>) -> Self {
        Transmit {
            source,
            destination,
            protocol: Protocol::Udp,
            payload,
        }
    }

    /// The same datagram as it arrives: borrowed, with the same addresses.
    pub fn as_datagram(&self) -> Datagram<'_> {
        Datagram {
            source: self.source,
            destination: self.destination,
            protocol: self.protocol,
            payload: &self.payload,
        }
    }
}

/// Something that arrived: on local socket address `destination` from `source`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Datagram<'a> {
    /// Who sent it.
    pub source: SocketAddr,
    /// The local socket address it arrived on.
    pub destination: SocketAddr,
    /// UDP, or the TCP/TLS connection it came on.
    pub protocol: Protocol,
    /// The UDP payload, or stream octets as they were read.
    pub payload: &'a [u8],
}

impl<'a> Datagram<'a> {
    /// A UDP datagram from `source` to local `destination`.
    pub fn udp(source: SocketAddr, destination: SocketAddr, payload: &'a [u8]) -> Self {
        Datagram {
            source,
            destination,
            protocol: Protocol::Udp,
            payload,
        }
    }
}
