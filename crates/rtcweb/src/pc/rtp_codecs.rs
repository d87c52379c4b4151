//! The codecs of [`MediaMode::Session`](crate::MediaMode): what we offer and answer with
//! (those the RTP session packetizes), and the session's view of a negotiated section's
//! codecs.

use rtcweb_jsep::sdp::Codec as SdpCodec;
use rtcweb_rtp::codec::Codec;
use rtcweb_rtp::session::CodecConfig;

use super::media_resilience;
use crate::config::MediaConfig;

/// The codecs the session packetizes, with RTX, as the offer/answer defaults in session
/// mode: what a browser negotiates minus G.711, which it cannot carry, with RED and ULPFEC
/// as [`MediaConfig::resilience`] says.
pub(crate) fn session_codecs(config: &MediaConfig) -> (Vec<SdpCodec>, Vec<SdpCodec>) {
    let mut audio: Vec<SdpCodec> = rtcweb_jsep::default_audio_codecs()
        .into_iter()
        .filter(|c| c.name.eq_ignore_ascii_case("opus"))
        .collect();
    let fb = ["transport-cc", "ccm fir", "nack", "nack pli"];
    let mut video: Vec<SdpCodec> = rtcweb_jsep::default_video_codecs()
        .into_iter()
        .filter(|c| {
            let resilience = ["red", "ulpfec"]
                .iter()
                .any(|n| c.name.eq_ignore_ascii_case(n));
            // RTX of RED goes with RED.
            let red_rtx =
                c.name.eq_ignore_ascii_case("rtx") && c.fmtp.as_deref() == Some("apt=114");
            !resilience && !red_rtx
        })
        .collect();
    video.push(SdpCodec::new(45, "AV1", 90000, None).with_rtcp_fb(&fb));
    video.push(SdpCodec::new(46, "rtx", 90000, None).with_fmtp("apt=45"));
    media_resilience::add_codecs(&config.resilience, &mut audio, &mut video);
    (audio, video)
}

/// The session's view of a section's codecs: those it packetizes, with their RTX payload
/// types; whether NACK was negotiated for them.
pub(super) fn codec_configs(codecs: &[SdpCodec]) -> (Vec<CodecConfig>, Vec<u8>, bool) {
    let is_rtx = |c: &SdpCodec| c.name.eq_ignore_ascii_case("rtx");
    let mut out = Vec::new();
    let mut rtx_pts = Vec::new();
    for c in codecs {
        if is_rtx(c) {
            continue;
        }
        let Some(codec) = Codec::from_name(&c.name) else {
            continue;
        };
        // H.264 packetization mode 0 cannot take the FU-A fragments we write.
        if codec == Codec::H264 && c.fmtp_param("packetization-mode") != Some("1") {
            continue;
        }
        let rtx = codecs
            .iter()
            .find(|r| is_rtx(r) && rtcweb_jsep::codec::rtx_apt(r) == Some(c.payload_type))
            .map(|r| r.payload_type);
        rtx_pts.extend(rtx);
        out.push(CodecConfig {
            payload_type: c.payload_type,
            codec,
            rtx_payload_type: rtx,
        });
    }
    let nack = codecs
        .iter()
        .any(|c| !is_rtx(c) && c.rtcp_fb.iter().any(|f| f == "nack"));
    (out, rtx_pts, nack)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn session_codecs_are_the_ones_it_packetizes() {
        let (audio, video) = session_codecs(&MediaConfig::default());
        let (a, _, _) = codec_configs(&audio);
        // RED first (browsers send RED when it leads), then Opus.
        assert_eq!(audio[0].name, "red");
        assert_eq!(a.len(), audio.len() - 1, "{audio:?}");
        let (v, rtx, nack) = codec_configs(&video);
        assert!(nack);
        assert_eq!(v.len(), 4);
        // RTX of the four codecs and of RED; RED and ULPFEC with Chromium's numbers.
        assert_eq!(rtx.len(), 4);
        let names: Vec<_> = video[video.len() - 3..]
            .iter()
            .map(|c| (c.payload_type, c.name.as_str()))
            .collect();
        assert_eq!(names, [(118, "red"), (119, "rtx"), (120, "ulpfec")]);
        assert!(v.iter().all(|c| c.rtx_payload_type.is_some()));
        assert!(v.iter().any(|c| c.codec == Codec::Av1));
    }
}
