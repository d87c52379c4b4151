//! The check list (RFC 8445 sections 6.1 and 7.2): forming and pruning pairs, the frozen
//! algorithm, pacing, retransmission and responses; `nomination` picks and selects a pair.
//!
//! [`CheckList`] owns the pairs and what selection and nomination depend on; it decides,
//! and the agent (`outbound`, `inbound`) builds the checks and sends them.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use rtcweb_stun::{
    Attribute, AttributeType, ClientTransaction, ErrorCode, IntegrityKey, Message,
    TransactionConfig, TransactionId, TransactionState,
};
use tracing::{debug, trace};

mod nomination;

use super::gather::{Gatherer, LocalCandidate};
use super::peer::{Peer, RemoteCandidate};
use crate::config::{IceConfig, IceRole, TransportPolicy};
use crate::pair::{PairState, PairStats, pair_priority};
use crate::{CandidateKind, Transport};

/// A check in flight on a pair.
#[derive(Debug, Clone)]
struct Check {
    tid: TransactionId,
    timing: ClientTransaction,
    use_candidate: bool,
    /// The role the request claimed (ICE-CONTROLLING or ICE-CONTROLLED).
    role: IceRole,
    bytes: Vec<u8>,
    /// When the first transmission left, for the round-trip estimate.
    started: Instant,
}

/// One local candidate paired with one remote candidate (by their indices).
#[derive(Debug, Clone)]
struct Pair {
    local: usize,
    remote: usize,
    priority: u64,
    foundation: (String, String),
    state: PairState,
    check: Option<Check>,
    /// The controlling agent nominated this pair and both sides agree it is usable.
    nominated: bool,
    /// Controlled side: the peer sent USE-CANDIDATE before our own check succeeded.
    nominate_on_success: bool,
    /// Controlling side: the next check of this pair carries USE-CANDIDATE.
    send_use_candidate: bool,
    /// When the pair last got an authenticated response (consent, RFC 7675).
    last_response: Option<Instant>,
    /// Round-trip time of the latest successful check on this pair.
    rtt: Option<Duration>,
}

impl Pair {
    fn new(local: usize, remote: usize, priority: u64, foundation: (String, String)) -> Self {
        Self {
            local,
            remote,
            priority,
            foundation,
            state: PairState::Frozen,
            check: None,
            nominated: false,
            nominate_on_success: false,
            send_use_candidate: false,
            last_response: None,
            rtt: None,
        }
    }
}

/// The candidates pairs refer to, lent by their owners.
#[derive(Debug, Clone, Copy)]
pub(super) struct Candidates<'a> {
    locals: &'a [LocalCandidate],
    remotes: &'a [RemoteCandidate],
}

impl<'a> Candidates<'a> {
    pub(super) fn of(gatherer: &'a Gatherer, peer: &'a Peer) -> Self {
        Self {
            locals: gatherer.candidates(),
            remotes: peer.candidates(),
        }
    }

    /// A pair's route: the local key and the remote address.
    fn route(&self, p: &Pair) -> (SocketAddr, Option<SocketAddr>) {
        (self.locals[p.local].key(), self.remotes[p.remote].addr())
    }
}

/// What a check response meant for its pair.
#[derive(Debug)]
pub(super) enum Answer {
    /// The pair failed (asymmetric addresses, or an error other than a role conflict).
    Failed,
    /// 487 Role Conflict (section 7.2.5.1): the request claimed `claimed`.
    RoleConflict { pair: usize, claimed: IceRole },
    /// The pair is valid; the peer saw us at `mapped`.
    Success {
        pair: usize,
        use_candidate: bool,
        mapped: Option<SocketAddr>,
    },
}

/// What a check from the peer means for the pair it came on (section 7.3.1.4).
#[derive(Debug)]
pub(super) enum Triggered {
    /// Nothing to do: the pair is valid.
    Nothing,
    /// Our check on it is in flight: send it again at once.
    Resend(Vec<u8>),
    /// The pair is queued for a triggered check.
    Queued,
}

/// The check list and selection.
#[derive(Debug, Default)]
pub(super) struct CheckList {
    pairs: Vec<Pair>,
    /// Pairs to check before any other, in order.
    triggered: VecDeque<usize>,
    /// When the next paced check may go out.
    next_check_at: Option<Instant>,
    selected: Option<usize>,
    /// The pair being nominated (its USE-CANDIDATE check in flight).
    nominating: Option<usize>,
    first_valid_at: Option<Instant>,
    /// Round-trip time of the first successful check.
    rtt: Option<Duration>,
}

impl CheckList {
    /// Pairs local candidate `local` with every remote candidate.
    pub(super) fn pair_local(
        &mut self,
        local: usize,
        cands: Candidates<'_>,
        role: IceRole,
        config: &IceConfig,
    ) {
        for remote in 0..cands.remotes.len() {
            self.add_pair(local, remote, cands, role, config);
        }
    }

    /// Pairs remote candidate `remote` with every local candidate.
    pub(super) fn pair_remote(
        &mut self,
        remote: usize,
        cands: Candidates<'_>,
        role: IceRole,
        config: &IceConfig,
    ) {
        for local in 0..cands.locals.len() {
            self.add_pair(local, remote, cands, role, config);
        }
    }

    /// Adds the pair unless pruning (RFC 8445 section 6.1.2.4) removes it: only host and
    /// relayed locals are paired (a server-reflexive local is its base, so its pair would
    /// be redundant), families must match, and an identical pair is not added twice.
    fn add_pair(
        &mut self,
        local: usize,
        remote: usize,
        cands: Candidates<'_>,
        role: IceRole,
        config: &IceConfig,
    ) -> Option<usize> {
        if config.lite {
            return None;
        }
        let l = &cands.locals[local];
        let r = &cands.remotes[remote];
        let raddr = r.addr()?;
        let usable_kind = match l.cand().kind {
            CandidateKind::Host => config.policy == TransportPolicy::All,
            CandidateKind::Relayed => true,
            _ => false,
        };
        let key = l.key();
        if !usable_kind || key.is_ipv4() != raddr.is_ipv4() || l.cand().transport != Transport::Udp
        {
            return None;
        }
        // Loopback only talks to loopback.
        if key.ip().is_loopback() != raddr.ip().is_loopback() {
            return None;
        }
        if self
            .pairs
            .iter()
            .any(|p| cands.route(p) == (key, Some(raddr)))
        {
            return None;
        }
        let (g, d) = match role {
            IceRole::Controlling => (l.cand().priority, r.cand().priority),
            IceRole::Controlled => (r.cand().priority, l.cand().priority),
        };
        let mut pair = Pair::new(
            local,
            remote,
            pair_priority(g, d),
            (l.cand().foundation.clone(), r.cand().foundation.clone()),
        );
        // RFC 8838 section 10: a new pair whose foundation has no active pair starts
        // Waiting, otherwise Frozen.
        let active_foundation = self.pairs.iter().any(|p| {
            p.foundation == pair.foundation
                && matches!(
                    p.state,
                    PairState::Waiting | PairState::InProgress | PairState::Succeeded
                )
        });
        if !active_foundation {
            pair.state = PairState::Waiting;
        }
        if self.pairs.len() >= config.max_pairs {
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

    /// Pair priorities after a role change.
    pub(super) fn recompute_priorities(&mut self, cands: Candidates<'_>, role: IceRole) {
        for p in &mut self.pairs {
            let (l, r) = (
                cands.locals[p.local].cand().priority,
                cands.remotes[p.remote].cand().priority,
            );
            p.priority = match role {
                IceRole::Controlling => pair_priority(l, r),
                IceRole::Controlled => pair_priority(r, l),
            };
        }
    }

    /// Makes sure the pacing timer runs if there is anything to check. `ready`: the agent
    /// checks at all (full, with the peer's credentials).
    pub(super) fn schedule(&mut self, now: Instant, ready: bool) {
        if self.next_check_at.is_none() && self.has_work(ready) {
            self.next_check_at = Some(now);
        }
    }

    fn has_work(&self, ready: bool) -> bool {
        ready
            && (!self.triggered.is_empty()
                || self
                    .pairs
                    .iter()
                    .any(|p| matches!(p.state, PairState::Waiting | PairState::Frozen)))
    }

    /// The pair whose check goes out in this pacing slot, with whether it carries
    /// USE-CANDIDATE: a triggered one first, then the highest-priority Waiting pair, then
    /// (when nothing waits) the best Frozen pair, unfrozen. At most one per Ta.
    pub(super) fn next_paced(
        &mut self,
        now: Instant,
        ready: bool,
        ta: Duration,
    ) -> Option<(usize, bool)> {
        let at = self.next_check_at?;
        if at > now {
            return None;
        }
        if !self.has_work(ready) {
            self.next_check_at = None;
            return None;
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
        self.next_check_at = Some(now + ta);
        next.map(|i| (i, self.pairs[i].send_use_candidate))
    }

    fn best_pair_in(&self, state: PairState) -> Option<usize> {
        self.pairs
            .iter()
            .enumerate()
            .filter(|(_, p)| p.state == state)
            .max_by_key(|(_, p)| p.priority)
            .map(|(i, _)| i)
    }

    /// A check (transaction `tid`, datagram `bytes`) starts on pair `i`.
    pub(super) fn begin_check(
        &mut self,
        now: Instant,
        i: usize,
        (tid, bytes): (TransactionId, Vec<u8>),
        use_candidate: bool,
        role: IceRole,
        config: &IceConfig,
    ) {
        let timing = ClientTransaction::new(
            now,
            tid,
            TransactionConfig {
                rto: config.check_rto,
                rc: config.check_max_transmits,
                rm: 4,
                ..TransactionConfig::default()
            },
        );
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
    }

    /// The datagram of pair `i`'s check in flight, as (from, to, bytes).
    pub(super) fn transmission(
        &self,
        i: usize,
        cands: Candidates<'_>,
    ) -> Option<(SocketAddr, SocketAddr, Vec<u8>)> {
        let p = &self.pairs[i];
        let check = p.check.as_ref()?;
        let (source, dest) = cands.route(p);
        let dest = dest?;
        trace!(%source, %dest, use_candidate = check.use_candidate, "connectivity check");
        Some((source, dest, check.bytes.clone()))
    }

    /// Fails the checks that ran out of time; the ones due again, as (from, to, bytes).
    pub(super) fn handle_timeout(
        &mut self,
        now: Instant,
        cands: Candidates<'_>,
    ) -> Vec<(SocketAddr, SocketAddr, Vec<u8>)> {
        let mut resend = Vec::new();
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
                        resend.extend(self.transmission(i, cands));
                    }
                }
                TransactionState::Completed => {}
            }
        }
        resend
    }

    pub(super) fn poll_timeout(&self, ready: bool) -> Option<Instant> {
        let retransmits = self
            .pairs
            .iter()
            .filter_map(|p| p.check.as_ref().and_then(|c| c.timing.poll_timeout()))
            .min();
        let pacing = self.next_check_at.filter(|_| self.has_work(ready));
        [retransmits, pacing].into_iter().flatten().min()
    }

    /// A Binding response that arrived on `local` from `remote`: `None` if it answers none
    /// of our checks or fails authentication with the peer's `key`.
    pub(super) fn handle_response(
        &mut self,
        now: Instant,
        local: SocketAddr,
        remote: SocketAddr,
        msg: &Message<&[u8]>,
        key: Option<&IntegrityKey>,
        cands: Candidates<'_>,
    ) -> Option<Answer> {
        let tid = msg.transaction_id();
        let Some(i) = self
            .pairs
            .iter()
            .position(|p| p.check.as_ref().is_some_and(|c| c.tid == tid))
        else {
            trace!("response for an unknown transaction dropped");
            return None;
        };
        // RFC 8445 section 7.2.5.2: a response without valid integrity is ignored.
        if msg.verify_message_integrity(key?).is_err() {
            trace!("check response with bad integrity dropped");
            return None;
        }
        let p = &mut self.pairs[i];
        let (psource, pdest) = cands.route(p);
        let check = p.check.take()?;
        let rtt = now.saturating_duration_since(check.started);
        self.rtt.get_or_insert(rtt);
        p.rtt = Some(rtt);
        // Non-symmetric addresses fail the pair (section 7.2.5.2.1).
        if psource != local || pdest != Some(remote) {
            p.state = PairState::Failed;
            return Some(Answer::Failed);
        }
        if msg.class() == rtcweb_stun::Class::ErrorResponse {
            let code = match msg.attribute(AttributeType::ERROR_CODE) {
                Some(Ok(Attribute::ErrorCode(e))) => e.code,
                _ => 0,
            };
            if code == ErrorCode::ROLE_CONFLICT {
                return Some(Answer::RoleConflict {
                    pair: i,
                    claimed: check.role,
                });
            }
            p.state = PairState::Failed;
            return Some(Answer::Failed);
        }
        let mapped = match msg.attribute(AttributeType::XOR_MAPPED_ADDRESS) {
            Some(Ok(Attribute::XorMappedAddress(mapped))) => Some(mapped),
            _ => None,
        };
        Some(Answer::Success {
            pair: i,
            use_candidate: check.use_candidate,
            mapped,
        })
    }

    /// After a role conflict, pair `i` is checked again in the new role.
    pub(super) fn retry(&mut self, i: usize) {
        if self.pairs[i].state != PairState::Succeeded {
            self.pairs[i].state = PairState::Waiting;
        }
        self.triggered.push_back(i);
    }

    /// A check on pair `i` succeeded: it is valid, and its foundation thaws. `true` if the
    /// pair is nominated by it.
    pub(super) fn succeeded(
        &mut self,
        now: Instant,
        i: usize,
        use_candidate: bool,
        role: IceRole,
    ) -> bool {
        let p = &mut self.pairs[i];
        p.state = PairState::Succeeded;
        p.last_response = Some(now);
        let foundation = p.foundation.clone();
        let nominated = (use_candidate && role == IceRole::Controlling)
            || (p.nominate_on_success && role == IceRole::Controlled);
        // Unfreeze the pairs that share this foundation (section 7.2.5.3.3).
        for q in &mut self.pairs {
            if q.state == PairState::Frozen && q.foundation == foundation {
                q.state = PairState::Waiting;
            }
        }
        self.first_valid_at.get_or_insert(now);
        nominated
    }

    /// Pair `i`'s (local, remote) candidate indices.
    pub(super) fn ends(&self, i: usize) -> (usize, usize) {
        (self.pairs[i].local, self.pairs[i].remote)
    }

    /// The peer answered a consent check on pair `i`.
    pub(super) fn note_response(&mut self, i: usize, now: Instant) {
        if let Some(p) = self.pairs.get_mut(i) {
            p.last_response = Some(now);
        }
    }

    /// The pair that carries `local` and `remote`.
    pub(super) fn find(
        &self,
        local: SocketAddr,
        remote: SocketAddr,
        cands: Candidates<'_>,
    ) -> Option<usize> {
        self.pairs
            .iter()
            .position(|p| cands.route(p) == (local, Some(remote)))
    }

    /// A lite agent's pair for (local, remote), created on first use and valid at once:
    /// the peer's check is the proof (RFC 8445 section 7.3.2 for lite).
    pub(super) fn lite_pair(
        &mut self,
        now: Instant,
        local: usize,
        remote: usize,
        cands: Candidates<'_>,
    ) -> usize {
        let i = match self
            .pairs
            .iter()
            .position(|p| p.local == local && p.remote == remote)
        {
            Some(i) => i,
            None => {
                let (l, r) = (cands.locals[local].cand(), cands.remotes[remote].cand());
                self.pairs.push(Pair::new(
                    local,
                    remote,
                    pair_priority(r.priority, l.priority),
                    (l.foundation.clone(), r.foundation.clone()),
                ));
                self.pairs.len() - 1
            }
        };
        self.pairs[i].state = PairState::Succeeded;
        self.pairs[i].last_response = Some(now);
        i
    }

    /// The peer checked us on pair `i` (section 7.3.1.4).
    pub(super) fn peer_checked(&mut self, i: usize) -> Triggered {
        let p = &mut self.pairs[i];
        match p.state {
            PairState::Succeeded => Triggered::Nothing,
            PairState::InProgress => {
                // Retransmit at once: both sides behind NATs finish faster.
                p.check
                    .as_ref()
                    .map_or(Triggered::Nothing, |c| Triggered::Resend(c.bytes.clone()))
            }
            PairState::Frozen | PairState::Waiting | PairState::Failed => {
                p.state = PairState::Waiting;
                if !self.triggered.contains(&i) {
                    self.triggered.push_back(i);
                }
                Triggered::Queued
            }
        }
    }

    /// Whether no check is pending or running any more.
    pub(super) fn all_done(&self) -> bool {
        !self.pairs.iter().any(|p| {
            matches!(
                p.state,
                PairState::Frozen | PairState::Waiting | PairState::InProgress
            )
        })
    }

    /// Whether every pair failed (also when there are none).
    pub(super) fn all_failed(&self) -> bool {
        self.pairs.iter().all(|p| p.state == PairState::Failed)
    }

    pub(super) fn is_empty(&self) -> bool {
        self.pairs.is_empty()
    }

    /// Forgets the session's pairs (an ICE restart); pacing keeps its slot.
    pub(super) fn reset(&mut self) {
        *self = Self {
            next_check_at: self.next_check_at,
            ..Self::default()
        };
    }

    /// Forgets pairs and selection (closing).
    pub(super) fn close(&mut self) {
        self.pairs.clear();
        self.triggered.clear();
        self.selected = None;
    }

    /// Counts of pairs by state: (frozen, waiting, in progress, succeeded, failed).
    pub(super) fn counts(&self) -> [usize; 5] {
        let mut out = [0; 5];
        for p in &self.pairs {
            out[match p.state {
                PairState::Frozen => 0,
                PairState::Waiting => 1,
                PairState::InProgress => 2,
                PairState::Succeeded => 3,
                PairState::Failed => 4,
            }] += 1;
        }
        out
    }

    /// Every pair with its state, for `getStats`.
    pub(super) fn stats(&self, cands: Candidates<'_>) -> Vec<PairStats> {
        self.pairs
            .iter()
            .enumerate()
            .map(|(i, p)| PairStats {
                local: cands.locals[p.local].cand().clone(),
                remote: cands.remotes[p.remote].cand().clone(),
                state: p.state,
                nominated: p.nominated,
                selected: self.selected == Some(i),
                rtt: p.rtt,
            })
            .collect()
    }
}
