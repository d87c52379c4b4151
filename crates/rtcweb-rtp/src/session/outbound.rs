//! The send path of the [`Session`]: packets, frames and retransmissions.

use std::time::Instant;

use rtcweb_bwe::PacketClass;

use super::Session;
use super::send::SendStream;
use crate::error::{Error, Result};
use crate::rtp::{ExtensionKind, HeaderExtensions, RtpPacket, RtpRepr};

impl Session {
    pub(crate) fn abs_send_time(&self, now: Instant) -> u32 {
        // 6.18 fixed point seconds, 24 bits.
        ((self.clock.ntp(now) >> 14) & 0x00ff_ffff) as u32
    }

    /// Writes one RTP packet of send stream `ssrc`; returns its sequence number. The
    /// session writes the mid, rid, abs-send-time and transport-wide sequence number
    /// extensions (those that are mapped). With congestion control on, the packet waits in
    /// the pacer and gets its transport-wide sequence number when it leaves.
    pub fn write_rtp(
        &mut self,
        now: Instant,
        ssrc: u32,
        payload_type: u8,
        timestamp: u32,
        marker: bool,
        payload: &[u8],
    ) -> Result<u16> {
        let none = HeaderExtensions::default();
        self.write_rtp_with(now, ssrc, payload_type, timestamp, marker, payload, &none)
    }

    /// [`Session::write_rtp`] with media extensions from the caller: the audio level, video
    /// orientation and playout delay of `media` are written when mapped (its other fields
    /// are the session's and are ignored).
    #[allow(clippy::too_many_arguments)]
    pub fn write_rtp_with(
        &mut self,
        now: Instant,
        ssrc: u32,
        payload_type: u8,
        timestamp: u32,
        marker: bool,
        payload: &[u8],
        media: &HeaderExtensions<'_>,
    ) -> Result<u16> {
        let i = self
            .senders
            .iter()
            .position(|s| s.config.ssrc == ssrc)
            .ok_or(Error::UnknownSsrc(ssrc))?;
        if self.senders[i].codec(payload_type).is_none() {
            return Err(Error::UnknownPayloadType(payload_type));
        }
        let seq = self.senders[i].next_seq;
        // RED for audio that carries redundancy and for video under ULPFEC.
        let envelope = self.red_envelope(i, payload_type, timestamp, payload)?;
        let (wire_type, wire_payload) = match &envelope {
            Some((pt, body)) => (*pt, body.as_slice()),
            None => (payload_type, payload),
        };
        let built = self.build_rtp(
            now,
            i,
            wire_type,
            seq,
            timestamp,
            marker,
            wire_payload,
            false,
            media,
        );
        if let Some((_, body)) = envelope {
            self.return_red_scratch(i, body);
        }
        let packet = built?;
        self.senders[i].next_seq = seq.wrapping_add(1);
        // FEC protects the packet as written; its FEC packets follow it at a frame's end.
        self.protect_written(now, i, &packet);
        let s = &mut self.senders[i];
        s.stats.packets += 1;
        s.stats.payload_octets += payload.len() as u64;
        s.last_timestamp = timestamp;
        s.last_send = Some(now);
        s.history.store(seq, packet.clone());
        let audio = s.codec(payload_type).is_some_and(|c| !c.codec.is_video());
        let class = if audio {
            PacketClass::Audio
        } else {
            PacketClass::Video
        };
        self.send_rtp(now, packet, class);
        self.queue_fec(now);
        Ok(seq)
    }

    /// Builds an RTP packet of sender `i` with fresh header extensions.
    #[allow(clippy::too_many_arguments)]
    fn build_rtp(
        &mut self,
        now: Instant,
        i: usize,
        payload_type: u8,
        seq: u16,
        timestamp: u32,
        marker: bool,
        payload: &[u8],
        rtx: bool,
        media: &HeaderExtensions<'_>,
    ) -> Result<Vec<u8>> {
        let map = &self.config.extensions;
        let s = &self.senders[i];
        let ssrc = if rtx {
            s.config.rtx_ssrc.unwrap_or(s.config.ssrc)
        } else {
            s.config.ssrc
        };
        let rid = s.config.rid.as_deref();
        let mut values = HeaderExtensions {
            mid: s.config.mid.as_deref(),
            rid: if rtx { None } else { rid },
            repaired_rid: if rtx { rid } else { None },
            audio_level: media.audio_level,
            video_orientation: media.video_orientation,
            playout_delay: media.playout_delay,
            ..HeaderExtensions::default()
        };
        if map.id(ExtensionKind::AbsSendTime).is_some() {
            values.abs_send_time = Some(self.abs_send_time(now));
        }
        // A slot for the transport-wide sequence number, written when the packet leaves.
        if map.id(ExtensionKind::TransportWideCc).is_some() {
            values.transport_cc = Some(0);
        }
        let mut scratch = [0u8; 1100];
        let extension = self.config.extensions.write(&values, &mut scratch)?;
        RtpRepr {
            marker,
            payload_type,
            sequence_number: seq,
            timestamp,
            ssrc,
            csrcs: &[],
            extension,
            padding: 0,
        }
        .to_vec(payload)
    }

    /// Packetizes `frame` with the codec of `payload_type` and writes its packets (the
    /// marker bit on the last one for video).
    pub fn write_frame(
        &mut self,
        now: Instant,
        ssrc: u32,
        payload_type: u8,
        timestamp: u32,
        frame: &[u8],
    ) -> Result<()> {
        let none = HeaderExtensions::default();
        self.write_frame_with(now, ssrc, payload_type, timestamp, frame, &none)
    }

    /// [`Session::write_frame`] with media extensions (audio level, video orientation,
    /// playout delay) on every packet of the frame.
    pub fn write_frame_with(
        &mut self,
        now: Instant,
        ssrc: u32,
        payload_type: u8,
        timestamp: u32,
        frame: &[u8],
        media: &HeaderExtensions<'_>,
    ) -> Result<()> {
        let i = self
            .senders
            .iter()
            .position(|s| s.config.ssrc == ssrc)
            .ok_or(Error::UnknownSsrc(ssrc))?;
        let mut payloads = std::mem::take(&mut self.payloads);
        payloads.clear();
        let max_payload = self.config.max_payload;
        let res = match self.senders[i]
            .packetizers
            .iter_mut()
            .find(|(pt, _)| *pt == payload_type)
        {
            Some((_, p)) => p.packetize(frame, max_payload, &mut payloads),
            None => Err(Error::UnknownPayloadType(payload_type)),
        };
        let video = self.senders[i]
            .codec(payload_type)
            .is_some_and(|c| c.codec.is_video());
        let out = res.and_then(|()| {
            let n = payloads.len();
            for (k, p) in payloads.iter().enumerate() {
                let marker = video && k + 1 == n;
                self.write_rtp_with(now, ssrc, payload_type, timestamp, marker, p, media)?;
            }
            Ok(())
        });
        self.payloads = payloads;
        out
    }

    /// Answers a NACK of send stream `i` for `seq`.
    pub(crate) fn retransmit(&mut self, now: Instant, i: usize, seq: u16) {
        let rtt = self.rtt;
        let s = &mut self.senders[i];
        s.stats.nacked += 1;
        let Some(stored) = s.history.get_mut(seq) else {
            s.stats.nack_misses += 1;
            return;
        };
        if !SendStream::may_resend(stored.last_resent, now, rtt) {
            return;
        }
        if let Some(cc) = self.cc.as_mut()
            && !cc.may_resend(now, stored.packet.len())
        {
            s.stats.resends_over_budget += 1;
            return;
        }
        stored.last_resent = Some(now);
        let Some(packet) = self.rtx_copy(now, i, seq) else {
            return;
        };
        self.senders[i].stats.retransmissions += 1;
        self.send_rtp(now, packet, PacketClass::Retransmission);
    }

    /// Packet `seq` of send stream `i` again: on its RTX stream when RTX is negotiated
    /// (RFC 4588: the original sequence number, then the payload), as it was otherwise. Its
    /// transport-wide sequence number is fresh (written when it leaves).
    pub(crate) fn rtx_copy(&mut self, now: Instant, i: usize, seq: u16) -> Option<Vec<u8>> {
        let s = &mut self.senders[i];
        let original = s.history.get_mut(seq)?.packet.clone();
        let p = RtpPacket::new_checked(&original[..]).ok()?;
        let rtx_pt = s.rtx_payload_type_for(p.payload_type());
        match (s.config.rtx_ssrc, rtx_pt) {
            (Some(_), Some(rtx_pt)) => {
                let rtx_seq = s.next_rtx_seq;
                s.next_rtx_seq = rtx_seq.wrapping_add(1);
                let mut payload = Vec::with_capacity(2 + p.payload().len());
                payload.extend_from_slice(&seq.to_be_bytes());
                payload.extend_from_slice(p.payload());
                // The original's media extensions travel with the repair.
                let media = self.config.extensions.read(&p);
                let media = HeaderExtensions {
                    audio_level: media.audio_level,
                    video_orientation: media.video_orientation,
                    playout_delay: media.playout_delay,
                    ..HeaderExtensions::default()
                };
                self.build_rtp(
                    now,
                    i,
                    rtx_pt,
                    rtx_seq,
                    p.timestamp(),
                    p.marker(),
                    &payload,
                    true,
                    &media,
                )
                .ok()
            }
            // No RTX: the original bytes; `send_rtp` rewrites the transport-wide number.
            _ => Some(original),
        }
    }
}
