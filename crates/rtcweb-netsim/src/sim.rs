//! Driving sans-IO endpoints over a [`Network`] on virtual time.

use std::any::Any;
use std::time::{Duration, Instant};

use rtcweb_core::{Datagram, SansIo, Transmit};

use crate::network::{HostId, Network};

/// What can be attached to a simulated host: any state machine with the rtcweb sans-IO face
/// ([`SansIo`]) whose input is a [`Datagram`] and whose output is a [`Transmit`]: an ICE
/// agent, a TURN client or server, a `PeerConnection`, or a test's own peer. Implement
/// [`SansIo`]; this trait follows.
pub trait Endpoint: for<'a> SansIo<Input<'a> = Datagram<'a>, Transmit = Transmit> + Any {}

impl<T> Endpoint for T where T: for<'a> SansIo<Input<'a> = Datagram<'a>, Transmit = Transmit> + Any {}

/// The object-safe part of [`Endpoint`] the simulation calls.
trait Attached: Any {
    fn deliver(&mut self, now: Instant, d: &Transmit);
    fn timeout(&mut self, now: Instant);
    fn transmit(&mut self, now: Instant) -> Option<Transmit>;
    fn deadline(&self) -> Option<Instant>;
}

impl<T: Endpoint> Attached for T {
    fn deliver(&mut self, now: Instant, d: &Transmit) {
        self.handle_input(now, d.as_datagram());
    }
    fn timeout(&mut self, now: Instant) {
        self.handle_timeout(now);
    }
    fn transmit(&mut self, now: Instant) -> Option<Transmit> {
        self.poll_transmit(now)
    }
    fn deadline(&self) -> Option<Instant> {
        self.poll_timeout()
    }
}

/// After this many steps without virtual time moving, an endpoint is asking for timeouts in
/// the past over and over: a livelock in the code under test.
const MAX_STEPS_AT_ONE_INSTANT: u32 = 100_000;

/// A [`Network`] plus the endpoints on its hosts, advanced event by event on virtual time
/// (the shape of quinn-proto's test `Pair::step`). A test of a 30 s timeout runs in
/// microseconds, and two runs with the same seed are identical.
///
/// ```
/// use std::net::SocketAddr;
/// use std::time::{Duration, Instant};
/// use rtcweb_netsim::{Datagram, Network, SansIo, Simulation, Transmit};
///
/// /// Sends one datagram at start and counts what comes back.
/// struct Pinger { to: SocketAddr, from: SocketAddr, sent: bool, got: usize }
/// impl SansIo for Pinger {
///     type Input<'a> = Datagram<'a>;
///     type Transmit = Transmit;
///     type Event = ();
///     fn handle_input(&mut self, _: Instant, _: Datagram<'_>) { self.got += 1; }
///     fn handle_timeout(&mut self, _: Instant) {}
///     fn poll_transmit(&mut self, _: Instant) -> Option<Transmit> {
///         (!std::mem::replace(&mut self.sent, true)).then(|| Transmit {
///             source: self.from, destination: self.to, protocol: Default::default(), payload: vec![1],
///         })
///     }
///     fn poll_event(&mut self) -> Option<()> { None }
///     fn poll_timeout(&self) -> Option<Instant> { None }
/// }
/// /// Echoes every datagram.
/// struct Echo(Vec<Transmit>);
/// impl SansIo for Echo {
///     type Input<'a> = Datagram<'a>;
///     type Transmit = Transmit;
///     type Event = ();
///     fn handle_input(&mut self, _: Instant, d: Datagram<'_>) {
///         self.0.push(Transmit {
///             source: d.destination, destination: d.source, protocol: d.protocol, payload: d.payload.to_vec(),
///         });
///     }
///     fn handle_timeout(&mut self, _: Instant) {}
///     fn poll_transmit(&mut self, _: Instant) -> Option<Transmit> { self.0.pop() }
///     fn poll_event(&mut self) -> Option<()> { None }
///     fn poll_timeout(&self) -> Option<Instant> { None }
/// }
///
/// let start = Instant::now();
/// let mut net = Network::new(start, 1);
/// let inet = net.internet();
/// let a = net.add_host("a", inet, &["198.51.100.1".parse().unwrap()]);
/// let b = net.add_host("b", inet, &["198.51.100.2".parse().unwrap()]);
/// let mut sim = Simulation::new(net);
/// sim.attach(a, Pinger {
///     from: "198.51.100.1:1".parse().unwrap(),
///     to: "198.51.100.2:2".parse().unwrap(),
///     sent: false,
///     got: 0,
/// });
/// sim.attach(b, Echo(Vec::new()));
/// assert!(sim.run_until(start + Duration::from_secs(1), |s| s.endpoint::<Pinger>(a).got == 1));
/// ```
pub struct Simulation {
    net: Network,
    now: Instant,
    endpoints: Vec<Option<Box<dyn Attached>>>,
    /// Each endpoint's `poll_timeout`, as of the last time it was touched. A sans-IO
    /// endpoint's deadline and transmits change only when it is called (or reached through
    /// [`Simulation::endpoint_mut`]), so a step asks only the endpoints it touched, not all
    /// of them: with a hundred endpoints that made a step a hundred times dearer (the soak,
    /// benches/src/soak, ran quadratically in the number of connections).
    deadlines: Vec<Option<Instant>>,
    /// Endpoints touched since their transmits were last taken and deadline last read.
    touched: Vec<usize>,
    is_touched: Vec<bool>,
}

impl std::fmt::Debug for Simulation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Simulation")
            .field("now", &self.now.saturating_duration_since(self.net.start()))
            .field("net", &self.net)
            .finish_non_exhaustive()
    }
}

impl Simulation {
    /// A simulation over `net`, with the clock at the network's start.
    pub fn new(net: Network) -> Self {
        let now = net.start();
        Self {
            net,
            now,
            endpoints: Vec::new(),
            deadlines: Vec::new(),
            touched: Vec::new(),
            is_touched: Vec::new(),
        }
    }

    /// Attaches `endpoint` to `host`, replacing any endpoint there.
    pub fn attach<E: Endpoint>(&mut self, host: HostId, endpoint: E) {
        if self.endpoints.len() <= host.0 {
            self.endpoints.resize_with(host.0 + 1, || None);
            self.deadlines.resize(host.0 + 1, None);
            self.is_touched.resize(host.0 + 1, false);
        }
        self.endpoints[host.0] = Some(Box::new(endpoint));
        self.touch(host.0);
    }

    /// Notes that endpoint `i` was called: its transmits and deadline are read again.
    fn touch(&mut self, i: usize) {
        if !self.is_touched[i] {
            self.is_touched[i] = true;
            self.touched.push(i);
        }
    }

    /// The current virtual time.
    pub fn now(&self) -> Instant {
        self.now
    }

    /// Virtual time elapsed since the start.
    pub fn elapsed(&self) -> Duration {
        self.now - self.net.start()
    }

    /// The network, to inspect it.
    pub fn net(&self) -> &Network {
        &self.net
    }

    /// The network, to change links and NATs mid-run.
    pub fn net_mut(&mut self) -> &mut Network {
        &mut self.net
    }

    /// The endpoint on `host`.
    ///
    /// # Panics
    /// If no endpoint is attached there or it is not a `T`: a broken test.
    pub fn endpoint<T: Endpoint>(&self, host: HostId) -> &T {
        let ep: &dyn Any = self.endpoints[host.0]
            .as_deref()
            .expect("no endpoint on host");
        ep.downcast_ref().expect("endpoint has another type")
    }

    /// The endpoint on `host`, mutably (to call its API between steps). Its transmits and
    /// deadline are read again at the next step; an endpoint changed any other way (state
    /// shared with another endpoint) is seen when it is next called.
    ///
    /// # Panics
    /// If no endpoint is attached there or it is not a `T`: a broken test.
    pub fn endpoint_mut<T: Endpoint>(&mut self, host: HostId) -> &mut T {
        // The caller may call its API: read its transmits and deadline again afterwards.
        if host.0 < self.is_touched.len() {
            self.touch(host.0);
        }
        let ep: &mut dyn Any = self.endpoints[host.0]
            .as_deref_mut()
            .expect("no endpoint on host");
        ep.downcast_mut().expect("endpoint has another type")
    }

    /// Sends everything the endpoints want to send now, moves the clock to the next event
    /// (a delivery or a timeout), and handles every event due then. Returns `false` when
    /// nothing is left to happen.
    pub fn step(&mut self) -> bool {
        self.flush_transmits();
        let Some(next) = self.next_event() else {
            return false;
        };
        self.now = self.now.max(next);
        let now = self.now;
        while let Some((host, d)) = self.net.poll_delivery(now) {
            match self.endpoints.get_mut(host.0).and_then(Option::as_mut) {
                Some(ep) => {
                    ep.deliver(now, &d);
                    self.touch(host.0);
                }
                None => self.net.count_unclaimed(now, host, &d),
            }
        }
        // Deadlines of endpoints touched by the deliveries are read again first: a delivery
        // may have moved one into the past.
        self.refresh_deadlines();
        for i in 0..self.endpoints.len() {
            if self.deadlines[i].is_some_and(|t| t <= now)
                && let Some(ep) = self.endpoints[i].as_mut()
            {
                ep.timeout(now);
                self.touch(i);
            }
        }
        self.flush_transmits();
        true
    }

    /// Reads the deadline of every touched endpoint again.
    fn refresh_deadlines(&mut self) {
        for &i in &self.touched {
            self.deadlines[i] = self.endpoints[i].as_ref().and_then(|ep| ep.deadline());
        }
    }

    /// Steps until `done` returns `true` (then returns `true`), or until the next event would
    /// be after `deadline` or nothing is left to happen (then returns `false`, with the clock
    /// at the deadline).
    ///
    /// # Panics
    /// If the endpoints make no progress in virtual time for 100,000 steps.
    pub fn run_until(
        &mut self,
        deadline: Instant,
        mut done: impl FnMut(&mut Simulation) -> bool,
    ) -> bool {
        let mut steps_at_instant = 0u32;
        loop {
            if done(self) {
                return true;
            }
            self.flush_transmits();
            if self.next_event().is_none_or(|t| t > deadline) {
                self.now = self.now.max(deadline);
                return false;
            }
            let before = self.now;
            if !self.step() {
                self.now = self.now.max(deadline);
                return false;
            }
            steps_at_instant = if self.now == before {
                steps_at_instant + 1
            } else {
                0
            };
            assert!(
                steps_at_instant < MAX_STEPS_AT_ONE_INSTANT,
                "endpoints livelock at {:?}: timeouts never move forward",
                self.elapsed()
            );
        }
    }

    /// Runs every event up to `now + duration`, and leaves the clock there.
    pub fn run_for(&mut self, duration: Duration) {
        let deadline = self.now + duration;
        self.run_until(deadline, |_| false);
    }

    fn next_event(&mut self) -> Option<Instant> {
        self.refresh_deadlines();
        let next_timeout = self.deadlines.iter().flatten().min().copied();
        [next_timeout, self.net.next_delivery()]
            .into_iter()
            .flatten()
            .min()
    }

    /// Sends what every touched endpoint wants to send, and reads its deadline again.
    fn flush_transmits(&mut self) {
        let now = self.now;
        for i in std::mem::take(&mut self.touched) {
            self.is_touched[i] = false;
            let Some(ep) = self.endpoints[i].as_mut() else {
                continue;
            };
            while let Some(d) = ep.transmit(now) {
                self.net.send(now, HostId(i), d);
            }
            self.deadlines[i] = ep.deadline();
        }
    }
}
