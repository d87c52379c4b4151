//! H.264 by OpenH264 (the `openh264` crate, which compiles Cisco's source): constrained
//! baseline at level 3.1 (what rtcweb answers, profile-level-id 42e01f), one slice per frame,
//! key frames only on request, bitrate rate control with frame skipping.
#![allow(unsafe_code)] // One FFI call: SetOption(ENCODER_OPTION_[MAX_]BITRATE), see set_option.

use openh264::OpenH264API;
use openh264::Timestamp;
use openh264::encoder::{
    BitRate, Encoder, EncoderConfig, FrameRate, FrameType, IntraFramePeriod, Level, Profile,
    RateControlMode, UsageType,
};
use openh264::formats::YUVSlices;
use openh264_sys2::{
    ENCODER_OPTION, ENCODER_OPTION_BITRATE, ENCODER_OPTION_MAX_BITRATE, LAYER_NUM, SBitrateInfo,
    SPATIAL_LAYER_0, SPATIAL_LAYER_ALL,
};

use crate::{EncodedFrame, Error, I420, VideoEncoder};

/// A real-time H.264 encoder.
pub struct H264Encoder {
    encoder: Encoder,
    fps: f32,
    max_bps: u32,
    /// OpenH264 initialises on the first frame; options can be set only after it.
    started: bool,
    keyframe_wanted: bool,
    frames: u64,
}

impl std::fmt::Debug for H264Encoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("H264Encoder")
            .field("fps", &self.fps)
            .field("max_bps", &self.max_bps)
            .field("frames", &self.frames)
            .finish_non_exhaustive()
    }
}

fn codec(call: &'static str, e: impl std::fmt::Display) -> Error {
    Error::Codec {
        library: "openh264",
        call,
        detail: e.to_string(),
    }
}

fn make(fps: f32, bps: u32) -> Result<Encoder, Error> {
    let config = EncoderConfig::new()
        .bitrate(BitRate::from_bps(bps))
        .max_frame_rate(FrameRate::from_hz(fps))
        .rate_control_mode(RateControlMode::Bitrate)
        .skip_frames(true)
        .usage_type(UsageType::CameraVideoRealTime)
        .profile(Profile::Baseline)
        .level(Level::Level_3_1)
        .intra_frame_period(IntraFramePeriod::from_num_frames(0))
        // Key frames only on request: a scene-change IDR is a burst the path did not ask for.
        .scene_change_detect(false)
        // One thread: the machine this runs on also runs the browser it sends to.
        .num_threads(1);
    Encoder::with_api_config(OpenH264API::from_source(), config).map_err(|e| codec("create", e))
}

impl H264Encoder {
    /// An encoder for `fps` frames per second starting at `start_bps`; the target never goes
    /// above `max_bps`.
    pub fn new(fps: u32, start_bps: u32, max_bps: u32) -> Result<Self, Error> {
        let fps = fps.max(1) as f32;
        Ok(Self {
            encoder: make(fps, start_bps.min(max_bps))?,
            fps,
            max_bps,
            started: false,
            keyframe_wanted: false,
            frames: 0,
        })
    }

    fn set_option(
        &mut self,
        option: ENCODER_OPTION,
        layer: LAYER_NUM,
        bps: u32,
    ) -> Result<(), Error> {
        let mut info = SBitrateInfo {
            iLayer: layer,
            iBitrate: i32::try_from(bps).unwrap_or(i32::MAX),
        };
        // SAFETY: the encoder is initialised (`started`: a frame went through it, which is
        // when the `openh264` crate calls InitializeExt); ENCODER_OPTION_BITRATE and
        // ENCODER_OPTION_MAX_BITRATE take a pointer to an SBitrateInfo, which `info` is, alive
        // for the whole call; OpenH264 copies the values and keeps no pointer. Neither option
        // is one the crate relies on (it re-sends all parameters only on a size change).
        let rc = unsafe {
            self.encoder
                .raw_api()
                .set_option(option, (&raw mut info).cast())
        };
        if rc != 0 {
            return Err(codec("SetOption(bitrate)", format!("code {rc}")));
        }
        Ok(())
    }
}

impl VideoEncoder for H264Encoder {
    fn encode(&mut self, picture: &I420) -> Result<Option<EncodedFrame>, Error> {
        let (w, h) = (picture.width(), picture.height());
        let source = YUVSlices::new(
            (picture.y(), picture.u(), picture.v()),
            (w, h),
            (w, w / 2, w / 2),
        );
        if self.keyframe_wanted && self.started {
            self.encoder.force_intra_frame();
        }
        self.keyframe_wanted = false;
        let at = Timestamp::from_millis((self.frames as f64 * 1000.0 / self.fps as f64) as u64);
        self.frames += 1;
        let (kind, data) = {
            let stream = self
                .encoder
                .encode_at(&source, at)
                .map_err(|e| codec("EncodeFrame", e))?;
            (stream.frame_type(), stream.to_vec())
        };
        if !self.started {
            self.started = true;
            self.set_option(ENCODER_OPTION_MAX_BITRATE, SPATIAL_LAYER_0, self.max_bps)?;
        }
        Ok(match kind {
            FrameType::IDR | FrameType::I => Some(EncodedFrame {
                data,
                keyframe: true,
            }),
            FrameType::P | FrameType::IPMixed if !data.is_empty() => Some(EncodedFrame {
                data,
                keyframe: false,
            }),
            _ => None,
        })
    }

    fn set_bitrate(&mut self, bps: u32) -> Result<(), Error> {
        let bps = bps.clamp(1, self.max_bps);
        if self.started {
            self.set_option(ENCODER_OPTION_BITRATE, SPATIAL_LAYER_ALL, bps)
        } else {
            // Not initialised yet: start over with the new target, nothing is lost.
            self.encoder = make(self.fps, bps)?;
            Ok(())
        }
    }

    fn request_keyframe(&mut self) {
        self.keyframe_wanted = true;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Pattern;

    /// Counts the bytes the encoder makes over `frames` frames at `bps`.
    fn bytes_at(encoder: &mut H264Encoder, pattern: &mut Pattern, frames: usize) -> usize {
        (0..frames)
            .filter_map(|_| encoder.encode(pattern.next_frame()).unwrap())
            .map(|f| f.data.len())
            .sum()
    }

    #[test]
    fn follows_the_target_and_makes_key_frames_on_request() {
        let mut pattern = Pattern::new(320, 240).unwrap();
        let mut enc = H264Encoder::new(30, 300_000, 2_000_000).unwrap();
        let first = enc.encode(pattern.next_frame()).unwrap().unwrap();
        assert!(first.keyframe);
        // Annex B with SPS (type 7) first.
        assert_eq!(&first.data[..4], &[0, 0, 0, 1]);
        assert_eq!(first.data[4] & 0x1f, 7);
        bytes_at(&mut enc, &mut pattern, 30);
        let low = bytes_at(&mut enc, &mut pattern, 60);
        enc.set_bitrate(1_200_000).unwrap();
        bytes_at(&mut enc, &mut pattern, 30);
        let high = bytes_at(&mut enc, &mut pattern, 60);
        // Two seconds each: about 600 kbit at 300 kbit/s, 2.4 Mbit at 1.2 Mbit/s.
        assert!(
            high > 2 * low,
            "{low} bytes at 300 kbit/s, {high} at 1.2 Mbit/s"
        );
        enc.request_keyframe();
        let next = enc.encode(pattern.next_frame()).unwrap().unwrap();
        assert!(next.keyframe);
        assert!(!enc.encode(pattern.next_frame()).unwrap().unwrap().keyframe);
    }
}
