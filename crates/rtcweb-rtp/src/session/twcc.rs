//! Transport-wide congestion control: sequence numbers and send history on the send side,
//! arrival recording and feedback generation on the receive side.

use std::collections::{BTreeMap, VecDeque};
use std::time::{Duration, Instant};

use crate::rtcp::{TransportFeedback, TransportFeedbackRepr};
use crate::seq::SeqUnwrapper;

/// One packet of a transport feedback report, matched with what we sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PacketFeedback {
    /// Transport-wide sequence number (extended).
    pub sequence: u64,
    /// When we sent it.
    pub sent_at: Instant,
    /// Its size in octets (the whole RTP packet before SRTP).
    pub size: usize,
    /// Its arrival time on the receiver's clock in microseconds (the reference time plus
    /// the deltas), or `None` if it was reported lost.
    pub arrival_us: Option<i64>,
}

/// Packets remembered for matching feedback.
const SEND_HISTORY: usize = 8192;

#[derive(Debug, Clone, Copy)]
struct Sent {
    at: Instant,
    size: usize,
}

/// Send side: hands out sequence numbers and remembers send times.
#[derive(Debug, Default)]
pub(crate) struct TwccSender {
    /// Extended sequence number of `history[0]`.
    first: u64,
    history: VecDeque<Sent>,
    next: u64,
}

impl TwccSender {
    pub fn new(start: u16) -> Self {
        Self {
            first: u64::from(start),
            history: VecDeque::new(),
            next: u64::from(start),
        }
    }

    /// The next sequence number (extended; the wire carries its low 16 bits), recorded as
    /// sent at `now`.
    pub fn on_send(&mut self, now: Instant, size: usize) -> u64 {
        let seq = self.next;
        self.next += 1;
        if self.history.len() >= SEND_HISTORY {
            self.history.pop_front();
            self.first += 1;
        }
        self.history.push_back(Sent { at: now, size });
        seq
    }

    /// Extends `seq` to the sent packet nearest the newest.
    fn extend(&self, seq: u16) -> Option<u64> {
        let newest = self.next.checked_sub(1)?;
        let d = i64::from((newest as u16).wrapping_sub(seq) as i16);
        u64::try_from(newest as i64 - d).ok()
    }

    /// Matches a feedback message with the send history.
    pub fn on_feedback(&self, fb: &TransportFeedback<'_>, out: &mut Vec<PacketFeedback>) {
        let mut arrival = i64::from(fb.reference_time) * crate::rtcp::REFERENCE_UNIT_US;
        for (seq, delta) in fb.packets() {
            let arrival_us = delta.map(|d| {
                arrival += i64::from(d) * crate::rtcp::DELTA_UNIT_US;
                arrival
            });
            let Some(ext) = self.extend(seq) else {
                continue;
            };
            let Some(sent) = ext
                .checked_sub(self.first)
                .and_then(|i| self.history.get(usize::try_from(i).ok()?))
            else {
                continue;
            };
            out.push(PacketFeedback {
                sequence: ext,
                sent_at: sent.at,
                size: sent.size,
                arrival_us,
            });
        }
    }
}

/// Arrivals held at most before they are reported.
const MAX_HELD: usize = 8192;
/// Packets per feedback message at most.
const MAX_PER_FEEDBACK: usize = 1000;
const TICK: Duration = Duration::from_micros(250);

/// Receive side: records arrivals and writes feedback messages.
#[derive(Debug)]
pub(crate) struct TwccReceiver {
    unwrapper: SeqUnwrapper,
    arrivals: BTreeMap<u64, Instant>,
    /// First sequence number not yet reported.
    next_base: Option<u64>,
    feedback_count: u8,
    epoch: Instant,
}

impl TwccReceiver {
    pub fn new(epoch: Instant) -> Self {
        Self {
            unwrapper: SeqUnwrapper::new(),
            arrivals: BTreeMap::new(),
            next_base: None,
            feedback_count: 0,
            epoch,
        }
    }

    pub fn has_pending(&self) -> bool {
        !self.arrivals.is_empty()
    }

    pub fn on_packet(&mut self, now: Instant, seq: u16) {
        let s = self.unwrapper.unwrap(seq);
        match self.next_base {
            Some(b) if s < b => {
                // Reordered behind a report that already called it lost: a late
                // arrival is only reported when the gap is small enough to re-report.
                return;
            }
            Some(_) => {}
            None => self.next_base = Some(s),
        }
        if self.arrivals.len() >= MAX_HELD
            && let Some((k, _)) = self.arrivals.pop_first()
        {
            self.next_base = Some(k + 1);
        }
        self.arrivals.insert(s, now);
    }

    fn ticks(&self, t: Instant) -> i64 {
        (t.saturating_duration_since(self.epoch).as_micros() / TICK.as_micros()) as i64
    }

    /// Writes feedback for everything received since the last call.
    pub fn build(&mut self, sender_ssrc: u32, media_ssrc: u32, out: &mut Vec<Vec<u8>>) {
        let mut deltas: Vec<Option<i32>> = Vec::new();
        while let (Some(base), Some((&first, &first_at))) =
            (self.next_base, self.arrivals.first_key_value())
        {
            let base = base.max(first.saturating_sub(MAX_PER_FEEDBACK as u64 / 2));
            // Reference time: 64 ms units (256 ticks); the first delta is then 0..=255.
            let reference = self.ticks(first_at) / 256;
            let mut prev = reference * 256;
            deltas.clear();
            let last = self.arrivals.keys().next_back().copied().unwrap_or(first);
            let mut seq = base;
            while seq <= last && deltas.len() < MAX_PER_FEEDBACK {
                match self.arrivals.get(&seq) {
                    Some(&at) => {
                        let t = self.ticks(at);
                        let d = t - prev;
                        if i16::try_from(d).is_err() {
                            break;
                        }
                        deltas.push(Some(d as i32));
                        prev = t;
                    }
                    None => deltas.push(None),
                }
                seq += 1;
            }
            // Drop trailing losses: the next message will cover them.
            while deltas.last().is_some_and(Option::is_none) {
                deltas.pop();
            }
            if deltas.is_empty() {
                // Cannot happen (the first arrival always fits), but never loop forever.
                self.arrivals.pop_first();
                continue;
            }
            let repr = TransportFeedbackRepr {
                sender_ssrc,
                media_ssrc,
                base_sequence_number: base as u16,
                reference_time: (reference as u32) & 0x00ff_ffff,
                feedback_packet_count: self.feedback_count,
                packets: &deltas,
            };
            let mut buf = vec![0; repr.buffer_len()];
            if repr.emit(&mut buf).is_ok() {
                out.push(buf);
            }
            self.feedback_count = self.feedback_count.wrapping_add(1);
            let next = base + deltas.len() as u64;
            self.next_base = Some(next);
            while let Some((&k, _)) = self.arrivals.first_key_value() {
                if k >= next {
                    break;
                }
                self.arrivals.remove(&k);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rtcp::{RtcpPacket, RtcpPackets};

    #[test]
    fn feedback_reports_arrivals_and_losses_back_to_the_sender() {
        let t0 = Instant::now();
        let mut tx = TwccSender::new(65530);
        let mut rx = TwccReceiver::new(t0);
        for i in 0..20u64 {
            let sent = t0 + Duration::from_millis(5 * i);
            let seq = tx.on_send(sent, 1000 + i as usize);
            if i % 4 != 3 {
                rx.on_packet(sent + Duration::from_millis(30 + i), seq as u16);
            }
        }
        let mut msgs = Vec::new();
        rx.build(1, 2, &mut msgs);
        assert_eq!(msgs.len(), 1);
        let mut results = Vec::new();
        for m in &msgs {
            for p in RtcpPackets::new(m) {
                if let Ok(RtcpPacket::TransportFeedback(fb)) = p {
                    tx.on_feedback(&fb, &mut results);
                }
            }
        }
        assert_eq!(
            results.len(),
            19,
            "the last packet was lost: not reported yet"
        );
        for (i, r) in results.iter().enumerate() {
            assert_eq!(r.sequence, 65530 + i as u64);
            assert_eq!(r.size, 1000 + i);
            if i % 4 == 3 {
                assert_eq!(r.arrival_us, None);
            } else {
                // Arrival = 5 i + 30 + i ms after t0, to 250 µs.
                let want = (6 * i as i64 + 30) * 1000;
                assert!((r.arrival_us.unwrap() - want).abs() <= 250, "{r:?}");
            }
        }
        // Nothing new: no message.
        msgs.clear();
        rx.build(1, 2, &mut msgs);
        assert!(msgs.is_empty());
    }

    #[test]
    fn long_gaps_in_time_split_messages() {
        let t0 = Instant::now();
        let mut rx = TwccReceiver::new(t0);
        rx.on_packet(t0, 1);
        rx.on_packet(t0 + Duration::from_secs(20), 2);
        let mut msgs = Vec::new();
        rx.build(1, 2, &mut msgs);
        assert_eq!(msgs.len(), 2);
    }
}
