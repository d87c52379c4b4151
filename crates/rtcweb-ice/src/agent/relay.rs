//! Relayed candidates: one TURN allocation per (TURN server, host base), driven by the
//! rtcweb-turn client; checks and data from a relayed candidate travel through it.

use std::net::SocketAddr;
use std::time::Instant;

use rtcweb_stun::{Class, Message, Method, is_stun};
use rtcweb_turn::{AllocationState, Client, Event as TurnEvent};

use crate::event::IceEvent;
use tracing::debug;

use super::{IceAgent, LocalCandidate, Received};
use crate::{
    Candidate, CandidateAddress, CandidateKind, Transport, foundation, local_preference, priority,
};
use rtcweb_core::{Datagram, Protocol};

/// One TURN allocation used by the agent.
#[derive(Debug)]
pub(crate) struct Relay {
    pub(crate) client: Client,
    /// What the client was made from, to make a new one when the allocation is lost.
    config: rtcweb_turn::ClientConfig,
    /// The host socket the allocation is reached from.
    pub(crate) base: SocketAddr,
    pub(crate) protocol: Protocol,
    /// The relayed candidate, once allocated.
    pub(crate) relayed: Option<SocketAddr>,
    /// Allocation finished, one way or the other (for the gathering state).
    pub(crate) settled: bool,
}

impl IceAgent {
    pub(super) fn start_relays(&mut self, now: Instant) {
        let bases: Vec<SocketAddr> = self
            .locals
            .iter()
            .filter(|l| l.cand.kind == CandidateKind::Host)
            .map(|l| l.socket)
            .collect();
        for config in self.config.turn_servers.clone() {
            for base in bases
                .iter()
                .filter(|b| b.is_ipv4() == config.server.is_ipv4())
            {
                let protocol = config.transport;
                let seed: [u8; 32] = self.rng.bytes();
                let mut client = Client::new(config.clone(), *base, seed);
                let settled = client.allocate(now).is_err();
                self.relays.push(Relay {
                    client,
                    config: config.clone(),
                    base: *base,
                    protocol,
                    relayed: None,
                    settled,
                });
                let i = self.relays.len() - 1;
                self.drain_relay(now, i);
            }
        }
    }

    /// Whether `(local, remote)` is the path to one of our TURN servers.
    pub(super) fn relay_for(&self, local: SocketAddr, remote: SocketAddr) -> Option<usize> {
        self.relays
            .iter()
            .position(|r| r.base == local && r.client.server() == remote)
    }

    /// Feeds what a TURN server sent; peers' datagrams inside are handled as if they had
    /// arrived on the relayed candidate.
    pub(super) fn handle_relay_input(
        &mut self,
        now: Instant,
        i: usize,
        bytes: &[u8],
    ) -> Received<'static> {
        let relay = &mut self.relays[i];
        let input = Datagram {
            source: relay.client.server(),
            destination: relay.base,
            protocol: relay.protocol,
            payload: bytes,
        };
        relay.client.handle_input(now, input);
        self.drain_relay(now, i);
        Received::Consumed
    }

    /// Moves a TURN client's transmits out and acts on its events.
    pub(super) fn drain_relay(&mut self, now: Instant, i: usize) {
        // Transmits first, then one event, again: an event can start a new allocation
        // whose request must go out too.
        loop {
            while let Some(t) = self.relays[i].client.poll_transmit() {
                let (base, protocol) = (self.relays[i].base, self.relays[i].protocol);
                self.send_with(base, t.destination, t.payload, protocol);
            }
            let Some(event) = self.relays[i].client.poll_event() else {
                break;
            };
            match event {
                TurnEvent::Allocated {
                    relayed, mapped, ..
                } => {
                    self.relays[i].settled = true;
                    self.relays[i].relayed = Some(relayed);
                    self.add_relayed(now, i, relayed, mapped);
                    self.check_gathering_complete();
                }
                TurnEvent::AllocationFailed(why) => {
                    debug!(?why, server = %self.relays[i].client.server(), "TURN allocation failed");
                    self.relays[i].settled = true;
                    self.check_gathering_complete();
                }
                TurnEvent::AllocationLost(why) => {
                    // The server restarted, expired it, or no longer knows our 5-tuple (a
                    // NAT rebinding): allocate anew from the same base. The new relayed
                    // candidate is signalled like any other; the dead one is dropped at the
                    // next ICE restart.
                    debug!(?why, "TURN allocation lost; allocating again");
                    self.relays[i].relayed = None;
                    self.reallocate(now, i);
                }
                TurnEvent::Data { peer, data } => {
                    if let Some(relayed) = self.relays[i].relayed {
                        self.handle_relayed_datagram(now, relayed, peer, data);
                    }
                }
                _ => {}
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
            if self.remotes.iter().any(|r| r.addr == Some(peer)) {
                self.push_event(IceEvent::Data(data));
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
        i: usize,
        relayed: SocketAddr,
        mapped: Option<SocketAddr>,
    ) {
        let protocol = self.relays[i].protocol;
        let server = self.relays[i].client.server();
        // RFC 8445 section 5.1.2.2 leaves relay preferences to us: UDP to the server beats
        // TCP beats TLS, as their latency and head-of-line blocking order them.
        let transport_pref: u16 = match protocol {
            Protocol::Udp => 2,
            Protocol::Tcp => 1,
            Protocol::Tls => 0,
        };
        let local_pref = local_preference(relayed.ip(), 0) / 4 + transport_pref * 1024;
        let cand = Candidate {
            foundation: foundation(
                CandidateKind::Relayed,
                self.relays[i].base.ip(),
                Some(server),
            ),
            component: 1,
            transport: Transport::Udp,
            priority: priority(CandidateKind::Relayed, local_pref, 1),
            address: CandidateAddress::Ip(relayed),
            kind: CandidateKind::Relayed,
            related: mapped,
            extensions: Vec::new(),
        };
        let base = self.relays[i].base;
        let idx = self.push_local(LocalCandidate {
            cand,
            socket: base,
            base: relayed,
            relay: Some(i),
        });
        // The mapped address the server saw is a server-reflexive candidate too.
        if let Some(mapped) = mapped {
            self.add_server_reflexive(now, base, server, mapped);
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
        if let Some(i) = self.relays.iter().position(|r| r.relayed == Some(local)) {
            let client = &mut self.relays[i].client;
            if !client.has_permission(dest.ip()) {
                let _ = client.create_permission(now, dest.ip());
            }
            let _ = client.send_to(dest, &payload);
            self.drain_relay(now, i);
        } else if self.is_host_socket(local) {
            self.send_with(local, dest, payload, Protocol::Udp);
        } else {
            // The relayed address of an allocation that is gone: nothing to send from.
            debug!(%local, "no allocation for this relayed address; dropped");
        }
    }

    /// Asks the relay of a selected relayed pair for a channel, so data goes as ChannelData
    /// (4 octets of overhead instead of 36).
    pub(super) fn bind_channel_for(&mut self, now: Instant, local: SocketAddr, peer: SocketAddr) {
        if let Some(i) = self.relays.iter().position(|r| r.relayed == Some(local)) {
            let _ = self.relays[i].client.bind_channel(now, peer);
            self.drain_relay(now, i);
        }
    }

    pub(super) fn relay_timeouts(&mut self, now: Instant) {
        for i in 0..self.relays.len() {
            if self.relays[i]
                .client
                .poll_timeout()
                .is_some_and(|t| t <= now)
            {
                self.relays[i].client.handle_timeout(now);
            }
            self.drain_relay(now, i);
        }
    }

    pub(super) fn relay_timeout(&self) -> Option<Instant> {
        self.relays
            .iter()
            .filter_map(|r| r.client.poll_timeout())
            .min()
    }

    /// A new client for relay `i` (the old one is done), allocating.
    fn reallocate(&mut self, now: Instant, i: usize) {
        if self.state == crate::event::ConnectionState::Closed {
            return;
        }
        let seed: [u8; 32] = self.rng.bytes();
        let relay = &mut self.relays[i];
        relay.client = Client::new(relay.config.clone(), relay.base, seed);
        relay.relayed = None;
        relay.settled = relay.client.allocate(now).is_err();
        if relay.settled {
            return;
        }
        if self.gathering_state == crate::event::GatheringState::Complete {
            self.set_gathering_state(crate::event::GatheringState::Gathering);
        }
    }

    /// At an ICE restart: every allocation is checked (a Refresh, which fails if the server
    /// restarted or our 5-tuple changed, and then allocates anew), lost or failed ones are
    /// allocated again, and relayed candidates of dead allocations are forgotten.
    pub(super) fn regather_relays(&mut self, now: Instant) {
        for i in 0..self.relays.len() {
            match self.relays[i].client.state() {
                AllocationState::Allocated => {
                    let _ = self.relays[i].client.refresh(now);
                }
                AllocationState::Allocating | AllocationState::Deallocating => {}
                AllocationState::Idle | AllocationState::Closed => self.reallocate(now, i),
            }
            self.drain_relay(now, i);
        }
        let live: Vec<SocketAddr> = self.relays.iter().filter_map(|r| r.relayed).collect();
        self.locals
            .retain(|l| l.relay.is_none() || live.contains(&l.base));
    }

    pub(super) fn relays_settled(&self) -> bool {
        self.relays
            .iter()
            .all(|r| r.settled || r.client.state() != AllocationState::Allocating)
    }

    pub(super) fn release_relays(&mut self, now: Instant) {
        for i in 0..self.relays.len() {
            if self.relays[i].relayed.is_some() && self.relays[i].client.deallocate(now).is_ok() {
                self.drain_relay(now, i);
            }
        }
    }
}
