//! A two-agent harness on rtcweb-netsim: peers, a STUN server, and signaling with a delay.

#![allow(dead_code, clippy::unwrap_used)] // shared by several test files; unwraps set-up

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use rtcweb_ice::{
    Candidate, CandidateKind, ConnectionState, Credentials, GatheringState, IceAgent, IceConfig,
    IceEvent, IceRole, Received,
};
use rtcweb_netsim::{
    Datagram, Filtering, HostId, LinkParams, Mapping, NatConfig, Network, Node, SansIo, Simulation,
    Transmit,
};
use rtcweb_stun::{Attribute, Class, Message, MessageBuilder, MessageType, Method};

/// A message on the signaling channel.
#[derive(Debug, Clone)]
pub enum Signal {
    Credentials(Credentials, bool),
    Candidate(Candidate),
    EndOfCandidates,
}

/// An ICE agent on a simulated host, with a signaling outbox and an application that sends
/// a numbered datagram over the selected route every `data_interval`.
pub struct Peer {
    pub agent: IceAgent,
    pub events: Vec<(Instant, IceEvent)>,
    pub outbox: VecDeque<Signal>,
    pub inbox: VecDeque<(Instant, Signal)>,
    pub data_received: Vec<(Instant, u32)>,
    pub data_sent: u32,
    pub data_interval: Option<Duration>,
    next_data: Option<Instant>,
    pending: VecDeque<Transmit>,
    pub signaling_delay: Duration,
    restarts: u64,
}

impl Peer {
    pub fn new(agent: IceAgent) -> Self {
        let mut p = Peer {
            agent,
            events: Vec::new(),
            outbox: VecDeque::new(),
            inbox: VecDeque::new(),
            data_received: Vec::new(),
            data_sent: 0,
            data_interval: None,
            next_data: None,
            pending: VecDeque::new(),
            signaling_delay: Duration::ZERO,
            restarts: 0,
        };
        let creds = p.agent.local_credentials().clone();
        let lite = p.agent.is_lite();
        p.outbox.push_back(Signal::Credentials(creds, lite));
        p
    }

    fn drain_events(&mut self, now: Instant) {
        while let Some(e) = self.agent.poll_event() {
            match &e {
                IceEvent::LocalCandidate(c) => self.outbox.push_back(Signal::Candidate(c.clone())),
                IceEvent::GatheringState(GatheringState::Complete) => {
                    self.outbox.push_back(Signal::EndOfCandidates)
                }
                IceEvent::Data(data) => {
                    if let [0xAA, n @ ..] = &data[..] {
                        let n = u32::from_be_bytes(n[..4].try_into().unwrap());
                        self.data_received.push((now, n));
                    }
                    continue;
                }
                _ => {}
            }
            self.events.push((now, e));
        }
    }

    fn apply_inbox(&mut self, now: Instant) {
        while self.inbox.front().is_some_and(|(at, _)| *at <= now) {
            let (_, s) = self.inbox.pop_front().unwrap();
            match s {
                Signal::Credentials(c, lite) => {
                    // New credentials from a peer we already knew: it restarted ICE, so
                    // we restart too (what JSEP does when a restart offer arrives).
                    if self.agent.remote_credentials().is_some_and(|old| *old != c) {
                        self.restart(now);
                    }
                    self.agent.set_remote_lite(lite);
                    self.agent.set_remote_credentials(now, c);
                }
                Signal::Candidate(c) => self.agent.add_remote_candidate(now, c).unwrap(),
                Signal::EndOfCandidates => self.agent.end_of_remote_candidates(now),
            }
        }
    }

    /// Sends a numbered datagram over the selected route every `interval` from `now` on.
    pub fn start_data(&mut self, now: Instant, interval: Duration) {
        self.data_interval = Some(interval);
        self.next_data = Some(now);
    }

    /// ICE restart with fresh credentials, signalled to the peer.
    pub fn restart(&mut self, now: Instant) {
        self.restarts += 1;
        let mut n = self.restarts * 7919;
        let creds = Credentials::random(&mut || {
            n = n
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            n >> 7
        });
        self.agent.restart(now, creds.clone());
        self.outbox
            .push_back(Signal::Credentials(creds, self.agent.is_lite()));
        self.drain_events(now);
    }

    pub fn state(&self) -> ConnectionState {
        self.agent.state()
    }

    pub fn selected_kinds(&self) -> Option<(CandidateKind, CandidateKind)> {
        self.agent.selected_pair().map(|(l, r)| (l.kind, r.kind))
    }

    pub fn states(&self) -> Vec<ConnectionState> {
        self.events
            .iter()
            .filter_map(|(_, e)| match e {
                IceEvent::ConnectionState(s) => Some(*s),
                _ => None,
            })
            .collect()
    }
}

impl SansIo for Peer {
    type Input<'a> = Datagram<'a>;
    type Transmit = Transmit;
    type Event = ();
    fn poll_event(&mut self) -> Option<()> {
        None
    }
    fn handle_input(&mut self, now: Instant, d: Datagram<'_>) {
        self.apply_inbox(now);
        if let Received::Data([0xAA, n @ ..]) = self.agent.handle_input(now, d) {
            let n = u32::from_be_bytes(n[..4].try_into().unwrap());
            self.data_received.push((now, n));
        }
        self.drain_events(now);
    }

    fn handle_timeout(&mut self, now: Instant) {
        self.apply_inbox(now);
        if self.agent.poll_timeout().is_some_and(|t| t <= now) {
            self.agent.handle_timeout(now);
        }
        if let (Some(interval), Some(at)) = (self.data_interval, self.next_data)
            && at <= now
        {
            {
                let mut payload = vec![0xAA];
                payload.extend_from_slice(&self.data_sent.to_be_bytes());
                if self.agent.send_data(now, &payload) {
                    self.data_sent += 1;
                }
                self.next_data = Some(at + interval);
            }
        }
        self.drain_events(now);
    }

    fn poll_transmit(&mut self, _now: Instant) -> Option<Transmit> {
        if let Some(d) = self.pending.pop_front() {
            return Some(d);
        }
        self.agent.poll_transmit()
    }

    fn poll_timeout(&self) -> Option<Instant> {
        [
            self.agent.poll_timeout(),
            self.inbox.front().map(|(t, _)| *t),
            self.next_data,
        ]
        .into_iter()
        .flatten()
        .min()
    }
}

/// Answers Binding requests with XOR-MAPPED-ADDRESS, like any STUN server.
#[derive(Default)]
pub struct StunServer {
    out: VecDeque<Transmit>,
    pub requests: usize,
}

impl SansIo for StunServer {
    type Input<'a> = Datagram<'a>;
    type Transmit = Transmit;
    type Event = ();
    fn poll_event(&mut self) -> Option<()> {
        None
    }
    fn handle_input(&mut self, _now: Instant, d: Datagram<'_>) {
        let Ok(msg) = Message::new_checked(d.payload) else {
            return;
        };
        if msg.method() != Method::BINDING || msg.class() != Class::Request {
            return;
        }
        self.requests += 1;
        let mut buf = [0u8; 64];
        let mut b =
            MessageBuilder::new(&mut buf, MessageType::BINDING_SUCCESS, msg.transaction_id())
                .unwrap();
        b.attribute(&Attribute::XorMappedAddress(d.source)).unwrap();
        b.fingerprint().unwrap();
        let len = b.finish();
        self.out
            .push_back(Transmit::udp(d.destination, d.source, buf[..len].to_vec()));
    }
    fn handle_timeout(&mut self, _now: Instant) {}
    fn poll_transmit(&mut self, _now: Instant) -> Option<Transmit> {
        self.out.pop_front()
    }
    fn poll_timeout(&self) -> Option<Instant> {
        None
    }
}

/// The rtcweb-turn-server core on a simulated host: answers STUN Binding and relays, with
/// relay sockets as ports of the host, bound when the core asks.
pub type TurnServer = rtcweb_turn_server::SimulatedHost;

pub const TURN_USER: &str = "alice";
pub const TURN_PASS: &str = "secret";

/// The TURN server of these tests, relaying from the STUN host's address.
pub fn turn_server(start: Instant) -> TurnServer {
    let mut config = rtcweb_turn_server::ServerConfig::new("example.org");
    config.relay_ipv4 = Some(STUN.parse::<SocketAddr>().unwrap().ip());
    let mut users = rtcweb_turn_server::StaticUsers::new();
    users.insert_password(TURN_USER, TURN_PASS).unwrap();
    let auth = rtcweb_turn_server::AuthConfig {
        users: Some(Box::new(users)),
        rest_secrets: Vec::new(),
        oauth_keys: Vec::new(),
    };
    let server =
        rtcweb_turn_server::Server::new(config, auth, start, 1_700_000_000, [7; 32]).unwrap();
    rtcweb_turn_server::SimulatedHost::new(server)
}

/// Moves every signal in both outboxes to the other side's inbox, delayed by the sender's
/// signaling delay.
pub fn signal(sim: &mut Simulation, a: HostId, b: HostId) {
    let now = sim.now();
    for (from, to) in [(a, b), (b, a)] {
        let (out, delay): (Vec<Signal>, Duration) = {
            let p = sim.endpoint_mut::<Peer>(from);
            (p.outbox.drain(..).collect(), p.signaling_delay)
        };
        let q = sim.endpoint_mut::<Peer>(to);
        for s in out {
            q.inbox.push_back((now + delay, s));
        }
    }
}

/// Runs until both peers are connected (or completed) or `limit` of virtual time passes.
pub fn run_until_connected(sim: &mut Simulation, a: HostId, b: HostId, limit: Duration) -> bool {
    let deadline = sim.now() + limit;
    sim.run_until(deadline, |s| {
        signal(s, a, b);
        let up = |st: ConnectionState| {
            matches!(st, ConnectionState::Connected | ConnectionState::Completed)
        };
        up(s.endpoint::<Peer>(a).state()) && up(s.endpoint::<Peer>(b).state())
    })
}

/// Runs for `d`, signaling as it goes.
pub fn run_for(sim: &mut Simulation, a: HostId, b: HostId, d: Duration) {
    let deadline = sim.now() + d;
    sim.run_until(deadline, |s| {
        signal(s, a, b);
        false
    });
}

/// Where a peer sits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Site {
    /// A public address, no NAT.
    Public,
    /// Behind a NAT with these behaviours.
    Nat(Mapping, Filtering),
}

impl Site {
    pub fn label(self) -> String {
        match self {
            Site::Public => "no NAT".into(),
            Site::Nat(m, f) => format!("{m}/{f}"),
        }
    }
}

pub const STUN: &str = "203.0.113.1:3478";

pub struct World {
    pub sim: Simulation,
    pub a: HostId,
    pub b: HostId,
    /// The STUN/TURN server's host.
    pub stun: HostId,
    pub start: Instant,
    pub nats: Vec<rtcweb_netsim::NatId>,
}

/// Two peers at the given sites, a STUN server on the internet, links with `rtt / 4` one-way
/// delay on each access link (so the peer-to-peer round trip is `rtt`).
pub fn world(
    seed: u64,
    site_a: Site,
    site_b: Site,
    rtt: Duration,
    config: impl Fn(IceRole) -> IceConfig,
) -> World {
    world_with(seed, site_a, site_b, rtt, config, |_| {})
}

/// [`world`] with a hook to adjust every NAT's configuration.
pub fn world_with(
    seed: u64,
    site_a: Site,
    site_b: Site,
    rtt: Duration,
    config: impl Fn(IceRole) -> IceConfig,
    nat_tweak: impl Fn(&mut NatConfig),
) -> World {
    let start = Instant::now();
    let mut net = Network::new(start, seed);
    let inet = net.internet();
    let stun = net.add_host("stun", inet, &[STUN.parse::<SocketAddr>().unwrap().ip()]);
    let mut nats = Vec::new();
    let mut place = |net: &mut Network, name: &str, site: Site, public: &str, private: &str| {
        let (realm, ip) = match site {
            Site::Public => (inet, public),
            Site::Nat(m, f) => {
                let mut cfg = NatConfig::new(m, f);
                nat_tweak(&mut cfg);
                let (nat, lan) = net.add_nat(cfg, inet, public.parse().unwrap());
                nats.push(nat);
                (lan, private)
            }
        };
        let h = net.add_host(name, realm, &[ip.parse().unwrap()]);
        net.set_link(Node::Host(h), LinkParams::with_latency(rtt / 4));
        (h, ip.to_owned())
    };
    let (a, ip_a) = place(&mut net, "a", site_a, "198.51.100.1", "192.168.1.2");
    let (b, ip_b) = place(&mut net, "b", site_b, "198.51.100.2", "192.168.2.2");
    let mut sim = Simulation::new(net);
    sim.attach(stun, turn_server(start));
    for (h, ip, role, salt) in [
        (a, ip_a, IceRole::Controlling, 1),
        (b, ip_b, IceRole::Controlled, 2),
    ] {
        let mut agent = IceAgent::new(config(role), role, seed * 10 + salt);
        agent.add_host_address(start, format!("{ip}:5000").parse().unwrap());
        agent.start_gathering(start);
        sim.attach(h, Peer::new(agent));
    }
    World {
        sim,
        a,
        b,
        stun,
        start,
        nats,
    }
}

pub fn full_config(role: IceRole) -> IceConfig {
    let _ = role;
    IceConfig {
        stun_servers: vec![STUN.parse().unwrap()],
        ..IceConfig::default()
    }
}

/// STUN and TURN (UDP, long-term credentials) on the same server.
pub fn turn_config(role: IceRole) -> IceConfig {
    let credentials = rtcweb_turn::Credentials::LongTerm {
        username: TURN_USER.into(),
        password: TURN_PASS.into(),
    };
    let server = rtcweb_turn::ClientConfig::new(
        STUN.parse().unwrap(),
        rtcweb_turn::Protocol::Udp,
        credentials,
    );
    IceConfig {
        turn_servers: vec![server],
        ..full_config(role)
    }
}
