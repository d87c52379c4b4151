//! `turn-client --server HOST:PORT [--transport udp|tcp|tls] (--user U --password P [--realm R]
//! | --rest-secret S --rest-user U | --oauth-kid K --oauth-key BASE64) --peer HOST:PORT --count N`
//!
//! Allocates a relay on a TURN server, binds a channel to the peer (for instance coturn's
//! `turnutils_peer`, which echoes), sends N datagrams through the relay and prints the relayed
//! address, the RTT min/median/max and the loss. Exits 0 only if every datagram came back.
//!
//! Extra options: `--interval-ms MS` (20), `--size BYTES` (100), `--timeout-s S` (30),
//! `--tls-ca FILE` (PEM certificate to trust for TLS), `--tls-name NAME` (server name for TLS,
//! default the server's host), `--rest-ttl S` (86400), `--oauth-server-name NAME` (default:
//! the realm), `--oauth-lifetime S` (3600).

use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream, UdpSocket};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use base64::Engine;
use clap::{ArgGroup, Parser, ValueEnum};
use rtcweb_examples::net::{self, ServerAddr};
use rtcweb_examples::{Error, random};
use rtcweb_turn::oauth::AsRsAlgorithm;
use rtcweb_turn::{Client, ClientConfig, Credentials, Datagram, Event, Failure, Protocol};

/// Allocates a relay on a TURN server, binds a channel to the peer (an echo, e.g. coturn's
/// `turnutils_peer`), sends datagrams through the relay and prints the relayed address, the
/// RTT min/median/max and the loss. Exits 0 only if every datagram came back.
#[derive(Parser)]
#[command(group(
    ArgGroup::new("credentials")
        .required(true)
        .args(["user", "rest_secret", "oauth_kid"])
))]
struct Args {
    /// The TURN server.
    #[arg(long, value_name = "HOST:PORT")]
    server: ServerAddr,
    /// How to reach the server.
    #[arg(long, value_enum, default_value_t = Transport::Udp)]
    transport: Transport,
    /// Long-term credentials: the user (with `--password`).
    #[arg(long, value_name = "U", requires = "password")]
    user: Option<String>,
    /// Long-term credentials: the password.
    #[arg(long, value_name = "P", requires = "user")]
    password: Option<String>,
    /// The realm the server must announce.
    #[arg(long, value_name = "R")]
    realm: Option<String>,
    /// TURN REST credentials: the shared secret (with `--rest-user`).
    #[arg(long, value_name = "S", requires = "rest_user")]
    rest_secret: Option<String>,
    /// TURN REST credentials: the user part of the username.
    #[arg(long, value_name = "U", requires = "rest_secret")]
    rest_user: Option<String>,
    /// TURN REST credentials: seconds until they expire.
    #[arg(long, value_name = "S", default_value_t = 86_400)]
    rest_ttl: u64,
    /// OAuth (RFC 7635, self-issued token): the key id (with `--oauth-key`).
    #[arg(long, value_name = "K", requires = "oauth_key")]
    oauth_kid: Option<String>,
    /// OAuth: the AS-RS key, base64 of 16 or 32 octets (AES-128-GCM or AES-256-GCM).
    #[arg(long, value_name = "BASE64", requires = "oauth_kid", value_parser = oauth_key)]
    oauth_key: Option<AsRsKey>,
    /// OAuth: the server name in the token (default: the realm).
    #[arg(long, value_name = "NAME")]
    oauth_server_name: Option<String>,
    /// OAuth: the token's lifetime in seconds.
    #[arg(long, value_name = "S", default_value_t = 3600)]
    oauth_lifetime: u32,
    /// The peer to relay to (it must echo).
    #[arg(long, value_name = "HOST:PORT", value_parser = net::resolve)]
    peer: SocketAddr,
    /// How many datagrams to send.
    #[arg(long, value_name = "N")]
    count: u32,
    /// Milliseconds between two datagrams.
    #[arg(long = "interval-ms", value_name = "MS", default_value = "20", value_parser = millis)]
    interval: Duration,
    /// Octets per datagram (8 to 60000; other values are brought into that range).
    #[arg(long, value_name = "BYTES", default_value_t = 100, value_parser = size)]
    size: usize,
    /// Seconds before giving up.
    #[arg(long = "timeout-s", value_name = "S", default_value = "30", value_parser = seconds)]
    timeout: Duration,
    /// The PEM certificate to trust for `--transport tls`.
    #[arg(long, value_name = "FILE")]
    tls_ca: Option<String>,
    /// The server name for TLS (default: the host of `--server`).
    #[arg(long, value_name = "NAME")]
    tls_name: Option<String>,
}

/// `--transport`.
#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Transport {
    Udp,
    Tcp,
    Tls,
}

impl From<Transport> for Protocol {
    fn from(t: Transport) -> Protocol {
        match t {
            Transport::Udp => Protocol::Udp,
            Transport::Tcp => Protocol::Tcp,
            Transport::Tls => Protocol::Tls,
        }
    }
}

/// An RFC 7635 AS-RS key and the AES-GCM variant its length picks.
#[derive(Clone)]
struct AsRsKey {
    key: Vec<u8>,
    algorithm: AsRsAlgorithm,
}

fn oauth_key(arg: &str) -> Result<AsRsKey, Error> {
    let key = base64::engine::general_purpose::STANDARD
        .decode(arg.trim())
        .map_err(|e| Error::BadValue(format!("not base64: {e}")))?;
    let algorithm = match key.len() {
        16 => AsRsAlgorithm::A128Gcm,
        32 => AsRsAlgorithm::A256Gcm,
        n => {
            return Err(Error::BadValue(format!(
                "must be 16 or 32 octets (AES-GCM), got {n}"
            )));
        }
    };
    Ok(AsRsKey { key, algorithm })
}

fn number(arg: &str) -> Result<u64, Error> {
    arg.parse()
        .map_err(|e| Error::BadValue(format!("bad number {arg}: {e}")))
}

fn millis(arg: &str) -> Result<Duration, Error> {
    number(arg).map(Duration::from_millis)
}

fn seconds(arg: &str) -> Result<Duration, Error> {
    number(arg).map(Duration::from_secs)
}

fn size(arg: &str) -> Result<usize, Error> {
    let n = usize::try_from(number(arg)?).unwrap_or(usize::MAX);
    Ok(n.clamp(8, 60_000))
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

fn credentials(a: &Args) -> Result<Credentials, String> {
    // clap's group lets exactly one kind through, complete.
    if let (Some(username), Some(password)) = (&a.user, &a.password) {
        return Ok(Credentials::LongTerm {
            username: username.clone(),
            password: password.clone(),
        });
    }
    if let (Some(secret), Some(user)) = (&a.rest_secret, &a.rest_user) {
        return Ok(Credentials::rest(
            secret.as_bytes(),
            user,
            unix_now() + a.rest_ttl,
        ));
    }
    let (Some(kid), Some(key)) = (&a.oauth_kid, &a.oauth_key) else {
        return Err("no credentials".into());
    };
    // 128 random bits then four zero octets: HMAC pads keys with zeros, so this key gives
    // the same MAC whether a server uses all 20 octets (RFC 7635) or, like coturn 4.6, only
    // the first 16.
    let mut session_key = random::bytes::<16>().map_err(|e| e.to_string())?.to_vec();
    session_key.extend_from_slice(&[0; 4]);
    Ok(Credentials::OAuthSelfIssued {
        kid: kid.clone(),
        as_rs_key: key.key.clone(),
        algorithm: key.algorithm,
        server_name: a.oauth_server_name.clone(),
        session_key,
        issued_at_unix: unix_now(),
        lifetime: a.oauth_lifetime,
    })
}

/// The connection to the TURN server.
enum Conn {
    Udp(UdpSocket),
    Tcp(TcpStream),
    Tls(Box<rustls::StreamOwned<rustls::ClientConnection, TcpStream>>),
}

/// What arrived on `conn` from `from`, as the client takes it.
fn input(from: SocketAddr, local: SocketAddr, protocol: Protocol, data: &[u8]) -> Datagram<'_> {
    Datagram {
        source: from,
        destination: local,
        protocol,
        payload: data,
    }
}

fn tls_config(ca: Option<&str>) -> Result<Arc<rustls::ClientConfig>, String> {
    use rustls::pki_types::CertificateDer;
    use rustls::pki_types::pem::PemObject;
    let mut roots = rustls::RootCertStore::empty();
    let Some(path) = ca else {
        return Err("--transport tls needs --tls-ca FILE (the PEM certificate to trust)".into());
    };
    for cert in
        CertificateDer::pem_file_iter(path).map_err(|e| format!("cannot read {path}: {e}"))?
    {
        let cert = cert.map_err(|e| format!("bad PEM in {path}: {e}"))?;
        roots
            .add(cert)
            .map_err(|e| format!("bad certificate in {path}: {e}"))?;
    }
    Ok(Arc::new(
        rustls::ClientConfig::builder()
            .with_root_certificates(roots)
            .with_no_client_auth(),
    ))
}

impl Conn {
    /// The local address of the socket or connection.
    fn local_addr(&self) -> Result<SocketAddr, String> {
        match self {
            Conn::Udp(s) => s.local_addr(),
            Conn::Tcp(s) => s.local_addr(),
            Conn::Tls(s) => s.sock.local_addr(),
        }
        .map_err(|e| format!("local address: {e}"))
    }

    fn open(transport: Protocol, server: SocketAddr, a: &Args) -> Result<Conn, String> {
        let connect = || {
            TcpStream::connect_timeout(&server, Duration::from_secs(5))
                .map_err(|e| format!("cannot connect to {server}: {e}"))
        };
        Ok(match transport {
            Protocol::Udp => {
                let s = UdpSocket::bind(net::unspecified(server))
                    .map_err(|e| format!("cannot bind UDP socket: {e}"))?;
                Conn::Udp(s)
            }
            Protocol::Tcp => {
                let s = connect()?;
                let _ = s.set_nodelay(true);
                Conn::Tcp(s)
            }
            Protocol::Tls => {
                let config = tls_config(a.tls_ca.as_deref())?;
                let name = a.tls_name.clone().unwrap_or_else(|| a.server.host.clone());
                let name = rustls::pki_types::ServerName::try_from(name)
                    .map_err(|e| format!("bad TLS server name: {e}"))?;
                let tls = rustls::ClientConnection::new(config, name)
                    .map_err(|e| format!("TLS setup failed: {e}"))?;
                let sock = connect()?;
                let _ = sock.set_nodelay(true);
                let mut stream = rustls::StreamOwned::new(tls, sock);
                while stream.conn.is_handshaking() {
                    stream
                        .conn
                        .complete_io(&mut stream.sock)
                        .map_err(|e| format!("TLS handshake with {server} failed: {e}"))?;
                }
                Conn::Tls(Box::new(stream))
            }
        })
    }

    fn send(&mut self, to: SocketAddr, data: &[u8]) -> std::io::Result<()> {
        match self {
            Conn::Udp(s) => s.send_to(data, to).map(|_| ()),
            Conn::Tcp(s) => s.write_all(data),
            Conn::Tls(s) => s.write_all(data).and_then(|_| s.flush()),
        }
    }

    /// Waits up to `wait` for input; `Ok(None)` on timeout.
    fn recv(
        &mut self,
        buf: &mut [u8],
        wait: Duration,
        server: SocketAddr,
    ) -> std::io::Result<Option<(SocketAddr, usize)>> {
        let wait = wait.max(Duration::from_millis(1));
        let r = match self {
            Conn::Udp(s) => {
                s.set_read_timeout(Some(wait))?;
                s.recv_from(buf).map(|(n, from)| (from, n))
            }
            Conn::Tcp(s) => {
                s.set_read_timeout(Some(wait))?;
                s.read(buf).map(|n| (server, n))
            }
            Conn::Tls(s) => {
                s.sock.set_read_timeout(Some(wait))?;
                s.read(buf).map(|n| (server, n))
            }
        };
        match r {
            Ok((_, 0)) if !matches!(self, Conn::Udp(_)) => Err(std::io::Error::new(
                ErrorKind::UnexpectedEof,
                "the server closed the connection",
            )),
            Ok(v) => Ok(Some(v)),
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => Ok(None),
            Err(e) => Err(e),
        }
    }
}

fn describe(f: &Failure) -> String {
    match f {
        Failure::Unauthorized => {
            "authentication failed: the server rejected the credentials (wrong user or password?)"
                .into()
        }
        Failure::ChallengeLoop => {
            "authentication failed: the server kept challenging (wrong credentials?)".into()
        }
        Failure::Timeout => "no answer from the TURN server".into(),
        Failure::ErrorResponse { code, reason } => format!("the server answered {code} {reason}"),
        Failure::BrokenStream => "the TCP/TLS stream broke".into(),
        Failure::MalformedResponse => "malformed answer from the server".into(),
        Failure::Expired => "the allocation expired".into(),
        Failure::BadCredentials => {
            "the credentials cannot be used (SASLprep or OAuth key problem)".into()
        }
    }
}

fn run(a: Args) -> Result<bool, String> {
    let (server, peer, count) = (a.server.addr, a.peer, a.count);
    let transport = Protocol::from(a.transport);
    let mut config = ClientConfig::new(server, transport, credentials(&a)?);
    config.software = Some("rtcweb turn-client".into());
    let mut conn = Conn::open(transport, server, &a)?;
    let local = conn.local_addr()?;
    let seed = random::seed().map_err(|e| e.to_string())?;
    let mut client = Client::new(config, local, seed);

    let start = Instant::now();
    let deadline = start + a.timeout;
    client.allocate(start).map_err(|e| e.to_string())?;
    let mut buf = vec![0u8; 70_000];
    let mut sent_at: Vec<Option<Instant>> = vec![None; count as usize];
    let mut rtts: Vec<Option<Duration>> = vec![None; count as usize];
    let mut next_seq = 0u32;
    let mut next_send: Option<Instant> = None;
    let mut drain_until: Option<Instant> = None;
    let mut received = 0u32;

    loop {
        let now = Instant::now();
        if now >= deadline {
            eprintln!(
                "turn-client: overall timeout of {} s reached",
                a.timeout.as_secs()
            );
            break;
        }
        while let Some(t) = client.poll_transmit() {
            conn.send(t.destination, &t.payload)
                .map_err(|e| format!("send to {} failed: {e}", t.destination))?;
        }
        while let Some(event) = client.poll_event() {
            match event {
                Event::Allocated {
                    relayed,
                    mapped,
                    lifetime,
                } => {
                    if let (Some(want), Some(got)) = (&a.realm, client.realm())
                        && want != got
                    {
                        return Err(format!("the server's realm is {got:?}, not {want:?}"));
                    }
                    println!("relayed address: {relayed}");
                    if let Some(m) = mapped {
                        println!("mapped address:  {m}");
                    }
                    println!("lifetime:        {} s", lifetime.as_secs());
                    let ch = client.bind_channel(now, peer).map_err(|e| e.to_string())?;
                    println!("binding channel 0x{ch:04x} to peer {peer}");
                }
                Event::ChannelBound { channel, .. } => {
                    println!(
                        "channel 0x{channel:04x} bound; sending {count} datagrams of {} octets",
                        a.size
                    );
                    next_send = Some(now);
                }
                Event::Data { peer: from, data } if from == peer => {
                    let Some(seq) = data.get(..4) else { continue };
                    let seq = u32::from_be_bytes([seq[0], seq[1], seq[2], seq[3]]) as usize;
                    if let (Some(Some(t)), Some(slot)) = (sent_at.get(seq), rtts.get_mut(seq))
                        && slot.is_none()
                    {
                        *slot = Some(now - *t);
                        received += 1;
                    }
                }
                Event::Redirected { server: alt } => {
                    println!("redirected to {alt} (300 Try Alternate)");
                    if transport.is_stream() {
                        conn = Conn::open(transport, alt, &a)?;
                    }
                }
                Event::AllocationFailed(f) => {
                    return Err(format!("allocation failed: {}", describe(&f)));
                }
                Event::AllocationLost(f) => {
                    return Err(format!("allocation lost: {}", describe(&f)));
                }
                Event::ChannelBindFailed { failure, .. } => {
                    return Err(format!("channel bind failed: {}", describe(&failure)));
                }
                Event::Deallocated => return Ok(received == count),
                _ => {}
            }
        }
        if let Some(t) = next_send
            && now >= t
            && next_seq < count
        {
            let mut payload = vec![0u8; a.size];
            payload[..4].copy_from_slice(&next_seq.to_be_bytes());
            sent_at[next_seq as usize] = Some(now);
            client.send_to(peer, &payload).map_err(|e| e.to_string())?;
            next_seq += 1;
            next_send = Some(t + a.interval);
            if next_seq == count {
                drain_until = Some(now + Duration::from_secs(3));
            }
            continue;
        }
        if drain_until.is_some_and(|t| now >= t)
            || (next_seq == count && received == count && drain_until.is_some())
        {
            report(&rtts, count, received);
            client.deallocate(now).map_err(|e| e.to_string())?;
            // Deallocation is best effort: give it a moment, then leave.
            let until = Instant::now() + Duration::from_secs(2);
            loop {
                while let Some(t) = client.poll_transmit() {
                    let _ = conn.send(t.destination, &t.payload);
                }
                if matches!(client.poll_event(), Some(Event::Deallocated))
                    || Instant::now() >= until
                {
                    break;
                }
                if let Ok(Some((from, n))) =
                    conn.recv(&mut buf, Duration::from_millis(20), client.server())
                {
                    client.handle_input(Instant::now(), input(from, local, transport, &buf[..n]));
                }
                let now = Instant::now();
                if client.poll_timeout().is_some_and(|t| now >= t) {
                    client.handle_timeout(now);
                }
            }
            return Ok(received == count);
        }
        let mut wake = deadline;
        for t in [
            client.poll_timeout(),
            next_send.filter(|_| next_seq < count),
            drain_until,
        ]
        .into_iter()
        .flatten()
        {
            wake = wake.min(t);
        }
        let wait = wake
            .saturating_duration_since(Instant::now())
            .min(Duration::from_millis(50));
        match conn.recv(&mut buf, wait, client.server()) {
            Ok(Some((from, n))) => {
                client.handle_input(Instant::now(), input(from, local, transport, &buf[..n]))
            }
            Ok(None) => {}
            Err(e) => return Err(format!("receive failed: {e}")),
        }
        let now = Instant::now();
        if client.poll_timeout().is_some_and(|t| now >= t) {
            client.handle_timeout(now);
        }
    }
    report(&rtts, count, received);
    Ok(false)
}

fn report(rtts: &[Option<Duration>], count: u32, received: u32) {
    let mut got: Vec<Duration> = rtts.iter().flatten().copied().collect();
    got.sort();
    let loss = if count == 0 {
        0.0
    } else {
        100.0 * f64::from(count - received) / f64::from(count)
    };
    println!("sent {count}, received {received}, loss {loss:.1}%");
    if let (Some(min), Some(max)) = (got.first(), got.last()) {
        let median = got[got.len() / 2];
        let ms = |d: &Duration| d.as_secs_f64() * 1000.0;
        println!(
            "rtt min/median/max: {:.3}/{:.3}/{:.3} ms",
            ms(min),
            ms(&median),
            ms(max)
        );
    }
}

fn main() -> ExitCode {
    match run(Args::parse()) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => {
            eprintln!("turn-client: error: not every datagram came back");
            ExitCode::from(1)
        }
        Err(e) => {
            eprintln!("turn-client: error: {e}");
            ExitCode::from(1)
        }
    }
}
