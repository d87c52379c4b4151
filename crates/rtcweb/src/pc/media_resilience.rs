//! RED, FEC and playout for the RTP session of [`super::rtp_session`]: the codecs we offer
//! for them, the payload types a negotiated section gives them, the settings each stream
//! gets, and which received streams play in sync.
//!
//! - Audio: `red/48000/2` carrying Opus (`a=fmtp:63 111/111`), listed before Opus so that
//!   browsers send RED (they do when it comes first); we send RED when
//!   [`Resilience::red_distance`] is above 0 and the peer accepted it.
//! - Video: `red/90000`, its RTX and `ulpfec/90000` with Chromium's payload types; when
//!   negotiated, our video goes in RED with ULPFEC, and what arrives in RED is taken apart.

use rtcweb_jsep::NegotiatedMedia;
use rtcweb_jsep::sdp::{Codec as SdpCodec, MediaKind};
use rtcweb_rtp::session::{FecKind, FecSendConfig, ReceiveResilience, RedConfig, SendResilience};

use crate::config::{MediaConfig, Resilience};

/// Chromium's payload types for RED, its RTX and ULPFEC in video.
const VIDEO_RED: u8 = 118;
const VIDEO_RED_RTX: u8 = 119;
const ULPFEC: u8 = 120;
/// RED for Opus, as browsers number it.
const AUDIO_RED: u8 = 63;

/// The resilience codecs we offer: RED before the audio list (which carries Opus at
/// `opus_pt`), and RED, its RTX and ULPFEC after the video list.
pub(crate) fn add_codecs(r: &Resilience, audio: &mut Vec<SdpCodec>, video: &mut Vec<SdpCodec>) {
    if r.red_distance.is_some()
        && let Some(opus) = audio.iter().find(|c| c.name.eq_ignore_ascii_case("opus"))
    {
        let pt = opus.payload_type;
        let red = SdpCodec::new(AUDIO_RED, "red", 48000, Some(2)).with_fmtp(&format!("{pt}/{pt}"));
        audio.insert(0, red);
    }
    if r.ulpfec {
        video.push(SdpCodec::new(VIDEO_RED, "red", 90000, None));
        video.push(
            SdpCodec::new(VIDEO_RED_RTX, "rtx", 90000, None).with_fmtp(&format!("apt={VIDEO_RED}")),
        );
        video.push(SdpCodec::new(ULPFEC, "ulpfec", 90000, None));
    }
    if !r.nack {
        for c in video.iter_mut() {
            c.rtcp_fb.retain(|f| f != "nack");
        }
    }
}

/// The payload types a negotiated section gives RED and FEC.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct SectionResilience {
    red: Option<u8>,
    /// The payload type RED carries (from its fmtp), for audio.
    carried: Option<u8>,
    red_rtx: Option<u8>,
    ulpfec: Option<u8>,
}

impl SectionResilience {
    pub(crate) fn of(codecs: &[SdpCodec]) -> Self {
        let is = |c: &SdpCodec, n: &str| c.name.eq_ignore_ascii_case(n);
        let red = codecs.iter().find(|c| is(c, "red"));
        let red_pt = red.map(|c| c.payload_type);
        Self {
            red: red_pt,
            carried: red
                .and_then(|c| c.fmtp.as_deref())
                .and_then(|f| f.split('/').next())
                .and_then(|p| p.trim().parse().ok()),
            red_rtx: codecs
                .iter()
                .find(|c| {
                    is(c, "rtx") && red_pt.is_some() && rtcweb_jsep::codec::rtx_apt(c) == red_pt
                })
                .map(|c| c.payload_type),
            ulpfec: codecs
                .iter()
                .find(|c| is(c, "ulpfec"))
                .map(|c| c.payload_type),
        }
    }

    /// What we send with: RED for audio (distance above 0), ULPFEC for video.
    pub(crate) fn send(
        &self,
        kind: &MediaKind,
        nack: bool,
        config: &MediaConfig,
    ) -> SendResilience {
        let r = &config.resilience;
        let mut out = SendResilience::default();
        match kind {
            MediaKind::Audio => {
                if let (Some(red), Some(carried), Some(distance)) =
                    (self.red, self.carried, r.red_distance.filter(|d| *d > 0))
                {
                    out.red = Some(RedConfig {
                        payload_type: red,
                        carried,
                        distance,
                    });
                }
            }
            _ => {
                if let (Some(red), Some(ulpfec), true) = (self.red, self.ulpfec, r.ulpfec) {
                    out.fec = Some(FecSendConfig {
                        kind: FecKind::Ulpfec {
                            red_payload_type: red,
                            ulpfec_payload_type: ulpfec,
                            red_rtx_payload_type: self.red_rtx,
                        },
                        protection: r.protection,
                        nack,
                    });
                }
            }
        }
        out
    }

    /// What we take apart when it arrives (whatever we send).
    pub(crate) fn receive(&self) -> Option<ReceiveResilience> {
        self.red.map(|red| ReceiveResilience {
            red_payload_type: Some(red),
            red_rtx_payload_type: self.red_rtx,
            ulpfec_payload_type: self.ulpfec,
            ..ReceiveResilience::default()
        })
    }
}

/// The sync group of the peer's stream `ssrc` in section `m`: its CNAME (`a=ssrc:<ssrc>
/// cname:`), or else the section's first MediaStream id: the audio and video of one source
/// share it.
pub(crate) fn sync_group(m: &NegotiatedMedia, ssrc: Option<u32>) -> Option<u64> {
    let cname = m
        .remote_ssrcs
        .iter()
        .find(|a| Some(a.ssrc) == ssrc && a.attribute == "cname")
        .and_then(|a| a.value.as_deref());
    let key = cname.or_else(|| m.remote_msid.first().map(|x| x.stream_id.as_str()))?;
    // FNV-1a: a stable number for a name.
    Some(key.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    }))
}
