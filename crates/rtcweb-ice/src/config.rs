//! Agent configuration, credentials and roles.

use std::net::SocketAddr;
use std::time::Duration;

use crate::error::Error;

/// Which side decides on the pair to use (RFC 8445 section 6.1.1). The offerer of a session
/// starts controlling, unless it is ICE-lite.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IceRole {
    /// Nominates the pair.
    Controlling,
    /// Follows the controlling agent's nomination.
    Controlled,
}

/// Which candidates the agent may use (the W3C `iceTransportPolicy`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TransportPolicy {
    /// Every candidate.
    #[default]
    All,
    /// Only relayed candidates: the peer never learns our addresses.
    Relay,
}

/// ICE username fragment and password (RFC 8839 section 5.4).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Credentials {
    /// `ice-ufrag`: at least 4 ice-chars.
    pub ufrag: String,
    /// `ice-pwd`: at least 22 ice-chars.
    pub pwd: String,
}

fn is_ice_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'+' || b == b'/'
}

impl Credentials {
    /// Credentials after checking RFC 8839's length and character rules.
    pub fn new(ufrag: &str, pwd: &str) -> Result<Self, Error> {
        if !(4..=256).contains(&ufrag.len()) || !ufrag.bytes().all(is_ice_char) {
            return Err(Error::InvalidCredentials("ufrag needs 4-256 ice-chars"));
        }
        if !(22..=256).contains(&pwd.len()) || !pwd.bytes().all(is_ice_char) {
            return Err(Error::InvalidCredentials("pwd needs 22-256 ice-chars"));
        }
        Ok(Self {
            ufrag: ufrag.to_owned(),
            pwd: pwd.to_owned(),
        })
    }

    /// Fresh random credentials (8-character ufrag, 24-character password) from `random`.
    pub fn random(random: &mut impl FnMut() -> u64) -> Self {
        const CHARS: &[u8; 64] =
            b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        let mut take = |n: usize| -> String {
            (0..n)
                .map(|_| char::from(CHARS[(random() % 64) as usize]))
                .collect()
        };
        Self {
            ufrag: take(8),
            pwd: take(24),
        }
    }
}

/// Agent settings. The defaults follow RFC 8445, RFC 7675 and what browsers do.
#[derive(Debug, Clone)]
pub struct IceConfig {
    /// Be an ICE-lite agent (RFC 8445 section 2.5): host candidates only, no checks of our
    /// own, always controlled. Servers with a public address use this.
    pub lite: bool,
    /// Pacing interval between new checks (Ta, RFC 8445 section 14.2).
    pub ta: Duration,
    /// Initial retransmission timeout of a connectivity check; it doubles per retransmit.
    pub check_rto: Duration,
    /// Transmissions of one check before the pair fails.
    pub check_max_transmits: u32,
    /// Initial retransmission timeout of a gathering request (to a STUN server).
    pub gather_rto: Duration,
    /// Transmissions of a gathering request before that server is given up.
    pub gather_max_transmits: u32,
    /// How long the controlling agent waits for a better pair after the first valid one
    /// before nominating the best valid pair.
    pub nomination_delay: Duration,
    /// Mean interval of consent checks (RFC 7675: 5 s, randomized by ±20 %).
    pub consent_interval: Duration,
    /// Without a consent response for this long, sending stops and the agent fails
    /// (RFC 7675: 30 s).
    pub consent_timeout: Duration,
    /// Without a consent response for this long, the state becomes `Disconnected`.
    pub disconnected_timeout: Duration,
    /// Binding indication on the selected pair when nothing else was sent for this long
    /// (RFC 8445 section 11: 15 s).
    pub keepalive_interval: Duration,
    /// Most remote candidates kept (signalled and peer-reflexive together).
    pub max_remote_candidates: usize,
    /// Most candidate pairs in the check list (RFC 8445 section 6.1.2.5 suggests 100).
    pub max_pairs: usize,
    /// Which candidates to use.
    pub policy: TransportPolicy,
    /// STUN servers to learn server-reflexive candidates from.
    pub stun_servers: Vec<SocketAddr>,
    /// TURN servers to allocate relayed candidates on (UDP, TCP or TLS; long-term, REST or
    /// OAuth credentials), one allocation per host address of the server's family.
    pub turn_servers: Vec<rtcweb_turn::ClientConfig>,
}

impl Default for IceConfig {
    fn default() -> Self {
        Self {
            lite: false,
            ta: Duration::from_millis(50),
            check_rto: Duration::from_millis(250),
            check_max_transmits: 6,
            gather_rto: Duration::from_millis(500),
            gather_max_transmits: 4,
            nomination_delay: Duration::from_millis(200),
            consent_interval: Duration::from_secs(5),
            consent_timeout: Duration::from_secs(30),
            disconnected_timeout: Duration::from_millis(7500),
            keepalive_interval: Duration::from_secs(15),
            max_remote_candidates: 100,
            max_pairs: 100,
            policy: TransportPolicy::All,
            stun_servers: Vec::new(),
            turn_servers: Vec::new(),
        }
    }
}
