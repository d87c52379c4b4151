//! Plain data exchanged with the TURN client: configuration, datagrams out, events.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use rtcweb_stun::attributes::AddressFamily;

use crate::credentials::Credentials;

pub use rtcweb_core::{Protocol, Transmit};

/// Settings of a [`crate::Client`].
#[derive(Debug, Clone)]
pub struct ClientConfig {
    /// The TURN server.
    pub server: SocketAddr,
    /// How the client reaches the server: UDP (one message per datagram, retransmissions per
    /// RFC 8489), TCP (messages framed on the byte stream, ChannelData padded, RFC 8656
    /// section 12.5) or TLS over TCP (the same framing; the driver does the TLS bytes).
    pub transport: Protocol,
    /// Credentials.
    pub credentials: Credentials,
    /// SOFTWARE attribute sent in Allocate, if any.
    pub software: Option<String>,
    /// LIFETIME to ask for, in seconds (`None` = the server's default, 600 s).
    pub requested_lifetime: Option<u32>,
    /// REQUESTED-ADDRESS-FAMILY (`None` = IPv4, the server's default).
    pub requested_family: Option<AddressFamily>,
    /// Initial retransmission timeout over UDP.
    pub rto: Duration,
    /// How many 401/438 challenges one request may meet before giving up.
    pub max_challenges: u32,
    /// How many 300 Try Alternate redirections to follow in one allocation attempt (each
    /// [`crate::Client::allocate`] starts counting anew).
    pub max_redirects: u32,
}

impl ClientConfig {
    /// A configuration with the defaults: no SOFTWARE, server default lifetime, IPv4, RTO
    /// 500 ms, 3 challenges, 2 redirections.
    pub fn new(server: SocketAddr, transport: Protocol, credentials: Credentials) -> Self {
        ClientConfig {
            server,
            transport,
            credentials,
            software: None,
            requested_lifetime: None,
            requested_family: None,
            rto: Duration::from_millis(500),
            max_challenges: 3,
            max_redirects: 2,
        }
    }
}

/// Why something failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// No response after all retransmissions (or Ti on TCP/TLS).
    Timeout,
    /// The server answered with an error.
    ErrorResponse {
        /// The code, e.g. 437, 486, 508.
        code: u16,
        /// The reason phrase.
        reason: String,
    },
    /// 401 again after the credentials were sent: the credentials are wrong.
    Unauthorized,
    /// More challenges (401/438) or redirections than allowed.
    ChallengeLoop,
    /// A success response lacked a required attribute, or the challenge was unusable.
    MalformedResponse,
    /// The allocation's lifetime ran out without a successful refresh.
    Expired,
    /// The TCP/TLS byte stream carried something that is neither STUN nor ChannelData.
    BrokenStream,
    /// Credentials could not be turned into a key (SASLprep, OAuth token).
    BadCredentials,
}

/// Something the application must know.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// The allocation exists.
    Allocated {
        /// XOR-RELAYED-ADDRESS: where peers send to.
        relayed: SocketAddr,
        /// XOR-MAPPED-ADDRESS: the client's server-reflexive address.
        mapped: Option<SocketAddr>,
        /// Granted lifetime.
        lifetime: Duration,
    },
    /// Allocating failed; with 508 no new allocation is allowed for a minute.
    AllocationFailed(Failure),
    /// The server answered 300 Try Alternate; the client now talks to `server` (over TCP/TLS
    /// the driver must connect there before sending what the client emits next).
    Redirected {
        /// The ALTERNATE-SERVER.
        server: SocketAddr,
    },
    /// The allocation was refreshed.
    Refreshed {
        /// The new lifetime.
        lifetime: Duration,
    },
    /// The allocation is gone (refresh failed, 437, expiry, broken stream).
    AllocationLost(Failure),
    /// A permission for `peer` was installed.
    PermissionCreated {
        /// The peer's IP address.
        peer: IpAddr,
    },
    /// Installing or refreshing a permission failed; it was removed.
    PermissionFailed {
        /// The peer's IP address.
        peer: IpAddr,
        /// Why.
        failure: Failure,
    },
    /// A channel is bound to `peer`; data to it now goes as ChannelData.
    ChannelBound {
        /// The peer.
        peer: SocketAddr,
        /// The channel number.
        channel: u16,
    },
    /// Binding or refreshing a channel failed; it was removed.
    ChannelBindFailed {
        /// The peer.
        peer: SocketAddr,
        /// Why.
        failure: Failure,
    },
    /// Data from a peer through the relay (Data indication or ChannelData).
    Data {
        /// The peer.
        peer: SocketAddr,
        /// The payload.
        data: Vec<u8>,
    },
    /// The allocation was released (Refresh with LIFETIME 0 answered, or given up).
    Deallocated,
}
