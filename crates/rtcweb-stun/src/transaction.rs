//! Client transactions with RFC 8489 section 6.2.1 retransmission timing, on injected time.
//!
//! Over UDP a request is sent, then retransmitted after RTO, 2*RTO, 4*RTO, ... until Rc
//! requests have gone out; the transaction fails Rm*RTO after the last one. With the defaults
//! (RTO 500 ms, Rc 7, Rm 16) the requests leave at 0, 0.5, 1.5, 3.5, 7.5, 15.5 and 31.5 s and
//! the transaction times out at 39.5 s. Over TCP/TLS the request is sent once and times out
//! after Ti (39.5 s). [`TransactionConfig::max_interval`] stops the doubling at a cap (a
//! TURN client spreads 11 requests over the same 39.5 s that way).

use std::time::{Duration, Instant};

use crate::header::TransactionId;

/// Retransmission parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TransactionConfig {
    /// Initial retransmission timeout (RFC 8489 recommends 500 ms or an RTT estimate).
    pub rto: Duration,
    /// Total number of requests to send (Rc, default 7).
    pub rc: u32,
    /// Multiple of the initial RTO to wait after the last request (Rm, default 16).
    pub rm: u32,
    /// Reliable transport (TCP/TLS): no retransmissions, time out after `ti`.
    pub reliable: bool,
    /// Timeout on reliable transports (Ti, default 39.5 s).
    pub ti: Duration,
    /// Longest wait between two requests: the doubling of RTO stops here. `None` (the
    /// default) doubles as RFC 8489 does. With a cap and a larger `rc`, as many seconds
    /// hold more requests, so a request that meets a lossy patch has more chances to get
    /// through before the transaction fails.
    pub max_interval: Option<Duration>,
}

impl Default for TransactionConfig {
    fn default() -> Self {
        TransactionConfig {
            rto: Duration::from_millis(500),
            rc: 7,
            rm: 16,
            reliable: false,
            ti: Duration::from_millis(39_500),
            max_interval: None,
        }
    }
}

impl TransactionConfig {
    /// The defaults for a reliable transport.
    pub fn reliable() -> Self {
        TransactionConfig {
            reliable: true,
            ..Self::default()
        }
    }
}

/// Where a transaction stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TransactionState {
    /// Waiting for a response.
    Pending,
    /// A response arrived.
    Completed,
    /// No response in time.
    TimedOut,
}

/// The timing of one client transaction. It does not hold the request: when
/// [`ClientTransaction::poll_transmit`] says so, the owner (re)sends the same octets.
#[derive(Debug, Clone)]
pub struct ClientTransaction {
    id: TransactionId,
    config: TransactionConfig,
    sent: u32,
    interval: Duration,
    deadline: Instant,
    transmit: bool,
    state: TransactionState,
}

impl ClientTransaction {
    /// Starts a transaction at `now`; the first transmission is due at once.
    pub fn new(now: Instant, id: TransactionId, config: TransactionConfig) -> Self {
        let config = TransactionConfig {
            rc: config.rc.max(1),
            ..config
        };
        let mut t = ClientTransaction {
            id,
            config,
            sent: 1,
            interval: config
                .max_interval
                .map_or(config.rto, |m| config.rto.min(m)),
            deadline: now,
            transmit: true,
            state: TransactionState::Pending,
        };
        t.deadline = now + t.wait_after_send();
        t
    }

    fn wait_after_send(&self) -> Duration {
        if self.config.reliable {
            self.config.ti
        } else if self.sent >= self.config.rc {
            self.config.rto * self.config.rm
        } else {
            self.interval
        }
    }

    /// The transaction id.
    pub fn id(&self) -> TransactionId {
        self.id
    }

    /// The state.
    pub fn state(&self) -> TransactionState {
        self.state
    }

    /// Requests sent so far (including one that is due now).
    pub fn transmissions(&self) -> u32 {
        self.sent
    }

    /// True once per due (re)transmission: the owner must send the request now.
    pub fn poll_transmit(&mut self) -> bool {
        core::mem::take(&mut self.transmit)
    }

    /// The next moment [`ClientTransaction::handle_timeout`] must run, while pending.
    pub fn poll_timeout(&self) -> Option<Instant> {
        (self.state == TransactionState::Pending).then_some(self.deadline)
    }

    /// Advances the timers to `now`.
    pub fn handle_timeout(&mut self, now: Instant) {
        if self.state != TransactionState::Pending || now < self.deadline {
            return;
        }
        if self.config.reliable || self.sent >= self.config.rc {
            self.state = TransactionState::TimedOut;
            self.transmit = false;
            return;
        }
        self.sent += 1;
        self.interval *= 2;
        if let Some(max) = self.config.max_interval {
            self.interval = self.interval.min(max);
        }
        self.transmit = true;
        self.deadline = now + self.wait_after_send();
    }

    /// A response for this transaction arrived (the caller matched the id and checked it).
    pub fn handle_response(&mut self) {
        if self.state == TransactionState::Pending {
            self.state = TransactionState::Completed;
            self.transmit = false;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(config: TransactionConfig) -> (Vec<u64>, u64) {
        let t0 = Instant::now();
        let mut t = ClientTransaction::new(t0, TransactionId([1; 12]), config);
        let mut sends = Vec::new();
        loop {
            if t.poll_transmit() {
                sends.push(0);
            }
            let Some(at) = t.poll_timeout() else { break };
            t.handle_timeout(at);
            if t.poll_transmit() {
                sends.push((at - t0).as_millis() as u64);
            }
            if t.state() == TransactionState::TimedOut {
                return (sends, (at - t0).as_millis() as u64);
            }
        }
        unreachable!("transactions always end")
    }

    #[test]
    fn rfc8489_udp_schedule() {
        let (sends, timeout) = run(TransactionConfig::default());
        assert_eq!(sends, vec![0, 500, 1500, 3500, 7500, 15500, 31500]);
        assert_eq!(timeout, 39500);
    }

    #[test]
    fn a_capped_interval_spreads_more_requests_over_the_same_time() {
        let (sends, timeout) = run(TransactionConfig {
            rc: 11,
            max_interval: Some(Duration::from_secs(4)),
            ..TransactionConfig::default()
        });
        assert_eq!(
            sends,
            vec![
                0, 500, 1500, 3500, 7500, 11500, 15500, 19500, 23500, 27500, 31500
            ]
        );
        assert_eq!(timeout, 39500);
    }

    #[test]
    fn reliable_sends_once() {
        let (sends, timeout) = run(TransactionConfig::reliable());
        assert_eq!(sends, vec![0]);
        assert_eq!(timeout, 39500);
    }

    #[test]
    fn response_stops_timers() {
        let t0 = Instant::now();
        let mut t =
            ClientTransaction::new(t0, TransactionId([1; 12]), TransactionConfig::default());
        assert!(t.poll_transmit());
        t.handle_response();
        assert_eq!(t.poll_timeout(), None);
        t.handle_timeout(t0 + Duration::from_secs(100));
        assert!(!t.poll_transmit());
        assert_eq!(t.state(), TransactionState::Completed);
    }

    #[test]
    fn early_timeout_call_is_harmless() {
        let t0 = Instant::now();
        let mut t =
            ClientTransaction::new(t0, TransactionId([1; 12]), TransactionConfig::default());
        assert!(t.poll_transmit());
        t.handle_timeout(t0 + Duration::from_millis(499));
        assert!(!t.poll_transmit());
        assert_eq!(t.transmissions(), 1);
    }
}
