//! `natdiscovery --server HOST:PORT [--local ADDR] [--lifetime-probes S,S,...]`
//!
//! RFC 5780 NAT behaviour discovery against a STUN server with two addresses (e.g. coturn
//! listening on two IPs with `--alt-listening-port`). Prints the mapped addresses, mapping,
//! filtering and hairpinning behaviour and the classic NAT name. Exits 0 on a complete result,
//! 1 with a clear message when the server lacks RFC 5780 or does not answer.

use std::net::{SocketAddr, UdpSocket};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use clap::Parser;
use rtcweb_examples::{net, random};
use rtcweb_turn::Datagram;
use rtcweb_turn::nat::{DiscoveryConfig, DiscoveryError, NatDiscovery};

/// RFC 5780 NAT behaviour discovery against a STUN server with two addresses: prints the
/// mapped addresses, the mapping, filtering and hairpinning behaviour and the classic NAT
/// name. Exits 0 on a complete result, 1 when the server lacks RFC 5780 or does not answer.
#[derive(Parser)]
struct Args {
    /// The STUN server.
    #[arg(long, value_name = "HOST:PORT", value_parser = net::resolve)]
    server: SocketAddr,
    /// The local address of the first socket (default: the one the OS routes to the server
    /// from, any port).
    #[arg(long, value_name = "ADDR")]
    local: Option<SocketAddr>,
    /// Binding lifetimes to probe, in seconds (comma-separated).
    #[arg(long = "lifetime-probes", value_name = "SECS,SECS,...", value_delimiter = ',',
          value_parser = seconds)]
    probes: Vec<Duration>,
}

/// One `--lifetime-probes` entry: whole seconds, spaces allowed around it.
fn seconds(arg: &str) -> Result<Duration, rtcweb_examples::Error> {
    arg.trim()
        .parse()
        .map(Duration::from_secs)
        .map_err(|e| rtcweb_examples::Error::BadValue(format!("bad probe {arg}: {e}")))
}

/// The source address the OS picks for talking to `server`.
fn route_source(server: SocketAddr) -> std::io::Result<SocketAddr> {
    let probe = UdpSocket::bind(net::unspecified(server))?;
    probe.connect(server)?;
    probe.local_addr()
}

fn run(args: Args) -> Result<(), String> {
    let local = match args.local {
        Some(l) => l,
        None => {
            let src = route_source(args.server)
                .map_err(|e| format!("no route to {}: {e}", args.server))?;
            SocketAddr::new(src.ip(), 0)
        }
    };
    // Socket 0 at the requested address, the others on the same IP.
    let mut sockets = Vec::new();
    for i in 0..4 {
        let addr = if i == 0 {
            local
        } else {
            SocketAddr::new(local.ip(), 0)
        };
        let s = UdpSocket::bind(addr).map_err(|e| format!("cannot bind {addr}: {e}"))?;
        s.set_nonblocking(true).map_err(|e| e.to_string())?;
        sockets.push(s);
    }
    let mut addrs = [local; 4];
    for (a, s) in addrs.iter_mut().zip(&sockets) {
        *a = s.local_addr().map_err(|e| e.to_string())?;
    }
    let mut config = DiscoveryConfig::new(args.server, addrs);
    config.lifetime_probes = args.probes.clone();
    let seed = random::seed().map_err(|e| e.to_string())?;
    let mut disc = NatDiscovery::new(config, Instant::now(), seed);
    let mut buf = [0u8; 2048];
    while !disc.is_done() {
        while let Some(t) = disc.poll_transmit() {
            if let Some(i) = addrs.iter().position(|a| *a == t.source)
                && let Err(e) = sockets[i].send_to(&t.payload, t.destination)
            {
                eprintln!("natdiscovery: send to {} failed: {e}", t.destination);
            }
        }
        let mut got = false;
        for (i, s) in sockets.iter().enumerate() {
            while let Ok((n, from)) = s.recv_from(&mut buf) {
                disc.handle_input(Instant::now(), Datagram::udp(from, addrs[i], &buf[..n]));
                got = true;
            }
        }
        let now = Instant::now();
        if disc.poll_timeout().is_some_and(|t| now >= t) {
            disc.handle_timeout(now);
        } else if !got {
            std::thread::sleep(Duration::from_millis(1));
        }
    }
    let report = match disc.result() {
        Some(Ok(r)) => r.clone(),
        Some(Err(DiscoveryError::NoOtherAddress)) => {
            return Err(format!(
                "the STUN server {} does not support RFC 5780: its answer has no OTHER-ADDRESS \
                 (coturn needs two listening IPs and --alt-listening-port)",
                args.server
            ));
        }
        Some(Err(DiscoveryError::NoResponse)) => {
            return Err(format!("no answer from the STUN server {}", args.server));
        }
        Some(Err(e)) => return Err(format!("discovery failed: {e}")),
        None => return Err("discovery did not finish".into()),
    };
    println!(
        "STUN server:       {} (OTHER-ADDRESS {})",
        args.server, report.other_address
    );
    println!("local address:     {}", addrs[0]);
    for (i, m) in report.mapped.iter().enumerate() {
        let label = format!(
            "mapped address {}:",
            ["I", "II", "III"].get(i).unwrap_or(&"?")
        );
        println!("{label:<18} {m}");
    }
    let nat = match report.behind_nat {
        Some(true) => "yes",
        Some(false) => "no (mapped address equals local address)",
        None => "unknown",
    };
    println!("NAT:               {nat}");
    let mapping_long = match report.mapping {
        rtcweb_turn::nat::MappingBehavior::EndpointIndependent => "endpoint-independent mapping",
        rtcweb_turn::nat::MappingBehavior::AddressDependent => "address-dependent mapping",
        rtcweb_turn::nat::MappingBehavior::AddressAndPortDependent => {
            "address and port-dependent mapping"
        }
    };
    let filtering_long = match report.filtering {
        rtcweb_turn::nat::FilteringBehavior::EndpointIndependent => {
            "endpoint-independent filtering"
        }
        rtcweb_turn::nat::FilteringBehavior::AddressDependent => "address-dependent filtering",
        rtcweb_turn::nat::FilteringBehavior::AddressAndPortDependent => {
            "address and port-dependent filtering"
        }
    };
    println!(
        "mapping:           {} ({mapping_long})",
        report.mapping.short()
    );
    println!(
        "filtering:         {} ({filtering_long})",
        report.filtering.short()
    );
    let hairpin = match report.hairpinning {
        Some(true) => "yes",
        Some(false) => "no",
        None => "not applicable (no NAT)",
    };
    println!("hairpinning:       {hairpin}");
    if let Some((alive, dead)) = report.binding_lifetime {
        let f = |d: Option<Duration>| d.map_or("-".to_string(), |d| format!("{} s", d.as_secs()));
        println!(
            "binding lifetime:  survived {}, expired by {}",
            f(alive),
            f(dead)
        );
    }
    println!("classic NAT type:  {}", report.classic_name());
    Ok(())
}

fn main() -> ExitCode {
    match run(Args::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("natdiscovery: error: {e}");
            ExitCode::from(1)
        }
    }
}
