//! Dependency descriptor: byte vectors, round trips, malformed input.
//!
//! The byte vectors were derived by hand, field by field, from the syntax of the AV1 RTP
//! payload format, Appendix A.8.2 (the specification's examples give structures as tables,
//! not bytes); each field is listed beside its bits.

use rtcweb_core::ErrorCategory;

use super::*;

fn template(
    spatial_id: u8,
    temporal_id: u8,
    dtis: &[Dti],
    fdiffs: &[u8],
    chains: &[u8],
) -> FrameTemplate {
    FrameTemplate {
        spatial_id,
        temporal_id,
        dtis: dtis.to_vec(),
        fdiffs: fdiffs.to_vec(),
        chain_fdiffs: chains.to_vec(),
    }
}

/// L1T2: decode target 0 = T0, decode target 1 = T0 + T1; no chains, no resolutions.
fn l1t2() -> DependencyStructure {
    use Dti::*;
    DependencyStructure {
        template_id_offset: 0,
        decode_target_count: 2,
        templates: vec![
            template(0, 0, &[Switch, Switch], &[], &[]),
            template(0, 0, &[Switch, Switch], &[2], &[]),
            template(0, 1, &[NotPresent, Discardable], &[1], &[]),
        ],
        decode_target_protected_by: vec![],
        chain_count: 0,
        resolutions: None,
    }
}

/// L1T2 key frame carrying the structure:
/// start 1, end 1, template id 0 (000000), frame number 1 | structure present 1, active 0,
/// custom dtis 0, fdiffs 0, chains 0 | template_id_offset 000000, dt_cnt_minus_one 00001 |
/// next_layer_idc 00 01 11 | dtis 1010 1010 0001 | fdiffs 0, 1 0001 0, 1 0000 0 |
/// chain_cnt ns(3) = 0: 0 | resolutions_present 0 | zero padding.
const L1T2_KEY: [u8; 10] = [0xc0, 0x00, 0x01, 0x80, 0x01, 0x1e, 0xa8, 0x51, 0x40, 0x00];

/// Against L1T2: start 0, end 1, template id 1, frame number 0xffff | structure 0, active 1,
/// custom dtis 0, custom fdiffs 1, chains 0 | active_decode_targets_bitmask 01 |
/// next_fdiff_size 11, fdiff_minus_one 299 in 12 bits | next_fdiff_size 00 | padding.
const ACTIVE_AND_CUSTOM_FDIFF: [u8; 6] = [0x41, 0xff, 0xff, 0x53, 0x89, 0x58];

/// L2T1 with chains and resolutions: start 1, end 0, template id 5, frame number 0x1234 |
/// structure present | template_id_offset 5, dt_cnt_minus_one 1 | next_layer_idc 10 11 |
/// dtis S0: 10 10, S1: 00 10 | fdiffs 0, 1 0000 0 | chain_cnt ns(3) = 2: 11 |
/// protected by ns(2): 0, 1 | chain fdiffs S0: 0000 0000, S1: 0001 0001 |
/// resolutions 1: 320x180, 640x360 (minus one, 16 bits each) | padding.
const L2T1_KEY: [u8; 18] = [
    0x85, 0x12, 0x34, 0x80, 0xa1, 0xba, 0x24, 0x1a, 0x00, 0x23, 0x01, 0x3f, 0x00, 0xb3, 0x02, 0x7f,
    0x01, 0x67,
];

fn l2t1() -> DependencyStructure {
    use Dti::*;
    DependencyStructure {
        template_id_offset: 5,
        decode_target_count: 2,
        templates: vec![
            template(0, 0, &[Switch, Switch], &[], &[0, 0]),
            template(1, 0, &[NotPresent, Switch], &[1], &[1, 1]),
        ],
        decode_target_protected_by: vec![0, 1],
        chain_count: 2,
        resolutions: Some(vec![(320, 180), (640, 360)]),
    }
}

#[test]
fn l1t2_key_frame_vector_parses_and_is_written_back() {
    let d = DependencyDescriptor::parse(&L1T2_KEY, None).unwrap();
    assert!(d.start_of_frame && d.end_of_frame);
    assert_eq!((d.template_id, d.frame_number), (0, 1));
    assert_eq!(d.structure.as_ref(), Some(&l1t2()));
    assert_eq!(d.active_decode_targets, None);
    assert_eq!(d.to_vec(None).unwrap(), L1T2_KEY);
    assert_eq!(l1t2().decode_target_layers(), [(0, 0), (0, 1)]);
}

#[test]
fn active_targets_and_a_12_bit_custom_fdiff_vector() {
    let s = l1t2();
    let d = DependencyDescriptor::parse(&ACTIVE_AND_CUSTOM_FDIFF, Some(&s)).unwrap();
    assert!(!d.start_of_frame && d.end_of_frame);
    assert_eq!((d.template_id, d.frame_number), (1, 0xffff));
    assert_eq!(d.active_decode_targets, Some(0b01));
    assert_eq!(d.custom_fdiffs, Some(vec![300]));
    assert_eq!(d.custom_dtis, None);
    assert_eq!(d.to_vec(Some(&s)).unwrap(), ACTIVE_AND_CUSTOM_FDIFF);
    // Without a structure it cannot be read.
    let e = DependencyDescriptor::parse(&ACTIVE_AND_CUSTOM_FDIFF, None).unwrap_err();
    assert_eq!(e.category(), ErrorCategory::Malformed);
}

#[test]
fn chains_resolutions_and_template_offset_vector() {
    let d = DependencyDescriptor::parse(&L2T1_KEY, None).unwrap();
    assert_eq!(d.structure.as_ref(), Some(&l2t1()));
    assert_eq!((d.template_id, d.frame_number), (5, 0x1234));
    assert_eq!(d.to_vec(None).unwrap(), L2T1_KEY);
    let mut t = DependencyTracker::new();
    let f = t.read(&L2T1_KEY).unwrap();
    assert_eq!((f.spatial_id, f.resolution), (0, Some((320, 180))));
    // Template id 6 is template 1 (offset 5): spatial layer 1, refers to the frame before.
    let next = DependencyDescriptor::new(6, 0x1235, true, true);
    let f = t.read(&next.to_vec(Some(&l2t1())).unwrap()).unwrap();
    assert_eq!(f.spatial_id, 1);
    assert_eq!(f.references, [f.frame_id - 1]);
    assert_eq!(f.chain_fdiffs, [1, 1]);
    assert_eq!(f.resolution, Some((640, 360)));
    // Template id 7 and 4 are outside the structure.
    for id in [4, 7] {
        let bytes = [id, 0x12, 0x36];
        assert_eq!(
            t.read(&bytes).unwrap_err().category(),
            ErrorCategory::Malformed
        );
    }
}

#[test]
fn round_trips_with_every_optional_part() {
    let s = l2t1();
    let mut d = DependencyDescriptor::new(6, 7, false, true);
    d.active_decode_targets = Some(0b10);
    d.custom_dtis = Some(vec![Dti::Required, Dti::Discardable]);
    d.custom_fdiffs = Some(vec![1, 16, 17, 256, 257, 4096]);
    d.custom_chain_fdiffs = Some(vec![0, 255]);
    let bytes = d.to_vec(Some(&s)).unwrap();
    assert_eq!(DependencyDescriptor::parse(&bytes, Some(&s)).unwrap(), d);
    // With its own structure, including one of 32 decode targets and many templates.
    let mut big = DependencyStructure {
        template_id_offset: 63,
        decode_target_count: 32,
        templates: Vec::new(),
        decode_target_protected_by: (0..32).map(|i| i % 7).collect(),
        chain_count: 7,
        resolutions: Some(vec![(65536, 1), (1, 65536), (1920, 1080), (3840, 2160)]),
    };
    for sid in 0..4u8 {
        for tid in 0..8u8 {
            for _ in 0..2 {
                big.templates
                    .push(template(sid, tid, &[Dti::Required; 32], &[1, 16], &[15; 7]));
            }
        }
    }
    assert_eq!(big.templates.len(), MAX_TEMPLATES);
    let mut d = DependencyDescriptor::new(62, 9, true, false);
    d.structure = Some(big.clone());
    d.active_decode_targets = Some(u32::MAX);
    let bytes = d.to_vec(None).unwrap();
    assert_eq!(DependencyDescriptor::parse(&bytes, None).unwrap(), d);
    // A 65th template does not fit.
    big.templates
        .push(template(3, 7, &[Dti::Required; 32], &[], &[0; 7]));
    d.structure = Some(big);
    assert!(d.to_vec(None).is_err());
}

#[test]
fn writer_refuses_what_the_wire_cannot_carry() {
    let s = l1t2();
    let bad = |f: &dyn Fn(&mut DependencyDescriptor)| {
        let mut d = DependencyDescriptor::new(0, 0, true, true);
        f(&mut d);
        let mut out = vec![0xaa];
        assert!(d.write(Some(&s), &mut out).is_err());
        assert_eq!(out, [0xaa], "nothing appended on failure");
    };
    bad(&|d| d.template_id = 3);
    bad(&|d| d.template_id = 64);
    bad(&|d| d.active_decode_targets = Some(0b100));
    bad(&|d| d.custom_dtis = Some(vec![Dti::Switch]));
    bad(&|d| d.custom_fdiffs = Some(vec![0]));
    bad(&|d| d.custom_fdiffs = Some(vec![4097]));
    bad(&|d| d.custom_chain_fdiffs = Some(vec![1]));
    let mut broken = l1t2();
    broken.templates[2].temporal_id = 3; // a jump of two temporal layers
    bad(&|d| d.structure = Some(broken.clone()));
    assert!(
        DependencyDescriptor::new(0, 0, true, true)
            .write(None, &mut Vec::new())
            .is_err()
    );
}

#[test]
fn every_truncation_and_corruption_is_refused_or_parsed_without_panic() {
    for v in [&L1T2_KEY[..], &L2T1_KEY[..]] {
        // Both vectors end with fewer than 8 padding bits: every shorter prefix cuts a field.
        for n in 0..v.len() {
            match DependencyDescriptor::parse(&v[..n], None) {
                Err(e) => assert_eq!(e.category(), ErrorCategory::Malformed, "{n}"),
                Ok(d) => panic!("prefix {n} parsed: {d:?}"),
            }
        }
        // Every single-bit flip: refused as malformed or parsed, and what parsed round-trips.
        for bit in 0..v.len() * 8 {
            let mut b = v.to_vec();
            b[bit / 8] ^= 0x80 >> (bit % 8);
            match DependencyDescriptor::parse(&b, Some(&l1t2())) {
                Err(e) => assert_eq!(e.category(), ErrorCategory::Malformed),
                Ok(d) => {
                    let again = d.to_vec(Some(&l1t2())).unwrap();
                    assert_eq!(
                        DependencyDescriptor::parse(&again, Some(&l1t2())).unwrap(),
                        d
                    );
                }
            }
        }
    }
    // A template list that never ends is cut at 64 templates.
    let mut endless = vec![0x80, 0, 0, 0x80, 0x00];
    endless.extend([0u8; 40]);
    assert!(DependencyDescriptor::parse(&endless, None).is_err());
    // More spatial layers than AV1 has.
    let mut spatial = vec![0x80, 0, 0, 0x80, 0x00, 0x0a, 0xaa, 0xff];
    spatial.extend([0u8; 40]);
    assert!(DependencyDescriptor::parse(&spatial, None).is_err());
}

#[test]
fn tracker_keeps_the_structure_and_active_targets_across_packets() {
    let mut t = DependencyTracker::new();
    // Before any structure: refused, not guessed.
    assert!(t.read(&[0x80, 0x00, 0x02]).is_err());
    let key = t.read(&L1T2_KEY).unwrap();
    assert!(key.new_structure);
    assert_eq!(key.active_decode_targets, 0b11);
    let s = t.structure().unwrap().clone();
    // The same structure again keeps the shared allocation.
    t.read(&L1T2_KEY).unwrap();
    assert!(std::sync::Arc::ptr_eq(&s, t.structure().unwrap()));
    let f = t.read(&ACTIVE_AND_CUSTOM_FDIFF).unwrap();
    assert_eq!(f.active_decode_targets, 0b01);
    // Frame number 0xffff is before 1: the extension goes backwards across the wrap.
    assert_eq!(f.frame_id + 2, key.frame_id);
    assert_eq!(f.references, [f.frame_id - 300]);
    // The active targets persist on packets that do not carry them.
    let f = t.read(&[0x82, 0x00, 0x02]).unwrap();
    assert_eq!(f.active_decode_targets, 0b01);
    assert_eq!(f.dtis, [Dti::NotPresent, Dti::Discardable]);
    assert_eq!(f.temporal_id, 1);
}
