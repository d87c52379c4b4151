//! SRTP for the connection: the keys DTLS exported, and the session made from them when
//! media first needs it.

use rtcweb_dtls::SrtpKeyingMaterial;
use tracing::warn;

/// The SRTP state, from no keys to a running session.
#[derive(Default)]
pub(super) struct Srtp {
    state: State,
}

#[derive(Default)]
enum State {
    /// DTLS has not produced keys (or the peer negotiated no SRTP).
    #[default]
    NoKeys,
    /// Keys from the DTLS handshake. The session is made from them on first use: a
    /// connection without media never needs one, and it is the largest part of a
    /// connection (two directions of cipher and replay state).
    Keyed {
        profile: &'static str,
        keys: Box<SrtpKeyingMaterial>,
    },
    Ready {
        profile: &'static str,
        session: Box<rtcweb_srtp::Session>,
    },
    /// The session could not be made from the keys.
    Unusable { profile: &'static str },
}

impl Srtp {
    /// Keeps the keys of a connected DTLS endpoint; the session is made when media first
    /// needs it ([`Srtp::session`]).
    pub(super) fn start(&mut self, keys: SrtpKeyingMaterial) {
        match rtcweb_srtp::ProtectionProfile::from_id(keys.profile.id()) {
            Ok(profile) => {
                self.state = State::Keyed {
                    profile: profile.name(),
                    keys: Box::new(keys),
                };
            }
            Err(e) => warn!(error = %e, "SRTP profile not supported"),
        }
    }

    /// The protection profile in use, once DTLS produced keys.
    pub(super) fn profile(&self) -> Option<&'static str> {
        match &self.state {
            State::NoKeys => None,
            State::Keyed { profile, .. }
            | State::Ready { profile, .. }
            | State::Unusable { profile } => Some(profile),
        }
    }

    /// SRTP and SRTCP packets refused (authentication, replay).
    pub(super) fn errors(&self) -> u64 {
        match &self.state {
            State::Ready { session, .. } => session.stats().errors(),
            _ => 0,
        }
    }

    /// The SRTP session, made from the DTLS keys on first use; `None` before DTLS is up.
    pub(super) fn session(&mut self) -> Option<&mut rtcweb_srtp::Session> {
        if let State::Keyed { profile, keys } = &self.state {
            let profile = *profile;
            self.state = match make_session(keys) {
                Ok(session) => State::Ready {
                    profile,
                    session: Box::new(session),
                },
                Err(e) => {
                    warn!(error = %e, "SRTP session could not be created");
                    State::Unusable { profile }
                }
            };
        }
        match &mut self.state {
            State::Ready { session, .. } => Some(session),
            _ => None,
        }
    }
}

fn make_session(keys: &SrtpKeyingMaterial) -> Result<rtcweb_srtp::Session, rtcweb_srtp::Error> {
    let profile = rtcweb_srtp::ProtectionProfile::from_id(keys.profile.id())?;
    let local = rtcweb_srtp::MasterKey::new(profile, &keys.local.key, &keys.local.salt)?;
    let remote = rtcweb_srtp::MasterKey::new(profile, &keys.remote.key, &keys.remote.salt)?;
    // Video needs a wider replay window than the default 64 (RTX and reordering).
    let config = rtcweb_srtp::Config::default().with_replay_window(512);
    rtcweb_srtp::Session::new(profile, &local, &remote, config)
}
