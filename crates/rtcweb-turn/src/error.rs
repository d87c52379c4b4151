//! The crate's error type.

use std::net::SocketAddr;

/// Errors of the TURN client, credentials and NAT discovery.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A STUN codec error.
    #[error("STUN: {0}")]
    Stun(#[from] rtcweb_stun::Error),
    /// The operation needs an allocation and there is none (yet, or any more).
    #[error("no allocation")]
    NoAllocation,
    /// `allocate` was called while an allocation exists or is being made.
    #[error("allocation already exists or is in progress")]
    AlreadyAllocating,
    /// The server answered 508 Insufficient Capacity; no new allocation before the given time.
    #[error("server at capacity; retry later")]
    Backoff,
    /// No permission was requested for the peer's IP address.
    #[error("no permission for peer {0}")]
    NoPermission(SocketAddr),
    /// The peer's address family differs from the relayed address's.
    #[error("peer {0} has the wrong address family for this allocation")]
    PeerFamilyMismatch(SocketAddr),
    /// All channel numbers (0x4000-0x4FFF) are in use.
    #[error("no free channel number")]
    NoFreeChannel,
    /// Too many requests are outstanding (the bound protects memory).
    #[error("too many outstanding requests")]
    TooManyRequests,
    /// Application data does not fit in one message.
    #[error("data too large ({0} octets)")]
    DataTooLarge(usize),
    /// A credential could not be turned into a key (SASLprep failure, bad token...).
    #[error("bad credentials: {0}")]
    Credentials(&'static str),
    /// An OAuth token failed to decrypt or authenticate.
    #[error("OAuth token rejected")]
    BadToken,
}

impl Error {
    /// What kind of problem this is, and so what the caller can do about it.
    pub fn category(&self) -> rtcweb_core::ErrorCategory {
        use rtcweb_core::ErrorCategory as C;
        match self {
            Error::Stun(e) => e.category(),
            Error::NoAllocation | Error::AlreadyAllocating | Error::NoPermission(_) => C::State,
            Error::Backoff | Error::NoFreeChannel | Error::TooManyRequests => C::Capacity,
            Error::DataTooLarge(_) => C::Capacity,
            Error::PeerFamilyMismatch(_) | Error::Credentials(_) => C::Config,
            Error::BadToken => C::Security,
        }
    }
}

/// Shorthand for results of this crate.
pub type Result<T> = core::result::Result<T, Error>;
