//! Playout: a jitter buffer per received stream that holds complete frames until their
//! playout time, with a target delay adapted to the measured jitter, and lip sync between
//! the audio and video of one source from their sender reports.
//!
//! - [`PlayoutBuffer`]: one stream's buffer (audio slots with concealment, video frames in
//!   decode order).
//! - [`delay`](self): the relative-delay histogram behind the target delay.
//! - [`sync_offsets`]: the extra delays that make streams of one source play in sync.
//!
//! The session runs a buffer per stream when [`PlayoutConfig`] is set for it
//! (`Session::set_playout`); otherwise frames go to the application as soon as they are
//! complete, for applications that do their own playout.

mod buffer;
mod delay;

pub use buffer::PlayoutBuffer;

use std::time::Duration;

/// Settings of a [`PlayoutBuffer`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PlayoutConfig {
    /// The target delay never goes below this.
    pub min_delay: Duration,
    /// Nor above this.
    pub max_delay: Duration,
    /// The share of frames the target delay should have in time (0.99: 1 % may be late).
    pub quantile: f64,
    /// Added to the quantile.
    pub margin: Duration,
    /// Frames whose delays the quantile is taken over.
    pub window: usize,
    /// How fast the target may fall, per second (it rises at once).
    pub shrink_per_second: Duration,
    /// Frames held at most (the oldest comes out early beyond it).
    pub max_frames: usize,
    /// Streams with the same group play in sync (lip sync from their sender reports):
    /// the audio and video of one source.
    pub sync_group: Option<u64>,
}

impl Default for PlayoutConfig {
    fn default() -> Self {
        Self {
            min_delay: Duration::ZERO,
            max_delay: Duration::from_secs(3),
            quantile: 0.99,
            margin: Duration::from_millis(5),
            window: 500,
            shrink_per_second: Duration::from_millis(10),
            max_frames: 300,
            sync_group: None,
        }
    }
}

/// Counters of a [`PlayoutBuffer`], with the W3C names they feed.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct PlayoutStats {
    /// Frames that came out.
    pub emitted: u64,
    /// Audio samples (audio) or frames (video) that came out (`jitterBufferEmittedCount`).
    pub emitted_count: u64,
    /// Seconds each of those spent in the buffer, summed (`jitterBufferDelay`).
    pub jitter_buffer_delay: f64,
    /// The target delay at each of those, summed (`jitterBufferTargetDelay`).
    pub jitter_buffer_target_delay: f64,
    /// Frames that arrived after their playout time.
    pub late: u64,
    /// Audio frames dropped: their slot had passed, or they were here already.
    pub discarded: u64,
    /// Audio samples concealed: slots with no frame at their time (`concealedSamples`).
    pub concealed_samples: u64,
    /// Runs of concealed slots (`concealmentEvents`).
    pub concealment_events: u64,
    /// Frames that came out early because the buffer was full.
    pub overflowed: u64,
    /// The target delay now.
    pub target_delay: Duration,
    /// The lip sync offset now.
    pub sync_delay: Duration,
    /// Frames waiting.
    pub buffered: usize,
}

/// One stream of a sync group: its end-to-end latency (media time to playout, before the
/// sync offset) expressed against the sender's NTP clock, µs: the buffer's base transit
/// plus target delay, plus (media time minus NTP time) at the stream's last sender report.
pub fn source_latency(buffer: &PlayoutBuffer, sr_ntp: u64, sr_rtp: u32) -> Option<i64> {
    let base = buffer.base_us()?;
    let ntp_us =
        ((sr_ntp >> 32) as i64) * 1_000_000 + (((sr_ntp & 0xffff_ffff) * 1_000_000) >> 32) as i64;
    Some(base + buffer.target_delay().as_micros() as i64 + buffer.media_us(sr_rtp) - ntp_us)
}

/// The sync offsets of a group: each stream waits until the slowest one's latency.
///
/// ```
/// use std::time::Duration;
/// use rtcweb_rtp::playout::sync_offsets;
///
/// let offsets = sync_offsets(&[Some(80_000), Some(120_000), None]);
/// assert_eq!(offsets, [Some(Duration::from_millis(40)), Some(Duration::ZERO), None]);
/// ```
pub fn sync_offsets(latencies: &[Option<i64>]) -> Vec<Option<Duration>> {
    let max = latencies.iter().flatten().copied().max();
    latencies
        .iter()
        .map(|l| {
            let (l, max) = ((*l)?, max?);
            Some(Duration::from_micros((max - l).max(0) as u64))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::frame::Frame;
    use std::time::Instant;

    fn frame(ts: u32) -> Frame {
        let now = Instant::now();
        Frame {
            ssrc: 1,
            payload_type: 111,
            timestamp: ts,
            keyframe: true,
            resolution: None,
            data: vec![ts as u8],
            first_sequence: 0,
            last_sequence: 0,
            completed_at: now,
        }
    }

    #[test]
    fn audio_comes_out_in_order_at_its_time_and_gaps_are_concealed() {
        let t0 = Instant::now();
        let mut b = PlayoutBuffer::new(PlayoutConfig::default(), true, 48_000, t0);
        let ms = Duration::from_millis;
        // Frames every 20 ms; frame 3 arrives 30 ms late, frame 5 never.
        let mut out = Vec::new();
        let mut arrivals: Vec<(Instant, u32)> = (0..10u32)
            .filter(|&i| i != 5)
            .map(|i| {
                let late = if i == 3 { ms(30) } else { ms(0) };
                (t0 + ms(20 * u64::from(i)) + late, 960 * i)
            })
            .collect();
        arrivals.sort();
        for (at, ts) in arrivals {
            while let Some(t) = b.poll_timeout().filter(|&t| t <= at) {
                b.handle_timeout(t);
                while let Some(f) = b.poll_frame() {
                    out.push((t, f.timestamp));
                }
            }
            b.insert(at, frame(ts), at);
            while let Some(f) = b.poll_frame() {
                out.push((at, f.timestamp));
            }
        }
        while let Some(t) = b.poll_timeout() {
            b.handle_timeout(t);
            while let Some(f) = b.poll_frame() {
                out.push((t, f.timestamp));
            }
        }
        let ts: Vec<u32> = out.iter().map(|(_, t)| *t).collect();
        assert!(ts.windows(2).all(|w| w[0] < w[1]), "{ts:?}");
        assert!(!ts.contains(&(5 * 960)));
        let s = b.stats();
        assert_eq!(s.concealed_samples % 960, 0);
        assert!(s.concealed_samples >= 960, "{s:?}");
        // The delay grew to hold frame 3's lateness.
        assert!(s.target_delay >= ms(30), "{s:?}");
    }
}
