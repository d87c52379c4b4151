//! Hosts, NAT boxes and address realms, and how a datagram travels between them.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

use crate::link::{DropReason, LinkParams, LinkState};
use crate::nat::{NatConfig, NatTable};
use crate::trace::{Trace, TraceEvent, TraceKind};
use rtcweb_core::{Protocol, Rng, Transmit};

/// A host: something that sends and receives datagrams.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct HostId(pub(crate) usize);

/// A NAT box between an inside realm and an outside realm.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NatId(pub(crate) usize);

/// An address realm: a network in which addresses are unique (the public internet, or the
/// private side of one NAT).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RealmId(pub(crate) usize);

/// Anything with an access link: a host, or a NAT (whose link is on its outside).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Node {
    /// A host's link to its realm.
    Host(HostId),
    /// A NAT's link to its outside realm.
    Nat(NatId),
}

#[derive(Debug, Clone, Copy)]
enum Owner {
    Host(HostId),
    /// The external address of a NAT whose outside is this realm.
    NatExternal(NatId),
}

#[derive(Debug, Default)]
struct Realm {
    /// The NAT whose inside this realm is; `None` for the internet.
    upstream: Option<NatId>,
    owners: HashMap<IpAddr, Owner>,
}

#[derive(Debug)]
struct Access {
    up: LinkState,
    down: LinkState,
}

impl Access {
    fn perfect() -> Self {
        Self {
            up: LinkState::default(),
            down: LinkState::default(),
        }
    }
}

#[derive(Debug)]
struct Host {
    name: String,
    realm: RealmId,
    addrs: Vec<IpAddr>,
    link: Access,
}

#[derive(Debug)]
struct Nat {
    table: NatTable,
    inside: RealmId,
    outside: RealmId,
    link: Access,
}

#[derive(Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Pending {
    at: Instant,
    seq: u64,
    host: HostId,
    from: SocketAddr,
    to: SocketAddr,
    payload: Vec<u8>,
}

/// Longest chain of NATs a datagram may cross before it is treated as a routing loop.
const MAX_HOPS: usize = 16;

/// The simulated network: realms, hosts, NATs and datagrams in flight.
///
/// A datagram's whole path (losses, NAT translations, delays) is decided when it is sent;
/// it is then delivered at the computed instant. Nothing here reads a clock: `now` is always
/// a parameter.
///
/// ```
/// use std::time::{Duration, Instant};
/// use rtcweb_netsim::{LinkParams, Network, Node, Transmit};
///
/// let start = Instant::now();
/// let mut net = Network::new(start, 1);
/// let internet = net.internet();
/// let a = net.add_host("a", internet, &["198.51.100.1".parse().unwrap()]);
/// let b = net.add_host("b", internet, &["198.51.100.2".parse().unwrap()]);
/// net.set_link(Node::Host(a), LinkParams::with_latency(Duration::from_millis(10)));
/// net.send(start, a, Transmit {
///     source: "198.51.100.1:1000".parse().unwrap(),
///     destination: "198.51.100.2:2000".parse().unwrap(),
///     protocol: Default::default(),
///     payload: b"hi".to_vec(),
/// });
/// assert_eq!(net.next_delivery(), Some(start + Duration::from_millis(10)));
/// let (host, d) = net.poll_delivery(start + Duration::from_millis(10)).unwrap();
/// assert_eq!((host, d.payload.as_slice()), (b, &b"hi"[..]));
/// ```
#[derive(Debug)]
pub struct Network {
    start: Instant,
    rng: Rng,
    realms: Vec<Realm>,
    hosts: Vec<Host>,
    nats: Vec<Nat>,
    queue: BinaryHeap<Reverse<Pending>>,
    seq: u64,
    trace: Trace,
}

impl Network {
    /// An empty network with only the public realm. `start` is the virtual epoch (trace
    /// times are relative to it); `seed` determines every random choice.
    pub fn new(start: Instant, seed: u64) -> Self {
        Self {
            start,
            rng: Rng::new(seed),
            realms: vec![Realm::default()],
            hosts: Vec::new(),
            nats: Vec::new(),
            queue: BinaryHeap::new(),
            seq: 0,
            trace: Trace::default(),
        }
    }

    /// The public realm every network starts with.
    pub fn internet(&self) -> RealmId {
        RealmId(0)
    }

    /// The virtual epoch given to [`Network::new`].
    pub fn start(&self) -> Instant {
        self.start
    }

    /// Adds a host with the given addresses (IPv4 and/or IPv6) to `realm`.
    ///
    /// # Panics
    /// If an address is already taken in that realm: that is a broken test setup.
    pub fn add_host(&mut self, name: &str, realm: RealmId, addrs: &[IpAddr]) -> HostId {
        let id = HostId(self.hosts.len());
        for ip in addrs {
            self.claim(realm, *ip, Owner::Host(id));
        }
        self.hosts.push(Host {
            name: name.to_owned(),
            realm,
            addrs: addrs.to_vec(),
            link: Access::perfect(),
        });
        id
    }

    /// Adds a NAT whose outside is `outside` with address `external_ip`, and returns it with
    /// the new realm behind it. Put hosts (or further NATs) in that realm.
    pub fn add_nat(
        &mut self,
        config: NatConfig,
        outside: RealmId,
        external_ip: IpAddr,
    ) -> (NatId, RealmId) {
        let id = NatId(self.nats.len());
        let inside = RealmId(self.realms.len());
        self.realms.push(Realm {
            upstream: Some(id),
            owners: HashMap::new(),
        });
        self.claim(outside, external_ip, Owner::NatExternal(id));
        self.nats.push(Nat {
            table: NatTable::new(config, external_ip),
            inside,
            outside,
            link: Access::perfect(),
        });
        (id, inside)
    }

    fn claim(&mut self, realm: RealmId, ip: IpAddr, owner: Owner) {
        let previous = self.realms[realm.0].owners.insert(ip, owner);
        assert!(
            previous.is_none(),
            "address {ip} is already in use in realm {}",
            realm.0
        );
    }

    /// Sets both directions of a node's access link to `params`.
    pub fn set_link(&mut self, node: Node, params: LinkParams) {
        self.set_link_directions(node, params.clone(), params);
    }

    /// Sets a node's uplink (towards its realm) and downlink separately.
    pub fn set_link_directions(&mut self, node: Node, up: LinkParams, down: LinkParams) {
        let link = self.access(node);
        link.up.params = up;
        link.down.params = down;
    }

    /// Cuts (`true`) or restores a node's access link in both directions.
    pub fn set_blackhole(&mut self, node: Node, cut: bool) {
        let link = self.access(node);
        link.up.blackhole = cut;
        link.down.blackhole = cut;
    }

    fn access(&mut self, node: Node) -> &mut Access {
        match node {
            Node::Host(h) => &mut self.hosts[h.0].link,
            Node::Nat(n) => &mut self.nats[n.0].link,
        }
    }

    /// A host's name, as given to [`Network::add_host`].
    pub fn host_name(&self, host: HostId) -> &str {
        &self.hosts[host.0].name
    }

    /// A host's addresses.
    pub fn host_addrs(&self, host: HostId) -> &[IpAddr] {
        &self.hosts[host.0].addrs
    }

    /// The configuration of a NAT.
    pub fn nat_config(&self, nat: NatId) -> &NatConfig {
        &self.nats[nat.0].table.config
    }

    /// A NAT's external address.
    pub fn nat_external_ip(&self, nat: NatId) -> IpAddr {
        self.nats[nat.0].table.external_ip
    }

    /// The NAT's live mappings at `now` as (internal address, external port), sorted.
    pub fn nat_mappings(&self, nat: NatId, now: Instant) -> Vec<(SocketAddr, u16)> {
        self.nats[nat.0].table.mappings(now)
    }

    /// How many mappings and filter entries a NAT holds, expired ones not yet swept
    /// included: what its memory is made of (expired entries are swept once per mapping
    /// timeout).
    pub fn nat_table_size(&self, nat: NatId) -> (usize, usize) {
        self.nats[nat.0].table.held()
    }

    /// Drops every mapping of a NAT, as a reboot or an operator's sweep would.
    pub fn flush_nat(&mut self, nat: NatId) {
        self.nats[nat.0].table.flush();
    }

    /// Starts recording every send, delivery and drop (see [`Network::trace`]).
    pub fn enable_trace(&mut self) {
        self.trace.enabled = true;
    }

    /// What happened so far, if tracing is on, plus drop counters (always kept).
    pub fn trace(&self) -> &Trace {
        &self.trace
    }

    /// Sends `datagram` from `host` at `now`. Its source address should be one of the host's
    /// addresses; the network does not check it (spoofing is allowed, as tests need it).
    pub fn send(&mut self, now: Instant, host: HostId, datagram: Transmit) {
        let len = datagram.payload.len();
        self.record(
            now,
            TraceKind::Sent,
            Some(host),
            &datagram.source,
            &datagram.destination,
            len,
        );
        match self.route(now, host, datagram.source, datagram.destination, len) {
            Ok((dest, from, to, delays)) => {
                let mut payload = Some(datagram.payload);
                for (i, delay) in delays.iter().enumerate() {
                    let bytes = if i + 1 == delays.len() {
                        payload.take().unwrap_or_default()
                    } else {
                        payload.clone().unwrap_or_default()
                    };
                    self.seq += 1;
                    self.queue.push(Reverse(Pending {
                        at: now + *delay,
                        seq: self.seq,
                        host: dest,
                        from,
                        to,
                        payload: bytes,
                    }));
                }
            }
            Err(reason) => {
                self.trace.count_drop(reason);
                self.record(
                    now,
                    TraceKind::Dropped(reason),
                    None,
                    &datagram.source,
                    &datagram.destination,
                    len,
                );
            }
        }
    }

    /// When the next datagram in flight arrives, if any.
    pub fn next_delivery(&self) -> Option<Instant> {
        self.queue.peek().map(|p| p.0.at)
    }

    /// The next datagram due at or before `now`, with the host it arrives at. The datagram's
    /// addresses are as the receiver sees them (after every NAT on the way).
    pub fn poll_delivery(&mut self, now: Instant) -> Option<(HostId, Transmit)> {
        if self.queue.peek().is_none_or(|p| p.0.at > now) {
            return None;
        }
        let Reverse(p) = self.queue.pop()?;
        self.record(
            p.at,
            TraceKind::Delivered,
            Some(p.host),
            &p.from,
            &p.to,
            p.payload.len(),
        );
        Some((
            p.host,
            Transmit {
                source: p.from,
                destination: p.to,
                protocol: Protocol::Udp,
                payload: p.payload,
            },
        ))
    }

    /// Counts a datagram that arrived at a host nobody listens on.
    pub(crate) fn count_unclaimed(&mut self, at: Instant, host: HostId, d: &Transmit) {
        self.trace.count_drop(DropReason::NoEndpoint);
        let kind = TraceKind::Dropped(DropReason::NoEndpoint);
        self.record(
            at,
            kind,
            Some(host),
            &d.source,
            &d.destination,
            d.payload.len(),
        );
    }

    /// Walks the realms from `host` to the destination, translating through NATs. Returns the
    /// receiving host, the addresses it sees and the delay of each copy.
    fn route(
        &mut self,
        now: Instant,
        host: HostId,
        mut from: SocketAddr,
        mut to: SocketAddr,
        len: usize,
    ) -> Result<(HostId, SocketAddr, SocketAddr, Vec<Duration>), DropReason> {
        let mut delays = vec![Duration::ZERO];
        let mut realm = self.hosts[host.0].realm;
        self.cross(now, len, &mut delays, Node::Host(host), true)?;
        for _ in 0..MAX_HOPS {
            match self.realms[realm.0].owners.get(&to.ip()).copied() {
                Some(Owner::Host(dest)) => {
                    self.cross(now, len, &mut delays, Node::Host(dest), false)?;
                    return Ok((dest, from, to, delays));
                }
                Some(Owner::NatExternal(nat)) => {
                    // Arriving at a NAT from its outside.
                    self.cross(now, len, &mut delays, Node::Nat(nat), false)?;
                    let n = &mut self.nats[nat.0];
                    to = n.table.inbound(now, from, to.port())?;
                    realm = n.inside;
                }
                None => {
                    let nat = self.realms[realm.0].upstream.ok_or(DropReason::NoRoute)?;
                    let n = &mut self.nats[nat.0];
                    if to.ip() == n.table.external_ip {
                        // Hairpinning: inside to the NAT's own outside address. The packet
                        // leaves with its mapped source and comes back in through the filter.
                        if !n.table.config.hairpinning {
                            return Err(DropReason::NoHairpin);
                        }
                        from = n.table.outbound(now, from, to, &mut self.rng)?;
                        to = n.table.inbound(now, from, to.port())?;
                        continue;
                    }
                    if to.is_ipv4() != n.table.external_ip.is_ipv4() {
                        // This NAT translates one family only and we model no routing
                        // around it.
                        return Err(DropReason::NoRoute);
                    }
                    from = n.table.outbound(now, from, to, &mut self.rng)?;
                    realm = n.outside;
                    self.cross(now, len, &mut delays, Node::Nat(nat), true)?;
                }
            }
        }
        Err(DropReason::NoRoute)
    }

    /// Passes the datagram over one direction of a node's link, extending every copy's delay
    /// (and adding copies when the link duplicates).
    fn cross(
        &mut self,
        now: Instant,
        len: usize,
        delays: &mut Vec<Duration>,
        node: Node,
        up: bool,
    ) -> Result<(), DropReason> {
        let link = match node {
            Node::Host(h) => &mut self.hosts[h.0].link,
            Node::Nat(n) => &mut self.nats[n.0].link,
        };
        let state = if up { &mut link.up } else { &mut link.down };
        let copies = state.transit(now, len, &mut self.rng)?;
        let before = delays.len();
        for i in 0..before {
            let base = delays[i];
            delays[i] = base + copies.first;
            if let Some(second) = copies.second {
                delays.push(base + second);
            }
        }
        Ok(())
    }

    fn record(
        &mut self,
        at: Instant,
        kind: TraceKind,
        host: Option<HostId>,
        from: &SocketAddr,
        to: &SocketAddr,
        len: usize,
    ) {
        if self.trace.enabled {
            let at = at.saturating_duration_since(self.start);
            self.trace.events.push(TraceEvent {
                at,
                kind,
                host,
                from: *from,
                to: *to,
                len,
            });
        }
    }
}
