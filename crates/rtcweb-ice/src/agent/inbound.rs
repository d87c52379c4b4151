//! Incoming connectivity checks (RFC 8445 section 7.3): authentication, role conflicts,
//! peer-reflexive remote candidates, triggered checks and nomination by the peer.

use std::net::SocketAddr;
use std::time::Instant;

use rtcweb_stun::{
    Attribute, AttributeType, ErrorCode, IntegrityKey, Message, MessageBuilder, MessageType,
    TransactionId,
};
use tracing::trace;

use super::IceAgent;
use super::checks::{Candidates, Triggered};
use crate::config::IceRole;

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
        if !self.gatherer.has_key(local) {
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
        let Some(local_idx) = self.gatherer.checkable_at(local) else {
            return true;
        };
        self.consent.note_request(now);

        if self.config.lite {
            // A lite agent does not check: the peer's check is the proof, and its
            // nomination selects the pair (RFC 8445 section 7.3.2 for lite).
            let cands = Candidates::of(&self.gatherer, &self.peer);
            let i = self.checks.lite_pair(now, local_idx, r, cands);
            if use_candidate {
                self.nominate(now, i);
            }
            return true;
        }

        let cands = Candidates::of(&self.gatherer, &self.peer);
        let Some(i) = self.checks.find(local, remote, cands) else {
            return true;
        };
        // Triggered check (section 7.3.1.4).
        match self.checks.peer_checked(i) {
            Triggered::Nothing => {}
            Triggered::Resend(bytes) => self.send_via(now, local, remote, bytes),
            Triggered::Queued => self.schedule_checks(now),
        }
        if use_candidate && self.role == IceRole::Controlled && self.checks.peer_nominated(i) {
            self.nominate(now, i);
        }
        true
    }

    /// The remote candidate at `addr`, learning a peer-reflexive one if it is new
    /// (section 7.3.1.3), within the remote candidate limit.
    fn remote_for(&mut self, addr: SocketAddr, priority: u32) -> Option<usize> {
        let max = self.config.max_remote_candidates;
        let (idx, new) = self.peer.candidate_at(addr, priority, max)?;
        if new && !self.config.lite {
            let cands = Candidates::of(&self.gatherer, &self.peer);
            self.checks.pair_remote(idx, cands, self.role, &self.config);
        }
        Some(idx)
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
