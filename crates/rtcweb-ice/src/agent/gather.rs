//! The local candidates and their gathering: host addresses from the owner, server-reflexive
//! candidates from a Binding request from every host base to every STUN server (RFC 8445
//! section 5.1.1.2), relayed ones from the TURN relays, peer-reflexive ones learned from
//! check responses; and the gathering state.

use std::net::SocketAddr;
use std::time::Instant;

use rtcweb_core::{Protocol, Rng};
use rtcweb_stun::{
    Attribute, AttributeType, Class, ClientTransaction, Message, MessageBuilder, MessageType,
    TransactionConfig, TransactionId, TransactionState,
};
use tracing::debug;

use super::outbox::Outbox;
use crate::config::{IceConfig, TransportPolicy};
use crate::event::{GatheringState, IceEvent};
use crate::{
    Candidate, CandidateAddress, CandidateKind, Transport, foundation, local_preference, priority,
};

/// A local candidate and where its packets really leave from.
#[derive(Debug, Clone)]
pub(super) struct LocalCandidate {
    cand: Candidate,
    /// The local socket packets of this candidate are sent from.
    socket: SocketAddr,
    /// The base (RFC 8445 section 5.1.1.1): the host address for host, server-reflexive
    /// and peer-reflexive candidates, the relayed address for relayed ones.
    base: SocketAddr,
    /// Whether it lives on a TURN allocation.
    relayed: bool,
}

impl LocalCandidate {
    pub(super) fn cand(&self) -> &Candidate {
        &self.cand
    }

    /// The address the agent knows this candidate by in pairs and when datagrams arrive:
    /// the socket for host candidates, the relayed address for relayed ones.
    pub(super) fn key(&self) -> SocketAddr {
        if self.relayed { self.base } else { self.socket }
    }

    pub(super) fn is_relayed(&self) -> bool {
        self.relayed
    }
}

/// One Binding request to a STUN server from one host base.
#[derive(Debug, Clone)]
struct GatherTask {
    base: SocketAddr,
    server: SocketAddr,
    tid: TransactionId,
    timing: ClientTransaction,
    bytes: Vec<u8>,
}

/// The local candidates, the STUN requests still out, and the gathering state.
#[derive(Debug)]
pub(super) struct Gatherer {
    candidates: Vec<LocalCandidate>,
    tasks: Vec<GatherTask>,
    state: GatheringState,
    /// Which candidates are signalled and paired (from the configuration).
    policy: TransportPolicy,
}

impl Gatherer {
    pub(super) fn new(policy: TransportPolicy) -> Self {
        Self {
            candidates: Vec::new(),
            tasks: Vec::new(),
            state: GatheringState::New,
            policy,
        }
    }

    pub(super) fn candidates(&self) -> &[LocalCandidate] {
        &self.candidates
    }

    pub(super) fn state(&self) -> GatheringState {
        self.state
    }

    pub(super) fn set_state(&mut self, state: GatheringState, outbox: &mut Outbox) {
        if self.state != state {
            self.state = state;
            outbox.push_event(IceEvent::GatheringState(state));
        }
    }

    /// `Complete` once no STUN request is out and the relays are settled.
    pub(super) fn check_complete(&mut self, relays_settled: bool, outbox: &mut Outbox) {
        if self.state == GatheringState::Gathering && self.tasks.is_empty() && relays_settled {
            self.set_state(GatheringState::Complete, outbox);
        }
    }

    /// Whether a STUN request is still out.
    pub(super) fn is_asking(&self) -> bool {
        !self.tasks.is_empty()
    }

    /// Whether a local candidate is told to the peer (relay-only hides the others, and
    /// peer-reflexive locals are never signalled).
    fn signalled(&self, c: &Candidate) -> bool {
        match c.kind {
            CandidateKind::PeerReflexive => false,
            CandidateKind::Relayed => true,
            _ => self.policy == TransportPolicy::All,
        }
    }

    /// The candidates signalled to the peer.
    pub(super) fn signalled_candidates(&self) -> impl Iterator<Item = &Candidate> {
        self.candidates
            .iter()
            .map(|l| &l.cand)
            .filter(|c| self.signalled(c))
    }

    fn push(&mut self, local: LocalCandidate, outbox: &mut Outbox) -> usize {
        if self.signalled(&local.cand) {
            outbox.push_event(IceEvent::LocalCandidate(local.cand.clone()));
        }
        self.candidates.push(local);
        self.candidates.len() - 1
    }

    /// A host candidate for a socket of the owner; its index, `None` if it was known.
    pub(super) fn add_host(&mut self, addr: SocketAddr, outbox: &mut Outbox) -> Option<usize> {
        if self.is_host_socket(addr) {
            return None;
        }
        let family_index = self
            .candidates
            .iter()
            .filter(|l| l.cand.kind == CandidateKind::Host && l.socket.is_ipv4() == addr.is_ipv4())
            .count();
        let cand = Candidate {
            foundation: foundation(CandidateKind::Host, addr.ip(), None),
            component: 1,
            transport: Transport::Udp,
            priority: priority(
                CandidateKind::Host,
                local_preference(addr.ip(), family_index),
                1,
            ),
            address: CandidateAddress::Ip(addr),
            kind: CandidateKind::Host,
            related: None,
            extensions: Vec::new(),
        };
        let local = LocalCandidate {
            cand,
            socket: addr,
            base: addr,
            relayed: false,
        };
        Some(self.push(local, outbox))
    }

    /// A relayed candidate on an allocation reached from host socket `socket`; its index.
    pub(super) fn add_relayed(
        &mut self,
        cand: Candidate,
        socket: SocketAddr,
        relayed: SocketAddr,
        outbox: &mut Outbox,
    ) -> usize {
        let local = LocalCandidate {
            cand,
            socket,
            base: relayed,
            relayed: true,
        };
        self.push(local, outbox)
    }

    /// Whether `addr` is one of the owner's sockets (a host candidate's).
    pub(super) fn is_host_socket(&self, addr: SocketAddr) -> bool {
        self.candidates
            .iter()
            .any(|l| l.cand.kind == CandidateKind::Host && l.socket == addr)
    }

    /// Whether a local candidate is known by `addr` (a host socket or a relayed address).
    pub(super) fn has_key(&self, addr: SocketAddr) -> bool {
        self.candidates.iter().any(|l| l.key() == addr)
    }

    /// The host or relayed candidate known by `key`, the ones checks are sent from.
    pub(super) fn checkable_at(&self, key: SocketAddr) -> Option<usize> {
        self.candidates.iter().position(|l| {
            l.key() == key && matches!(l.cand.kind, CandidateKind::Host | CandidateKind::Relayed)
        })
    }

    /// The host sockets, the bases of server-reflexive and relayed candidates.
    pub(super) fn host_sockets(&self) -> Vec<SocketAddr> {
        self.candidates
            .iter()
            .filter(|l| l.cand.kind == CandidateKind::Host)
            .map(|l| l.socket)
            .collect()
    }

    /// Sends a Binding request from every host base to every STUN server of its family.
    pub(super) fn start_server_reflexive(
        &mut self,
        now: Instant,
        config: &IceConfig,
        rng: &mut Rng,
        outbox: &mut Outbox,
    ) {
        let bases = self.host_sockets();
        for &server in &config.stun_servers {
            for &base in bases.iter().filter(|b| b.is_ipv4() == server.is_ipv4()) {
                let tid = TransactionId(rng.bytes());
                let mut buf = [0u8; 28];
                let Ok(mut b) = MessageBuilder::new(&mut buf, MessageType::BINDING_REQUEST, tid)
                else {
                    continue;
                };
                if b.fingerprint().is_err() {
                    continue;
                }
                let len = b.finish();
                let timing = ClientTransaction::new(
                    now,
                    tid,
                    TransactionConfig {
                        rto: config.gather_rto,
                        rc: config.gather_max_transmits,
                        rm: 4,
                        ..TransactionConfig::default()
                    },
                );
                let bytes = buf[..len].to_vec();
                outbox.send(base, server, bytes.clone(), Protocol::Udp);
                self.tasks.push(GatherTask {
                    base,
                    server,
                    tid,
                    timing,
                    bytes,
                });
            }
        }
    }

    /// A STUN server's answer to one of our requests; `false` if it is not one. The caller
    /// then checks whether gathering is complete.
    pub(super) fn handle_response(
        &mut self,
        local: SocketAddr,
        remote: SocketAddr,
        msg: &Message<&[u8]>,
        outbox: &mut Outbox,
    ) -> bool {
        let tid = msg.transaction_id();
        let Some(t) = self
            .tasks
            .iter()
            .position(|t| t.tid == tid && t.base == local && t.server == remote)
        else {
            return false;
        };
        let task = self.tasks.remove(t);
        if let (Class::SuccessResponse, Some(Ok(Attribute::XorMappedAddress(mapped)))) = (
            msg.class(),
            msg.attribute(AttributeType::XOR_MAPPED_ADDRESS),
        ) {
            self.add_server_reflexive(task.base, task.server, mapped, outbox);
        }
        true
    }

    /// A server-reflexive candidate: `server` saw `base` as `mapped`.
    pub(super) fn add_server_reflexive(
        &mut self,
        base: SocketAddr,
        server: SocketAddr,
        mapped: SocketAddr,
        outbox: &mut Outbox,
    ) {
        // Equal to the base (no NAT) or already known: redundant (section 5.1.3).
        if mapped == base
            || self
                .candidates
                .iter()
                .any(|l| l.cand.addr() == Some(mapped))
        {
            return;
        }
        let host_priority = self
            .candidates
            .iter()
            .find(|l| l.socket == base && l.cand.kind == CandidateKind::Host)
            .map_or(0, |l| (l.cand.priority >> 8) & 0xffff);
        let cand = Candidate {
            foundation: foundation(CandidateKind::ServerReflexive, base.ip(), Some(server)),
            component: 1,
            transport: Transport::Udp,
            priority: priority(CandidateKind::ServerReflexive, host_priority as u16, 1),
            address: CandidateAddress::Ip(mapped),
            kind: CandidateKind::ServerReflexive,
            related: Some(base),
            extensions: Vec::new(),
        };
        debug!(%mapped, %base, %server, "server-reflexive candidate");
        let local = LocalCandidate {
            cand,
            socket: base,
            base,
            relayed: false,
        };
        self.push(local, outbox);
    }

    /// A peer-reflexive local candidate (RFC 8445 section 7.2.5.3.1): a check from local
    /// candidate `from` was seen by the peer at `mapped`, an address we did not know. It is
    /// not signalled; it tells us about the NAT.
    pub(super) fn learn_peer_reflexive(
        &mut self,
        from: usize,
        mapped: SocketAddr,
        outbox: &mut Outbox,
    ) {
        let local = &self.candidates[from];
        if local.cand.kind == CandidateKind::Relayed
            || self
                .candidates
                .iter()
                .any(|l| l.cand.addr() == Some(mapped))
        {
            return;
        }
        let (socket, base) = (local.socket, local.base);
        let cand = Candidate {
            foundation: foundation(CandidateKind::PeerReflexive, base.ip(), None),
            component: 1,
            transport: Transport::Udp,
            priority: priority(
                CandidateKind::PeerReflexive,
                local_preference(base.ip(), 0),
                1,
            ),
            address: CandidateAddress::Ip(mapped),
            kind: CandidateKind::PeerReflexive,
            related: Some(base),
            extensions: Vec::new(),
        };
        let local = LocalCandidate {
            cand,
            socket,
            base,
            relayed: false,
        };
        self.push(local, outbox);
    }

    /// Retransmits due requests and forgets the ones that ran out of time; `true` when one
    /// did (gathering may be complete).
    pub(super) fn handle_timeout(&mut self, now: Instant, outbox: &mut Outbox) -> bool {
        for t in &mut self.tasks {
            if t.timing.poll_timeout().is_some_and(|at| at <= now) {
                t.timing.handle_timeout(now);
            }
            if t.timing.poll_transmit() {
                outbox.send(t.base, t.server, t.bytes.clone(), Protocol::Udp);
            }
        }
        let before = self.tasks.len();
        self.tasks
            .retain(|t| t.timing.state() != TransactionState::TimedOut);
        self.tasks.len() != before
    }

    pub(super) fn poll_timeout(&self) -> Option<Instant> {
        self.tasks
            .iter()
            .filter_map(|t| t.timing.poll_timeout())
            .min()
    }

    /// Forgets the STUN requests still out (closing, or gathering anew).
    pub(super) fn stop_asking(&mut self) {
        self.tasks.clear();
    }

    /// At an ICE restart: learned peer-reflexive candidates belong to the old session, and
    /// when `regather`, server-reflexive ones are asked for anew (a NAT may have rebound).
    pub(super) fn forget_session(&mut self, regather: bool) {
        self.candidates
            .retain(|l| l.cand.kind != CandidateKind::PeerReflexive);
        if regather {
            self.candidates
                .retain(|l| l.cand.kind != CandidateKind::ServerReflexive);
            self.tasks.clear();
        }
    }

    /// Forgets relayed candidates whose address is not in `live` (their allocation is gone).
    pub(super) fn keep_relayed(&mut self, live: &[SocketAddr]) {
        self.candidates
            .retain(|l| !l.relayed || live.contains(&l.base));
    }
}
