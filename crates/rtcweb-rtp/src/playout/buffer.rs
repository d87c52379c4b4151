//! The jitter buffer of one stream: frames in as they complete, out at their playout time.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use super::delay::DelayEstimator;
use super::{PlayoutConfig, PlayoutStats};
use crate::frame::Frame;

/// Audio frames assumed this long until two consecutive ones show the real duration.
const DEFAULT_AUDIO_FRAME: Duration = Duration::from_millis(20);
/// A gap of more than this many audio frames is a pause or a restart, not loss: playout
/// starts again at the next frame without concealing the gap.
const MAX_CONCEALED_RUN: i64 = 50;

/// Extends 32-bit RTP timestamps to 64 bits around the last one seen.
#[derive(Debug, Clone, Copy, Default)]
struct TsUnwrapper {
    last: Option<i64>,
}

impl TsUnwrapper {
    fn unwrap(&mut self, ts: u32) -> i64 {
        let v = match self.last {
            None => i64::from(ts) + (1 << 32),
            Some(l) => l + i64::from(ts.wrapping_sub(l as u32) as i32),
        };
        if self.last.is_none_or(|l| v > l) {
            self.last = Some(v);
        }
        v
    }
}

#[derive(Debug)]
struct Held {
    frame: Frame,
    arrived: Instant,
}

/// A jitter buffer: frames go in when they are complete (video: from the frame assembler,
/// in decode order; audio: as packets arrive, in any order) and come out at their playout
/// time, the frame's media time plus the path's base transit, the target delay and the lip
/// sync offset.
///
/// The target delay follows the configured quantile of the frames' relative delays (the
/// private `delay` estimator), plus the margin, within the configured bounds and those of the
/// playout-delay header extension. It rises at once and falls by at most `shrink_per_second`
/// (audio playout then runs slightly fast, as a real jitter buffer accelerates).
///
/// A frame that arrives after its playout time is late. A late video frame comes out at
/// once (the decoder needs it); a late audio frame whose slot has passed is dropped (its
/// slot was concealed). Audio slots with no frame at their time are concealed: counted, and
/// skipped. Memory is bounded by `max_frames` (the oldest frame comes out early beyond it).
#[derive(Debug)]
pub struct PlayoutBuffer {
    config: PlayoutConfig,
    audio: bool,
    rate: u32,
    origin: Instant,
    ts: TsUnwrapper,
    estimator: DelayEstimator,
    /// The current target delay, µs.
    target: i64,
    target_at: Option<Instant>,
    /// Lip sync offset, µs.
    sync: i64,
    /// The playout-delay extension's bounds.
    extension: Option<(Duration, Duration)>,
    /// Audio: frames by unwrapped timestamp, in order (they mostly arrive in order: a
    /// sorted deque is cheaper than a tree).
    audio_frames: VecDeque<(i64, Held)>,
    /// Video: frames in decode order with their unwrapped timestamps.
    video_frames: VecDeque<(i64, Held)>,
    /// Audio: the next slot's timestamp, and the frame duration in ticks.
    next_ts: Option<i64>,
    frame_ticks: i64,
    last_audio_ts: Option<i64>,
    /// Video: when the last frame came out (frames never come out of order in time).
    last_release: Option<Instant>,
    /// Audio: the last slot was concealed (a run counts as one concealment event).
    concealing: bool,
    released: VecDeque<Frame>,
    stats: PlayoutStats,
}

impl PlayoutBuffer {
    /// A buffer for a stream of `rate` Hz (audio: frames are independent and timed by
    /// slots; video: frames come out in the order they went in).
    pub fn new(config: PlayoutConfig, audio: bool, rate: u32, now: Instant) -> Self {
        let rate = rate.max(1);
        Self {
            estimator: DelayEstimator::new(config.window, config.quantile),
            target: config.min_delay.as_micros() as i64,
            config,
            audio,
            rate,
            origin: now,
            ts: TsUnwrapper::default(),
            target_at: None,
            sync: 0,
            extension: None,
            audio_frames: VecDeque::new(),
            video_frames: VecDeque::new(),
            next_ts: None,
            frame_ticks: (DEFAULT_AUDIO_FRAME.as_micros() as i64) * i64::from(rate) / 1_000_000,
            last_audio_ts: None,
            last_release: None,
            concealing: false,
            released: VecDeque::new(),
            stats: PlayoutStats::default(),
        }
    }

    /// Counters.
    pub fn stats(&self) -> PlayoutStats {
        let mut s = self.stats;
        s.target_delay = Duration::from_micros(self.target.max(0) as u64);
        s.sync_delay = Duration::from_micros(self.sync.max(0) as u64);
        s.buffered = self.audio_frames.len() + self.video_frames.len();
        s
    }

    /// Frames waiting.
    pub fn len(&self) -> usize {
        self.audio_frames.len() + self.video_frames.len()
    }

    /// Whether no frame waits.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn micros(&self, t: Instant) -> i64 {
        if t >= self.origin {
            (t - self.origin).as_micros() as i64
        } else {
            -((self.origin - t).as_micros() as i64)
        }
    }

    fn instant(&self, us: i64) -> Instant {
        if us >= 0 {
            self.origin + Duration::from_micros(us as u64)
        } else {
            self.origin
                .checked_sub(Duration::from_micros(us.unsigned_abs()))
                .unwrap_or(self.origin)
        }
    }

    /// Media time of an unwrapped timestamp, µs.
    fn media(&self, ts: i64) -> i64 {
        match ts.checked_mul(1_000_000) {
            Some(v) => v / i64::from(self.rate),
            None => (i128::from(ts) * 1_000_000 / i128::from(self.rate)) as i64,
        }
    }

    /// The base transit plus target delay plus sync offset: what turns media time into
    /// playout time, µs. Also what lip sync equalizes between streams.
    pub fn latency_us(&self) -> Option<i64> {
        Some(self.estimator.base()? + self.target + self.sync)
    }

    /// The playout time of unwrapped timestamp `ts`.
    fn playout(&self, ts: i64) -> Option<Instant> {
        Some(self.instant(self.media(ts) + self.latency_us()?))
    }

    /// The target delay before the lip sync offset.
    pub fn target_delay(&self) -> Duration {
        Duration::from_micros(self.target.max(0) as u64)
    }

    /// The path's base transit, µs (our clock minus media time, for lip sync).
    pub fn base_us(&self) -> Option<i64> {
        self.estimator.base()
    }

    /// Media time (µs, as [`PlayoutBuffer::base_us`] counts it) of RTP timestamp `ts`.
    pub fn media_us(&self, ts: u32) -> i64 {
        let mut u = self.ts;
        self.media(u.unwrap(ts))
    }

    /// Sets the lip sync offset (extra delay to match another stream of the same source).
    pub fn set_sync_delay(&mut self, delay: Duration) {
        self.sync = delay.as_micros() as i64;
    }

    /// The bounds of the playout-delay extension the sender last put on the stream.
    pub fn set_extension_bounds(&mut self, min: Duration, max: Duration) {
        self.extension = Some((min, max.max(min)));
    }

    fn bounds(&self) -> (i64, i64) {
        let mut lo = self.config.min_delay.as_micros() as i64;
        let mut hi = self.config.max_delay.as_micros() as i64;
        if let Some((min, max)) = self.extension {
            lo = lo.max(min.as_micros() as i64);
            hi = hi.min(max.as_micros() as i64).max(lo);
        }
        (lo, hi.max(lo))
    }

    /// The target from the estimate: up at once, down at most `shrink_per_second`.
    fn update_target(&mut self, now: Instant) {
        let (lo, hi) = self.bounds();
        let want = (self.estimator.quantile_ms() as i64 * 1000
            + self.config.margin.as_micros() as i64)
            .clamp(lo, hi);
        let elapsed = self
            .target_at
            .map_or(0.0, |t| now.saturating_duration_since(t).as_secs_f64());
        self.target_at = Some(now);
        if want >= self.target {
            self.target = want;
        } else {
            let step = (self.config.shrink_per_second.as_micros() as f64 * elapsed) as i64;
            self.target = (self.target - step.max(0)).max(want);
        }
        self.target = self.target.clamp(lo, hi);
    }

    /// A complete frame arrives at `now` (`arrived`: when its first packet did, for the
    /// W3C delay counters).
    pub fn insert(&mut self, now: Instant, frame: Frame, arrived: Instant) {
        let ts = self.ts.unwrap(frame.timestamp);
        let media = self.media(ts);
        self.estimator.on_arrival(self.micros(now), media);
        self.update_target(now);
        let playout = self.playout(ts).unwrap_or(now);
        let late = now > playout;
        if self.audio {
            if let Some(last) = self.last_audio_ts
                && ts > last
                && ts - last < self.frame_ticks * MAX_CONCEALED_RUN
                && (ts - last < self.frame_ticks || self.stats.emitted == 0)
            {
                self.frame_ticks = ts - last;
            }
            if self.last_audio_ts.is_none_or(|l| ts > l) {
                self.last_audio_ts = Some(ts);
            }
            let at = match self.audio_frames.back() {
                Some((last, _)) if *last < ts => Ok(self.audio_frames.len()),
                None => Ok(0),
                Some(_) => self
                    .audio_frames
                    .binary_search_by_key(&ts, |(t, _)| *t)
                    .map_or_else(Ok, Err),
            };
            let (Ok(at), false) = (at, self.next_ts.is_some_and(|n| ts < n)) else {
                // Its slot passed (it was concealed), or it is here already.
                self.stats.late += u64::from(late);
                self.stats.discarded += 1;
                return;
            };
            self.stats.late += u64::from(late);
            self.audio_frames.insert(at, (ts, Held { frame, arrived }));
        } else {
            self.stats.late += u64::from(late);
            self.video_frames.push_back((ts, Held { frame, arrived }));
        }
        while self.len() > self.config.max_frames {
            self.stats.overflowed += 1;
            self.release_first(now);
        }
        self.handle_timeout(now);
    }

    /// Releases the first frame whatever its time (overflow).
    fn release_first(&mut self, now: Instant) {
        if self.audio {
            if let Some((ts, h)) = self.audio_frames.pop_front() {
                self.next_ts = Some(ts + self.frame_ticks);
                self.emit(now, h);
            }
        } else if let Some((_, h)) = self.video_frames.pop_front() {
            self.emit(now, h);
        }
    }

    fn emit(&mut self, now: Instant, h: Held) {
        let delay = now.saturating_duration_since(h.arrived).as_secs_f64();
        let target = self.target.max(0) as f64 / 1e6;
        let count = if self.audio {
            self.frame_ticks.max(1) as f64
        } else {
            1.0
        };
        self.concealing = false;
        self.stats.emitted += 1;
        self.stats.emitted_count += count as u64;
        self.stats.jitter_buffer_delay += delay * count;
        self.stats.jitter_buffer_target_delay += target * count;
        if !self.audio {
            self.last_release = Some(now);
        }
        self.released.push_back(h.frame);
    }

    /// When [`PlayoutBuffer::handle_timeout`] has work.
    pub fn poll_timeout(&self) -> Option<Instant> {
        if self.audio {
            let &(first, _) = self.audio_frames.front()?;
            let ts = match self.next_ts {
                Some(n) if n < first && first - n <= self.frame_ticks * MAX_CONCEALED_RUN => n,
                _ => first,
            };
            self.playout(ts)
        } else {
            let (ts, _) = self.video_frames.front()?;
            let t = self.playout(*ts)?;
            Some(self.last_release.map_or(t, |l| t.max(l)))
        }
    }

    /// Releases what is due at `now` (take it with [`PlayoutBuffer::poll_frame`]).
    pub fn handle_timeout(&mut self, now: Instant) {
        loop {
            let Some(due) = self.poll_timeout() else {
                return;
            };
            if due > now {
                return;
            }
            if self.audio {
                let Some(&(first, _)) = self.audio_frames.front() else {
                    return;
                };
                match self.next_ts {
                    Some(n) if n < first && first - n <= self.frame_ticks * MAX_CONCEALED_RUN => {
                        // Nothing for this slot at its time: concealed.
                        self.stats.concealed_samples += self.frame_ticks.max(0) as u64;
                        self.stats.concealment_events += u64::from(!self.concealing);
                        self.concealing = true;
                        self.next_ts = Some(n + self.frame_ticks);
                    }
                    _ => self.release_first(now),
                }
            } else {
                self.release_first(now);
            }
        }
    }

    /// A frame whose playout time came.
    pub fn poll_frame(&mut self) -> Option<Frame> {
        self.released.pop_front()
    }
}
