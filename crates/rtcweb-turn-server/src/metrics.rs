//! What an operator watches: counters the server keeps as plain integers (no I/O, no atomics:
//! the server is driven from one thread) and a [`Metrics`] snapshot with the gauges computed
//! at the time asked. The driver exports them (the `turn-server` binary serves them in
//! Prometheus' text format).
//!
//! Accounting of relayed traffic: one packet is one datagram handed to the driver for a peer
//! (client data leaving a relayed address) or for a client (peer data arriving on a relayed
//! address, sent on as ChannelData or a Data indication); its bytes are the application
//! payload only, without the ChannelData header, padding or Data indication around it. So a
//! client that sends N messages of L octets through a relay that delivers them all shows as N
//! packets and N * L bytes `to_peer`.

use crate::types::{DeleteReason, Protocol};

/// Declares a label enum: its variants, their label text and `ALL` in index order.
macro_rules! label_enum {
    ($(#[$m:meta])* $name:ident { $($(#[$vm:meta])* $v:ident => $label:literal,)+ }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $name { $($(#[$vm])* $v,)+ }

        impl $name {
            /// Every value, in the order of their counters.
            pub const ALL: &'static [$name] = &[$($name::$v,)+];
            const COUNT: usize = [$($label,)+].len();

            /// The label value in exported metrics (`snake_case`).
            pub fn label(self) -> &'static str {
                match self { $($name::$v => $label,)+ }
            }
        }
    };
}

label_enum! {
    /// The method of a STUN/TURN request, as counted.
    RequestKind {
        /// Binding (with or without RFC 5780 attributes).
        Binding => "binding",
        /// Allocate.
        Allocate => "allocate",
        /// Refresh.
        Refresh => "refresh",
        /// CreatePermission.
        CreatePermission => "create_permission",
        /// ChannelBind.
        ChannelBind => "channel_bind",
        /// Any other method (answered with 400).
        Other => "other",
    }
}

label_enum! {
    /// Why an authenticated request was refused. A first request without credentials is not
    /// a failure (it is the normal 401 challenge, counted in
    /// [`Metrics::auth_challenges`]).
    AuthFailure {
        /// USERNAME, REALM or NONCE missing or malformed, or a PASSWORD-ALGORITHM(S) mismatch
        /// (400).
        BadRequest => "bad_request",
        /// The nonce is too old or was given to another address (438).
        StaleNonce => "stale_nonce",
        /// The REALM is not ours (401).
        WrongRealm => "wrong_realm",
        /// No user of that name, and the name is no current REST username (401).
        UnknownUser => "unknown_user",
        /// The MESSAGE-INTEGRITY does not verify with the user's key (or with any REST secret
        /// in force) (401).
        WrongPassword => "wrong_password",
        /// A REST username past its expiry or an OAuth token past its lifetime (401).
        Expired => "expired",
        /// An ACCESS-TOKEN that does not decrypt with the key of its kid, or an unknown kid
        /// (401).
        BadToken => "bad_token",
        /// Valid credentials of another user than the one that made the allocation (441).
        WrongCredentials => "wrong_credentials",
    }
}

label_enum! {
    /// Why a request was refused for lack of room.
    QuotaRefusal {
        /// The user has `max_allocations_per_user` allocations already (486).
        UserAllocations => "user_allocations",
        /// The server has `max_allocations` already (508).
        TotalAllocations => "total_allocations",
        /// No free relay port, or the driver could not bind one (508).
        RelayPorts => "relay_ports",
        /// `max_permissions` reached on the allocation (508).
        Permissions => "permissions",
        /// `max_channels` reached on the allocation (508).
        Channels => "channels",
    }
}

label_enum! {
    /// Which way relayed data goes.
    Direction {
        /// From a client, out of its relayed address, to a peer.
        ToPeer => "to_peer",
        /// From a peer, into a relayed address, to the client.
        ToClient => "to_client",
    }
}

label_enum! {
    /// Which bandwidth limit dropped a datagram.
    LimitScope {
        /// The allocation's own limit ([`crate::ServerConfig::allocation_bandwidth`]).
        Allocation => "allocation",
        /// The limit shared by all allocations of a user
        /// ([`crate::ServerConfig::user_bandwidth`]).
        User => "user",
    }
}

/// Error codes counted one by one; any other code is counted under 0.
pub const COUNTED_ERROR_CODES: &[u16] =
    &[400, 401, 403, 420, 437, 438, 440, 441, 442, 443, 486, 508];
const ERROR_SLOTS: usize = 13;

const DELETE_REASONS: [DeleteReason; 3] = [
    DeleteReason::Deallocated,
    DeleteReason::Expired,
    DeleteReason::ConnectionClosed,
];

fn delete_index(r: DeleteReason) -> usize {
    match r {
        DeleteReason::Deallocated => 0,
        DeleteReason::Expired => 1,
        DeleteReason::ConnectionClosed => 2,
    }
}

/// The label of a [`DeleteReason`] in exported metrics.
pub fn delete_reason_label(r: DeleteReason) -> &'static str {
    match r {
        DeleteReason::Deallocated => "deallocated",
        DeleteReason::Expired => "expired",
        DeleteReason::ConnectionClosed => "connection_closed",
    }
}

/// The server's running counters (all monotonic).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Counters {
    pub requests: [u64; RequestKind::COUNT],
    pub error_responses: [u64; ERROR_SLOTS],
    pub auth_challenges: u64,
    pub auth_failures: [u64; AuthFailure::COUNT],
    pub quota_refusals: [u64; QuotaRefusal::COUNT],
    pub relayed_packets: [u64; Direction::COUNT],
    pub relayed_bytes: [u64; Direction::COUNT],
    /// By [`LimitScope`], then [`Direction`].
    pub limited_packets: [[u64; Direction::COUNT]; LimitScope::COUNT],
    pub limited_bytes: [[u64; Direction::COUNT]; LimitScope::COUNT],
    pub allocations_created: u64,
    pub allocations_deleted: [u64; 3],
    pub auth_reloads: u64,
}

impl Counters {
    pub fn request(&mut self, k: RequestKind) {
        self.requests[k as usize] += 1;
    }

    pub fn error_response(&mut self, code: u16) {
        let slot = COUNTED_ERROR_CODES
            .iter()
            .position(|c| *c == code)
            .unwrap_or(ERROR_SLOTS - 1);
        self.error_responses[slot] += 1;
    }

    pub fn auth_failure(&mut self, r: AuthFailure) {
        self.auth_failures[r as usize] += 1;
    }

    pub fn quota_refusal(&mut self, r: QuotaRefusal) {
        self.quota_refusals[r as usize] += 1;
    }

    /// One datagram of `bytes` payload octets handed to the driver.
    #[inline]
    pub fn relayed(&mut self, d: Direction, bytes: usize) {
        self.relayed_packets[d as usize] += 1;
        self.relayed_bytes[d as usize] += bytes as u64;
    }

    /// One datagram of `bytes` payload octets dropped by a bandwidth limit.
    pub fn limited(&mut self, scope: LimitScope, d: Direction, bytes: usize) {
        self.limited_packets[scope as usize][d as usize] += 1;
        self.limited_bytes[scope as usize][d as usize] += bytes as u64;
    }

    pub fn deleted(&mut self, r: DeleteReason) {
        self.allocations_deleted[delete_index(r)] += 1;
    }
}

/// A snapshot of the server's counters and gauges ([`crate::Server::metrics`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Metrics {
    pub(crate) counters: Counters,
    /// Live allocations over UDP, TCP and TLS (index: [`Metrics::TRANSPORTS`]).
    pub(crate) allocations: [usize; 3],
    /// Allocate requests authenticated and waiting for the driver to bind their relay.
    pub pending_allocations: usize,
    /// Ports held for a RESERVATION-TOKEN.
    pub reservations: usize,
    /// Permissions in force, over all allocations.
    pub permissions: usize,
    /// Channel bindings in force, over all allocations.
    pub channels: usize,
    /// Users with at least one allocation (pending ones included).
    pub users: usize,
    /// Datagrams queued for the driver.
    pub queued_transmits: usize,
    /// Datagrams dropped because the transmit queue was full.
    pub dropped_transmits: u64,
    /// Informational events dropped because the event queue was full.
    pub dropped_events: u64,
    /// Input dropped: malformed, no allocation, no permission, no channel...
    pub dropped_input: u64,
}

fn transport_index(t: Protocol) -> usize {
    match t {
        Protocol::Udp => 0,
        Protocol::Tcp => 1,
        Protocol::Tls => 2,
    }
}

impl Metrics {
    /// The client transports allocations are counted by.
    pub const TRANSPORTS: [Protocol; 3] = [Protocol::Udp, Protocol::Tcp, Protocol::Tls];
    /// Why allocations end, in the order [`Metrics::allocations_deleted`] is kept.
    pub const DELETE_REASONS: [DeleteReason; 3] = DELETE_REASONS;

    pub(crate) fn count_allocation(&mut self, t: Protocol) {
        self.allocations[transport_index(t)] += 1;
    }

    /// Live allocations of clients over `transport`.
    pub fn allocations(&self, transport: Protocol) -> usize {
        self.allocations[transport_index(transport)]
    }

    /// Live allocations, all transports.
    pub fn allocations_total(&self) -> usize {
        self.allocations.iter().sum()
    }

    /// Requests received, by method.
    pub fn requests(&self, kind: RequestKind) -> u64 {
        self.counters.requests[kind as usize]
    }

    /// Error responses sent with `code` (0: every code outside [`COUNTED_ERROR_CODES`]).
    pub fn error_responses(&self, code: u16) -> u64 {
        let slot = COUNTED_ERROR_CODES
            .iter()
            .position(|c| *c == code)
            .unwrap_or(ERROR_SLOTS - 1);
        self.counters.error_responses[slot]
    }

    /// 401 challenges to requests that carried no credentials (the normal first round).
    pub fn auth_challenges(&self) -> u64 {
        self.counters.auth_challenges
    }

    /// Requests refused because their credentials did not authenticate, by reason.
    pub fn auth_failures(&self, reason: AuthFailure) -> u64 {
        self.counters.auth_failures[reason as usize]
    }

    /// Requests refused for lack of room, by reason.
    pub fn quota_refusals(&self, reason: QuotaRefusal) -> u64 {
        self.counters.quota_refusals[reason as usize]
    }

    /// Datagrams relayed (handed to the driver) in `direction`.
    pub fn relayed_packets(&self, direction: Direction) -> u64 {
        self.counters.relayed_packets[direction as usize]
    }

    /// Payload octets relayed in `direction` (see the module docs for what is counted).
    pub fn relayed_bytes(&self, direction: Direction) -> u64 {
        self.counters.relayed_bytes[direction as usize]
    }

    /// Datagrams dropped by the bandwidth limit of `scope` in `direction`.
    pub fn bandwidth_dropped_packets(&self, scope: LimitScope, direction: Direction) -> u64 {
        self.counters.limited_packets[scope as usize][direction as usize]
    }

    /// Payload octets of the datagrams dropped by the limit of `scope` in `direction`.
    pub fn bandwidth_dropped_bytes(&self, scope: LimitScope, direction: Direction) -> u64 {
        self.counters.limited_bytes[scope as usize][direction as usize]
    }

    /// Allocations made since start.
    pub fn allocations_created(&self) -> u64 {
        self.counters.allocations_created
    }

    /// Allocations ended since start, by reason.
    pub fn allocations_deleted(&self, reason: DeleteReason) -> u64 {
        self.counters.allocations_deleted[delete_index(reason)]
    }

    /// How many times the credentials were replaced ([`crate::Server::set_auth`]).
    pub fn auth_reloads(&self) -> u64 {
        self.counters.auth_reloads
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_codes_outside_the_list_share_one_slot() {
        let mut c = Counters::default();
        c.error_response(401);
        c.error_response(401);
        c.error_response(500);
        c.error_response(599);
        let m = Metrics {
            counters: c,
            ..Metrics::default()
        };
        assert_eq!(m.error_responses(401), 2);
        assert_eq!(m.error_responses(0), 2);
        assert_eq!(
            m.error_responses(500),
            2,
            "uncounted codes read the shared slot"
        );
        assert_eq!(m.error_responses(486), 0);
        assert_eq!(COUNTED_ERROR_CODES.len() + 1, ERROR_SLOTS);
    }

    #[test]
    fn labels_are_distinct_and_in_index_order() {
        for (i, k) in RequestKind::ALL.iter().enumerate() {
            assert_eq!(*k as usize, i);
        }
        for (i, k) in AuthFailure::ALL.iter().enumerate() {
            assert_eq!(*k as usize, i);
        }
        for (i, k) in QuotaRefusal::ALL.iter().enumerate() {
            assert_eq!(*k as usize, i);
        }
        let mut labels: Vec<_> = AuthFailure::ALL.iter().map(|a| a.label()).collect();
        labels.sort_unstable();
        labels.dedup();
        assert_eq!(labels.len(), AuthFailure::ALL.len());
        for (i, r) in Metrics::DELETE_REASONS.iter().enumerate() {
            assert_eq!(delete_index(*r), i);
        }
    }

    #[test]
    fn relayed_counts_packets_and_payload_bytes_per_direction() {
        let mut c = Counters::default();
        c.relayed(Direction::ToPeer, 120);
        c.relayed(Direction::ToPeer, 80);
        c.relayed(Direction::ToClient, 5);
        c.limited(LimitScope::User, Direction::ToClient, 1000);
        let m = Metrics {
            counters: c,
            ..Metrics::default()
        };
        assert_eq!(m.relayed_packets(Direction::ToPeer), 2);
        assert_eq!(m.relayed_bytes(Direction::ToPeer), 200);
        assert_eq!(m.relayed_packets(Direction::ToClient), 1);
        assert_eq!(m.relayed_bytes(Direction::ToClient), 5);
        assert_eq!(
            m.bandwidth_dropped_bytes(LimitScope::User, Direction::ToClient),
            1000
        );
        assert_eq!(
            m.bandwidth_dropped_packets(LimitScope::Allocation, Direction::ToClient),
            0
        );
    }
}
