//! ICE restarts through the PeerConnection (JSEP `iceRestart` offers on the simulated
//! network): both sides reconnect on the new credentials and data flows both ways again,
//! including after a NAT forgot the offerer's mapping. Regression tests of what the soak
//! (benches/src/soak) found.

#![allow(clippy::unwrap_used)] // test helpers unwrap what the test itself set up

mod common;

use std::time::{Duration, Instant};

use common::{Peer, config, signal};
use rtcweb::{
    DataChannelEvent, DataChannelId, Event, IceConnectionState, PeerConnectionState,
    SignalingMessage,
};
use rtcweb_netsim::{
    Filtering, HostId, LinkParams, Mapping, NatConfig, NatId, Network, Node, Simulation,
};

struct World {
    sim: Simulation,
    a: HostId,
    b: HostId,
    nat: NatId,
    start: Instant,
}

/// A behind a NAT that does not preserve ports (a forgotten mapping comes back on a new
/// port), B public; A offers one data channel and both connect.
fn connected(seed: u64) -> (World, DataChannelId, DataChannelId) {
    let start = Instant::now();
    let mut net = Network::new(start, seed);
    let inet = net.internet();
    let mut nat_config = NatConfig::new(
        Mapping::EndpointIndependent,
        Filtering::AddressAndPortDependent,
    );
    nat_config.port_preservation = false;
    let (nat, lan) = net.add_nat(nat_config, inet, "198.51.100.1".parse().unwrap());
    let a = net.add_host("a", lan, &["192.168.1.2".parse().unwrap()]);
    let b = net.add_host("b", inet, &["198.51.100.2".parse().unwrap()]);
    for h in [a, b] {
        net.set_link(
            Node::Host(h),
            LinkParams::with_latency(Duration::from_millis(10)),
        );
    }
    let mut sim = Simulation::new(net);
    sim.attach(
        a,
        Peer::new(
            config(seed * 2 + 1),
            "192.168.1.2:5000".parse().unwrap(),
            start,
        ),
    );
    sim.attach(
        b,
        Peer::new(
            config(seed * 2 + 2),
            "198.51.100.2:5000".parse().unwrap(),
            start,
        ),
    );
    let dc = sim
        .endpoint_mut::<Peer>(a)
        .pc
        .create_data_channel(start, "chat", &rtcweb::DataChannelInit::default())
        .unwrap();
    sim.endpoint_mut::<Peer>(a).offer(start, &[]);
    assert!(sim.run_until(start + Duration::from_secs(10), |s| {
        signal(s, a, b);
        incoming(s, b).is_some() && opened(s, a)
    }));
    let remote = incoming(&sim, b).unwrap();
    (
        World {
            sim,
            a,
            b,
            nat,
            start,
        },
        dc,
        remote,
    )
}

fn incoming(sim: &Simulation, h: HostId) -> Option<DataChannelId> {
    sim.endpoint::<Peer>(h).events.iter().find_map(|e| match e {
        Event::DataChannel(DataChannelEvent::Incoming { id, .. }) => Some(*id),
        _ => None,
    })
}

fn opened(sim: &Simulation, h: HostId) -> bool {
    sim.endpoint::<Peer>(h)
        .events
        .iter()
        .any(|e| matches!(e, Event::DataChannel(DataChannelEvent::Open { .. })))
}

fn messages(sim: &Simulation, h: HostId) -> Vec<Vec<u8>> {
    sim.endpoint::<Peer>(h)
        .events
        .iter()
        .filter_map(|e| match e {
            Event::DataChannel(DataChannelEvent::Message { data, .. }) => Some(data.clone()),
            _ => None,
        })
        .collect()
}

/// A restarts ICE: a new offer with new credentials, B's answer.
fn restart_ice(w: &mut World) {
    let now = w.sim.now();
    let p = w.sim.endpoint_mut::<Peer>(w.a);
    let offer = p.pc.create_offer_with_ice_restart().unwrap();
    p.pc.set_local_description(now, &offer).unwrap();
    p.outbox.push_back(SignalingMessage::Description(offer));
    p.drain();
}

/// Both ICE agents connected on the restarted session, both connections up, and a message
/// each way arrives.
fn assert_reconnected(w: &mut World, a_dc: DataChannelId, b_dc: DataChannelId, what: &str) {
    let (a, b) = (w.a, w.b);
    let deadline = w.sim.now() + Duration::from_secs(20);
    let ice_up = |s: &Simulation, h| {
        matches!(
            s.endpoint::<Peer>(h).pc.ice_connection_state(),
            IceConnectionState::Connected | IceConnectionState::Completed
        ) && s.endpoint::<Peer>(h).pc.connection_state() == PeerConnectionState::Connected
    };
    let reconnected = w.sim.run_until(deadline, |s| {
        signal(s, a, b);
        ice_up(s, a) && ice_up(s, b)
    });
    let states = |h| {
        let pc = &w.sim.endpoint::<Peer>(h).pc;
        (pc.ice_connection_state(), pc.connection_state())
    };
    assert!(reconnected, "{what}: A {:?}, B {:?}", states(a), states(b));
    let (before_a, before_b) = (messages(&w.sim, a).len(), messages(&w.sim, b).len());
    let now = w.sim.now();
    w.sim
        .endpoint_mut::<Peer>(a)
        .pc
        .send_text(now, a_dc, "to b")
        .unwrap();
    w.sim
        .endpoint_mut::<Peer>(b)
        .pc
        .send_text(now, b_dc, "to a")
        .unwrap();
    // Thirty seconds more: past a consent timeout, so neither side lives on borrowed time.
    w.sim.run_for(Duration::from_secs(35));
    assert_eq!(messages(&w.sim, b).len(), before_b + 1, "{what}: A to B");
    assert_eq!(messages(&w.sim, a).len(), before_a + 1, "{what}: B to A");
    for h in [a, b] {
        assert_eq!(
            w.sim.endpoint::<Peer>(h).pc.connection_state(),
            PeerConnectionState::Connected,
            "{what}: {h:?} after 35 s"
        );
    }
}

#[test]
fn an_ice_restart_reconnects_both_sides() {
    let (mut w, a_dc, b_dc) = connected(1);
    restart_ice(&mut w);
    assert_reconnected(&mut w, a_dc, b_dc, "restart");
    // And a second one on top.
    restart_ice(&mut w);
    assert_reconnected(&mut w, a_dc, b_dc, "second restart");
    let _ = w.start;
}

#[test]
fn an_ice_restart_recovers_from_a_nat_rebinding() {
    let (mut w, a_dc, b_dc) = connected(2);
    // The NAT forgets A's mapping: A's packets now come from a new port, which B's selected
    // pair does not know; A's restart finds the new path.
    w.sim.net_mut().flush_nat(w.nat);
    w.sim.run_for(Duration::from_secs(2));
    restart_ice(&mut w);
    assert_reconnected(&mut w, a_dc, b_dc, "restart after rebinding");
}

/// The `a=candidate` lines of a side's local description.
fn local_candidates(w: &World, h: HostId) -> Vec<String> {
    let sdp = w
        .sim
        .endpoint::<Peer>(h)
        .pc
        .local_description_sdp()
        .unwrap_or_default();
    sdp.lines()
        .filter(|l| l.starts_with("a=candidate:"))
        .map(str::to_owned)
        .collect()
}

#[test]
fn restarts_do_not_pile_up_local_candidates() {
    let (mut w, a_dc, b_dc) = connected(3);
    let first = [w.a, w.b].map(|h| local_candidates(&w, h).len());
    assert!(first.iter().all(|n| *n > 0), "{first:?}");
    for round in 0..4 {
        restart_ice(&mut w);
        assert_reconnected(&mut w, a_dc, b_dc, "restart");
        for (i, h) in [w.a, w.b].into_iter().enumerate() {
            let now = local_candidates(&w, h);
            let mut unique = now.clone();
            unique.sort();
            unique.dedup();
            // Each candidate once, and no more of them than the first session had: the
            // old session's are gone (before: every restart appended them again).
            assert_eq!(unique.len(), now.len(), "round {round}, side {i}: {now:#?}");
            assert!(
                now.len() <= first[i],
                "round {round}, side {i}: {} candidates, {} at first: {now:#?}",
                now.len(),
                first[i]
            );
        }
    }
}
