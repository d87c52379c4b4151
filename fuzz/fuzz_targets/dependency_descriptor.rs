//! The AV1 dependency descriptor header extension.
//!
//! The input's first byte splits it in two. The first part is parsed on its own (it must
//! carry a template structure to parse); its structure, or a fixed L1T3-like one when it has
//! none, is the structure in force for the second part. Whatever parses is written back and
//! parses again to the same descriptor; both parts also go through a tracker, which never
//! panics and keeps the structure it took in.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rtcweb_rtp::svc::{
    DependencyDescriptor, DependencyStructure, DependencyTracker, Dti, FrameTemplate, MAX_TEMPLATES,
};

fn fallback() -> DependencyStructure {
    use Dti::*;
    let t = |temporal_id, dtis: [Dti; 3], fdiffs: Vec<u8>, chain| FrameTemplate {
        spatial_id: 0,
        temporal_id,
        dtis: dtis.to_vec(),
        fdiffs,
        chain_fdiffs: vec![chain],
    };
    DependencyStructure {
        template_id_offset: 1,
        decode_target_count: 3,
        templates: vec![
            t(0, [Switch, Switch, Switch], vec![], 0),
            t(0, [Switch, Switch, Switch], vec![4], 4),
            t(1, [NotPresent, Discardable, Required], vec![2], 2),
            t(2, [NotPresent, NotPresent, Discardable], vec![1], 1),
        ],
        decode_target_protected_by: vec![0, 0, 0],
        chain_count: 1,
        resolutions: Some(vec![(1280, 720)]),
    }
}

fn round_trip(data: &[u8], active: Option<&DependencyStructure>) -> Option<DependencyDescriptor> {
    let d = DependencyDescriptor::parse(data, active).ok()?;
    let bytes = d.to_vec(active).expect("a parsed descriptor writes back");
    let again = DependencyDescriptor::parse(&bytes, active).expect("and parses again");
    assert_eq!(again, d);
    if let Some(s) = &d.structure {
        assert!(s.templates.len() <= MAX_TEMPLATES);
        s.validate().expect("a parsed structure validates");
        // Written without the stream's structure, it still stands alone.
        let alone = d
            .to_vec(None)
            .expect("a descriptor with its structure stands alone");
        assert_eq!(
            DependencyDescriptor::parse(&alone, None).expect("parses"),
            d
        );
    }
    Some(d)
}

fuzz_target!(|data: &[u8]| {
    let Some((&split, rest)) = data.split_first() else {
        return;
    };
    let split = usize::from(split).min(rest.len());
    let (first, second) = rest.split_at(split);
    let first = round_trip(first, None);
    let structure = first.and_then(|d| d.structure).unwrap_or_else(fallback);
    round_trip(second, Some(&structure));

    let mut tracker = DependencyTracker::new();
    for part in [rest.split_at(split).0, rest.split_at(split).1, rest] {
        if let Ok(f) = tracker.read(part) {
            assert_eq!(f.dtis.len(), usize::from(f.structure.decode_target_count));
            assert!(f.references.iter().all(|&r| r < f.frame_id));
            assert!(f.structure.templates.len() <= MAX_TEMPLATES);
        }
    }
});
