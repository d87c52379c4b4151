//! The agent's outgoing checks: it builds them (RFC 8445 section 7.2.2), sends them through
//! the right local candidate, acts on their responses, and nominates (section 8.1.1) and
//! selects. The state they change is the check list's (`CheckList`), the local
//! candidates' and the consent's, through their methods.

use std::net::SocketAddr;
use std::time::Instant;

use rtcweb_stun::{Attribute, IntegrityKey, Message, MessageBuilder, MessageType, TransactionId};
use tracing::debug;

use super::IceAgent;
use super::checks::{Answer, Candidates};
use crate::CandidateKind;
use crate::config::IceRole;
use crate::priority;

/// Largest check we build: header, USERNAME (513 max), PRIORITY, ICE-CONTROLL*, USE-CANDIDATE,
/// MESSAGE-INTEGRITY, FINGERPRINT.
const CHECK_BUF: usize = 700;

/// A Binding request for a connectivity check (RFC 8445 section 7.2.2).
fn binding_request(
    tid: TransactionId,
    username: &str,
    prflx_priority: u32,
    role: IceRole,
    tie_breaker: u64,
    use_candidate: bool,
    key: &IntegrityKey,
) -> Option<Vec<u8>> {
    let mut buf = [0u8; CHECK_BUF];
    let mut b = MessageBuilder::new(&mut buf, MessageType::BINDING_REQUEST, tid).ok()?;
    b.attribute(&Attribute::Username(username)).ok()?;
    b.attribute(&Attribute::Priority(prflx_priority)).ok()?;
    b.attribute(&match role {
        IceRole::Controlling => Attribute::IceControlling(tie_breaker),
        IceRole::Controlled => Attribute::IceControlled(tie_breaker),
    })
    .ok()?;
    if use_candidate && role == IceRole::Controlling {
        b.attribute(&Attribute::UseCandidate).ok()?;
    }
    b.message_integrity(key).ok()?;
    b.fingerprint().ok()?;
    let len = b.finish();
    Some(buf[..len].to_vec())
}

impl IceAgent {
    /// Whether the agent runs checks now: a full agent that knows the peer's credentials.
    fn can_check(&self) -> bool {
        !self.config.lite && self.peer.credentials().is_some()
    }

    /// Makes sure the pacing timer runs if there is anything to check.
    pub(super) fn schedule_checks(&mut self, now: Instant) {
        let ready = self.can_check();
        self.checks.schedule(now, ready);
    }

    /// Pairs a new local candidate with every usable remote candidate.
    pub(super) fn pair_local(&mut self, now: Instant, local: usize) {
        let cands = Candidates::of(&self.gatherer, &self.peer);
        self.checks
            .pair_local(local, cands, self.role, &self.config);
        self.schedule_checks(now);
    }

    /// Pairs a new (or newly resolved) remote candidate with every usable local candidate.
    pub(super) fn pair_remote(&mut self, now: Instant, remote: usize) {
        let cands = Candidates::of(&self.gatherer, &self.peer);
        self.checks
            .pair_remote(remote, cands, self.role, &self.config);
        self.schedule_checks(now);
    }

    /// Sends at most one new check per Ta.
    pub(super) fn pace_checks(&mut self, now: Instant) {
        let ready = self.can_check();
        if let Some((i, use_candidate)) = self.checks.next_paced(now, ready, self.config.ta) {
            self.start_check(now, i, use_candidate);
        }
    }

    /// Builds a Binding request for pair `i` (RFC 8445 section 7.2.2).
    pub(super) fn build_check(
        &mut self,
        i: usize,
        use_candidate: bool,
    ) -> Option<(TransactionId, Vec<u8>)> {
        let remote_creds = self.peer.credentials()?;
        let (local, _) = self.checks.ends(i);
        let local = &self.gatherer.candidates()[local];
        let username = format!("{}:{}", remote_creds.ufrag, self.local_credentials.ufrag);
        // PRIORITY carries the priority a peer-reflexive candidate from this base would get.
        let prflx_priority = priority(
            CandidateKind::PeerReflexive,
            ((local.cand().priority >> 8) & 0xffff) as u16,
            1,
        );
        let key = self.peer.key()?;
        let tid = TransactionId(self.rng.bytes());
        let bytes = binding_request(
            tid,
            &username,
            prflx_priority,
            self.role,
            self.tie_breaker,
            use_candidate,
            key,
        )?;
        Some((tid, bytes))
    }

    pub(super) fn start_check(&mut self, now: Instant, i: usize, use_candidate: bool) {
        let Some(check) = self.build_check(i, use_candidate) else {
            return;
        };
        self.checks
            .begin_check(now, i, check, use_candidate, self.role, &self.config);
        let cands = Candidates::of(&self.gatherer, &self.peer);
        if let Some((source, dest, bytes)) = self.checks.transmission(i, cands) {
            self.send_via(now, source, dest, bytes);
        }
    }

    /// Retransmits due checks and fails the ones that ran out of time.
    pub(super) fn check_timeouts(&mut self, now: Instant) {
        let cands = Candidates::of(&self.gatherer, &self.peer);
        for (source, dest, bytes) in self.checks.handle_timeout(now, cands) {
            self.send_via(now, source, dest, bytes);
        }
    }

    pub(super) fn checks_timeout(&self) -> Option<Instant> {
        self.checks.poll_timeout(self.can_check())
    }

    /// Handles a Binding response: a check's, a consent check's, or a gathering request's.
    pub(super) fn handle_response(
        &mut self,
        now: Instant,
        local: SocketAddr,
        remote: SocketAddr,
        msg: &Message<&[u8]>,
    ) -> bool {
        if self
            .gatherer
            .handle_response(local, remote, msg, &mut self.outbox)
        {
            self.check_gathering_complete();
            return true;
        }
        if self.handle_consent_response(now, msg.transaction_id(), msg) {
            return true;
        }
        let cands = Candidates::of(&self.gatherer, &self.peer);
        let key = self.peer.key();
        let Some(answer) = self
            .checks
            .handle_response(now, local, remote, msg, key, cands)
        else {
            return false;
        };
        match answer {
            Answer::Failed => {}
            Answer::RoleConflict { pair, claimed } => {
                // Section 7.2.5.1: flip to the role opposite to the one the request claimed.
                let new_role = match claimed {
                    IceRole::Controlling => IceRole::Controlled,
                    IceRole::Controlled => IceRole::Controlling,
                };
                if new_role != self.role {
                    self.switch_role(new_role);
                }
                self.checks.retry(pair);
                self.schedule_checks(now);
            }
            Answer::Success {
                pair,
                use_candidate,
                mapped,
            } => {
                if let Some(mapped) = mapped {
                    let (from, _) = self.checks.ends(pair);
                    self.gatherer
                        .learn_peer_reflexive(from, mapped, &mut self.outbox);
                }
                self.check_succeeded(now, pair, use_candidate);
            }
        }
        true
    }

    fn check_succeeded(&mut self, now: Instant, i: usize, use_candidate: bool) {
        if self.checks.succeeded(now, i, use_candidate, self.role) {
            self.nominate(now, i);
        }
        self.maybe_nominate(now);
        self.schedule_checks(now);
    }

    /// Marks pair `i` nominated and selects it if it beats the current selection.
    pub(super) fn nominate(&mut self, now: Instant, i: usize) {
        if self.checks.nominate(i) {
            self.select(now, i);
        }
    }

    /// Regular nomination (RFC 8445 section 8.1.1): the controlling agent re-checks the best
    /// valid pair with USE-CANDIDATE once no better pair can still succeed soon.
    pub(super) fn maybe_nominate(&mut self, now: Instant) {
        let Some((best, at)) =
            self.checks
                .nomination_plan(self.role, self.peer.is_lite(), &self.config)
        else {
            return;
        };
        if at > now {
            return;
        }
        debug!(pair = best, "nominating");
        self.checks.start_nominating(best);
        // A fresh check with USE-CANDIDATE, sent now rather than in the next pacing slot:
        // it happens once per session and is what both sides wait for (up to Ta, 50 ms,
        // of setup time otherwise). Pacing resumes from here.
        self.start_check(now, best, true);
        self.checks.pace_from(now + self.config.ta);
        self.schedule_checks(now);
    }

    pub(super) fn nomination_timeout(&self) -> Option<Instant> {
        self.checks
            .nomination_plan(self.role, self.peer.is_lite(), &self.config)
            .map(|(_, at)| at)
    }
}
