//! The link conditions of each direction, as command-line options (at start, and again on
//! each line of the control FIFO), turned into rtcweb-netsim's `LinkParams`.

use std::time::Duration;

use clap::{Args, ValueEnum};
use rtcweb_netsim::{LinkParams, Loss};

/// Which direction an option line changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Which {
    /// Both directions.
    Both,
    /// Frames arriving on `--a`, leaving on `--b`.
    Ab,
    /// Frames arriving on `--b`, leaving on `--a`.
    Ba,
}

/// Link options; each one given replaces that condition, the others stay as they were.
#[derive(Debug, Clone, Default, Args)]
pub struct LinkArgs {
    /// The direction these options change (default both).
    #[arg(long, value_enum)]
    pub direction: Option<Which>,
    /// Fixed one-way delay, milliseconds.
    #[arg(long, value_name = "MS")]
    pub delay_ms: Option<f64>,
    /// Extra delay drawn uniformly from [0, MS) per frame (reorders when larger than the gap
    /// between frames).
    #[arg(long, value_name = "MS")]
    pub jitter_ms: Option<f64>,
    /// Random loss, percent of frames.
    #[arg(long, value_name = "PERCENT")]
    pub loss: Option<f64>,
    /// Bursty loss (Gilbert-Elliott), four probabilities: good->bad, bad->good, loss in the
    /// good state, loss in the bad state. Replaces --loss.
    #[arg(long, num_args = 4, value_names = ["P", "R", "LOSS_GOOD", "LOSS_BAD"])]
    pub gilbert: Option<Vec<f64>>,
    /// Rate limit, kbit/s of Ethernet frames (0: none).
    #[arg(long, value_name = "KBIT")]
    pub rate_kbit: Option<u64>,
    /// Drop-tail queue of the rate limit, as milliseconds at the rate (default 150).
    #[arg(long, value_name = "MS")]
    pub queue_ms: Option<f64>,
}

/// The conditions of one direction.
#[derive(Debug, Clone, PartialEq)]
pub struct Conditions {
    delay: Duration,
    jitter: Duration,
    loss: Loss,
    rate_kbit: u64,
    queue_ms: f64,
}

impl Default for Conditions {
    fn default() -> Self {
        Self {
            delay: Duration::ZERO,
            jitter: Duration::ZERO,
            loss: Loss::None,
            rate_kbit: 0,
            queue_ms: 150.0,
        }
    }
}

/// The longest delay or queue accepted (a typo should not hold frames for an hour).
const MAX_MS: f64 = 10_000.0;

fn millis(what: &str, ms: f64) -> Result<Duration, String> {
    if !(0.0..=MAX_MS).contains(&ms) {
        return Err(format!("{what} {ms} ms: must be within 0..={MAX_MS}"));
    }
    Ok(Duration::from_secs_f64(ms / 1000.0))
}

fn probability(what: &str, p: f64) -> Result<f64, String> {
    if !(0.0..=1.0).contains(&p) {
        return Err(format!("{what} {p}: must be within 0..=1"));
    }
    Ok(p)
}

impl Conditions {
    /// These conditions with the options that `args` gives.
    pub fn with(&self, args: &LinkArgs) -> Result<Self, String> {
        let mut c = self.clone();
        if let Some(ms) = args.delay_ms {
            c.delay = millis("--delay-ms", ms)?;
        }
        if let Some(ms) = args.jitter_ms {
            c.jitter = millis("--jitter-ms", ms)?;
        }
        if let Some(pct) = args.loss {
            let p = probability("--loss", pct / 100.0)?;
            c.loss = if p == 0.0 {
                Loss::None
            } else {
                Loss::Random(p)
            };
        }
        if let Some(g) = &args.gilbert {
            let [p, r, loss_good, loss_bad] = g[..] else {
                return Err("--gilbert takes four values".into());
            };
            c.loss = Loss::GilbertElliott {
                p: probability("--gilbert P", p)?,
                r: probability("--gilbert R", r)?,
                loss_good: probability("--gilbert LOSS_GOOD", loss_good)?,
                loss_bad: probability("--gilbert LOSS_BAD", loss_bad)?,
            };
        }
        if let Some(kbit) = args.rate_kbit {
            c.rate_kbit = kbit;
        }
        if let Some(ms) = args.queue_ms {
            millis("--queue-ms", ms)?;
            c.queue_ms = ms;
        }
        Ok(c)
    }

    /// The fixed one-way delay.
    pub fn delay(&self) -> Duration {
        self.delay
    }

    /// How long a `len`-byte frame takes to leave at the rate limit (zero without one).
    pub fn serialization(&self, len: usize) -> Duration {
        if self.rate_kbit == 0 {
            return Duration::ZERO;
        }
        Duration::from_secs_f64(len as f64 * 8.0 / (self.rate_kbit as f64 * 1000.0))
    }

    /// The netsim model of these conditions. The queue is sized in bytes at the current rate,
    /// never below one full-size frame (so a frame always fits an empty queue).
    pub fn params(&self) -> LinkParams {
        let rate_bps = (self.rate_kbit > 0).then_some(self.rate_kbit * 1000);
        let queue_bytes = rate_bps.map_or(0, |bps| {
            ((bps as f64 * self.queue_ms / 1000.0 / 8.0) as usize).max(MAX_FRAME)
        });
        LinkParams {
            latency: self.delay,
            jitter: self.jitter,
            loss: self.loss,
            rate_bps,
            queue_bytes,
            ..LinkParams::default()
        }
    }
}

impl std::fmt::Display for Conditions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "delay {:?} jitter {:?} loss {:?} rate {} queue {} ms",
            self.delay,
            self.jitter,
            self.loss,
            if self.rate_kbit == 0 {
                "unlimited".to_owned()
            } else {
                format!("{} kbit/s", self.rate_kbit)
            },
            self.queue_ms
        )
    }
}

/// The largest Ethernet frame on a 1500-byte MTU link (header, VLAN tag, payload).
pub const MAX_FRAME: usize = 1518;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options_replace_only_what_they_name() {
        let start = Conditions::default()
            .with(&LinkArgs {
                delay_ms: Some(25.0),
                rate_kbit: Some(2000),
                ..LinkArgs::default()
            })
            .unwrap();
        let p = start.params();
        assert_eq!(p.latency, Duration::from_millis(25));
        assert_eq!(p.rate_bps, Some(2_000_000));
        // 150 ms at 2 Mbit/s.
        assert_eq!(p.queue_bytes, 37_500);
        let step = start
            .with(&LinkArgs {
                rate_kbit: Some(600),
                ..LinkArgs::default()
            })
            .unwrap();
        assert_eq!(step.params().latency, Duration::from_millis(25));
        assert_eq!(step.params().queue_bytes, 11_250);
        assert!(
            start
                .with(&LinkArgs {
                    loss: Some(150.0),
                    ..LinkArgs::default()
                })
                .is_err()
        );
        assert_eq!(Conditions::default().params(), LinkParams::default());
    }
}
