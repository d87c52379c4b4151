//! Outgoing connectivity checks: forming and pruning pairs, the frozen algorithm, pacing,
//! retransmission, responses and regular nomination (RFC 8445 sections 6.1 and 7.2).

use std::net::SocketAddr;
use std::time::Instant;

use rtcweb_stun::{
    Attribute, AttributeType, ClientTransaction, ErrorCode, Message, MessageBuilder, MessageType,
    TransactionConfig, TransactionId, TransactionState,
};
use tracing::{debug, trace};

use super::IceAgent;
use crate::config::{IceRole, TransportPolicy};
use crate::event::IceEvent;
use crate::pair::{Check, Pair, PairState, pair_priority};
use crate::{
    Candidate, CandidateAddress, CandidateKind, Transport, foundation, local_preference, priority,
};

/// Largest check we build: header, USERNAME (513 max), PRIORITY, ICE-CONTROLL*, USE-CANDIDATE,
/// MESSAGE-INTEGRITY, FINGERPRINT.
const CHECK_BUF: usize = 700;

impl IceAgent {
    /// Pairs a new local candidate with every usable remote candidate.
    pub(super) fn pair_local(&mut self, now: Instant, local: usize) {
        for remote in 0..self.remotes.len() {
            self.add_pair(local, remote);
        }
        self.schedule_checks(now);
    }

    /// Pairs a new (or newly resolved) remote candidate with every usable local candidate.
    pub(super) fn pair_remote(&mut self, now: Instant, remote: usize) {
        for local in 0..self.locals.len() {
            self.add_pair(local, remote);
        }
        self.schedule_checks(now);
    }

    /// Adds the pair unless pruning (RFC 8445 section 6.1.2.4) removes it: only host and
    /// relayed locals are paired (a server-reflexive local is its base, so its pair would
    /// be redundant), families must match, and an identical pair is not added twice.
    pub(super) fn add_pair(&mut self, local: usize, remote: usize) -> Option<usize> {
        if self.config.lite {
            return None;
        }
        let l = &self.locals[local];
        let r = &self.remotes[remote];
        let raddr = r.addr?;
        let usable_kind = match l.cand.kind {
            CandidateKind::Host => self.config.policy == TransportPolicy::All,
            CandidateKind::Relayed => true,
            _ => false,
        };
        let key = l.key();
        if !usable_kind || key.is_ipv4() != raddr.is_ipv4() || l.cand.transport != Transport::Udp {
            return None;
        }
        // Loopback only talks to loopback.
        if key.ip().is_loopback() != raddr.ip().is_loopback() {
            return None;
        }
        if self.pairs.iter().any(|p| {
            self.locals[p.local].key() == key && self.remotes[p.remote].addr == Some(raddr)
        }) {
            return None;
        }
        let (g, d) = match self.role {
            IceRole::Controlling => (l.cand.priority, r.cand.priority),
            IceRole::Controlled => (r.cand.priority, l.cand.priority),
        };
        let pair = Pair {
            local,
            remote,
            priority: pair_priority(g, d),
            foundation: (l.cand.foundation.clone(), r.cand.foundation.clone()),
            state: PairState::Frozen,
            check: None,
            nominated: false,
            nominate_on_success: false,
            send_use_candidate: false,
            last_response: None,
            rtt: None,
        };
        // RFC 8838 section 10: a new pair whose foundation has no active pair starts
        // Waiting, otherwise Frozen.
        let active_foundation = self.pairs.iter().any(|p| {
            p.foundation == pair.foundation
                && matches!(
                    p.state,
                    PairState::Waiting | PairState::InProgress | PairState::Succeeded
                )
        });
        let mut pair = pair;
        if !active_foundation {
            pair.state = PairState::Waiting;
        }
        if self.pairs.len() >= self.config.max_pairs {
            // Drop the lowest-priority idle pair to make room, or refuse this one.
            let victim = self
                .pairs
                .iter()
                .enumerate()
                .filter(|(i, p)| {
                    matches!(
                        p.state,
                        PairState::Frozen | PairState::Waiting | PairState::Failed
                    ) && Some(*i) != self.selected
                        && p.priority < pair.priority
                })
                .min_by_key(|(_, p)| p.priority)
                .map(|(i, _)| i)?;
            self.pairs[victim] = pair;
            self.triggered.retain(|t| *t != victim);
            return Some(victim);
        }
        self.pairs.push(pair);
        Some(self.pairs.len() - 1)
    }

    pub(super) fn recompute_pair_priorities(&mut self) {
        for p in &mut self.pairs {
            let (l, r) = (
                self.locals[p.local].cand.priority,
                self.remotes[p.remote].cand.priority,
            );
            p.priority = match self.role {
                IceRole::Controlling => pair_priority(l, r),
                IceRole::Controlled => pair_priority(r, l),
            };
        }
    }

    /// Makes sure the pacing timer runs if there is anything to check.
    pub(super) fn schedule_checks(&mut self, now: Instant) {
        if self.next_check_at.is_none() && self.has_check_work() {
            self.next_check_at = Some(now);
        }
    }

    fn has_check_work(&self) -> bool {
        !self.config.lite
            && self.remote_credentials.is_some()
            && (!self.triggered.is_empty()
                || self
                    .pairs
                    .iter()
                    .any(|p| matches!(p.state, PairState::Waiting | PairState::Frozen)))
    }

    /// Sends at most one new check per Ta: a triggered one first, then the highest-priority
    /// Waiting pair, then (when nothing waits) the best Frozen pair is unfrozen.
    pub(super) fn pace_checks(&mut self, now: Instant) {
        let Some(at) = self.next_check_at else { return };
        if at > now {
            return;
        }
        if !self.has_check_work() {
            self.next_check_at = None;
            return;
        }
        let next = self
            .triggered
            .pop_front()
            .or_else(|| self.best_pair_in(PairState::Waiting))
            .or_else(|| {
                let frozen = self.best_pair_in(PairState::Frozen)?;
                self.pairs[frozen].state = PairState::Waiting;
                Some(frozen)
            });
        if let Some(i) = next {
            let use_candidate = self.pairs[i].send_use_candidate;
            self.start_check(now, i, use_candidate);
        }
        self.next_check_at = Some(now + self.config.ta);
    }

    fn best_pair_in(&self, state: PairState) -> Option<usize> {
        self.pairs
            .iter()
            .enumerate()
            .filter(|(_, p)| p.state == state)
            .max_by_key(|(_, p)| p.priority)
            .map(|(i, _)| i)
    }

    /// Builds a Binding request for pair `i` (RFC 8445 section 7.2.2).
    pub(super) fn build_check(
        &mut self,
        i: usize,
        use_candidate: bool,
    ) -> Option<(TransactionId, Vec<u8>)> {
        let remote_creds = self.remote_credentials.as_ref()?;
        let local = &self.locals[self.pairs[i].local];
        let username = format!("{}:{}", remote_creds.ufrag, self.local_credentials.ufrag);
        // PRIORITY carries the priority a peer-reflexive candidate from this base would get.
        let prflx_priority = priority(
            CandidateKind::PeerReflexive,
            ((local.cand.priority >> 8) & 0xffff) as u16,
            1,
        );
        let key = self.remote_key.clone()?;
        let tid = TransactionId(self.rng.bytes());
        let mut buf = [0u8; CHECK_BUF];
        let mut b = MessageBuilder::new(&mut buf, MessageType::BINDING_REQUEST, tid).ok()?;
        b.attribute(&Attribute::Username(&username)).ok()?;
        b.attribute(&Attribute::Priority(prflx_priority)).ok()?;
        b.attribute(&match self.role {
            IceRole::Controlling => Attribute::IceControlling(self.tie_breaker),
            IceRole::Controlled => Attribute::IceControlled(self.tie_breaker),
        })
        .ok()?;
        if use_candidate && self.role == IceRole::Controlling {
            b.attribute(&Attribute::UseCandidate).ok()?;
        }
        b.message_integrity(&key).ok()?;
        b.fingerprint().ok()?;
        let len = b.finish();
        Some((tid, buf[..len].to_vec()))
    }

    pub(super) fn start_check(&mut self, now: Instant, i: usize, use_candidate: bool) {
        let Some((tid, bytes)) = self.build_check(i, use_candidate) else {
            return;
        };
        let timing = ClientTransaction::new(
            now,
            tid,
            TransactionConfig {
                rto: self.config.check_rto,
                rc: self.config.check_max_transmits,
                rm: 4,
                ..TransactionConfig::default()
            },
        );
        let role = self.role;
        let p = &mut self.pairs[i];
        // A valid pair re-checked (to nominate it) stays valid while the check runs.
        if p.state != PairState::Succeeded {
            p.state = PairState::InProgress;
        }
        p.check = Some(Check {
            tid,
            timing,
            use_candidate,
            role,
            bytes,
            started: now,
        });
        self.transmit_check(now, i);
    }

    fn transmit_check(&mut self, now: Instant, i: usize) {
        let p = &self.pairs[i];
        let (Some(check), Some(dest)) = (&p.check, self.remotes[p.remote].addr) else {
            return;
        };
        let source = self.locals[p.local].key();
        trace!(%source, %dest, use_candidate = check.use_candidate, "connectivity check");
        let bytes = check.bytes.clone();
        self.send_via(now, source, dest, bytes);
    }

    /// Retransmits due checks and fails the ones that ran out of time.
    pub(super) fn check_timeouts(&mut self, now: Instant) {
        for i in 0..self.pairs.len() {
            let Some(check) = self.pairs[i].check.as_mut() else {
                continue;
            };
            if check.timing.poll_timeout().is_some_and(|t| t <= now) {
                check.timing.handle_timeout(now);
            }
            match check.timing.state() {
                TransactionState::TimedOut => {
                    let was_nomination = check.use_candidate;
                    let p = &mut self.pairs[i];
                    p.check = None;
                    // A pair that already succeeded stays valid when a later check (a
                    // nomination, or a triggered re-check) is lost.
                    if p.state == PairState::InProgress {
                        p.state = PairState::Failed;
                    }
                    if was_nomination && self.nominating == Some(i) {
                        self.nominating = None;
                        self.pairs[i].send_use_candidate = false;
                    }
                    debug!(pair = i, "connectivity check timed out");
                }
                TransactionState::Pending => {
                    if check.timing.poll_transmit() {
                        self.transmit_check(now, i);
                    }
                }
                TransactionState::Completed => {}
            }
        }
    }

    pub(super) fn checks_timeout(&self) -> Option<Instant> {
        let retransmits = self
            .pairs
            .iter()
            .filter_map(|p| p.check.as_ref().and_then(|c| c.timing.poll_timeout()))
            .min();
        let pacing = self.next_check_at.filter(|_| self.has_check_work());
        [retransmits, pacing].into_iter().flatten().min()
    }

    /// Handles a Binding response: a check's, a consent check's, or a gathering request's.
    pub(super) fn handle_response(
        &mut self,
        now: Instant,
        local: SocketAddr,
        remote: SocketAddr,
        msg: &Message<&[u8]>,
    ) -> bool {
        let tid = msg.transaction_id();
        if self.handle_gather_response(now, local, remote, msg) {
            return true;
        }
        if self.handle_consent_response(now, tid, msg) {
            return true;
        }
        let Some(i) = self
            .pairs
            .iter()
            .position(|p| p.check.as_ref().is_some_and(|c| c.tid == tid))
        else {
            trace!("response for an unknown transaction dropped");
            return false;
        };
        let Some(key) = &self.remote_key else {
            return false;
        };
        // RFC 8445 section 7.2.5.2: a response without valid integrity is ignored.
        if msg.verify_message_integrity(key).is_err() {
            trace!("check response with bad integrity dropped");
            return false;
        }
        let p = &self.pairs[i];
        let (psource, pdest) = (self.locals[p.local].key(), self.remotes[p.remote].addr);
        let use_candidate = p.check.as_ref().is_some_and(|c| c.use_candidate);
        let claimed = p.check.as_ref().map_or(self.role, |c| c.role);
        let rtt = p
            .check
            .as_ref()
            .map(|c| now.saturating_duration_since(c.started));
        self.pairs[i].check = None;
        if let Some(rtt) = rtt {
            self.rtt.get_or_insert(rtt);
            self.pairs[i].rtt = Some(rtt);
        }
        // Non-symmetric addresses fail the pair (section 7.2.5.2.1).
        if psource != local || pdest != Some(remote) {
            self.pairs[i].state = PairState::Failed;
            return true;
        }
        if msg.class() == rtcweb_stun::Class::ErrorResponse {
            let code = match msg.attribute(AttributeType::ERROR_CODE) {
                Some(Ok(Attribute::ErrorCode(e))) => e.code,
                _ => 0,
            };
            if code == ErrorCode::ROLE_CONFLICT {
                // Section 7.2.5.1: flip to the role opposite to the one the request claimed.
                let new_role = match claimed {
                    IceRole::Controlling => IceRole::Controlled,
                    IceRole::Controlled => IceRole::Controlling,
                };
                if new_role != self.role {
                    self.switch_role(new_role);
                }
                if self.pairs[i].state != PairState::Succeeded {
                    self.pairs[i].state = PairState::Waiting;
                }
                self.triggered.push_back(i);
                self.schedule_checks(now);
            } else {
                self.pairs[i].state = PairState::Failed;
            }
            return true;
        }
        if let Some(Ok(Attribute::XorMappedAddress(mapped))) =
            msg.attribute(AttributeType::XOR_MAPPED_ADDRESS)
        {
            self.learn_local_peer_reflexive(i, mapped);
        }
        self.check_succeeded(now, i, use_candidate);
        true
    }

    /// A peer-reflexive local candidate (RFC 8445 section 7.2.5.3.1): the peer saw us at an
    /// address we did not know. It is not signalled; it tells us about the NAT.
    fn learn_local_peer_reflexive(&mut self, i: usize, mapped: SocketAddr) {
        let local = &self.locals[self.pairs[i].local];
        if local.cand.kind == CandidateKind::Relayed
            || self.locals.iter().any(|l| l.cand.addr() == Some(mapped))
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
        self.push_local(super::LocalCandidate {
            cand,
            socket,
            base,
            relay: None,
        });
    }

    pub(super) fn check_succeeded(&mut self, now: Instant, i: usize, use_candidate: bool) {
        let p = &mut self.pairs[i];
        p.state = PairState::Succeeded;
        p.last_response = Some(now);
        let foundation = p.foundation.clone();
        let nominated = (use_candidate && self.role == IceRole::Controlling)
            || (p.nominate_on_success && self.role == IceRole::Controlled);
        // Unfreeze the pairs that share this foundation (section 7.2.5.3.3).
        for q in &mut self.pairs {
            if q.state == PairState::Frozen && q.foundation == foundation {
                q.state = PairState::Waiting;
            }
        }
        self.first_valid_at.get_or_insert(now);
        if nominated {
            self.nominate(now, i);
        }
        self.maybe_nominate(now);
        self.schedule_checks(now);
    }

    /// Marks pair `i` nominated and selects it if it beats the current selection.
    pub(super) fn nominate(&mut self, now: Instant, i: usize) {
        let p = &mut self.pairs[i];
        p.nominated = true;
        p.send_use_candidate = false;
        if self.nominating == Some(i) {
            self.nominating = None;
        }
        let better = match self.selected {
            None => true,
            Some(s) => s != i && self.pairs[i].priority > self.pairs[s].priority,
        };
        if better {
            self.select(now, i);
        }
    }

    fn select(&mut self, now: Instant, i: usize) {
        self.selected = Some(i);
        self.previous_route = None;
        self.consent.start(now);
        let p = &self.pairs[i];
        let (local, remote) = (
            self.locals[p.local].cand.clone(),
            self.remotes[p.remote].cand.clone(),
        );
        debug!(local = %local, remote = %remote, "selected pair");
        if let (Some(key), Some(peer)) = (
            Some(self.locals[p.local].key()).filter(|_| self.locals[p.local].relay.is_some()),
            self.remotes[p.remote].addr,
        ) {
            self.bind_channel_for(now, key, peer);
        }
        self.push_event(IceEvent::SelectedPair { local, remote });
    }

    /// Regular nomination (RFC 8445 section 8.1.1): the controlling agent re-checks the best
    /// valid pair with USE-CANDIDATE once no better pair can still succeed soon.
    pub(super) fn maybe_nominate(&mut self, now: Instant) {
        let Some((best, at)) = self.nomination_plan() else {
            return;
        };
        if at > now {
            return;
        }
        debug!(pair = best, "nominating");
        self.nominating = Some(best);
        self.pairs[best].send_use_candidate = true;
        // A fresh check with USE-CANDIDATE, sent now rather than in the next pacing slot:
        // it happens once per session and is what both sides wait for (up to Ta, 50 ms,
        // of setup time otherwise). Pacing resumes from here.
        self.triggered.retain(|t| *t != best);
        self.start_check(now, best, true);
        self.next_check_at = Some(now + self.config.ta);
        self.schedule_checks(now);
    }

    pub(super) fn nomination_timeout(&self) -> Option<Instant> {
        self.nomination_plan().map(|(_, at)| at)
    }

    /// Which pair to nominate and when: at once if no better pair is pending; when the
    /// better pairs in flight have had a round trip plus Ta to answer (a check that has not
    /// answered by then almost surely never will: it goes to an address the peer cannot
    /// be reached at); and never later than `nomination_wait` after the first valid pair.
    fn nomination_plan(&self) -> Option<(usize, Instant)> {
        if self.role != IceRole::Controlling
            || self.config.lite
            || self.nominating.is_some()
            || self.pairs.iter().any(|p| p.nominated)
        {
            return None;
        }
        let best = self.best_pair_in(PairState::Succeeded)?;
        let first_valid = self.first_valid_at?;
        let cap = first_valid + self.nomination_wait();
        if self.remote_lite {
            return Some((best, first_valid));
        }
        let best_priority = self.pairs[best].priority;
        let patience = self
            .rtt
            .map_or(self.config.nomination_delay, |rtt| rtt + self.config.ta);
        let mut at = first_valid;
        for p in self.pairs.iter().filter(|p| p.priority > best_priority) {
            match (p.state, &p.check) {
                (PairState::Frozen | PairState::Waiting, _) => at = cap,
                (PairState::InProgress, Some(c)) => at = at.max(c.started + patience),
                _ => {}
            }
        }
        Some((best, at.min(cap)))
    }

    /// How long to wait for a better pair after the first valid one: `nomination_delay`,
    /// but no more than two round trips (as measured by the first successful check) plus
    /// Ta, since a better pair that has not answered by then most likely never will.
    fn nomination_wait(&self) -> std::time::Duration {
        let cap = self
            .rtt
            .map_or(self.config.nomination_delay, |rtt| 2 * rtt + self.config.ta);
        self.config.nomination_delay.min(cap)
    }
}
