//! Relayed candidates: one TURN allocation per (TURN server, host base), driven by the
//! rtcweb-turn client; checks and data from a relayed candidate travel through it.
//!
//! [`Relays`] owns the clients. What they report comes out of [`Relays::poll_event`] for
//! the agent to act on (the glue at the end of this file), never in the middle of
//! another operation.

use std::net::SocketAddr;
use std::time::Instant;

use rtcweb_core::{Datagram, Protocol, Rng};
use rtcweb_stun::{Class, Message, Method, is_stun};
use rtcweb_turn::{AllocationState, Client, ClientConfig, Event as TurnEvent};
use tracing::debug;

use super::IceAgent;
use super::outbox::Outbox;
use crate::config::IceConfig;
use crate::event::{GatheringState, IceEvent};
use crate::{
    Candidate, CandidateAddress, CandidateKind, Transport, foundation, local_preference, priority,
};

/// One TURN allocation used by the agent.
#[derive(Debug)]
struct Relay {
    client: Client,
    /// What the client was made from, to make a new one when the allocation is lost.
    config: ClientConfig,
    /// The host socket the allocation is reached from.
    base: SocketAddr,
    protocol: Protocol,
    /// The relayed candidate, once allocated.
    relayed: Option<SocketAddr>,
    /// Allocation finished, one way or the other (for the gathering state).
    settled: bool,
}

impl Relay {
    /// Moves the client's datagrams to the outbox, sent from our base.
    fn flush(&mut self, outbox: &mut Outbox) {
        while let Some(t) = self.client.poll_transmit() {
            outbox.send(self.base, t.destination, t.payload, self.protocol);
        }
    }

    /// A new client (the old one is done), allocating.
    fn reallocate(&mut self, now: Instant, rng: &mut Rng) {
        let seed: [u8; 32] = rng.bytes();
        self.client = Client::new(self.config.clone(), self.base, seed);
        self.relayed = None;
        self.settled = self.client.allocate(now).is_err();
    }
}

/// What a relay reports to the agent.
#[derive(Debug)]
pub(super) enum RelayEvent {
    /// A relayed address, on the allocation reached from `base`.
    Allocated {
        base: SocketAddr,
        server: SocketAddr,
        protocol: Protocol,
        relayed: SocketAddr,
        /// Our address as the server saw it (a server-reflexive candidate).
        mapped: Option<SocketAddr>,
    },
    /// An allocation failed for good (gathering may be complete).
    Failed,
    /// A lost allocation is being made again (gathering is not complete any more).
    Reallocating,
    /// A datagram a peer sent to our relayed address.
    Data {
        relayed: SocketAddr,
        peer: SocketAddr,
        data: Vec<u8>,
    },
}

/// The agent's TURN allocations.
#[derive(Debug, Default)]
pub(super) struct Relays {
    relays: Vec<Relay>,
}

impl Relays {
    /// Allocates on every TURN server from every host base of its family.
    pub(super) fn start(
        &mut self,
        now: Instant,
        config: &IceConfig,
        bases: &[SocketAddr],
        rng: &mut Rng,
        outbox: &mut Outbox,
    ) {
        for config in &config.turn_servers {
            for &base in bases
                .iter()
                .filter(|b| b.is_ipv4() == config.server.is_ipv4())
            {
                let seed: [u8; 32] = rng.bytes();
                let mut client = Client::new(config.clone(), base, seed);
                let settled = client.allocate(now).is_err();
                let mut relay = Relay {
                    client,
                    config: config.clone(),
                    base,
                    protocol: config.transport,
                    relayed: None,
                    settled,
                };
                relay.flush(outbox);
                self.relays.push(relay);
            }
        }
    }

    /// Whether `(local, remote)` is the path to one of our TURN servers.
    pub(super) fn route(&self, local: SocketAddr, remote: SocketAddr) -> Option<usize> {
        self.relays
            .iter()
            .position(|r| r.base == local && r.client.server() == remote)
    }

    /// Feeds what TURN server `i` sent (its events are then polled).
    pub(super) fn handle_input(
        &mut self,
        now: Instant,
        i: usize,
        bytes: &[u8],
        outbox: &mut Outbox,
    ) {
        let relay = &mut self.relays[i];
        let input = Datagram {
            source: relay.client.server(),
            destination: relay.base,
            protocol: relay.protocol,
            payload: bytes,
        };
        relay.client.handle_input(now, input);
        relay.flush(outbox);
    }

    /// The next thing a relay reports. `may_reallocate` is false once the agent is closed:
    /// a lost allocation is then not made again.
    pub(super) fn poll_event(
        &mut self,
        now: Instant,
        may_reallocate: bool,
        rng: &mut Rng,
        outbox: &mut Outbox,
    ) -> Option<RelayEvent> {
        for relay in &mut self.relays {
            while let Some(event) = relay.client.poll_event() {
                let out = match event {
                    TurnEvent::Allocated {
                        relayed, mapped, ..
                    } => {
                        relay.settled = true;
                        relay.relayed = Some(relayed);
                        Some(RelayEvent::Allocated {
                            base: relay.base,
                            server: relay.client.server(),
                            protocol: relay.protocol,
                            relayed,
                            mapped,
                        })
                    }
                    TurnEvent::AllocationFailed(why) => {
                        debug!(?why, server = %relay.client.server(), "TURN allocation failed");
                        relay.settled = true;
                        Some(RelayEvent::Failed)
                    }
                    TurnEvent::AllocationLost(why) => {
                        // The server restarted, expired it, or no longer knows our 5-tuple
                        // (a NAT rebinding): allocate anew from the same base. The new
                        // relayed candidate is signalled like any other; the dead one is
                        // dropped at the next ICE restart.
                        debug!(?why, "TURN allocation lost; allocating again");
                        relay.relayed = None;
                        if may_reallocate {
                            // The new allocation's request goes out at once.
                            relay.reallocate(now, rng);
                            relay.flush(outbox);
                            (!relay.settled).then_some(RelayEvent::Reallocating)
                        } else {
                            None
                        }
                    }
                    TurnEvent::Data { peer, data } => {
                        relay.relayed.map(|relayed| RelayEvent::Data {
                            relayed,
                            peer,
                            data,
                        })
                    }
                    _ => None,
                };
                if out.is_some() {
                    return out;
                }
            }
        }
        None
    }

    /// Whether `local` is the relayed address of one of our allocations.
    pub(super) fn owns(&self, local: SocketAddr) -> bool {
        self.relays.iter().any(|r| r.relayed == Some(local))
    }

    /// Sends `payload` to `dest` from relayed address `local`, asking for a permission
    /// first if needed; `false` if `local` is not one of ours.
    pub(super) fn send(
        &mut self,
        now: Instant,
        local: SocketAddr,
        dest: SocketAddr,
        payload: &[u8],
        outbox: &mut Outbox,
    ) -> bool {
        let Some(relay) = self.relays.iter_mut().find(|r| r.relayed == Some(local)) else {
            return false;
        };
        if !relay.client.has_permission(dest.ip()) {
            let _ = relay.client.create_permission(now, dest.ip());
        }
        let _ = relay.client.send_to(dest, payload);
        relay.flush(outbox);
        true
    }

    /// Asks the relay of relayed address `local` for a channel to `peer`, so data goes as
    /// ChannelData (4 octets of overhead instead of 36).
    pub(super) fn bind_channel(
        &mut self,
        now: Instant,
        local: SocketAddr,
        peer: SocketAddr,
        outbox: &mut Outbox,
    ) {
        if let Some(relay) = self.relays.iter_mut().find(|r| r.relayed == Some(local)) {
            let _ = relay.client.bind_channel(now, peer);
            relay.flush(outbox);
        }
    }

    pub(super) fn handle_timeout(&mut self, now: Instant, outbox: &mut Outbox) {
        for relay in &mut self.relays {
            if relay.client.poll_timeout().is_some_and(|t| t <= now) {
                relay.client.handle_timeout(now);
            }
            relay.flush(outbox);
        }
    }

    pub(super) fn poll_timeout(&self) -> Option<Instant> {
        self.relays
            .iter()
            .filter_map(|r| r.client.poll_timeout())
            .min()
    }

    /// At an ICE restart: every allocation is checked (a Refresh, which fails if the server
    /// restarted or our 5-tuple changed, and then allocates anew), lost or failed ones are
    /// allocated again. `true` if one is being allocated again.
    pub(super) fn regather(&mut self, now: Instant, rng: &mut Rng, outbox: &mut Outbox) -> bool {
        let mut reallocating = false;
        for relay in &mut self.relays {
            match relay.client.state() {
                AllocationState::Allocated => {
                    let _ = relay.client.refresh(now);
                }
                AllocationState::Allocating | AllocationState::Deallocating => {}
                AllocationState::Idle | AllocationState::Closed => {
                    relay.reallocate(now, rng);
                    reallocating |= !relay.settled;
                }
            }
            relay.flush(outbox);
        }
        reallocating
    }

    /// The relayed addresses of live allocations.
    pub(super) fn live(&self) -> Vec<SocketAddr> {
        self.relays.iter().filter_map(|r| r.relayed).collect()
    }

    /// Whether every allocation is done, one way or the other.
    pub(super) fn settled(&self) -> bool {
        self.relays
            .iter()
            .all(|r| r.settled || r.client.state() != AllocationState::Allocating)
    }

    /// Releases every allocation (a Refresh with lifetime 0).
    pub(super) fn release(&mut self, now: Instant, outbox: &mut Outbox) {
        for relay in &mut self.relays {
            if relay.relayed.is_some() && relay.client.deallocate(now).is_ok() {
                relay.flush(outbox);
            }
        }
    }
}

impl IceAgent {
    /// Acts on everything the relays have to report.
    pub(super) fn drain_relays(&mut self, now: Instant) {
        while let Some(event) =
            self.relays
                .poll_event(now, !self.is_closed(), &mut self.rng, &mut self.outbox)
        {
            match event {
                RelayEvent::Allocated {
                    base,
                    server,
                    protocol,
                    relayed,
                    mapped,
                } => {
                    self.add_relayed(now, base, server, protocol, relayed, mapped);
                    self.check_gathering_complete();
                }
                RelayEvent::Failed => self.check_gathering_complete(),
                RelayEvent::Reallocating => {
                    if self.gatherer.state() == GatheringState::Complete {
                        self.gatherer
                            .set_state(GatheringState::Gathering, &mut self.outbox);
                    }
                }
                RelayEvent::Data {
                    relayed,
                    peer,
                    data,
                } => self.handle_relayed_datagram(now, relayed, peer, data),
            }
        }
    }

    fn handle_relayed_datagram(
        &mut self,
        now: Instant,
        relayed: SocketAddr,
        peer: SocketAddr,
        data: Vec<u8>,
    ) {
        if !is_stun(&data) {
            if self.peer.knows(peer) {
                self.outbox.push_event(IceEvent::Data(data));
            }
            return;
        }
        let Ok(msg) = Message::new_checked(&data[..]) else {
            return;
        };
        match (msg.method(), msg.class()) {
            (Method::BINDING, Class::Request) => {
                self.handle_request(now, relayed, peer, &msg);
            }
            (Method::BINDING, Class::SuccessResponse | Class::ErrorResponse) => {
                self.handle_response(now, relayed, peer, &msg);
            }
            _ => {}
        }
    }

    fn add_relayed(
        &mut self,
        now: Instant,
        base: SocketAddr,
        server: SocketAddr,
        protocol: Protocol,
        relayed: SocketAddr,
        mapped: Option<SocketAddr>,
    ) {
        // RFC 8445 section 5.1.2.2 leaves relay preferences to us: UDP to the server beats
        // TCP beats TLS, as their latency and head-of-line blocking order them.
        let transport_pref: u16 = match protocol {
            Protocol::Udp => 2,
            Protocol::Tcp => 1,
            Protocol::Tls => 0,
        };
        let local_pref = local_preference(relayed.ip(), 0) / 4 + transport_pref * 1024;
        let cand = Candidate {
            foundation: foundation(CandidateKind::Relayed, base.ip(), Some(server)),
            component: 1,
            transport: Transport::Udp,
            priority: priority(CandidateKind::Relayed, local_pref, 1),
            address: CandidateAddress::Ip(relayed),
            kind: CandidateKind::Relayed,
            related: mapped,
            extensions: Vec::new(),
        };
        let idx = self
            .gatherer
            .add_relayed(cand, base, relayed, &mut self.outbox);
        // The mapped address the server saw is a server-reflexive candidate too.
        if let Some(mapped) = mapped {
            self.gatherer
                .add_server_reflexive(base, server, mapped, &mut self.outbox);
        }
        self.pair_local(now, idx);
    }

    /// Sends `payload` from the local candidate keyed `local` (a host socket, or a relayed
    /// address) to `dest`, through the relay when it is one.
    pub(super) fn send_via(
        &mut self,
        now: Instant,
        local: SocketAddr,
        dest: SocketAddr,
        payload: Vec<u8>,
    ) {
        let relayed = self
            .relays
            .send(now, local, dest, &payload, &mut self.outbox);
        if relayed {
            return;
        }
        if self.gatherer.is_host_socket(local) {
            self.outbox.send(local, dest, payload, Protocol::Udp);
        } else {
            // The relayed address of an allocation that is gone: nothing to send from.
            debug!(%local, "no allocation for this relayed address; dropped");
        }
    }
}
