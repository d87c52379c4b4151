//! The layer filter: per subscriber, forward or drop each packet of an SVC stream so that the
//! subscriber gets the layers it asked for (or fewer) and every frame it gets is decodable.

use std::sync::Arc;

use crate::codec::Vp9Layers;
use crate::svc::structure::{DependencyStructure, Dti};
use crate::svc::tracker::FrameDependencies;

/// The highest layers a subscriber should receive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct LayerTarget {
    /// Highest spatial layer id.
    pub spatial: u8,
    /// Highest temporal layer id.
    pub temporal: u8,
}

impl LayerTarget {
    /// A target of spatial layer `spatial` and temporal layer `temporal`.
    pub fn new(spatial: u8, temporal: u8) -> Self {
        Self { spatial, temporal }
    }
}

/// One packet, as the filter sees it.
#[derive(Debug, Clone, Copy)]
pub enum SvcPacket<'a> {
    /// An AV1 (or any codec's) packet with a dependency descriptor, resolved by the stream's
    /// [`DependencyTracker`](super::DependencyTracker).
    Av1 {
        /// The resolved descriptor.
        frame: &'a FrameDependencies,
        /// The RTP marker bit as received (end of temporal unit).
        marker: bool,
    },
    /// A VP9 packet, from its payload descriptor ([`vp9_layers`](crate::codec::vp9_layers)).
    Vp9 {
        /// The descriptor's layer indices.
        layers: &'a Vp9Layers,
        /// The RTP marker bit as received (end of picture).
        marker: bool,
    },
}

/// What to do with a packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Send it on, with this RTP marker bit: set when the packet ends the last layer frame
    /// the subscriber gets of its picture, even if the sender set it on a dropped packet.
    Forward {
        /// The marker bit the forwarded packet must carry.
        marker: bool,
    },
    /// Do not send it.
    Drop,
}

/// Decisions remembered per frame, so that every packet of a frame gets the same one even
/// when packets arrive out of order. Fixed size: older frames are forgotten.
const HISTORY: usize = 256;

#[derive(Debug, Clone, Copy, Default)]
struct Entry {
    /// Frame id (AV1) or picture id and spatial id (VP9), plus one; 0 is an empty slot.
    key: u64,
    forwarded: bool,
    /// AV1: bit c is set when chain c was intact up to and including this frame.
    chains: u32,
}

#[derive(Debug, Clone)]
struct History {
    slots: Box<[Entry; HISTORY]>,
}

impl History {
    fn new() -> Self {
        Self {
            slots: Box::new([Entry::default(); HISTORY]),
        }
    }

    fn get(&self, key: u64) -> Option<Entry> {
        let e = self.slots[(key % HISTORY as u64) as usize];
        (e.key == key.wrapping_add(1)).then_some(e)
    }

    fn put(&mut self, key: u64, forwarded: bool, chains: u32) {
        self.slots[(key % HISTORY as u64) as usize] = Entry {
            key: key.wrapping_add(1),
            forwarded,
            chains,
        };
    }
}

/// AV1 dependency descriptor state: the decode target being forwarded.
#[derive(Debug, Clone, Default)]
struct Av1State {
    structure: Option<Arc<DependencyStructure>>,
    /// (spatial id, highest temporal id) of each decode target.
    layers: Vec<(u8, u8)>,
    current: Option<usize>,
}

/// VP9 state: the layers being forwarded and the picture in progress.
#[derive(Debug, Clone, Copy, Default)]
struct Vp9State {
    /// (spatial, temporal) being forwarded; `None` until a key picture.
    current: Option<(u8, u8)>,
    picture: Option<u16>,
    /// Highest spatial layer forwarded in the current picture.
    top_forwarded: Option<u8>,
}

/// Forwards or drops the packets of one SVC stream for one subscriber.
///
/// AV1 (and any codec sent with the dependency descriptor) is filtered by decode target: the
/// filter picks the decode target whose layers best fit the [`LayerTarget`] among the active
/// ones (or the best one it can reach so far), forwards the frames whose indication for it is not "not present", and moves to
/// another decode target only at a frame whose indication for it is "switch" and whose chain
/// (when the structure has chains) is intact in what was forwarded. VP9 is filtered by
/// spatial and temporal id: down at once (at the next picture), temporal up at a switching
/// up point of the new layer, spatial up at a layer frame without inter-picture prediction.
///
/// Every packet of a frame gets the same decision as the first one seen of it (for the last
/// 256 frames). A frame that refers to a frame the filter dropped is dropped too, and the
/// filter then waits for a switch point ([`needs_keyframe`](Self::needs_keyframe)). State is
/// fixed in size: the history, and the structure in force.
///
/// ```
/// use rtcweb_rtp::codec::vp9_layers;
/// use rtcweb_rtp::svc::{Decision, LayerFilter, LayerTarget, SvcPacket};
///
/// let mut f = LayerFilter::new(LayerTarget::new(0, 0));
/// // A key picture, spatial layer 0 (B, E; picture id 1; T0 S0) then its layer 1 (S1, D).
/// let s0 = vp9_layers(&[0xac, 0x01, 0x00, 0x00, 0xff]).unwrap();
/// let s1 = vp9_layers(&[0xac, 0x01, 0x03, 0x00, 0xff]).unwrap();
/// assert_eq!(f.decide(&SvcPacket::Vp9 { layers: &s0, marker: false }), Decision::Forward { marker: true });
/// assert_eq!(f.decide(&SvcPacket::Vp9 { layers: &s1, marker: true }), Decision::Drop);
/// ```
#[derive(Debug, Clone)]
pub struct LayerFilter {
    target: LayerTarget,
    av1: Av1State,
    vp9: Vp9State,
    history: History,
}

impl LayerFilter {
    /// A filter for `target`; it forwards nothing until a key frame or switch point.
    pub fn new(target: LayerTarget) -> Self {
        Self {
            target,
            av1: Av1State::default(),
            vp9: Vp9State::default(),
            history: History::new(),
        }
    }

    /// The layers the subscriber should get from now on; the filter moves to them at the
    /// next point where the stream allows it.
    pub fn set_target(&mut self, target: LayerTarget) {
        self.target = target;
    }

    /// The target.
    pub fn target(&self) -> LayerTarget {
        self.target
    }

    /// The layers being forwarded now (the forwarded decode target's for AV1), `None` while
    /// waiting for a key frame.
    pub fn current(&self) -> Option<LayerTarget> {
        if let Some(c) = self.av1.current {
            return self.av1.layers.get(c).map(|&(s, t)| LayerTarget::new(s, t));
        }
        self.vp9.current.map(|(s, t)| LayerTarget::new(s, t))
    }

    /// Whether the filter forwards nothing until a key frame (or switch point): the caller
    /// should ask the sender for one (PLI), rate-limited.
    pub fn needs_keyframe(&self) -> bool {
        self.av1.current.is_none() && self.vp9.current.is_none()
    }

    /// Forward or drop one packet.
    pub fn decide(&mut self, packet: &SvcPacket<'_>) -> Decision {
        match *packet {
            SvcPacket::Av1 { frame, marker } => self.decide_av1(frame, marker),
            SvcPacket::Vp9 { layers, marker } => self.decide_vp9(layers, marker),
        }
    }

    /// The active decode targets that fit the target, best first (highest spatial, then
    /// temporal, layer); the lowest active one if none fits.
    fn decode_target_candidates(&self, active: u32) -> Vec<usize> {
        let layers = &self.av1.layers;
        let active_dt = |i: usize| i >= 32 || active & (1 << i) != 0;
        let mut fits: Vec<usize> = (0..layers.len())
            .filter(|&i| {
                let (s, t) = layers[i];
                active_dt(i) && s <= self.target.spatial && t <= self.target.temporal
            })
            .collect();
        fits.sort_by_key(|&i| (std::cmp::Reverse(layers[i]), i));
        if fits.is_empty() {
            fits.extend(
                (0..layers.len())
                    .filter(|&i| active_dt(i))
                    .min_by_key(|&i| (layers[i], i)),
            );
        }
        fits
    }

    /// Whether chain `chain` is intact in what was forwarded, up to the frame before `f`.
    fn chain_intact(&self, f: &FrameDependencies, chain: usize) -> bool {
        match f.chain_fdiffs.get(chain) {
            None => true,
            Some(0) => true,
            Some(&d) => self
                .history
                .get(f.frame_id.saturating_sub(u64::from(d)))
                .is_some_and(|e| e.forwarded && chain < 32 && e.chains & (1 << chain) != 0),
        }
    }

    /// Whether the stream may move to decode target `dt` at frame `f`.
    fn can_switch(
        &self,
        f: &FrameDependencies,
        structure: &DependencyStructure,
        dt: usize,
    ) -> bool {
        if f.dtis.get(dt) != Some(&Dti::Switch) {
            return false;
        }
        if structure.chain_count == 0 {
            return true;
        }
        structure
            .decode_target_protected_by
            .get(dt)
            .is_none_or(|&c| self.chain_intact(f, usize::from(c)))
    }

    fn decide_av1(&mut self, f: &FrameDependencies, marker: bool) -> Decision {
        let forward = match self.history.get(f.frame_id) {
            Some(e) => e.forwarded,
            None => self.decide_av1_frame(f),
        };
        if !forward {
            return Decision::Drop;
        }
        let top = self
            .av1
            .current
            .and_then(|c| self.av1.layers.get(c))
            .map(|&(s, _)| s);
        Decision::Forward {
            marker: marker || (f.end_of_frame && Some(f.spatial_id) == top),
        }
    }

    /// Decides the frame `f` at its first packet seen, and records the decision.
    fn decide_av1_frame(&mut self, f: &FrameDependencies) -> bool {
        let structure = f.structure.clone();
        if !self
            .av1
            .structure
            .as_ref()
            .is_some_and(|s| Arc::ptr_eq(s, &structure))
        {
            // Another structure: decode target indices mean something else now.
            self.av1.layers = structure.decode_target_layers();
            self.av1.structure = Some(structure.clone());
            self.av1.current = None;
        }
        // The best decode target the stream can switch to at this frame, unless the one
        // being forwarded is better: the filter climbs towards the target one step at a
        // time when the best one is not reachable yet.
        for dt in self.decode_target_candidates(f.active_decode_targets) {
            if self.av1.current == Some(dt) {
                break;
            }
            if self.can_switch(f, &structure, dt) {
                self.av1.current = Some(dt);
                break;
            }
        }
        let mut forward = self
            .av1
            .current
            .is_some_and(|c| f.dtis.get(c).is_some_and(|d| d.is_present()));
        if forward
            && f.references
                .iter()
                .any(|&r| self.history.get(r).is_some_and(|e| !e.forwarded))
        {
            // The frame refers to one this filter dropped: the stream as forwarded is broken
            // (upstream loss, or indications that did not hold) until the next switch point.
            forward = false;
            self.av1.current = None;
        }
        let mut chains = 0u32;
        if forward {
            for c in 0..usize::from(structure.chain_count).min(32) {
                if self.chain_intact(f, c) {
                    chains |= 1 << c;
                }
            }
        }
        self.history.put(f.frame_id, forward, chains);
        forward
    }

    fn decide_vp9(&mut self, l: &Vp9Layers, marker: bool) -> Decision {
        // History key: picture id (15 bits) and spatial id; without a picture id every packet
        // is judged alone, and layers change only at packets that begin a layer frame.
        let key = l
            .picture_id
            .map(|p| (u64::from(p) << 3) | u64::from(l.spatial_id & 7));
        let remembered = key.and_then(|k| self.history.get(k));
        let forward = match remembered {
            Some(e) => e.forwarded,
            None => {
                let first = key.is_some() || l.begin_of_frame;
                let forward = self.decide_vp9_layer_frame(l, first);
                if let Some(k) = key {
                    self.history.put(k, forward, 0);
                }
                forward
            }
        };
        if !forward {
            return Decision::Drop;
        }
        let top = self.vp9.current.map(|(s, _)| s);
        Decision::Forward {
            marker: marker || (l.end_of_frame && Some(l.spatial_id) == top),
        }
    }

    fn decide_vp9_layer_frame(&mut self, l: &Vp9Layers, first: bool) -> bool {
        let v = &mut self.vp9;
        let target = self.target;
        if first {
            let new_picture = match l.picture_id {
                Some(p) => v.picture != Some(p),
                None => l.spatial_id == 0,
            };
            if new_picture {
                v.picture = l.picture_id;
                v.top_forwarded = None;
                // Down at once: no lower layer depends on a higher one.
                if let Some((s, t)) = &mut v.current {
                    *s = (*s).min(target.spatial);
                    *t = (*t).min(target.temporal);
                }
            }
            match &mut v.current {
                None => {
                    // Start at a key picture: its base layer has no inter-picture prediction,
                    // so nothing before it is referred to.
                    if l.spatial_id == 0 && !l.inter_picture_predicted {
                        v.current = Some((0, target.temporal));
                    }
                }
                Some((s, t)) => {
                    // Temporal up at a switching up point of the layer switched to: that layer
                    // frame refers to no earlier frame of its layer or above (the meaning
                    // libwebrtc's encoders give U).
                    if l.switching_up_point
                        && l.temporal_id > *t
                        && l.temporal_id <= target.temporal
                    {
                        *t = l.temporal_id;
                    }
                    // Spatial up, one layer at a time, at a layer frame that refers to no
                    // earlier picture: at most to the lower layer of this picture, which must
                    // have been forwarded.
                    let below_forwarded =
                        v.top_forwarded.is_some_and(|top| top + 1 == l.spatial_id);
                    if l.spatial_id == *s + 1
                        && l.spatial_id <= target.spatial
                        && !l.inter_picture_predicted
                        && (!l.inter_layer_dependency || below_forwarded)
                        && l.temporal_id <= *t
                    {
                        *s = l.spatial_id;
                    }
                }
            }
        }
        let mut forward = v
            .current
            .is_some_and(|(s, t)| l.spatial_id <= s && l.temporal_id <= t);
        if forward && l.inter_picture_predicted {
            // Flexible mode names the pictures this layer frame refers to: if the filter
            // dropped one of them, the forwarded stream is broken until the next key picture.
            if let Some(pid) = l.picture_id {
                let mask = if l.picture_id_15_bits { 0x7fff } else { 0x7f };
                let broken = l.reference_diffs().iter().any(|&d| {
                    let r = pid.wrapping_sub(u16::from(d)) & mask;
                    let key = (u64::from(r) << 3) | u64::from(l.spatial_id & 7);
                    self.history.get(key).is_some_and(|e| !e.forwarded)
                });
                if broken {
                    forward = false;
                    v.current = None;
                }
            }
        }
        if forward && (l.picture_id == v.picture || l.picture_id.is_none()) {
            v.top_forwarded = Some(
                v.top_forwarded
                    .map_or(l.spatial_id, |t| t.max(l.spatial_id)),
            );
        }
        forward
    }
}
