//! DTLS that starts before the offerer can answer it, as node-datachannel (libjuice +
//! libdatachannel) and Chromium do: an answerer with `a=setup:active` sends its ClientHello
//! as soon as one of its own ICE checks succeeds, without waiting to be nominated, and often
//! before its answer (sent over HTTP by a webrtc-echoes server, after gathering) reaches the
//! offerer. The offerer must neither drop that ClientHello nor answer it before ICE gives it
//! a route; either costs the peer's retransmission timeout (1 s) on every connection.

#![allow(clippy::unwrap_used)] // test helpers unwrap what the test itself set up

mod common;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use common::{Peer, certificate};
use rtcweb::{PeerConnection, PeerConnectionState, RtcConfiguration, SessionDescription};
use rtcweb_dtls::{DtlsConfig, DtlsContext, DtlsEndpoint, Fingerprint};
use rtcweb_ice::{Credentials, IceAgent, IceConfig, IceRole, PairState, Received};
use rtcweb_netsim::{Datagram, LinkParams, Network, Node, SansIo, Simulation, Transmit};

const A: &str = "198.51.100.1:5000";
const B: &str = "198.51.100.2:5000";

fn attribute<'a>(sdp: &'a str, name: &str) -> &'a str {
    sdp.lines()
        .find_map(|l| l.strip_prefix(name))
        .unwrap()
        .trim()
}

/// The answerer as libjuice + libdatachannel behave: a controlled ICE agent, and a DTLS
/// client that starts as soon as one of its own checks succeeded.
struct EagerAnswerer {
    ice: IceAgent,
    dtls: DtlsEndpoint,
    local: SocketAddr,
    remote: SocketAddr,
    started: bool,
}

impl EagerAnswerer {
    fn check_succeeded(&self) -> bool {
        self.ice
            .pair_stats()
            .iter()
            .any(|p| p.state == PairState::Succeeded)
    }
}

impl SansIo for EagerAnswerer {
    type Input<'a> = Datagram<'a>;
    type Transmit = Transmit;
    type Event = ();
    fn poll_event(&mut self) -> Option<()> {
        None
    }
    fn handle_input(&mut self, now: Instant, d: Datagram<'_>) {
        if let Received::Data(data) = self.ice.handle_input(now, d) {
            let data = data.to_vec();
            self.dtls.handle_input(now, &data);
        }
        self.started |= self.check_succeeded();
    }
    fn handle_timeout(&mut self, now: Instant) {
        if self.ice.poll_timeout().is_some_and(|t| t <= now) {
            self.ice.handle_timeout(now);
        }
        if self.started && self.dtls.poll_timeout().is_some_and(|t| t <= now) {
            self.dtls.handle_timeout(now);
        }
    }
    fn poll_transmit(&mut self, _now: Instant) -> Option<Transmit> {
        if let Some(t) = self.ice.poll_transmit() {
            return Some(Transmit::udp(t.source, t.destination, t.payload));
        }
        if !self.started {
            return None;
        }
        self.dtls
            .poll_transmit()
            .map(|payload| Transmit::udp(self.local, self.remote, payload))
    }
    fn poll_timeout(&self) -> Option<Instant> {
        let dtls = self.dtls.poll_timeout().filter(|_| self.started);
        self.ice.poll_timeout().into_iter().chain(dtls).min()
    }
}

#[test]
fn a_client_hello_before_the_answer_and_before_an_ice_route_is_answered_at_once() {
    let start = Instant::now();
    let mut net = Network::new(start, 5);
    let inet = net.internet();
    let a_host = net.add_host("a", inet, &[A.parse::<SocketAddr>().unwrap().ip()]);
    let b_host = net.add_host("b", inet, &[B.parse::<SocketAddr>().unwrap().ip()]);
    for h in [a_host, b_host] {
        net.set_link(
            Node::Host(h),
            LinkParams::with_latency(Duration::from_millis(5)),
        );
    }

    // A, our PeerConnection, offers a data channel; every candidate is in its offer (host
    // only, gathered at once). Its answer arrives when the test hands it over.
    let mut offerer = Peer::new(common::config(1), A.parse().unwrap(), start);
    let pc = &mut offerer.pc;
    pc.create_data_channel(start, "echo", &Default::default())
        .unwrap();
    let offer = pc.create_offer().unwrap();
    pc.set_local_description(start, &offer).unwrap();
    let offer_sdp = pc.local_description_sdp().unwrap();
    assert!(offer_sdp.contains("typ host"), "{offer_sdp}");

    // The answer B would send, made by a PeerConnection with B's certificate; B's ICE and
    // DTLS then run on their own, with the credentials and certificate of that answer.
    // (The same certificate object: ECDSA signatures differ each time one is generated.)
    let b_certificate = certificate(2);
    let mut b_pc = PeerConnection::new(RtcConfiguration::new(b_certificate.clone(), 2)).unwrap();
    b_pc.add_local_address(start, B.parse().unwrap());
    b_pc.set_remote_description(start, &SessionDescription::offer(offer_sdp.clone()))
        .unwrap();
    let answer = b_pc.create_answer().unwrap();
    b_pc.set_local_description(start, &answer).unwrap();
    let answer_sdp = b_pc.local_description_sdp().unwrap();
    assert!(answer_sdp.contains("a=setup:active"), "{answer_sdp}");

    let mut ice = IceAgent::new(IceConfig::default(), IceRole::Controlled, 99);
    ice.set_local_credentials(
        Credentials::new(
            attribute(&answer_sdp, "a=ice-ufrag:"),
            attribute(&answer_sdp, "a=ice-pwd:"),
        )
        .unwrap(),
    );
    ice.add_host_address(start, B.parse().unwrap());
    ice.set_remote_credentials(
        start,
        Credentials::new(
            attribute(&offer_sdp, "a=ice-ufrag:"),
            attribute(&offer_sdp, "a=ice-pwd:"),
        )
        .unwrap(),
    );
    let candidate = attribute(&offer_sdp, "a=candidate:");
    ice.add_remote_candidate(start, format!("candidate:{candidate}").parse().unwrap())
        .unwrap();
    let a_fingerprint: Fingerprint = attribute(&offer_sdp, "a=fingerprint:").parse().unwrap();
    let context = DtlsContext::new(DtlsConfig::default(), b_certificate).unwrap();
    let dtls = DtlsEndpoint::new(
        &context,
        rtcweb_dtls::Role::Client,
        vec![a_fingerprint],
        start,
    )
    .unwrap();

    let mut sim = Simulation::new(net);
    sim.attach(a_host, offerer);
    sim.attach(
        b_host,
        EagerAnswerer {
            ice,
            dtls,
            local: B.parse().unwrap(),
            remote: A.parse().unwrap(),
            started: false,
        },
    );

    // The answer takes 300 ms to arrive; B's checks succeed (A answers them) and B sends
    // its ClientHello meanwhile.
    let answered = start + Duration::from_millis(300);
    sim.run_until(answered, |_| false);
    assert!(
        sim.endpoint::<EagerAnswerer>(b_host).started,
        "B never started DTLS: the test does not reproduce the case"
    );
    let now = sim.now();
    sim.endpoint_mut::<Peer>(a_host)
        .pc
        .set_remote_description(now, &SessionDescription::answer(answer_sdp))
        .unwrap();

    let connected = |s: &Simulation| {
        s.endpoint::<Peer>(a_host).pc.connection_state() == PeerConnectionState::Connected
            && *s.endpoint::<EagerAnswerer>(b_host).dtls.state() == rtcweb_dtls::State::Connected
    };
    let ok = sim.run_until(answered + Duration::from_secs(5), |s| connected(s));
    let a = &sim.endpoint::<Peer>(a_host).pc;
    let b = sim.endpoint::<EagerAnswerer>(b_host);
    assert!(
        ok,
        "A: {:?} {:?} {:?}; B: ICE {:?} DTLS {:?}",
        a.connection_state(),
        a.ice_connection_state(),
        a.stats(sim.now()).transport.dtls_state,
        b.ice.state(),
        b.dtls.state()
    );
    let setup = sim.now() - answered;
    assert!(
        setup < Duration::from_millis(200),
        "DTLS connected {setup:?} after the answer arrived: the ClientHello was dropped or \
         answered before ICE had a route, and B had to retransmit"
    );
}
