//! RFC 4787 behaviour of every mapping × filtering combination, observed the way a STUN
//! client behind the NAT would observe it. The table in docs/netsim-nat-behaviour.md is
//! printed by `every_combination_behaves_as_rfc_4787_defines`; run it with
//! `RTCWEB_BLESS=1` to rewrite the file after an intended change.

#![allow(clippy::unwrap_used)] // test helpers unwrap what the test itself set up

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use rtcweb_netsim::{
    DropReason, Filtering, HostId, Mapping, NatConfig, NatId, Network, RealmId, Transmit,
};

const S1: &str = "203.0.113.1";
const S2: &str = "203.0.113.2";
const EXTERNAL: &str = "198.51.100.1";
const INSIDE: &str = "192.168.0.2:5000";

fn addr(s: &str) -> SocketAddr {
    s.parse().unwrap()
}

struct Setup {
    net: Network,
    start: Instant,
    nat: NatId,
    lan: RealmId,
    inside: HostId,
    s1: HostId,
    s2: HostId,
}

fn setup(config: NatConfig) -> Setup {
    let start = Instant::now();
    let mut net = Network::new(start, 7);
    let inet = net.internet();
    let s1 = net.add_host("s1", inet, &[S1.parse().unwrap()]);
    let s2 = net.add_host("s2", inet, &[S2.parse().unwrap()]);
    let (nat, lan) = net.add_nat(config, inet, EXTERNAL.parse().unwrap());
    let inside = net.add_host("inside", lan, &[addr(INSIDE).ip()]);
    Setup {
        net,
        start,
        nat,
        lan,
        inside,
        s1,
        s2,
    }
}

/// Sends one datagram and returns the source address the receiver sees, or the drop reason.
fn send(
    net: &mut Network,
    now: Instant,
    host: HostId,
    from: &str,
    to: &str,
) -> Result<SocketAddr, DropReason> {
    let drops_before: Vec<_> = ALL_REASONS.iter().map(|r| net.trace().drops(*r)).collect();
    net.send(now, host, Transmit::udp(addr(from), addr(to), vec![0; 20]));
    if let Some((_, d)) = net.poll_delivery(now) {
        return Ok(d.source);
    }
    let reason = ALL_REASONS
        .iter()
        .zip(drops_before)
        .find(|(r, before)| net.trace().drops(**r) > *before)
        .map(|(r, _)| *r)
        .expect("neither delivered nor dropped");
    Err(reason)
}

const ALL_REASONS: [DropReason; 9] = [
    DropReason::Loss,
    DropReason::Mtu,
    DropReason::QueueFull,
    DropReason::Blackhole,
    DropReason::NoMapping,
    DropReason::Filtered,
    DropReason::NoHairpin,
    DropReason::PortsExhausted,
    DropReason::NoRoute,
];

struct Observed {
    /// External ports seen by S1:3478, S1:3479 and S2:3478.
    ports: [u16; 3],
    /// Whether an unsolicited packet to the first mapping passes from S1:3478 (the peer the
    /// inside host sent to), S1:3479 (same address, other port) and S2:3478 (other address).
    inbound: [bool; 3],
}

fn observe(mapping: Mapping, filtering: Filtering) -> Observed {
    // Filtering on a fresh NAT: the inside host has sent to S1:3478 only.
    let Setup {
        mut net,
        start,
        inside,
        s1,
        s2,
        ..
    } = setup(NatConfig::new(mapping, filtering));
    let m1 = send(&mut net, start, inside, INSIDE, &format!("{S1}:3478")).unwrap();
    let back = |net: &mut Network, host, from: String| {
        send(net, start, host, &from, &m1.to_string()).is_ok()
    };
    let inbound = [
        back(&mut net, s1, format!("{S1}:3478")),
        back(&mut net, s1, format!("{S1}:3479")),
        back(&mut net, s2, format!("{S2}:3478")),
    ];
    // Mapping: three destinations in turn.
    let m2 = send(&mut net, start, inside, INSIDE, &format!("{S1}:3479")).unwrap();
    let m3 = send(&mut net, start, inside, INSIDE, &format!("{S2}:3478")).unwrap();
    for m in [m1, m2, m3] {
        assert_eq!(m.ip(), EXTERNAL.parse::<std::net::IpAddr>().unwrap());
    }
    Observed {
        ports: [m1.port(), m2.port(), m3.port()],
        inbound,
    }
}

const MAPPINGS: [Mapping; 3] = [
    Mapping::EndpointIndependent,
    Mapping::AddressDependent,
    Mapping::AddressAndPortDependent,
];
const FILTERINGS: [Filtering; 3] = [
    Filtering::EndpointIndependent,
    Filtering::AddressDependent,
    Filtering::AddressAndPortDependent,
];

fn yes(b: bool) -> &'static str {
    if b { "passes" } else { "dropped" }
}

#[test]
fn every_combination_behaves_as_rfc_4787_defines() {
    let mut table = String::from(
        "# NAT behaviours of rtcweb-netsim\n\n\
         Printed by `cargo test -p rtcweb-netsim --test nat_behaviour` (it fails when this file\n\
         is stale; `RTCWEB_BLESS=1` rewrites it). An inside host 192.168.0.2:5000 behind a NAT\n\
         at 198.51.100.1 sends to S1:3478, S1:3479 and S2:3478 (S1 = 203.0.113.1,\n\
         S2 = 203.0.113.2) and we record the source port each sees. On a fresh NAT, after the\n\
         host has sent to S1:3478 only, unsolicited packets arrive at that mapping from three\n\
         places.\n\n\
         | mapping | filtering | classic name | port seen by S1:3478 / S1:3479 / S2:3478 | from S1:3478 | from S1:3479 | from S2:3478 |\n\
         |---|---|---|---|---|---|---|\n",
    );
    for mapping in MAPPINGS {
        for filtering in FILTERINGS {
            let o = observe(mapping, filtering);
            let [p1, p2, p3] = o.ports;
            // RFC 4787 section 4.1.
            match mapping {
                Mapping::EndpointIndependent => assert!(p1 == p2 && p2 == p3, "{mapping}"),
                Mapping::AddressDependent => assert!(p1 == p2 && p2 != p3, "{mapping}"),
                Mapping::AddressAndPortDependent => {
                    assert!(p1 != p2 && p2 != p3 && p1 != p3, "{mapping}")
                }
            }
            // RFC 4787 section 5.
            let expected = match filtering {
                Filtering::EndpointIndependent => [true, true, true],
                Filtering::AddressDependent => [true, true, false],
                Filtering::AddressAndPortDependent => [true, false, false],
            };
            assert_eq!(o.inbound, expected, "{mapping}/{filtering}");
            let name = NatConfig::new(mapping, filtering).classic_name();
            table.push_str(&format!(
                "| {mapping} | {filtering} | {name} | {p1} / {p2} / {p3} | {} | {} | {} |\n",
                yes(o.inbound[0]),
                yes(o.inbound[1]),
                yes(o.inbound[2])
            ));
        }
    }
    table.push_str(
        "\nPort preservation is on, so the first mapping keeps port 5000; later mappings of\n\
         the same host get other ports from the NAT's seeded generator.\n",
    );
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../docs/netsim-nat-behaviour.md"
    );
    let on_disk = std::fs::read_to_string(path).unwrap_or_default();
    if std::env::var_os("RTCWEB_BLESS").is_some() {
        std::fs::write(path, &table).unwrap();
    } else {
        assert_eq!(
            on_disk, table,
            "docs/netsim-nat-behaviour.md is stale: run with RTCWEB_BLESS=1"
        );
    }
}

#[test]
fn hairpinning_delivers_with_the_external_source_when_on() {
    for hairpin in [true, false] {
        let mut config =
            NatConfig::new(Mapping::EndpointIndependent, Filtering::EndpointIndependent);
        config.hairpinning = hairpin;
        let Setup {
            mut net,
            start,
            lan,
            inside,
            ..
        } = setup(config);
        let other = net.add_host("other", lan, &["192.168.0.3".parse().unwrap()]);
        // The inside host learns its mapping, as a STUN client would.
        let mapped = send(&mut net, start, inside, INSIDE, &format!("{S1}:3478")).unwrap();
        let got = send(
            &mut net,
            start,
            other,
            "192.168.0.3:6000",
            &mapped.to_string(),
        );
        if hairpin {
            // RFC 4787 REQ-9: the receiver sees the sender's external mapping.
            assert_eq!(got, Ok(addr("198.51.100.1:6000")));
        } else {
            assert_eq!(got, Err(DropReason::NoHairpin));
        }
    }
}

#[test]
fn hairpinned_packets_are_filtered_like_any_inbound_packet() {
    let config = NatConfig::new(
        Mapping::EndpointIndependent,
        Filtering::AddressAndPortDependent,
    );
    let Setup {
        mut net,
        start,
        lan,
        inside,
        ..
    } = setup(config);
    let other = net.add_host("other", lan, &["192.168.0.3".parse().unwrap()]);
    let mapped = send(&mut net, start, inside, INSIDE, &format!("{S1}:3478")).unwrap();
    let from_other = "192.168.0.3:6000";
    assert_eq!(
        send(&mut net, start, other, from_other, &mapped.to_string()),
        Err(DropReason::Filtered)
    );
    // Once the inside host has sent to the other's external mapping, it passes. (The
    // other's dropped attempt already opened its own filter towards the inside host.)
    let other_mapped = send(&mut net, start, other, from_other, &format!("{S1}:3478")).unwrap();
    assert!(send(&mut net, start, inside, INSIDE, &other_mapped.to_string()).is_ok());
    assert_eq!(
        send(&mut net, start, other, from_other, &mapped.to_string()),
        Ok(other_mapped)
    );
}

#[test]
fn mappings_expire_without_outbound_refresh() {
    let mut config = NatConfig::new(Mapping::EndpointIndependent, Filtering::EndpointIndependent);
    config.mapping_timeout = Duration::from_secs(30);
    let Setup {
        mut net,
        start,
        nat,
        inside,
        s1,
        ..
    } = setup(config);
    let server = format!("{S1}:3478");
    let mapped = send(&mut net, start, inside, INSIDE, &server)
        .unwrap()
        .to_string();
    let t = |s| start + Duration::from_secs(s);
    // Inbound packets do not refresh (REQ-6 outbound refresh only, the default).
    assert!(send(&mut net, t(29), s1, &server, &mapped).is_ok());
    assert_eq!(
        send(&mut net, t(31), s1, &server, &mapped),
        Err(DropReason::NoMapping)
    );
    assert!(net.nat_mappings(nat, t(31)).is_empty());
    // A new outbound packet makes a new mapping; an outbound packet refreshes it.
    send(&mut net, t(40), inside, INSIDE, &server).unwrap();
    send(&mut net, t(60), inside, INSIDE, &server).unwrap();
    assert!(send(&mut net, t(85), s1, &server, &mapped).is_ok());
    assert_eq!(
        send(&mut net, t(91), s1, &server, &mapped),
        Err(DropReason::NoMapping)
    );
}

#[test]
fn inbound_refresh_keeps_a_mapping_alive_when_enabled() {
    let mut config = NatConfig::new(Mapping::EndpointIndependent, Filtering::EndpointIndependent);
    config.mapping_timeout = Duration::from_secs(30);
    config.inbound_refresh = true;
    let Setup {
        mut net,
        start,
        inside,
        s1,
        ..
    } = setup(config);
    let server = format!("{S1}:3478");
    let mapped = send(&mut net, start, inside, INSIDE, &server)
        .unwrap()
        .to_string();
    for s in (20..=200).step_by(20) {
        assert!(
            send(
                &mut net,
                start + Duration::from_secs(s),
                s1,
                &server,
                &mapped
            )
            .is_ok()
        );
    }
}

#[test]
fn port_preservation_and_collisions() {
    // Preservation on: the first host keeps its port, a second host with the same port
    // cannot and gets another one.
    let config = NatConfig::new(Mapping::EndpointIndependent, Filtering::EndpointIndependent);
    let Setup {
        mut net,
        start,
        lan,
        inside,
        ..
    } = setup(config);
    let other = net.add_host("other", lan, &["192.168.0.3".parse().unwrap()]);
    let server = format!("{S1}:3478");
    assert_eq!(
        send(&mut net, start, inside, INSIDE, &server)
            .unwrap()
            .port(),
        5000
    );
    assert_ne!(
        send(&mut net, start, other, "192.168.0.3:5000", &server)
            .unwrap()
            .port(),
        5000
    );

    // Preservation off: ports come from the NAT's range.
    let mut config = NatConfig::new(Mapping::EndpointIndependent, Filtering::EndpointIndependent);
    config.port_preservation = false;
    config.port_range = (40000, 40099);
    let Setup {
        mut net,
        start,
        inside,
        ..
    } = setup(config);
    let port = send(&mut net, start, inside, INSIDE, &server)
        .unwrap()
        .port();
    assert!((40000..=40099).contains(&port));
}

#[test]
fn a_full_port_range_drops_new_flows_and_reclaims_expired_ones() {
    let mut config = NatConfig::new(
        Mapping::AddressAndPortDependent,
        Filtering::AddressAndPortDependent,
    );
    config.port_preservation = false;
    config.port_range = (40000, 40003);
    config.mapping_timeout = Duration::from_secs(10);
    let Setup {
        mut net,
        start,
        inside,
        ..
    } = setup(config);
    for port in 0..4 {
        assert!(
            send(
                &mut net,
                start,
                inside,
                INSIDE,
                &format!("{S1}:{}", 1000 + port)
            )
            .is_ok()
        );
    }
    let fifth = format!("{S1}:2000");
    assert_eq!(
        send(&mut net, start, inside, INSIDE, &fifth),
        Err(DropReason::PortsExhausted)
    );
    assert!(
        send(
            &mut net,
            start + Duration::from_secs(11),
            inside,
            INSIDE,
            &fifth
        )
        .is_ok()
    );
}

#[test]
fn nat_behind_nat_translates_twice_and_returns() {
    let start = Instant::now();
    let mut net = Network::new(start, 3);
    let inet = net.internet();
    let server = net.add_host("server", inet, &[S1.parse().unwrap()]);
    let mut cgn = NatConfig::new(Mapping::EndpointIndependent, Filtering::AddressDependent);
    cgn.port_preservation = false;
    let (_, carrier) = net.add_nat(cgn, inet, EXTERNAL.parse().unwrap());
    let home = NatConfig::new(
        Mapping::EndpointIndependent,
        Filtering::AddressAndPortDependent,
    );
    let (home_nat, lan) = net.add_nat(home, carrier, "100.64.0.2".parse().unwrap());
    let laptop = net.add_host("laptop", lan, &[addr(INSIDE).ip()]);
    let neighbour = net.add_host("neighbour", carrier, &["100.64.0.3".parse().unwrap()]);

    let to_server = format!("{S1}:3478");
    let seen = send(&mut net, start, laptop, INSIDE, &to_server).unwrap();
    assert_eq!(seen.ip(), EXTERNAL.parse::<std::net::IpAddr>().unwrap());
    assert_eq!(
        net.nat_mappings(home_nat, start),
        vec![(addr(INSIDE), 5000)]
    );
    // The reply crosses both NATs back to the laptop's private address.
    net.send(
        start,
        server,
        Transmit::udp(addr(&to_server), seen, vec![1]),
    );
    let (host, d) = net.poll_delivery(start).unwrap();
    assert_eq!(
        (host, d.destination, d.source),
        (laptop, addr(INSIDE), addr(&to_server))
    );
    // A neighbour on the carrier's network can't reach the laptop unsolicited (home APDF).
    assert_eq!(
        send(
            &mut net,
            start,
            neighbour,
            "100.64.0.3:7000",
            "100.64.0.2:5000"
        ),
        Err(DropReason::Filtered)
    );
}

/// A long simulation does not keep every mapping it ever made: expired mappings and filter
/// entries are swept once per mapping timeout (the soak, benches/src/soak, saw a NAT's
/// tables grow for as long as it ran). Behaviour is unchanged: expired entries were already
/// unusable.
#[test]
fn expired_mappings_and_filter_entries_are_forgotten() {
    let mut config = NatConfig::new(
        Mapping::AddressAndPortDependent,
        Filtering::AddressAndPortDependent,
    );
    config.mapping_timeout = Duration::from_secs(30);
    config.port_preservation = false;
    let Setup {
        mut net,
        start,
        nat,
        inside,
        ..
    } = setup(config);
    // An hour of one new flow a second (a new remote port each time), each sent to once.
    for s in 0..3600u64 {
        let to = format!("{S1}:{}", 1000 + s);
        send(
            &mut net,
            start + Duration::from_secs(s),
            inside,
            INSIDE,
            &to,
        )
        .unwrap();
    }
    let (mappings, permitted) = net.nat_table_size(nat);
    // At most two timeouts' worth (the live ones, and the expired ones since the last sweep).
    assert!(
        mappings <= 61 && permitted <= 61,
        "{mappings} mappings, {permitted} filter entries"
    );
    assert_eq!(
        net.nat_mappings(nat, start + Duration::from_secs(3599))
            .len(),
        30
    );

    // One mapping sending to a new remote every second keeps only the live permissions.
    let mut config = NatConfig::new(
        Mapping::EndpointIndependent,
        Filtering::AddressAndPortDependent,
    );
    config.mapping_timeout = Duration::from_secs(30);
    let Setup {
        mut net,
        start,
        nat,
        inside,
        ..
    } = setup(config);
    for s in 0..3600u64 {
        let to = format!("{S1}:{}", 1000 + s);
        send(
            &mut net,
            start + Duration::from_secs(s),
            inside,
            INSIDE,
            &to,
        )
        .unwrap();
    }
    let (mappings, permitted) = net.nat_table_size(nat);
    assert_eq!(mappings, 1);
    assert!(permitted <= 61, "{permitted} filter entries");
}
