//! The receive path of the [`Session`]: RTP in, RTX unwrapping, statistics, NACK tracking
//! and frame assembly.

use std::time::Instant;

use tracing::{debug, trace};

use super::nack::Arrival;
pub(crate) use super::resilient_receive::Origin;
use super::{Event, KeyframeRequest, Session, UNKNOWN_SSRCS_REMEMBERED};
use crate::error::{Error, Result};
use crate::rtp::RtpPacket;

impl Session {
    /// Feeds an RTP or RTCP datagram, told apart by RFC 5761 section 4 (payload types
    /// 64..=95 are RTCP).
    pub fn handle_input(&mut self, now: Instant, datagram: &[u8]) -> Result<()> {
        match datagram.get(1) {
            Some(b) if (192..=223).contains(b) => self.handle_rtcp(now, datagram),
            _ => self.handle_rtp(now, datagram),
        }
    }

    /// Feeds a received (unprotected) RTP packet.
    pub fn handle_rtp(&mut self, now: Instant, packet: &[u8]) -> Result<()> {
        self.stats.rtp_received += 1;
        let p = match RtpPacket::new_checked(packet) {
            Ok(p) => p,
            Err(e) => {
                self.stats.malformed += 1;
                return Err(e);
            }
        };
        let ext = self.config.extensions.read(&p);
        if let Some(t) = ext.transport_cc {
            self.twcc_rx.on_packet(now, t);
            if self.next_twcc_feedback.is_none() {
                self.next_twcc_feedback = Some(now + self.config.twcc_interval);
            }
        }
        let ssrc = p.ssrc();
        self.remb_on_rtp(now, ssrc, ext.abs_send_time, packet.len());
        if let Some(i) = self.receivers.iter().position(|r| r.config.ssrc == ssrc) {
            if let Some(d) = ext.playout_delay {
                self.playout_extension(i, d);
            }
            if self.receivers[i].protection.is_some() {
                return self.resilient_rtp(now, i, &p, None);
            }
            return self.on_media(
                now,
                i,
                p.sequence_number(),
                p.payload_type(),
                p.timestamp(),
                p.marker(),
                p.payload(),
                Origin::Network,
            );
        }
        if let Some(i) = self
            .receivers
            .iter()
            .position(|r| r.config.rtx_ssrc == Some(ssrc))
        {
            let rtx_pt = p.payload_type();
            let r = &self.receivers[i];
            let Some(apt) = r
                .config
                .codecs
                .iter()
                .find(|c| c.rtx_payload_type == Some(rtx_pt))
                .map(|c| c.payload_type)
                .or_else(|| r.red_of_rtx(rtx_pt))
            else {
                self.stats.malformed += 1;
                return Err(Error::UnknownPayloadType(rtx_pt));
            };
            let Some((osn, payload)) = p.payload().split_first_chunk::<2>() else {
                // An empty RTX packet is padding for bandwidth probing.
                return Ok(());
            };
            let osn = u16::from_be_bytes(*osn);
            if self.receivers[i].is_red(apt) {
                return self.resilient_rtp(now, i, &p, Some((osn, apt, payload)));
            }
            return self.on_media(
                now,
                i,
                osn,
                apt,
                p.timestamp(),
                p.marker(),
                payload,
                Origin::Rtx,
            );
        }
        if let Some(i) = self
            .receivers
            .iter()
            .position(|r| r.flexfec_ssrc() == Some(ssrc))
        {
            return self.on_flexfec(now, i, &p);
        }
        if !self.unknown.contains(&ssrc) {
            if self.unknown.len() >= UNKNOWN_SSRCS_REMEMBERED {
                self.unknown.pop_front();
            }
            self.unknown.push_back(ssrc);
            let e = Event::UnknownSsrc {
                ssrc,
                payload_type: p.payload_type(),
                mid: ext.mid.map(str::to_owned),
                rid: ext.rid.or(ext.repaired_rid).map(str::to_owned),
            };
            self.push_event(e);
        }
        Ok(())
    }

    /// Feeds a media packet of receive stream `i` to the NACK list, the statistics and the
    /// frame assembler.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn on_media(
        &mut self,
        now: Instant,
        i: usize,
        seq: u16,
        payload_type: u8,
        timestamp: u32,
        marker: bool,
        payload: &[u8],
        origin: Origin,
    ) -> Result<()> {
        let Some(ext) = self.arrive(now, i, seq, payload_type, timestamp, origin) else {
            return Ok(());
        };
        if self.playout_audio(now, i, ext, payload_type, timestamp, payload) {
            return Ok(());
        }
        let mut result = Ok(());
        if let Some(a) = self.receivers[i].assembler.as_mut() {
            result = if payload.is_empty() {
                // Padding only (a sender probing the path without RTX): no frame's part.
                a.insert_padding(now, ext);
                Ok(())
            } else {
                a.insert(now, ext, payload_type, timestamp, marker, payload)
            };
        }
        self.drain_assembler(now, i);
        result
    }

    /// Records that `seq` of receive stream `i` arrived (or was repaired): the NACK list
    /// forgets it, the statistics count it, and what the NACK list gave up on is declared
    /// lost to the assembler. `None` for a duplicate.
    pub(crate) fn arrive(
        &mut self,
        now: Instant,
        i: usize,
        seq: u16,
        payload_type: u8,
        timestamp: u32,
        origin: Origin,
    ) -> Option<u64> {
        let mut lost = std::mem::take(&mut self.lost_scratch);
        lost.clear();
        let clock = self.clock;
        let r = &mut self.receivers[i];
        let ext = r.unwrapper.unwrap(seq);
        let arrival = r.nack.on_packet(now, ext, &mut lost);
        if arrival == Arrival::Duplicate {
            r.stats.duplicates += 1;
            self.lost_scratch = lost;
            return None;
        }
        // Packets rebuilt from FEC or RED did not arrive: the reports count them lost
        // (what the sender's protection rate needs), the resilience counters count them.
        if !matches!(origin, Origin::Fec | Origin::Red) {
            r.stats.on_packet(ext);
        }
        if origin == Origin::Rtx {
            r.stats.recovered += 1;
        } else if origin == Origin::Network && arrival == Arrival::New {
            // Only in-order packets: a late or resent one says nothing about the path's
            // jitter (libwebrtc does the same).
            let rate = r.clock_rate(payload_type);
            r.stats.on_transit(clock.units(now, rate), timestamp);
        }
        trace!(ssrc = r.config.ssrc, seq, ?origin, "rtp in");
        if let Some(a) = r.assembler.as_mut() {
            for &l in &lost {
                a.declare_lost(now, l);
            }
        }
        r.stats.lost_for_good += lost.len() as u64;
        self.lost_scratch = lost;
        Some(ext)
    }

    pub(crate) fn drain_assembler(&mut self, now: Instant, i: usize) {
        let Some(a) = self.receivers[i].assembler.as_mut() else {
            return;
        };
        let want_keyframe = a.take_keyframe_request();
        // What the assembler moved past is of no use: stop asking for it (a lost FEC
        // packet between frames, or packets before a key frame it waits for).
        if let Some(next) = a.next_sequence() {
            self.receivers[i].nack.forget_before(next);
        }
        let Some(a) = self.receivers[i].assembler.as_mut() else {
            return;
        };
        let mut frames = Vec::new();
        while let Some(f) = a.poll_frame() {
            frames.push(f);
        }
        for f in frames {
            self.deliver_frame(now, i, f);
        }
        if want_keyframe {
            let ssrc = self.receivers[i].config.ssrc;
            debug!(ssrc, "loss could not be repaired: asking for a key frame");
            let _ = self.request_keyframe(now, ssrc, KeyframeRequest::Pli);
        }
    }
}
