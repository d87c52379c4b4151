//! What a [`DtlsEndpoint`](super::DtlsEndpoint) holds in each state.
//!
//! A value lives in the state where it is valid, so that no method has to re-check a flag
//! against an `Option`: the handshake's deadline, the verified peer certificate and the raw
//! export exist only while handshaking; SRTP keys exist only in a [`Session`], which only a
//! completed handshake with an authenticated peer can build.

use std::time::Instant;

use super::State;
use crate::{DtlsVersion, Error, Role, SrtpKeyingMaterial, SrtpProfile};

/// The endpoint's state, with what exists in it.
pub(super) enum Phase {
    /// The handshake is running.
    Handshaking(Handshake),
    /// The handshake completed with an authenticated peer.
    Connected(Session),
    /// `close_notify` was sent or received; the session stays readable when there was one.
    Closed(Option<Session>),
    /// The endpoint gave up: it holds no certificate and no key.
    Failed(Failed),
}

/// What a running handshake has learnt so far.
#[derive(Default)]
pub(super) struct Handshake {
    /// When the handshake fails for lack of completion: set at creation for a client, at
    /// the first datagram for a server.
    pub(super) deadline: Option<Instant>,
    /// The peer's certificate (DER), once it matched one of its SDP fingerprints.
    pub(super) peer_certificate: Option<Vec<u8>>,
    /// The raw `EXTRACTOR-dtls_srtp` export, split into keys only once the handshake completed
    /// with an authenticated peer.
    pub(super) exported: Option<(SrtpProfile, Vec<u8>)>,
}

/// A completed handshake.
pub(super) struct Session {
    /// The peer's certificate (DER), which matched one of its SDP fingerprints.
    pub(super) peer_certificate: Vec<u8>,
    /// SRTP keys, when the peer negotiated `use_srtp`.
    pub(super) srtp: Option<SrtpKeyingMaterial>,
}

/// [`State::Failed`], built only from an error; held as that public value so that
/// [`Phase::state`] can lend it.
pub(super) struct Failed(State);

impl Failed {
    pub(super) fn new(error: Error) -> Self {
        Failed(State::Failed(error))
    }
}

impl Phase {
    /// The state the API reports.
    pub(super) fn state(&self) -> &State {
        match self {
            Phase::Handshaking(_) => &State::Handshaking,
            Phase::Connected(_) => &State::Connected,
            Phase::Closed(_) => &State::Closed,
            Phase::Failed(Failed(state)) => state,
        }
    }

    /// Whether the endpoint still runs (handshaking or connected).
    pub(super) fn is_active(&self) -> bool {
        matches!(self, Phase::Handshaking(_) | Phase::Connected(_))
    }

    /// The session, once connected (and after a close that followed).
    pub(super) fn session(&self) -> Option<&Session> {
        match self {
            Phase::Connected(session) | Phase::Closed(Some(session)) => Some(session),
            _ => None,
        }
    }

    /// Handshaking or connected becomes closed, a connected session kept; closed and failed
    /// stay as they are.
    pub(super) fn close(&mut self) {
        *self = match std::mem::replace(self, Phase::Closed(None)) {
            Phase::Handshaking(_) => Phase::Closed(None),
            Phase::Connected(session) => Phase::Closed(Some(session)),
            ended @ (Phase::Closed(_) | Phase::Failed(_)) => ended,
        };
    }
}

impl Handshake {
    /// The engine completed the handshake: the session it built, with its version, or why it
    /// must not be used. Without a verified peer certificate there is no session, so no key.
    pub(super) fn finish(
        self,
        role: Role,
        version: Option<DtlsVersion>,
    ) -> Result<(Session, DtlsVersion), Error> {
        let peer_certificate = self.peer_certificate.ok_or(Error::NoPeerCertificate)?;
        let version =
            version.ok_or_else(|| Error::Protocol("connected without a known version".into()))?;
        let srtp = match self.exported {
            Some((profile, exported)) => {
                Some(SrtpKeyingMaterial::from_exported(profile, role, &exported)?)
            }
            None => None,
        };
        let session = Session {
            peer_certificate,
            srtp,
        };
        Ok((session, version))
    }
}
