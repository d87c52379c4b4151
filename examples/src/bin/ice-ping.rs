//! `ice-ping --local IP[:PORT] --role controlling|controlled --out FILE --in FILE
//!  [--stun HOST:PORT] [--turn HOST:PORT --user U --password P] [--relay-only]
//!  [--count N] [--timeout S]`
//!
//! Two of these find each other with rtcweb-ice alone (no DTLS): each writes its ICE
//! credentials and candidates to `--out`, one line each, as it gathers them (trickle), and
//! reads the peer's from `--in` as they appear. Once connected, the controlling side sends
//! `--count` pings over the selected pair and the other echoes them. Prints the selected pair
//! (`selected: host -> srflx ...`) and the round-trip times; exits 0 when every ping came
//! back, 1 otherwise (or after `--timeout`, 30 s by default).

use std::io::Write;
use std::net::{IpAddr, SocketAddr, UdpSocket};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use clap::{Parser, ValueEnum};
use rtcweb_examples::{net, random};
use rtcweb_ice::{
    Candidate, ConnectionState, Credentials, Datagram, IceAgent, IceConfig, IceEvent, IceRole,
    SansIo, TransportPolicy,
};

/// Two of these find each other with rtcweb-ice alone (no DTLS), trading credentials and
/// candidates through two files, then ping over the selected pair. Exits 0 when every ping
/// came back.
#[derive(Parser)]
struct Args {
    /// The local address to bind (`IP` or `IP:PORT`).
    #[arg(long, value_name = "IP[:PORT]", value_parser = local_addr)]
    local: SocketAddr,
    /// The ICE role; the controlling side sends the pings.
    #[arg(long, value_enum, default_value_t = RoleArg::Controlled)]
    role: RoleArg,
    /// Where to write our credentials and candidates, one line each, as they come.
    #[arg(long, value_name = "FILE")]
    out: String,
    /// Where to read the peer's, as they appear.
    #[arg(long = "in", value_name = "FILE")]
    input: String,
    /// A STUN server for server-reflexive candidates.
    #[arg(long, value_name = "HOST:PORT", value_parser = net::resolve)]
    stun: Option<SocketAddr>,
    /// A TURN server (UDP) for relayed candidates, with `--user` and `--password`.
    #[arg(long, value_name = "HOST:PORT", value_parser = net::resolve)]
    turn: Option<SocketAddr>,
    /// The TURN user.
    #[arg(long, value_name = "U", default_value = "")]
    user: String,
    /// The TURN password.
    #[arg(long, value_name = "P", default_value = "")]
    password: String,
    /// Use relayed candidates only.
    #[arg(long)]
    relay_only: bool,
    /// Pings to send (controlling) or to echo before leaving (controlled).
    #[arg(long, value_name = "N", default_value_t = 10,
          value_parser = clap::value_parser!(u32).range(1..))]
    count: u32,
    /// Seconds before giving up.
    #[arg(long, value_name = "S", default_value_t = 30)]
    timeout: u64,
}

/// `--role`.
#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum RoleArg {
    Controlling,
    Controlled,
}

/// `--local`: `IP:PORT`, or a bare `IP` (any port).
fn local_addr(arg: &str) -> Result<SocketAddr, rtcweb_examples::Error> {
    arg.parse()
        .or_else(|_| arg.parse::<IpAddr>().map(|ip| SocketAddr::new(ip, 0)))
        .map_err(|e| rtcweb_examples::Error::BadValue(format!("{arg}: {e}")))
}

/// Lines of the peer's file not read yet.
struct PeerFile {
    path: String,
    read: usize,
}

impl PeerFile {
    fn new_lines(&mut self) -> Vec<String> {
        let Ok(text) = std::fs::read_to_string(&self.path) else {
            return Vec::new();
        };
        // Only complete lines: the peer may be halfway through writing one.
        let complete = text.rfind('\n').map_or("", |end| &text[..=end]);
        let lines: Vec<String> = complete
            .lines()
            .skip(self.read)
            .map(str::to_owned)
            .collect();
        self.read += lines.len();
        lines
    }
}

fn run(args: Args) -> Result<(), String> {
    let socket = UdpSocket::bind(args.local).map_err(|e| format!("bind {}: {e}", args.local))?;
    let local = socket.local_addr().map_err(|e| e.to_string())?;
    let mut config = IceConfig {
        stun_servers: args.stun.into_iter().collect(),
        ..IceConfig::default()
    };
    if let Some(turn) = args.turn {
        let credentials = rtcweb_turn::Credentials::LongTerm {
            username: args.user.clone(),
            password: args.password.clone(),
        };
        config.turn_servers.push(rtcweb_turn::ClientConfig::new(
            turn,
            rtcweb_turn::Protocol::Udp,
            credentials,
        ));
    }
    if args.relay_only {
        config.policy = TransportPolicy::Relay;
    }
    let role = match args.role {
        RoleArg::Controlling => IceRole::Controlling,
        RoleArg::Controlled => IceRole::Controlled,
    };
    let timeout = Duration::from_secs(args.timeout);
    let seed = random::seed().map_err(|e| e.to_string())?;
    let start = Instant::now();
    let mut agent = IceAgent::new(config, role, seed);
    agent.add_host_address(start, local);
    agent.start_gathering(start);
    let mut out = std::fs::File::create(&args.out).map_err(|e| format!("{}: {e}", args.out))?;
    let creds = agent.local_credentials().clone();
    writeln!(out, "ice {} {}", creds.ufrag, creds.pwd).map_err(|e| e.to_string())?;
    let mut peer = PeerFile {
        path: args.input.clone(),
        read: 0,
    };
    let mut buf = vec![0u8; 2048];
    let mut sent_at: Vec<Option<Instant>> = vec![None; args.count as usize];

    let mut echoed = std::collections::BTreeSet::new();
    let mut rtts = Vec::new();
    let mut next_ping = None;
    loop {
        let now = Instant::now();
        if now - start > timeout {
            return Err(format!(
                "timed out in state {:?}; {} of {} pings back",
                agent.state(),
                rtts.len(),
                args.count
            ));
        }
        for line in peer.new_lines() {
            let mut words = line.splitn(3, ' ');
            match (words.next(), words.next(), words.next()) {
                (Some("ice"), Some(ufrag), Some(pwd)) => {
                    let c = Credentials::new(ufrag, pwd).map_err(|e| e.to_string())?;
                    agent.set_remote_credentials(now, c);
                }
                (Some("end"), _, _) => agent.end_of_remote_candidates(now),
                (Some("candidate"), ..) => {
                    let line = line.strip_prefix("candidate ").unwrap_or(&line);
                    match line.parse::<Candidate>() {
                        Ok(c) => {
                            if let Err(e) = agent.add_remote_candidate(now, c) {
                                eprintln!("candidate not used: {e}");
                            }
                        }
                        Err(e) => eprintln!("bad candidate {line:?}: {e}"),
                    }
                }
                _ => {}
            }
        }
        // Driven through the uniform face (`SansIo`), every datagram the peer sends arrives
        // as an `IceEvent::Data`, direct or relayed alike.
        let mut payloads = Vec::new();
        while let Some(e) = agent.poll_event() {
            match e {
                IceEvent::LocalCandidate(c) => {
                    writeln!(out, "candidate {c}").map_err(|e| e.to_string())?;
                }
                IceEvent::GatheringState(rtcweb_ice::GatheringState::Complete) => {
                    writeln!(out, "end").map_err(|e| e.to_string())?;
                }
                IceEvent::SelectedPair { local, remote } => {
                    println!(
                        "selected: {} -> {} ({} -> {})",
                        local.kind.as_sdp(),
                        remote.kind.as_sdp(),
                        local.address,
                        remote.address
                    );
                }
                IceEvent::ConnectionState(s) => println!("state: {s:?}"),
                IceEvent::Data(p) => payloads.push(p),
                _ => {}
            }
        }
        for p in payloads {
            if let Some(rest) = p.strip_prefix(b"PING") {
                let mut pong = b"PONG".to_vec();
                pong.extend_from_slice(rest);
                agent.send_data(now, &pong);
                if role == IceRole::Controlled {
                    echoed.insert(rest.to_vec());
                    if echoed.len() == args.count as usize {
                        println!("echoed {} pings", args.count);
                        // Keep answering consent and retransmitted pings a moment.
                        let linger = Instant::now() + Duration::from_secs(2);
                        while Instant::now() < linger {
                            drain(&mut agent, &socket, local, &mut buf);
                        }
                        return Ok(());
                    }
                }
            } else if let Some(rest) = p.strip_prefix(b"PONG") {
                let n = rest
                    .get(..4)
                    .and_then(|b| b.try_into().ok())
                    .map(u32::from_be_bytes);
                // Round trip from the latest transmission of this ping.
                if let Some(sent) = n
                    .filter(|n| *n < args.count)
                    .and_then(|n| sent_at[n as usize].take())
                {
                    rtts.push(now - sent);
                }
            }
        }
        let up = matches!(
            agent.state(),
            ConnectionState::Connected | ConnectionState::Completed
        );
        if up && role == IceRole::Controlling && next_ping.is_none() {
            next_ping = Some((0u32, now));
        }
        if let Some((n, at)) = next_ping
            && now >= at
        {
            // A new ping every 100 ms; an unanswered one is sent again (the first may
            // leave before the peer has selected its pair, and UDP loses datagrams).
            let due = (0..n.min(args.count)).find(|i| {
                sent_at[*i as usize].is_some_and(|t| now - t > Duration::from_millis(500))
            });
            let ping = match due {
                Some(i) => Some(i),
                None if n < args.count => {
                    next_ping = Some((n + 1, now + Duration::from_millis(100)));
                    Some(n)
                }
                None => None,
            };
            if let Some(i) = ping {
                let payload = [b"PING".as_slice(), &i.to_be_bytes()].concat();

                sent_at[i as usize] = Some(now);
                agent.send_data(now, &payload);
            }
        }
        while let Some(t) = agent.poll_transmit() {
            if t.protocol == rtcweb_ice::Protocol::Udp {
                let _ = socket.send_to(&t.payload, t.destination);
            }
        }
        if role == IceRole::Controlling && rtts.len() == args.count as usize {
            break;
        }
        let wait = agent.poll_timeout().map_or(Duration::from_millis(20), |t| {
            t.saturating_duration_since(Instant::now())
        });
        socket
            .set_read_timeout(Some(
                wait.clamp(Duration::from_millis(1), Duration::from_millis(20)),
            ))
            .map_err(|e| e.to_string())?;
        match socket.recv_from(&mut buf) {
            Ok((n, from)) => {
                SansIo::handle_input(
                    &mut agent,
                    Instant::now(),
                    Datagram::udp(from, local, &buf[..n]),
                );
            }
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) => {}
            Err(e) => return Err(format!("recv: {e}")),
        }
        let now = Instant::now();
        if agent.poll_timeout().is_some_and(|t| t <= now) {
            agent.handle_timeout(now);
        }
    }
    rtts.sort();
    println!(
        "{} pings: rtt min {:?} median {:?} max {:?}",
        rtts.len(),
        rtts[0],
        rtts[rtts.len() / 2],
        rtts[rtts.len() - 1]
    );
    Ok(())
}

/// Keeps the agent answering for a moment after the work is done.
fn drain(agent: &mut IceAgent, socket: &UdpSocket, local: SocketAddr, buf: &mut [u8]) {
    let _ = socket.set_read_timeout(Some(Duration::from_millis(20)));
    if let Ok((n, from)) = socket.recv_from(buf) {
        SansIo::handle_input(agent, Instant::now(), Datagram::udp(from, local, &buf[..n]));
    }
    let now = Instant::now();
    if agent.poll_timeout().is_some_and(|t| t <= now) {
        agent.handle_timeout(now);
    }
    while let Some(t) = agent.poll_transmit() {
        let _ = socket.send_to(&t.payload, t.destination);
    }
    // Only consent and checks matter now: what the peer sends is dropped.
    while agent.poll_event().is_some() {}
}

fn main() -> ExitCode {
    match run(Args::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("ice-ping: {e}");
            ExitCode::FAILURE
        }
    }
}
