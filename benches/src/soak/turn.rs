//! The TURN server of the soak: `rtcweb-turn-server`'s core on a simulated host, with relay
//! sockets that are just addresses of that host. Restarting it replaces the core: every
//! allocation, permission and channel is gone, as after a crash.

use std::collections::HashSet;
use std::net::SocketAddr;
use std::time::Instant;

use rtcweb_netsim::{Datagram, SansIo, Transmit};
use rtcweb_turn_server::{
    AuthConfig, Event, FiveTuple, Protocol, Server, ServerConfig, StaticUsers,
};

/// TURN user name of the soak.
pub const USER: &str = "soak";
/// Its password.
pub const PASSWORD: &str = "soak-password";

/// A TURN server core on a simulated host.
pub struct TurnHost {
    server: Server,
    relays: HashSet<SocketAddr>,
    /// Allocations made since the last restart.
    pub allocations: u64,
    /// Times it was restarted.
    pub restarts: u64,
}

fn core(now: Instant, relay_ip: std::net::IpAddr, restarts: u64) -> Server {
    let mut config = ServerConfig::new("soak.example");
    config.relay_ipv4 = Some(relay_ip);
    let mut users = StaticUsers::new();
    users
        .insert_password(USER, PASSWORD)
        .expect("a fixed user name and password are valid");
    let auth = AuthConfig {
        users: Some(Box::new(users)),
        rest_secrets: Vec::new(),
        oauth_keys: Vec::new(),
    };
    // A new nonce secret per start, as a restarted process would draw.
    let secret = [restarts as u8 ^ 0x5a; 32];
    Server::new(config, auth, now, 1_750_000_000, secret)
        .expect("the soak's TURN configuration is valid")
}

impl TurnHost {
    /// A server relaying from `relay_ip` (its own address).
    pub fn new(now: Instant, relay_ip: std::net::IpAddr) -> Self {
        Self {
            server: core(now, relay_ip, 0),
            relays: HashSet::new(),
            allocations: 0,
            restarts: 0,
        }
    }

    /// Crash and start again: all state is lost.
    pub fn restart(&mut self, now: Instant) {
        self.restarts += 1;
        let ip = self.server.config().relay_ipv4;
        self.server = core(now, ip.unwrap_or([0, 0, 0, 0].into()), self.restarts);
        self.relays.clear();
    }

    /// Live allocations.
    pub fn live_allocations(&self) -> usize {
        self.server.stats().allocations
    }

    fn drive(&mut self, now: Instant) {
        while let Some(e) = self.server.poll_event() {
            match e {
                Event::BindRelay { id, addr, reserve } => {
                    self.relays.insert(addr);
                    if let Some(r) = reserve {
                        self.relays.insert(r);
                    }
                    self.allocations += 1;
                    self.server.handle_relay_bound(now, id, true);
                }
                Event::ReleaseRelay { addr } => {
                    self.relays.remove(&addr);
                }
                _ => {}
            }
        }
    }
}

impl SansIo for TurnHost {
    type Input<'a> = Datagram<'a>;
    type Transmit = Transmit;
    type Event = ();
    fn poll_event(&mut self) -> Option<()> {
        None
    }
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
        let t = self.server.poll_transmit()?;
        Some(Transmit::udp(t.source, t.destination, t.payload))
    }
    fn poll_timeout(&self) -> Option<Instant> {
        self.server.poll_timeout()
    }
}
