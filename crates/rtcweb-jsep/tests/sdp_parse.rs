//! The typed SDP model on hand-made input: every typed attribute, unknown attributes kept,
//! and bad input giving typed errors that name the line.

// Test helpers outside #[test] functions unwrap too (clippy.toml allows it in tests).
#![allow(clippy::unwrap_used)]

use rtcweb_jsep::sdp::{
    CandidateKind, Direction, MediaKind, RidDirection, SessionDescription, Setup,
};
use rtcweb_jsep::{Error, Limits};

const FULL: &str = "v=0\r\n\
o=- 4611731400430051336 2 IN IP4 127.0.0.1\r\n\
s=-\r\n\
t=0 0\r\n\
a=group:BUNDLE 0 1\r\n\
a=group:LS 0 1\r\n\
a=extmap-allow-mixed\r\n\
a=msid-semantic: WMS stream\r\n\
a=ice-lite\r\n\
a=x-session-thing:value with spaces\r\n\
m=audio 9 UDP/TLS/RTP/SAVPF 111 63 0\r\n\
c=IN IP4 0.0.0.0\r\n\
b=AS:64\r\n\
a=rtcp:9 IN IP4 0.0.0.0\r\n\
a=candidate:1 1 udp 2122260223 127.0.0.1 5000 typ host generation 0 network-id 1\r\n\
a=candidate:2 1 udp 1686052607 203.0.113.5 6000 typ srflx raddr 127.0.0.1 rport 5000\r\n\
a=candidate:3 1 tcp 1518280447 a1b2.local 9 typ host tcptype active\r\n\
a=end-of-candidates\r\n\
a=ice-ufrag:abcd\r\n\
a=ice-pwd:0123456789012345678901\r\n\
a=ice-options:trickle ice2\r\n\
a=fingerprint:sha-256 AB:CD:EF:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99:AA:BB:CC\r\n\
a=fingerprint:sha-1 00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33\r\n\
a=setup:actpass\r\n\
a=mid:0\r\n\
a=extmap:1 urn:ietf:params:rtp-hdrext:ssrc-audio-level\r\n\
a=extmap:2/sendonly urn:ietf:params:rtp-hdrext:sdes:mid\r\n\
a=sendonly\r\n\
a=msid:stream track-a\r\n\
a=rtcp-mux\r\n\
a=rtcp-mux-only\r\n\
a=rtcp-rsize\r\n\
a=fmtp:111 minptime=10;useinbandfec=1\r\n\
a=rtpmap:111 opus/48000/2\r\n\
a=rtcp-fb:111 transport-cc\r\n\
a=rtcp-fb:* nack\r\n\
a=rtpmap:63 red/48000/2\r\n\
a=fmtp:63 111/111\r\n\
a=ssrc-group:FID 11 12\r\n\
a=ssrc:11 cname:abc\r\n\
a=ssrc:11 msid:stream track-a\r\n\
a=ssrc:12 cname:abc\r\n\
a=x-unknown-media\r\n\
m=video 0 UDP/TLS/RTP/SAVPF 96\r\n\
a=mid:1\r\n\
a=bundle-only\r\n\
a=recvonly\r\n\
a=rtpmap:96 VP8/90000\r\n\
a=rid:h send pt=96;max-width=1280\r\n\
a=rid:l send\r\n\
a=simulcast:send h;~l recv x,y\r\n\
m=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\n\
a=mid:2\r\n\
a=sctp-port:5000\r\n\
a=max-message-size:262144\r\n";

#[test]
fn every_typed_attribute() {
    let sd = SessionDescription::parse(FULL).unwrap();
    assert_eq!(sd.origin.session_id, 4611731400430051336);
    assert_eq!(sd.groups.len(), 2);
    assert_eq!(sd.groups[0].mids, ["0", "1"]);
    assert!(sd.extmap_allow_mixed && sd.ice.lite);
    let names: Vec<_> = sd.attributes.iter().map(|a| a.name.as_str()).collect();
    assert_eq!(names, ["msid-semantic", "x-session-thing"]);
    assert_eq!(sd.attributes[1].value.as_deref(), Some("value with spaces"));

    let a = &sd.media[0];
    assert_eq!(a.kind, MediaKind::Audio);
    assert_eq!(a.bandwidth[0].value, 64);
    assert_eq!(a.candidates.len(), 3);
    assert_eq!(
        a.candidates[0].extensions,
        [
            ("generation".into(), "0".into()),
            ("network-id".into(), "1".into())
        ]
    );
    assert_eq!(a.candidates[1].kind, CandidateKind::ServerReflexive);
    assert_eq!(a.candidates[1].related.map(|r| r.port()), Some(5000));
    assert!(a.candidates[2].is_mdns());
    assert!(a.end_of_candidates);
    assert_eq!(a.ice.options, ["trickle", "ice2"]);
    assert_eq!(a.fingerprints.len(), 2);
    assert_eq!(a.fingerprints[0].value().len(), 32);
    assert_eq!(a.setup, Some(Setup::ActPass));
    assert_eq!(a.extmaps[1].direction, Some(Direction::SendOnly));
    assert_eq!(a.direction, Some(Direction::SendOnly));
    assert_eq!(a.msid[0].track_id.as_deref(), Some("track-a"));
    assert!(a.rtcp_mux && a.rtcp_mux_only && a.rtcp_rsize);
    // fmtp before rtpmap (Firefox order) still lands on its codec; static PT 0 is filled in.
    let pts: Vec<_> = a.codecs.iter().map(|c| c.payload_type).collect();
    assert_eq!(pts, [111, 63, 0]);
    assert_eq!(a.codecs[0].fmtp_param("useinbandfec"), Some("1"));
    assert_eq!(a.codecs[0].rtcp_fb, ["transport-cc"]);
    assert_eq!(a.codecs[2].name, "PCMU");
    assert_eq!(a.rtcp_fb_all, ["nack"]);
    assert_eq!(a.ssrc_groups[0].semantics, "FID");
    assert_eq!(a.ssrcs.len(), 3);
    let unknown: Vec<_> = a.attributes.iter().map(|x| x.name.as_str()).collect();
    assert_eq!(unknown, ["rtcp", "x-unknown-media"]);

    let v = &sd.media[1];
    assert!(v.bundle_only && !v.is_rejected());
    assert_eq!(v.rids[0].direction, RidDirection::Send);
    assert_eq!(
        v.rids[0].restrictions.as_deref(),
        Some("pt=96;max-width=1280")
    );
    let sim = v.simulcast.as_ref().unwrap();
    assert!(sim.send[1][0].paused);
    assert_eq!(sim.recv[0].len(), 2);
    assert_eq!(sim.to_string(), "send h;~l recv x,y");

    let d = &sd.media[2];
    assert!(d.is_data());
    assert_eq!(
        (d.sctp_port, d.max_message_size),
        (Some(5000), Some(262144))
    );

    let again = SessionDescription::parse(&sd.to_sdp()).unwrap();
    assert_eq!(again, sd);
}

fn line_of(text: &str) -> usize {
    match SessionDescription::parse(text) {
        Err(Error::SdpSyntax { line, .. }) => line,
        other => panic!("expected a syntax error, got {other:?}"),
    }
}

#[test]
fn errors_name_the_line() {
    let base =
        "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\n";
    assert_eq!(line_of(&format!("{base}a=rtpmap:111 opus\r\n")), 6);
    assert_eq!(
        line_of(&format!("{base}a=mid:0\r\na=fingerprint:sha-256 XYZ\r\n")),
        7
    );
    assert_eq!(
        line_of(&format!(
            "{base}a=candidate:1 1 udp x 1.2.3.4 5 typ host\r\n"
        )),
        6
    );
    assert_eq!(line_of(&format!("{base}a=setup:sideways\r\n")), 6);
    assert_eq!(line_of(&format!("{base}a=extmap:0 urn:x\r\n")), 6);
    assert_eq!(line_of(&format!("{base}a=ssrc:notanumber cname:x\r\n")), 6);
    // A value without an attribute name was accepted and written back as `a=ssrc:1:x`,
    // which does not parse (found by the sdp_parse fuzz target).
    assert_eq!(line_of(&format!("{base}a=ssrc:1 :cname\r\n")), 6);
    assert_eq!(line_of(&format!("{base}a=sctp-port:99999\r\n")), 6);
    assert_eq!(line_of(&format!("{base}a=simulcast:sideways a\r\n")), 6);
    assert_eq!(
        line_of("v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\nm=audio x UDP 0\r\n"),
        5
    );
    assert_eq!(
        line_of("v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nm=audio 9 UDP 0\r\n"),
        4,
        "t= missing"
    );
    assert_eq!(line_of("v=0\r\no=bad\r\n"), 2);
    assert_eq!(line_of("hello"), 1);
    assert_eq!(line_of("v=0\r\n\r\nno equals here\r\n"), 3);
    assert_eq!(
        line_of("v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\na=x\0y\r\n"),
        5
    );
    assert_eq!(line_of(""), 1);
}

/// A fingerprint, a=setup or candidate that does not parse names its line and keeps the
/// shared value's typed error, so a caller can tell an unsupported hash function from a typo.
#[test]
fn shared_values_keep_their_typed_error() {
    let base =
        "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\n";
    let value_of = |line: &str| match SessionDescription::parse(&format!("{base}{line}\r\n")) {
        Err(Error::SdpSyntax {
            line: 6,
            value: Some(v),
            ..
        }) => v,
        other => panic!("{line}: expected a typed error on line 6, got {other:?}"),
    };
    assert_eq!(
        value_of("a=fingerprint:md5 00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF"),
        rtcweb_core::Error::UnsupportedHashFunction("md5".into())
    );
    assert_eq!(
        value_of("a=fingerprint:sha-256 00:11").category(),
        rtcweb_core::ErrorCategory::Malformed
    );
    assert!(matches!(
        value_of("a=setup:sideways"),
        rtcweb_core::Error::MalformedSetup(_)
    ));
    assert_eq!(
        value_of("a=candidate:1 1 sctp 1 192.0.2.1 5000 typ host"),
        rtcweb_core::Error::UnsupportedTransport("sctp".into())
    );
    // At session level too.
    let session = "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\na=fingerprint:md5 00:11\r\n";
    assert!(matches!(
        SessionDescription::parse(session),
        Err(Error::SdpSyntax {
            line: 5,
            value: Some(rtcweb_core::Error::UnsupportedHashFunction(_)),
            ..
        })
    ));
    // The grammar of JSEP's own attributes has no shared value to report.
    assert!(matches!(
        SessionDescription::parse(&format!("{base}a=extmap:0 urn:x\r\n")),
        Err(Error::SdpSyntax { value: None, .. })
    ));
}

#[test]
fn truncated_descriptions_never_panic() {
    for cut in 0..FULL.len() {
        if let Some(prefix) = FULL.get(..cut) {
            let _ = SessionDescription::parse(prefix);
        }
    }
}

#[test]
fn size_and_line_limits() {
    let limits = Limits {
        max_bytes: 100,
        max_lines: 5,
        max_line_bytes: 40,
    };
    let big = "v=0\r\n".repeat(30);
    assert_eq!(
        SessionDescription::parse_with_limits(&big, &limits),
        Err(Error::SdpTooLarge {
            size: big.len(),
            limit: 100
        })
    );
    let many = "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\na=a\r\na=b\r\n";
    assert_eq!(
        SessionDescription::parse_with_limits(many, &limits),
        Err(Error::SdpTooManyLines { limit: 5 })
    );
    let long = format!("v=0\r\ns={}\r\n", "x".repeat(50));
    assert!(matches!(
        SessionDescription::parse_with_limits(
            &long,
            &Limits {
                max_bytes: 1000,
                ..limits
            }
        ),
        Err(Error::SdpSyntax { line: 2, .. })
    ));
    // Default limits reject a megabyte.
    let huge = format!("v=0\r\n{}", "a=x\r\n".repeat(250_000));
    assert!(matches!(
        SessionDescription::parse(&huge),
        Err(Error::SdpTooLarge { .. })
    ));
    assert!(matches!(
        SessionDescription::parse_bytes(b"v=0\r\n\xff\r\n"),
        Err(Error::SdpSyntax { line: 2, .. })
    ));
}

#[test]
fn lf_only_and_unknown_media_kinds() {
    let text =
        "v=0\no=- 1 1 IN IP4 0.0.0.0\ns=-\nt=0 0\nm=text 0 RTP/AVP 98\na=rtpmap:98 t140/1000\n";
    let sd = SessionDescription::parse(text).unwrap();
    assert_eq!(sd.media[0].kind, MediaKind::Other("text".into()));
    assert!(sd.media[0].is_rejected());
    assert_eq!(sd.media[0].codecs[0].name, "t140");
    assert_eq!(SessionDescription::parse(&sd.to_sdp()).unwrap(), sd);
}
