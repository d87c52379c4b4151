//! A synthetic simulcast VP8 publisher and a subscriber that checks what it receives.
#![allow(dead_code)]
#![allow(clippy::unwrap_used)] // test code: a panic is a failed test

use std::collections::HashMap;
use std::time::{Duration, Instant};

use rtcweb_rtp::codec::Codec;
use rtcweb_rtp::frame::{AssemblerConfig, Frame, FrameAssembler};
use rtcweb_rtp::seq::SeqUnwrapper;
use rtcweb_sfu::{OutPacket, PublisherPacket};

pub const FPS: u32 = 30;
pub const FRAME: Duration = Duration::from_nanos(1_000_000_000 / FPS as u64);
pub const MAX_PAYLOAD: usize = 1100;

/// One publisher packet, owned.
#[derive(Debug, Clone)]
pub struct Pkt {
    pub layer: u8,
    pub ssrc: u32,
    pub seq: u16,
    pub ts: u32,
    pub marker: bool,
    pub payload: Vec<u8>,
}

impl Pkt {
    pub fn view(&self) -> PublisherPacket<'_> {
        PublisherPacket {
            layer: self.layer,
            ssrc: self.ssrc,
            payload_type: 96,
            sequence_number: self.seq,
            timestamp: self.ts,
            marker: self.marker,
            payload: &self.payload,
        }
    }
}

/// One simulcast layer of the synthetic publisher.
pub struct Layer {
    pub ssrc: u32,
    pub bitrate: u64,
    seq: u16,
    ts_base: u32,
    picture_id: u16,
    /// 7 or 15 bits.
    picture_id_bits: u8,
    tl0: u8,
    frame: u32,
    key_next: bool,
}

/// A VP8 publisher sending three (or more) layers; every frame's data names its layer and
/// index so a subscriber can check that it can be decoded.
pub struct Publisher {
    pub layers: Vec<Layer>,
    pub lose: Vec<(u8, u16)>,
    /// The packets `lose` named, kept for a later retransmission.
    pub lost: Vec<Pkt>,
}

impl Publisher {
    /// Layers of the given bit rates: layer 0 with 7-bit picture ids, the others 15-bit;
    /// sequence numbers, timestamps, picture ids and TL0PICIDX starting at different values
    /// (one near its wrap).
    pub fn new(bitrates: &[u64]) -> Self {
        let layers = bitrates
            .iter()
            .enumerate()
            .map(|(i, &bitrate)| Layer {
                ssrc: 0x1000 + i as u32,
                bitrate,
                seq: [65500, 1000, 30000, 5][i % 4],
                ts_base: [4_000_000_000, 77, 1_234_567, 9][i % 4],
                picture_id: [120, 32700, 5000, 1][i % 4],
                picture_id_bits: if i == 0 { 7 } else { 15 },
                tl0: [250, 3, 100, 0][i % 4],
                frame: 0,
                key_next: true,
            })
            .collect();
        Self {
            layers,
            lose: Vec::new(),
            lost: Vec::new(),
        }
    }

    pub fn request_keyframe(&mut self, layer: u8) {
        if let Some(l) = self.layers.get_mut(usize::from(layer)) {
            l.key_next = true;
        }
    }

    /// The packets of frame `n` of every layer, interleaved across layers (a pacer sending
    /// them together), so a switch often begins while the old layer's frame is unfinished.
    pub fn frame(&mut self) -> Vec<Pkt> {
        let mut per_layer: Vec<Vec<Pkt>> = Vec::new();
        for (li, l) in self.layers.iter_mut().enumerate() {
            let key = std::mem::take(&mut l.key_next);
            let size = (l.bitrate / 8 / u64::from(FPS)) as usize * if key { 4 } else { 1 };
            let mut data = vec![0u8; size.max(24)];
            if key {
                data[..10]
                    .copy_from_slice(&[0x50, 0x2d, 0x00, 0x9d, 0x01, 0x2a, 0x80, 0x02, 0xe0, 0x01]);
            } else {
                data[0] = 0x51;
            }
            data[10] = li as u8;
            data[11..15].copy_from_slice(&l.frame.to_be_bytes());
            let ts = l.ts_base.wrapping_add(l.frame * (90_000 / FPS));
            let chunks: Vec<&[u8]> = data.chunks(MAX_PAYLOAD).collect();
            let n = chunks.len();
            let mut pkts = Vec::new();
            for (k, c) in chunks.into_iter().enumerate() {
                let mut payload = vec![0x80 | if k == 0 { 0x10 } else { 0 }, 0xc0];
                if l.picture_id_bits == 7 {
                    payload.push((l.picture_id & 0x7f) as u8);
                } else {
                    payload.extend_from_slice(&(0x8000 | (l.picture_id & 0x7fff)).to_be_bytes());
                }
                payload.push(l.tl0);
                payload.extend_from_slice(c);
                let seq = l.seq;
                l.seq = l.seq.wrapping_add(1);
                let pkt = Pkt {
                    layer: li as u8,
                    ssrc: l.ssrc,
                    seq,
                    ts,
                    marker: k + 1 == n,
                    payload,
                };
                if self.lose.contains(&(li as u8, seq)) {
                    self.lost.push(pkt);
                } else {
                    pkts.push(pkt);
                }
            }
            l.picture_id =
                l.picture_id.wrapping_add(1) & if l.picture_id_bits == 7 { 0x7f } else { 0x7fff };
            l.tl0 = l.tl0.wrapping_add(1);
            l.frame += 1;
            per_layer.push(pkts);
        }
        let mut out = Vec::new();
        let mut iters: Vec<_> = per_layer.into_iter().map(|v| v.into_iter()).collect();
        loop {
            let mut any = false;
            for it in iters.iter_mut() {
                if let Some(p) = it.next() {
                    out.push(p);
                    any = true;
                }
            }
            if !any {
                return out;
            }
        }
    }
}

/// What a subscriber receives, assembled and checked.
pub struct Subscriber {
    pub assembler: FrameAssembler,
    unwrap: SeqUnwrapper,
    pub last_seq: Option<u64>,
    pub seq_gaps: Vec<(u64, u64)>,
    pub frames: Vec<Frame>,
    /// (layer, frame index) of the last decoded frame.
    last_decoded: Option<(u8, u32)>,
    pub undecodable: usize,
    /// Picture id and TL0PICIDX of the last frame, and how many times they did not follow.
    last_ids: Option<(u32, u16, u8)>,
    pub id_breaks: usize,
    pub ts_backwards: usize,
    pub layers_seen: HashMap<u8, usize>,
    pub ssrcs: Vec<u32>,
}

impl Subscriber {
    pub fn new() -> Self {
        Self {
            assembler: FrameAssembler::new(0, Codec::Vp8, AssemblerConfig::default()),
            unwrap: SeqUnwrapper::new(),
            last_seq: None,
            seq_gaps: Vec::new(),
            frames: Vec::new(),
            last_decoded: None,
            undecodable: 0,
            last_ids: None,
            id_breaks: 0,
            ts_backwards: 0,
            layers_seen: HashMap::new(),
            ssrcs: Vec::new(),
        }
    }

    pub fn receive(&mut self, now: Instant, p: &OutPacket) {
        if !self.ssrcs.contains(&p.ssrc) {
            self.ssrcs.push(p.ssrc);
        }
        let ext = self.unwrap.unwrap(p.sequence_number);
        if let Some(last) = self.last_seq
            && ext > last + 1
        {
            self.seq_gaps.push((last, ext));
        }
        self.last_seq = Some(self.last_seq.map_or(ext, |l| l.max(ext)));
        // Picture id and TL0PICIDX of each new frame follow the last by one.
        let d = rtcweb_sfu_test_descriptor(&p.payload);
        if d.is_none() {
            self.id_breaks += 1;
        }
        if let Some((pid, tl0)) = d {
            match self.last_ids {
                Some((ts, _, _)) if ts == p.timestamp => {}
                Some((ts, lp, lt)) => {
                    if pid != (lp + 1) & 0x7fff || tl0 != lt.wrapping_add(1) {
                        self.id_breaks += 1;
                    }
                    if p.timestamp.wrapping_sub(ts) >= 1 << 31 {
                        self.ts_backwards += 1;
                    }
                    self.last_ids = Some((p.timestamp, pid, tl0));
                }
                None => self.last_ids = Some((p.timestamp, pid, tl0)),
            }
        }
        self.assembler
            .insert(now, ext, p.payload_type, p.timestamp, p.marker, &p.payload)
            .unwrap();
        while let Some(f) = self.assembler.poll_frame() {
            let layer = f.data[10];
            let index = u32::from_be_bytes(f.data[11..15].try_into().unwrap());
            let follows = self.last_decoded == Some((layer, index.wrapping_sub(1)));
            if !f.keyframe && !follows {
                self.undecodable += 1;
            }
            self.last_decoded = Some((layer, index));
            *self.layers_seen.entry(layer).or_default() += 1;
            self.frames.push(f);
        }
    }

    /// The layer of the last frame decoded.
    pub fn layer(&self) -> Option<u8> {
        self.last_decoded.map(|(l, _)| l)
    }
}

/// Picture id (15-bit form) and TL0PICIDX of a rewritten descriptor.
fn rtcweb_sfu_test_descriptor(p: &[u8]) -> Option<(u16, u8)> {
    if p.len() < 5 || p[0] & 0x80 == 0 || p[1] & 0xc0 != 0xc0 || p[2] & 0x80 == 0 {
        return None;
    }
    Some((u16::from_be_bytes([p[2] & 0x7f, p[3]]), p[4]))
}
