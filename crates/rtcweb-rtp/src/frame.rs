//! Frame assembly: a bounded reorder buffer that turns received packets into whole frames in
//! decode order, detects key frames, and after an unrecoverable loss waits for (and asks for)
//! the next key frame.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::time::{Duration, Instant};

use crate::codec::{Codec, Depacketizer, Start};
use crate::error::Result;

/// A whole received frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    /// SSRC of the media stream.
    pub ssrc: u32,
    /// Payload type of its packets.
    pub payload_type: u8,
    /// RTP timestamp.
    pub timestamp: u32,
    /// Whether it is a key frame.
    pub keyframe: bool,
    /// Width and height when the frame carries them (VP8/VP9 key frames).
    pub resolution: Option<(u16, u16)>,
    /// The encoded frame (Annex B for H.264, low-overhead OBUs for AV1).
    pub data: Vec<u8>,
    /// Extended sequence number of its first packet.
    pub first_sequence: u64,
    /// Extended sequence number of its last packet.
    pub last_sequence: u64,
    /// When its last missing packet arrived.
    pub completed_at: Instant,
}

/// Limits of a [`FrameAssembler`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AssemblerConfig {
    /// Packets held at most; beyond it the oldest gap is declared lost.
    pub max_packets: usize,
    /// How long a gap may hold back later packets before it is declared lost (the NACK
    /// logic usually declares it first).
    pub max_wait: Duration,
    /// Frames waiting to be taken at most; beyond it the oldest is dropped.
    pub max_frames: usize,
}

impl Default for AssemblerConfig {
    fn default() -> Self {
        Self {
            max_packets: 2048,
            max_wait: Duration::from_secs(2),
            max_frames: 64,
        }
    }
}

#[derive(Debug)]
struct Slot {
    timestamp: u32,
    marker: bool,
    payload_type: u8,
    start: Start,
    keyframe: bool,
    payload: Vec<u8>,
    arrived: Instant,
    /// Not media: a sequence number the stream used for something else (ULPFEC).
    filler: bool,
}

/// Counters of a [`FrameAssembler`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AssemblerStats {
    /// Frames delivered.
    pub frames: u64,
    /// Key frames delivered.
    pub keyframes: u64,
    /// Packets dropped: late, duplicate, malformed, or behind a loss.
    pub packets_dropped: u64,
    /// Frames that failed to depacketize.
    pub frames_malformed: u64,
    /// Frames dropped because the queue of complete frames was full.
    pub frames_overflowed: u64,
}

/// Reorders the packets of one stream and yields whole frames.
#[derive(Debug)]
pub struct FrameAssembler {
    ssrc: u32,
    depacketizer: Depacketizer,
    config: AssemblerConfig,
    slots: BTreeMap<u64, Slot>,
    /// First sequence number not yet delivered or skipped.
    next: Option<u64>,
    /// Padding-only packets (RFC 3550 5.1, sent for bandwidth probing) ahead of `next`:
    /// they take a sequence number but belong to no frame, so they are no gap.
    padding: BTreeSet<u64>,
    need_keyframe: bool,
    keyframe_request: bool,
    frames: VecDeque<Frame>,
    stats: AssemblerStats,
    /// The last delivered frame's timestamp, if it ended with the marker bit.
    last_end: Option<u32>,
    /// The smallest timestamp step between delivered frames.
    min_step: Option<u32>,
}

impl FrameAssembler {
    /// An assembler for stream `ssrc` of `codec`.
    pub fn new(ssrc: u32, codec: Codec, config: AssemblerConfig) -> Self {
        Self {
            ssrc,
            depacketizer: Depacketizer::new(codec),
            config,
            slots: BTreeMap::new(),
            next: None,
            padding: BTreeSet::new(),
            need_keyframe: codec.is_video(),
            keyframe_request: false,
            frames: VecDeque::new(),
            stats: AssemblerStats::default(),
            last_end: None,
            min_step: None,
        }
    }

    /// The codec.
    pub fn codec(&self) -> Codec {
        self.depacketizer.codec()
    }

    /// Counters.
    pub fn stats(&self) -> AssemblerStats {
        self.stats
    }

    /// Whether the assembler is waiting for a key frame.
    pub fn needs_keyframe(&self) -> bool {
        self.need_keyframe
    }

    /// The first sequence number not yet delivered or given up (`None` before the first
    /// frame): a packet before it is of no use any more.
    pub fn next_sequence(&self) -> Option<u64> {
        self.next
    }

    /// Packets currently held.
    pub fn buffered(&self) -> usize {
        self.slots.len()
    }

    /// `true` once after the assembler started waiting for a key frame because of a loss
    /// (the session answers with a PLI).
    pub fn take_keyframe_request(&mut self) -> bool {
        std::mem::take(&mut self.keyframe_request)
    }

    /// A complete frame, in decode order.
    pub fn poll_frame(&mut self) -> Option<Frame> {
        self.frames.pop_front()
    }

    /// Adds a packet with extended sequence number `seq`.
    pub fn insert(
        &mut self,
        now: Instant,
        seq: u64,
        payload_type: u8,
        timestamp: u32,
        marker: bool,
        payload: &[u8],
    ) -> Result<()> {
        if self.next.is_some_and(|n| seq < n) || self.slots.contains_key(&seq) {
            self.stats.packets_dropped += 1;
            return Ok(());
        }
        let info = match self.depacketizer.packet_info(payload) {
            Ok(i) => i,
            Err(e) => {
                self.stats.packets_dropped += 1;
                return Err(e);
            }
        };
        while self.slots.len() >= self.config.max_packets {
            self.drop_oldest();
        }
        self.slots.insert(
            seq,
            Slot {
                timestamp,
                marker,
                payload_type,
                start: info.start,
                keyframe: info.keyframe,
                payload: payload.to_vec(),
                arrived: now,
                filler: false,
            },
        );
        self.assemble(now);
        Ok(())
    }

    /// Records that `seq` carries no media (an FEC packet in the stream's sequence
    /// numbers), so that frames after it do not wait for it.
    pub fn insert_filler(&mut self, now: Instant, seq: u64, timestamp: u32) {
        if self.next.is_some_and(|n| seq < n) || self.slots.contains_key(&seq) {
            return;
        }
        while self.slots.len() >= self.config.max_packets {
            self.drop_oldest();
        }
        self.slots.insert(
            seq,
            Slot {
                timestamp,
                // A frame may start after it.
                marker: true,
                payload_type: 0,
                start: Start::No,
                keyframe: false,
                payload: Vec::new(),
                arrived: now,
                filler: true,
            },
        );
        self.assemble(now);
    }

    /// Records packet `seq` as padding only (no payload): it belongs to no frame and fills
    /// its place in the sequence, so the frames around it are not held back or broken.
    pub fn insert_padding(&mut self, now: Instant, seq: u64) {
        if self.next.is_some_and(|n| seq < n) || self.slots.contains_key(&seq) {
            return;
        }
        if self.padding.len() >= self.config.max_packets
            && let Some(oldest) = self.padding.pop_first()
            && oldest > seq
        {
            self.padding.insert(oldest);
            return;
        }
        self.padding.insert(seq);
        self.skip_padding();
        self.assemble(now);
    }

    /// Moves `next` over padding-only packets.
    fn skip_padding(&mut self) {
        while let Some(n) = self.next {
            // Padding below `next` is done with.
            while self.padding.first().is_some_and(|p| *p < n) {
                self.padding.pop_first();
            }
            if !self.padding.remove(&n) {
                return;
            }
            self.next = Some(n + 1);
        }
    }

    /// Declares packet `seq` lost for good (NACK gave up on it).
    pub fn declare_lost(&mut self, now: Instant, seq: u64) {
        if self.next.is_some_and(|n| seq < n) || self.slots.contains_key(&seq) {
            return;
        }
        self.skip_gap();
        self.assemble(now);
    }

    /// Gives up on the packets missing before the oldest one held (audio whose redundancy
    /// could not fill a gap, with nothing else to repair it).
    pub fn skip_missing(&mut self, now: Instant) {
        self.skip_gap();
        self.assemble(now);
    }

    /// When [`FrameAssembler::handle_timeout`] should run next.
    pub fn poll_timeout(&self) -> Option<Instant> {
        if self.slots.is_empty() {
            return None;
        }
        let (_, first) = self.slots.first_key_value()?;
        Some(first.arrived + self.config.max_wait)
    }

    /// Declares the oldest gap lost if it has held packets back for too long.
    pub fn handle_timeout(&mut self, now: Instant) {
        if self.poll_timeout().is_some_and(|t| t <= now) {
            self.drop_oldest_if_stale(now);
            self.assemble(now);
        }
    }

    fn drop_oldest_if_stale(&mut self, now: Instant) {
        let Some((&seq, slot)) = self.slots.first_key_value() else {
            return;
        };
        if now < slot.arrived + self.config.max_wait {
            return;
        }
        if self.next == Some(seq) || self.need_keyframe {
            // Nothing is missing before it: it is a frame that will never complete.
            self.slots.remove(&seq);
            self.stats.packets_dropped += 1;
            if self.next == Some(seq) {
                self.next = Some(seq + 1);
            }
            self.lose();
        } else {
            self.skip_gap();
        }
    }

    fn drop_oldest(&mut self) {
        if let Some((seq, _)) = self.slots.pop_first() {
            self.stats.packets_dropped += 1;
            self.next = Some(seq + 1);
            self.lose();
        }
    }

    /// Gives up on everything before the oldest held packet.
    fn skip_gap(&mut self) {
        if let Some((&first, _)) = self.slots.first_key_value()
            && self.next.is_some_and(|n| n < first)
        {
            let harmless = self.gap_between_frames(first);
            self.next = Some(first);
            if !harmless {
                self.lose();
            }
        }
    }

    /// Whether the missing packets before `first` held one cannot be media: the frame
    /// before them ended (marker bit), `first` starts a frame, and no frame fits between
    /// the two timestamps (less than two of the smallest frame steps seen apart). Such a
    /// gap is a lost FEC packet in the stream's sequence numbers (ULPFEC) or padding.
    fn gap_between_frames(&self, first: u64) -> bool {
        let (Some(end), Some(step), Some(slot)) =
            (self.last_end, self.min_step, self.slots.get(&first))
        else {
            return false;
        };
        // Only a payload that says it starts a frame will do: with `Unknown` the first
        // packet of the frame could be what is missing.
        let starts = slot.start == Start::Yes;
        let d = slot.timestamp.wrapping_sub(end);
        starts && !slot.filler && d > 0 && d < 2 * step.max(1) && d < 1 << 31
    }

    fn lose(&mut self) {
        if self.codec().is_video() && !self.need_keyframe {
            self.need_keyframe = true;
            self.keyframe_request = true;
        }
    }

    fn is_start(&self, seq: u64) -> bool {
        let Some(s) = self.slots.get(&seq) else {
            return false;
        };
        match s.start {
            Start::Yes => true,
            Start::No => false,
            Start::Unknown => {
                self.next == Some(seq)
                    || seq
                        .checked_sub(1)
                        .and_then(|p| self.slots.get(&p))
                        .is_some_and(|p| p.timestamp != s.timestamp || p.marker)
            }
        }
    }

    /// The last sequence number of the frame starting at `seq`, if all its packets are here.
    fn complete_from(&self, seq: u64) -> Option<u64> {
        let first = self.slots.get(&seq)?;
        if !self.codec().is_video() {
            return Some(seq);
        }
        let mut k = seq;
        loop {
            let s = self.slots.get(&k)?;
            if s.filler || s.timestamp != first.timestamp {
                // The frame ended without a marker bit.
                return (k > seq).then(|| k - 1);
            }
            if s.marker {
                return Some(k);
            }
            k += 1;
        }
    }

    fn assemble(&mut self, now: Instant) {
        loop {
            // Fillers and padding at the front are done with.
            self.skip_padding();
            while let Some(n) = self.next
                && self.slots.get(&n).is_some_and(|s| s.filler)
            {
                self.slots.remove(&n);
                self.next = Some(n + 1);
                self.skip_padding();
            }
            let found = if self.need_keyframe || self.next.is_none() {
                let video = self.codec().is_video();
                self.slots
                    .keys()
                    .copied()
                    .filter(|&k| self.is_start(k))
                    .find_map(|k| {
                        let end = self.complete_from(k)?;
                        let key = !video || self.slots.range(k..=end).any(|(_, s)| s.keyframe);
                        key.then_some((k, end))
                    })
            } else {
                let n = self.next.unwrap_or(0);
                if !self.slots.contains_key(&n)
                    && let Some((&first, _)) = self.slots.first_key_value()
                    && first > n
                    && self.gap_between_frames(first)
                {
                    // What is missing cannot be media (a lost FEC packet): go on.
                    self.next = Some(first);
                    continue;
                }
                self.complete_from(n).map(|e| (n, e))
            };
            let Some((start, end)) = found else {
                return;
            };
            self.deliver(now, start, end);
        }
    }

    fn deliver(&mut self, now: Instant, start: u64, end: u64) {
        // Everything before the frame is skipped (it was lost or is useless now).
        while let Some((&k, _)) = self.slots.first_key_value() {
            if k >= start {
                break;
            }
            if self.slots.remove(&k).is_some_and(|s| !s.filler) {
                self.stats.packets_dropped += 1;
            }
        }
        let mut rest = self.slots.split_off(&(end + 1));
        std::mem::swap(&mut rest, &mut self.slots);
        let packets = rest;
        self.next = Some(end + 1);
        self.skip_padding();
        let Some(first) = packets.values().next() else {
            return;
        };
        let (timestamp, payload_type) = (first.timestamp, first.payload_type);
        let mut data = Vec::with_capacity(packets.values().map(|s| s.payload.len()).sum());
        match self
            .depacketizer
            .depacketize_frame(packets.values().map(|s| s.payload.as_slice()), &mut data)
        {
            Ok(info) => {
                if self.need_keyframe && !info.keyframe && self.codec().is_video() {
                    self.stats.packets_dropped += packets.len() as u64;
                    return;
                }
                self.need_keyframe = false;
                let d = timestamp.wrapping_sub(self.last_end.unwrap_or(timestamp));
                if d > 0 && d < 1 << 31 {
                    self.min_step = Some(self.min_step.map_or(d, |s| s.min(d)));
                }
                self.last_end = packets
                    .values()
                    .next_back()
                    .filter(|s| s.marker)
                    .map(|_| timestamp);
                self.stats.frames += 1;
                self.stats.keyframes += u64::from(info.keyframe);
                if self.frames.len() >= self.config.max_frames {
                    self.frames.pop_front();
                    self.stats.frames_overflowed += 1;
                }
                self.frames.push_back(Frame {
                    ssrc: self.ssrc,
                    payload_type,
                    timestamp,
                    keyframe: info.keyframe,
                    resolution: info.resolution,
                    data,
                    first_sequence: start,
                    last_sequence: end,
                    completed_at: now,
                });
            }
            Err(_) => {
                self.stats.frames_malformed += 1;
                self.lose();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::{Packetizer, Payloads};

    fn vp8_frame(key: bool, len: usize) -> Vec<u8> {
        let mut f = vec![0u8; len];
        if key {
            f[..10].copy_from_slice(&[0x50, 0x2d, 0x00, 0x9d, 0x01, 0x2a, 0x80, 0x02, 0xe0, 0x01]);
        } else {
            f[0] = 0x51;
        }
        f
    }

    /// Packets of `frames` as (seq, ts, marker, payload).
    fn packets(frames: &[Vec<u8>]) -> Vec<(u64, u32, bool, Vec<u8>)> {
        let mut p = Packetizer::new(Codec::Vp8);
        let mut out = Vec::new();
        let mut seq = 100;
        for (i, f) in frames.iter().enumerate() {
            let mut pl = Payloads::new();
            p.packetize(f, 500, &mut pl).unwrap();
            let n = pl.len();
            for (k, payload) in pl.iter().enumerate() {
                out.push((seq, 3000 * i as u32, k + 1 == n, payload.to_vec()));
                seq += 1;
            }
        }
        out
    }

    #[test]
    fn reordered_packets_make_whole_frames_in_order() {
        let now = Instant::now();
        let frames = vec![
            vp8_frame(true, 1400),
            vp8_frame(false, 900),
            vp8_frame(false, 300),
        ];
        let mut pk = packets(&frames);
        pk.swap(0, 3);
        pk.swap(1, 4);
        let mut a = FrameAssembler::new(1, Codec::Vp8, AssemblerConfig::default());
        for (seq, ts, m, p) in &pk {
            a.insert(now, *seq, 96, *ts, *m, p).unwrap();
        }
        let got: Vec<_> = std::iter::from_fn(|| a.poll_frame()).collect();
        assert_eq!(got.len(), 3);
        assert!(got[0].keyframe);
        assert_eq!(got[0].resolution, Some((640, 480)));
        for (g, f) in got.iter().zip(&frames) {
            assert_eq!(&g.data, f);
        }
        assert_eq!(a.buffered(), 0);
    }

    #[test]
    fn loss_waits_for_the_next_keyframe() {
        let now = Instant::now();
        let frames = vec![
            vp8_frame(true, 600),
            vp8_frame(false, 600),
            vp8_frame(false, 600),
            vp8_frame(true, 600),
        ];
        let pk = packets(&frames);
        let mut a = FrameAssembler::new(1, Codec::Vp8, AssemblerConfig::default());
        for (i, (seq, ts, m, p)) in pk.iter().enumerate() {
            if i == 2 {
                continue; // first packet of frame 1 lost
            }
            a.insert(now, *seq, 96, *ts, *m, p).unwrap();
        }
        assert_eq!(a.poll_frame().unwrap().timestamp, 0);
        assert!(a.poll_frame().is_none());
        a.declare_lost(now, pk[2].0);
        assert!(a.take_keyframe_request());
        let f = a.poll_frame().unwrap();
        assert!(f.keyframe);
        assert_eq!(f.timestamp, 9000);
        assert_eq!(a.buffered(), 0);
    }

    #[test]
    fn the_buffer_is_bounded() {
        let now = Instant::now();
        let config = AssemblerConfig {
            max_packets: 8,
            ..AssemblerConfig::default()
        };
        let mut a = FrameAssembler::new(1, Codec::Vp8, config);
        // Delta frames only: nothing can be delivered before a key frame.
        for seq in 0..100u64 {
            a.insert(
                now,
                seq,
                96,
                seq as u32,
                true,
                &[0x90, 0x80, 0x80, 0x01, 0x51, 0, 0],
            )
            .unwrap();
            assert!(a.buffered() <= 8);
        }
        assert_eq!(a.stats().frames, 0);
    }

    #[test]
    fn stale_gaps_are_skipped_by_timeout() {
        let t0 = Instant::now();
        let mut a = FrameAssembler::new(1, Codec::Opus, AssemblerConfig::default());
        a.insert(t0, 10, 111, 0, false, b"a").unwrap();
        a.insert(t0, 12, 111, 960, false, b"c").unwrap();
        assert_eq!(a.poll_frame().unwrap().data, b"a");
        assert!(a.poll_frame().is_none());
        let t = a.poll_timeout().unwrap();
        a.handle_timeout(t);
        assert_eq!(a.poll_frame().unwrap().data, b"c");
    }
}
