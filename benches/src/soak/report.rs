//! What a soak run found: totals, a row per cycle, and the violations of what it asserts.

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

use super::check::{Faults, Mode};
use super::disturbance::Disturbance;
use super::{MEMORY_SLACK, SoakConfig, WARMUP_CYCLES};

/// Totals of one reliability mode over every connection.
#[derive(Debug, Clone, Copy, Default)]
pub struct ModeTotals {
    /// Messages sent.
    pub sent: u64,
    /// Messages received (and checked).
    pub delivered: u64,
    /// Channel ends that closed.
    pub closed: u64,
    /// What the receivers found wrong.
    pub faults: Faults,
}

/// The state of the run at the end of one cycle.
#[derive(Debug, Clone, Default)]
pub struct CycleRow {
    /// Virtual minute.
    pub minute: u64,
    /// Connections `connected`.
    pub connected: usize,
    /// Connections `failed`.
    pub failed: usize,
    /// Connections in any other state.
    pub other: usize,
    /// Reliable messages not delivered.
    pub missing: u64,
    /// Live heap bytes of the process divided by the connections, when counted.
    pub heap_per_pc: Option<i64>,
    /// Heap bytes charged to the connections themselves (see `SoakPeer::owned`): mean.
    pub owned_mean: Option<i64>,
    /// ... and largest.
    pub owned_max: Option<i64>,
    /// Timer wake-ups per second of an idle connection: mean and largest.
    pub idle_wakeups_mean: f64,
    /// See `idle_wakeups_mean`.
    pub idle_wakeups_max: f64,
    /// Allocations live on the TURN server.
    pub turn_allocations: usize,
}

impl fmt::Display for CycleRow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let show = |v: Option<i64>| v.map_or("-".to_owned(), |h| format!("{h}"));
        write!(
            f,
            "{:>6} {:>9} {:>6} {:>5} {:>7} {:>12} {:>11} {:>11} {:>9.2} {:>8.2} {:>10}",
            self.minute,
            self.connected,
            self.failed,
            self.other,
            self.missing,
            show(self.heap_per_pc),
            show(self.owned_mean),
            show(self.owned_max),
            self.idle_wakeups_mean,
            self.idle_wakeups_max,
            self.turn_allocations
        )
    }
}

/// The whole run.
#[derive(Debug, Clone)]
pub struct Report {
    /// Pairs.
    pub pairs: usize,
    /// Virtual time run.
    pub virtual_time: Duration,
    /// Per mode, in [`Mode::ALL`] order.
    pub modes: [ModeTotals; 6],
    /// Per mode: messages sent in the calm windows (no loss on the path), and how many of
    /// them did not arrive (a violation beyond [`Mode::calm_loss_bound`]).
    pub calm_watched: [u64; 6],
    /// See `calm_watched`.
    pub calm_missing: [u64; 6],
    /// Senders not watched in a calm window: their channels still held a backlog 20 s into
    /// the calm weather.
    pub calm_backlogged: u64,
    /// Frames written.
    pub frames_sent: u64,
    /// Frames received whole.
    pub frames_delivered: u64,
    /// Frames whose bytes differed.
    pub frames_corrupt: u64,
    /// Frames out of decode order.
    pub frames_out_of_order: u64,
    /// NAT mappings forgotten.
    pub rebinds: u64,
    /// Links cut.
    pub outages: u64,
    /// TURN server restarts.
    pub turn_restarts: u64,
    /// Times a connection reported `failed`.
    pub failures: u64,
    /// ICE restarts done or asked for.
    pub ice_restarts: u64,
    /// Per kind of disturbance ([`Disturbance::ALL`] order): time from its end to both
    /// sides receiving again.
    pub recoveries: [Vec<Duration>; 4],
    /// Per kind: recoveries not timed because another disturbance came first.
    pub interrupted: [u64; 4],
    /// Per kind: pairs not receiving both ways within the bound (each a violation).
    pub unrecovered: [u64; 4],
    /// Timer wake-ups of all connections.
    pub wakeups: u64,
    /// Datagrams received by all connections.
    pub inputs: u64,
    /// Failed API calls, by message.
    pub api_errors: BTreeMap<String, u64>,
    /// A row per cycle.
    pub cycles: Vec<CycleRow>,
    /// What broke an assertion.
    pub violations: Vec<String>,
}

/// Violations kept in full; more are counted only.
const MAX_VIOLATIONS: usize = 50;

impl Report {
    pub(super) fn new(config: &SoakConfig) -> Self {
        Self {
            pairs: config.pairs,
            virtual_time: Duration::ZERO,
            modes: [ModeTotals::default(); 6],
            calm_watched: [0; 6],
            calm_missing: [0; 6],
            calm_backlogged: 0,
            frames_sent: 0,
            frames_delivered: 0,
            frames_corrupt: 0,
            frames_out_of_order: 0,
            rebinds: 0,
            outages: 0,
            turn_restarts: 0,
            failures: 0,
            ice_restarts: 0,
            recoveries: Default::default(),
            interrupted: [0; 4],
            unrecovered: [0; 4],
            wakeups: 0,
            inputs: 0,
            api_errors: BTreeMap::new(),
            cycles: Vec::new(),
            violations: Vec::new(),
        }
    }

    pub(super) fn violation(&mut self, what: String) {
        if self.violations.len() < MAX_VIOLATIONS {
            self.violations.push(what);
        } else if self.violations.len() == MAX_VIOLATIONS {
            self.violations
                .push("(more violations not listed)".to_owned());
        }
    }

    /// The mean heap per connection's change per cycle over the second half of the cycles
    /// after the warm-up (least-squares slope), when the heap was counted and there are at
    /// least three such cycles.
    pub fn memory_trend(&self) -> Option<f64> {
        let after: Vec<i64> = self
            .cycles
            .iter()
            .skip(WARMUP_CYCLES as usize)
            .filter_map(|c| c.owned_mean)
            .collect();
        let half = &after[after.len() / 2..];
        if half.len() < 3 {
            return None;
        }
        let n = half.len() as f64;
        let mx = (n - 1.0) / 2.0;
        let my = half.iter().map(|v| *v as f64).sum::<f64>() / n;
        let (mut sxy, mut sxx) = (0.0, 0.0);
        for (x, y) in half.iter().enumerate() {
            sxy += (x as f64 - mx) * (*y as f64 - my);
            sxx += (x as f64 - mx).powi(2);
        }
        Some(sxy / sxx)
    }

    /// Whether every assertion held.
    pub fn passed(&self) -> bool {
        self.violations.is_empty()
    }

    /// Faults on channels and streams, and the heap's growth after the first cycle.
    pub(super) fn check_totals(&mut self) {
        for mode in Mode::ALL {
            let t = self.modes[mode.index()];
            if t.faults.any() {
                self.violation(format!("{}: {:?}", mode.label(), t.faults));
            }
            if t.closed > 0 {
                self.violation(format!(
                    "{}: {} channel ends closed",
                    mode.label(),
                    t.closed
                ));
            }
        }
        if self.frames_corrupt > 0 || self.frames_out_of_order > 0 {
            self.violation(format!(
                "video: {} corrupt frames, {} out of decode order",
                self.frames_corrupt, self.frames_out_of_order
            ));
        }
        // Memory: bounded by what the warm-up showed. The largest connection may not grow
        // past the largest one at the end of the warm-up; the process heap per connection
        // may not grow past that plus what the rest of the process (network, TURN server)
        // held per connection then. The mean itself may rise towards the largest: buffers
        // keep the capacity of their largest backlog, which a connection reaches at its
        // own worst moment, and that is bounded by the send buffer, not growth.
        let base = (WARMUP_CYCLES as usize).saturating_sub(1);
        let mut found = Vec::new();
        if let Some(warm) = self.cycles.get(base)
            && let (Some(max), Some(mean), Some(heap)) =
                (warm.owned_max, warm.owned_mean, warm.heap_per_pc)
        {
            let slack = |v: i64| (v as f64 * MEMORY_SLACK.0) as i64 + MEMORY_SLACK.1;
            let bound_pc = max + slack(max);
            let bound_heap = max + (heap - mean) + slack(max);
            for c in self.cycles.iter().skip(base + 1) {
                if let Some(v) = c.owned_max.filter(|v| *v > bound_pc) {
                    found.push(format!(
                        "a connection holds {v} bytes at minute {}: more than the largest at minute {} ({max}) allows ({bound_pc})",
                        c.minute, warm.minute
                    ));
                }
                if let Some(v) = c.heap_per_pc.filter(|v| *v > bound_heap) {
                    found.push(format!(
                        "process heap per connection {v} bytes at minute {}, above the bound from minute {} ({bound_heap})",
                        c.minute, warm.minute
                    ));
                }
            }
        }
        for v in found {
            self.violation(v);
        }
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "soak: {} pairs ({} PeerConnections), {} virtual minutes",
            self.pairs,
            2 * self.pairs,
            self.virtual_time.as_secs() / 60
        )?;
        writeln!(
            f,
            "{:<20} {:>10} {:>10} {:>7} {:>6} {:>5} {:>5} {:>5} {:>6} {:>11} {:>9}",
            "channel",
            "sent",
            "delivered",
            "deliv%",
            "closed",
            "corr",
            "dup",
            "reord",
            "skip",
            "calm sent",
            "calm lost"
        )?;
        for mode in Mode::ALL {
            let t = self.modes[mode.index()];
            writeln!(
                f,
                "{:<20} {:>10} {:>10} {:>6.2}% {:>6} {:>5} {:>5} {:>5} {:>6} {:>11} {:>9}",
                mode.label(),
                t.sent,
                t.delivered,
                100.0 * t.delivered as f64 / t.sent.max(1) as f64,
                t.closed,
                t.faults.corrupt,
                t.faults.duplicate,
                t.faults.reordered,
                t.faults.skipped,
                self.calm_watched[mode.index()],
                self.calm_missing[mode.index()]
            )?;
        }
        writeln!(
            f,
            "calm windows: {} senders not watched (a backlog still queued 20 s into the calm)",
            self.calm_backlogged
        )?;
        writeln!(
            f,
            "{:<20} {:>10} {:>10} {:>6.2}%        {:>5}   (out of order {})",
            "video frames",
            self.frames_sent,
            self.frames_delivered,
            100.0 * self.frames_delivered as f64 / self.frames_sent.max(1) as f64,
            self.frames_corrupt,
            self.frames_out_of_order
        )?;
        writeln!(
            f,
            "disturbances: {} NAT rebinds, {} link outages, {} TURN restarts; {} `failed` reports, {} ICE restarts",
            self.rebinds, self.outages, self.turn_restarts, self.failures, self.ice_restarts
        )?;
        writeln!(
            f,
            "{:<14} {:>9} {:>7} {:>7} {:>7} {:>7} {:>7} {:>11}",
            "recovery", "recovered", "median", "90%", "max", "bound", "late", "interrupted"
        )?;
        for kind in Disturbance::ALL {
            let mut rec = self.recoveries[kind.index()].clone();
            rec.sort();
            let pick = |q: f64| {
                rec.get(((rec.len() as f64 - 1.0) * q).round() as usize)
                    .map_or("-".to_owned(), |d| format!("{:.1}s", d.as_secs_f64()))
            };
            writeln!(
                f,
                "{:<14} {:>9} {:>7} {:>7} {:>7} {:>6}s {:>7} {:>11}",
                kind.label(),
                rec.len(),
                pick(0.5),
                pick(0.9),
                pick(1.0),
                kind.bound().as_secs(),
                self.unrecovered[kind.index()],
                self.interrupted[kind.index()]
            )?;
        }
        let secs = self.virtual_time.as_secs_f64().max(1.0) * (2 * self.pairs) as f64;
        writeln!(
            f,
            "wake-ups: {} in all ({:.1} per connection-second, idle and busy); datagrams in: {}",
            self.wakeups,
            self.wakeups as f64 / secs,
            self.inputs
        )?;
        writeln!(
            f,
            "{:>6} {:>9} {:>6} {:>5} {:>7} {:>12} {:>11} {:>11} {:>9} {:>8} {:>10}",
            "minute",
            "connected",
            "failed",
            "other",
            "missing",
            "heap/PC (B)",
            "PC mean (B)",
            "PC max (B)",
            "idle wk/s",
            "max wk/s",
            "turn alloc"
        )?;
        for row in &self.cycles {
            writeln!(f, "{row}")?;
        }
        if let Some(slope) = self.memory_trend() {
            writeln!(
                f,
                "memory trend: the mean heap per connection changes by {slope:+.0} bytes per five-minute cycle over the second half of the run (least squares)"
            )?;
        }
        for (e, n) in &self.api_errors {
            writeln!(f, "api error x{n}: {e}")?;
        }
        if self.violations.is_empty() {
            writeln!(f, "PASS: no violation")
        } else {
            for v in &self.violations {
                writeln!(f, "VIOLATION: {v}")?;
            }
            writeln!(f, "FAIL: {} violations", self.violations.len())
        }
    }
}
