//! The request handlers of [`Server`]: Binding (with RFC 5780), and the authenticated TURN
//! requests Allocate, Refresh, CreatePermission and ChannelBind (RFC 8656 sections 7-12).

use std::collections::HashMap;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use rtcweb_stun::attributes::AddressFamily;
use rtcweb_stun::{
    Attribute, AttributeType, Class, ErrorCode, IntegrityKey, Message, MessageType, Method,
};

use crate::allocation::{Allocation, ChannelError, Identity};
use crate::auth::Reject;
use crate::bandwidth::Buckets;
use crate::metrics::{AuthFailure, QuotaRefusal, RequestKind};
use crate::server::{Pending, RESERVATION_LIFETIME, RequestInfo, Reservation, Server};
use crate::types::{Event, FiveTuple, Protocol};

const UDP: u8 = 17;

fn reason(code: u16) -> &'static str {
    match code {
        400 => "Bad Request",
        401 => "Unauthenticated",
        403 => "Forbidden",
        420 => "Unknown Attribute",
        437 => "Allocation Mismatch",
        438 => "Stale Nonce",
        440 => "Address Family not Supported",
        441 => "Wrong Credentials",
        442 => "Unsupported Protocol Protocol",
        443 => "Peer Address Family Mismatch",
        486 => "Allocation Quota Reached",
        508 => "Insufficient Capacity",
        _ => "Server Error",
    }
}

fn family_of(addr: &SocketAddr) -> AddressFamily {
    if addr.is_ipv4() {
        AddressFamily::V4
    } else {
        AddressFamily::V6
    }
}

impl Server {
    pub(crate) fn handle_request(&mut self, now: Instant, tuple: &FiveTuple, msg: &Message<&[u8]>) {
        let info = RequestInfo {
            method: msg.method(),
            tid: msg.transaction_id(),
            fingerprint: msg.has_fingerprint(),
            sha256: msg.has_integrity_sha256(),
        };
        self.counters.request(match info.method {
            Method::BINDING => RequestKind::Binding,
            Method::ALLOCATE => RequestKind::Allocate,
            Method::REFRESH => RequestKind::Refresh,
            Method::CREATE_PERMISSION => RequestKind::CreatePermission,
            Method::CHANNEL_BIND => RequestKind::ChannelBind,
            _ => RequestKind::Other,
        });
        match info.method {
            Method::BINDING => self.binding(tuple, msg, &info),
            Method::ALLOCATE
            | Method::REFRESH
            | Method::CREATE_PERMISSION
            | Method::CHANNEL_BIND => self.turn_request(now, tuple, msg, &info),
            _ => self.error(tuple, tuple.client, &info, 400, None),
        }
    }

    /// A 420 (Unknown Attribute) answer listing the comprehension-required attributes the
    /// request carried (RFC 8489 section 7.3.1), signed with `key` when the request was.
    fn unknown_attributes(
        &mut self,
        tuple: &FiveTuple,
        info: &RequestInfo,
        unknown: &[AttributeType],
        key: Option<&IntegrityKey>,
    ) {
        self.counters.error_response(420);
        let typ = MessageType::new(info.method, Class::ErrorResponse);
        let out = self.build(
            typ,
            info.tid,
            64,
            |b| {
                b.attribute(&Attribute::ErrorCode(ErrorCode {
                    code: 420,
                    reason: reason(420),
                }))?;
                b.unknown_attributes(unknown)
            },
            key.map(|k| (k, info.sha256)),
            info.fingerprint,
        );
        self.send_reply(tuple, tuple.server, tuple.client, out);
    }

    /// Sends an error response; 401 and 438 carry REALM and a fresh NONCE (and the
    /// password algorithms and OAuth server when configured).
    pub(crate) fn error(
        &mut self,
        tuple: &FiveTuple,
        to: SocketAddr,
        info: &RequestInfo,
        code: u16,
        key: Option<&IntegrityKey>,
    ) {
        self.counters.error_response(code);
        let challenge = code == 401 || code == 438;
        let nonce = challenge.then(|| self.auth.nonces.issue(self.unix_now_cached(), tuple));
        let realm = self.config.realm.clone();
        let tpa = self
            .config
            .third_party_authorization
            .clone()
            .filter(|_| !self.auth.auth.oauth_keys.is_empty());
        let algorithms = self.auth.algorithms();
        let typ = MessageType::new(info.method, Class::ErrorResponse);
        let sign = key.map(|k| (k, info.sha256));
        let out = self.build(
            typ,
            info.tid,
            realm.len() + 256,
            |b| {
                b.attribute(&Attribute::ErrorCode(ErrorCode {
                    code,
                    reason: reason(code),
                }))?;
                if let Some(n) = &nonce {
                    b.attribute(&Attribute::Realm(&realm))?;
                    b.attribute(&Attribute::Nonce(n))?;
                    if !algorithms.is_empty() {
                        b.password_algorithms(algorithms)?;
                    }
                    if let Some(t) = &tpa {
                        b.attribute(&Attribute::ThirdPartyAuthorization(t))?;
                    }
                }
                Ok(())
            },
            sign,
            info.fingerprint,
        );
        tracing::debug!(%tuple, method = ?info.method, code, "error response");
        self.send_reply(tuple, tuple.server, to, out);
    }

    fn send_reply(
        &mut self,
        tuple: &FiveTuple,
        from: SocketAddr,
        to: SocketAddr,
        data: Option<Vec<u8>>,
    ) {
        if let Some(data) = data {
            self.push_transmit(crate::types::Transmit {
                protocol: tuple.transport,
                source: from,
                destination: to,
                payload: data,
            });
        }
    }

    fn success(
        &mut self,
        tuple: &FiveTuple,
        info: &RequestInfo,
        key: &IntegrityKey,
        attrs: &[Attribute<'_>],
    ) {
        let typ = MessageType::new(info.method, Class::SuccessResponse);
        let out = self.build(
            typ,
            info.tid,
            attrs.iter().map(|a| a.value_len() + 8).sum(),
            |b| attrs.iter().try_for_each(|a| b.attribute(a)),
            Some((key, info.sha256)),
            info.fingerprint,
        );
        self.send_reply(tuple, tuple.server, tuple.client, out);
    }

    // The time used for nonces in `error`: set at the start of every request.
    fn unix_now_cached(&self) -> u64 {
        self.request_unix
    }

    // ---- Binding ------------------------------------------------------------------------

    fn binding(&mut self, tuple: &FiveTuple, msg: &Message<&[u8]>, info: &RequestInfo) {
        let rfc5780 = self.config.rfc5780;
        let mut unknown: Vec<AttributeType> =
            msg.unknown_comprehension_required().take(16).collect();
        let mut change = None;
        let mut response_port = None;
        for a in msg.attributes() {
            match a.typ {
                AttributeType::CHANGE_REQUEST | AttributeType::RESPONSE_PORT
                    if rfc5780.is_none() =>
                {
                    unknown.push(a.typ);
                }
                AttributeType::CHANGE_REQUEST => match msg.attribute(a.typ) {
                    Some(Ok(Attribute::ChangeRequest {
                        change_ip,
                        change_port,
                    })) => change = Some((change_ip, change_port)),
                    _ => return self.error(tuple, tuple.client, info, 400, None),
                },
                AttributeType::RESPONSE_PORT => match msg.attribute(a.typ) {
                    Some(Ok(Attribute::ResponsePort(p))) => response_port = Some(p),
                    _ => return self.error(tuple, tuple.client, info, 400, None),
                },
                _ => {}
            }
        }
        if !unknown.is_empty() {
            return self.unknown_attributes(tuple, info, &unknown, None);
        }
        // CHANGE-REQUEST and RESPONSE-PORT only make sense on datagrams.
        let udp = tuple.transport == Protocol::Udp;
        let source = match (rfc5780, change) {
            (Some(r), Some((ip, port))) if udp => {
                r.changed(tuple.server, ip, port).unwrap_or(tuple.server)
            }
            _ => tuple.server,
        };
        let to = match response_port {
            Some(p) if udp => SocketAddr::new(tuple.client.ip(), p),
            _ => tuple.client,
        };
        let other = rfc5780.and_then(|r| r.other_address(tuple.server));
        let typ = MessageType::new(Method::BINDING, Class::SuccessResponse);
        let out = self.build(
            typ,
            info.tid,
            96,
            |b| {
                b.attribute(&Attribute::XorMappedAddress(tuple.client))?;
                if rfc5780.is_some() {
                    // MAPPED-ADDRESS too, so RFC 5780 clients can tell whether an ALG rewrote
                    // addresses on the way.
                    b.attribute(&Attribute::MappedAddress(tuple.client))?;
                    b.attribute(&Attribute::ResponseOrigin(source))?;
                }
                if let Some(o) = other {
                    b.attribute(&Attribute::OtherAddress(o))?;
                }
                Ok(())
            },
            None,
            info.fingerprint,
        );
        self.send_reply(tuple, source, to, out);
    }

    // ---- TURN requests ------------------------------------------------------------------

    fn turn_request(
        &mut self,
        now: Instant,
        tuple: &FiveTuple,
        msg: &Message<&[u8]>,
        info: &RequestInfo,
    ) {
        self.request_unix = self.unix_time(now);
        let known = self.allocs.get(tuple).map(|a| &a.identity);
        let identity = match self.auth.authenticate(msg, tuple, self.request_unix, known) {
            Ok(id) => id,
            Err(reject) => {
                self.count_reject(tuple, msg, info, reject);
                return self.error(tuple, tuple.client, info, reject.code(), None);
            }
        };
        let key = identity.key.clone();
        // RFC 8656 section 5: later requests on an allocation use the credentials that made it.
        if self
            .allocs
            .get(tuple)
            .is_some_and(|a| a.identity.username != identity.username)
        {
            self.count_reject(
                tuple,
                msg,
                info,
                Reject::Failed(AuthFailure::WrongCredentials),
            );
            return self.error(tuple, tuple.client, info, 441, Some(&key));
        }
        let unknown: Vec<AttributeType> = msg.unknown_comprehension_required().take(16).collect();
        if !unknown.is_empty() {
            return self.unknown_attributes(tuple, info, &unknown, Some(&key));
        }
        let result = match info.method {
            Method::ALLOCATE => self.allocate(now, tuple, msg, info, identity),
            Method::REFRESH => self.refresh(now, tuple, msg, info),
            Method::CREATE_PERMISSION => self.create_permission(now, tuple, msg, info),
            _ => self.channel_bind(now, tuple, msg, info),
        };
        if let Err(code) = result {
            self.error(tuple, tuple.client, info, code, Some(&key));
        }
    }

    /// Counts and logs a request that did not authenticate.
    fn count_reject(
        &mut self,
        tuple: &FiveTuple,
        msg: &Message<&[u8]>,
        info: &RequestInfo,
        reject: Reject,
    ) {
        let why = match reject {
            Reject::Challenge => {
                self.counters.auth_challenges += 1;
                return;
            }
            Reject::Failed(why) => why,
        };
        self.counters.auth_failure(why);
        let user = match msg.attribute(AttributeType::USERNAME) {
            Some(Ok(Attribute::Username(u))) => u,
            _ => "",
        };
        // A stale nonce is routine (clients retry with the fresh one); the rest may be an
        // operator's business (a wrong password, an expired credential, probing).
        if why == AuthFailure::StaleNonce {
            tracing::debug!(client = %tuple, user, method = ?info.method, reason = why.label(), "authentication failed");
        } else {
            tracing::info!(client = %tuple, user, method = ?info.method, reason = why.label(), "authentication failed");
        }
    }

    /// Counts and logs a request refused for lack of room.
    fn refuse(&mut self, tuple: &FiveTuple, user: &str, why: QuotaRefusal) -> u16 {
        self.counters.quota_refusal(why);
        tracing::info!(client = %tuple, user, reason = why.label(), "quota reached");
        match why {
            QuotaRefusal::UserAllocations => 486,
            _ => 508,
        }
    }

    fn allocate(
        &mut self,
        now: Instant,
        tuple: &FiveTuple,
        msg: &Message<&[u8]>,
        info: &RequestInfo,
        identity: Identity,
    ) -> Result<(), u16> {
        if let Some(a) = self.allocs.get(tuple) {
            if a.allocate_tid != info.tid {
                return Err(437);
            }
            // A retransmission: answer it again.
            let (relay, left, token, key) = (
                a.relay,
                a.expires.saturating_duration_since(now),
                a.reservation_token,
                a.identity.key.clone(),
            );
            self.allocate_success(tuple, info, &key, relay, left, token, false);
            return Ok(());
        }
        if let Some((_, tid)) = self.pending_by_tuple.get(tuple) {
            // Still binding: the answer to the first copy will come.
            return if *tid == info.tid { Ok(()) } else { Err(437) };
        }
        match msg.attribute(AttributeType::REQUESTED_TRANSPORT) {
            None => return Err(400),
            Some(Ok(Attribute::RequestedTransport(UDP))) => {}
            Some(Ok(_)) => return Err(442),
            Some(Err(_)) => return Err(400),
        }
        let token = match msg.attribute(AttributeType::RESERVATION_TOKEN) {
            None => None,
            Some(Ok(Attribute::ReservationToken(t))) => Some(*t),
            Some(_) => return Err(400),
        };
        let even = match msg.attribute(AttributeType::EVEN_PORT) {
            None => None,
            Some(Ok(Attribute::EvenPort(r))) => Some(r),
            Some(_) => return Err(400),
        };
        let requested = match msg.attribute(AttributeType::REQUESTED_ADDRESS_FAMILY) {
            None => None,
            Some(Ok(Attribute::RequestedAddressFamily(f))) => Some(f),
            Some(_) => return Err(440),
        };
        let additional = msg.get(AttributeType::ADDITIONAL_ADDRESS_FAMILY).is_some();
        if token.is_some() && (even.is_some() || requested.is_some()) {
            return Err(400);
        }
        if requested.is_some() && additional {
            return Err(400);
        }
        let relay_ip = match requested.unwrap_or(AddressFamily::V4) {
            AddressFamily::V4 => self.config.relay_ipv4,
            AddressFamily::V6 => self.config.relay_ipv6,
        };
        let relay_ip = match (token, relay_ip) {
            (Some(_), _) => None,
            (None, Some(ip)) => Some(ip),
            (None, None) => return Err(440),
        };
        if self.users.allocations(&identity.username) >= self.config.max_allocations_per_user {
            return Err(self.refuse(tuple, &identity.username, QuotaRefusal::UserAllocations));
        }
        let in_use = self.allocs.len() + self.pending.len() + self.reservations.len();
        if in_use >= self.config.max_allocations && token.is_none() {
            return Err(self.refuse(tuple, &identity.username, QuotaRefusal::TotalAllocations));
        }
        let lifetime = self.granted_lifetime(msg, true);
        let family_error = additional && self.config.relay_ipv6.is_none();
        self.users
            .acquire(&identity.username, now, self.config.user_bandwidth);
        if let Some(token) = token {
            let Some(r) = self.reservations.remove(&token) else {
                self.user_release(&identity.username);
                return Err(508);
            };
            let p = Pending {
                tuple: *tuple,
                request: *info,
                identity,
                lifetime,
                addr: r.addr,
                reserve: None,
                even: false,
                attempts: 0,
                cancelled: false,
                family_error,
            };
            self.finish_allocation(now, p);
            return Ok(());
        }
        let even_port = even.is_some();
        let reserve_next = even == Some(true);
        let Some((addr, reserve)) =
            relay_ip.and_then(|ip| self.pick_relay(ip, even_port, reserve_next))
        else {
            self.user_release(&identity.username);
            return Err(self.refuse(tuple, &identity.username, QuotaRefusal::RelayPorts));
        };
        let p = Pending {
            tuple: *tuple,
            request: *info,
            identity,
            lifetime,
            addr,
            reserve,
            even: even_port,
            attempts: 0,
            cancelled: false,
            family_error,
        };
        self.request_bind(p);
        Ok(())
    }

    /// The relay is bound: make the allocation and answer the Allocate.
    pub(crate) fn finish_allocation(&mut self, now: Instant, p: Pending) {
        let token = p.reserve.map(|addr| {
            let mut t = [0u8; 8];
            self.rng.fill(&mut t);
            self.reservations.insert(
                t,
                Reservation {
                    addr,
                    expires: now + RESERVATION_LIFETIME,
                },
            );
            self.schedule_reservation(t, now + RESERVATION_LIFETIME);
            t
        });
        let expires = now + p.lifetime;
        let key = p.identity.key.clone();
        let username = p.identity.username.clone();
        // The user's entry was made when the Allocate was accepted and stays while any of its
        // allocations (this one included) is pending or live.
        let user = self.users.slot(&username).unwrap_or(usize::MAX);
        let alloc = Allocation {
            relay: p.addr,
            identity: p.identity,
            expires,
            allocate_tid: p.request.tid,
            reservation_token: token,
            permissions: HashMap::new(),
            channels: HashMap::new(),
            channel_by_peer: HashMap::new(),
            scheduled: expires,
            bandwidth: self
                .config
                .allocation_bandwidth
                .map(|l| Buckets::new(l, now)),
            user,
        };
        self.allocs.insert(p.tuple, alloc);
        self.by_relay.insert(p.addr, p.tuple);
        self.schedule_new(p.tuple, expires);
        self.counters.allocations_created += 1;
        tracing::debug!(client = %p.tuple, relay = %p.addr, user = %username, "allocation created");
        self.push_event(Event::AllocationCreated {
            tuple: p.tuple,
            relay: p.addr,
            username,
        });
        self.allocate_success(
            &p.tuple,
            &p.request,
            &key,
            p.addr,
            p.lifetime,
            token,
            p.family_error,
        );
    }

    #[allow(clippy::too_many_arguments)]
    fn allocate_success(
        &mut self,
        tuple: &FiveTuple,
        info: &RequestInfo,
        key: &IntegrityKey,
        relay: SocketAddr,
        lifetime: Duration,
        token: Option<[u8; 8]>,
        family_error: bool,
    ) {
        let lifetime = u32::try_from(lifetime.as_secs()).unwrap_or(u32::MAX);
        let mut attrs = vec![
            Attribute::XorRelayedAddress(relay),
            Attribute::Lifetime(lifetime),
            Attribute::XorMappedAddress(tuple.client),
        ];
        let token_ref;
        if let Some(t) = token {
            token_ref = t;
            attrs.push(Attribute::ReservationToken(&token_ref));
        }
        if family_error {
            attrs.push(Attribute::AddressErrorCode(
                AddressFamily::V6,
                ErrorCode {
                    code: 440,
                    reason: reason(440),
                },
            ));
        }
        self.success(tuple, info, key, &attrs);
    }

    /// LIFETIME asked for, bounded by the maximum; for Allocate never below the default.
    fn granted_lifetime(&self, msg: &Message<&[u8]>, allocate: bool) -> Duration {
        let asked = match msg.attribute(AttributeType::LIFETIME) {
            Some(Ok(Attribute::Lifetime(s))) => Duration::from_secs(u64::from(s)),
            _ => self.config.default_lifetime,
        };
        let granted = asked.min(self.config.max_lifetime);
        if allocate {
            granted.max(self.config.default_lifetime)
        } else {
            granted
        }
    }

    fn refresh(
        &mut self,
        now: Instant,
        tuple: &FiveTuple,
        msg: &Message<&[u8]>,
        info: &RequestInfo,
    ) -> Result<(), u16> {
        let lifetime = self.granted_lifetime(msg, false);
        let Some(a) = self.allocs.get_mut(tuple) else {
            return Err(437);
        };
        if let Some(Ok(Attribute::RequestedAddressFamily(f))) =
            msg.attribute(AttributeType::REQUESTED_ADDRESS_FAMILY)
            && f != family_of(&a.relay)
        {
            return Err(443);
        }
        let key = a.identity.key.clone();
        if lifetime.is_zero() {
            self.delete(tuple, crate::types::DeleteReason::Deallocated);
        } else {
            a.expires = now + lifetime;
        }
        let secs = u32::try_from(lifetime.as_secs()).unwrap_or(u32::MAX);
        self.success(tuple, info, &key, &[Attribute::Lifetime(secs)]);
        Ok(())
    }

    /// Checks a peer address against the allocation's family and the policy: 443 or 403.
    fn check_peer(&self, relay: &SocketAddr, peer: &SocketAddr) -> Result<(), u16> {
        if peer.is_ipv4() != relay.is_ipv4() {
            return Err(443);
        }
        if !self.config.peer_policy.allows(peer.ip()) {
            tracing::debug!(%peer, "peer denied by policy");
            return Err(403);
        }
        Ok(())
    }

    fn create_permission(
        &mut self,
        now: Instant,
        tuple: &FiveTuple,
        msg: &Message<&[u8]>,
        info: &RequestInfo,
    ) -> Result<(), u16> {
        let Some(a) = self.allocs.get(tuple) else {
            return Err(437);
        };
        let relay = a.relay;
        let mut peers = Vec::new();
        let tid = msg.transaction_id();
        for raw in msg
            .attributes()
            .filter(|r| r.typ == AttributeType::XOR_PEER_ADDRESS)
            .take(64)
        {
            match Attribute::parse(raw.typ, raw.value, &tid) {
                Ok(Attribute::XorPeerAddress(p)) => peers.push(p),
                _ => return Err(400),
            }
        }
        if peers.is_empty() {
            return Err(400);
        }
        for p in &peers {
            self.check_peer(&relay, p)?;
        }
        let limit = self.config.max_permissions;
        let Some(a) = self.allocs.get_mut(tuple) else {
            return Err(437);
        };
        let new = peers
            .iter()
            .filter(|p| !a.permissions.contains_key(&p.ip()))
            .count();
        if a.permissions.len() + new > limit {
            let user = a.identity.username.clone();
            return Err(self.refuse(tuple, &user, QuotaRefusal::Permissions));
        }
        for p in &peers {
            a.permit(p.ip(), now, limit);
        }
        let key = a.identity.key.clone();
        self.schedule(*tuple);
        self.success(tuple, info, &key, &[]);
        Ok(())
    }

    fn channel_bind(
        &mut self,
        now: Instant,
        tuple: &FiveTuple,
        msg: &Message<&[u8]>,
        info: &RequestInfo,
    ) -> Result<(), u16> {
        let Some(a) = self.allocs.get(tuple) else {
            return Err(437);
        };
        let relay = a.relay;
        let number = match msg.attribute(AttributeType::CHANNEL_NUMBER) {
            Some(Ok(Attribute::ChannelNumber(n)))
                if crate::channel::valid(n, self.config.rfc5766_channel_numbers) =>
            {
                n
            }
            _ => return Err(400),
        };
        let peer = match msg.attribute(AttributeType::XOR_PEER_ADDRESS) {
            Some(Ok(Attribute::XorPeerAddress(p))) => p,
            _ => return Err(400),
        };
        self.check_peer(&relay, &peer)?;
        let (perm_limit, chan_limit) = (self.config.max_permissions, self.config.max_channels);
        let Some(a) = self.allocs.get_mut(tuple) else {
            return Err(437);
        };
        match a.check_channel(number, peer, chan_limit) {
            Err(ChannelError::Conflict) => {
                tracing::debug!(%tuple, number, %peer, "channel number or peer bound elsewhere");
                return Err(400);
            }
            Err(ChannelError::Capacity) => {
                let user = a.identity.username.clone();
                return Err(self.refuse(tuple, &user, QuotaRefusal::Channels));
            }
            Ok(()) => {}
        }
        if !a.permit(peer.ip(), now, perm_limit) {
            let user = a.identity.username.clone();
            return Err(self.refuse(tuple, &user, QuotaRefusal::Permissions));
        }
        a.bind_channel(number, peer, now);
        let key = a.identity.key.clone();
        self.schedule(*tuple);
        self.success(tuple, info, &key, &[]);
        Ok(())
    }
}
