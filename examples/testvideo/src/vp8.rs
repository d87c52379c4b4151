//! VP8 by libvpx (Debian's `libvpx-dev`, through the `env-libvpx-sys` bindings): one-pass
//! CBR with no look-ahead, the real-time deadline, error-resilient mode, key frames only on
//! request, and the rate control settings real-time senders use (quantizer 2..56, a small
//! overshoot allowance, frame dropping when far over budget).
#![allow(unsafe_code)] // The libvpx C API; each block says why it is sound.

use std::mem::MaybeUninit;
use std::os::raw::{c_int, c_uint, c_ulong};

use vpx_sys::{
    VPX_DL_REALTIME, VPX_EFLAG_FORCE_KF, VPX_ENCODER_ABI_VERSION, VPX_ERROR_RESILIENT_DEFAULT,
    VPX_FRAME_IS_KEY, vp8e_enc_control_id, vpx_codec_control_, vpx_codec_ctx_t, vpx_codec_destroy,
    vpx_codec_enc_cfg_t, vpx_codec_enc_config_default, vpx_codec_enc_config_set,
    vpx_codec_enc_init_ver, vpx_codec_encode, vpx_codec_err_t, vpx_codec_get_cx_data,
    vpx_codec_iter_t, vpx_codec_vp8_cx, vpx_enc_frame_flags_t, vpx_image_t, vpx_img_fmt,
    vpx_img_wrap, vpx_kf_mode, vpx_rc_mode,
};

use crate::{EncodedFrame, Error, I420, VideoEncoder};

/// A real-time VP8 encoder.
pub struct Vp8Encoder {
    /// Boxed: libvpx is handed its address on every call; it never moves.
    ctx: Box<vpx_codec_ctx_t>,
    cfg: Box<vpx_codec_enc_cfg_t>,
    width: usize,
    height: usize,
    max_kbps: u32,
    /// Frames encoded: the presentation time in 1/fps units.
    pts: i64,
    keyframe_wanted: bool,
}

impl std::fmt::Debug for Vp8Encoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Vp8Encoder")
            .field("width", &self.width)
            .field("height", &self.height)
            .field("target_kbps", &self.cfg.rc_target_bitrate)
            .finish_non_exhaustive()
    }
}

fn check(call: &'static str, rc: vpx_codec_err_t) -> Result<(), Error> {
    if rc == vpx_codec_err_t::VPX_CODEC_OK {
        Ok(())
    } else {
        Err(Error::Codec {
            library: "libvpx",
            call,
            detail: format!("{rc:?}"),
        })
    }
}

fn kbps(bps: u32) -> c_uint {
    bps.div_ceil(1000).max(1)
}

impl Vp8Encoder {
    /// An encoder for `width` x `height` pictures at `fps` frames per second, starting at
    /// `start_bps`; the target never goes above `max_bps`.
    pub fn new(
        width: usize,
        height: usize,
        fps: u32,
        start_bps: u32,
        max_bps: u32,
    ) -> Result<Self, Error> {
        // Checked here so that every picture `encode` wraps has this exact size.
        let probe = I420::new(width, height)?;
        let fps = fps.max(1);
        // SAFETY: a plain getter of a static interface table.
        let iface = unsafe { vpx_codec_vp8_cx() };
        if iface.is_null() {
            return Err(Error::Codec {
                library: "libvpx",
                call: "vpx_codec_vp8_cx",
                detail: "no VP8 encoder in this libvpx".into(),
            });
        }
        let mut cfg = MaybeUninit::<vpx_codec_enc_cfg_t>::uninit();
        // SAFETY: `iface` is valid; config_default writes the whole struct (a copy of the
        // interface's default) when it returns OK, and only then is it read.
        let mut cfg = unsafe {
            check(
                "vpx_codec_enc_config_default",
                vpx_codec_enc_config_default(iface, cfg.as_mut_ptr(), 0),
            )?;
            Box::new(cfg.assume_init())
        };
        cfg.g_w = probe.width() as c_uint;
        cfg.g_h = probe.height() as c_uint;
        cfg.g_timebase.num = 1;
        cfg.g_timebase.den = fps as c_int;
        cfg.g_threads = 1;
        cfg.g_lag_in_frames = 0;
        cfg.g_error_resilient = VPX_ERROR_RESILIENT_DEFAULT;
        cfg.rc_end_usage = vpx_rc_mode::VPX_CBR;
        cfg.rc_target_bitrate = kbps(start_bps.min(max_bps));
        cfg.rc_min_quantizer = 2;
        cfg.rc_max_quantizer = 56;
        cfg.rc_undershoot_pct = 100;
        cfg.rc_overshoot_pct = 15;
        cfg.rc_buf_initial_sz = 500;
        cfg.rc_buf_optimal_sz = 600;
        cfg.rc_buf_sz = 1000;
        cfg.rc_dropframe_thresh = 30;
        cfg.rc_resize_allowed = 0;
        cfg.kf_mode = vpx_kf_mode::VPX_KF_DISABLED;
        // SAFETY: all-zero is a valid vpx_codec_ctx_t (null pointers, VPX_CODEC_OK, no
        // flags); enc_init_ver fills it in from `iface` and `cfg`, both valid for the call.
        let mut ctx: Box<vpx_codec_ctx_t> =
            Box::new(unsafe { MaybeUninit::zeroed().assume_init() });
        // SAFETY: as above; the ABI version is the one these bindings were generated for.
        check("vpx_codec_enc_init_ver", unsafe {
            vpx_codec_enc_init_ver(&mut *ctx, iface, &*cfg, 0, VPX_ENCODER_ABI_VERSION as c_int)
        })?;
        let mut encoder = Self {
            ctx,
            cfg,
            width,
            height,
            max_kbps: kbps(max_bps),
            pts: 0,
            keyframe_wanted: false,
        };
        // Real-time speed; static blocks skipped; key frames capped at 9 frames' budget
        // (the buffer's optimal level times half the frame rate, in percent of one frame).
        let max_intra_pct = 600 / 2 * fps / 10;
        for (id, value) in [
            (vp8e_enc_control_id::VP8E_SET_CPUUSED, -6),
            (vp8e_enc_control_id::VP8E_SET_NOISE_SENSITIVITY, 0),
            (vp8e_enc_control_id::VP8E_SET_STATIC_THRESHOLD, 1),
            (
                vp8e_enc_control_id::VP8E_SET_MAX_INTRA_BITRATE_PCT,
                max_intra_pct as c_int,
            ),
        ] {
            // SAFETY: the context is initialised; each of these controls takes one int
            // (libvpx reads it with va_arg(args, int)).
            check("vpx_codec_control", unsafe {
                vpx_codec_control_(&mut *encoder.ctx, id as c_int, value)
            })?;
        }
        Ok(encoder)
    }
}

impl VideoEncoder for Vp8Encoder {
    fn encode(&mut self, picture: &I420) -> Result<Option<EncodedFrame>, Error> {
        if (picture.width(), picture.height()) != (self.width, self.height) {
            return Err(Error::Size {
                width: picture.width(),
                height: picture.height(),
                why: "not the size this encoder was made for",
            });
        }
        let mut image = MaybeUninit::<vpx_image_t>::uninit();
        // SAFETY: vpx_img_wrap zeroes and fills the image descriptor and points it at
        // `picture`'s planes, which are an I420 picture of exactly width x height (checked
        // above; I420 guarantees the plane sizes) and outlive the encode call below. libvpx
        // only reads an input picture, so the cast to a mutable pointer is not used to
        // write.
        let wrapped = unsafe {
            vpx_img_wrap(
                image.as_mut_ptr(),
                vpx_img_fmt::VPX_IMG_FMT_I420,
                self.width as c_uint,
                self.height as c_uint,
                1,
                picture.data().as_ptr().cast_mut(),
            )
        };
        if wrapped.is_null() {
            return Err(Error::Codec {
                library: "libvpx",
                call: "vpx_img_wrap",
                detail: "refused the picture".into(),
            });
        }
        let flags: vpx_enc_frame_flags_t = if self.keyframe_wanted {
            VPX_EFLAG_FORCE_KF as vpx_enc_frame_flags_t
        } else {
            0
        };
        self.keyframe_wanted = false;
        // SAFETY: the context is initialised and `wrapped` describes a live picture.
        check("vpx_codec_encode", unsafe {
            vpx_codec_encode(
                &mut *self.ctx,
                wrapped,
                self.pts,
                1,
                flags,
                VPX_DL_REALTIME as c_ulong,
            )
        })?;
        self.pts += 1;
        let mut out: Option<EncodedFrame> = None;
        let mut iter: vpx_codec_iter_t = std::ptr::null();
        loop {
            // SAFETY: the context is initialised; `iter` starts null and is only passed back.
            let pkt = unsafe { vpx_codec_get_cx_data(&mut *self.ctx, &mut iter) };
            if pkt.is_null() {
                break;
            }
            // SAFETY: a non-null packet is valid until the next call on the context. Its
            // `kind` (the first field, a C enum of unsigned int size) is read as a u32, not as
            // the Rust enum, so a kind these bindings do not list is not undefined behaviour.
            // For a frame packet (kind 0) the `frame` member of the union is the active one,
            // and `buf` holds `sz` bytes, copied out before the next call.
            unsafe {
                let kind = pkt.cast::<u32>().read();
                if kind != 0 {
                    continue;
                }
                let f = (*pkt).data.frame;
                let Ok(len) = usize::try_from(f.sz) else {
                    continue;
                };
                if f.buf.is_null() || len == 0 {
                    continue;
                }
                let bytes = std::slice::from_raw_parts(f.buf.cast::<u8>(), len);
                let keyframe = f.flags & VPX_FRAME_IS_KEY != 0;
                match out.as_mut() {
                    // One frame in, one frame out; a second packet would be a partition of
                    // the same frame (not enabled here), appended to be safe.
                    Some(o) => o.data.extend_from_slice(bytes),
                    None => {
                        out = Some(EncodedFrame {
                            data: bytes.to_vec(),
                            keyframe,
                        })
                    }
                }
            }
        }
        Ok(out)
    }

    fn set_bitrate(&mut self, bps: u32) -> Result<(), Error> {
        self.cfg.rc_target_bitrate = kbps(bps).min(self.max_kbps);
        // SAFETY: the context is initialised; libvpx copies the configuration.
        check("vpx_codec_enc_config_set", unsafe {
            vpx_codec_enc_config_set(&mut *self.ctx, &*self.cfg)
        })
    }

    fn request_keyframe(&mut self) {
        self.keyframe_wanted = true;
    }
}

impl Drop for Vp8Encoder {
    fn drop(&mut self) {
        // SAFETY: the context was initialised in `new` and is destroyed once, here.
        let _ = unsafe { vpx_codec_destroy(&mut *self.ctx) };
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Pattern;

    fn bytes_at(encoder: &mut Vp8Encoder, pattern: &mut Pattern, frames: usize) -> usize {
        (0..frames)
            .filter_map(|_| encoder.encode(pattern.next_frame()).unwrap())
            .map(|f| f.data.len())
            .sum()
    }

    #[test]
    fn follows_the_target_and_makes_key_frames_on_request() {
        let mut pattern = Pattern::new(320, 240).unwrap();
        let mut enc = Vp8Encoder::new(320, 240, 30, 300_000, 2_000_000).unwrap();
        let first = enc.encode(pattern.next_frame()).unwrap().unwrap();
        assert!(first.keyframe);
        // RFC 6386 9.1: a key frame's start code, then the size.
        assert_eq!(&first.data[3..6], &[0x9d, 0x01, 0x2a]);
        bytes_at(&mut enc, &mut pattern, 30);
        let low = bytes_at(&mut enc, &mut pattern, 60);
        enc.set_bitrate(1_200_000).unwrap();
        bytes_at(&mut enc, &mut pattern, 30);
        let high = bytes_at(&mut enc, &mut pattern, 60);
        assert!(
            high > 2 * low,
            "{low} bytes at 300 kbit/s, {high} at 1.2 Mbit/s"
        );
        enc.request_keyframe();
        assert!(enc.encode(pattern.next_frame()).unwrap().unwrap().keyframe);
        assert!(
            !enc.encode(pattern.next_frame())
                .unwrap()
                .is_some_and(|f| f.keyframe)
        );
        assert!(enc.encode(&I420::new(640, 480).unwrap()).is_err());
    }
}
