//! Arbitrary RTP and RTCP into a PeerConnection in `MediaMode::Session`, through a real
//! connection: A (session mode, audio and video offered) and B (raw mode, answering
//! `sendrecv`) complete ICE and DTLS in memory; then each fuzzer chunk is written by B as
//! RTP on its video or audio transceiver (B sets its own signalled SSRC, so A's session
//! takes it as a known stream: RTX, NACK, frame assembly with every negotiated codec's
//! depacketizer) or as an RTCP compound packet, SRTP-protected, and fed to A. Time moves on
//! between chunks so A's timers (NACK retries, reports, TWCC feedback, key frame requests)
//! run on what it was given.
#![no_main]

use std::net::SocketAddr;
use std::sync::OnceLock;
use std::time::{Duration, Instant, SystemTime};

use libfuzzer_sys::fuzz_target;
use rtcweb::{
    Certificate, Direction, DtlsContext, MediaKind, MediaMode, PeerConnection, PeerConnectionState,
    RtcConfiguration, SdpType,
};

fn context(n: u8) -> DtlsContext {
    let mut key = [n; 32];
    key[0] = 1;
    let cert = Certificate::generate(
        &key,
        &[n; 16],
        SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000),
        Duration::from_secs(86_400),
    )
    .unwrap();
    DtlsContext::new(PeerConnection::dtls_config(), cert).unwrap()
}

fn pc(ctx: &DtlsContext, seed: u64, mode: MediaMode) -> PeerConnection {
    let mut config = RtcConfiguration::new(ctx.certificate().clone(), seed);
    config.dtls_context = Some(ctx.clone());
    config.media.mode = mode;
    PeerConnection::new(config).unwrap()
}

/// Moves datagrams both ways and runs timers until `done` or 2 s of virtual time.
fn pump(
    a: &mut PeerConnection,
    b: &mut PeerConnection,
    t: &mut Instant,
    done: impl Fn(&PeerConnection, &PeerConnection) -> bool,
) {
    for _ in 0..400 {
        if done(a, b) {
            return;
        }
        while let Some(x) = a.poll_transmit() {
            b.handle_input(*t, x.as_datagram());
        }
        while let Some(x) = b.poll_transmit() {
            a.handle_input(*t, x.as_datagram());
        }
        *t += Duration::from_millis(5);
        for pc in [&mut *a, &mut *b] {
            if pc.poll_timeout().is_some_and(|d| d <= *t) {
                pc.handle_timeout(*t);
            }
        }
    }
}

fuzz_target!(|data: &[u8]| {
    static CONTEXTS: OnceLock<(DtlsContext, DtlsContext)> = OnceLock::new();
    let (ca, cb) = CONTEXTS.get_or_init(|| (context(5), context(6)));
    let now = Instant::now();
    let a_addr: SocketAddr = "192.0.2.1:5000".parse().unwrap();
    let b_addr: SocketAddr = "192.0.2.2:6000".parse().unwrap();
    let mut a = pc(ca, 1, MediaMode::Session);
    let mut b = pc(cb, 2, MediaMode::Raw);
    a.add_local_address(now, a_addr);
    b.add_local_address(now, b_addr);
    a.add_transceiver(MediaKind::Audio, Direction::SendRecv);
    a.add_transceiver(MediaKind::Video, Direction::SendRecv);
    // Candidates are gathered from setLocalDescription on: send the descriptions as they
    // are after it, with the host candidates in them (non-trickle).
    let offer = a.create_offer().unwrap();
    a.set_local_description(now, &offer).unwrap();
    let offer = rtcweb::SessionDescription::offer(a.local_description_sdp().unwrap());
    b.set_remote_description(now, &offer).unwrap();
    let remote: Vec<_> = b
        .transceivers()
        .iter()
        .map(|t| (t.id, t.kind.clone()))
        .collect();
    for (id, _) in &remote {
        b.set_direction(*id, Direction::SendRecv).unwrap();
    }
    let answer = b.create_answer().unwrap();
    assert_eq!(answer.sdp_type, SdpType::Answer);
    b.set_local_description(now, &answer).unwrap();
    let answer = rtcweb::SessionDescription::answer(b.local_description_sdp().unwrap());
    a.set_remote_description(now, &answer).unwrap();
    let mut t = now;
    pump(&mut a, &mut b, &mut t, |a, b| {
        a.connection_state() == PeerConnectionState::Connected
            && b.connection_state() == PeerConnectionState::Connected
    });
    assert_eq!(
        a.connection_state(),
        PeerConnectionState::Connected,
        "set-up failed"
    );
    while a.poll_event().is_some() {}
    let video = remote
        .iter()
        .find(|(_, k)| *k == MediaKind::Video)
        .map(|(id, _)| *id);
    let audio = remote
        .iter()
        .find(|(_, k)| *k == MediaKind::Audio)
        .map(|(id, _)| *id);
    for chunk in data.split(|b| *b == 0xfe).take(128) {
        let Some((&selector, body)) = chunk.split_first() else {
            continue;
        };
        let _ = match selector % 3 {
            0 => video.map(|v| b.write_rtp(t, v, body)),
            1 => audio.map(|v| b.write_rtp(t, v, body)),
            _ => Some(b.write_rtcp(t, body)),
        };
        while let Some(x) = b.poll_transmit() {
            a.handle_input(t, x.as_datagram());
        }
        t += Duration::from_millis(u64::from(selector >> 2));
        if a.poll_timeout().is_some_and(|d| d <= t) {
            a.handle_timeout(t);
        }
        while a.poll_transmit().is_some() {}
        while a.poll_event().is_some() {}
    }
    let _ = a.stats(t).to_json();
});
