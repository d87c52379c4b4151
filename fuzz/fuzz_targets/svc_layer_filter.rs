//! The SVC layer filter fed an arbitrary packet sequence: AV1 packets whose dependency
//! descriptors come from the input (through a tracker), VP9 packets whose payload descriptors
//! come from the input, and target changes in between. It never panics, a forwarded packet
//! always comes with layers being forwarded, and its state does not grow: the filter's size
//! is fixed and the structure it holds is the tracker's (at most 64 templates).
#![no_main]

use libfuzzer_sys::fuzz_target;
use rtcweb_rtp::codec::vp9_layers;
use rtcweb_rtp::svc::{
    Decision, DependencyTracker, LayerFilter, LayerTarget, MAX_TEMPLATES, SvcPacket,
};

fuzz_target!(|data: &[u8]| {
    let mut filter = LayerFilter::new(LayerTarget::new(2, 2));
    let mut tracker = DependencyTracker::new();
    // The frame (AV1 frame id, or VP9 picture id and spatial id) of the previous packet and
    // whether it was forwarded: the next packet of the same frame gets the same decision.
    let mut previous: Option<((u8, u64), bool)> = None;
    let mut rest = data;
    while let Some((&op, tail)) = rest.split_first() {
        // Low two bits: what; bits 2..7: how long the element is; bit 7: the marker.
        let len = usize::from((op >> 2) & 0x1f).min(tail.len());
        let (element, tail) = tail.split_at(len);
        rest = tail;
        let marker = op & 0x80 != 0;
        let (frame, decision) = match op & 3 {
            0 => {
                let (s, t) = match element {
                    [s, t, ..] => (s % 5, t % 9),
                    _ => (0, 0),
                };
                filter.set_target(LayerTarget::new(s, t));
                continue;
            }
            1 | 2 => match tracker.read(element) {
                Ok(frame) => {
                    assert!(frame.structure.templates.len() <= MAX_TEMPLATES);
                    let d = filter.decide(&SvcPacket::Av1 {
                        frame: &frame,
                        marker,
                    });
                    ((0, frame.frame_id), d)
                }
                Err(_) => continue,
            },
            _ => match vp9_layers(element) {
                Ok(layers) => {
                    let d = filter.decide(&SvcPacket::Vp9 {
                        layers: &layers,
                        marker,
                    });
                    let Some(pid) = layers.picture_id else {
                        previous = None;
                        continue;
                    };
                    ((1, (u64::from(pid) << 3) | u64::from(layers.spatial_id)), d)
                }
                Err(_) => continue,
            },
        };
        let forwarded = matches!(decision, Decision::Forward { .. });
        if let Some((f, fwd)) = previous
            && f == frame
        {
            assert_eq!(fwd, forwarded, "one frame, two decisions");
        }
        previous = Some((frame, forwarded));
        if marker && let Decision::Forward { marker: m } = decision {
            assert!(
                m,
                "the sender's marker is never taken off a forwarded packet"
            );
        }
        let _ = filter.current();
        let _ = filter.needs_keyframe();
    }
});
