//! The server core on one simulated host: what a driver does with sockets, done in memory.
//!
//! A real driver (the `turn-server` binary) binds a UDP socket when the core asks for a relay
//! and routes each datagram by the socket it arrived on. In a simulation (rtcweb-netsim) or a
//! test, the relay sockets are just addresses of the host: [`SimulatedHost`] binds them the
//! moment the core asks (or refuses, to model a port held by another process) and routes a
//! datagram to a relay address as peer traffic, anything else as client traffic. It answers
//! the five calls of [`rtcweb_core::SansIo`], so a simulation drives it like any other layer.

use std::collections::{HashSet, VecDeque};
use std::net::SocketAddr;
use std::time::Instant;

use rtcweb_core::{Datagram, SansIo};

use crate::server::{MAX_EVENTS, Server};
use crate::types::{Event, FiveTuple, Protocol, Transmit};

/// A [`Server`] on a simulated host whose relay sockets are addresses of that host.
///
/// Events the core raises are handed on through [`SansIo::poll_event`] after the host has
/// acted on them (a bind answered, a release noted); at most [`MAX_EVENTS`] wait, the oldest
/// dropped first, so an owner that never polls them costs nothing unbounded.
pub struct SimulatedHost {
    server: Server,
    relays: HashSet<SocketAddr>,
    refuse_binds: usize,
    relays_bound: u64,
    events: VecDeque<Event>,
}

impl SimulatedHost {
    /// The host around `server`.
    pub fn new(server: Server) -> Self {
        Self {
            server,
            relays: HashSet::new(),
            refuse_binds: 0,
            relays_bound: 0,
            events: VecDeque::new(),
        }
    }

    /// The core.
    pub fn server(&self) -> &Server {
        &self.server
    }

    /// The core, for calls the host does not make itself (credentials, metrics).
    pub fn server_mut(&mut self) -> &mut Server {
        &mut self.server
    }

    /// A crash and a restart: `server` replaces the core, and every relay socket of the old
    /// one is closed (its allocations, permissions and channels are gone with it).
    pub fn replace_server(&mut self, server: Server) {
        self.server = server;
        self.relays.clear();
        self.events.clear();
    }

    /// Refuse the next `n` binds, as when another process holds the port.
    pub fn refuse_next_binds(&mut self, n: usize) {
        self.refuse_binds = n;
    }

    /// Whether a relay socket is bound on `addr`.
    pub fn is_relay(&self, addr: &SocketAddr) -> bool {
        self.relays.contains(addr)
    }

    /// How many relay sockets are bound now (allocations and reservations).
    pub fn relays_open(&self) -> usize {
        self.relays.len()
    }

    /// Binds granted since the host was made (restarts included): one per allocation.
    pub fn relays_bound(&self) -> u64 {
        self.relays_bound
    }

    fn drive(&mut self, now: Instant) {
        while let Some(e) = self.server.poll_event() {
            match &e {
                Event::BindRelay { id, addr, reserve } => {
                    if self.refuse_binds > 0 {
                        self.refuse_binds -= 1;
                        self.server.handle_relay_bound(now, *id, false);
                    } else {
                        // The core asks only for ports it does not hold: binding one twice
                        // is a fault of the core, not of any input.
                        let fresh = self.relays.insert(*addr);
                        debug_assert!(fresh, "{addr} bound twice");
                        if let Some(r) = reserve {
                            let fresh = self.relays.insert(*r);
                            debug_assert!(fresh, "{r} bound twice");
                        }
                        self.relays_bound += 1;
                        self.server.handle_relay_bound(now, *id, true);
                    }
                }
                Event::ReleaseRelay { addr } => {
                    let was_bound = self.relays.remove(addr);
                    debug_assert!(was_bound, "{addr} released but not bound");
                }
                _ => {}
            }
            if self.events.len() >= MAX_EVENTS {
                self.events.pop_front();
            }
            self.events.push_back(e);
        }
    }
}

impl SansIo for SimulatedHost {
    type Input<'a> = Datagram<'a>;
    type Transmit = Transmit;
    type Event = Event;

    fn handle_input(&mut self, now: Instant, d: Datagram<'_>) {
        if self.relays.contains(&d.destination) {
            self.server
                .handle_peer(now, d.destination, d.source, d.payload);
        } else {
            let tuple = FiveTuple::new(Protocol::Udp, d.source, d.destination);
            self.server.handle_client(now, tuple, d.payload);
        }
        self.drive(now);
    }

    fn handle_timeout(&mut self, now: Instant) {
        self.server.handle_timeout(now);
        self.drive(now);
    }

    fn poll_transmit(&mut self, now: Instant) -> Option<Transmit> {
        self.drive(now);
        self.server.poll_transmit()
    }

    fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    fn poll_timeout(&self) -> Option<Instant> {
        self.server.poll_timeout()
    }
}
