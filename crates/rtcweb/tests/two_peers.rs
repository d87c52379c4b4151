//! Two PeerConnections on the simulated network: offer/answer, ICE, DTLS, SRTP.

#![allow(clippy::unwrap_used)] // test helpers unwrap what the test itself set up

mod common;

use std::time::{Duration, Instant};

use common::{Peer, config, connected, signal};
use rtcweb::{Direction, Event, MediaKind, PeerConnection, SignalingMessage, TransceiverId};
use rtcweb_netsim::{Filtering, HostId, LinkParams, Mapping, NatConfig, Network, Node, Simulation};

struct World {
    sim: Simulation,
    a: HostId,
    b: HostId,
    start: Instant,
}

fn world(seed: u64, nat_a: Option<(Mapping, Filtering)>) -> World {
    let start = Instant::now();
    let mut net = Network::new(start, seed);
    let inet = net.internet();
    let (realm_a, ip_a) = match nat_a {
        Some((m, f)) => {
            let (_, lan) = net.add_nat(NatConfig::new(m, f), inet, "198.51.100.1".parse().unwrap());
            (lan, "192.168.1.2")
        }
        None => (inet, "198.51.100.1"),
    };
    let a = net.add_host("a", realm_a, &[ip_a.parse().unwrap()]);
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
            format!("{ip_a}:5000").parse().unwrap(),
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
    World { sim, a, b, start }
}

fn offer(w: &mut World, media: &[(MediaKind, Direction)]) -> Vec<TransceiverId> {
    let now = w.sim.now();
    w.sim.endpoint_mut::<Peer>(w.a).offer(now, media)
}

/// Writes `count` RTP packets with `payload` on A's transceiver `t`, sequence numbers from 0.
fn write_rtp_burst(w: &mut World, t: TransceiverId, payload: &[u8], count: u16) {
    let now = w.sim.now();
    let mut rtp = vec![0x80, 96, 0, 1, 0, 0, 0, 100, 0, 0, 0, 0];
    rtp.extend_from_slice(payload);
    for seq in 0..count {
        rtp[2..4].copy_from_slice(&seq.to_be_bytes());
        w.sim
            .endpoint_mut::<Peer>(w.a)
            .pc
            .write_rtp(now, t, &rtp)
            .unwrap();
    }
}

#[test]
fn audio_and_video_offer_answer_connect_with_dtls_and_srtp() {
    let mut w = world(
        1,
        Some((
            Mapping::EndpointIndependent,
            Filtering::AddressAndPortDependent,
        )),
    );
    let ids = offer(
        &mut w,
        &[
            (MediaKind::Audio, Direction::SendRecv),
            (MediaKind::Video, Direction::SendRecv),
        ],
    );
    let (a, b) = (w.a, w.b);
    assert!(w.sim.run_until(w.start + Duration::from_secs(10), |s| {
        signal(s, a, b);
        connected(s, a) && connected(s, b)
    }));
    let setup = w.sim.now() - w.start;
    for h in [a, b] {
        let p = w.sim.endpoint::<Peer>(h);
        assert!(p.pc.dtls_version().is_some());
        assert!(p.pc.srtp_profile().is_some());
    }
    // B's transceivers were created by A's offer (recvonly, as in browsers): B receives
    // A's tracks, A receives nothing.
    let tracks = |h| w.sim.endpoint::<Peer>(h).tracks();
    assert_eq!((tracks(a), tracks(b)), (0, 2));
    assert!(setup < Duration::from_secs(1), "{setup:?}");

    // RTP from A's video transceiver arrives at B, decrypted, on B's matching transceiver.
    write_rtp_burst(&mut w, ids[1], b"a VP8 payload would be here", 50);
    w.sim.run_for(Duration::from_millis(200));
    let received = w.sim.endpoint::<Peer>(b).rtp();
    let got: Vec<&[u8]> = received.iter().map(|(_, packet)| *packet).collect();
    assert_eq!(got.len(), 50);
    assert_eq!(&got[0][12..], b"a VP8 payload would be here");
    let ssrc = w.sim.endpoint::<Peer>(a).pc.sending_ssrc(ids[1]).unwrap();
    assert_eq!(u32::from_be_bytes(got[0][8..12].try_into().unwrap()), ssrc);
    let transceivers: Vec<_> = received.iter().map(|(t, _)| t).collect();
    assert!(
        transceivers.iter().all(|t| t.is_some()),
        "RTP not matched to a transceiver"
    );
}

fn dc_events(sim: &Simulation, h: HostId) -> Vec<rtcweb::DataChannelEvent> {
    sim.endpoint::<Peer>(h)
        .events
        .iter()
        .filter_map(|e| match e {
            Event::DataChannel(d) => Some(d.clone()),
            _ => None,
        })
        .collect()
}

#[test]
fn data_channel_opens_and_carries_messages_both_ways() {
    let mut w = world(
        2,
        Some((
            Mapping::AddressAndPortDependent,
            Filtering::AddressAndPortDependent,
        )),
    );
    let (a, b) = (w.a, w.b);
    let now = w.sim.now();
    let dc = w
        .sim
        .endpoint_mut::<Peer>(a)
        .pc
        .create_data_channel(now, "chat", &rtcweb::DataChannelInit::default())
        .unwrap();
    offer(&mut w, &[]);
    assert!(w.sim.run_until(w.start + Duration::from_secs(10), |s| {
        signal(s, a, b);
        dc_events(s, a)
            .iter()
            .any(|e| matches!(e, rtcweb::DataChannelEvent::Open { .. }))
            && dc_events(s, b)
                .iter()
                .any(|e| matches!(e, rtcweb::DataChannelEvent::Incoming { .. }))
    }));
    let remote_id = dc_events(&w.sim, b)
        .iter()
        .find_map(|e| match e {
            rtcweb::DataChannelEvent::Incoming { id, label, .. } => {
                assert_eq!(label, "chat");
                Some(*id)
            }
            _ => None,
        })
        .unwrap();
    let now = w.sim.now();
    w.sim
        .endpoint_mut::<Peer>(a)
        .pc
        .send_text(now, dc, "hello")
        .unwrap();
    let big = vec![7u8; 256 * 1024];
    w.sim
        .endpoint_mut::<Peer>(a)
        .pc
        .send_binary(now, dc, &big)
        .unwrap();
    w.sim
        .endpoint_mut::<Peer>(b)
        .pc
        .send_text(now, remote_id, "hi back")
        .unwrap();
    w.sim.run_for(Duration::from_secs(2));
    let got_b: Vec<_> = dc_events(&w.sim, b)
        .into_iter()
        .filter_map(|e| match e {
            rtcweb::DataChannelEvent::Message { data, binary, .. } => Some((data, binary)),
            _ => None,
        })
        .collect();
    assert_eq!(got_b.len(), 2);
    assert_eq!(got_b[0], (b"hello".to_vec(), false));
    assert_eq!(got_b[1].0.len(), 256 * 1024);
    assert!(dc_events(&w.sim, a).iter().any(
        |e| matches!(e, rtcweb::DataChannelEvent::Message { data, .. } if data == b"hi back")
    ));
    // Closing from A closes on both sides.
    let now = w.sim.now();
    w.sim
        .endpoint_mut::<Peer>(a)
        .pc
        .close_data_channel(now, dc)
        .unwrap();
    w.sim.run_for(Duration::from_secs(1));
    for h in [a, b] {
        assert!(
            dc_events(&w.sim, h)
                .iter()
                .any(|e| matches!(e, rtcweb::DataChannelEvent::Closed { .. })),
            "{h:?}"
        );
    }
}

/// Delivers every queued signaling message from `from` to `to`, except that descriptions
/// are held back while `hold` says so.
fn signal_one_way(sim: &mut Simulation, from: HostId, to: HostId, hold: bool) {
    let now = sim.now();
    let p = sim.endpoint_mut::<Peer>(from);
    if hold
        && p.outbox
            .iter()
            .any(|m| matches!(m, SignalingMessage::Description(_)))
    {
        return;
    }
    let msgs: Vec<_> = p.outbox.drain(..).collect();
    let q = sim.endpoint_mut::<Peer>(to);
    q.inbox.extend(msgs);
    if !q.inbox.is_empty() {
        q.apply_inbox(now);
    }
}

/// node-datachannel and Chromium answer `a=setup:active` and send their ClientHello as soon
/// as their ICE side works, which is often before their answer reaches the offerer (the
/// webrtc-echoes server answers over HTTP only after gathering). The offerer must keep that
/// early ClientHello until the answer tells it the fingerprint: dropping it costs a DTLS
/// retransmission (1 s) on every such connection.
#[test]
fn a_client_hello_that_arrives_before_the_answer_is_kept() {
    let mut w = world(3, None);
    let (a, b) = (w.a, w.b);
    let now = w.sim.now();
    // An ICE-lite offerer lets B, controlling, select a pair from its own checks without
    // waiting for A: what node-datachannel and Chromium do as controlled agents.
    let mut lite_config = config(7);
    lite_config.ice_lite = true;
    let mut lite = PeerConnection::new(lite_config).unwrap();
    lite.add_local_address(now, "198.51.100.1:5000".parse().unwrap());
    w.sim.endpoint_mut::<Peer>(a).pc = lite;
    w.sim
        .endpoint_mut::<Peer>(a)
        .pc
        .create_data_channel(now, "early", &rtcweb::DataChannelInit::default())
        .unwrap();
    offer(&mut w, &[]);
    // The answer (and B's candidates with it) is held for 300 ms; B's ICE checks reach A
    // and are answered, so B connects and, as the DTLS client, sends its ClientHello.
    let held_until = w.start + Duration::from_millis(300);
    assert!(!w.sim.run_until(held_until, |s| {
        let hold = s.now() < held_until;
        signal_one_way(s, a, b, false);
        signal_one_way(s, b, a, hold);
        false
    }));
    let b_pc = &w.sim.endpoint::<Peer>(b).pc;
    assert!(
        b_pc.stats(w.sim.now()).transport.dtls_state != "new",
        "B did not start DTLS before A had the answer: the test does not reproduce the case"
    );
    let answered = w.sim.now();
    assert!(w.sim.run_until(answered + Duration::from_secs(5), |s| {
        signal(s, a, b);
        connected(s, a) && connected(s, b)
    }));
    let setup = w.sim.now() - answered;
    assert!(
        setup < Duration::from_millis(200),
        "connected {setup:?} after the answer arrived: the early ClientHello was dropped"
    );
}

/// An echo server's answer: the transceivers a remote offer created start `recvonly`;
/// `set_direction(sendrecv)` gives each a sender, the answer says `sendrecv` with our own
/// SSRCs, the offerer gets a track per section, and RTP written back on the answerer's
/// transceiver reaches the offerer on the same transceiver it sends on.
#[test]
fn an_answerer_sends_back_on_the_transceivers_the_offer_created() {
    let mut w = world(4, None);
    let (a, b) = (w.a, w.b);
    w.sim.endpoint_mut::<Peer>(b).send_back = true;
    let ids = offer(
        &mut w,
        &[
            (MediaKind::Audio, Direction::SendRecv),
            (MediaKind::Video, Direction::SendRecv),
        ],
    );
    assert!(w.sim.run_until(w.start + Duration::from_secs(10), |s| {
        signal(s, a, b);
        connected(s, a) && connected(s, b)
    }));
    let tracks = |h| w.sim.endpoint::<Peer>(h).tracks();
    assert_eq!((tracks(a), tracks(b)), (2, 2));
    let b_transceivers: Vec<_> = w.sim.endpoint::<Peer>(b).pc.transceivers().to_vec();
    assert!(
        b_transceivers
            .iter()
            .all(|t| t.direction == Direction::SendRecv
                && t.current_direction == Some(Direction::SendRecv)
                && t.send.as_ref().and_then(|s| s.ssrc).is_some())
    );

    // A sends video; B writes every packet back on the transceiver it arrived on.
    write_rtp_burst(&mut w, ids[1], b"echo me", 20);
    w.sim.run_for(Duration::from_millis(100));
    let received: Vec<_> = w
        .sim
        .endpoint::<Peer>(b)
        .rtp()
        .into_iter()
        .filter_map(|(t, packet)| Some((t?, packet.to_vec())))
        .collect();
    assert_eq!(received.len(), 20);
    let now = w.sim.now();
    for (t, packet) in &received {
        w.sim
            .endpoint_mut::<Peer>(b)
            .pc
            .write_rtp(now, *t, packet)
            .unwrap();
    }
    w.sim.run_for(Duration::from_millis(100));
    let back = w.sim.endpoint::<Peer>(a).rtp();
    assert_eq!(back.len(), 20);
    let b_video_ssrc = w
        .sim
        .endpoint::<Peer>(b)
        .pc
        .sending_ssrc(received[0].0)
        .unwrap();
    for (t, packet) in &back {
        assert_eq!(
            *t,
            Some(ids[1]),
            "echo not matched to the video transceiver"
        );
        assert_eq!(
            u32::from_be_bytes(packet[8..12].try_into().unwrap()),
            b_video_ssrc
        );
        assert_eq!(&packet[12..], b"echo me");
    }
}
