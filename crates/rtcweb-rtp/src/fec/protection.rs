//! How much FEC to send: a rate of FEC packets per media packet, from the loss the receiver
//! reports (RTCP fraction lost, which counts losses before any repair) and the round trip.
//!
//! Without NACK, FEC is the only repair: the rate follows the loss, `loss_gain` FEC packets
//! per lost one, up to `max_rate`. With NACK a loss costs one round trip to repair, which is
//! cheap on a short path: the rate is scaled by how expensive a round trip is, from nothing
//! at `nack_only_rtt` and below to the full rate at `fec_only_rtt` and above (libwebrtc's
//! hybrid NACK/FEC does the same between 20 and 100 ms).

use std::time::Duration;

/// Weight of a new report in the smoothed loss.
const SMOOTHING: f64 = 0.2;

/// Settings of [`Protection`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ProtectionConfig {
    /// FEC packets per lost packet (0.5 FEC per media packet at 5 % loss with 10).
    pub loss_gain: f64,
    /// The rate never goes above this.
    pub max_rate: f64,
    /// Loss below this is not worth protecting against.
    pub min_loss: f64,
    /// The loss assumed before the first report.
    pub initial_loss: f64,
    /// With NACK: a round trip this short or shorter gets no FEC.
    pub nack_only_rtt: Duration,
    /// With NACK: a round trip this long or longer gets the full rate.
    pub fec_only_rtt: Duration,
}

impl Default for ProtectionConfig {
    fn default() -> Self {
        Self {
            loss_gain: 10.0,
            max_rate: 0.5,
            min_loss: 0.005,
            initial_loss: 0.02,
            nack_only_rtt: Duration::from_millis(20),
            fec_only_rtt: Duration::from_millis(100),
        }
    }
}

/// The protection rate of one stream.
///
/// ```
/// use std::time::Duration;
/// use rtcweb_rtp::fec::{Protection, ProtectionConfig};
///
/// let mut p = Protection::new(ProtectionConfig::default(), true);
/// p.on_loss(13); // 5 % (13/256): 10 FEC packets per lost one, at most 0.5
/// p.on_rtt(Duration::from_millis(150));
/// assert!((p.rate() - 0.5).abs() < 0.01);
/// p.on_rtt(Duration::from_millis(10));
/// assert_eq!(p.rate(), 0.0, "a cheap round trip: NACK repairs");
/// ```
#[derive(Debug, Clone)]
pub struct Protection {
    config: ProtectionConfig,
    nack: bool,
    loss: f64,
    reported: bool,
    rtt: Option<Duration>,
}

impl Protection {
    /// The rate of a stream the receiver repairs with NACK (`nack`) or not.
    pub fn new(config: ProtectionConfig, nack: bool) -> Self {
        Self {
            loss: config.initial_loss,
            config,
            nack,
            reported: false,
            rtt: None,
        }
    }

    /// Whether NACK is negotiated.
    pub fn set_nack(&mut self, nack: bool) {
        self.nack = nack;
    }

    /// A report's fraction lost (in 1/256). The first replaces the assumption; later ones
    /// are smoothed: reports come several times a second, each over a few dozen packets,
    /// and a rate that swings with each one protects less on average than a steady one.
    pub fn on_loss(&mut self, fraction_lost: u8) {
        let loss = f64::from(fraction_lost) / 256.0;
        if self.reported {
            self.loss += SMOOTHING * (loss - self.loss);
        } else {
            self.loss = loss;
            self.reported = true;
        }
    }

    /// A round-trip time measurement.
    pub fn on_rtt(&mut self, rtt: Duration) {
        self.rtt = Some(rtt);
    }

    /// The smoothed loss.
    pub fn loss(&self) -> f64 {
        self.loss
    }

    /// FEC packets per media packet.
    pub fn rate(&self) -> f64 {
        let c = &self.config;
        if self.loss < c.min_loss {
            return 0.0;
        }
        let full = (self.loss * c.loss_gain).min(c.max_rate);
        if !self.nack {
            return full;
        }
        let Some(rtt) = self.rtt else {
            // Before a measurement, assume the repair is cheap.
            return 0.0;
        };
        if rtt <= c.nack_only_rtt {
            return 0.0;
        }
        if rtt >= c.fec_only_rtt {
            return full;
        }
        let span = (c.fec_only_rtt - c.nack_only_rtt).as_secs_f64();
        full * (rtt - c.nack_only_rtt).as_secs_f64() / span
    }
}
