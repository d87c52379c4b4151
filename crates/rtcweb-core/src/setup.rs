//! The `a=setup` attribute (RFC 4145 section 4, as used for DTLS by RFC 8842 section 5) and the
//! role it gives, which DTLS and SCTP both follow.
//!
//! ```
//! use rtcweb_core::{Role, Setup};
//!
//! // The offerer says actpass; the answerer takes the active role (RFC 8842 section 5.3).
//! let answer = Setup::answer_to(Setup::ActPass)?;
//! assert_eq!(answer, Setup::Active);
//! assert_eq!(Role::from_setup(answer, Setup::ActPass)?, Role::Client);
//! assert_eq!(Role::from_setup(Setup::ActPass, answer)?, Role::Server);
//! # Ok::<(), rtcweb_core::Error>(())
//! ```

use std::fmt;
use std::str::FromStr;

use crate::Error;

/// A value of `a=setup`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Setup {
    /// `active`: this endpoint initiates the DTLS handshake (is the DTLS client).
    Active,
    /// `passive`: this endpoint waits for the handshake (is the DTLS server).
    Passive,
    /// `actpass`: either; only valid in an offer (RFC 8842 section 5.2).
    ActPass,
    /// `holdconn`: no connection for now; never valid for DTLS-SRTP (RFC 8842 section 5.1).
    HoldConn,
}

impl Setup {
    /// The token as written in SDP.
    pub fn as_str(self) -> &'static str {
        match self {
            Setup::Active => "active",
            Setup::Passive => "passive",
            Setup::ActPass => "actpass",
            Setup::HoldConn => "holdconn",
        }
    }

    /// The `a=setup` an answerer uses for an offer's value.
    ///
    /// An offer of `actpass` is answered with `active` (RFC 8842 section 5.3: the answerer
    /// SHOULD take the active role, which saves a round trip because the offerer already
    /// listens); `active` with `passive` and `passive` with `active`.
    pub fn answer_to(offer: Setup) -> Result<Setup, Error> {
        match offer {
            Setup::ActPass | Setup::Passive => Ok(Setup::Active),
            Setup::Active => Ok(Setup::Passive),
            Setup::HoldConn => Err(Error::IncompatibleSetup {
                local: Setup::HoldConn,
                remote: offer,
            }),
        }
    }
}

impl From<Role> for Setup {
    /// The `a=setup` that takes `role` outright: `active` for the client, `passive` for the
    /// server.
    fn from(role: Role) -> Self {
        match role {
            Role::Client => Setup::Active,
            Role::Server => Setup::Passive,
        }
    }
}

impl fmt::Display for Setup {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Setup {
    type Err = Error;

    /// RFC 4145 tokens are case-sensitive in the grammar; peers in the wild write them in
    /// lowercase, and we accept any case because nothing is ambiguous.
    fn from_str(s: &str) -> Result<Self, Error> {
        [
            Setup::Active,
            Setup::Passive,
            Setup::ActPass,
            Setup::HoldConn,
        ]
        .into_iter()
        .find(|v| v.as_str().eq_ignore_ascii_case(s.trim()))
        .ok_or_else(|| Error::MalformedSetup(s.to_owned()))
    }
}

/// Which side of the DTLS handshake this endpoint plays, as `a=setup` decided it.
///
/// SCTP over DTLS follows the same role: the DTLS client sends the SCTP INIT and opens data
/// channels on even stream ids, the server on odd ones (RFC 8832 section 6).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    /// Sends the ClientHello (`a=setup:active`).
    Client,
    /// Answers the ClientHello (`a=setup:passive`).
    Server,
}

impl Role {
    /// The role given by the negotiated pair of `a=setup` values (ours and the peer's, one of
    /// them from the offer and the other from the answer).
    ///
    /// Exactly one side must end up active: `actpass` takes the role the other side left
    /// open. `holdconn`, two actives, two passives and two actpass are
    /// [`Error::IncompatibleSetup`].
    pub fn from_setup(local: Setup, remote: Setup) -> Result<Role, Error> {
        use Setup::*;
        match (local, remote) {
            (Active, Passive | ActPass) | (ActPass, Passive) => Ok(Role::Client),
            (Passive, Active | ActPass) | (ActPass, Active) => Ok(Role::Server),
            _ => Err(Error::IncompatibleSetup { local, remote }),
        }
    }

    /// Whether this is the DTLS client.
    pub fn is_client(self) -> bool {
        self == Role::Client
    }

    /// The peer's role.
    pub fn opposite(self) -> Role {
        match self {
            Role::Client => Role::Server,
            Role::Server => Role::Client,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_and_print() {
        for v in [
            Setup::Active,
            Setup::Passive,
            Setup::ActPass,
            Setup::HoldConn,
        ] {
            assert_eq!(v.to_string().parse::<Setup>(), Ok(v));
        }
        assert_eq!("ACTPASS".parse::<Setup>(), Ok(Setup::ActPass));
        assert!(matches!(
            "act".parse::<Setup>(),
            Err(Error::MalformedSetup(_))
        ));
        assert!("".parse::<Setup>().is_err());
    }

    #[test]
    fn every_pair() {
        use Setup::*;
        let all = [Active, Passive, ActPass, HoldConn];
        for local in all {
            for remote in all {
                let got = Role::from_setup(local, remote);
                let want = match (local, remote) {
                    (Active, Passive) | (Active, ActPass) | (ActPass, Passive) => Ok(Role::Client),
                    (Passive, Active) | (Passive, ActPass) | (ActPass, Active) => Ok(Role::Server),
                    _ => Err(Error::IncompatibleSetup { local, remote }),
                };
                assert_eq!(got, want, "{local} / {remote}");
                // The two sides always agree: when one is the client the other is the server.
                if let Ok(role) = got {
                    let other = Role::from_setup(remote, local).unwrap();
                    assert_ne!(role, other);
                    assert_eq!(role.opposite(), other);
                }
            }
        }
    }

    #[test]
    fn answers() {
        assert_eq!(Setup::answer_to(Setup::ActPass), Ok(Setup::Active));
        assert_eq!(Setup::answer_to(Setup::Active), Ok(Setup::Passive));
        assert_eq!(Setup::answer_to(Setup::Passive), Ok(Setup::Active));
        assert!(Setup::answer_to(Setup::HoldConn).is_err());
        for offer in [Setup::ActPass, Setup::Active, Setup::Passive] {
            let answer = Setup::answer_to(offer).unwrap();
            assert!(Role::from_setup(answer, offer).is_ok());
        }
    }

    #[test]
    fn a_role_taken_outright_is_that_role() {
        for role in [Role::Client, Role::Server] {
            assert_eq!(Role::from_setup(role.into(), Setup::ActPass), Ok(role));
        }
    }
}
