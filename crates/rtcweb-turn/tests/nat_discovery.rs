//! RFC 5780 NAT behaviour discovery against every RFC 4787 NAT type of the simulator.
#![allow(clippy::unwrap_used)]

mod common;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use common::Stun5780;
use rtcweb_netsim::{Filtering, Mapping, NatConfig, Network, Simulation};
use rtcweb_turn::nat::{
    DiscoveryConfig, DiscoveryError, FilteringBehavior, MappingBehavior, NatDiscovery, NatReport,
};

const PRIMARY: &str = "203.0.113.1:3478";
const OTHER: &str = "203.0.113.2:3479";

fn run(
    nat: Option<NatConfig>,
    tweak: impl FnOnce(&mut Stun5780, &mut DiscoveryConfig),
) -> Result<NatReport, DiscoveryError> {
    let start = Instant::now();
    let mut net = Network::new(start, 11);
    let inet = net.internet();
    let server = net.add_host(
        "stun",
        inet,
        &[
            "203.0.113.1".parse().unwrap(),
            "203.0.113.2".parse().unwrap(),
        ],
    );
    let (realm, ip) = match nat {
        Some(cfg) => {
            let (_, lan) = net.add_nat(cfg, inet, "198.51.100.200".parse().unwrap());
            (lan, "192.168.1.2")
        }
        None => (inet, "198.51.100.5"),
    };
    let ip: std::net::IpAddr = ip.parse().unwrap();
    let client = net.add_host("client", realm, &[ip]);
    let mut sim = Simulation::new(net);
    let mut stun = Stun5780::new(PRIMARY.parse().unwrap(), OTHER.parse().unwrap());
    let sockets = [0, 1, 2, 3].map(|i| SocketAddr::new(ip, 40000 + i));
    let mut config = DiscoveryConfig::new(PRIMARY.parse().unwrap(), sockets);
    tweak(&mut stun, &mut config);
    sim.attach(server, stun);
    let disc = NatDiscovery::new(config, start, [3; 32]);
    sim.attach(client, disc);
    assert!(sim.run_until(start + Duration::from_secs(3600), |s| {
        s.endpoint::<NatDiscovery>(client).is_done()
    }));
    sim.endpoint::<NatDiscovery>(client)
        .result()
        .unwrap()
        .clone()
}

#[test]
fn every_nat_type_is_classified() {
    let mappings = [
        (
            Mapping::EndpointIndependent,
            MappingBehavior::EndpointIndependent,
        ),
        (Mapping::AddressDependent, MappingBehavior::AddressDependent),
        (
            Mapping::AddressAndPortDependent,
            MappingBehavior::AddressAndPortDependent,
        ),
    ];
    let filterings = [
        (
            Filtering::EndpointIndependent,
            FilteringBehavior::EndpointIndependent,
        ),
        (
            Filtering::AddressDependent,
            FilteringBehavior::AddressDependent,
        ),
        (
            Filtering::AddressAndPortDependent,
            FilteringBehavior::AddressAndPortDependent,
        ),
    ];
    for (m, want_m) in mappings {
        for (f, want_f) in filterings {
            let cfg = NatConfig::new(m, f);
            let report = run(Some(cfg.clone()), |_, _| {}).unwrap();
            assert_eq!(
                (report.mapping, report.filtering),
                (want_m, want_f),
                "{m} {f}"
            );
            if cfg.classic_name() != "unnamed" {
                assert_eq!(report.classic_name(), cfg.classic_name(), "{m} {f}");
            }
            // The hairpin probe leaves through a new mapping unless mapping is EIM, and the
            // NAT filters the hairpinned packet like any other: with ADM/APDM and ADF/APDF the
            // probe is dropped, which is what a peer behind the same NAT would see too.
            let hairpins = m == Mapping::EndpointIndependent || f == Filtering::EndpointIndependent;
            assert_eq!(report.hairpinning, Some(hairpins), "hairpin {m} {f}");
            assert_eq!(report.mapped[0].ip().to_string(), "198.51.100.200");
            assert_eq!(report.behind_nat, Some(true));
            assert_eq!(report.other_address, OTHER.parse::<SocketAddr>().unwrap());
        }
    }
}

#[test]
fn no_nat_and_no_hairpinning() {
    let report = run(None, |_, _| {}).unwrap();
    assert_eq!(report.behind_nat, Some(false));
    assert_eq!(report.mapping, MappingBehavior::EndpointIndependent);
    assert_eq!(report.filtering, FilteringBehavior::EndpointIndependent);
    assert_eq!(report.classic_name(), "open internet (no NAT)");
    assert_eq!(report.hairpinning, None);

    let mut cfg = NatConfig::new(Mapping::EndpointIndependent, Filtering::EndpointIndependent);
    cfg.hairpinning = false;
    let report = run(Some(cfg), |_, _| {}).unwrap();
    assert_eq!(report.hairpinning, Some(false));
    assert_eq!(report.classic_name(), "full cone");
}

#[test]
fn server_without_rfc5780_or_silent() {
    let cone = NatConfig::new(
        Mapping::EndpointIndependent,
        Filtering::AddressAndPortDependent,
    );
    let err = run(Some(cone.clone()), |s, _| s.advertise_other = false).unwrap_err();
    assert_eq!(err, DiscoveryError::NoOtherAddress);
    let err = run(Some(cone), |_, c| {
        c.server = "203.0.113.9:3478".parse().unwrap()
    })
    .unwrap_err();
    assert_eq!(err, DiscoveryError::NoResponse);
}

#[test]
fn binding_lifetime_is_bracketed() {
    let mut cfg = NatConfig::new(
        Mapping::EndpointIndependent,
        Filtering::AddressAndPortDependent,
    );
    cfg.mapping_timeout = Duration::from_secs(120);
    let probes = [30, 90, 150, 200].map(Duration::from_secs).to_vec();
    let report = run(Some(cfg), |_, c| c.lifetime_probes = probes).unwrap();
    assert_eq!(
        report.binding_lifetime,
        Some((
            Some(Duration::from_secs(90)),
            Some(Duration::from_secs(150))
        ))
    );
}
