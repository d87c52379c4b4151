//! Server-reflexive candidates: a Binding request from every host base to every STUN server
//! (RFC 8445 section 5.1.1.2).

use std::net::SocketAddr;
use std::time::Instant;

use rtcweb_stun::{
    Attribute, AttributeType, Class, ClientTransaction, Message, MessageBuilder, MessageType,
    TransactionConfig, TransactionId, TransactionState,
};
use tracing::debug;

use super::{IceAgent, LocalCandidate};
use crate::event::GatheringState;
use crate::{Candidate, CandidateAddress, CandidateKind, Transport, foundation, priority};

/// One Binding request to a STUN server from one host base.
#[derive(Debug, Clone)]
pub(crate) struct GatherTask {
    base: SocketAddr,
    server: SocketAddr,
    tid: TransactionId,
    timing: ClientTransaction,
    bytes: Vec<u8>,
}

impl IceAgent {
    pub(super) fn start_server_reflexive(&mut self, now: Instant) {
        let bases: Vec<(SocketAddr, u32)> = self
            .locals
            .iter()
            .filter(|l| l.cand.kind == CandidateKind::Host)
            .map(|l| (l.socket, l.cand.priority))
            .collect();
        for server in self.config.stun_servers.clone() {
            for (base, _) in bases
                .iter()
                .filter(|(b, _)| b.is_ipv4() == server.is_ipv4())
            {
                let tid = TransactionId(self.rng.bytes());
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
                        rto: self.config.gather_rto,
                        rc: self.config.gather_max_transmits,
                        rm: 4,
                        ..TransactionConfig::default()
                    },
                );
                let bytes = buf[..len].to_vec();
                self.send_with(*base, server, bytes.clone(), rtcweb_core::Protocol::Udp);
                self.gather_tasks.push(GatherTask {
                    base: *base,
                    server,
                    tid,
                    timing,
                    bytes,
                });
            }
        }
    }

    pub(super) fn handle_gather_response(
        &mut self,
        now: Instant,
        local: SocketAddr,
        remote: SocketAddr,
        msg: &Message<&[u8]>,
    ) -> bool {
        let tid = msg.transaction_id();
        let Some(t) = self
            .gather_tasks
            .iter()
            .position(|t| t.tid == tid && t.base == local && t.server == remote)
        else {
            return false;
        };
        let task = self.gather_tasks.remove(t);
        if let (Class::SuccessResponse, Some(Ok(Attribute::XorMappedAddress(mapped)))) = (
            msg.class(),
            msg.attribute(AttributeType::XOR_MAPPED_ADDRESS),
        ) {
            self.add_server_reflexive(now, task.base, task.server, mapped);
        }
        self.check_gathering_complete();
        true
    }
    pub(super) fn add_server_reflexive(
        &mut self,
        _now: Instant,
        base: SocketAddr,
        server: SocketAddr,
        mapped: SocketAddr,
    ) {
        // Equal to the base (no NAT) or already known: redundant (section 5.1.3).
        if mapped == base || self.locals.iter().any(|l| l.cand.addr() == Some(mapped)) {
            return;
        }
        let host_priority = self
            .locals
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
        self.push_local(LocalCandidate {
            cand,
            socket: base,
            base,
            relay: None,
        });
    }

    pub(super) fn gather_timeouts(&mut self, now: Instant) {
        let mut resend = Vec::new();
        for t in &mut self.gather_tasks {
            if t.timing.poll_timeout().is_some_and(|at| at <= now) {
                t.timing.handle_timeout(now);
            }
            if t.timing.poll_transmit() {
                resend.push((t.base, t.server, t.bytes.clone()));
            }
        }
        for (base, server, bytes) in resend {
            self.send_with(base, server, bytes, rtcweb_core::Protocol::Udp);
        }
        let before = self.gather_tasks.len();
        self.gather_tasks
            .retain(|t| t.timing.state() != TransactionState::TimedOut);
        if self.gather_tasks.len() != before {
            self.check_gathering_complete();
        }
    }

    pub(super) fn gather_timeout(&self) -> Option<Instant> {
        self.gather_tasks
            .iter()
            .filter_map(|t| t.timing.poll_timeout())
            .min()
    }

    pub(super) fn check_gathering_complete(&mut self) {
        if self.gathering_state == GatheringState::Gathering
            && self.gather_tasks.is_empty()
            && self.relays_settled()
        {
            self.set_gathering_state(GatheringState::Complete);
        }
    }
}
