//! Data channels of two connected `PeerConnection`s: A and B complete ICE, DTLS and SCTP in
//! memory with one channel negotiated in the offer; then the fuzzer drives both sides'
//! data-channel API (new channels of every reliability, text and binary messages of any
//! size, closes, paused reads, buffered-amount thresholds) and the network between them
//! (datagrams lost, duplicated, swapped, or corrupted, time moving on), so the data-channel
//! layer of `rtcweb`, DCEP and the SCTP association see each other's real output under
//! loss.
//!
//! Checks: no panic; on every reliable ordered channel the messages that arrive are the ones
//! sent, intact and in order; at the end, with the network repaired and time run on, every
//! message sent on a reliable channel that neither side closed has arrived.
#![no_main]

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::OnceLock;
use std::time::{Duration, Instant, SystemTime};

use libfuzzer_sys::fuzz_target;
use rtcweb::{
    Certificate, DataChannelEvent, DataChannelId, DataChannelInit, DtlsContext, Event,
    PeerConnection, PeerConnectionState, RtcConfiguration, SessionDescription, Transmit,
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
    .expect("certificate");
    DtlsContext::new(PeerConnection::dtls_config(), cert).expect("context")
}

fn pc(ctx: &DtlsContext, seed: u64) -> PeerConnection {
    let mut config = RtcConfiguration::new(ctx.certificate().clone(), seed);
    config.dtls_context = Some(ctx.clone());
    PeerConnection::new(config).expect("pc")
}

fn base() -> Instant {
    static BASE: OnceLock<Instant> = OnceLock::new();
    *BASE.get_or_init(Instant::now)
}

struct Input<'a>(&'a [u8]);

impl<'a> Input<'a> {
    fn byte(&mut self) -> u8 {
        let Some((&b, rest)) = self.0.split_first() else {
            return 0;
        };
        self.0 = rest;
        b
    }
    fn chunk(&mut self) -> &'a [u8] {
        // Usually short; now and then large enough for fragmentation and flow control.
        let n = match self.byte() {
            n @ 0..=239 => usize::from(n),
            n => usize::from(n - 239) * 6000,
        };
        let (head, rest) = self.0.split_at(n.min(self.0.len()));
        self.0 = rest;
        head
    }
}

/// What one side knows of a channel.
#[derive(Default)]
struct Channel {
    /// Which side's handle (0 = A, 1 = B) for both ends, once known.
    ids: [Option<DataChannelId>; 2],
    reliable_ordered: bool,
    closed: bool,
    /// Messages sent from side 0 and side 1, and how many of each the other side got.
    sent: [Vec<(Vec<u8>, bool)>; 2],
    got: [usize; 2],
}

impl Channel {
    /// A reliable channel open at both ends that has not delivered everything.
    fn owed(&self) -> bool {
        self.reliable_ordered
            && !self.closed
            && self.ids.iter().all(Option::is_some)
            && (0..2).any(|from| self.got[from] < self.sent[from].len())
    }
}

struct World {
    pcs: [PeerConnection; 2],
    addrs: [SocketAddr; 2],
    now: Instant,
    /// Channels by label.
    channels: HashMap<String, Channel>,
    /// Labels by (side, handle).
    labels: HashMap<(usize, DataChannelId), String>,
    next_label: u32,
}

impl World {
    /// Takes every event of both sides, checking messages.
    fn events(&mut self) {
        for side in 0..2 {
            while let Some(e) = self.pcs[side].poll_event() {
                let Event::DataChannel(e) = e else { continue };
                match e {
                    DataChannelEvent::Incoming { id, label, .. } => {
                        if let Some(c) = self.channels.get_mut(&label) {
                            c.ids[side] = Some(id);
                        }
                        self.labels.insert((side, id), label);
                    }
                    DataChannelEvent::Message { id, data, binary } => {
                        let Some(label) = self.labels.get(&(side, id)) else {
                            panic!("a message on a channel never announced");
                        };
                        let c = self.channels.get_mut(label).expect("known label");
                        let from = 1 - side;
                        if c.reliable_ordered {
                            let at = c.got[from];
                            let expected = c.sent[from].get(at);
                            assert_eq!(
                                expected.map(|(d, b)| (d.len(), *b)),
                                Some((data.len(), binary)),
                                "message {at} on {label:?} from side {from}"
                            );
                            assert!(expected.is_some_and(|(d, _)| *d == data));
                        }
                        c.got[from] += 1;
                    }
                    DataChannelEvent::Closed { id } => {
                        if let Some(c) = self
                            .labels
                            .get(&(side, id))
                            .and_then(|l| self.channels.get_mut(l))
                        {
                            c.closed = true;
                        }
                    }
                    _ => {}
                }
            }
        }
    }

    /// One round: each side's datagrams go to the other, as `net` says (bit 0: lose the
    /// first, bit 1: duplicate it, bit 2: swap the first two, bit 3: corrupt one byte of
    /// the last); then time moves on by `ms`.
    fn round(&mut self, net: u8, ms: u64) {
        for side in 0..2 {
            let mut out: Vec<Transmit> = Vec::new();
            while let Some(x) = self.pcs[side].poll_transmit() {
                out.push(x);
                if out.len() > 512 {
                    break;
                }
            }
            if net & 4 != 0 && out.len() >= 2 {
                out.swap(0, 1);
            }
            if net & 2 != 0
                && let Some(first) = out.first().map(|x| x.payload.clone())
            {
                let dst = self.addrs[1 - side];
                self.pcs[1 - side].handle_input(
                    self.now,
                    rtcweb::Datagram::udp(self.addrs[side], dst, &first),
                );
            }
            if net & 8 != 0
                && let Some(last) = out.last_mut()
            {
                let at = usize::from(net) % last.payload.len().max(1);
                if let Some(b) = last.payload.get_mut(at) {
                    *b ^= 0x20;
                }
            }
            let skip = usize::from(net & 1);
            for x in out.into_iter().skip(skip) {
                self.pcs[1 - side].handle_input(self.now, x.as_datagram());
            }
        }
        self.now += Duration::from_millis(ms);
        for pc in &mut self.pcs {
            if pc.poll_timeout().is_some_and(|t| t <= self.now) {
                pc.handle_timeout(self.now);
            }
        }
        self.events();
    }

    fn channel_of(&self, side: usize, pick: u8) -> Option<DataChannelId> {
        let mut ids: Vec<DataChannelId> = self
            .labels
            .keys()
            .filter(|(s, _)| *s == side)
            .map(|(_, id)| *id)
            .collect();
        ids.sort_by_key(|id| id.0);
        ids.get(usize::from(pick) % ids.len().max(1)).copied()
    }
}

fuzz_target!(|data: &[u8]| {
    static CONTEXTS: OnceLock<(DtlsContext, DtlsContext)> = OnceLock::new();
    let (ca, cb) = CONTEXTS.get_or_init(|| (context(7), context(8)));
    let now = base();
    let addrs: [SocketAddr; 2] = [
        "192.0.2.1:5000".parse().expect("literal"),
        "192.0.2.2:6000".parse().expect("literal"),
    ];
    let mut a = pc(ca, 1);
    let mut b = pc(cb, 2);
    a.add_local_address(now, addrs[0]);
    b.add_local_address(now, addrs[1]);
    let first = a
        .create_data_channel(now, "c0", &DataChannelInit::default())
        .expect("channel");
    let offer = a.create_offer().expect("offer");
    a.set_local_description(now, &offer).expect("local offer");
    let offer = SessionDescription::offer(a.local_description_sdp().expect("sdp"));
    b.set_remote_description(now, &offer).expect("remote offer");
    let answer = b.create_answer().expect("answer");
    b.set_local_description(now, &answer).expect("local answer");
    let answer = SessionDescription::answer(b.local_description_sdp().expect("sdp"));
    a.set_remote_description(now, &answer)
        .expect("remote answer");
    let mut w = World {
        pcs: [a, b],
        addrs,
        now,
        channels: HashMap::new(),
        labels: HashMap::new(),
        next_label: 1,
    };
    w.channels.insert(
        "c0".into(),
        Channel {
            ids: [Some(first), None],
            reliable_ordered: true,
            ..Channel::default()
        },
    );
    w.labels.insert((0, first), "c0".into());
    for _ in 0..400 {
        let connected = w
            .pcs
            .iter()
            .all(|p| p.connection_state() == PeerConnectionState::Connected);
        if connected && w.channels["c0"].ids[1].is_some() {
            break;
        }
        w.round(0, 5);
    }
    assert!(w.channels["c0"].ids[1].is_some(), "set-up: c0 not open");

    let mut input = Input(data);
    let mut paused = [false; 2];
    while !input.0.is_empty() {
        let op = input.byte();
        let side = usize::from(op >> 7);
        match op % 8 {
            0 => {
                let flags = input.byte();
                let protocol = String::from_utf8_lossy(input.chunk()).into_owned();
                let label = format!("c{}", w.next_label);
                w.next_label += 1;
                let init = DataChannelInit {
                    ordered: (flags & 1 != 0).then_some(flags & 2 != 0),
                    max_retransmits: (flags & 4 != 0).then_some(u32::from(flags >> 6)),
                    max_packet_life_time: (flags & 8 != 0).then_some(u32::from(flags) * 4),
                    protocol,
                    negotiated_id: None,
                    priority: None,
                };
                let reliable_ordered = init.ordered != Some(false)
                    && init.max_retransmits.is_none()
                    && init.max_packet_life_time.is_none();
                if let Ok(id) = w.pcs[side].create_data_channel(w.now, &label, &init) {
                    let mut c = Channel {
                        reliable_ordered,
                        ..Channel::default()
                    };
                    c.ids[side] = Some(id);
                    w.channels.insert(label.clone(), c);
                    w.labels.insert((side, id), label);
                }
            }
            1 | 2 => {
                let pick = input.byte();
                let payload = input.chunk();
                let Some(id) = w.channel_of(side, pick) else {
                    continue;
                };
                let binary = op & 0x40 != 0;
                let (sent, result) = if binary {
                    let r = w.pcs[side].send_binary(w.now, id, payload);
                    (payload.to_vec(), r)
                } else {
                    let text = String::from_utf8_lossy(payload).into_owned();
                    let r = w.pcs[side].send_text(w.now, id, &text);
                    (text.into_bytes(), r)
                };
                // A refused send (too large, would block, closed) is not a message.
                if result.is_ok() {
                    let label = w.labels[&(side, id)].clone();
                    let c = w.channels.get_mut(&label).expect("known label");
                    c.sent[side].push((sent, binary));
                }
            }
            3 => {
                let pick = input.byte();
                if let Some(id) = w.channel_of(side, pick) {
                    let _ = w.pcs[side].close_data_channel(w.now, id);
                    if let Some(c) = w
                        .labels
                        .get(&(side, id))
                        .and_then(|l| w.channels.get_mut(l))
                    {
                        c.closed = true;
                    }
                }
            }
            4 => {
                paused[side] = !paused[side];
                let now = w.now;
                w.pcs[side].pause_data_channel_reads(now, paused[side]);
            }
            5 => {
                let pick = input.byte();
                let threshold = usize::from(input.byte()) * 256;
                if let Some(id) = w.channel_of(side, pick) {
                    let _ = w.pcs[side].set_buffered_amount_low_threshold(id, threshold);
                    let _ = w.pcs[side].buffered_amount(id);
                }
            }
            _ => {
                let net = input.byte();
                w.round(net, u64::from(op >> 3 & 15) * 20);
            }
        }
        w.events();
    }
    // Repair the network, resume reading, and run time on: every reliable message arrives.
    for (side, &was_paused) in paused.iter().enumerate() {
        if was_paused {
            let now = w.now;
            w.pcs[side].pause_data_channel_reads(now, false);
        }
    }
    // Up to 2 minutes of virtual time: enough for retransmission timers backed off by loss.
    for _ in 0..600 {
        if w.channels.values().all(|c| !c.owed()) {
            break;
        }
        w.round(0, 200);
    }
    for (label, c) in &w.channels {
        assert!(
            !c.owed(),
            "{label}: reliable messages lost ({:?} of {:?})",
            c.got,
            c.sent.iter().map(Vec::len).collect::<Vec<_>>()
        );
    }
});
