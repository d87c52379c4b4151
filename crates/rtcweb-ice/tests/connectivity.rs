//! Two agents on the simulated network: direct paths, NATs, loss, roles, lite, trickle.

#![allow(clippy::unwrap_used)] // test helpers unwrap what the test itself set up

mod common;

use std::time::Duration;

use common::*;
use rtcweb_ice::{CandidateKind, ConnectionState};
use rtcweb_netsim::{Filtering, Mapping};

const RTT: Duration = Duration::from_millis(50);

#[test]
fn two_public_hosts_connect_and_complete() {
    let mut w = world(1, Site::Public, Site::Public, RTT, full_config);
    assert!(run_until_connected(
        &mut w.sim,
        w.a,
        w.b,
        Duration::from_secs(5)
    ));
    run_for(&mut w.sim, w.a, w.b, Duration::from_secs(2));
    for h in [w.a, w.b] {
        let p = w.sim.endpoint::<Peer>(h);
        assert_eq!(p.state(), ConnectionState::Completed, "{:?}", p.states());
        assert_eq!(
            p.selected_kinds(),
            Some((CandidateKind::Host, CandidateKind::Host))
        );
        assert_eq!(
            p.states(),
            vec![
                ConnectionState::Checking,
                ConnectionState::Connected,
                ConnectionState::Completed
            ]
        );
    }
}

#[test]
fn data_flows_both_ways_over_the_selected_pair() {
    let mut w = world(
        2,
        Site::Nat(
            Mapping::EndpointIndependent,
            Filtering::AddressAndPortDependent,
        ),
        Site::Public,
        RTT,
        full_config,
    );
    assert!(run_until_connected(
        &mut w.sim,
        w.a,
        w.b,
        Duration::from_secs(5)
    ));
    let now = w.sim.now();
    w.sim
        .endpoint_mut::<Peer>(w.a)
        .start_data(now, Duration::from_millis(20));
    w.sim
        .endpoint_mut::<Peer>(w.b)
        .start_data(now, Duration::from_millis(20));
    run_for(&mut w.sim, w.a, w.b, Duration::from_secs(60));
    for h in [w.a, w.b] {
        let p = w.sim.endpoint::<Peer>(h);
        assert!(p.data_received.len() >= 2990, "{}", p.data_received.len());
        assert_eq!(p.state(), ConnectionState::Completed);
    }
}
