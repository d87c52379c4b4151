//! Link conditions: what happens to a datagram on one direction of a node's access link.

use std::time::{Duration, Instant};

use rtcweb_core::{Rng, Seed};

/// How a link loses packets.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub enum Loss {
    /// Nothing is lost.
    #[default]
    None,
    /// Each packet is lost independently with this probability.
    Random(f64),
    /// Bursty loss: the Gilbert-Elliott two-state Markov model. The link is either in the
    /// good or the bad state; before each packet it moves good→bad with `p` and bad→good
    /// with `r`, then drops the packet with the loss probability of the state it is in.
    /// The long-run loss rate is `(r·loss_good + p·loss_bad) / (p + r)`.
    GilbertElliott {
        /// Probability of moving from the good to the bad state.
        p: f64,
        /// Probability of moving from the bad to the good state.
        r: f64,
        /// Loss probability in the good state (often 0).
        loss_good: f64,
        /// Loss probability in the bad state (often 1).
        loss_bad: f64,
    },
}

/// The conditions of one direction of a link. The default is a perfect link: no delay, no
/// loss, no MTU, no rate limit.
///
/// ```
/// use std::time::Duration;
/// use rtcweb_netsim::{LinkParams, Loss};
///
/// let lossy_wifi = LinkParams {
///     latency: Duration::from_millis(20),
///     jitter: Duration::from_millis(5),
///     loss: Loss::Random(0.05),
///     ..LinkParams::default()
/// };
/// assert_eq!(lossy_wifi.mtu, None);
/// ```
#[derive(Debug, Clone, PartialEq, Default)]
pub struct LinkParams {
    /// Fixed one-way delay.
    pub latency: Duration,
    /// Extra delay drawn uniformly from `[0, jitter)` per packet. Jitter larger than the gap
    /// between packets reorders them, as on real paths.
    pub jitter: Duration,
    /// Loss model.
    pub loss: Loss,
    /// Probability that a packet is delivered twice (the copy gets its own jitter).
    pub duplicate: f64,
    /// Probability that a packet is held back by `reorder_delay`, so later ones overtake it.
    pub reorder: f64,
    /// How long a reordered packet is held back.
    pub reorder_delay: Duration,
    /// Largest datagram payload that passes; larger ones are dropped (no fragmentation).
    pub mtu: Option<usize>,
    /// Rate limit in bits per second, with a drop-tail queue of `queue_bytes`.
    pub rate_bps: Option<u64>,
    /// Drop-tail queue size for the rate limit. Ignored without `rate_bps`.
    pub queue_bytes: usize,
}

impl LinkParams {
    /// A link with only a fixed one-way delay.
    pub fn with_latency(latency: Duration) -> Self {
        Self {
            latency,
            ..Self::default()
        }
    }
}

/// Why a datagram did not arrive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum DropReason {
    /// The link's loss model dropped it.
    Loss,
    /// It was larger than the link MTU.
    Mtu,
    /// The rate limiter's queue was full.
    QueueFull,
    /// The link was cut (`Network::set_blackhole`).
    Blackhole,
    /// A NAT had no live mapping for the destination port.
    NoMapping,
    /// A NAT's filtering behaviour refused it.
    Filtered,
    /// A NAT with hairpinning off received a packet for its own external address from inside.
    NoHairpin,
    /// A NAT ran out of external ports.
    PortsExhausted,
    /// No host owns the destination address and there is no way up.
    NoRoute,
    /// It arrived at a host with no endpoint attached.
    NoEndpoint,
}

/// The per-direction state behind [`LinkParams`].
#[derive(Debug, Clone, Default)]
pub(crate) struct LinkState {
    pub(crate) params: LinkParams,
    pub(crate) blackhole: bool,
    in_bad_state: bool,
    /// When the rate limiter finishes sending what is queued.
    busy_until: Option<Instant>,
}

impl LinkState {
    /// Decides the fate of a `len`-byte datagram entering the link at `now`: the delays at
    /// which copies leave the far end (one, or two when duplicated), or why it is dropped.
    pub(crate) fn transit(
        &mut self,
        now: Instant,
        len: usize,
        rng: &mut Rng,
    ) -> Result<Copies, DropReason> {
        if self.blackhole {
            return Err(DropReason::Blackhole);
        }
        let p = &self.params;
        if p.mtu.is_some_and(|mtu| len > mtu) {
            return Err(DropReason::Mtu);
        }
        if self.lost(rng) {
            return Err(DropReason::Loss);
        }
        let p = &self.params;
        let mut queued = Duration::ZERO;
        if let Some(rate) = p.rate_bps.filter(|r| *r > 0) {
            let busy = self.busy_until.filter(|b| *b > now).unwrap_or(now);
            let backlog = busy - now;
            let backlog_bytes = backlog.as_secs_f64() * rate as f64 / 8.0;
            if backlog_bytes + len as f64 > p.queue_bytes.max(len) as f64 {
                return Err(DropReason::QueueFull);
            }
            let tx = Duration::from_secs_f64(len as f64 * 8.0 / rate as f64);
            self.busy_until = Some(busy + tx);
            queued = backlog + tx;
        }
        let first = queued + self.one_delay(rng);
        let second = rng
            .chance(self.params.duplicate)
            .then(|| queued + self.one_delay(rng));
        Ok(Copies { first, second })
    }

    fn one_delay(&self, rng: &mut Rng) -> Duration {
        let p = &self.params;
        let mut d = p.latency;
        if !p.jitter.is_zero() {
            d += Duration::from_nanos(rng.below(p.jitter.as_nanos().max(1) as u64));
        }
        if rng.chance(p.reorder) {
            d += p.reorder_delay;
        }
        d
    }

    fn lost(&mut self, rng: &mut Rng) -> bool {
        match self.params.loss {
            Loss::None => false,
            Loss::Random(prob) => rng.chance(prob),
            Loss::GilbertElliott {
                p,
                r,
                loss_good,
                loss_bad,
            } => {
                let flip = if self.in_bad_state { r } else { p };
                if rng.chance(flip) {
                    self.in_bad_state = !self.in_bad_state;
                }
                rng.chance(if self.in_bad_state {
                    loss_bad
                } else {
                    loss_good
                })
            }
        }
    }
}

/// Delays of the copies of one datagram through a link.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Copies {
    pub(crate) first: Duration,
    pub(crate) second: Option<Duration>,
}

/// One direction of a link on its own, outside a [`Network`](crate::Network): what a real
/// packet path (a delay line bridging two interfaces, for one) uses to apply the same model
/// as the simulator. It takes a packet's arrival time and length and says when its copies
/// leave the far end, or why it is dropped; holding the packet until then is the caller's job.
///
/// ```
/// use std::time::{Duration, Instant};
/// use rtcweb_netsim::{Link, LinkParams};
///
/// let start = Instant::now();
/// let mut link = Link::new(
///     LinkParams {
///         latency: Duration::from_millis(25),
///         rate_bps: Some(1_000_000),
///         queue_bytes: 10_000,
///         ..LinkParams::default()
///     },
///     7,
/// );
/// // 1250 bytes at 1 Mbit/s take 10 ms to send, then 25 ms to cross.
/// let first = link.transit(start, 1250).unwrap();
/// assert_eq!(first.first, start + Duration::from_millis(35));
/// // The next one waits behind it in the queue.
/// let second = link.transit(start, 1250).unwrap();
/// assert_eq!(second.first, start + Duration::from_millis(45));
/// ```
#[derive(Debug)]
pub struct Link {
    state: LinkState,
    rng: Rng,
}

/// When the copies of one packet leave a [`Link`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Departures {
    /// When the packet leaves the far end.
    pub first: Instant,
    /// When its duplicate leaves, if the link duplicated it.
    pub second: Option<Instant>,
}

impl Link {
    /// A link with these conditions; the seed makes its loss and jitter draws repeatable.
    pub fn new(params: LinkParams, seed: impl Into<Seed>) -> Self {
        Self {
            state: LinkState {
                params,
                ..LinkState::default()
            },
            rng: Rng::new(seed),
        }
    }

    /// The conditions in force.
    pub fn params(&self) -> &LinkParams {
        &self.state.params
    }

    /// Changes the conditions (a capacity step, say). Packets already accepted keep their
    /// departure times; the queue they form still counts against the new rate and queue size.
    pub fn set_params(&mut self, params: LinkParams) {
        self.state.params = params;
    }

    /// A `len`-byte packet enters the link at `now`: when its copies leave, or why it is
    /// dropped. Calls must come in time order.
    pub fn transit(&mut self, now: Instant, len: usize) -> Result<Departures, DropReason> {
        let copies = self.state.transit(now, len, &mut self.rng)?;
        Ok(Departures {
            first: now + copies.first,
            second: copies.second.map(|d| now + d),
        })
    }
}
