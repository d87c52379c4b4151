//! Two PeerConnections in `MediaMode::Session` negotiating RED for Opus and ULPFEC for video
//! as browsers do (the defaults of `MediaConfig::resilience`), over a 150 ms round trip
//! that loses 5 % of A's packets both ways; B plays out through its jitter buffers.
//!
//! The offer lists `red/48000/2` (`111/111`) before Opus and `red`/`rtx`/`ulpfec` with
//! Chromium's payload types; A sends RED audio and FEC-protected video; B recovers packets
//! from both, every video frame arrives whole, audio frames each come out once, and
//! `getStats()` reports it under the W3C names.

#![allow(clippy::unwrap_used)]

mod common;

use std::collections::HashSet;
use std::time::{Duration, Instant};

use common::{Peer, connected, signal};
use rtcweb::{Direction, MediaKind, MediaMode, PlayoutConfig};
use rtcweb_netsim::{LinkParams, Loss, Network, Node, Simulation};

fn peer(seed: u64, addr: &str, start: Instant, playout: bool) -> Peer {
    let mut config = common::config(seed);
    config.media.mode = MediaMode::Session;
    config.media.congestion_control = None;
    config.media.wall_clock = Some((start, Duration::from_secs(1_750_000_000)));
    if playout {
        config.media.playout = Some(PlayoutConfig::default());
    }
    let mut p = Peer::new(config, addr.parse().unwrap(), start);
    p.send_back = true;
    p
}

fn vp8(n: u32) -> Vec<u8> {
    let key = n.is_multiple_of(90);
    let len = if key {
        12_000
    } else {
        3_000 + (n as usize * 37) % 1500
    };
    let mut f: Vec<u8> = (0..len)
        .map(|i| ((i as u32 * 31 + n) % 250 + 1) as u8)
        .collect();
    if key {
        f[..10].copy_from_slice(&[0x50, 0x2d, 0x00, 0x9d, 0x01, 0x2a, 0x80, 0x02, 0xe0, 0x01]);
    } else {
        f[0] = 0x51;
    }
    f
}

#[test]
fn red_and_ulpfec_are_negotiated_used_and_reported() {
    let start = Instant::now();
    let mut net = Network::new(start, 5);
    let inet = net.internet();
    let a = net.add_host("a", inet, &["198.51.100.1".parse().unwrap()]);
    let b = net.add_host("b", inet, &["198.51.100.2".parse().unwrap()]);
    // 37 ms each way on each access link: a 148 ms round trip.
    let link = LinkParams {
        latency: Duration::from_millis(37),
        ..LinkParams::default()
    };
    for h in [a, b] {
        net.set_link(Node::Host(h), link.clone());
    }
    let mut sim = Simulation::new(net);
    sim.attach(a, peer(11, "198.51.100.1:5000", start, false));
    sim.attach(b, peer(12, "198.51.100.2:5000", start, true));
    let now = sim.now();
    let offered = sim.endpoint_mut::<Peer>(a).offer(
        now,
        &[
            (MediaKind::Audio, Direction::SendRecv),
            (MediaKind::Video, Direction::SendRecv),
        ],
    );
    assert!(sim.run_until(start + Duration::from_secs(10), |s| {
        signal(s, a, b);
        connected(s, a) && connected(s, b)
    }));
    let offer = sim.endpoint::<Peer>(a).pc.local_description_sdp().unwrap();
    let audio_line = offer.lines().find(|l| l.starts_with("m=audio")).unwrap();
    assert!(
        audio_line.ends_with(" 63 111"),
        "RED before Opus: {audio_line}"
    );
    for line in [
        "a=fmtp:63 111/111",
        "a=rtpmap:118 red/90000",
        "a=fmtp:119 apt=118",
        "a=rtpmap:120 ulpfec/90000",
    ] {
        assert!(offer.contains(line), "{line} in the offer");
    }

    sim.net_mut().set_link(
        Node::Host(a),
        LinkParams {
            loss: Loss::Random(0.05),
            ..link.clone()
        },
    );
    let (audio, video) = (offered[0], offered[1]);
    let mut sent_video = Vec::new();
    for n in 0..1500u32 {
        // 20 s: Opus-like frames every 20 ms, VP8 every 33 ms (frames 0, 3, 5, 8, ...).
        let now = sim.now();
        let pc = &mut sim.endpoint_mut::<Peer>(a).pc;
        let opus: Vec<u8> = (0..80).map(|i| (n + i) as u8).collect();
        if n < 1000 {
            pc.write_frame(now, audio, 111, n * 960, &opus).unwrap();
        }
        if n * 20 >= sent_video.len() as u32 * 100 / 3 && sent_video.len() < 600 {
            let k = sent_video.len() as u32;
            let f = vp8(k);
            pc.write_frame(now, video, 96, k * 3000, &f).unwrap();
            sent_video.push((k * 3000, f));
        }
        sim.run_for(Duration::from_millis(20));
    }
    sim.net_mut().set_link(Node::Host(a), link);
    sim.run_for(Duration::from_secs(3));

    let pb = sim.endpoint::<Peer>(b);
    let frames = pb.frames();
    let mut audio_ts = HashSet::new();
    let mut whole = 0;
    for (_, f) in &frames {
        if f.payload_type == 111 {
            assert!(
                audio_ts.insert(f.timestamp),
                "audio frame {} twice",
                f.timestamp
            );
        } else if sent_video
            .iter()
            .any(|(ts, d)| *ts == f.timestamp && *d == f.data)
        {
            whole += 1;
        }
    }
    let now = sim.now();
    let stats = pb.pc.stats(now);
    let sa = sim.endpoint::<Peer>(a).pc.stats(now);
    let ia = stats
        .inbound_rtp
        .iter()
        .find(|s| s.kind == "audio")
        .unwrap();
    let iv = stats
        .inbound_rtp
        .iter()
        .find(|s| s.kind == "video")
        .unwrap();
    let oa = sa.outbound_rtp.iter().find(|s| s.kind == "audio").unwrap();
    let ov = sa.outbound_rtp.iter().find(|s| s.kind == "video").unwrap();
    println!(
        "audio: {} of 1000 frames played, {} from RED, {} concealed samples; video: {whole} of {} \
         frames whole, {} FEC packets received ({} discarded), {} packets rebuilt, {} \
         retransmitted; A sent {} RED and {} FEC packets",
        audio_ts.len(),
        ia.packets_recovered_by_red,
        ia.concealed_samples.unwrap(),
        sent_video.len(),
        iv.fec_packets_received,
        iv.fec_packets_discarded,
        iv.packets_recovered_by_fec,
        iv.retransmitted_packets_received,
        oa.red_packets_sent,
        ov.fec_packets_sent,
    );
    assert_eq!(whole, sent_video.len());
    assert!(audio_ts.len() >= 990, "{} audio frames", audio_ts.len());
    assert!(oa.red_packets_sent >= 1000 && ov.fec_packets_sent > 0);
    assert!(ia.packets_recovered_by_red > 20 && iv.packets_recovered_by_fec > 20);
    assert!(iv.fec_packets_received > 0 && iv.fec_packets_discarded <= iv.fec_packets_received);
    assert!(ia.jitter_buffer_emitted_count.unwrap() >= 990 * 960);
    assert!(iv.jitter_buffer_emitted_count.unwrap() >= 590);
    let json = stats.to_json();
    for name in [
        "\"fecPacketsReceived\"",
        "\"fecBytesReceived\"",
        "\"fecPacketsDiscarded\"",
        "\"packetsRecoveredByFec\"",
        "\"packetsRecoveredByRed\"",
        "\"jitterBufferDelay\"",
        "\"jitterBufferTargetDelay\"",
        "\"jitterBufferEmittedCount\"",
        "\"concealedSamples\"",
        "\"concealmentEvents\"",
    ] {
        assert!(json.contains(name), "{name} in {json}");
    }
    assert!(sa.to_json().contains("\"fecPacketsSent\""));
}
