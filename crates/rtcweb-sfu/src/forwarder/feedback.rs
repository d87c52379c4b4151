//! The subscriber's RTCP: NACKs answered from the retransmission buffer (the publisher is
//! asked only for what the forwarder never had), PLI and FIR turned into a key-frame request
//! for the forwarded layer.

use std::time::{Duration, Instant};

use rtcweb_rtp::rtcp::{RtcpPacket, RtcpPackets};

use super::Forwarder;
use crate::error::{Error, Result};
use crate::packet::{Feedback, OutPacket, Transmit};

/// Lost sequence numbers read from one RTCP datagram at most (a NACK can name thousands).
const MAX_NACKED: usize = 256;
/// Lost sequence numbers asked of the publisher in one feedback at most.
const MAX_UPSTREAM_NACK: usize = 64;
/// One packet is retransmitted at most once per this interval (a subscriber that repeats a
/// NACK before the retransmission could arrive gets no duplicate).
const RESEND_INTERVAL: Duration = Duration::from_millis(20);

impl Forwarder {
    pub(super) fn handle_rtcp(&mut self, now: Instant, datagram: &[u8]) -> Result<()> {
        let ssrc = self.config.ssrc;
        for p in RtcpPackets::new(datagram) {
            match p.map_err(Error::Rtcp)? {
                RtcpPacket::Nack(n) if n.media_ssrc == ssrc => {
                    self.on_nack(now, n.lost().take(MAX_NACKED));
                }
                RtcpPacket::Pli(p) if p.media_ssrc == ssrc => self.on_picture_loss(now),
                RtcpPacket::Fir(f) if f.entries().any(|e| e.ssrc == ssrc) => {
                    self.on_picture_loss(now);
                }
                _ => {}
            }
        }
        Ok(())
    }

    fn on_picture_loss(&mut self, now: Instant) {
        if let Some(c) = self.current {
            self.request_keyframe(now, c);
        }
    }

    fn on_nack(&mut self, now: Instant, lost: impl Iterator<Item = u16>) {
        let Some(highest) = self.sent.highest else {
            return;
        };
        let mut upstream = Vec::new();
        for seq in lost {
            let d = i64::from(seq.wrapping_sub(highest as u16) as i16);
            let Ok(ext) = u64::try_from(highest as i64 + d) else {
                continue;
            };
            if ext > highest {
                continue;
            }
            if let Some(slot) = self.buffer.get_mut(ext) {
                if slot
                    .resent_at
                    .is_some_and(|t| now.saturating_duration_since(t) < RESEND_INTERVAL)
                {
                    continue;
                }
                slot.resent_at = Some(now);
                let mut packet = slot.packet.clone();
                if let Some(rtx) = self.config.rtx {
                    let mut payload = Vec::with_capacity(packet.payload.len() + 2);
                    payload.extend_from_slice(&packet.sequence_number.to_be_bytes());
                    payload.extend_from_slice(&packet.payload);
                    packet = OutPacket {
                        ssrc: rtx.ssrc,
                        payload_type: rtx.payload_type,
                        sequence_number: self.rtx_sequence,
                        payload,
                        ..packet
                    };
                    self.rtx_sequence = self.rtx_sequence.wrapping_add(1);
                }
                self.stats.retransmissions += 1;
                self.push_transmit(Transmit::Retransmission(packet));
            } else if ext >= self.sent.floor
                && let Some(c) = self.current
                && upstream.len() < MAX_UPSTREAM_NACK
            {
                // Never sent: the publisher lost it (or it is still on its way).
                let layer = &self.layers[usize::from(c)];
                if let Ok(original) = u64::try_from(ext as i64 - layer.seq_offset) {
                    upstream.push(original as u16);
                }
            }
        }
        if let Some(c) = self.current
            && let Some(ssrc) = self.layers[usize::from(c)].ssrc
            && !upstream.is_empty()
        {
            let first = upstream[0];
            upstream.sort_by_key(|s| s.wrapping_sub(first));
            self.stats.nacks_upstream += upstream.len() as u64;
            self.push_transmit(Transmit::Publisher(Feedback::Nack {
                layer: c,
                ssrc,
                lost: upstream,
            }));
        }
    }
}
