//! `--send-test-pattern`: a moving test pattern encoded live on a thread of its own (an
//! encoder takes milliseconds a frame; the connection's tasks must not wait for it), whose
//! target bitrate follows the bandwidth estimate, whose picture size steps down and up with
//! it (320x240, 480x360, 640x480, as browsers scale their cameras), and which makes a key
//! frame when the receiver asks for one. Pictures are skipped while the encoder is over its
//! target (dropper.rs).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use clap::ValueEnum;
use rtcweb_testvideo::{Pattern, VideoEncoder};
use tracing::warn;

use crate::dropper::FrameDropper;

/// The codec of the test pattern.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Codec {
    /// H.264 constrained baseline (OpenH264).
    H264,
    /// VP8 (libvpx).
    Vp8,
}

impl Codec {
    /// The encoding name in `a=rtpmap`.
    pub fn rtpmap_name(self) -> &'static str {
        match self {
            Codec::H264 => "H264",
            Codec::Vp8 => "VP8",
        }
    }
}

/// The largest picture (what browsers' cameras default to).
pub const WIDTH: usize = 640;
/// See [`WIDTH`].
pub const HEIGHT: usize = 480;

/// Picture sizes by target bitrate, as browsers scale their camera down when the estimate is
/// low (Chromium sends 320x240 at 400 kbit/s): one size a target suits, with hysteresis.
/// (width, height, go down below bps, go up above bps).
const RUNGS: [(usize, usize, u32, u32); 3] = [
    (320, 240, 0, 500_000),
    (480, 360, 330_000, 900_000),
    (WIDTH, HEIGHT, 650_000, u32::MAX),
];
/// How long a target must stay past a threshold before the size changes (each change costs a
/// key frame): down quickly, up cautiously.
const DOWN_AFTER: Duration = Duration::from_secs(1);
const UP_AFTER: Duration = Duration::from_secs(3);

/// The size ladder's state.
struct Ladder {
    rung: usize,
    /// Since when the target has asked for another rung, and which.
    pending: Option<(Instant, usize)>,
}

impl Ladder {
    /// Starts at the smallest size: the estimate starts low and probes up.
    fn new() -> Self {
        Self {
            rung: 0,
            pending: None,
        }
    }

    fn size(&self) -> (usize, usize) {
        let (w, h, _, _) = RUNGS[self.rung];
        (w, h)
    }

    /// Feeds the target; the new size when it changes now.
    fn update(&mut self, now: Instant, target: u32) -> Option<(usize, usize)> {
        let (_, _, down, up) = RUNGS[self.rung];
        let wanted = if target < down {
            self.rung - 1
        } else if target > up {
            self.rung + 1
        } else {
            self.pending = None;
            return None;
        };
        let since = match self.pending {
            Some((since, rung)) if rung == wanted => since,
            _ => {
                self.pending = Some((now, wanted));
                now
            }
        };
        let hold = if wanted < self.rung {
            DOWN_AFTER
        } else {
            UP_AFTER
        };
        if now - since < hold {
            return None;
        }
        self.rung = wanted;
        self.pending = None;
        Some(self.size())
    }
}
/// Frames per second.
pub const FPS: u32 = 30;

/// One encoded frame, ready for `write_frame`.
pub struct Encoded {
    pub data: Vec<u8>,
    pub keyframe: bool,
    pub rtp_timestamp: u32,
}

struct Shared {
    target_bps: AtomicU32,
    keyframe: AtomicBool,
    stop: AtomicBool,
    capture_drops: AtomicU64,
    rate_drops: AtomicU64,
}

/// The encoding thread and the frames it makes.
pub struct PatternSender {
    shared: Arc<Shared>,
    frames: tokio::sync::mpsc::Receiver<Encoded>,
    thread: Option<JoinHandle<()>>,
}

fn make_encoder(
    codec: Codec,
    (width, height): (usize, usize),
    start_bps: u32,
    max_bps: u32,
) -> Result<Box<dyn VideoEncoder>, String> {
    #[cfg(feature = "test-pattern")]
    {
        Ok(match codec {
            Codec::H264 => Box::new(
                rtcweb_testvideo::H264Encoder::new(FPS, start_bps, max_bps)
                    .map_err(|e| e.to_string())?,
            ),
            Codec::Vp8 => Box::new(
                rtcweb_testvideo::Vp8Encoder::new(width, height, FPS, start_bps, max_bps)
                    .map_err(|e| e.to_string())?,
            ),
        })
    }
    #[cfg(not(feature = "test-pattern"))]
    {
        let _ = (codec, width, height, start_bps, max_bps);
        Err(
            "this media-peer was built without its encoders: cargo build --release \
             -p rtcweb-examples --features test-pattern --bin media-peer"
                .into(),
        )
    }
}

/// Checks that the encoders are built in, before any offer is answered.
pub fn check_available(codec: Codec) -> Result<(), String> {
    make_encoder(codec, (WIDTH, HEIGHT), 300_000, 300_000).map(drop)
}

impl PatternSender {
    /// Starts encoding at `start_bps` (never above `max_bps`).
    pub fn start(codec: Codec, start_bps: u32, max_bps: u32) -> Result<Self, String> {
        let shared = Arc::new(Shared {
            target_bps: AtomicU32::new(start_bps.min(max_bps)),
            keyframe: AtomicBool::new(false),
            stop: AtomicBool::new(false),
            capture_drops: AtomicU64::new(0),
            rate_drops: AtomicU64::new(0),
        });
        // One frame in hand: see the capture in encode_loop.
        let (tx, frames) = tokio::sync::mpsc::channel(1);
        let (ready_tx, ready) = std::sync::mpsc::channel();
        let s = shared.clone();
        let thread = std::thread::Builder::new()
            .name("test-pattern".into())
            .spawn(move || {
                // The encoders hold C state that stays on the thread that made it.
                let start = start_bps.min(max_bps);
                let size = Ladder::new().size();
                match make_encoder(codec, size, start, max_bps) {
                    Ok(e) => {
                        let _ = ready_tx.send(Ok(()));
                        encode_loop(e, codec, max_bps, &s, &tx);
                    }
                    Err(e) => {
                        let _ = ready_tx.send(Err(e));
                    }
                }
            })
            .map_err(|e| format!("encoder thread: {e}"))?;
        ready
            .recv()
            .map_err(|_| "the encoder thread ended".to_string())??;
        Ok(Self {
            shared,
            frames,
            thread: Some(thread),
        })
    }

    /// The encoder's target from the next frame on.
    pub fn set_target(&self, bps: u32) {
        self.shared.target_bps.store(bps, Ordering::Relaxed);
    }

    /// Makes the next frame a key frame.
    pub fn request_keyframe(&self) {
        self.shared.keyframe.store(true, Ordering::Relaxed);
    }

    /// Pictures dropped before encoding because the connection was behind.
    pub fn capture_drops(&self) -> u64 {
        self.shared.capture_drops.load(Ordering::Relaxed)
    }

    /// Pictures skipped before encoding because the encoder was over its target (see
    /// [`FrameDropper`]).
    pub fn rate_drops(&self) -> u64 {
        self.shared.rate_drops.load(Ordering::Relaxed)
    }

    /// The next encoded frame.
    pub async fn next(&mut self) -> Option<Encoded> {
        self.frames.recv().await
    }
}

impl Drop for PatternSender {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::Relaxed);
        // Unblocks a send waiting for room.
        self.frames.close();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn encode_loop(
    mut encoder: Box<dyn VideoEncoder>,
    codec: Codec,
    max_bps: u32,
    shared: &Shared,
    tx: &tokio::sync::mpsc::Sender<Encoded>,
) {
    let mut ladder = Ladder::new();
    let (w, h) = ladder.size();
    let Ok(mut pattern) = Pattern::new(w, h) else {
        return;
    };
    // Capture time runs on across size changes (a new pattern starts at frame 0).
    let mut captured: u64 = 0;
    let period = Duration::from_secs(1) / FPS;
    let mut applied = shared.target_bps.load(Ordering::Relaxed);
    let mut next = Instant::now();
    let mut dropper = FrameDropper::default();
    while !shared.stop.load(Ordering::Relaxed) {
        let target = shared.target_bps.load(Ordering::Relaxed);
        if let Some((w, h)) = ladder.update(Instant::now(), target.min(max_bps)) {
            // A new size: a new encoder (its first frame is a key frame) and pattern.
            match (
                make_encoder(codec, (w, h), target.min(max_bps), max_bps),
                Pattern::new(w, h),
            ) {
                (Ok(e), Ok(p)) => {
                    encoder = e;
                    pattern = p;
                    applied = target;
                    tracing::info!(width = w, height = h, target, "test pattern resized");
                }
                (Err(e), _) => warn!(error = %e, "no encoder at the new size"),
                (_, Err(e)) => warn!(error = %e, "no pattern at the new size"),
            }
        }
        if target != applied {
            if let Err(e) = encoder.set_bitrate(target) {
                warn!(error = %e, "encoder refused the target");
            }
            applied = target;
        }
        if shared.keyframe.swap(false, Ordering::Relaxed) {
            encoder.request_keyframe();
        }
        // The capture: a picture every period. When the connection has not taken the last
        // frame yet (its task was slow), this picture is dropped before encoding, as a
        // camera pipeline drops behind a busy encoder: queueing encoded frames would send
        // them later in a burst, and dropping an encoded one would break the references.
        let picture = pattern.next_frame();
        // 90 kHz from the capture count: the receiver sees the real capture times.
        let rtp_timestamp = (captured * u64::from(90_000 / FPS)) as u32;
        captured += 1;
        let skip = dropper.next_picture(target.min(max_bps), period);
        let permit = match tx.try_reserve() {
            Ok(_) if skip => {
                shared.rate_drops.fetch_add(1, Ordering::Relaxed);
                None
            }
            Ok(p) => Some(p),
            Err(tokio::sync::mpsc::error::TrySendError::Full(())) => {
                shared.capture_drops.fetch_add(1, Ordering::Relaxed);
                None
            }
            Err(tokio::sync::mpsc::error::TrySendError::Closed(())) => return,
        };
        if let Some(permit) = permit {
            match encoder.encode(picture) {
                Ok(Some(f)) => {
                    dropper.encoded(f.data.len());
                    permit.send(Encoded {
                        data: f.data,
                        keyframe: f.keyframe,
                        rtp_timestamp,
                    })
                }
                Ok(None) => {}
                Err(e) => {
                    warn!(error = %e, "encoding failed");
                    return;
                }
            }
        }
        next += period;
        let now = Instant::now();
        match next.checked_duration_since(now) {
            Some(wait) => std::thread::sleep(wait),
            // More than a frame behind (a slow machine): drop the backlog of ticks.
            None if now - next > period => next = now,
            None => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_ladder_steps_with_hysteresis_and_hold_times() {
        let t0 = Instant::now();
        let mut l = Ladder::new();
        assert_eq!(l.size(), (320, 240));
        // Above 500 kbit/s for less than UP_AFTER: no change; then 480x360.
        assert_eq!(l.update(t0, 800_000), None);
        assert_eq!(l.update(t0 + Duration::from_secs(2), 800_000), None);
        assert_eq!(l.update(t0 + UP_AFTER, 800_000), Some((480, 360)));
        // Inside the band: stays, and a dip shorter than DOWN_AFTER does not count.
        assert_eq!(l.update(t0 + Duration::from_secs(4), 400_000), None);
        assert_eq!(l.update(t0 + Duration::from_millis(4500), 300_000), None);
        assert_eq!(l.update(t0 + Duration::from_millis(4800), 400_000), None);
        assert_eq!(l.update(t0 + Duration::from_millis(5000), 300_000), None);
        assert_eq!(
            l.update(t0 + Duration::from_secs(6), 300_000),
            Some((320, 240))
        );
    }
}
