//! Helpers shared by the integration tests: a certificate from fixed bytes, and a
//! PeerConnection on an rtcweb-netsim host that signals through an outbox and an inbox.

// Each test binary uses its own part of these helpers.
#![allow(dead_code, clippy::unwrap_used)] // test helpers unwrap what the test itself set up

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::time::{Duration, Instant, SystemTime};

use rtcweb::{
    Certificate, Direction, Event, Frame, IceCandidateInit, KeyframeRequest, MediaKind,
    PeerConnection, PeerConnectionState, RtcConfiguration, SdpType, SignalingMessage,
    TransceiverId,
};
use rtcweb_netsim::{Datagram, HostId, SansIo, Simulation, Transmit};

/// A certificate from fixed bytes, so runs are reproducible.
pub fn certificate(n: u8) -> Certificate {
    let mut key = [n; 32];
    key[0] = 1;
    Certificate::generate(
        &key,
        &[n; 16],
        SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000),
        Duration::from_secs(86400 * 30),
    )
    .unwrap()
}

/// The configuration a seeded test peer starts from: its certificate and RNG both from
/// `seed`.
pub fn config(seed: u64) -> RtcConfiguration {
    RtcConfiguration::new(certificate(seed as u8), seed)
}

/// A PeerConnection on a simulated host with a signaling outbox and inbox; keeps every
/// event it raised.
pub struct Peer {
    pub pc: PeerConnection,
    pub outbox: VecDeque<SignalingMessage>,
    pub inbox: VecDeque<SignalingMessage>,
    pub events: Vec<Event>,
    /// Answer every received media section `sendrecv` (what an echo server does).
    pub send_back: bool,
}

impl Peer {
    /// A PeerConnection made from `config`, with one local address.
    pub fn new(config: RtcConfiguration, local: SocketAddr, start: Instant) -> Self {
        let mut pc = PeerConnection::new(config).unwrap();
        pc.add_local_address(start, local);
        Peer {
            pc,
            outbox: VecDeque::new(),
            inbox: VecDeque::new(),
            events: Vec::new(),
            send_back: false,
        }
    }

    /// Adds a transceiver per `media` and queues the offer; returns the transceivers.
    pub fn offer(&mut self, now: Instant, media: &[(MediaKind, Direction)]) -> Vec<TransceiverId> {
        let ids = media
            .iter()
            .map(|(k, d)| self.pc.add_transceiver(k.clone(), *d))
            .collect();
        let offer = self.pc.create_offer().unwrap();
        self.pc.set_local_description(now, &offer).unwrap();
        self.outbox.push_back(SignalingMessage::Description(offer));
        self.drain();
        ids
    }

    /// Takes every event: candidates go to the outbox, and all are kept in `events`.
    pub fn drain(&mut self) {
        while let Some(e) = self.pc.poll_event() {
            match &e {
                Event::IceCandidate(Some(c)) => self
                    .outbox
                    .push_back(SignalingMessage::Candidate(c.clone())),
                Event::IceCandidate(None) => {
                    self.outbox.push_back(SignalingMessage::EndOfCandidates)
                }
                _ => {}
            }
            self.events.push(e);
        }
    }

    /// Applies what signaling delivered, answering an offer.
    pub fn apply_inbox(&mut self, now: Instant) {
        while let Some(m) = self.inbox.pop_front() {
            match m {
                SignalingMessage::Description(d) => {
                    self.pc.set_remote_description(now, &d).unwrap();
                    if d.sdp_type == SdpType::Offer {
                        if self.send_back {
                            self.send_back_on_offered_sections();
                        }
                        let answer = self.pc.create_answer().unwrap();
                        self.pc.set_local_description(now, &answer).unwrap();
                        self.outbox.push_back(SignalingMessage::Description(answer));
                    }
                }
                SignalingMessage::Candidate(c) => self.pc.add_ice_candidate(now, &c).unwrap(),
                SignalingMessage::EndOfCandidates => self
                    .pc
                    .add_ice_candidate(
                        now,
                        &IceCandidateInit {
                            candidate: String::new(),
                            sdp_mid: None,
                            sdp_m_line_index: None,
                            username_fragment: None,
                        },
                    )
                    .unwrap(),
                SignalingMessage::Bye => {}
            }
        }
        self.drain();
    }

    /// Makes every receiving transceiver the remote offer created `sendrecv`.
    fn send_back_on_offered_sections(&mut self) {
        let ids: Vec<_> = self
            .pc
            .transceivers()
            .iter()
            .filter(|t| t.created_by_remote && t.direction.receives())
            .map(|t| t.id)
            .collect();
        for id in ids {
            self.pc.set_direction(id, Direction::SendRecv).unwrap();
        }
    }

    /// How many `Track` events were raised.
    pub fn tracks(&self) -> usize {
        self.events
            .iter()
            .filter(|e| matches!(e, Event::Track { .. }))
            .count()
    }

    /// Every RTP packet received: the transceiver it was matched to, and the packet.
    pub fn rtp(&self) -> Vec<(Option<TransceiverId>, &[u8])> {
        self.events
            .iter()
            .filter_map(|e| match e {
                Event::Rtp {
                    transceiver,
                    packet,
                } => Some((*transceiver, packet.as_slice())),
                _ => None,
            })
            .collect()
    }

    /// How many RTP and RTCP packets were handed out raw.
    pub fn raw_rtp(&self) -> usize {
        self.events
            .iter()
            .filter(|e| matches!(e, Event::Rtp { .. } | Event::Rtcp { .. }))
            .count()
    }

    /// Every whole frame received, with its transceiver.
    pub fn frames(&self) -> Vec<(TransceiverId, &Frame)> {
        self.events
            .iter()
            .filter_map(|e| match e {
                Event::Frame { transceiver, frame } => Some((*transceiver, frame)),
                _ => None,
            })
            .collect()
    }

    /// Every key frame request the peer made, with the sending transceiver it names.
    pub fn keyframe_requests(&self) -> Vec<(TransceiverId, KeyframeRequest)> {
        self.events
            .iter()
            .filter_map(|e| match e {
                Event::KeyframeRequest { transceiver, kind } => Some((*transceiver, *kind)),
                _ => None,
            })
            .collect()
    }

    /// How many sent packets transport-wide CC feedback reported on.
    pub fn feedback_packets(&self) -> usize {
        self.events
            .iter()
            .map(|e| match e {
                Event::TransportFeedback(p) => p.len(),
                _ => 0,
            })
            .sum()
    }
}

impl SansIo for Peer {
    type Input<'a> = Datagram<'a>;
    type Transmit = Transmit;
    type Event = ();
    fn poll_event(&mut self) -> Option<()> {
        None
    }
    fn handle_input(&mut self, now: Instant, d: Datagram<'_>) {
        self.pc.handle_input(now, d);
        self.drain();
    }
    fn handle_timeout(&mut self, now: Instant) {
        self.apply_inbox(now);
        if self.pc.poll_timeout().is_some_and(|t| t <= now) {
            self.pc.handle_timeout(now);
        }
        self.drain();
    }
    fn poll_transmit(&mut self, _now: Instant) -> Option<Transmit> {
        self.pc.poll_transmit()
    }
    fn poll_timeout(&self) -> Option<Instant> {
        self.pc.poll_timeout()
    }
}

/// Delivers every queued signaling message both ways and applies it at once.
pub fn signal(sim: &mut Simulation, a: HostId, b: HostId) {
    for (from, to) in [(a, b), (b, a)] {
        let msgs: Vec<_> = sim.endpoint_mut::<Peer>(from).outbox.drain(..).collect();
        sim.endpoint_mut::<Peer>(to).inbox.extend(msgs);
    }
    let now = sim.now();
    for h in [a, b] {
        let p = sim.endpoint_mut::<Peer>(h);
        if !p.inbox.is_empty() {
            p.apply_inbox(now);
        }
    }
}

/// Whether the Peer on `h` is connected.
pub fn connected(sim: &Simulation, h: HostId) -> bool {
    sim.endpoint::<Peer>(h).pc.connection_state() == PeerConnectionState::Connected
}
