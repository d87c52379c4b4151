//! Helpers shared by the integration tests: deterministic certificates and a two-endpoint
//! driver on a virtual clock.

#![allow(dead_code, clippy::unwrap_used)]

use std::time::{Duration, Instant, SystemTime};

use rtcweb_dtls::{
    Certificate, DtlsConfig, DtlsContext, DtlsEndpoint, Error, Event, Fingerprint, Role, State,
    VersionPolicy,
};

/// An endpoint with its own context (tests make few connections per context).
pub fn endpoint(
    cfg: &DtlsConfig,
    cert: &Certificate,
    role: Role,
    remote: Vec<Fingerprint>,
    now: Instant,
) -> Result<DtlsEndpoint, Error> {
    let context = DtlsContext::new(cfg.clone(), cert.clone())?;
    DtlsEndpoint::new(&context, role, remote, now)
}

/// A certificate from fixed "random" bytes, so tests are reproducible.
pub fn cert(n: u8) -> Certificate {
    let mut secret = [n; 32];
    secret[0] = 0x11; // keep the scalar below the P-256 order
    let not_before = SystemTime::UNIX_EPOCH + Duration::from_secs(1_790_000_000);
    Certificate::generate(&secret, &[n; 16], not_before, Certificate::DEFAULT_LIFETIME).unwrap()
}

pub fn config(version: VersionPolicy, seed: u64) -> DtlsConfig {
    let mut c = DtlsConfig::default();
    c.version = version;
    c.rng_seed = Some(seed.into());
    c
}

/// Decides, from a datagram's index in its direction and its bytes, whether it is lost.
pub type DropFn = Box<dyn FnMut(usize, &[u8]) -> bool>;

/// Two endpoints wired back to back on a virtual clock. `drop_to_server` / `drop_to_client`
/// decide, per datagram index in that direction, whether the datagram is lost.
pub struct Pair {
    pub now: Instant,
    pub start: Instant,
    pub client: DtlsEndpoint,
    pub server: DtlsEndpoint,
    pub client_cert: Certificate,
    pub server_cert: Certificate,
    pub client_events: Vec<Event>,
    pub server_events: Vec<Event>,
    pub to_server: usize,
    pub to_client: usize,
    pub max_datagram: usize,
    /// Virtual time of each client datagram, relative to `start`.
    pub client_sent_at: Vec<Duration>,
    pub drop_to_server: DropFn,
    pub drop_to_client: DropFn,
}

impl Pair {
    pub fn new(client_cfg: &DtlsConfig, server_cfg: &DtlsConfig) -> Pair {
        let (cc, sc) = (cert(1), cert(2));
        let start = Instant::now();
        Pair::with(
            client_cfg,
            server_cfg,
            &cc,
            &sc,
            vec![sc.fingerprint().clone()],
            vec![cc.fingerprint().clone()],
            start,
        )
    }

    pub fn with(
        client_cfg: &DtlsConfig,
        server_cfg: &DtlsConfig,
        client_cert: &Certificate,
        server_cert: &Certificate,
        client_expects: Vec<Fingerprint>,
        server_expects: Vec<Fingerprint>,
        start: Instant,
    ) -> Pair {
        let client =
            endpoint(client_cfg, client_cert, Role::Client, client_expects, start).unwrap();
        let server =
            endpoint(server_cfg, server_cert, Role::Server, server_expects, start).unwrap();
        Pair {
            now: start,
            start,
            client,
            server,
            client_cert: client_cert.clone(),
            server_cert: server_cert.clone(),
            client_events: Vec::new(),
            server_events: Vec::new(),
            to_server: 0,
            to_client: 0,
            max_datagram: 0,
            client_sent_at: Vec::new(),
            drop_to_server: Box::new(|_, _| false),
            drop_to_client: Box::new(|_, _| false),
        }
    }

    /// Moves every queued datagram across once. Returns whether anything moved.
    pub fn exchange(&mut self) -> bool {
        let mut moved = false;
        while let Some(d) = self.client.poll_transmit() {
            moved = true;
            self.max_datagram = self.max_datagram.max(d.len());
            self.client_sent_at.push(self.now - self.start);
            let i = self.to_server;
            self.to_server += 1;
            if !(self.drop_to_server)(i, &d) {
                self.server.handle_input(self.now, &d);
            }
        }
        while let Some(d) = self.server.poll_transmit() {
            moved = true;
            self.max_datagram = self.max_datagram.max(d.len());
            let i = self.to_client;
            self.to_client += 1;
            if !(self.drop_to_client)(i, &d) {
                self.client.handle_input(self.now, &d);
            }
        }
        while let Some(e) = self.client.poll_event() {
            self.client_events.push(e);
        }
        while let Some(e) = self.server.poll_event() {
            self.server_events.push(e);
        }
        moved
    }

    /// Runs until `done` holds or nothing is left to do (no datagram, no timer), jumping the
    /// virtual clock to the next timeout whenever the wire is idle. Gives up at `limit`.
    pub fn run_until(&mut self, limit: Duration, mut done: impl FnMut(&Pair) -> bool) -> bool {
        loop {
            while self.exchange() {}
            if done(self) {
                return true;
            }
            let next = [self.client.poll_timeout(), self.server.poll_timeout()]
                .into_iter()
                .flatten()
                .min();
            let Some(next) = next else { return false };
            if next > self.start + limit {
                return false;
            }
            self.now = self.now.max(next);
            self.client.handle_timeout(self.now);
            self.server.handle_timeout(self.now);
        }
    }

    pub fn both_connected(&self) -> bool {
        self.client.state() == &State::Connected && self.server.state() == &State::Connected
    }

    pub fn connect(&mut self) {
        assert!(
            self.run_until(Duration::from_secs(60), Pair::both_connected),
            "no connection: client {:?}, server {:?}",
            self.client.state(),
            self.server.state()
        );
    }

    pub fn elapsed(&self) -> Duration {
        self.now - self.start
    }
}

/// The SRTP keys of the first `Connected` event.
pub fn connected_keys(events: &[Event]) -> Option<rtcweb_dtls::SrtpKeyingMaterial> {
    events.iter().find_map(|e| match e {
        Event::Connected { srtp, .. } => srtp.clone(),
        _ => None,
    })
}
