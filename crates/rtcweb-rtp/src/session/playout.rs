//! Playout in the session: with [`PlayoutConfig`] set for a receive stream, its complete
//! frames wait in a [`PlayoutBuffer`] and come out as [`Event::Frame`] at their playout time
//! ([`Session::poll_timeout`] names it); without, they come out as soon as they are complete.
//!
//! Audio packets of a stream with playout skip the frame assembler (which would hold them
//! behind a gap in sequence order): the buffer orders them by timestamp and conceals the
//! slots that stay empty. Streams with the same `sync_group` are kept in sync from their
//! sender reports (NTP/RTP pairs): each waits until the latest of the group.

use std::time::{Duration, Instant};

use super::{Event, Session};
use crate::error::{Error, Result};
use crate::frame::Frame;
use crate::playout::{PlayoutBuffer, PlayoutConfig, PlayoutStats, source_latency, sync_offsets};
use crate::rtcp::SenderInfo;
use crate::rtp::PlayoutDelay;

/// Lip sync is recomputed at most this often (and at every sender report).
const SYNC_INTERVAL: Duration = Duration::from_millis(100);

/// A receive stream's playout state.
#[derive(Debug)]
pub(crate) struct StreamPlayout {
    buffer: PlayoutBuffer,
    group: Option<u64>,
    /// The last sender report's NTP and RTP times.
    sr: Option<(u64, u32)>,
    last_sync: Option<Instant>,
}

impl Session {
    /// Turns playout on (or with `None` off: frames come out as soon as they are complete)
    /// for receive stream `ssrc`. Frames held when it is turned off come out at once.
    pub fn set_playout(
        &mut self,
        now: Instant,
        ssrc: u32,
        config: Option<PlayoutConfig>,
    ) -> Result<()> {
        let i = self
            .receivers
            .iter()
            .position(|r| r.config.ssrc == ssrc)
            .ok_or(Error::UnknownSsrc(ssrc))?;
        let r = &mut self.receivers[i];
        let audio = r.config.codecs.first().is_some_and(|c| !c.codec.is_video());
        let rate = r
            .config
            .codecs
            .first()
            .map_or(90_000, |c| c.codec.clock_rate());
        let old = std::mem::replace(
            &mut r.playout,
            config.map(|c| {
                Box::new(StreamPlayout {
                    buffer: PlayoutBuffer::new(c, audio, rate, now),
                    group: c.sync_group,
                    sr: None,
                    last_sync: None,
                })
            }),
        );
        if let Some(mut old) = old {
            while !old.buffer.is_empty() {
                old.buffer.handle_timeout(now + Duration::from_secs(3600));
                while let Some(f) = old.buffer.poll_frame() {
                    self.push_event(Event::Frame(f));
                }
            }
        }
        Ok(())
    }

    /// Jitter buffer counters of receive stream `ssrc` (if playout is on for it).
    pub fn playout_stats(&self, ssrc: u32) -> Option<PlayoutStats> {
        let r = self.receivers.iter().find(|r| r.config.ssrc == ssrc)?;
        Some(r.playout.as_ref()?.buffer.stats())
    }

    /// A complete frame of receive stream `i`: into its jitter buffer, or out at once.
    pub(crate) fn deliver_frame(&mut self, now: Instant, i: usize, frame: Frame) {
        match self.receivers[i].playout.as_mut() {
            None => self.push_event(Event::Frame(frame)),
            Some(p) => {
                let arrived = frame.completed_at;
                p.buffer.insert(now, frame, arrived);
                self.playout_release(now, i);
                self.resync(now, i, false);
            }
        }
    }

    /// An audio packet of receive stream `i` goes to its jitter buffer as a frame when
    /// playout is on for it (returns whether it did).
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn playout_audio(
        &mut self,
        now: Instant,
        i: usize,
        seq: u64,
        payload_type: u8,
        timestamp: u32,
        payload: &[u8],
    ) -> bool {
        let r = &self.receivers[i];
        let audio = r.config.codecs.first().is_some_and(|c| !c.codec.is_video());
        if !audio || r.playout.is_none() {
            return false;
        }
        let frame = Frame {
            ssrc: r.config.ssrc,
            payload_type,
            timestamp,
            keyframe: true,
            resolution: None,
            data: payload.to_vec(),
            first_sequence: seq,
            last_sequence: seq,
            completed_at: now,
        };
        self.deliver_frame(now, i, frame);
        true
    }

    /// Moves the frames receive stream `i`'s buffer released to the events.
    fn playout_release(&mut self, now: Instant, i: usize) {
        let Some(p) = self.receivers[i].playout.as_mut() else {
            return;
        };
        p.buffer.handle_timeout(now);
        let mut frames = Vec::new();
        while let Some(f) = p.buffer.poll_frame() {
            frames.push(f);
        }
        for f in frames {
            self.push_event(Event::Frame(f));
        }
    }

    /// The earliest playout time of any stream.
    pub(crate) fn playout_timeout(&self) -> Option<Instant> {
        self.receivers
            .iter()
            .filter_map(|r| r.playout.as_ref()?.buffer.poll_timeout())
            .min()
    }

    /// Releases what is due.
    pub(crate) fn playout_handle_timeout(&mut self, now: Instant) {
        for i in 0..self.receivers.len() {
            let due = self.receivers[i]
                .playout
                .as_ref()
                .and_then(|p| p.buffer.poll_timeout())
                .is_some_and(|t| t <= now);
            if due {
                self.playout_release(now, i);
            }
        }
    }

    /// A sender report of receive stream `ssrc`: its NTP/RTP pair for lip sync.
    pub(crate) fn playout_on_sr(&mut self, now: Instant, ssrc: u32, info: &SenderInfo) {
        let Some(i) = self.receivers.iter().position(|r| r.config.ssrc == ssrc) else {
            return;
        };
        let Some(p) = self.receivers[i].playout.as_mut() else {
            return;
        };
        p.sr = Some((info.ntp_time, info.rtp_time));
        self.resync(now, i, true);
    }

    /// The playout-delay extension's bounds on receive stream `i`.
    pub(crate) fn playout_extension(&mut self, i: usize, d: PlayoutDelay) {
        if let Some(p) = self.receivers[i].playout.as_mut() {
            let ten_ms = |v: u16| Duration::from_millis(u64::from(v) * 10);
            p.buffer.set_extension_bounds(ten_ms(d.min), ten_ms(d.max));
        }
    }

    /// Recomputes the sync offsets of receive stream `i`'s group (at most every
    /// [`SYNC_INTERVAL`] unless `force`).
    fn resync(&mut self, now: Instant, i: usize, force: bool) {
        let Some(p) = self.receivers[i].playout.as_mut() else {
            return;
        };
        let Some(group) = p.group else { return };
        if !force
            && p.last_sync
                .is_some_and(|t| now.saturating_duration_since(t) < SYNC_INTERVAL)
        {
            return;
        }
        p.last_sync = Some(now);
        let members: Vec<usize> = (0..self.receivers.len())
            .filter(|&k| {
                self.receivers[k]
                    .playout
                    .as_ref()
                    .is_some_and(|p| p.group == Some(group))
            })
            .collect();
        if members.len() < 2 {
            return;
        }
        let latencies: Vec<Option<i64>> = members
            .iter()
            .map(|&k| {
                let p = self.receivers[k].playout.as_ref()?;
                let (ntp, rtp) = p.sr?;
                source_latency(&p.buffer, ntp, rtp)
            })
            .collect();
        for (k, offset) in members.iter().zip(sync_offsets(&latencies)) {
            if let (Some(p), Some(offset)) = (self.receivers[*k].playout.as_mut(), offset) {
                p.buffer.set_sync_delay(offset);
                p.last_sync = Some(now);
            }
        }
    }
}
