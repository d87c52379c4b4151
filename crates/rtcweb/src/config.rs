//! `RTCConfiguration`: ICE servers as URLs with their credentials, transport and bundle
//! policies, the certificate.

use rtcweb_core::Seed;
use std::net::{IpAddr, SocketAddr};

use rtcweb_dtls::Certificate;

use crate::error::Error;

/// How a TURN server authenticates us.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IceCredential {
    /// Long-term credentials (the W3C `"password"` credential type).
    Password {
        /// USERNAME.
        username: String,
        /// The password.
        password: String,
    },
    /// TURN REST API: a time-limited username `<expiry>:<user>` and its HMAC password,
    /// minted from a secret shared with the server.
    RestSecret {
        /// The shared secret.
        secret: Vec<u8>,
        /// The user part of the username.
        user: String,
        /// Expiry, in seconds since the Unix epoch (the caller reads the clock).
        expiry_unix: u64,
    },
    /// OAuth (RFC 7635): a key id, the session key and the access token an authorization
    /// server issued.
    OAuth {
        /// Key id, sent as USERNAME.
        kid: String,
        /// The session key (`mac_key`).
        mac_key: Vec<u8>,
        /// The encrypted self-contained token.
        access_token: Vec<u8>,
    },
}

/// An `RTCIceServer`: one or more URLs sharing credentials.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IceServer {
    /// `stun:`, `turn:` or `turns:` URLs (RFC 7064, RFC 7065).
    pub urls: Vec<String>,
    /// Credentials for the TURN URLs.
    pub credential: Option<IceCredential>,
}

impl IceServer {
    /// A server with no credentials (STUN).
    pub fn stun(url: &str) -> Self {
        Self {
            urls: vec![url.to_owned()],
            credential: None,
        }
    }

    /// A TURN server with long-term credentials.
    pub fn turn(url: &str, username: &str, password: &str) -> Self {
        Self {
            urls: vec![url.to_owned()],
            credential: Some(IceCredential::Password {
                username: username.to_owned(),
                password: password.to_owned(),
            }),
        }
    }
}

/// The scheme of an ICE server URL.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scheme {
    /// `stun:` (RFC 7064).
    Stun,
    /// `stuns:`: STUN over TLS; accepted and gathered like `stun:` over UDP is not, so it is
    /// ignored with a warning.
    Stuns,
    /// `turn:` (RFC 7065).
    Turn,
    /// `turns:`: TURN over TLS.
    Turns,
}

/// Transport from the `?transport=` parameter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UrlTransport {
    /// UDP.
    Udp,
    /// TCP.
    Tcp,
}

/// A parsed ICE server URL.
///
/// ```
/// use rtcweb::{IceServerUrl, Scheme, UrlTransport};
///
/// let url = IceServerUrl::parse("turn:198.51.100.1:3478?transport=tcp")?;
/// assert_eq!((url.scheme, url.port, url.transport), (Scheme::Turn, 3478, UrlTransport::Tcp));
/// let url = IceServerUrl::parse("turns:turn.example.org")?;
/// assert_eq!((url.host.as_str(), url.port), ("turn.example.org", 5349));
/// # Ok::<(), rtcweb::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IceServerUrl {
    /// Scheme.
    pub scheme: Scheme,
    /// Host name or IP literal (IPv6 without brackets).
    pub host: String,
    /// Port (3478, or 5349 for `turns:`/`stuns:`, when absent).
    pub port: u16,
    /// Transport (UDP unless `?transport=tcp`; `turns:` is always TCP).
    pub transport: UrlTransport,
}

impl IceServerUrl {
    /// Parses a URL of RFC 7064/7065.
    pub fn parse(url: &str) -> Result<Self, Error> {
        let bad = || Error::InvalidIceServerUrl(url.to_owned());
        let (scheme, rest) = url.split_once(':').ok_or_else(bad)?;
        let scheme = match scheme.to_ascii_lowercase().as_str() {
            "stun" => Scheme::Stun,
            "stuns" => Scheme::Stuns,
            "turn" => Scheme::Turn,
            "turns" => Scheme::Turns,
            _ => return Err(bad()),
        };
        let (hostport, query) = match rest.split_once('?') {
            Some((h, q)) => (h, Some(q)),
            None => (rest, None),
        };
        let tls = matches!(scheme, Scheme::Turns | Scheme::Stuns);
        let default_port = if tls { 5349 } else { 3478 };
        let (host, port) = if let Some(v6) = hostport.strip_prefix('[') {
            let (h, after) = v6.split_once(']').ok_or_else(bad)?;
            let port = match after.strip_prefix(':') {
                Some(p) => p.parse().map_err(|_| bad())?,
                None if after.is_empty() => default_port,
                None => return Err(bad()),
            };
            (h.to_owned(), port)
        } else {
            match hostport.rsplit_once(':') {
                Some((h, p)) => (h.to_owned(), p.parse().map_err(|_| bad())?),
                None => (hostport.to_owned(), default_port),
            }
        };
        if host.is_empty() || host.contains('/') || host.contains('@') {
            return Err(bad());
        }
        let mut transport = if tls {
            UrlTransport::Tcp
        } else {
            UrlTransport::Udp
        };
        if let Some(q) = query {
            if matches!(scheme, Scheme::Stun | Scheme::Stuns) {
                return Err(bad());
            }
            match q.to_ascii_lowercase().as_str() {
                "transport=udp" if !tls => transport = UrlTransport::Udp,
                "transport=tcp" => transport = UrlTransport::Tcp,
                _ => return Err(bad()),
            }
        }
        Ok(Self {
            scheme,
            host,
            port,
            transport,
        })
    }

    /// The server's address if the host is an IP literal. Host names must be resolved by
    /// the driver (sans-IO code does not do DNS): see [`RtcConfiguration::resolve_with`].
    pub fn socket_addr(&self) -> Option<SocketAddr> {
        self.host
            .parse::<IpAddr>()
            .ok()
            .map(|ip| SocketAddr::new(ip, self.port))
    }
}

/// Which candidates ICE may use (`RTCIceTransportPolicy`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum IceTransportPolicy {
    /// All candidates.
    #[default]
    All,
    /// Only relayed candidates.
    Relay,
}

/// The DTLS role this side takes when it answers an offer with `a=setup:actpass`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DtlsAnswerRole {
    /// `a=setup:active`: we start the handshake as soon as ICE connects (what RFC 8842
    /// recommends and browsers do; half a round trip faster).
    #[default]
    Client,
    /// `a=setup:passive`: the offerer starts it. A server that many kinds of clients reach
    /// may prefer this: the client then only starts once it has applied our answer (some
    /// stacks check our fingerprint before they finished applying it).
    Server,
}

impl From<DtlsAnswerRole> for rtcweb_core::Role {
    fn from(role: DtlsAnswerRole) -> Self {
        match role {
            DtlsAnswerRole::Client => rtcweb_core::Role::Client,
            DtlsAnswerRole::Server => rtcweb_core::Role::Server,
        }
    }
}

/// `RTCConfiguration`.
#[derive(Debug, Clone)]
pub struct RtcConfiguration {
    /// STUN and TURN servers.
    pub ice_servers: Vec<IceServer>,
    /// Candidate policy.
    pub ice_transport_policy: IceTransportPolicy,
    /// BUNDLE policy (max-bundle by default; balanced is accepted).
    pub bundle_policy: rtcweb_jsep::BundlePolicy,
    /// The DTLS certificate (ECDSA P-256). Generating one needs randomness and the time,
    /// so the driver makes it; it may be shared by many connections.
    pub certificate: Certificate,
    /// Be an ICE-lite endpoint (a server on a public address).
    pub ice_lite: bool,
    /// Seed for everything random in the protocol state machines (tie-breakers,
    /// transaction ids, ICE credentials, SSRCs). The driver seeds from the OS.
    pub seed: Seed,
    /// A DTLS context to share between connections. Preparing one runs the crypto
    /// provider's self-tests (about a millisecond), so a server making many connections
    /// prepares it once ([`rtcweb_dtls::DtlsContext::new`] with `certificate` and
    /// [`crate::PeerConnection::dtls_config`]) and clones it here. `None`: each connection
    /// prepares its own.
    pub dtls_context: Option<rtcweb_dtls::DtlsContext>,
    /// How RTP media is handled: raw packets, or an RTP session with frames, RTCP, NACK/RTX
    /// and congestion control feedback.
    pub media: MediaConfig,
    /// The DTLS role we take when answering an `actpass` offer.
    pub dtls_answer_role: DtlsAnswerRole,
}

/// Whether the connection runs an RTP session or hands RTP packets through.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum MediaMode {
    /// Plain RTP packets in and out ([`crate::Event::Rtp`], [`crate::PeerConnection::write_rtp`]):
    /// the application does RTCP, retransmission and packetization itself (a forwarding
    /// server, an echo). The default, as it changes nothing on the wire.
    #[default]
    Raw,
    /// An RTP session (`rtcweb-rtp`) per transport: whole frames in and out
    /// ([`crate::PeerConnection::write_frame`], [`crate::Event::Frame`]), sender and receiver
    /// reports, NACK and RTX both ways, PLI/FIR, transport-wide CC sequence numbers and
    /// feedback, and `inbound-rtp`/`outbound-rtp` statistics. The codecs offered and
    /// answered are the ones it packetizes: Opus, VP8, VP9, H.264 (packetization mode 1) and
    /// AV1, video with RTX.
    Session,
}

/// Media settings of a connection.
#[derive(Debug, Clone, PartialEq)]
pub struct MediaConfig {
    /// Raw packets or an RTP session.
    pub mode: MediaMode,
    /// Transport-wide congestion control (session mode): sequence numbers on what we send
    /// and feedback on what we receive, when the peer negotiated the header extension. Off
    /// only to compare a sender's bandwidth estimate without our feedback.
    pub transport_cc: bool,
    /// The wall-clock time at one instant, as `(instant, time since the Unix epoch)`, for
    /// the NTP timestamps of sender reports (the driver reads both clocks; this crate never
    /// does). `None`: NTP time counts from the connection's first media negotiation, which
    /// RTT measurement does not mind but lip sync across connections does.
    pub wall_clock: Option<(std::time::Instant, std::time::Duration)>,
    /// Bandwidth estimation and pacing of what we send (session mode): every media packet
    /// leaves through a pacer at the estimator's pacing rate, and
    /// [`crate::Event::TargetBitrate`] tells the application what its encoders should
    /// produce. `None`: packets leave as they are written and no estimate is made.
    /// Data channels are not paced and not counted: SCTP has its own congestion control,
    /// and the delay-based estimate sees the queueing they cause (as in browsers).
    pub congestion_control: Option<rtcweb_rtp::session::CongestionConfig>,
    /// Receiver-side estimates for a peer that gets no transport-wide CC feedback from us
    /// (session mode): when the peer negotiated `goog-remb` and not the transport-wide CC
    /// extension, we estimate from `abs-send-time` and send REMB. Off only to compare a
    /// sender's estimate without any feedback from us.
    pub remb: bool,
    /// Loss resilience (session mode): RED for Opus and ULPFEC for video, offered as
    /// browsers offer them, received whenever the peer sends them, sent as configured here.
    pub resilience: Resilience,
    /// Playout (session mode): `Some` runs a jitter buffer per received stream, and frames
    /// come out as [`crate::Event::Frame`] at their playout time (the target delay adapts
    /// to the jitter; the audio and video of one remote source play in sync from their
    /// sender reports). `None`: frames come out as soon as they are complete, for
    /// applications that do their own playout.
    pub playout: Option<rtcweb_rtp::playout::PlayoutConfig>,
}

/// RED and FEC settings of [`MediaConfig`] (session mode).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Resilience {
    /// RED for Opus (`red/48000/2`, `111/111`), listed before Opus in our offers and
    /// answers so that browsers send it: `Some(distance)` sends every Opus frame again in
    /// the next `distance` packets when the peer accepts RED (browsers use 1; 0 offers RED
    /// and receives it without sending redundancy). `None`: not offered.
    pub red_distance: Option<usize>,
    /// ULPFEC for video (`red/90000`, `ulpfec/90000`, and RTX of RED), offered as Chromium
    /// offers it; when negotiated, our video goes in RED with FEC at the rate `protection`
    /// chooses. `false`: not offered.
    pub ulpfec: bool,
    /// How the FEC rate follows the reported loss and the round trip.
    pub protection: rtcweb_rtp::fec::ProtectionConfig,
    /// Generic NACK (`a=rtcp-fb:<pt> nack`) offered for video. `false` leaves repair to FEC
    /// (browsers then protect with FEC alone).
    pub nack: bool,
}

impl Default for Resilience {
    fn default() -> Self {
        Self {
            red_distance: Some(1),
            ulpfec: true,
            protection: rtcweb_rtp::fec::ProtectionConfig::default(),
            nack: true,
        }
    }
}

impl Default for MediaConfig {
    fn default() -> Self {
        Self {
            mode: MediaMode::Raw,
            transport_cc: true,
            wall_clock: None,
            congestion_control: Some(rtcweb_rtp::session::CongestionConfig::default()),
            remb: true,
            resilience: Resilience::default(),
            playout: None,
        }
    }
}

impl RtcConfiguration {
    /// A configuration with no ICE servers, policy all, max-bundle.
    pub fn new(certificate: Certificate, seed: impl Into<Seed>) -> Self {
        Self {
            ice_servers: Vec::new(),
            ice_transport_policy: IceTransportPolicy::All,
            bundle_policy: rtcweb_jsep::BundlePolicy::MaxBundle,
            certificate,
            ice_lite: false,
            seed: seed.into(),
            dtls_context: None,
            dtls_answer_role: DtlsAnswerRole::Client,
            media: MediaConfig::default(),
        }
    }

    /// Replaces host names in the ICE server URLs with addresses from `resolve`, which the
    /// driver backs with DNS. URLs whose host does not resolve are dropped.
    pub fn resolve_with(&mut self, mut resolve: impl FnMut(&str) -> Option<IpAddr>) {
        for server in &mut self.ice_servers {
            server.urls.retain_mut(|url| {
                let Ok(parsed) = IceServerUrl::parse(url) else {
                    return true;
                };
                if parsed.socket_addr().is_some() {
                    return true;
                }
                let Some(ip) = resolve(&parsed.host) else {
                    return false;
                };
                let host = match ip {
                    IpAddr::V4(v4) => v4.to_string(),
                    IpAddr::V6(v6) => format!("[{v6}]"),
                };
                let scheme = url.split_once(':').map_or("", |(s, _)| s);
                let query = url
                    .split_once('?')
                    .map(|(_, q)| format!("?{q}"))
                    .unwrap_or_default();
                *url = format!("{scheme}:{host}:{}{query}", parsed.port);
                true
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_urls_people_write() {
        let u = IceServerUrl::parse("stun:203.0.113.1").unwrap();
        assert_eq!(
            (u.scheme, u.port, u.transport),
            (Scheme::Stun, 3478, UrlTransport::Udp)
        );
        let u = IceServerUrl::parse("turn:[2001:db8::1]:3479?transport=udp").unwrap();
        assert_eq!(u.socket_addr(), Some("[2001:db8::1]:3479".parse().unwrap()));
        let u = IceServerUrl::parse("turns:203.0.113.1?transport=tcp").unwrap();
        assert_eq!((u.port, u.transport), (5349, UrlTransport::Tcp));
        for bad in [
            "",
            "http://x",
            "stun:",
            "stun:x?transport=tcp",
            "turn:x:99999",
            "turns:x?transport=udp",
            "turn:[::1",
        ] {
            assert!(IceServerUrl::parse(bad).is_err(), "{bad}");
        }
    }
}
