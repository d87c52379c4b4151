//! One allocation (RFC 8656 section 2.2): its relayed address, lifetime, permissions and
//! channel bindings, and the identity that made it.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

use rtcweb_stun::{IntegrityKey, PasswordAlgorithm, TransactionId};

use crate::bandwidth::Buckets;

/// How long a permission lasts (RFC 8656 section 9).
pub const PERMISSION_LIFETIME: Duration = Duration::from_secs(300);
/// How long a channel binding lasts (RFC 8656 section 12).
pub const CHANNEL_LIFETIME: Duration = Duration::from_secs(600);
/// After a channel binding expires, neither its number nor its peer may be bound to another
/// for this long (RFC 8656 section 12).
pub const CHANNEL_COOLDOWN: Duration = Duration::from_secs(300);

/// The authenticated identity behind an allocation, kept so later requests are checked
/// against the same user and key without deriving it again.
#[derive(Clone)]
pub(crate) struct Identity {
    pub username: String,
    pub key: IntegrityKey,
    pub algorithm: PasswordAlgorithm,
    /// REST expiry or OAuth token end, in Unix seconds.
    pub expires_unix: Option<u64>,
}

impl core::fmt::Debug for Identity {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "Identity({:?})", self.username)
    }
}

#[derive(Debug, Clone, Copy)]
pub(crate) struct Channel {
    pub peer: SocketAddr,
    pub expires: Instant,
}

#[derive(Debug)]
pub(crate) struct Allocation {
    pub relay: SocketAddr,
    pub identity: Identity,
    pub expires: Instant,
    /// Transaction id of the Allocate that made it, to answer retransmissions alike.
    pub allocate_tid: TransactionId,
    pub reservation_token: Option<[u8; 8]>,
    pub permissions: HashMap<IpAddr, Instant>,
    /// Channel number to binding; expired bindings stay until their cooldown ends.
    pub channels: HashMap<u16, Channel>,
    pub channel_by_peer: HashMap<SocketAddr, u16>,
    /// The deadline of the timer heap entry that will sweep this allocation.
    pub scheduled: Instant,
    /// Its own bandwidth buckets, when a per-allocation limit is configured.
    pub bandwidth: Option<Buckets>,
    /// Its user's slot in the server's user table (valid while the allocation lives).
    pub user: usize,
}

/// Why a ChannelBind is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ChannelError {
    /// Number or peer already bound elsewhere (or cooling down): 400.
    Conflict,
    /// Too many channels: 508.
    Capacity,
}

impl Allocation {
    pub(crate) fn is_live_channel(&self, number: u16, now: Instant) -> Option<SocketAddr> {
        self.channels
            .get(&number)
            .filter(|c| c.expires > now)
            .map(|c| c.peer)
    }

    pub(crate) fn has_permission(&self, ip: IpAddr, now: Instant) -> bool {
        self.permissions.get(&ip).is_some_and(|e| *e > now)
    }

    /// Permissions and channel bindings in force at `now` (for metrics).
    pub(crate) fn live_counts(&self, now: Instant) -> (usize, usize) {
        let perms = self.permissions.values().filter(|e| **e > now).count();
        let chans = self.channels.values().filter(|c| c.expires > now).count();
        (perms, chans)
    }

    /// Installs or refreshes a permission. `false` when the limit is reached.
    pub(crate) fn permit(&mut self, ip: IpAddr, now: Instant, limit: usize) -> bool {
        if !self.permissions.contains_key(&ip) && self.permissions.len() >= limit {
            return false;
        }
        self.permissions.insert(ip, now + PERMISSION_LIFETIME);
        true
    }

    /// Checks a ChannelBind (RFC 8656 section 12.2) without changing anything.
    pub(crate) fn check_channel(
        &self,
        number: u16,
        peer: SocketAddr,
        limit: usize,
    ) -> Result<(), ChannelError> {
        if let Some(c) = self.channels.get(&number)
            && c.peer != peer
        {
            return Err(ChannelError::Conflict);
        }
        if let Some(n) = self.channel_by_peer.get(&peer)
            && *n != number
        {
            return Err(ChannelError::Conflict);
        }
        if !self.channels.contains_key(&number) && self.channels.len() >= limit {
            return Err(ChannelError::Capacity);
        }
        Ok(())
    }

    /// Binds or refreshes a channel (after [`Allocation::check_channel`]).
    pub(crate) fn bind_channel(&mut self, number: u16, peer: SocketAddr, now: Instant) {
        self.channels.insert(
            number,
            Channel {
                peer,
                expires: now + CHANNEL_LIFETIME,
            },
        );
        self.channel_by_peer.insert(peer, number);
    }

    /// The next instant something of this allocation expires.
    pub(crate) fn next_deadline(&self) -> Instant {
        let perms = self.permissions.values().copied();
        let chans = self.channels.values().map(|c| c.expires + CHANNEL_COOLDOWN);
        perms.chain(chans).fold(self.expires, Instant::min)
    }

    /// Drops expired permissions and channel bindings whose cooldown ended.
    pub(crate) fn sweep(&mut self, now: Instant) {
        self.permissions.retain(|_, e| *e > now);
        let by_peer = &mut self.channel_by_peer;
        self.channels.retain(|_, c| {
            let keep = c.expires + CHANNEL_COOLDOWN > now;
            if !keep {
                by_peer.remove(&c.peer);
            }
            keep
        });
    }
}
