//! Transport configuration, from SDP (RFC 8841) and local policy.

use crate::Error;

/// Settings of an [`SctpTransport`](crate::SctpTransport). Build with `Default` and change
/// the fields you need (the SDP values come from the local and remote descriptions).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SctpConfig {
    /// Our `a=sctp-port`. Default 5000.
    pub local_port: u16,
    /// The peer's `a=sctp-port`. Default 5000.
    pub remote_port: u16,
    /// Our `a=max-message-size`: the largest message we accept; larger ones are dropped and
    /// counted. Default 256 KiB.
    pub max_message_size: usize,
    /// The peer's `a=max-message-size`, which bounds what we send. `None` when its SDP has
    /// no such attribute (RFC 8841 section 6.1: then 64 KiB); `Some(0)` means "any size",
    /// which we cap at [`send_buffer_limit`](Self::send_buffer_limit). Default `Some(256 KiB)`.
    pub remote_max_message_size: Option<usize>,
    /// Largest SCTP packet handed to DTLS: what one DTLS record may carry
    /// (`DtlsEndpoint::max_application_data`). Default 1163: a 1200-byte datagram less the
    /// 37 bytes of a DTLS 1.2 AES-GCM record. Can be changed until
    /// [`start`](crate::SctpTransport::start) with
    /// [`set_mtu`](crate::SctpTransport::set_mtu), once DTLS knows its version.
    pub mtu: usize,
    /// Bytes queued for sending on the whole association (sent but unacknowledged, plus
    /// not yet sent) beyond which `send` fails with [`Error::WouldBlock`] instead of
    /// buffering. Default 16 MiB (Chromium closes a channel whose buffer passes 16 MiB).
    pub send_buffer_limit: usize,
    /// Our receive window (advertised a_rwnd): what the peer may have in flight to us and
    /// what we buffer while the application has not polled events. Default 1 MiB.
    pub receive_window: usize,
    /// Streams announced in INIT (both directions); bounds the channels. Default 65535.
    pub max_streams: u16,
    /// Whether the DTLS server sends INIT too rather than only waiting for the client's.
    /// Chromium, aiortc, pion and node-datachannel do; a peer that chooses the initiator by
    /// its ICE role and so waits as DTLS client (werift answering an offer) needs it. The
    /// crossing INITs are resolved as for the client. Stream ids still follow the DTLS role.
    /// Default `false`.
    pub server_initiates: bool,
    /// Seed for the engine's random values (initial TSN, verification tags): `Some` makes
    /// runs reproducible (tests, simulations); `None` draws them at random. Default `None`.
    pub rng_seed: Option<u64>,
    /// Offer RFC 8260 user message interleaving (I-DATA), used when the peer offers it too: a
    /// large message no longer holds back the other channels. Default `true`.
    pub message_interleaving: bool,
    /// Offer RFC 9653 zero checksum with DTLS as the alternate error detection method: the
    /// SCTP packets ride in DTLS records, whose authentication catches what CRC32c would.
    /// Used when the peer offers it too. Only for a transport carried in DTLS. Default `true`.
    pub zero_checksum: bool,
}

impl Default for SctpConfig {
    fn default() -> Self {
        SctpConfig {
            local_port: 5000,
            remote_port: 5000,
            max_message_size: Self::DEFAULT_MAX_MESSAGE_SIZE,
            remote_max_message_size: Some(Self::DEFAULT_MAX_MESSAGE_SIZE),
            mtu: 1163,
            send_buffer_limit: 16 * 1024 * 1024,
            receive_window: 1024 * 1024,
            max_streams: u16::MAX,
            server_initiates: false,
            rng_seed: None,
            message_interleaving: true,
            zero_checksum: true,
        }
    }
}

impl SctpConfig {
    /// The `a=max-message-size` we advertise unless told otherwise: 256 KiB.
    pub const DEFAULT_MAX_MESSAGE_SIZE: usize = 256 * 1024;
    /// RFC 8841 section 6.1: a peer without `a=max-message-size` takes 64 KiB.
    pub const IMPLICIT_MAX_MESSAGE_SIZE: usize = 64 * 1024;
    /// Smallest usable SCTP packet size (one small DATA chunk).
    pub const MIN_MTU: usize = 256;

    /// The largest message we may send to the peer.
    pub fn send_limit(&self) -> usize {
        match self.remote_max_message_size {
            None => Self::IMPLICIT_MAX_MESSAGE_SIZE,
            Some(0) => self.send_buffer_limit,
            Some(n) => n.min(self.send_buffer_limit),
        }
    }

    pub(crate) fn validate(&self) -> Result<(), Error> {
        if self.local_port == 0 || self.remote_port == 0 {
            return Err(Error::InvalidOptions("SCTP port 0"));
        }
        if self.mtu < Self::MIN_MTU || self.mtu > 65_535 {
            return Err(Error::InvalidOptions("mtu outside 256..=65535"));
        }
        if self.max_message_size == 0 || self.send_buffer_limit == 0 {
            return Err(Error::InvalidOptions("zero message size or send buffer"));
        }
        if self.receive_window < 1500 || u32::try_from(self.receive_window).is_err() {
            return Err(Error::InvalidOptions(
                "receive window outside 1500..=u32::MAX",
            ));
        }
        if self.max_streams == 0 {
            return Err(Error::InvalidOptions("zero streams"));
        }
        Ok(())
    }
}
