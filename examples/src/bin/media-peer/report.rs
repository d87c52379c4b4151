//! The `--report` JSON: what the connection received and sent, the bandwidth estimate over
//! time, and the connection's `getStats()`. Rewritten every half second (atomically: a
//! temporary file renamed over the old one) and once more at the end.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};

use rtcweb::{StatsReport, TargetRate};
use serde_json::{Value, json};

/// What the connection received and sent, for the report.
#[derive(Default)]
pub struct Received {
    /// Per codec name: frames and key frames.
    pub frames: BTreeMap<String, (u64, u64)>,
    pub vp8_resolutions: Vec<(u16, u16)>,
    pub last_keyframe_resolution: Option<(u16, u16)>,
    pub bytes: u64,
    pub keyframe_requests: u64,
    pub frames_sent: u64,
    /// Opus packets sent (`--send-audio`).
    pub audio_sent: u64,
    pub loops: u64,
    /// Test pattern: frames, key frames and bytes the encoder made.
    pub encoded_frames: u64,
    pub encoded_key_frames: u64,
    pub encoded_bytes: u64,
    /// Test pattern: pictures dropped before encoding (the connection was behind).
    pub capture_drops: u64,
    /// Test pattern: pictures skipped before encoding (the encoder was over its target).
    pub rate_drops: u64,
}

/// The estimate over time, sampled with the counters that give the sent rate.
#[derive(Default)]
pub struct BweLog {
    /// `Event::TargetBitrate` events seen.
    pub events: u64,
    /// The latest of them.
    pub last: Option<TargetRate>,
    samples: Vec<Value>,
    dropped: u64,
}

/// Samples kept (an hour at four a second); later ones are counted, not kept.
const MAX_SAMPLES: usize = 14_400;

fn unix_now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

impl BweLog {
    /// Records the estimate in force now, with the cumulative byte counts: what the encoder
    /// made, what went out as RTP (media, retransmissions, padding) and every byte handed
    /// to the socket.
    pub fn sample(&mut self, got: &Received, stats: &StatsReport) {
        if self.samples.len() >= MAX_SAMPLES {
            self.dropped += 1;
            return;
        }
        let rtp_bytes: u64 = stats.outbound_rtp.iter().map(|o| o.bytes_sent).sum();
        let rate = self.last.map(|r| {
            json!({
                "target": r.target.bps(),
                "pacing": r.pacing.bps(),
                "padding": r.padding.bps(),
                "rttMs": r.rtt.as_secs_f64() * 1000.0,
                "loss": r.loss,
                "limit": format!("{:?}", r.limit),
            })
        });
        self.samples.push(json!({
            "t": unix_now(),
            "estimate": rate,
            "encodedBytes": got.encoded_bytes,
            "rtpBytesSent": rtp_bytes,
            "transportBytesSent": stats.transport.bytes_sent,
        }));
    }
}

/// Writes the report to `path`.
pub fn write(path: &Path, got: &Received, bwe: &BweLog, stats: &StatsReport) {
    let received: serde_json::Map<String, Value> = got
        .frames
        .iter()
        .map(|(name, (n, k))| (name.clone(), json!({"frames": n, "keyFrames": k})))
        .collect();
    let report = json!({
        "received": received,
        "vp8KeyFrameResolutions": got.vp8_resolutions.iter().map(|(w, h)| [w, h]).collect::<Vec<_>>(),
        "lastKeyFrameResolution": got.last_keyframe_resolution.map(|(w, h)| [w, h]),
        "bytesReceived": got.bytes,
        "keyFrameRequests": got.keyframe_requests,
        "framesSent": got.frames_sent,
        "audioPacketsSent": got.audio_sent,
        "fixtureLoops": got.loops,
        "encoded": {
            "frames": got.encoded_frames,
            "keyFrames": got.encoded_key_frames,
            "bytes": got.encoded_bytes,
            "captureDrops": got.capture_drops,
            "rateDrops": got.rate_drops,
        },
        "bwe": {
            "events": bwe.events,
            "samples": bwe.samples,
            "samplesDropped": bwe.dropped,
        },
        "stats": stats,
    });
    let tmp = path.with_extension("tmp");
    if std::fs::write(&tmp, report.to_string()).is_ok() {
        let _ = std::fs::rename(&tmp, path);
    }
}
