//! The layer filter on synthetic L1T3 and L3T3 streams: AV1 with the dependency descriptor
//! (written, parsed and resolved by the tracker on the way) and VP9 with its payload
//! descriptor (written, then parsed by `vp9_layers`). Every check is on what the filter
//! forwarded: no forwarded frame refers to a dropped one, every packet of a frame gets the
//! same decision, the layers follow the target, and the marker ends each forwarded picture.

use std::collections::{BTreeSet, HashMap};

use super::*;
use crate::codec::vp9_layers;

/// The temporal layer of the n-th picture after a key picture (the 0-2-1-2 pattern of L*T3).
const TEMPORAL: [u8; 4] = [0, 2, 1, 2];

/// One layer frame of a synthetic stream.
#[derive(Debug, Clone)]
struct Frame {
    picture: usize,
    sid: u8,
    tid: u8,
    key: bool,
    /// Indices of the frames this one refers to.
    refs: Vec<usize>,
}

/// `spatial` layers, 3 temporal layers, `pictures` pictures, key pictures at `keys`. Every
/// layer frame refers to its layer's previous frame of a lower (or, for T0, the same)
/// temporal layer, and layers above 0 to the layer below in the same picture.
fn stream(spatial: u8, pictures: usize, keys: &[usize]) -> Vec<Frame> {
    let mut frames = Vec::new();
    let mut index: HashMap<(usize, u8), usize> = HashMap::new();
    let mut last_key = 0;
    for pic in 0..pictures {
        if keys.contains(&pic) {
            last_key = pic;
        }
        let pos = (pic - last_key) % 4;
        let key = pic == last_key;
        let tid = TEMPORAL[pos];
        for sid in 0..spatial {
            let mut refs = Vec::new();
            if !key {
                let back = [4, 1, 2, 1][pos];
                refs.push(index[&(pic - back, sid)]);
            }
            if sid > 0 {
                refs.push(index[&(pic, sid - 1)]);
            }
            index.insert((pic, sid), frames.len());
            frames.push(Frame {
                picture: pic,
                sid,
                tid,
                key,
                refs,
            });
        }
    }
    frames
}

/// Decode target (s, t) of `spatial` x 3 layers is index 3 s + t.
fn dt_layers(dt: usize) -> (u8, u8) {
    ((dt / 3) as u8, (dt % 3) as u8)
}

/// Indications, references and chain diffs for every frame; chain c holds the T0 frames of
/// spatial layers up to c and protects the decode targets of spatial layer c.
fn describe(frames: &[Frame], spatial: u8) -> Vec<(Vec<Dti>, Vec<u8>, Vec<u8>)> {
    let dts = usize::from(spatial) * 3;
    let in_dt = |f: &Frame, dt: usize| {
        let (s, t) = dt_layers(dt);
        f.sid <= s && f.tid <= t
    };
    let mut out = Vec::new();
    let mut key_start = 0;
    for (i, f) in frames.iter().enumerate() {
        if f.key && f.sid == 0 {
            key_start = i;
        }
        let dtis = (0..dts)
            .map(|dt| {
                if !in_dt(f, dt) {
                    Dti::NotPresent
                } else if f.key || f.tid == 0 {
                    Dti::Switch
                } else if frames[i + 1..]
                    .iter()
                    .take(usize::from(spatial) * 8)
                    .any(|g| in_dt(g, dt) && g.refs.contains(&i))
                {
                    Dti::Required
                } else {
                    Dti::Discardable
                }
            })
            .collect();
        let fdiffs = f.refs.iter().map(|&r| (i - r) as u8).collect();
        let chains = (0..spatial)
            .map(|c| {
                (key_start..i)
                    .rev()
                    .find(|&j| frames[j].tid == 0 && frames[j].sid <= c)
                    .map_or(0, |j| (i - j) as u8)
            })
            .collect();
        out.push((dtis, fdiffs, chains));
    }
    out
}

struct Av1Stream {
    structure: DependencyStructure,
    /// Per frame: template id and whether it is the first frame of a key picture.
    templates: Vec<u8>,
}

fn av1_structure(frames: &[Frame], spatial: u8) -> Av1Stream {
    let described = describe(frames, spatial);
    let mut templates: Vec<FrameTemplate> = Vec::new();
    for (f, (dtis, fdiffs, chains)) in frames.iter().zip(&described) {
        let t = FrameTemplate {
            spatial_id: f.sid,
            temporal_id: f.tid,
            dtis: dtis.clone(),
            fdiffs: fdiffs.clone(),
            chain_fdiffs: chains.clone(),
        };
        if !templates.contains(&t) {
            templates.push(t);
        }
    }
    templates.sort_by_key(|t| (t.spatial_id, t.temporal_id));
    let ids = frames
        .iter()
        .zip(&described)
        .map(|(f, (dtis, fdiffs, chains))| {
            templates
                .iter()
                .position(|t| {
                    t.spatial_id == f.sid
                        && t.temporal_id == f.tid
                        && &t.dtis == dtis
                        && &t.fdiffs == fdiffs
                        && &t.chain_fdiffs == chains
                })
                .unwrap() as u8
        })
        .collect();
    let dts = usize::from(spatial) * 3;
    let structure = DependencyStructure {
        template_id_offset: 0,
        decode_target_count: dts as u8,
        templates,
        decode_target_protected_by: (0..dts).map(|dt| dt_layers(dt).0).collect(),
        chain_count: spatial,
        resolutions: Some((0..spatial).map(|s| (320 << s, 180 << s)).collect()),
    };
    structure.validate().unwrap();
    Av1Stream {
        structure,
        templates: ids,
    }
}

/// What came out of the filter.
#[derive(Default)]
struct Output {
    /// Per frame: the decisions of its packets.
    decisions: Vec<Vec<bool>>,
    /// Per picture: the markers of its forwarded packets, in order.
    markers: Vec<Vec<bool>>,
    /// Pictures at which the filter's spatial layer went up.
    spatial_up: BTreeSet<usize>,
}

impl Output {
    fn forwarded(&self, i: usize) -> bool {
        self.decisions[i][0]
    }

    fn check(&self, frames: &[Frame]) {
        for (i, f) in frames.iter().enumerate() {
            let d = &self.decisions[i];
            assert!(
                d.iter().all(|&x| x == d[0]),
                "frame {i}: split decision {d:?}"
            );
            if self.forwarded(i) {
                for &r in &f.refs {
                    assert!(
                        self.forwarded(r),
                        "frame {i} {f:?} forwarded, its reference {r} dropped"
                    );
                }
            }
        }
        for (pic, m) in self.markers.iter().enumerate() {
            if m.is_empty() {
                continue;
            }
            assert_eq!(
                m.last(),
                Some(&true),
                "picture {pic}: last forwarded packet lacks the marker"
            );
            if !self.spatial_up.contains(&pic) {
                assert_eq!(m.iter().filter(|&&x| x).count(), 1, "picture {pic}: {m:?}");
            }
        }
    }

    /// Highest (spatial, temporal) forwarded among pictures `range`.
    fn top(&self, frames: &[Frame], range: std::ops::Range<usize>) -> (u8, u8) {
        frames
            .iter()
            .enumerate()
            .filter(|(i, f)| range.contains(&f.picture) && self.forwarded(*i))
            .fold((0, 0), |(s, t), (_, f)| (s.max(f.sid), t.max(f.tid)))
    }
}

/// Two packets per layer frame; the marker on the last packet of the top layer.
const PACKETS: usize = 2;

fn run_av1(
    spatial: u8,
    pictures: usize,
    keys: &[usize],
    targets: &[(usize, LayerTarget)],
) -> (Vec<Frame>, Output) {
    let frames = stream(spatial, pictures, keys);
    let av1 = av1_structure(&frames, spatial);
    let mut tracker = DependencyTracker::new();
    let mut filter = LayerFilter::new(targets[0].1);
    let mut out = Output {
        markers: vec![Vec::new(); pictures],
        ..Output::default()
    };
    let mut last_spatial = None;
    for (i, f) in frames.iter().enumerate() {
        if f.sid == 0
            && let Some(&(_, t)) = targets.iter().find(|(p, _)| *p == f.picture)
        {
            filter.set_target(t);
        }
        // Frame numbers start near the wrap to cross it.
        let number = 65500u16.wrapping_add(i as u16);
        let mut decisions = Vec::new();
        for p in 0..PACKETS {
            let mut d =
                DependencyDescriptor::new(av1.templates[i], number, p == 0, p + 1 == PACKETS);
            if f.key && f.sid == 0 && p == 0 {
                d.structure = Some(av1.structure.clone());
            }
            let bytes = d.to_vec(Some(&av1.structure)).unwrap();
            let deps = tracker.read(&bytes).unwrap();
            assert_eq!(deps.references.len(), f.refs.len());
            let marker = f.sid + 1 == spatial && p + 1 == PACKETS;
            match filter.decide(&SvcPacket::Av1 {
                frame: &deps,
                marker,
            }) {
                Decision::Forward { marker } => {
                    decisions.push(true);
                    out.markers[f.picture].push(marker);
                }
                Decision::Drop => decisions.push(false),
            }
        }
        let s = filter.current().map(|c| c.spatial);
        if s > last_spatial && last_spatial.is_some() {
            out.spatial_up.insert(f.picture);
        }
        last_spatial = s;
        out.decisions.push(decisions);
    }
    out.check(&frames);
    (frames, out)
}

#[test]
fn av1_l1t3_follows_temporal_targets_and_stays_decodable() {
    let t = LayerTarget::new;
    let (frames, out) = run_av1(
        1,
        48,
        &[0],
        &[(0, t(0, 2)), (12, t(0, 0)), (24, t(0, 1)), (36, t(0, 2))],
    );
    // A switch waits for the next T0 picture (every 4th): allow 4 pictures to settle.
    assert_eq!(out.top(&frames, 0..12), (0, 2));
    assert_eq!(out.top(&frames, 16..24), (0, 0));
    assert_eq!(out.top(&frames, 28..36), (0, 1));
    assert_eq!(out.top(&frames, 40..48), (0, 2));
    // Every frame is forwarded at full rate, one in four at T0 only.
    let forwarded = |r: std::ops::Range<usize>| r.filter(|&i| out.forwarded(i)).count();
    assert_eq!(forwarded(0..12), 12);
    assert_eq!(forwarded(16..24), 2);
}

#[test]
fn av1_l3t3_switches_spatial_layers_only_where_the_stream_allows() {
    let t = LayerTarget::new;
    let targets = [
        (0, t(2, 2)),
        (10, t(0, 1)),
        (20, t(1, 2)),
        (32, t(2, 0)),
        (44, t(0, 2)),
    ];
    let (frames, out) = run_av1(3, 56, &[0, 28], &targets);
    assert_eq!(out.top(&frames, 0..10), (2, 2));
    assert_eq!(out.top(&frames, 13..20), (0, 1));
    // Spatial layer 1 cannot start before the key picture at 28 (its chain is broken).
    assert_eq!(out.top(&frames, 20..28), (0, 2));
    assert_eq!(out.top(&frames, 28..32), (1, 2));
    // Target (2, 0): spatial layer 2 was not forwarded since the key picture at 28, so its
    // chain is broken and the filter stays at spatial layer 1, down to T0.
    assert_eq!(out.top(&frames, 36..44), (1, 0));
    assert_eq!(out.top(&frames, 48..56), (0, 2));
}

#[test]
fn av1_filter_starts_at_a_key_frame_and_survives_a_lost_structure() {
    let frames = stream(1, 12, &[0, 8]);
    let av1 = av1_structure(&frames, 1);
    let mut filter = LayerFilter::new(LayerTarget::new(0, 2));
    assert!(filter.needs_keyframe());
    // Join after the key frame: a tracker without the structure refuses the packets, and
    // nothing is forwarded until the next key picture.
    let mut tracker = DependencyTracker::new();
    for (i, f) in frames.iter().enumerate().skip(1) {
        let mut d = DependencyDescriptor::new(av1.templates[i], i as u16, true, true);
        if f.key {
            d.structure = Some(av1.structure.clone());
        }
        let bytes = d.to_vec(Some(&av1.structure)).unwrap();
        match tracker.read(&bytes) {
            Err(e) => assert!(i < 8, "{e}"),
            Ok(deps) => {
                assert!(i >= 8);
                let dec = filter.decide(&SvcPacket::Av1 {
                    frame: &deps,
                    marker: true,
                });
                assert_eq!(dec, Decision::Forward { marker: true });
            }
        }
    }
    assert!(!filter.needs_keyframe());
    assert_eq!(filter.current(), Some(LayerTarget::new(0, 2)));
}

/// A VP9 payload: flexible mode (with P_DIFF) or non-flexible (with TL0PICIDX).
fn vp9_payload(f: &Frame, frames: &[Frame], flexible: bool, begin: bool, end: bool) -> Vec<u8> {
    let own_ref = f.refs.iter().find(|&&r| frames[r].sid == f.sid);
    let p = !f.key;
    let mut b0 = 0x80 | 0x20; // I, L
    if p {
        b0 |= 0x40;
    }
    if flexible {
        b0 |= 0x10;
    }
    if begin {
        b0 |= 0x08;
    }
    if end {
        b0 |= 0x04;
    }
    let pid = (f.picture as u16 + 32700) & 0x7fff; // crosses the 15-bit wrap
    let u = f.tid > 0; // every T1/T2 frame refers to a lower temporal layer only
    let d = f.sid > 0;
    let layer = (f.tid << 5) | (u8::from(u) << 4) | (f.sid << 1) | u8::from(d);
    let mut out = vec![b0, 0x80 | (pid >> 8) as u8, pid as u8, layer];
    if flexible {
        if let Some(&r) = own_ref {
            out.push(((f.picture - frames[r].picture) as u8) << 1);
        }
    } else {
        out.push((f.picture / 4) as u8);
    }
    out.push(0xee);
    out
}

fn run_vp9(
    spatial: u8,
    pictures: usize,
    keys: &[usize],
    flexible: bool,
    targets: &[(usize, LayerTarget)],
) -> (Vec<Frame>, Output) {
    let frames = stream(spatial, pictures, keys);
    let mut filter = LayerFilter::new(targets[0].1);
    let mut out = Output {
        markers: vec![Vec::new(); pictures],
        ..Output::default()
    };
    let mut last_spatial = None;
    for f in &frames {
        if f.sid == 0
            && let Some(&(_, t)) = targets.iter().find(|(p, _)| *p == f.picture)
        {
            filter.set_target(t);
        }
        let mut decisions = Vec::new();
        for p in 0..PACKETS {
            let payload = vp9_payload(f, &frames, flexible, p == 0, p + 1 == PACKETS);
            let layers = vp9_layers(&payload).unwrap();
            let marker = f.sid + 1 == spatial && p + 1 == PACKETS;
            match filter.decide(&SvcPacket::Vp9 {
                layers: &layers,
                marker,
            }) {
                Decision::Forward { marker } => {
                    decisions.push(true);
                    out.markers[f.picture].push(marker);
                }
                Decision::Drop => decisions.push(false),
            }
        }
        let s = filter.current().map(|c| c.spatial);
        if s > last_spatial && last_spatial.is_some() {
            out.spatial_up.insert(f.picture);
        }
        last_spatial = s;
        out.decisions.push(decisions);
    }
    out.check(&frames);
    (frames, out)
}

#[test]
fn vp9_l1t3_temporal_switches_at_switching_up_points() {
    let t = LayerTarget::new;
    for flexible in [false, true] {
        let (frames, out) = run_vp9(
            1,
            40,
            &[0],
            flexible,
            &[(0, t(0, 0)), (10, t(0, 2)), (20, t(0, 1)), (30, t(0, 2))],
        );
        assert_eq!(out.top(&frames, 0..10), (0, 0));
        // Up at the next switching up point: at once.
        assert_eq!(out.top(&frames, 10..20), (0, 2));
        assert_eq!(out.top(&frames, 20..30), (0, 1));
        assert_eq!(out.top(&frames, 30..40), (0, 2));
        assert!((11..20).all(|i| out.forwarded(i)));
    }
}

#[test]
fn vp9_l3t3_drops_top_layers_and_moves_the_marker() {
    let t = LayerTarget::new;
    let targets = [(0, t(1, 2)), (8, t(2, 2)), (16, t(0, 0)), (24, t(2, 1))];
    for flexible in [false, true] {
        let (frames, out) = run_vp9(3, 40, &[0, 20], flexible, &targets);
        assert_eq!(out.top(&frames, 0..8), (1, 2));
        // Spatial layer 2 waits for a key picture (none before 20): up at 20 only.
        assert_eq!(out.top(&frames, 8..16), (1, 2));
        assert_eq!(out.top(&frames, 16..20), (0, 0));
        assert_eq!(out.top(&frames, 20..24), (0, 0));
        // Target (2, 1) from 24: spatial up needs a key picture again (none after 20).
        assert_eq!(out.top(&frames, 24..40), (0, 1));
        // Every picture up to 8 carries its marker on layer 1's last packet.
        for pic in 0..8 {
            assert_eq!(out.markers[pic].len(), 2 * PACKETS);
        }
    }
}

#[test]
fn vp9_l3t3_key_picture_brings_all_target_layers() {
    let t = LayerTarget::new;
    for flexible in [false, true] {
        let (frames, out) = run_vp9(3, 24, &[0, 12], flexible, &[(0, t(0, 2)), (6, t(2, 2))]);
        assert_eq!(out.top(&frames, 0..6), (0, 2));
        assert_eq!(out.top(&frames, 6..12), (0, 2));
        assert_eq!(out.top(&frames, 12..24), (2, 2));
        assert!(out.spatial_up.contains(&12));
    }
}

#[test]
fn filter_state_is_bounded_and_any_packet_sequence_is_safe() {
    // Layer info straight from arbitrary bytes: no panic, and the history stays fixed.
    let mut f = LayerFilter::new(LayerTarget::new(1, 1));
    let mut x: u32 = 12345;
    for _ in 0..20_000 {
        x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
        let b = x.to_be_bytes();
        if let Ok(l) = vp9_layers(&[b[0], b[1], b[2], b[3], b[1], b[2], 0xff]) {
            let _ = f.decide(&SvcPacket::Vp9 {
                layers: &l,
                marker: b[3] & 1 == 1,
            });
        }
        if x.is_multiple_of(97) {
            f.set_target(LayerTarget::new(b[0] % 4, b[1] % 8));
        }
    }
    assert_eq!(
        std::mem::size_of_val(&f.clone()),
        std::mem::size_of::<LayerFilter>()
    );
}
