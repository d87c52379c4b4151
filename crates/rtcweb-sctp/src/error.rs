//! The crate's one error type.

/// Everything that can go wrong with data channels.
///
/// Errors from API calls ([`SctpTransport::send`](crate::SctpTransport::send) and friends) are
/// returned to the caller and change nothing. Problems in received data never surface as
/// errors: bad packets are dropped and counted in [`TransportStats`](crate::TransportStats),
/// a fatal association problem ends in [`Event::Closed`](crate::Event::Closed).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A DCEP message (RFC 8832 section 5) is malformed.
    #[error("malformed DCEP message: {0}")]
    Dcep(&'static str),
    /// The channel options are contradictory or out of range (the W3C `TypeError` cases).
    #[error("invalid data channel options: {0}")]
    InvalidOptions(&'static str),
    /// The message is larger than the peer's `a=max-message-size` (RFC 8841 section 6).
    #[error("message of {size} bytes exceeds the peer's max-message-size of {max} bytes")]
    MessageTooLarge {
        /// Size of the message that was refused.
        size: usize,
        /// The largest message the peer accepts.
        max: usize,
    },
    /// The send buffer (bytes not yet acknowledged, over every channel) is full: try again
    /// after [`Event::Writable`] for this channel.
    ///
    /// [`Event::Writable`]: crate::Event::Writable
    #[error("send buffer full ({buffered} of {limit} bytes queued), would block")]
    WouldBlock {
        /// Bytes on the association not yet acknowledged.
        buffered: usize,
        /// The configured limit, [`SctpConfig::send_buffer_limit`](crate::SctpConfig).
        limit: usize,
    },
    /// No channel with this id exists (never created, or closed).
    #[error("no data channel with id {0}")]
    UnknownChannel(u16),
    /// The channel exists but is not open (still connecting, closing or closed).
    #[error("data channel {0} is not open")]
    ChannelNotOpen(u16),
    /// The stream id is already used by another channel.
    #[error("stream id {0} is already in use")]
    IdInUse(u16),
    /// Every stream id of our parity below the negotiated stream count is in use.
    #[error("no free stream id for a new data channel")]
    NoFreeId,
    /// The association is closed (shut down, aborted or failed).
    #[error("the SCTP association is closed")]
    Closed,
    /// The SCTP engine refused an operation; the text is its reason.
    #[error("SCTP engine error: {0}")]
    Engine(String),
}

impl Error {
    /// What kind of problem this is, and so what the caller can do about it.
    pub fn category(&self) -> rtcweb_core::ErrorCategory {
        use rtcweb_core::ErrorCategory as C;
        match self {
            Error::Dcep(_) => C::Malformed,
            Error::InvalidOptions(_) | Error::UnknownChannel(_) | Error::IdInUse(_) => C::Config,
            Error::MessageTooLarge { .. } | Error::WouldBlock { .. } | Error::NoFreeId => {
                C::Capacity
            }
            Error::ChannelNotOpen(_) => C::State,
            Error::Closed => C::Closed,
            Error::Engine(_) => C::Protocol,
        }
    }
}
