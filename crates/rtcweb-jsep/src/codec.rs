//! Codec and header-extension negotiation (RFC 8829 section 5.3.1, RFC 3264 section 6.1).
//!
//! The answer lists the codecs both sides support, in the answerer's preference order, under
//! the offerer's payload types. Format parameters decide whether two codecs of the same name
//! are the same format (H264 profile and packetization-mode, VP9/AV1 profile). RTX, RED and
//! ULPFEC follow the codecs they protect.

use crate::sdp::{Codec, ExtMap, fmtp_params};

/// H264 profiles that decide compatibility (RFC 6184 section 8.1, profile-level-id).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum H264Profile {
    ConstrainedBaseline,
    Baseline,
    Main,
    ConstrainedHigh,
    High,
    Other(u8, u8),
}

fn h264_profile(codec: &Codec) -> Option<H264Profile> {
    // RFC 6184: when absent, profile-level-id is 420010 (Baseline, level 1.0).
    let id = codec.fmtp_param("profile-level-id").unwrap_or("420010");
    if id.len() != 6 || !id.is_ascii() {
        return None;
    }
    let idc = u8::from_str_radix(id.get(0..2)?, 16).ok()?;
    let iop = u8::from_str_radix(id.get(2..4)?, 16).ok()?;
    u8::from_str_radix(id.get(4..6)?, 16).ok()?;
    let set0 = iop & 0x80 != 0;
    let set1 = iop & 0x40 != 0;
    Some(match idc {
        0x42 if set1 => H264Profile::ConstrainedBaseline,
        0x42 => H264Profile::Baseline,
        0x4d if set0 => H264Profile::ConstrainedBaseline,
        0x4d => H264Profile::Main,
        0x58 if set0 && set1 => H264Profile::ConstrainedBaseline,
        0x64 if iop & 0x0c == 0x0c => H264Profile::ConstrainedHigh,
        0x64 => H264Profile::High,
        _ => H264Profile::Other(idc, iop),
    })
}

fn param_or<'a>(codec: &'a Codec, key: &str, default: &'a str) -> &'a str {
    codec.fmtp_param(key).unwrap_or(default)
}

/// Whether `a` and `b` are the same media format: encoding name (case-insensitive), clock
/// rate, channels (absent = 1) and the format parameters that change the bitstream.
pub fn codecs_match(a: &Codec, b: &Codec) -> bool {
    if !a.name.eq_ignore_ascii_case(&b.name) || a.clock_rate != b.clock_rate {
        return false;
    }
    if a.channels.unwrap_or(1) != b.channels.unwrap_or(1) {
        return false;
    }
    match a.name.to_ascii_uppercase().as_str() {
        "H264" => {
            param_or(a, "packetization-mode", "0") == param_or(b, "packetization-mode", "0")
                && h264_profile(a).is_some()
                && h264_profile(a) == h264_profile(b)
        }
        "VP9" => param_or(a, "profile-id", "0") == param_or(b, "profile-id", "0"),
        "AV1" => param_or(a, "profile", "0") == param_or(b, "profile", "0"),
        "H265" => param_or(a, "profile-id", "1") == param_or(b, "profile-id", "1"),
        _ => true,
    }
}

/// The `apt` of an RTX codec.
pub fn rtx_apt(codec: &Codec) -> Option<u8> {
    codec.fmtp_param("apt")?.parse().ok()
}

/// The payload types a RED codec's fmtp lists (`111/111`).
fn red_pts(codec: &Codec) -> Vec<u8> {
    let Some(f) = codec.fmtp.as_deref() else {
        return Vec::new();
    };
    f.split('/').filter_map(|p| p.trim().parse().ok()).collect()
}

fn is(codec: &Codec, name: &str) -> bool {
    codec.name.eq_ignore_ascii_case(name)
}

fn intersect_fb(local: &[String], remote: &[String]) -> Vec<String> {
    local
        .iter()
        .filter(|f| remote.contains(f))
        .cloned()
        .collect()
}

/// Builds the answer's codec list for one m= section.
///
/// `local` is the answerer's list in preference order, `offered` the offer's codecs. The
/// result uses the offer's payload types, the answerer's order and fmtp, and the feedback
/// types both list. RTX is kept only for kept codecs (apt rewritten to the offer's payload
/// type), RED only when what it carries is kept (and first when the answerer lists it
/// first: then browsers send RED), ULPFEC only with RED.
pub fn negotiate(local: &[Codec], offered: &[Codec]) -> Vec<Codec> {
    let mut out: Vec<Codec> = Vec::new();
    // (offer pt, our pt) of each kept codec: RTX is kept only where we have RTX for it too.
    let mut kept: Vec<(u8, u8)> = Vec::new();
    // Media codecs first, in our order.
    for l in local.iter().filter(|c| !c.is_resilience()) {
        let Some(r) = offered
            .iter()
            .find(|r| !r.is_resilience() && codecs_match(l, r))
        else {
            continue;
        };
        if out.iter().any(|c| c.payload_type == r.payload_type) {
            continue;
        }
        kept.push((r.payload_type, l.payload_type));
        out.push(Codec {
            payload_type: r.payload_type,
            name: r.name.clone(),
            clock_rate: r.clock_rate,
            channels: r.channels,
            fmtp: l.fmtp.clone(),
            rtcp_fb: intersect_fb(&l.rtcp_fb, &r.rtcp_fb),
        });
    }
    let media_pts: Vec<u8> = out.iter().map(|c| c.payload_type).collect();
    let mut extra: Vec<Codec> = Vec::new();
    // RED: carried formats must all be negotiated.
    if let Some(l) = local.iter().find(|c| is(c, "red")) {
        for r in offered
            .iter()
            .filter(|r| is(r, "red") && r.clock_rate == l.clock_rate)
        {
            let carried = red_pts(r);
            if carried.iter().all(|pt| media_pts.contains(pt)) {
                kept.push((r.payload_type, l.payload_type));
                extra.push(Codec {
                    fmtp: r.fmtp.clone(),
                    rtcp_fb: Vec::new(),
                    ..r.clone()
                });
                break;
            }
        }
    }
    // ULPFEC only travels inside RED.
    let has_red = extra.iter().any(|c| is(c, "red"));
    if has_red
        && local.iter().any(|c| is(c, "ulpfec"))
        && let Some(r) = offered.iter().find(|r| is(r, "ulpfec"))
    {
        extra.push(Codec {
            rtcp_fb: Vec::new(),
            ..r.clone()
        });
    }
    // RTX for every kept codec (including RED) that both sides protect with RTX.
    let local_rtx_for = |our_pt: u8| {
        local
            .iter()
            .any(|c| is(c, "rtx") && rtx_apt(c) == Some(our_pt))
    };
    for r in offered.iter().filter(|r| is(r, "rtx")) {
        let ours = rtx_apt(r)
            .and_then(|apt| kept.iter().find(|(o, _)| *o == apt))
            .map(|(_, l)| *l);
        if ours.is_some_and(local_rtx_for) {
            extra.push(Codec {
                rtcp_fb: Vec::new(),
                ..r.clone()
            });
        }
    }
    // RED goes first when our list puts it before what it carries: browsers send RED
    // (rather than plain Opus) when it comes first in the list they send with.
    let red_first = local
        .iter()
        .position(|c| is(c, "red") && !red_pts(c).is_empty())
        .is_some_and(|r| {
            local
                .iter()
                .position(|c| !c.is_resilience())
                .is_some_and(|m| r < m)
        });
    // Keep each RTX right after the codec it protects, as browsers write them.
    for c in extra {
        let after = if is(&c, "rtx") {
            rtx_apt(&c).and_then(|apt| out.iter().position(|o| o.payload_type == apt))
        } else {
            None
        };
        match after {
            Some(i) => out.insert(i + 1, c),
            None if red_first && is(&c, "red") && !red_pts(&c).is_empty() => out.insert(0, c),
            None => out.push(c),
        }
    }
    out
}

/// Drops what cannot work in a codec list another implementation wrote (an answer we got):
/// RTX whose apt is missing, RED carrying missing formats, ULPFEC without RED.
pub fn make_consistent(codecs: Vec<Codec>) -> Vec<Codec> {
    let media: Vec<u8> = codecs
        .iter()
        .filter(|c| !c.is_resilience())
        .map(|c| c.payload_type)
        .collect();
    let red_ok = |c: &Codec| red_pts(c).iter().all(|pt| media.contains(pt));
    let kept: Vec<Codec> = codecs
        .iter()
        .filter(|c| !is(c, "red") || red_ok(c))
        .cloned()
        .collect();
    let has_red = kept.iter().any(|c| is(c, "red"));
    let kept: Vec<Codec> = kept
        .into_iter()
        .filter(|c| !is(c, "ulpfec") || has_red)
        .collect();
    let pts: Vec<u8> = kept.iter().map(|c| c.payload_type).collect();
    kept.into_iter()
        .filter(|c| !is(c, "rtx") || rtx_apt(c).is_some_and(|apt| pts.contains(&apt)))
        .collect()
}

/// Header extensions for the answer: the offer's ids and order, kept when we support the URI.
pub fn negotiate_extmaps(local_uris: &[String], offered: &[ExtMap]) -> Vec<ExtMap> {
    offered
        .iter()
        .filter(|e| local_uris.contains(&e.uri))
        .map(|e| ExtMap {
            id: e.id,
            direction: None,
            uri: e.uri.clone(),
            attributes: None,
        })
        .collect()
}

/// Checks that every `a=fmtp` parameter list is well formed (used in tests).
pub fn fmtp_is_well_formed(codec: &Codec) -> bool {
    codec
        .fmtp
        .as_deref()
        .is_none_or(|f| fmtp_params(f).all(|(k, _)| !k.is_empty()))
}
