//! RFC 5780 NAT behaviour discovery, sans-IO.
//!
//! Uses a STUN server with two addresses (primary P-IP:P-port and the OTHER-ADDRESS
//! A-IP:A-port) and four local sockets ([`DiscoveryConfig::sockets`]):
//!
//! - socket 0, mapping tests (section 4.3): I to P-IP:P-port, II to A-IP:P-port, III to
//!   A-IP:A-port; then hairpinning (section 4.5): a Binding request to its own mapped address.
//! - socket 1, filtering tests (section 4.4), on a fresh mapping so the mapping tests did not
//!   open the NAT's filter towards the alternate address: I, II with CHANGE-REQUEST (change IP
//!   and port), III with CHANGE-REQUEST (change port).
//! - sockets 2 and 3, binding lifetime (section 4.6), only when probe durations are given:
//!   socket 2 makes a mapping, stays idle for T, then socket 3 asks the server to answer to
//!   socket 2's mapped port (RESPONSE-PORT). An answer on socket 2 means the mapping lived T.
//!
//! The verdict is given in RFC 4787 terms and in the classic names of RFC 3489.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use rtcweb_core::{Datagram, Rng, SansIo, Seed, Transmit};
use rtcweb_stun::{
    Attribute, AttributeType, Class, ClientTransaction, Message, MessageBuilder, MessageType,
    Method, TransactionConfig, TransactionId, TransactionState,
};

/// Which local socket a datagram belongs to (0 to 3, see the module docs).
type LocalSocket = usize;

/// RFC 4787 mapping behaviour.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MappingBehavior {
    /// Endpoint-independent mapping (EIM).
    EndpointIndependent,
    /// Address-dependent mapping (ADM).
    AddressDependent,
    /// Address- and port-dependent mapping (APDM).
    AddressAndPortDependent,
}

impl MappingBehavior {
    /// Short RFC 4787 name.
    pub fn short(self) -> &'static str {
        match self {
            MappingBehavior::EndpointIndependent => "EIM",
            MappingBehavior::AddressDependent => "ADM",
            MappingBehavior::AddressAndPortDependent => "APDM",
        }
    }
}

/// RFC 4787 filtering behaviour.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FilteringBehavior {
    /// Endpoint-independent filtering (EIF).
    EndpointIndependent,
    /// Address-dependent filtering (ADF).
    AddressDependent,
    /// Address- and port-dependent filtering (APDF).
    AddressAndPortDependent,
}

impl FilteringBehavior {
    /// Short RFC 4787 name.
    pub fn short(self) -> &'static str {
        match self {
            FilteringBehavior::EndpointIndependent => "EIF",
            FilteringBehavior::AddressDependent => "ADF",
            FilteringBehavior::AddressAndPortDependent => "APDF",
        }
    }
}

/// What discovery found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NatReport {
    /// The server's OTHER-ADDRESS.
    pub other_address: SocketAddr,
    /// Mapped addresses of mapping tests I, II, III (as far as they ran).
    pub mapped: Vec<SocketAddr>,
    /// Whether the mapped address differs from the local one (`None`: local address unknown).
    pub behind_nat: Option<bool>,
    /// Mapping behaviour (trivially endpoint-independent without a NAT).
    pub mapping: MappingBehavior,
    /// Filtering behaviour.
    pub filtering: FilteringBehavior,
    /// Whether the NAT hairpins (`None` without a NAT: not applicable).
    pub hairpinning: Option<bool>,
    /// Longest probed idle time the mapping survived, and the shortest it did not.
    pub binding_lifetime: Option<(Option<Duration>, Option<Duration>)>,
}

impl NatReport {
    /// The classic (RFC 3489) name.
    pub fn classic_name(&self) -> &'static str {
        use FilteringBehavior as F;
        use MappingBehavior as M;
        match (self.behind_nat, self.mapping, self.filtering) {
            (Some(false), _, F::EndpointIndependent) => "open internet (no NAT)",
            (Some(false), _, _) => "no NAT, firewall",
            (_, M::EndpointIndependent, F::EndpointIndependent) => "full cone",
            (_, M::EndpointIndependent, F::AddressDependent) => "restricted cone",
            (_, M::EndpointIndependent, F::AddressAndPortDependent) => "port restricted cone",
            (_, _, _) => "symmetric",
        }
    }
}

/// Why discovery could not finish.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DiscoveryError {
    /// The server did not answer the first Binding request.
    #[error("the STUN server did not answer")]
    NoResponse,
    /// The server's answer has no OTHER-ADDRESS: RFC 5780 is not enabled on it.
    #[error("the server offers no OTHER-ADDRESS (RFC 5780 not enabled)")]
    NoOtherAddress,
    /// A response lacked XOR-MAPPED-ADDRESS or was otherwise unusable.
    #[error("malformed response from the server")]
    Malformed,
    /// A mapping test that must be answered (II or III) went unanswered.
    #[error("mapping test {0} got no answer")]
    MappingTestUnanswered(u8),
}

/// Settings of a discovery run.
#[derive(Debug, Clone)]
pub struct DiscoveryConfig {
    /// The server's primary address.
    pub server: SocketAddr,
    /// The four local sockets (see the module docs). Socket 0's address also tells "no NAT"
    /// apart, unless its IP is unspecified (bound to 0.0.0.0 or ::).
    pub sockets: [SocketAddr; 4],
    /// Retransmission timing of each test (filtering tests end by timing out).
    pub transaction: TransactionConfig,
    /// Idle times to probe the binding lifetime with, ascending (empty = skip the test).
    pub lifetime_probes: Vec<Duration>,
}

impl DiscoveryConfig {
    /// Defaults: RTO 250 ms, 4 requests per test, 8*RTO wait (3.75 s per unanswered test),
    /// no lifetime test.
    pub fn new(server: SocketAddr, sockets: [SocketAddr; 4]) -> Self {
        DiscoveryConfig {
            server,
            sockets,
            transaction: TransactionConfig {
                rto: Duration::from_millis(250),
                rc: 4,
                rm: 8,
                ..TransactionConfig::default()
            },
            lifetime_probes: Vec::new(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Step {
    MappingI,
    MappingII,
    MappingIII,
    FilteringI,
    FilteringII,
    FilteringIII,
    Hairpin,
    LifetimeBind(usize),
    LifetimeWait(usize),
    LifetimeProbe(usize),
    Done,
}

/// The discovery state machine.
#[derive(Debug)]
pub struct NatDiscovery {
    config: DiscoveryConfig,
    rng: Rng,
    step: Step,
    tid: TransactionId,
    tx: Option<ClientTransaction>,
    request: Option<Transmit>,
    wait_until: Option<Instant>,
    other: Option<SocketAddr>,
    mapped: Vec<SocketAddr>,
    behind_nat: Option<bool>,
    mapping: Option<MappingBehavior>,
    filtering: Option<FilteringBehavior>,
    hairpinning: Option<bool>,
    lifetime_mapped: Option<SocketAddr>,
    lifetime_alive: Option<Duration>,
    lifetime_dead: Option<Duration>,
    result: Option<Result<NatReport, DiscoveryError>>,
    /// The result went out as an event.
    reported: bool,
}

fn mapped_of(msg: &Message<&[u8]>) -> Option<SocketAddr> {
    match msg.attribute(AttributeType::XOR_MAPPED_ADDRESS) {
        Some(Ok(Attribute::XorMappedAddress(a))) => Some(a),
        _ => match msg.attribute(AttributeType::MAPPED_ADDRESS) {
            Some(Ok(Attribute::MappedAddress(a))) => Some(a),
            _ => None,
        },
    }
}

impl NatDiscovery {
    /// Starts a run at `now`; `seed` feeds transaction ids.
    pub fn new(config: DiscoveryConfig, now: Instant, seed: impl Into<Seed>) -> Self {
        let mut d = NatDiscovery {
            config,
            rng: Rng::new(seed),
            step: Step::MappingI,
            tid: TransactionId::default(),
            tx: None,
            request: None,
            wait_until: None,
            other: None,
            mapped: Vec::new(),
            behind_nat: None,
            mapping: None,
            filtering: None,
            hairpinning: None,
            lifetime_mapped: None,
            lifetime_alive: None,
            lifetime_dead: None,
            result: None,
            reported: false,
        };
        d.enter(now, Step::MappingI);
        d
    }

    /// The result, once finished.
    pub fn result(&self) -> Option<&Result<NatReport, DiscoveryError>> {
        self.result.as_ref()
    }

    /// Whether the run is over.
    pub fn is_done(&self) -> bool {
        self.result.is_some()
    }

    fn primary(&self) -> SocketAddr {
        self.config.server
    }

    fn other(&self) -> SocketAddr {
        self.other.unwrap_or(self.config.server)
    }

    fn send(&mut self, now: Instant, socket: LocalSocket, to: SocketAddr, attrs: &[Attribute<'_>]) {
        let mut id = [0u8; 12];
        self.rng.fill(&mut id);
        self.tid = TransactionId(id);
        let mut buf = [0u8; 128];
        let Ok(mut b) = MessageBuilder::new(&mut buf, MessageType::BINDING_REQUEST, self.tid)
        else {
            return;
        };
        for a in attrs {
            if b.attribute(a).is_err() {
                return;
            }
        }
        if b.fingerprint().is_err() {
            return;
        }
        let n = b.finish();
        self.request = Some(Transmit::udp(
            self.config.sockets[socket],
            to,
            buf[..n].to_vec(),
        ));
        self.tx = Some(ClientTransaction::new(
            now,
            self.tid,
            self.config.transaction,
        ));
    }

    fn enter(&mut self, now: Instant, step: Step) {
        self.step = step;
        self.tx = None;
        self.request = None;
        self.wait_until = None;
        let (p, a) = (self.primary(), self.other());
        match step {
            Step::MappingI => self.send(now, 0, p, &[]),
            Step::MappingII => self.send(now, 0, SocketAddr::new(a.ip(), p.port()), &[]),
            Step::MappingIII => self.send(now, 0, a, &[]),
            Step::FilteringI => self.send(now, 1, p, &[]),
            Step::FilteringII => self.send(
                now,
                1,
                p,
                &[Attribute::ChangeRequest {
                    change_ip: true,
                    change_port: true,
                }],
            ),
            Step::FilteringIII => self.send(
                now,
                1,
                p,
                &[Attribute::ChangeRequest {
                    change_ip: false,
                    change_port: true,
                }],
            ),
            Step::Hairpin => match self.mapped.first().copied() {
                Some(m) => self.send(now, 0, m, &[]),
                None => self.enter(now, Step::Done),
            },
            Step::LifetimeBind(_) => self.send(now, 2, p, &[]),
            Step::LifetimeWait(i) => {
                let t = self
                    .config
                    .lifetime_probes
                    .get(i)
                    .copied()
                    .unwrap_or_default();
                self.wait_until = Some(now + t);
            }
            Step::LifetimeProbe(_) => {
                let port = self.lifetime_mapped.map(|m| m.port()).unwrap_or(0);
                self.send(now, 3, p, &[Attribute::ResponsePort(port)]);
            }
            Step::Done => self.finish(),
        }
    }

    fn finish(&mut self) {
        if self.result.is_some() {
            return;
        }
        let (Some(other), Some(mapping), Some(filtering)) =
            (self.other, self.mapping, self.filtering)
        else {
            self.result = Some(Err(DiscoveryError::Malformed));
            return;
        };
        let binding_lifetime = (!self.config.lifetime_probes.is_empty())
            .then_some((self.lifetime_alive, self.lifetime_dead));
        self.result = Some(Ok(NatReport {
            other_address: other,
            mapped: self.mapped.clone(),
            behind_nat: self.behind_nat,
            mapping,
            filtering,
            hairpinning: self.hairpinning,
            binding_lifetime,
        }));
    }

    fn fail(&mut self, e: DiscoveryError) {
        self.step = Step::Done;
        self.tx = None;
        self.request = None;
        self.result = Some(Err(e));
    }

    fn after_filtering(&mut self, now: Instant) {
        if self.behind_nat != Some(false) {
            self.enter(now, Step::Hairpin)
        } else {
            self.after_hairpin(now)
        }
    }

    fn after_hairpin(&mut self, now: Instant) {
        if self.config.lifetime_probes.is_empty() {
            self.enter(now, Step::Done)
        } else {
            self.enter(now, Step::LifetimeBind(0))
        }
    }

    /// Feeds a datagram that arrived on one of the local sockets.
    pub fn handle_input(&mut self, now: Instant, input: Datagram<'_>) {
        let Some(socket) = self.config.sockets.iter().position(|s| {
            *s == input.destination
                || (s.ip().is_unspecified() && s.port() == input.destination.port())
        }) else {
            return;
        };
        let (from, data) = (input.source, input.payload);
        let Ok(msg) = Message::new_checked(data) else {
            return;
        };
        if msg.transaction_id() != self.tid || msg.method() != Method::BINDING {
            return;
        }
        if self.step == Step::Hairpin {
            // Our own request came back through the NAT.
            if msg.class() == Class::Request && socket == 0 {
                self.hairpinning = Some(true);
                self.after_hairpin(now);
            }
            return;
        }
        if msg.class() != Class::SuccessResponse {
            return;
        }
        if msg.has_fingerprint() && msg.verify_fingerprint().is_err() {
            return;
        }
        let expected_socket = match self.step {
            Step::MappingI | Step::MappingII | Step::MappingIII => 0,
            Step::FilteringI | Step::FilteringII | Step::FilteringIII => 1,
            Step::LifetimeBind(_) | Step::LifetimeProbe(_) => 2,
            _ => return,
        };
        if socket != expected_socket {
            return;
        }
        let Some(mapped) = mapped_of(&msg) else {
            if self.step == Step::MappingI {
                self.fail(DiscoveryError::Malformed);
            }
            return;
        };
        let _ = from;
        match self.step {
            Step::MappingI => {
                let other = match msg.attribute(AttributeType::OTHER_ADDRESS) {
                    Some(Ok(Attribute::OtherAddress(a))) => a,
                    _ => return self.fail(DiscoveryError::NoOtherAddress),
                };
                self.other = Some(other);
                self.mapped.push(mapped);
                let local = self.config.sockets[0];
                self.behind_nat = (!local.ip().is_unspecified()).then(|| local != mapped);
                self.enter(now, Step::MappingII);
            }
            Step::MappingII => {
                self.mapped.push(mapped);
                if Some(&mapped) == self.mapped.first() {
                    self.mapping = Some(MappingBehavior::EndpointIndependent);
                    self.enter(now, Step::FilteringI);
                } else {
                    self.enter(now, Step::MappingIII);
                }
            }
            Step::MappingIII => {
                self.mapped.push(mapped);
                self.mapping = Some(if Some(&mapped) == self.mapped.get(1) {
                    MappingBehavior::AddressDependent
                } else {
                    MappingBehavior::AddressAndPortDependent
                });
                self.enter(now, Step::FilteringI);
            }
            Step::FilteringI => self.enter(now, Step::FilteringII),
            Step::FilteringII => {
                self.filtering = Some(FilteringBehavior::EndpointIndependent);
                self.after_filtering(now);
            }
            Step::FilteringIII => {
                self.filtering = Some(FilteringBehavior::AddressDependent);
                self.after_filtering(now);
            }
            Step::LifetimeBind(i) => {
                self.lifetime_mapped = Some(mapped);
                self.enter(now, Step::LifetimeWait(i));
            }
            Step::LifetimeProbe(i) => {
                // The server answered to socket 2's mapping: it survived the idle time.
                self.lifetime_alive = self.config.lifetime_probes.get(i).copied();
                self.next_lifetime(now, i);
            }
            _ => {}
        }
    }

    fn next_lifetime(&mut self, now: Instant, i: usize) {
        if i + 1 < self.config.lifetime_probes.len() && self.lifetime_dead.is_none() {
            self.enter(now, Step::LifetimeBind(i + 1));
        } else {
            self.enter(now, Step::Done);
        }
    }

    /// Advances timers to `now`.
    pub fn handle_timeout(&mut self, now: Instant) {
        if let Some(t) = self.wait_until {
            if now >= t
                && let Step::LifetimeWait(i) = self.step
            {
                self.enter(now, Step::LifetimeProbe(i));
            }
            return;
        }
        let Some(tx) = self.tx.as_mut() else { return };
        tx.handle_timeout(now);
        if tx.state() != TransactionState::TimedOut {
            return;
        }
        match self.step {
            Step::MappingI => self.fail(DiscoveryError::NoResponse),
            Step::MappingII => self.fail(DiscoveryError::MappingTestUnanswered(2)),
            Step::MappingIII => self.fail(DiscoveryError::MappingTestUnanswered(3)),
            Step::FilteringI => self.fail(DiscoveryError::NoResponse),
            Step::FilteringII => self.enter(now, Step::FilteringIII),
            Step::FilteringIII => {
                self.filtering = Some(FilteringBehavior::AddressAndPortDependent);
                self.after_filtering(now);
            }
            Step::Hairpin => {
                self.hairpinning = Some(false);
                self.after_hairpin(now);
            }
            Step::LifetimeBind(_) => {
                self.lifetime_dead = None;
                self.enter(now, Step::Done);
            }
            Step::LifetimeProbe(i) => {
                self.lifetime_dead = self.config.lifetime_probes.get(i).copied();
                self.next_lifetime(now, i);
            }
            Step::LifetimeWait(_) | Step::Done => {}
        }
    }

    /// The next moment [`NatDiscovery::handle_timeout`] must run.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.wait_until
            .or_else(|| self.tx.as_ref().and_then(|t| t.poll_timeout()))
    }

    /// The next datagram to send.
    pub fn poll_transmit(&mut self) -> Option<Transmit> {
        let tx = self.tx.as_mut()?;
        if tx.poll_transmit() {
            self.request.clone()
        } else {
            None
        }
    }
}

impl SansIo for NatDiscovery {
    type Input<'a> = Datagram<'a>;
    type Transmit = Transmit;
    /// The verdict, once, when the run ends.
    type Event = Result<NatReport, DiscoveryError>;

    fn handle_input(&mut self, now: Instant, input: Datagram<'_>) {
        NatDiscovery::handle_input(self, now, input);
    }
    fn handle_timeout(&mut self, now: Instant) {
        NatDiscovery::handle_timeout(self, now);
    }
    fn poll_transmit(&mut self, _now: Instant) -> Option<Transmit> {
        NatDiscovery::poll_transmit(self)
    }
    fn poll_event(&mut self) -> Option<Self::Event> {
        if self.reported {
            return None;
        }
        let result = self.result.clone()?;
        self.reported = true;
        Some(result)
    }
    fn poll_timeout(&self) -> Option<Instant> {
        NatDiscovery::poll_timeout(self)
    }
}
