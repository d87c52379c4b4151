//! What the TURN client holds in each state of its allocation.
//!
//! A value lives in the state where it means something, so that no method has to re-check a
//! flag against an `Option`: the redirection count exists only while allocating, the capacity
//! back-off only while idle, and the relayed address, permissions and channels only while an
//! allocation exists (allocated, or being released).

use std::collections::BTreeMap;
use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

use rtcweb_stun::channel_data::{CHANNEL_MAX, CHANNEL_MIN};

use super::{AllocationState, CHANNEL_REFRESH, PERMISSION_REFRESH};

/// The client's state, with what exists in it.
#[derive(Debug)]
pub(super) enum Phase {
    /// No allocation: none asked for yet, or the last attempt failed. After 508 Insufficient
    /// Capacity, no Allocate before `backoff_until` (RFC 8656 section 7.4).
    Idle { backoff_until: Option<Instant> },
    /// An Allocate is out; `redirects` counts the 300 Try Alternate followed in this attempt.
    Allocating { redirects: u32 },
    /// Allocated and refreshed automatically.
    Allocated(Allocation),
    /// Refresh with LIFETIME 0 sent: the allocation still relays (data from peers is still
    /// delivered) until the answer, but nothing new uses or refreshes it.
    Deallocating(Allocation),
    /// Released or lost; the client is done.
    Closed,
}

impl Phase {
    /// The state the API reports.
    pub(super) fn state(&self) -> AllocationState {
        match self {
            Phase::Idle { .. } => AllocationState::Idle,
            Phase::Allocating { .. } => AllocationState::Allocating,
            Phase::Allocated(_) => AllocationState::Allocated,
            Phase::Deallocating(_) => AllocationState::Deallocating,
            Phase::Closed => AllocationState::Closed,
        }
    }

    /// The allocation while one exists on the server (allocated or being released).
    pub(super) fn allocation(&self) -> Option<&Allocation> {
        match self {
            Phase::Allocated(a) | Phase::Deallocating(a) => Some(a),
            _ => None,
        }
    }

    /// [`Phase::allocation`], mutably.
    pub(super) fn allocation_mut(&mut self) -> Option<&mut Allocation> {
        match self {
            Phase::Allocated(a) | Phase::Deallocating(a) => Some(a),
            _ => None,
        }
    }

    /// The allocation if new requests may use it (allocated, not being released).
    pub(super) fn allocated(&self) -> Option<&Allocation> {
        match self {
            Phase::Allocated(a) => Some(a),
            _ => None,
        }
    }

    /// [`Phase::allocated`], mutably.
    pub(super) fn allocated_mut(&mut self) -> Option<&mut Allocation> {
        match self {
            Phase::Allocated(a) => Some(a),
            _ => None,
        }
    }

    /// Allocated becomes Deallocating, keeping the allocation; any other state is left alone
    /// and `false` returned.
    pub(super) fn start_deallocating(&mut self) -> bool {
        match std::mem::replace(self, Phase::Closed) {
            Phase::Allocated(a) => {
                *self = Phase::Deallocating(a);
                true
            }
            other => {
                *self = other;
                false
            }
        }
    }
}

/// One allocation on the server and what hangs off it.
#[derive(Debug)]
pub(super) struct Allocation {
    /// XOR-RELAYED-ADDRESS.
    pub(super) relayed: SocketAddr,
    /// When the server forgets it without a refresh.
    pub(super) expires: Instant,
    /// When the client refreshes it.
    pub(super) refresh_at: Instant,
    pub(super) permissions: BTreeMap<IpAddr, Permission>,
    pub(super) channels: BTreeMap<u16, Channel>,
    /// Where the search for a free channel number starts.
    next_channel: u16,
}

#[derive(Debug, Default)]
pub(super) struct Permission {
    /// The server confirmed it at least once.
    pub(super) installed: bool,
    /// `None` while a (re)install is out.
    pub(super) refresh_at: Option<Instant>,
}

#[derive(Debug)]
pub(super) struct Channel {
    pub(super) peer: SocketAddr,
    /// The server confirmed the binding at least once.
    pub(super) confirmed: bool,
    /// `None` while a (re)bind is out.
    pub(super) refresh_at: Option<Instant>,
}

impl Allocation {
    /// A fresh allocation granted for `lifetime` at `now`, with no permission or channel yet.
    pub(super) fn new(relayed: SocketAddr, now: Instant, lifetime: Duration) -> Self {
        let mut allocation = Allocation {
            relayed,
            expires: now,
            refresh_at: now,
            permissions: BTreeMap::new(),
            channels: BTreeMap::new(),
            next_channel: CHANNEL_MIN,
        };
        allocation.refreshed(now, lifetime);
        allocation
    }

    /// The server granted `lifetime` more at `now`.
    pub(super) fn refreshed(&mut self, now: Instant, lifetime: Duration) {
        self.expires = now + lifetime;
        self.refresh_at = now + refresh_after(lifetime);
    }

    /// The confirmed channel to `peer`.
    pub(super) fn channel_for(&self, peer: SocketAddr) -> Option<u16> {
        self.channels
            .iter()
            .find(|(_, c)| c.peer == peer && c.confirmed)
            .map(|(n, _)| *n)
    }

    /// The channel to `peer`, confirmed or not.
    pub(super) fn channel_to(&self, peer: SocketAddr) -> Option<u16> {
        self.channels
            .iter()
            .find(|(_, c)| c.peer == peer)
            .map(|(n, _)| *n)
    }

    /// A channel number not in use, searching round-robin from the last one handed out.
    pub(super) fn free_channel(&mut self) -> Option<u16> {
        let span = usize::from(CHANNEL_MAX - CHANNEL_MIN) + 1;
        for _ in 0..span {
            let n = self.next_channel;
            self.next_channel = if n >= CHANNEL_MAX { CHANNEL_MIN } else { n + 1 };
            if !self.channels.contains_key(&n) {
                return Some(n);
            }
        }
        None
    }

    /// The server confirmed the permission for `peer`; returns whether it is the first time.
    pub(super) fn permission_installed(&mut self, now: Instant, peer: IpAddr) -> bool {
        let Some(p) = self.permissions.get_mut(&peer) else {
            return false;
        };
        let first = !p.installed;
        p.installed = true;
        p.refresh_at = Some(now + PERMISSION_REFRESH);
        first
    }

    /// The server confirmed `channel` to `peer`; returns whether it is the first time.
    pub(super) fn channel_bound(&mut self, now: Instant, channel: u16, peer: SocketAddr) -> bool {
        let Some(c) = self.channels.get_mut(&channel) else {
            return false;
        };
        let first = !c.confirmed;
        c.confirmed = true;
        c.refresh_at = Some(now + CHANNEL_REFRESH);
        // The binding installed a permission too (RFC 8656 section 12).
        let p = self.permissions.entry(peer.ip()).or_default();
        if !p.installed {
            p.installed = true;
            p.refresh_at = Some(now + PERMISSION_REFRESH);
        }
        first
    }

    /// Permissions whose refresh is due at `now`.
    pub(super) fn due_permissions(&self, now: Instant) -> Vec<IpAddr> {
        self.permissions
            .iter()
            .filter(|(_, p)| p.refresh_at.is_some_and(|t| now >= t))
            .map(|(ip, _)| *ip)
            .collect()
    }

    /// Channels whose refresh is due at `now`, with their peers.
    pub(super) fn due_channels(&self, now: Instant) -> Vec<(u16, SocketAddr)> {
        self.channels
            .iter()
            .filter(|(_, c)| c.refresh_at.is_some_and(|t| now >= t))
            .map(|(n, c)| (*n, c.peer))
            .collect()
    }

    /// The earliest permission or channel refresh.
    pub(super) fn next_refresh(&self) -> Option<Instant> {
        let permissions = self.permissions.values().filter_map(|p| p.refresh_at);
        let channels = self.channels.values().filter_map(|c| c.refresh_at);
        permissions.chain(channels).min()
    }
}

/// When to refresh an allocation of `lifetime`: a minute early, or half-way if shorter.
fn refresh_after(lifetime: Duration) -> Duration {
    if lifetime >= Duration::from_secs(120) {
        lifetime - Duration::from_secs(60)
    } else {
        lifetime / 2
    }
}
