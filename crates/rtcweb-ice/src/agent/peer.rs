//! What the agent knows of its peer for the current session: credentials, whether it is
//! ICE-lite, and its candidates (signalled, trickled, resolved from mDNS, or learned as
//! peer-reflexive, RFC 8445 section 7.3.1.3). An ICE restart forgets all of it.

use std::net::{IpAddr, SocketAddr};

use rtcweb_stun::IntegrityKey;

use crate::config::Credentials;
use crate::error::Error;
use crate::{Candidate, CandidateAddress, CandidateKind, Transport};

/// A remote candidate, resolved or waiting for mDNS.
#[derive(Debug, Clone)]
pub(super) struct RemoteCandidate {
    cand: Candidate,
    addr: Option<SocketAddr>,
}

impl RemoteCandidate {
    pub(super) fn cand(&self) -> &Candidate {
        &self.cand
    }

    /// Its transport address; `None` while an mDNS name waits to be resolved.
    pub(super) fn addr(&self) -> Option<SocketAddr> {
        self.addr
    }
}

/// The peer as the current session knows it.
#[derive(Debug, Default)]
pub(super) struct Peer {
    credentials: Option<Credentials>,
    /// HMAC key of the peer's password, scheduled once (every check uses it).
    key: Option<IntegrityKey>,
    lite: bool,
    candidates: Vec<RemoteCandidate>,
    end_of_candidates: bool,
    /// Peer-reflexive candidates learned so far, to name their foundations.
    prflx_count: usize,
}

impl Peer {
    /// Sets the credentials; `false` when they are the ones already known.
    pub(super) fn set_credentials(&mut self, credentials: Credentials) -> bool {
        if self.credentials.as_ref() == Some(&credentials) {
            return false;
        }
        self.key = Some(IntegrityKey::short_term(&credentials.pwd));
        self.credentials = Some(credentials);
        true
    }

    pub(super) fn credentials(&self) -> Option<&Credentials> {
        self.credentials.as_ref()
    }

    pub(super) fn key(&self) -> Option<&IntegrityKey> {
        self.key.as_ref()
    }

    pub(super) fn set_lite(&mut self, lite: bool) {
        self.lite = lite;
    }

    pub(super) fn is_lite(&self) -> bool {
        self.lite
    }

    pub(super) fn candidates(&self) -> &[RemoteCandidate] {
        &self.candidates
    }

    /// Adds a signalled candidate (at most `max` candidates in all). `Ok(Some(index))` for a
    /// new candidate to pair, `Ok(None)` when it was known (a peer-reflexive one it
    /// replaces keeps its index and pairs).
    pub(super) fn add(&mut self, cand: Candidate, max: usize) -> Result<Option<usize>, Error> {
        if cand.component != 1 {
            return Err(Error::UnsupportedComponent(cand.component));
        }
        if cand.transport != Transport::Udp {
            return Err(Error::UnsupportedTransport("tcp".into()));
        }
        if self.candidates.len() >= max {
            return Err(Error::TooManyCandidates);
        }
        if self
            .candidates
            .iter()
            .any(|r| r.cand.address == cand.address && r.cand.kind != CandidateKind::PeerReflexive)
        {
            return Ok(None);
        }
        // A signalled candidate for an address already learned as peer-reflexive takes
        // over its place (RFC 8445 section 7.3.1.3 allows the update).
        let addr = cand.addr();
        if let Some(i) = self.candidates.iter().position(|r| {
            r.cand.kind == CandidateKind::PeerReflexive && addr.is_some() && r.addr == addr
        }) {
            self.candidates[i].cand = cand;
            return Ok(None);
        }
        self.candidates.push(RemoteCandidate { cand, addr });
        Ok(Some(self.candidates.len() - 1))
    }

    /// Gives every unresolved candidate named `name` its address; their indices, to pair.
    pub(super) fn resolve_mdns(&mut self, name: &str, ip: IpAddr) -> Vec<usize> {
        let mut resolved = Vec::new();
        for (i, r) in self.candidates.iter_mut().enumerate() {
            if r.addr.is_some() {
                continue;
            }
            if let CandidateAddress::Mdns { name: n, port } = &r.cand.address
                && n.eq_ignore_ascii_case(name)
            {
                r.addr = Some(SocketAddr::new(ip, *port));
                resolved.push(i);
            }
        }
        resolved
    }

    /// The candidate at `addr`, learning a peer-reflexive one if it is new (within `max`
    /// candidates): (index, newly learned).
    pub(super) fn candidate_at(
        &mut self,
        addr: SocketAddr,
        priority: u32,
        max: usize,
    ) -> Option<(usize, bool)> {
        if let Some(i) = self.candidates.iter().position(|r| r.addr == Some(addr)) {
            return Some((i, false));
        }
        if self.candidates.len() >= max {
            tracing::trace!(%addr, "peer-reflexive candidate over the limit ignored");
            return None;
        }
        self.prflx_count += 1;
        let cand = Candidate {
            foundation: format!("prflx{}", self.prflx_count),
            component: 1,
            transport: Transport::Udp,
            priority,
            address: CandidateAddress::Ip(addr),
            kind: CandidateKind::PeerReflexive,
            related: None,
            extensions: Vec::new(),
        };
        self.candidates.push(RemoteCandidate {
            cand,
            addr: Some(addr),
        });
        Some((self.candidates.len() - 1, true))
    }

    /// Whether a candidate of the peer is at `addr`.
    pub(super) fn knows(&self, addr: SocketAddr) -> bool {
        self.candidates.iter().any(|r| r.addr == Some(addr))
    }

    /// Whether every candidate has an address (no mDNS name is pending).
    pub(super) fn all_resolved(&self) -> bool {
        self.candidates.iter().all(|r| r.addr.is_some())
    }

    pub(super) fn set_end_of_candidates(&mut self) {
        self.end_of_candidates = true;
    }

    pub(super) fn end_of_candidates(&self) -> bool {
        self.end_of_candidates
    }
}
