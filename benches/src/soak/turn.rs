//! The TURN server of the soak: `rtcweb-turn-server`'s core on a simulated host, with relay
//! sockets that are just addresses of that host. Restarting it replaces the core: every
//! allocation, permission and channel is gone, as after a crash.

use std::net::IpAddr;
use std::time::Instant;

use rtcweb_netsim::{Datagram, SansIo, Transmit};
use rtcweb_turn_server::{AuthConfig, Server, ServerConfig, SimulatedHost, StaticUsers};

/// TURN user name of the soak.
pub const USER: &str = "soak";
/// Its password.
pub const PASSWORD: &str = "soak-password";

/// A TURN server core on a simulated host, restartable.
pub struct TurnHost {
    host: SimulatedHost,
    relay_ip: IpAddr,
    /// Times it was restarted.
    pub restarts: u64,
}

fn core(now: Instant, relay_ip: IpAddr, restarts: u64) -> Server {
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
    pub fn new(now: Instant, relay_ip: IpAddr) -> Self {
        Self {
            host: SimulatedHost::new(core(now, relay_ip, 0)),
            relay_ip,
            restarts: 0,
        }
    }

    /// Crash and start again: all state is lost.
    pub fn restart(&mut self, now: Instant) {
        self.restarts += 1;
        self.host
            .replace_server(core(now, self.relay_ip, self.restarts));
    }

    /// Live allocations.
    pub fn live_allocations(&self) -> usize {
        self.host.server().stats().allocations
    }

    /// Allocations made since the start (restarts included).
    pub fn allocations(&self) -> u64 {
        self.host.relays_bound()
    }
}

impl SansIo for TurnHost {
    type Input<'a> = Datagram<'a>;
    type Transmit = Transmit;
    type Event = ();
    fn poll_event(&mut self) -> Option<()> {
        // The soak reads the core's counters, not its events.
        while self.host.poll_event().is_some() {}
        None
    }
    fn handle_input(&mut self, now: Instant, d: Datagram<'_>) {
        self.host.handle_input(now, d);
    }
    fn handle_timeout(&mut self, now: Instant) {
        self.host.handle_timeout(now);
    }
    fn poll_transmit(&mut self, now: Instant) -> Option<Transmit> {
        self.host.poll_transmit(now)
    }
    fn poll_timeout(&self) -> Option<Instant> {
        self.host.poll_timeout()
    }
}
