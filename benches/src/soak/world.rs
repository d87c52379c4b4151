//! The soak's network: a TURN server on the internet and, per pair, two hosts each behind
//! its own NAT. NATs do not preserve ports, so a forgotten mapping comes back on a new one.
//! The "weather" (latency, jitter, bursty loss, reordering, duplication) of each pair's NAT
//! links changes over time.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::rc::Rc;
use std::time::{Duration, Instant, SystemTime};

use rtcweb::{Certificate, IceServer, IceTransportPolicy, MediaMode, RtcConfiguration};
use rtcweb_netsim::{
    Filtering, HostId, LinkParams, Loss, Mapping, NatConfig, NatId, Network, Node, Rng, Simulation,
};

use super::peer::SoakPeer;
use super::turn::{PASSWORD, TurnHost, USER};

/// The TURN server's address.
pub const TURN_IP: Ipv4Addr = Ipv4Addr::new(203, 0, 113, 1);

/// How a pair reaches each other.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PairKind {
    /// Both behind full-cone NATs (EIM/EIF).
    FullCone,
    /// Both behind port-restricted cones (EIM/APDF).
    PortRestricted,
    /// The offerer behind a symmetric NAT (APDM/APDF), the answerer behind a full cone.
    SymmetricOneSide,
    /// Both behind symmetric NATs: only a relay connects them.
    SymmetricBoth,
    /// Both with `iceTransportPolicy: relay` (behind restricted cones, EIM/ADF).
    RelayOnly,
}

impl PairKind {
    /// The kind of pair `p`.
    pub fn of(p: usize) -> Self {
        [
            PairKind::FullCone,
            PairKind::PortRestricted,
            PairKind::SymmetricOneSide,
            PairKind::SymmetricBoth,
            PairKind::RelayOnly,
        ][p % 5]
    }

    fn nats(self) -> [(Mapping, Filtering); 2] {
        let cone = (Mapping::EndpointIndependent, Filtering::EndpointIndependent);
        let port_restricted = (
            Mapping::EndpointIndependent,
            Filtering::AddressAndPortDependent,
        );
        let symmetric = (
            Mapping::AddressAndPortDependent,
            Filtering::AddressAndPortDependent,
        );
        let restricted = (Mapping::EndpointIndependent, Filtering::AddressDependent);
        match self {
            PairKind::FullCone => [cone; 2],
            PairKind::PortRestricted => [port_restricted; 2],
            PairKind::SymmetricOneSide => [symmetric, cone],
            PairKind::SymmetricBoth => [symmetric; 2],
            PairKind::RelayOnly => [restricted; 2],
        }
    }

    /// Whether its media can only go through the TURN server.
    pub fn relayed(self) -> bool {
        matches!(self, PairKind::SymmetricBoth | PairKind::RelayOnly)
    }
}

/// One pair's hosts and NATs (index 0: offerer).
#[derive(Debug, Clone, Copy)]
pub struct Pair {
    /// How they connect.
    pub kind: PairKind,
    /// The two hosts.
    pub hosts: [HostId; 2],
    /// The NAT in front of each.
    pub nats: [NatId; 2],
}

/// The network with everything attached.
pub struct World {
    /// The simulation.
    pub sim: Simulation,
    /// The pairs.
    pub pairs: Vec<Pair>,
    /// The TURN server's host.
    pub turn: HostId,
    /// The virtual epoch.
    pub start: Instant,
}

/// A certificate from fixed bytes, different per connection.
fn certificate(n: u32) -> Certificate {
    let mut key = [0u8; 32];
    key[0] = 1;
    key[1..5].copy_from_slice(&n.to_be_bytes());
    key[5] = 0x77;
    let mut serial = [0x11u8; 16];
    serial[..4].copy_from_slice(&n.to_be_bytes());
    Certificate::generate(
        &key,
        &serial,
        SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000),
        Duration::from_secs(86400 * 30),
    )
    .expect("a certificate from fixed key bytes")
}

/// External address of NAT `i` (198.18.0.0/15).
fn nat_ip(i: usize) -> IpAddr {
    IpAddr::V4(Ipv4Addr::new(
        198,
        18 + (i / 62_500) as u8,
        (i / 250 % 250) as u8,
        (i % 250 + 1) as u8,
    ))
}

/// Inside address of host `i` (each behind its own NAT, all different so that a host
/// candidate of the other side never reaches the wrong host).
fn host_ip(i: usize) -> IpAddr {
    IpAddr::V4(Ipv4Addr::new(
        10,
        (i / 62_500) as u8,
        (i / 250 % 250) as u8,
        (i % 250 + 2) as u8,
    ))
}

impl World {
    /// `pairs` pairs, seeded.
    pub fn new(pairs: usize, seed: u64, heap: Option<fn() -> i64>) -> Self {
        let start = Instant::now();
        let mut net = Network::new(start, seed);
        let inet = net.internet();
        let turn = net.add_host("turn", inet, &[IpAddr::V4(TURN_IP)]);
        net.set_link(
            Node::Host(turn),
            LinkParams::with_latency(Duration::from_millis(5)),
        );
        let mut layout = Vec::new();
        for p in 0..pairs {
            let kind = PairKind::of(p);
            let mut hosts = Vec::new();
            let mut nats = Vec::new();
            for (side, (mapping, filtering)) in kind.nats().into_iter().enumerate() {
                let i = 2 * p + side;
                let mut config = NatConfig::new(mapping, filtering);
                config.port_preservation = false;
                // Carrier-grade NATs forget in 30 s; home routers in 2 minutes.
                config.mapping_timeout = Duration::from_secs(if i % 3 == 0 { 30 } else { 120 });
                let (nat, lan) = net.add_nat(config, inet, nat_ip(i));
                let host = net.add_host(&format!("p{p}s{side}"), lan, &[host_ip(i)]);
                net.set_link(
                    Node::Host(host),
                    LinkParams::with_latency(Duration::from_millis(2)),
                );
                hosts.push(host);
                nats.push(nat);
            }
            layout.push(Pair {
                kind,
                hosts: [hosts[0], hosts[1]],
                nats: [nats[0], nats[1]],
            });
        }
        let mut sim = Simulation::new(net);
        sim.attach(turn, TurnHost::new(start, IpAddr::V4(TURN_IP)));
        for (p, pair) in layout.iter().enumerate() {
            let to_b: super::peer::Mailbox = Rc::new(RefCell::new(VecDeque::new()));
            let to_a: super::peer::Mailbox = Rc::new(RefCell::new(VecDeque::new()));
            for side in 0..2u8 {
                let i = 2 * p + side as usize;
                let mut config = RtcConfiguration::new(
                    certificate(i as u32),
                    seed.wrapping_mul(1000) + i as u64,
                );
                config.media.mode = MediaMode::Session;
                config.ice_servers = vec![
                    IceServer::stun(&format!("stun:{TURN_IP}:3478")),
                    IceServer::turn(&format!("turn:{TURN_IP}:3478"), USER, PASSWORD),
                ];
                if pair.kind == PairKind::RelayOnly {
                    config.ice_transport_policy = IceTransportPolicy::Relay;
                }
                let (outbox, inbox) = if side == 0 {
                    (to_b.clone(), to_a.clone())
                } else {
                    (to_a.clone(), to_b.clone())
                };
                let local = SocketAddr::new(host_ip(i), 5000);
                let before = heap.map(|h| h());
                let mut peer = SoakPeer::new(config, local, p as u32, side, outbox, inbox, start);
                peer.heap = heap;
                peer.owned = heap.zip(before).map_or(0, |(h, b)| h() - b);
                sim.attach(pair.hosts[side as usize], peer);
            }
        }
        for pair in &layout {
            sim.endpoint_mut::<SoakPeer>(pair.hosts[0])
                .start_offer(start);
        }
        Self {
            sim,
            pairs: layout,
            turn,
            start,
        }
    }
}

/// The conditions of one pair's path for a while: each of its two NAT links gets half the
/// path's loss, in bursts (Gilbert-Elliott, bursts of about three packets).
pub fn weather(rng: &mut Rng, calm: bool) -> LinkParams {
    let latency = Duration::from_millis(10 + rng.below(30));
    if calm {
        return LinkParams::with_latency(latency);
    }
    // Path loss: 0, 1, 3, 5, 10 or 20 %.
    let path_loss = [0.0, 0.01, 0.03, 0.05, 0.10, 0.20][rng.below(6) as usize];
    let link_loss = path_loss / 2.0;
    let (r, loss_bad) = (0.3, 0.7);
    let loss = if link_loss == 0.0 {
        Loss::None
    } else {
        Loss::GilbertElliott {
            p: link_loss * r / (loss_bad - link_loss),
            r,
            loss_good: 0.0,
            loss_bad,
        }
    };
    LinkParams {
        latency,
        jitter: Duration::from_millis(rng.below(10)),
        loss,
        duplicate: rng.below(3) as f64 / 100.0,
        reorder: rng.below(4) as f64 / 100.0,
        reorder_delay: Duration::from_millis(20 + rng.below(30)),
        ..LinkParams::default()
    }
}
