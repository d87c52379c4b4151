//! The forwarder: one publisher track to one subscriber.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use rtcweb_core::SansIo;
use rtcweb_rtp::codec::{Codec, Depacketizer, Start};
use rtcweb_rtp::seq::SeqUnwrapper;

use crate::config::{ForwarderConfig, MAX_LAYERS, MAX_PAYLOAD};
use crate::error::{Error, Result};
use crate::layer::LayerFilter;
use crate::packet::{Event, Feedback, Input, OutPacket, PublisherPacket, Transmit};
use crate::rate::{RateMeter, bucket};
use crate::retransmit::RetransmitBuffer;
use crate::select::Selector;
use crate::vp8;

mod feedback;

/// Transmits waiting to be polled at most; beyond it new media is dropped (and counted): the
/// owner polls after every input, so only an owner that stopped polling reaches it.
const MAX_TRANSMITS: usize = 1024;
/// Events waiting at most; beyond it the oldest is dropped.
const MAX_EVENTS: usize = 64;
/// Packets of a target layer's key frame held while the current layer finishes its frame.
/// A key frame of a 2.5 Mbit/s layer is rarely over 100 packets; a larger one is let go and
/// the next is asked for.
const MAX_PENDING: usize = 128;
/// Largest step forward in the subscriber's sequence numbers that is kept as a gap; a larger
/// one is closed (see `Forwarder::forward`). 4096 packets are seconds of video.
const MAX_SEQ_JUMP: i64 = 4096;
/// How long the current layer may take to finish its frame once the target's key frame has
/// begun (simulcast layers carry the same pictures, so it is usually a few milliseconds).
const PENDING_WAIT: Duration = Duration::from_millis(200);

/// Counters of a [`Forwarder`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ForwarderStats {
    /// Media packets sent to the subscriber.
    pub packets_forwarded: u64,
    /// Packets retransmitted from the buffer.
    pub retransmissions: u64,
    /// NACKed packets not in the buffer, asked of the publisher.
    pub nacks_upstream: u64,
    /// Key-frame requests sent to the publisher.
    pub keyframe_requests: u64,
    /// Layer switches (the first layer included).
    pub layer_switches: u64,
    /// Publisher packets refused (layer out of range, too long, malformed payload).
    pub packets_refused: u64,
    /// Packets of the forwarded layer dropped as duplicates or older than the last switch.
    pub packets_stale: u64,
    /// Switches that held the new layer's key frame until the old layer's frame ended.
    pub switches_deferred: u64,
    /// Pending switches given up (key frame too large to hold, or the target changed).
    pub switches_abandoned: u64,
    /// Transmits dropped because the queue was full.
    pub transmits_dropped: u64,
    /// Packets so far ahead of what was sent (more than 4096) that the forwarder renumbered
    /// the rest of the layer's run to follow on.
    pub renumbered: u64,
}

/// What is known about one layer of the publisher.
#[derive(Debug, Clone, Default)]
struct Layer {
    meter: RateMeter,
    seq: SeqUnwrapper,
    picture_id: vp8::Unwrapper,
    tl0: vp8::Unwrapper,
    ssrc: Option<u32>,
    /// Outgoing extended sequence number minus incoming, from the last switch to it.
    seq_offset: i64,
    ts_offset: u32,
    picture_id_offset: i64,
    tl0_offset: i64,
    last_request: Option<Instant>,
}

/// One publisher packet with its extended values, owned (held during a pending switch).
#[derive(Debug, Clone)]
struct Held {
    arrived: Instant,
    layer: u8,
    ssrc: u32,
    payload_type: u8,
    ext: u64,
    timestamp: u32,
    marker: bool,
    picture_id: Option<i64>,
    tl0: Option<i64>,
    /// The VP8 payload descriptor, for VP8.
    descriptor: Option<vp8::Descriptor>,
    payload: Vec<u8>,
    sequence_number: u16,
}

impl Held {
    fn as_packet(&self) -> PublisherPacket<'_> {
        PublisherPacket {
            layer: self.layer,
            ssrc: self.ssrc,
            payload_type: self.payload_type,
            sequence_number: self.sequence_number,
            timestamp: self.timestamp,
            marker: self.marker,
            payload: &self.payload,
        }
    }
}

/// A switch waiting for the current layer to finish its frame.
#[derive(Debug)]
struct Pending {
    layer: u8,
    first_ext: u64,
    deadline: Instant,
    packets: Vec<Held>,
}

/// What the subscriber has been sent.
#[derive(Debug, Clone, Default)]
struct Sent {
    /// Highest extended sequence number sent.
    highest: Option<u64>,
    /// First extended sequence number of the current layer's run.
    floor: u64,
    /// Timestamp of the newest frame sent, and when its first packet arrived.
    last_ts: Option<(u32, Instant)>,
    /// The smallest step between frames sent (one frame interval).
    step: Option<u32>,
    /// Whether the newest packet sent ended its frame.
    marker: bool,
    picture_id: Option<i64>,
    tl0: Option<i64>,
}

/// Forwards one publisher track, sent in simulcast layers, to one subscriber.
///
/// It measures each layer's rate from what arrives, picks the layer that fits the
/// subscriber's estimate (with hysteresis: [`crate::Hysteresis`]), switches only at a key
/// frame of the new layer (asking the publisher for one, rate-limited) and rewrites what it
/// forwards into one continuous stream: one SSRC, sequence numbers without a gap at a switch
/// (the publisher's own losses stay gaps), timestamps that advance by the time between the
/// layers' frames, and for VP8 one picture-id and TL0PICIDX sequence. NACKs are answered
/// from a bounded buffer of what was sent; PLI and FIR become a key-frame request for the
/// forwarded layer.
///
/// ```
/// use std::time::Instant;
/// use rtcweb_rtp::codec::Codec;
/// use rtcweb_sfu::{Forwarder, ForwarderConfig, Input, PublisherPacket, Transmit};
///
/// let now = Instant::now();
/// let mut f = Forwarder::new(ForwarderConfig::new(Codec::Vp8, 0x5f0), now).unwrap();
/// // The first packet of a VP8 key frame on layer 0 (descriptor with S set, then a key frame
/// // header): the forwarder starts on it.
/// let payload = [0x10, 0x50, 0x2d, 0x00, 0x9d, 0x01, 0x2a, 0x80, 0x02, 0xe0, 0x01];
/// let p = PublisherPacket {
///     layer: 0, ssrc: 1, payload_type: 96, sequence_number: 7, timestamp: 90,
///     marker: true, payload: &payload,
/// };
/// f.handle_input(now, Input::Rtp(p)).unwrap();
/// match f.poll_transmit() {
///     Some(Transmit::Subscriber(out)) => assert_eq!(out.ssrc, 0x5f0),
///     other => panic!("{other:?}"),
/// }
/// assert_eq!(f.current_layer(), Some(0));
/// ```
#[derive(Debug)]
pub struct Forwarder {
    config: ForwarderConfig,
    depacketizer: Depacketizer,
    origin: Instant,
    layers: [Layer; MAX_LAYERS],
    estimate: Option<u64>,
    selector: Selector,
    /// The rate bucket of the last choice made on a packet's arrival.
    selected_at: u64,
    current: Option<u8>,
    target: u8,
    /// When to ask again for the target's key frame (set while a switch waits for one).
    retry_at: Option<Instant>,
    pending: Option<Pending>,
    sent: Sent,
    rtx_sequence: u16,
    buffer: RetransmitBuffer,
    filter: Option<Box<dyn LayerFilter>>,
    transmits: VecDeque<Transmit>,
    events: VecDeque<Event>,
    stats: ForwarderStats,
}

impl Forwarder {
    /// A forwarder that has sent nothing; it starts on the lowest layer and goes up as the
    /// estimate and the measured rates allow.
    pub fn new(config: ForwarderConfig, now: Instant) -> Result<Self> {
        config.validate()?;
        Ok(Self {
            depacketizer: Depacketizer::new(config.codec),
            buffer: RetransmitBuffer::new(config.retransmit_packets),
            sent: Sent {
                floor: (1 << 16) + u64::from(config.initial_sequence_number),
                ..Sent::default()
            },
            config,
            origin: now,
            layers: Default::default(),
            estimate: None,
            selector: Selector::default(),
            selected_at: u64::MAX,
            current: None,
            target: 0,
            retry_at: None,
            pending: None,
            rtx_sequence: 0,
            filter: None,
            transmits: VecDeque::new(),
            events: VecDeque::new(),
            stats: ForwarderStats::default(),
        })
    }

    /// Filters the packets of the forwarded layer (temporal or spatial layers of a scalable
    /// stream); without one, every packet of the forwarded layer goes.
    pub fn set_layer_filter(&mut self, filter: Box<dyn LayerFilter>) {
        self.filter = Some(filter);
    }

    /// The layer the subscriber gets, `None` before the first key frame.
    pub fn current_layer(&self) -> Option<u8> {
        self.current
    }

    /// The layer the estimate asks for (equal to the current one unless a switch waits for
    /// its key frame).
    pub fn target_layer(&self) -> u8 {
        self.target
    }

    /// The rate of `layer` in bits per second over the last second, as measured at `now`
    /// (`None` before half a second of it has arrived).
    pub fn layer_rate(&self, layer: u8, now: Instant) -> Option<u64> {
        let at = bucket(self.origin, now);
        self.layers.get(usize::from(layer))?.meter.rate(at)
    }

    /// Counters.
    pub fn stats(&self) -> ForwarderStats {
        self.stats
    }

    /// Something arrived at `now`. An input that is refused changes nothing but the stats
    /// (except RTCP, of which the packets before the malformed one were used).
    pub fn handle_input(&mut self, now: Instant, input: Input<'_>) -> Result<()> {
        match input {
            Input::Rtp(p) => {
                let r = self.handle_rtp(now, &p);
                if r.is_err() {
                    self.stats.packets_refused += 1;
                }
                r
            }
            Input::Estimate(bps) => {
                self.estimate = Some(bps);
                self.reselect(now);
                self.ensure_requested(now);
                Ok(())
            }
            Input::Rtcp(datagram) => self.handle_rtcp(now, datagram),
        }
    }

    /// Does what is due at `now`: asks again for a key frame that did not come, completes a
    /// switch whose old layer did not finish its frame in time.
    pub fn handle_timeout(&mut self, now: Instant) {
        if self.pending.as_ref().is_some_and(|p| p.deadline <= now) {
            self.complete_switch();
        }
        self.reselect(now);
        self.ensure_requested(now);
    }

    /// The next thing to send.
    pub fn poll_transmit(&mut self) -> Option<Transmit> {
        self.transmits.pop_front()
    }

    /// The next event.
    pub fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    /// When [`Forwarder::handle_timeout`] must next be called.
    pub fn poll_timeout(&self) -> Option<Instant> {
        let pending = self.pending.as_ref().map(|p| p.deadline);
        [pending, self.retry_at].into_iter().flatten().min()
    }

    fn handle_rtp(&mut self, now: Instant, p: &PublisherPacket<'_>) -> Result<()> {
        let l = usize::from(p.layer);
        if l >= MAX_LAYERS {
            return Err(Error::LayerOutOfRange(p.layer));
        }
        if p.payload.len() > MAX_PAYLOAD {
            return Err(Error::PayloadTooLong(p.payload.len()));
        }
        let desc = match self.config.codec {
            Codec::Vp8 if !p.payload.is_empty() => Some(vp8::parse(p.payload)?),
            _ => None,
        };
        let at = bucket(self.origin, now);
        let layer = &mut self.layers[l];
        layer.ssrc = Some(p.ssrc);
        layer.meter.add(at, p.payload.len() + 12);
        let ext = layer.seq.unwrap(p.sequence_number);
        if p.payload.is_empty() {
            // Padding only: it measured the layer; the subscriber's sender pads on its own.
            return Ok(());
        }
        let picture_id = desc
            .and_then(|d| d.picture_id)
            .map(|(v, bits)| layer.picture_id.unwrap(v, bits));
        let tl0 = desc
            .and_then(|d| d.tl0_pic_idx)
            .map(|v| layer.tl0.unwrap(u16::from(v), 8));
        let held = Held {
            arrived: now,
            layer: p.layer,
            ssrc: p.ssrc,
            payload_type: p.payload_type,
            ext,
            timestamp: p.timestamp,
            marker: p.marker,
            picture_id,
            tl0,
            descriptor: desc,
            payload: Vec::new(),
            sequence_number: p.sequence_number,
        };
        // The rates move by the bucket: choosing again within one changes nothing the
        // estimate did not already (estimates and timeouts choose on their own).
        if at != self.selected_at {
            self.selected_at = at;
            self.reselect(now);
        }

        if self.current == Some(p.layer) {
            if self.pending.is_some() && self.frame_ended_before(ext, p) {
                // The old layer's frame is over (its marker packet was lost): switch, and
                // this packet of the old layer is not needed.
                self.complete_switch();
                return Ok(());
            }
            self.forward(&held, p);
            if self.pending.is_some() && p.marker {
                self.complete_switch();
            }
            return Ok(());
        }
        if p.layer == self.target && self.is_keyframe_start(p.payload) {
            let held = Held {
                payload: p.payload.to_vec(),
                ..held
            };
            if self.current.is_none() || self.sent.marker {
                self.pending = Some(Pending {
                    layer: p.layer,
                    first_ext: ext,
                    deadline: now,
                    packets: vec![held],
                });
                self.complete_switch();
            } else {
                self.stats.switches_deferred += 1;
                self.pending = Some(Pending {
                    layer: p.layer,
                    first_ext: ext,
                    deadline: now + PENDING_WAIT,
                    packets: vec![held],
                });
            }
            return Ok(());
        }
        if let Some(pending) = self.pending.as_mut()
            && pending.layer == p.layer
            && ext > pending.first_ext
        {
            if pending.packets.len() >= MAX_PENDING {
                self.pending = None;
                self.stats.switches_abandoned += 1;
                self.retry_at = Some(now);
                self.ensure_requested(now);
            } else {
                pending.packets.push(Held {
                    payload: p.payload.to_vec(),
                    ..held
                });
            }
            return Ok(());
        }
        self.ensure_requested(now);
        Ok(())
    }

    /// Whether `p` (extended sequence number `ext`), of the forwarded layer, is newer than
    /// everything sent and belongs to a frame after the one last sent.
    fn frame_ended_before(&self, ext: u64, p: &PublisherPacket<'_>) -> bool {
        let Some(layer) = self.current.and_then(|c| self.layers.get(usize::from(c))) else {
            return true;
        };
        let newer = self
            .sent
            .highest
            .is_none_or(|h| ext as i64 + layer.seq_offset > h as i64);
        let ts = p.timestamp.wrapping_add(layer.ts_offset);
        newer && (self.sent.marker || self.sent.last_ts.is_some_and(|(last, _)| last != ts))
    }

    /// Whether `payload` starts a key frame.
    fn is_keyframe_start(&self, payload: &[u8]) -> bool {
        let Ok(info) = self.depacketizer.packet_info(payload) else {
            return false;
        };
        match self.config.codec {
            // libwebrtc sends SPS and PPS in front of every IDR picture, so a packet that
            // starts with an SPS starts a key frame even before the IDR slice is seen. An IDR
            // slice alone cannot tell whether it is its picture's first, so a publisher that
            // sends its parameter sets only out of band is never switched to.
            Codec::H264 => {
                const SPS: u8 = 7;
                const STAP_A: u8 = 24;
                let first_nal = match payload.first().map(|b| b & 0x1f) {
                    Some(STAP_A) => payload.get(3).map(|b| b & 0x1f),
                    other => other,
                };
                info.start == Start::Yes && (info.keyframe || first_nal == Some(SPS))
            }
            _ => info.start == Start::Yes && info.keyframe,
        }
    }

    /// Sets the target from the estimate and the measured rates.
    fn reselect(&mut self, now: Instant) {
        let at = bucket(self.origin, now);
        let rates: [Option<u64>; MAX_LAYERS] =
            std::array::from_fn(|l| self.layers[l].meter.rate(at));
        // Relative to the target, not the current layer: a switch waiting for its key frame
        // must not be undone by the hold it already served.
        let mut target = self.selector.choose(
            now,
            &self.config.hysteresis,
            self.target,
            self.estimate,
            &rates,
        );
        // Aiming at a layer the publisher does not send would wait for ever; and until the
        // first key frame, the lowest layer is the one to start on (the quickest to come).
        let lowest_active = (0..MAX_LAYERS).find(|&l| self.layers[l].meter.active(at));
        if let Some(l) = lowest_active
            && (self.current.is_none() || !self.layers[usize::from(target)].meter.active(at))
        {
            target = l as u8;
        }
        if target == self.target {
            return;
        }
        let from = self.target;
        self.target = target;
        self.push_event(Event::TargetChanged { from, to: target });
        if self.pending.as_ref().is_some_and(|p| p.layer != target) {
            self.pending = None;
            self.stats.switches_abandoned += 1;
        }
        self.retry_at = (self.current != Some(target)).then_some(now);
    }

    /// Asks for the target's key frame if a switch waits for one and it is time.
    fn ensure_requested(&mut self, now: Instant) {
        if self.current == Some(self.target) || self.pending.is_some() {
            self.retry_at = None;
            return;
        }
        if self.retry_at.is_some_and(|t| t > now) {
            return;
        }
        let target = self.target;
        if self.request_keyframe(now, target) {
            self.retry_at = Some(now + self.config.keyframe_retry);
        } else {
            // Not yet allowed, or the layer's SSRC is unknown: try when it may be.
            let layer = &self.layers[usize::from(target)];
            self.retry_at = Some(
                layer
                    .last_request
                    .map_or(now + self.config.keyframe_request_interval, |t| {
                        t + self.config.keyframe_request_interval
                    })
                    .max(now + Duration::from_millis(1)),
            );
        }
    }

    /// Queues a key-frame request for `layer` unless one went less than the interval ago.
    fn request_keyframe(&mut self, now: Instant, layer: u8) -> bool {
        let interval = self.config.keyframe_request_interval;
        let Some(state) = self.layers.get_mut(usize::from(layer)) else {
            return false;
        };
        let Some(ssrc) = state.ssrc else {
            return false;
        };
        if state
            .last_request
            .is_some_and(|t| now.saturating_duration_since(t) < interval)
        {
            return false;
        }
        state.last_request = Some(now);
        self.stats.keyframe_requests += 1;
        self.push_transmit(Transmit::Publisher(Feedback::KeyFrameRequest {
            layer,
            ssrc,
        }));
        true
    }

    /// Switches to the pending layer at its held key frame and forwards what was held.
    fn complete_switch(&mut self) {
        let Some(pending) = self.pending.take() else {
            return;
        };
        let Some(first) = pending.packets.first() else {
            return;
        };
        let l = usize::from(pending.layer);
        let next = self.sent.highest.map_or(self.sent.floor, |h| h + 1);
        let clock = u64::from(self.config.codec.clock_rate());
        let out_ts = match self.sent.last_ts {
            None => first.timestamp,
            Some((last, at)) => {
                let elapsed = first.arrived.saturating_duration_since(at);
                let ticks = (elapsed.as_micros() as u64).saturating_mul(clock) / 1_000_000;
                let ticks = u32::try_from(ticks)
                    .unwrap_or(u32::MAX / 2)
                    .min(u32::MAX / 2);
                last.wrapping_add(ticks.max(self.sent.step.unwrap_or(1)).max(1))
            }
        };
        let layer = &mut self.layers[l];
        layer.seq_offset = next as i64 - first.ext as i64;
        layer.ts_offset = out_ts.wrapping_sub(first.timestamp);
        if let Some(pid) = first.picture_id {
            layer.picture_id_offset = self.sent.picture_id.map_or(0, |p| p + 1 - pid);
        }
        if let Some(tl0) = first.tl0 {
            layer.tl0_offset = self.sent.tl0.map_or(0, |t| t + 1 - tl0);
        }
        self.sent.floor = next;
        // The new run starts a frame; the last one's end no longer matters.
        self.sent.marker = true;
        let from = self.current;
        self.current = Some(pending.layer);
        self.retry_at = None;
        self.stats.layer_switches += 1;
        self.push_event(Event::LayerSwitched {
            from,
            to: pending.layer,
        });
        for held in &pending.packets {
            self.forward(held, &held.as_packet());
        }
    }

    /// Rewrites a packet of the forwarded layer for the subscriber and sends it.
    fn forward(&mut self, h: &Held, p: &PublisherPacket<'_>) {
        // A packet far ahead of everything sent is a publisher that renumbered its stream
        // (or seconds of loss): it continues the subscriber's numbers instead, because a jump
        // of half the sequence space or more would read as going backwards.
        if let Some(hi) = self.sent.highest {
            let layer = &mut self.layers[usize::from(h.layer)];
            if h.ext as i64 + layer.seq_offset > hi as i64 + MAX_SEQ_JUMP {
                layer.seq_offset = hi as i64 + 1 - h.ext as i64;
                self.stats.renumbered += 1;
            }
        }
        let layer = &self.layers[usize::from(h.layer)];
        let Ok(out_ext) = u64::try_from(h.ext as i64 + layer.seq_offset) else {
            self.stats.packets_stale += 1;
            return;
        };
        // A late packet is sent only while the buffer still covers its number: that is
        // what tells a gap being filled from a duplicate (a packet older than the buffer
        // could have been sent already).
        let window = self.config.retransmit_packets as u64;
        let too_old = self.sent.highest.is_some_and(|hi| out_ext + window <= hi);
        if out_ext < self.sent.floor || too_old || self.buffer.contains(out_ext) {
            self.stats.packets_stale += 1;
            return;
        }
        let newest = self.sent.highest.is_none_or(|hi| out_ext > hi);
        if let Some(f) = self.filter.as_mut()
            && !f.keep(p, self.target)
        {
            if newest {
                self.layers[usize::from(h.layer)].seq_offset -= 1;
            }
            return;
        }
        let timestamp = h.timestamp.wrapping_add(layer.ts_offset);
        let picture_id = h.picture_id.map(|v| v + layer.picture_id_offset);
        let tl0 = h.tl0.map(|v| v + layer.tl0_offset);
        let mut payload = Vec::with_capacity(p.payload.len() + 1);
        match &h.descriptor {
            Some(d) => vp8::rewrite(
                p.payload,
                d,
                picture_id.unwrap_or(0) as u16 & 0x7fff,
                tl0.unwrap_or(0) as u8,
                &mut payload,
            ),
            _ => payload.extend_from_slice(p.payload),
        }
        if newest {
            self.sent.highest = Some(out_ext);
            self.sent.marker = h.marker;
            match self.sent.last_ts {
                Some((last, _)) if last == timestamp => {}
                Some((last, _)) => {
                    let d = timestamp.wrapping_sub(last);
                    if d > 0 && d < 1 << 31 {
                        self.sent.step = Some(self.sent.step.map_or(d, |s| s.min(d)));
                    }
                    self.sent.last_ts = Some((timestamp, h.arrived));
                }
                None => self.sent.last_ts = Some((timestamp, h.arrived)),
            }
        }
        if let Some(v) = picture_id {
            self.sent.picture_id = Some(self.sent.picture_id.map_or(v, |s| s.max(v)));
        }
        if let Some(v) = tl0 {
            self.sent.tl0 = Some(self.sent.tl0.map_or(v, |s| s.max(v)));
        }
        let packet = OutPacket {
            ssrc: self.config.ssrc,
            payload_type: h.payload_type,
            sequence_number: out_ext as u16,
            timestamp,
            marker: h.marker,
            payload,
        };
        self.buffer.insert(out_ext, packet.clone());
        self.stats.packets_forwarded += 1;
        self.push_transmit(Transmit::Subscriber(packet));
    }

    fn push_transmit(&mut self, t: Transmit) {
        if self.transmits.len() >= MAX_TRANSMITS {
            self.stats.transmits_dropped += 1;
            return;
        }
        self.transmits.push_back(t);
    }

    fn push_event(&mut self, e: Event) {
        if self.events.len() >= MAX_EVENTS {
            self.events.pop_front();
        }
        self.events.push_back(e);
    }
}

impl SansIo for Forwarder {
    /// A publisher packet, an estimate or the subscriber's RTCP.
    type Input<'a> = Input<'a>;
    type Transmit = Transmit;
    type Event = Event;

    /// As [`Forwarder::handle_input`]; a refused input is counted in the stats.
    fn handle_input(&mut self, now: Instant, input: Input<'_>) {
        let _ = Forwarder::handle_input(self, now, input);
    }
    fn handle_timeout(&mut self, now: Instant) {
        Forwarder::handle_timeout(self, now);
    }
    fn poll_transmit(&mut self, _now: Instant) -> Option<Transmit> {
        Forwarder::poll_transmit(self)
    }
    fn poll_event(&mut self) -> Option<Event> {
        Forwarder::poll_event(self)
    }
    fn poll_timeout(&self) -> Option<Instant> {
        Forwarder::poll_timeout(self)
    }
}
