//! Harder cases: loss and reordering during checks, role conflict, ICE-lite, late trickle,
//! consent loss and ICE restart, and hostile input.

#![allow(clippy::unwrap_used)] // test helpers unwrap what the test itself set up

mod common;

use std::time::Duration;

use common::*;
use rtcweb_ice::{
    CandidateKind, ConnectionState, Credentials, Datagram, IceAgent, IceConfig, IceRole, Received,
};
use rtcweb_netsim::{Filtering, LinkParams, Loss, Mapping, Node};
use rtcweb_stun::{Attribute, IntegrityKey, MessageBuilder, MessageType, TransactionId};

const RTT: Duration = Duration::from_millis(50);
const CONE: Site = Site::Nat(
    Mapping::EndpointIndependent,
    Filtering::AddressAndPortDependent,
);
const SYMMETRIC: Site = Site::Nat(
    Mapping::AddressAndPortDependent,
    Filtering::AddressAndPortDependent,
);

fn connected(s: ConnectionState) -> bool {
    matches!(s, ConnectionState::Connected | ConnectionState::Completed)
}

#[test]
fn ten_percent_loss_and_reordering_during_checks() {
    let mut flaps = 0;
    for seed in 0..100 {
        let mut w = world(
            seed,
            CONE,
            Site::Nat(Mapping::EndpointIndependent, Filtering::AddressDependent),
            RTT,
            full_config,
        );
        let messy = LinkParams {
            latency: RTT / 4,
            jitter: Duration::from_millis(30),
            loss: Loss::Random(0.10),
            reorder: 0.1,
            reorder_delay: Duration::from_millis(40),
            ..LinkParams::default()
        };
        w.sim.net_mut().set_link(Node::Host(w.a), messy.clone());
        w.sim.net_mut().set_link(Node::Host(w.b), messy);
        assert!(
            run_until_connected(&mut w.sim, w.a, w.b, Duration::from_secs(30)),
            "seed {seed}"
        );
        // And it stays up: consent survives 10 % loss (it may report a short
        // `disconnected` when several checks in a row are lost, but never fails).
        run_for(&mut w.sim, w.a, w.b, Duration::from_secs(120));
        for h in [w.a, w.b] {
            let p = w.sim.endpoint::<Peer>(h);
            assert!(connected(p.state()), "seed {seed}: {:?}", p.states());
            assert!(
                !p.states().contains(&ConnectionState::Failed),
                "seed {seed}"
            );
            flaps += p
                .states()
                .iter()
                .filter(|s| **s == ConnectionState::Disconnected)
                .count();
        }
    }
    // 200 agents x 120 s: short disconnections stay rare.
    assert!(flaps <= 5, "{flaps} disconnections");
}

#[test]
fn role_conflict_is_resolved_by_the_tie_breaker() {
    for seed in 0..100 {
        let mut w = world(seed, CONE, Site::Public, RTT, full_config);
        // Both start controlling (as when both sides think they offered).
        w.sim
            .endpoint_mut::<Peer>(w.b)
            .agent
            .set_role(IceRole::Controlling);
        assert!(
            run_until_connected(&mut w.sim, w.a, w.b, Duration::from_secs(10)),
            "seed {seed}"
        );
        let roles = [w.a, w.b].map(|h| w.sim.endpoint::<Peer>(h).agent.role());
        assert_ne!(roles[0], roles[1], "seed {seed}");
        // Both sides selected the same path.
        let pa = w
            .sim
            .endpoint::<Peer>(w.a)
            .agent
            .selected_pair()
            .map(|(l, r)| (l.addr(), r.addr()));
        let pb = w
            .sim
            .endpoint::<Peer>(w.b)
            .agent
            .selected_pair()
            .map(|(l, r)| (r.addr(), l.addr()));
        assert!(pa.is_some() && pb.is_some());
    }
}

#[test]
fn full_agent_against_a_lite_agent() {
    for seed in 0..100 {
        let config = |role: IceRole| IceConfig {
            lite: role == IceRole::Controlled,
            ..full_config(role)
        };
        // The lite side (B) has a public address; the full side is behind a NAT. The full
        // side starts controlled, as an answerer to a lite offerer would, and must take
        // control because its peer is lite.
        let mut w = world(seed, CONE, Site::Public, RTT, config);
        w.sim
            .endpoint_mut::<Peer>(w.a)
            .agent
            .set_role(IceRole::Controlled);
        assert!(
            run_until_connected(&mut w.sim, w.a, w.b, Duration::from_secs(10)),
            "seed {seed}"
        );
        let full = w.sim.endpoint::<Peer>(w.a);
        let lite = w.sim.endpoint::<Peer>(w.b);
        assert_eq!(full.agent.role(), IceRole::Controlling);
        assert_eq!(lite.agent.role(), IceRole::Controlled);
        assert!(lite.agent.is_lite());
        assert_eq!(
            lite.selected_kinds().map(|k| k.0),
            Some(CandidateKind::Host)
        );
        // Data both ways, and the lite side stays up (the full side keeps checking it).
        let now = w.sim.now();
        w.sim
            .endpoint_mut::<Peer>(w.a)
            .start_data(now, Duration::from_millis(100));
        w.sim
            .endpoint_mut::<Peer>(w.b)
            .start_data(now, Duration::from_millis(100));
        run_for(&mut w.sim, w.a, w.b, Duration::from_secs(60));
        for h in [w.a, w.b] {
            let p = w.sim.endpoint::<Peer>(h);
            assert!(connected(p.state()), "seed {seed} {:?}", p.states());
            assert!(
                p.data_received.len() > 590,
                "seed {seed}: {}",
                p.data_received.len()
            );
        }
    }
}

#[test]
fn candidates_that_trickle_in_late() {
    for seed in 0..100 {
        let mut w = world(seed, CONE, CONE, RTT, full_config);
        // Credentials and host candidates arrive at once; everything after takes 3 s.
        run_for(&mut w.sim, w.a, w.b, Duration::from_millis(1));
        w.sim.endpoint_mut::<Peer>(w.b).signaling_delay = Duration::from_secs(3);
        assert!(
            run_until_connected(&mut w.sim, w.a, w.b, Duration::from_secs(10)),
            "seed {seed}"
        );
        assert!(w.sim.elapsed() > Duration::from_secs(3));
        assert_eq!(
            w.sim.endpoint::<Peer>(w.a).selected_kinds(),
            Some((CandidateKind::Host, CandidateKind::ServerReflexive))
        );
    }
}

#[test]
fn consent_loss_then_failure_then_restart_recovers() {
    for seed in 0..100 {
        // A NAT that forgets its mappings (a reboot) and does not preserve ports: the
        // peer's packets go to a mapping that no longer exists.
        let mut w = world_with(seed, SYMMETRIC, Site::Public, RTT, full_config, |n| {
            n.port_preservation = false;
        });
        assert!(
            run_until_connected(&mut w.sim, w.a, w.b, Duration::from_secs(10)),
            "seed {seed}"
        );
        run_for(&mut w.sim, w.a, w.b, Duration::from_secs(10));
        let nat = w.nats[0];
        w.sim.net_mut().flush_nat(nat);
        w.sim.net_mut().set_blackhole(Node::Host(w.a), true);
        let cut = w.sim.now();
        run_for(&mut w.sim, w.a, w.b, Duration::from_secs(40));
        for h in [w.a, w.b] {
            let p = w.sim.endpoint::<Peer>(h);
            let states = p.states();
            let disc = states
                .iter()
                .position(|s| *s == ConnectionState::Disconnected);
            let failed = states.iter().position(|s| *s == ConnectionState::Failed);
            assert!(disc.is_some() && failed > disc, "seed {seed}: {states:?}");
            assert_eq!(p.state(), ConnectionState::Failed);
        }
        // Consent lost: nothing is sent on the old route any more.
        let now = w.sim.now();
        assert_eq!(w.sim.endpoint_mut::<Peer>(w.a).agent.send_route(now), None);
        let failed_at = w
            .sim
            .endpoint::<Peer>(w.b)
            .events
            .iter()
            .rev()
            .find(|(_, e)| *e == rtcweb_ice::IceEvent::ConnectionState(ConnectionState::Failed))
            .unwrap()
            .0;
        let lost_after = failed_at - cut;
        // Consent was last fresh up to one randomized interval (6 s) before the cut.
        assert!(
            lost_after >= Duration::from_secs(23) && lost_after <= Duration::from_secs(31),
            "seed {seed}: {lost_after:?}"
        );
        // The link comes back and A restarts ICE.
        w.sim.net_mut().set_blackhole(Node::Host(w.a), false);
        let now = w.sim.now();
        w.sim.endpoint_mut::<Peer>(w.a).restart(now);
        assert!(
            run_until_connected(&mut w.sim, w.a, w.b, Duration::from_secs(10)),
            "seed {seed}"
        );
    }
}

#[test]
fn data_keeps_flowing_on_the_old_pair_during_a_restart() {
    let mut w = world(3, CONE, Site::Public, RTT, full_config);
    assert!(run_until_connected(
        &mut w.sim,
        w.a,
        w.b,
        Duration::from_secs(10)
    ));
    let now = w.sim.now();
    w.sim
        .endpoint_mut::<Peer>(w.a)
        .start_data(now, Duration::from_millis(10));
    // The restart's signaling takes a second; data must not stop meanwhile.
    w.sim.endpoint_mut::<Peer>(w.a).signaling_delay = Duration::from_secs(1);
    w.sim.endpoint_mut::<Peer>(w.b).signaling_delay = Duration::from_secs(1);
    w.sim.endpoint_mut::<Peer>(w.a).restart(now);
    run_for(&mut w.sim, w.a, w.b, Duration::from_secs(5));
    let b = w.sim.endpoint::<Peer>(w.b);
    let got: Vec<u32> = b.data_received.iter().map(|(_, n)| *n).collect();
    assert!(got.len() >= 495, "{}", got.len());
    assert!(
        got.windows(2).all(|x| x[1] == x[0] + 1),
        "a gap in the data during the restart"
    );
    assert!(connected(b.state()));
}

fn lone_agent() -> (IceAgent, std::time::Instant, Credentials) {
    let now = std::time::Instant::now();
    let mut agent = IceAgent::new(IceConfig::default(), IceRole::Controlled, 5);
    agent.add_host_address(now, "192.0.2.1:5000".parse().unwrap());
    let remote = Credentials::new("rmte", "remotepasswordremotepassword").unwrap();
    agent.set_remote_credentials(now, remote.clone());
    while agent.poll_event().is_some() {}
    (agent, now, remote)
}

fn check(username: &str, pwd: &str, tid: u8) -> Vec<u8> {
    let mut buf = [0u8; 200];
    let mut b = MessageBuilder::new(
        &mut buf,
        MessageType::BINDING_REQUEST,
        TransactionId([tid; 12]),
    )
    .unwrap();
    b.attribute(&Attribute::Username(username)).unwrap();
    b.attribute(&Attribute::Priority(1_845_501_695)).unwrap();
    b.attribute(&Attribute::IceControlling(1)).unwrap();
    b.message_integrity(&IntegrityKey::short_term(pwd)).unwrap();
    b.fingerprint().unwrap();
    let len = b.finish();
    buf[..len].to_vec()
}

#[test]
fn checks_with_wrong_credentials_change_nothing() {
    let (mut agent, now, _) = lone_agent();
    let ours = agent.local_credentials().clone();
    let from = "198.51.100.9:4000".parse().unwrap();
    let local = "192.0.2.1:5000".parse().unwrap();
    for bad in [
        check(
            &format!("{}:rmte", ours.ufrag),
            "not-the-password-at-all-no",
            1,
        ),
        check("someone:rmte", &ours.pwd, 2),
        check("no-colon", &ours.pwd, 3),
    ] {
        assert_eq!(
            agent.handle_input(now, Datagram::udp(from, local, &bad)),
            Received::Dropped
        );
    }
    assert_eq!(agent.remote_candidate_count(), 0);
    assert_eq!(agent.poll_transmit(), None);
    assert_eq!(agent.poll_event(), None);
    // The right credentials work.
    let good = check(&format!("{}:rmte", ours.ufrag), &ours.pwd, 4);
    assert_eq!(
        agent.handle_input(now, Datagram::udp(from, local, &good)),
        Received::Consumed
    );
    assert_eq!(agent.remote_candidate_count(), 1);
    assert!(agent.poll_transmit().is_some());
}

#[test]
fn a_flood_of_checks_from_new_addresses_is_bounded() {
    let (mut agent, now, _) = lone_agent();
    let ours = agent.local_credentials().clone();
    let local = "192.0.2.1:5000".parse().unwrap();
    let msg = check(&format!("{}:rmte", ours.ufrag), &ours.pwd, 9);
    for i in 0..10_000u32 {
        let from =
            std::net::SocketAddr::new(std::net::Ipv4Addr::from(0xC633_0000 + i).into(), 4000);
        agent.handle_input(now, Datagram::udp(from, local, &msg));
        while agent.poll_transmit().is_some() {}
    }
    assert_eq!(
        agent.remote_candidate_count(),
        IceConfig::default().max_remote_candidates
    );
    let [frozen, waiting, in_progress, ok, failed] = agent.pair_counts();
    assert!(frozen + waiting + in_progress + ok + failed <= IceConfig::default().max_pairs);
}

#[test]
fn garbage_never_panics() {
    let (mut agent, now, _) = lone_agent();
    let local = "192.0.2.1:5000".parse().unwrap();
    let from = "198.51.100.9:4000".parse().unwrap();
    let mut x: u64 = 1;
    for len in 0..600 {
        let mut bytes = vec![0u8; len];
        for b in &mut bytes {
            x = x.wrapping_mul(6364136223846793005).wrapping_add(1);
            *b = (x >> 56) as u8;
        }
        if len >= 8 {
            // Make some of it look like STUN.
            bytes[0] &= 0x3f;
            bytes[4..8].copy_from_slice(&0x2112_A442u32.to_be_bytes());
        }
        let _ = agent.handle_input(now, Datagram::udp(from, local, &bytes));
    }
    assert_eq!(agent.remote_candidate_count(), 0);
}

#[test]
fn relay_only_policy_uses_the_relay_even_when_a_direct_path_exists() {
    for seed in 0..100 {
        let config = |role: IceRole| IceConfig {
            policy: rtcweb_ice::TransportPolicy::Relay,
            ..turn_config(role)
        };
        let mut w = world(seed, Site::Public, CONE, RTT, config);
        assert!(
            run_until_connected(&mut w.sim, w.a, w.b, Duration::from_secs(10)),
            "seed {seed}"
        );
        for h in [w.a, w.b] {
            let p = w.sim.endpoint::<Peer>(h);
            let (l, r) = p.selected_kinds().unwrap();
            assert_eq!(
                (l, r),
                (CandidateKind::Relayed, CandidateKind::Relayed),
                "seed {seed}"
            );
            // The peer never learned anything but relayed candidates.
            assert!(p.events.iter().all(|(_, e)| !matches!(e, rtcweb_ice::IceEvent::LocalCandidate(c) if c.kind != CandidateKind::Relayed)));
        }
        // Data flows through the relays.
        let now = w.sim.now();
        w.sim
            .endpoint_mut::<Peer>(w.a)
            .start_data(now, Duration::from_millis(50));
        w.sim
            .endpoint_mut::<Peer>(w.b)
            .start_data(now, Duration::from_millis(50));
        run_for(&mut w.sim, w.a, w.b, Duration::from_secs(30));
        for h in [w.a, w.b] {
            let p = w.sim.endpoint::<Peer>(h);
            assert!(
                p.data_received.len() >= 590,
                "seed {seed}: {}",
                p.data_received.len()
            );
            assert!(connected(p.state()));
        }
    }
}

#[test]
fn relayed_pairs_outlive_allocation_and_permission_refreshes() {
    // Half an hour on a relay: TURN refreshes (allocation every ~9 min, permissions every
    // 4 min, channels every 9 min) keep data and consent flowing.
    let config = |role: IceRole| IceConfig {
        policy: rtcweb_ice::TransportPolicy::Relay,
        ..turn_config(role)
    };
    let mut w = world(7, SYMMETRIC, SYMMETRIC, RTT, config);
    assert!(run_until_connected(
        &mut w.sim,
        w.a,
        w.b,
        Duration::from_secs(10)
    ));
    let now = w.sim.now();
    w.sim
        .endpoint_mut::<Peer>(w.a)
        .start_data(now, Duration::from_secs(1));
    run_for(&mut w.sim, w.a, w.b, Duration::from_secs(1800));
    let b = w.sim.endpoint::<Peer>(w.b);
    assert!(b.data_received.len() >= 1795, "{}", b.data_received.len());
    assert!(
        !b.states().contains(&ConnectionState::Failed),
        "{:?}",
        b.states()
    );
}

/// Relay-only agents, the relays lost under them: a TURN server restart (every allocation
/// forgotten) or a NAT rebinding of one side (the server sees a new 5-tuple). Consent fails;
/// an ICE restart checks the allocations, allocates anew where they are gone, signals the
/// new relayed candidates and connects again. Found by the soak (benches/src/soak): the
/// restart reused the dead relayed candidates and never connected again.
#[test]
fn an_ice_restart_allocates_again_what_a_turn_restart_or_a_rebinding_lost() {
    let relay_only = |role: IceRole| IceConfig {
        policy: rtcweb_ice::TransportPolicy::Relay,
        ..turn_config(role)
    };
    for (seed, turn_restart) in [(1, true), (2, false), (3, true), (4, false)] {
        let mut w = world_with(seed, CONE, CONE, RTT, relay_only, |n| {
            n.port_preservation = false;
        });
        assert!(run_until_connected(
            &mut w.sim,
            w.a,
            w.b,
            Duration::from_secs(10)
        ));
        if turn_restart {
            let now = w.sim.now();
            // State lost, as after a crash.
            w.sim.attach(w.stun, turn_server(now));
        } else {
            w.sim.net_mut().flush_nat(w.nats[0]);
        }
        let allocations = w.sim.endpoint::<TurnServer>(w.stun).relays_bound();
        run_for(&mut w.sim, w.a, w.b, Duration::from_secs(40));
        assert!(
            !connected(w.sim.endpoint::<Peer>(w.b).state()),
            "seed {seed}: consent should have failed"
        );
        let now = w.sim.now();
        w.sim.endpoint_mut::<Peer>(w.a).restart(now);
        assert!(
            run_until_connected(&mut w.sim, w.a, w.b, Duration::from_secs(10)),
            "seed {seed} (TURN restart: {turn_restart}): {:?} / {:?}",
            w.sim.endpoint::<Peer>(w.a).state(),
            w.sim.endpoint::<Peer>(w.b).state()
        );
        let a = w.sim.endpoint::<Peer>(w.a);
        let (local, _) = a.agent.selected_pair().unwrap();
        assert_eq!(local.kind, CandidateKind::Relayed);
        // New allocations: both sides' after a server restart, the rebound side's otherwise.
        let made = w.sim.endpoint::<TurnServer>(w.stun).relays_bound() - allocations;
        assert!(
            made >= if turn_restart { 2 } else { 1 },
            "seed {seed}: {made}"
        );
        // Data flows through the new relays, both ways.
        let now = w.sim.now();
        for h in [w.a, w.b] {
            w.sim
                .endpoint_mut::<Peer>(h)
                .start_data(now, Duration::from_millis(100));
        }
        run_for(&mut w.sim, w.a, w.b, Duration::from_secs(35));
        for h in [w.a, w.b] {
            let p = w.sim.endpoint::<Peer>(h);
            assert!(
                p.data_received.len() >= 340,
                "seed {seed}: {}",
                p.data_received.len()
            );
            assert!(connected(p.state()), "seed {seed}: {:?}", p.state());
        }
    }
}

#[test]
fn mdns_candidates_are_resolved_by_the_owner_then_checked() {
    // B hides its host address behind a `.local` name, as browsers do; A asks its owner to
    // resolve it and connects once the address is known.
    let mut w = world(5, Site::Public, Site::Public, RTT, full_config);
    run_for(&mut w.sim, w.a, w.b, Duration::from_millis(1));
    let now = w.sim.now();
    let a_creds = w
        .sim
        .endpoint::<Peer>(w.a)
        .agent
        .local_credentials()
        .clone();
    let name = "0f2a5e3c-1b1a-4bd5-9a2b-4f3d2a7c0e11.local";
    // Forget what B signalled and offer the same candidate under an mDNS name instead.
    let mut fresh = IceAgent::new(full_config(IceRole::Controlling), IceRole::Controlling, 99);
    fresh.set_local_credentials(a_creds);
    fresh.add_host_address(now, "198.51.100.1:5000".parse().unwrap());
    fresh.start_gathering(now);
    let b_creds = w
        .sim
        .endpoint::<Peer>(w.b)
        .agent
        .local_credentials()
        .clone();
    fresh.set_remote_credentials(now, b_creds);
    let c: rtcweb_ice::Candidate = format!("candidate:1 1 udp 2122260223 {name} 5000 typ host")
        .parse()
        .unwrap();
    fresh.add_remote_candidate(now, c).unwrap();
    let mut asked = None;
    while let Some(e) = fresh.poll_event() {
        if let rtcweb_ice::IceEvent::ResolveMdns(n) = e {
            asked = Some(n);
        }
    }
    assert_eq!(asked.as_deref(), Some(name));
    assert_eq!(
        fresh.pair_counts().iter().sum::<usize>(),
        0,
        "no pair before resolution"
    );
    fresh.resolve_mdns(now, name, "198.51.100.2".parse().unwrap());
    assert_eq!(fresh.pair_counts().iter().sum::<usize>(), 1);
    let creds = fresh.local_credentials().clone();
    let a = w.sim.endpoint_mut::<Peer>(w.a);
    a.agent = fresh;
    a.outbox.clear();
    // B learns A's (unchanged) credentials again and A's candidates as they trickle.
    a.outbox.push_back(Signal::Credentials(creds, false));
    assert!(run_until_connected(
        &mut w.sim,
        w.a,
        w.b,
        Duration::from_secs(5)
    ));
    let (_, remote) = w.sim.endpoint::<Peer>(w.a).agent.selected_pair().unwrap();
    assert!(
        matches!(&remote.address, rtcweb_ice::CandidateAddress::Mdns { name: n, .. } if n == name)
    );
}
