//! Arbitrary datagrams into a PeerConnection that has negotiated audio and a data channel
//! and, ICE connected, waits for the peer's DTLS ClientHello: ICE, the RFC 7983
//! demultiplexer, the DTLS server, SRTP and (after a handshake the fuzzer will not complete)
//! SCTP all see the bytes.
#![no_main]

use std::net::SocketAddr;
use std::sync::OnceLock;
use std::time::{Duration, Instant, SystemTime};

use libfuzzer_sys::fuzz_target;
use rtcweb::{
    Certificate, Direction, DtlsConfig, DtlsContext, MediaKind, PeerConnection, RtcConfiguration,
    SessionDescription,
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
    DtlsContext::new(DtlsConfig::default(), cert).unwrap()
}

fn pc(ctx: &DtlsContext, seed: u64) -> PeerConnection {
    let mut config = RtcConfiguration::new(ctx.certificate().clone(), seed);
    config.dtls_context = Some(ctx.clone());
    PeerConnection::new(config).unwrap()
}

fuzz_target!(|data: &[u8]| {
    static CONTEXTS: OnceLock<(DtlsContext, DtlsContext)> = OnceLock::new();
    let (ca, cb) = CONTEXTS.get_or_init(|| (context(3), context(4)));
    let now = Instant::now();
    let a_addr: SocketAddr = "192.0.2.1:5000".parse().unwrap();
    let b_addr: SocketAddr = "192.0.2.2:6000".parse().unwrap();
    let mut a = pc(ca, 1);
    let mut b = pc(cb, 2);
    a.add_local_address(now, a_addr);
    b.add_local_address(now, b_addr);
    a.add_transceiver(MediaKind::Audio, Direction::SendRecv);
    a.create_data_channel(now, "fuzz", &Default::default())
        .unwrap();
    // Candidates are gathered from setLocalDescription on: send the descriptions as they
    // are after it, with the host candidates in them (non-trickle).
    let offer = a.create_offer().unwrap();
    a.set_local_description(now, &offer).unwrap();
    let offer = SessionDescription::offer(a.local_description_sdp().unwrap());
    b.set_remote_description(now, &offer).unwrap();
    let answer = b.create_answer().unwrap();
    b.set_local_description(now, &answer).unwrap();
    let answer = SessionDescription::answer(b.local_description_sdp().unwrap());
    a.set_remote_description(now, &answer).unwrap();

    // ICE first (STUN only, B's DTLS is dropped): A creates its DTLS server once ICE gives it
    // a route, and then waits for a ClientHello, which the fuzzer supplies.
    let mut t = now;
    for _ in 0..200 {
        if a.ice_connection_state() == rtcweb::IceConnectionState::Connected
            || a.ice_connection_state() == rtcweb::IceConnectionState::Completed
        {
            break;
        }
        while let Some(x) = a.poll_transmit() {
            b.handle_input(t, x.as_datagram());
        }
        while let Some(x) = b.poll_transmit() {
            if x.payload.first().is_some_and(|b| *b < 4) {
                a.handle_input(t, x.as_datagram());
            }
        }
        t += Duration::from_millis(5);
        for pc in [&mut a, &mut b] {
            if pc.poll_timeout().is_some_and(|d| d <= t) {
                pc.handle_timeout(t);
            }
        }
    }
    assert_eq!(
        a.stats(t).transport.dtls_state,
        "connecting",
        "set-up: A's DTLS server is not waiting"
    );
    while a.poll_event().is_some() {}
    for chunk in data.split(|b| *b == 0xfe).take(64) {
        a.handle_input(t, rtcweb::Datagram::udp(b_addr, a_addr, chunk));
        t += Duration::from_millis(10);
        if a.poll_timeout().is_some_and(|d| d <= t) {
            a.handle_timeout(t);
        }
        while a.poll_transmit().is_some() {}
        while a.poll_event().is_some() {}
    }
});
