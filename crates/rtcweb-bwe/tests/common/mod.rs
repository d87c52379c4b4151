//! A reusable simulated-link harness for the estimator and the pacer: senders with a
//! synthetic 30 fps encoder that follows the target, a receiver sending feedback every
//! 50 ms, one bottleneck (rate limit with a drop-tail queue, propagation delay, loss) on
//! rtcweb-netsim. A scenario is data ([`Scenario`]); a run gives a time series
//! ([`Report`]) of capacity, target, sent and received rate and queueing delay per flow,
//! which the tests assert on, print, and (with `BWE_SIM_CSV=<dir>`) write as CSV for plots.

#![allow(dead_code, clippy::unwrap_used)]

pub mod endpoints;
pub mod wire;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use rtcweb_bwe::{Bitrate, Config};
use rtcweb_netsim::{HostId, LinkParams, Loss, Network, Node, Simulation};

use endpoints::{Receiver, Sender, SenderSpec};

/// A simulated run.
#[derive(Debug, Clone)]
pub struct Scenario {
    pub name: &'static str,
    pub seed: u64,
    /// Bottleneck capacity over time: (from, rate), sorted, the first at zero.
    pub capacity: Vec<(Duration, Bitrate)>,
    /// One-way propagation delay each way (the base RTT is twice this).
    pub one_way: Duration,
    /// Drop-tail queue of the bottleneck, as time at the current capacity.
    pub queue: Duration,
    /// Loss on the bottleneck direction.
    pub loss: Loss,
    pub jitter: Duration,
    pub duration: Duration,
    pub flows: Vec<SenderSpec>,
    /// Report interval of the receiver.
    pub feedback_interval: Duration,
    /// Sampling interval of the report.
    pub sample: Duration,
}

impl Scenario {
    /// The standard bottleneck of issue 14: `capacity`, 50 ms base RTT, 300 ms drop-tail
    /// queue, one video flow with default settings, 30 s.
    pub fn standard(name: &'static str, capacity: Bitrate) -> Self {
        Self {
            name,
            seed: 1,
            capacity: vec![(Duration::ZERO, capacity)],
            one_way: Duration::from_millis(25),
            queue: Duration::from_millis(300),
            loss: Loss::None,
            jitter: Duration::ZERO,
            duration: Duration::from_secs(30),
            flows: vec![flow(0, Duration::ZERO)],
            feedback_interval: Duration::from_millis(50),
            sample: Duration::from_millis(100),
        }
    }
}

/// A video flow with default settings starting at `start`.
pub fn flow(id: u8, start: Duration) -> SenderSpec {
    SenderSpec {
        flow: id,
        config: Config::default(),
        start,
        app_limit: None,
        app_limit_until: None,
        audio: false,
        frame_noise: 0.15,
        seed: 100 + u64::from(id),
    }
}

/// One flow at one sample time.
#[derive(Debug, Clone, Copy, Default)]
pub struct FlowSample {
    /// Target at the end of the interval, bit/s.
    pub target: f64,
    /// Media sent during the interval, bit/s.
    pub sent: f64,
    /// Padding (incl. probe padding) sent, bit/s.
    pub padding: f64,
    /// Everything received, bit/s.
    pub received: f64,
    /// Mean and max queueing delay of the packets received, ms.
    pub queue_ms: f64,
    pub queue_max_ms: f64,
    pub packets: u64,
    /// The estimator's own view of the standing queue, ms.
    pub est_queue_ms: f64,
    pub in_alr: bool,
}

/// One sample time.
#[derive(Debug, Clone)]
pub struct Sample {
    /// End of the interval, since the start.
    pub t: Duration,
    pub capacity: f64,
    pub flows: Vec<FlowSample>,
}

/// The time series of a run.
#[derive(Debug, Clone)]
pub struct Report {
    pub name: &'static str,
    pub sample: Duration,
    pub samples: Vec<Sample>,
}

const RECEIVER: &str = "198.18.0.1";

fn sender_addr(i: usize) -> SocketAddr {
    format!("198.18.1.{}:5000", i + 1).parse().unwrap()
}

fn bottleneck(s: &Scenario, capacity: Bitrate) -> (LinkParams, LinkParams) {
    let up = LinkParams::with_latency(s.one_way);
    let down = LinkParams {
        latency: s.one_way,
        jitter: s.jitter,
        loss: s.loss,
        rate_bps: Some(capacity.bps()),
        queue_bytes: capacity.bytes_in(s.queue) as usize,
        ..LinkParams::default()
    };
    (up, down)
}

/// Runs `s` and returns its report.
pub fn run(s: &Scenario) -> Report {
    let start = Instant::now();
    let mut net = Network::new(start, s.seed);
    let inet = net.internet();
    let rx_host = net.add_host("receiver", inet, &[RECEIVER.parse().unwrap()]);
    let mut senders: Vec<HostId> = Vec::new();
    for (i, _) in s.flows.iter().enumerate() {
        let addr = sender_addr(i);
        senders.push(net.add_host(&format!("sender{i}"), inet, &[addr.ip()]));
    }
    let (up, down) = bottleneck(s, s.capacity[0].1);
    net.set_link_directions(Node::Host(rx_host), up, down);
    let mut sim = Simulation::new(net);
    let rx_addr: SocketAddr = format!("{RECEIVER}:6000").parse().unwrap();
    let mut receiver = Receiver::new(rx_addr, start, s.flows.len(), s.feedback_interval);
    receiver.one_way = s.one_way;
    receiver.capacity_bps = s.capacity[0].1.as_f64();
    sim.attach(rx_host, receiver);
    for (i, spec) in s.flows.iter().enumerate() {
        let sender = Sender::new(spec.clone(), sender_addr(i), rx_addr, start);
        sim.attach(senders[i], sender);
    }

    let mut samples = Vec::new();
    let mut capacity = s.capacity[0].1;
    let mut t = Duration::ZERO;
    while t < s.duration {
        if let Some(&(_, c)) = s.capacity.iter().rev().find(|(at, _)| *at <= t)
            && c != capacity
        {
            capacity = c;
            let (up, down) = bottleneck(s, c);
            sim.net_mut()
                .set_link_directions(Node::Host(rx_host), up, down);
            sim.endpoint_mut::<Receiver>(rx_host).capacity_bps = c.as_f64();
        }
        t += s.sample;
        sim.run_until(start + t, |_| false);
        let secs = s.sample.as_secs_f64();
        let mut flows = Vec::new();
        for (i, host) in senders.iter().enumerate() {
            let rx = sim.endpoint_mut::<Receiver>(rx_host).take_counters(i);
            let tx = sim.endpoint_mut::<Sender>(*host);
            let c = std::mem::take(&mut tx.counters);
            flows.push(FlowSample {
                target: tx.rate.map_or(0.0, |r| r.target.as_f64()),
                sent: c.media_bytes as f64 * 8.0 / secs,
                padding: c.padding_bytes as f64 * 8.0 / secs,
                received: rx.bytes as f64 * 8.0 / secs,
                queue_ms: if rx.packets > 0 {
                    rx.queue_sum_us as f64 / rx.packets as f64 / 1000.0
                } else {
                    0.0
                },
                queue_max_ms: rx.queue_max_us as f64 / 1000.0,
                packets: rx.packets,
                est_queue_ms: tx.bwe.queue_delay().as_secs_f64() * 1000.0,
                in_alr: tx.bwe.in_alr(),
            });
        }
        samples.push(Sample {
            t,
            capacity: capacity.as_f64(),
            flows,
        });
    }
    let report = Report {
        name: s.name,
        sample: s.sample,
        samples,
    };
    report.write_csv();
    report
}

impl Report {
    fn window(&self, from: Duration, to: Duration) -> impl Iterator<Item = &Sample> {
        self.samples.iter().filter(move |s| s.t > from && s.t <= to)
    }

    /// Mean received rate of a flow over (from, to], bit/s.
    pub fn received(&self, flow: usize, from: Duration, to: Duration) -> f64 {
        mean(self.window(from, to).map(|s| s.flows[flow].received))
    }

    /// Mean media rate sent by a flow over (from, to], bit/s.
    pub fn sent(&self, flow: usize, from: Duration, to: Duration) -> f64 {
        mean(self.window(from, to).map(|s| s.flows[flow].sent))
    }

    /// Mean target of a flow over (from, to], bit/s.
    pub fn target(&self, flow: usize, from: Duration, to: Duration) -> f64 {
        mean(self.window(from, to).map(|s| s.flows[flow].target))
    }

    /// Highest target of a flow over (from, to], bit/s.
    pub fn max_target(&self, flow: usize, from: Duration, to: Duration) -> f64 {
        self.window(from, to)
            .map(|s| s.flows[flow].target)
            .fold(0.0, f64::max)
    }

    /// The target at time `t` (the sample ending at or just after it).
    pub fn target_at(&self, flow: usize, t: Duration) -> f64 {
        self.samples
            .iter()
            .find(|s| s.t >= t)
            .map_or(0.0, |s| s.flows[flow].target)
    }

    /// Everything received by all flows over (from, to] against the capacity.
    pub fn utilization(&self, from: Duration, to: Duration) -> f64 {
        let (mut got, mut cap) = (0.0, 0.0);
        for s in self.window(from, to) {
            got += s.flows.iter().map(|f| f.received).sum::<f64>();
            cap += s.capacity;
        }
        if cap > 0.0 { got / cap } else { 0.0 }
    }

    /// Mean queueing delay over all packets received in (from, to], ms.
    pub fn queue_ms(&self, from: Duration, to: Duration) -> f64 {
        let (mut sum, mut n) = (0.0, 0u64);
        for s in self.window(from, to) {
            for f in &s.flows {
                sum += f.queue_ms * f.packets as f64;
                n += f.packets;
            }
        }
        if n > 0 { sum / n as f64 } else { 0.0 }
    }

    /// Largest per-packet queueing delay in (from, to], ms.
    pub fn max_queue_ms(&self, from: Duration, to: Duration) -> f64 {
        self.window(from, to)
            .flat_map(|s| s.flows.iter().map(|f| f.queue_max_ms))
            .fold(0.0, f64::max)
    }

    /// The first sample end after `from` from which on every sample satisfies `pred`
    /// up to `to`.
    pub fn settled_from(
        &self,
        from: Duration,
        to: Duration,
        pred: impl Fn(&Sample) -> bool,
    ) -> Option<Duration> {
        let mut since = None;
        for s in self.window(from, to) {
            if pred(s) {
                since.get_or_insert(s.t);
            } else {
                since = None;
            }
        }
        since
    }

    /// The first sample end after `from` that satisfies `pred`.
    pub fn first(&self, from: Duration, pred: impl Fn(&Sample) -> bool) -> Option<Duration> {
        self.samples
            .iter()
            .find(|s| s.t > from && pred(s))
            .map(|s| s.t)
    }

    /// Jain's fairness index of the flows' mean received rates over (from, to].
    pub fn jain(&self, from: Duration, to: Duration) -> f64 {
        let n = self.samples.first().map_or(0, |s| s.flows.len());
        let rates: Vec<f64> = (0..n).map(|f| self.received(f, from, to)).collect();
        let sum: f64 = rates.iter().sum();
        let sq: f64 = rates.iter().map(|r| r * r).sum();
        if sq > 0.0 {
            sum * sum / (n as f64 * sq)
        } else {
            0.0
        }
    }

    /// Prints the series at one line per second (for the test log).
    pub fn print_series(&self) {
        println!(
            "{}: t, capacity, then per flow target/received (kbit/s), queue ms",
            self.name
        );
        let per_sec = (1.0 / self.sample.as_secs_f64()).round().max(1.0) as usize;
        for chunk in self.samples.chunks(per_sec) {
            let last = chunk.last().unwrap();
            let mut line = format!("{:5.1}s {:6.0}", last.t.as_secs_f64(), last.capacity / 1e3);
            for f in 0..last.flows.len() {
                let rx = mean(chunk.iter().map(|s| s.flows[f].received));
                let q = mean(chunk.iter().map(|s| s.flows[f].queue_ms));
                let alr = if last.flows[f].in_alr { "A" } else { " " };
                line += &format!(
                    " | {:6.0} {:6.0} {:5.1}ms{alr}",
                    last.flows[f].target / 1e3,
                    rx / 1e3,
                    q
                );
            }
            println!("{line}");
        }
    }

    /// Writes the series to `$BWE_SIM_CSV/<name>.csv` when that variable is set.
    fn write_csv(&self) {
        let Some(dir) = std::env::var_os("BWE_SIM_CSV") else {
            return;
        };
        let mut out = String::from(
            "t_s,capacity_bps,flow,target_bps,sent_bps,padding_bps,received_bps,queue_ms,queue_max_ms,est_queue_ms,alr\n",
        );
        for s in &self.samples {
            for (i, f) in s.flows.iter().enumerate() {
                out += &format!(
                    "{:.3},{:.0},{i},{:.0},{:.0},{:.0},{:.0},{:.2},{:.2},{:.2},{}\n",
                    s.t.as_secs_f64(),
                    s.capacity,
                    f.target,
                    f.sent,
                    f.padding,
                    f.received,
                    f.queue_ms,
                    f.queue_max_ms,
                    f.est_queue_ms,
                    u8::from(f.in_alr)
                );
            }
        }
        let path = std::path::Path::new(&dir).join(format!("{}.csv", self.name));
        std::fs::write(path, out).unwrap();
    }
}

fn mean(it: impl Iterator<Item = f64>) -> f64 {
    let (mut sum, mut n) = (0.0, 0usize);
    for x in it {
        sum += x;
        n += 1;
    }
    if n > 0 { sum / n as f64 } else { 0.0 }
}

/// Seconds as a `Duration`.
pub fn secs(s: f64) -> Duration {
    Duration::from_secs_f64(s)
}
