//! Incoming connectivity checks (RFC 8445 section 7.3): authentication, role conflicts,
//! peer-reflexive remote candidates, triggered checks and nomination by the peer.

use std::net::SocketAddr;
use std::time::Instant;

use rtcweb_stun::{
    Attribute, AttributeType, ErrorCode, IntegrityKey, Message, MessageBuilder, MessageType,
    TransactionId,
};
use tracing::trace;

use super::{IceAgent, RemoteCandidate};
use crate::config::IceRole;
use crate::pair::PairState;
use crate::{Candidate, CandidateAddress, CandidateKind, Transport};

impl IceAgent {
    pub(super) fn handle_request(
        &mut self,
        now: Instant,
        local: SocketAddr,
        remote: SocketAddr,
        msg: &Message<&[u8]>,
    ) -> bool {
        // Only requests on our own sockets, for our ufrag, with our password: anything else
        // is dropped without a trace in the agent's state.
        if !self.locals.iter().any(|l| l.key() == local) {
            return false;
        }
        let Some(Ok(Attribute::Username(username))) = msg.attribute(AttributeType::USERNAME) else {
            return false;
        };
        let Some((ours, _theirs)) = username.split_once(':') else {
            return false;
        };
        if ours != self.local_credentials.ufrag {
            return false;
        }
        let key = self.local_key.clone();
        if msg.verify_message_integrity(&key).is_err() {
            trace!(%remote, "check with bad integrity dropped");
            return false;
        }
        let tid = msg.transaction_id();

        // Role conflict (section 7.3.1.1).
        let controlling = match msg.attribute(AttributeType::ICE_CONTROLLING) {
            Some(Ok(Attribute::IceControlling(tb))) => Some(tb),
            _ => None,
        };
        let controlled = match msg.attribute(AttributeType::ICE_CONTROLLED) {
            Some(Ok(Attribute::IceControlled(tb))) => Some(tb),
            _ => None,
        };
        match (self.role, controlling, controlled) {
            (IceRole::Controlling, Some(theirs), _) if !self.config.lite => {
                if self.tie_breaker >= theirs {
                    self.respond_error(now, local, remote, tid, ErrorCode::ROLE_CONFLICT, &key);
                    return true;
                }
                self.switch_role(IceRole::Controlled);
            }
            (IceRole::Controlled, _, Some(theirs)) if !self.config.lite => {
                if self.tie_breaker >= theirs {
                    self.switch_role(IceRole::Controlling);
                } else {
                    self.respond_error(now, local, remote, tid, ErrorCode::ROLE_CONFLICT, &key);
                    return true;
                }
            }
            _ => {}
        }

        self.respond_success(now, local, remote, tid, &key);

        let peer_priority = match msg.attribute(AttributeType::PRIORITY) {
            Some(Ok(Attribute::Priority(p))) => p,
            _ => return true,
        };
        let use_candidate = msg.get(AttributeType::USE_CANDIDATE).is_some();
        let Some(r) = self.remote_for(remote, peer_priority) else {
            return true;
        };
        let Some(local_idx) = self.local_for_socket(local) else {
            return true;
        };
        self.consent.last_request = Some(now);

        if self.config.lite {
            // A lite agent does not check: the peer's check is the proof, and its
            // nomination selects the pair (RFC 8445 section 7.3.2 for lite).
            let i = self.lite_pair(local_idx, r);
            self.pairs[i].state = PairState::Succeeded;
            self.pairs[i].last_response = Some(now);
            if use_candidate {
                self.nominate(now, i);
            }
            return true;
        }

        let Some(i) = self.pairs.iter().position(|p| {
            self.locals[p.local].key() == local && self.remotes[p.remote].addr == Some(remote)
        }) else {
            return true;
        };
        // Triggered check (section 7.3.1.4).
        match self.pairs[i].state {
            PairState::Succeeded => {}
            PairState::InProgress => {
                // Retransmit at once: both sides behind NATs finish faster.
                if let Some(check) = &self.pairs[i].check {
                    let bytes = check.bytes.clone();
                    self.send_via(now, local, remote, bytes);
                }
            }
            PairState::Frozen | PairState::Waiting | PairState::Failed => {
                self.pairs[i].state = PairState::Waiting;
                if !self.triggered.contains(&i) {
                    self.triggered.push_back(i);
                }
                self.schedule_checks(now);
            }
        }
        if use_candidate && self.role == IceRole::Controlled {
            if self.pairs[i].state == PairState::Succeeded {
                self.nominate(now, i);
            } else {
                self.pairs[i].nominate_on_success = true;
            }
        }
        true
    }

    /// The remote candidate at `addr`, learning a peer-reflexive one if it is new
    /// (section 7.3.1.3), within the remote candidate limit.
    fn remote_for(&mut self, addr: SocketAddr, priority: u32) -> Option<usize> {
        if let Some(i) = self.remotes.iter().position(|r| r.addr == Some(addr)) {
            return Some(i);
        }
        if self.remotes.len() >= self.config.max_remote_candidates {
            trace!(%addr, "peer-reflexive candidate over the limit ignored");
            return None;
        }
        self.prflx_remote_count += 1;
        let cand = Candidate {
            foundation: format!("prflx{}", self.prflx_remote_count),
            component: 1,
            transport: Transport::Udp,
            priority,
            address: CandidateAddress::Ip(addr),
            kind: CandidateKind::PeerReflexive,
            related: None,
            extensions: Vec::new(),
        };
        self.remotes.push(RemoteCandidate {
            cand,
            addr: Some(addr),
        });
        let idx = self.remotes.len() - 1;
        if !self.config.lite {
            for local in 0..self.locals.len() {
                self.add_pair(local, idx);
            }
        }
        Some(idx)
    }

    fn local_for_socket(&self, socket: SocketAddr) -> Option<usize> {
        self.locals.iter().position(|l| {
            l.key() == socket && matches!(l.cand.kind, CandidateKind::Host | CandidateKind::Relayed)
        })
    }

    /// The lite agent's pair for (local, remote), created on first use.
    fn lite_pair(&mut self, local: usize, remote: usize) -> usize {
        if let Some(i) = self
            .pairs
            .iter()
            .position(|p| p.local == local && p.remote == remote)
        {
            return i;
        }
        let (l, r) = (&self.locals[local].cand, &self.remotes[remote].cand);
        self.pairs.push(crate::pair::Pair {
            local,
            remote,
            priority: crate::pair::pair_priority(r.priority, l.priority),
            foundation: (l.foundation.clone(), r.foundation.clone()),
            state: PairState::Waiting,
            check: None,
            nominated: false,
            nominate_on_success: false,
            send_use_candidate: false,
            last_response: None,
            rtt: None,
        });
        self.pairs.len() - 1
    }

    fn respond_success(
        &mut self,
        now: Instant,
        local: SocketAddr,
        remote: SocketAddr,
        tid: TransactionId,
        key: &IntegrityKey,
    ) {
        let mut buf = [0u8; 128];
        let Ok(mut b) = MessageBuilder::new(&mut buf, MessageType::BINDING_SUCCESS, tid) else {
            return;
        };
        let ok = b.attribute(&Attribute::XorMappedAddress(remote)).is_ok()
            && b.message_integrity(key).is_ok()
            && b.fingerprint().is_ok();
        if ok {
            let len = b.finish();
            self.send_via(now, local, remote, buf[..len].to_vec());
        }
    }

    fn respond_error(
        &mut self,
        now: Instant,
        local: SocketAddr,
        remote: SocketAddr,
        tid: TransactionId,
        code: u16,
        key: &IntegrityKey,
    ) {
        let mut buf = [0u8; 128];
        let typ = MessageType::new(
            rtcweb_stun::Method::BINDING,
            rtcweb_stun::Class::ErrorResponse,
        );
        let Ok(mut b) = MessageBuilder::new(&mut buf, typ, tid) else {
            return;
        };
        let ok = b
            .attribute(&Attribute::ErrorCode(ErrorCode {
                code,
                reason: "Role Conflict",
            }))
            .is_ok()
            && b.message_integrity(key).is_ok()
            && b.fingerprint().is_ok();
        if ok {
            let len = b.finish();
            self.send_via(now, local, remote, buf[..len].to_vec());
        }
    }
}
