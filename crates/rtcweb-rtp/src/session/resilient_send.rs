//! The sending half of [loss resilience](super::resilience): RED envelopes when a packet is
//! written, FEC when it leaves.

use std::time::{Duration, Instant};

use rtcweb_bwe::PacketClass;

use super::Session;
use super::resilience::{FecKind, MAX_FEC_OUT};
use crate::error::Result;
use crate::rtp::{ExtensionKind, HeaderExtensions, RtpPacket, RtpRepr};

impl Session {
    /// The RED envelope of a packet sender `i` writes, if it needs one: the RED payload
    /// type and the RED payload (in the stream's scratch buffer; give it back with
    /// [`Session::return_red_scratch`]). Audio of the carried type gets redundancy; video
    /// under ULPFEC a single block.
    pub(crate) fn red_envelope(
        &mut self,
        i: usize,
        payload_type: u8,
        timestamp: u32,
        payload: &[u8],
    ) -> Result<Option<(u8, Vec<u8>)>> {
        let max = self.config.max_payload;
        let Some(p) = self.senders[i].protection.as_mut() else {
            return Ok(None);
        };
        let mut out = std::mem::take(&mut p.scratch);
        out.clear();
        if let Some((red, encoder)) = p.red.as_mut()
            && red.carried == payload_type
        {
            let pt = red.payload_type;
            if let Err(e) = encoder.encode(payload_type, timestamp, payload, max, &mut out) {
                p.scratch = out;
                return Err(e);
            }
            p.stats.red_packets += 1;
            return Ok(Some((pt, out)));
        }
        if let Some(f) = p.fec.as_ref()
            && let FecKind::Ulpfec {
                red_payload_type, ..
            } = f.config.kind
        {
            out.push(payload_type & 0x7f);
            out.extend_from_slice(payload);
            return Ok(Some((red_payload_type, out)));
        }
        p.scratch = out;
        Ok(None)
    }

    /// Gives back the scratch buffer [`Session::red_envelope`] lent.
    pub(crate) fn return_red_scratch(&mut self, i: usize, buf: Vec<u8>) {
        if let Some(p) = self.senders[i].protection.as_mut() {
            p.scratch = buf;
        }
    }

    /// Packet `packet` of sender `i` was written: if the stream has FEC it joins the open
    /// group, and at the end of a frame the FEC packets of what the frame closed are made
    /// (they wait in `resilience.fec_out` for [`Session::queue_fec`], which sends them right
    /// after the frame, so they sit between frames in the sequence numbers).
    ///
    /// Packets are protected as written: the transport-wide sequence number and the
    /// abs-send-time that the pacer writes as a packet leaves are not in the parity, and a
    /// rebuilt packet carries other values there (a receiver never feeds rebuilt packets to
    /// congestion control).
    pub(crate) fn protect_written(&mut self, now: Instant, i: usize, packet: &[u8]) {
        if self.resilience.fec_senders == 0 {
            return;
        }
        let Some(fec) = self.senders[i]
            .protection
            .as_mut()
            .and_then(|x| x.fec.as_mut())
        else {
            return;
        };
        let Ok(p) = RtpPacket::new_checked(packet) else {
            return;
        };
        let seq = p.sequence_number();
        let header = &packet[..p.header_len()];
        let payload = p.payload();
        // What the receiver sees as media: RED's single block, or the packet.
        let media = match fec.config.kind {
            FecKind::Ulpfec {
                red_payload_type, ..
            } => match payload.split_first() {
                Some((&b, rest)) if p.payload_type() == red_payload_type && b & 0x80 == 0 => {
                    Some((Some(b), rest))
                }
                _ => None,
            },
            FecKind::Flexfec { .. } => Some((None, payload)),
        };
        let Some((inner_pt, body)) = media else {
            return;
        };
        let rate = fec.protection.rate();
        if !fec.encoder.fits(seq) {
            // A group as large as a mask allows: its FEC goes out after the frame.
            fec.encoder.finish(rate, &mut fec.pending);
            fec.encoder.clear();
        }
        if fec.encoder.add_parts(header, inner_pt, body).is_err() || !p.marker() {
            return;
        }
        fec.encoder.finish(rate, &mut fec.pending);
        if fec.pending.is_empty() {
            return;
        }
        let pending = std::mem::take(&mut fec.pending);
        let ts = p.timestamp();
        for fec_payload in pending.iter() {
            if let Some(packet) = self.fec_packet(now, i, ts, fec_payload)
                && self.resilience.fec_out.len() < MAX_FEC_OUT
            {
                self.resilience.fec_out.push_back(packet);
            }
        }
        if let Some(fec) = self.senders[i]
            .protection
            .as_mut()
            .and_then(|x| x.fec.as_mut())
        {
            fec.pending = pending;
            fec.pending.clear();
        }
    }

    /// An RTP packet carrying one FEC payload of sender `i`: inside RED on the media SSRC
    /// (kept for NACK like media), or on the FlexFEC SSRC.
    fn fec_packet(&mut self, now: Instant, i: usize, ts: u32, fec: &[u8]) -> Option<Vec<u8>> {
        let kind = self.senders[i]
            .protection
            .as_ref()?
            .fec
            .as_ref()?
            .config
            .kind;
        let (ssrc, payload_type, seq, body) = match kind {
            FecKind::Ulpfec {
                red_payload_type,
                ulpfec_payload_type,
                ..
            } => {
                let s = &mut self.senders[i];
                let seq = s.next_seq;
                s.next_seq = seq.wrapping_add(1);
                let mut body = Vec::with_capacity(fec.len() + 1);
                body.push(ulpfec_payload_type);
                body.extend_from_slice(fec);
                (s.config.ssrc, red_payload_type, seq, body)
            }
            FecKind::Flexfec { payload_type, ssrc } => {
                let f = self.senders[i].protection.as_mut()?.fec.as_mut()?;
                let seq = f.next_seq;
                f.next_seq = seq.wrapping_add(1);
                (ssrc, payload_type, seq, fec.to_vec())
            }
        };
        let s = &self.senders[i];
        let mut values = HeaderExtensions {
            mid: s.config.mid.as_deref(),
            ..HeaderExtensions::default()
        };
        let map = &self.config.extensions;
        if map.id(ExtensionKind::AbsSendTime).is_some() {
            values.abs_send_time = Some(self.abs_send_time(now));
        }
        if map.id(ExtensionKind::TransportWideCc).is_some() {
            values.transport_cc = Some(0);
        }
        let mut scratch = [0u8; 256];
        let extension = map.write(&values, &mut scratch).ok()?;
        let packet = RtpRepr {
            marker: false,
            payload_type,
            sequence_number: seq,
            timestamp: ts,
            ssrc,
            csrcs: &[],
            extension,
            padding: 0,
        }
        .to_vec(&body)
        .ok()?;
        if matches!(kind, FecKind::Ulpfec { .. }) {
            self.senders[i].history.store(seq, packet.clone());
        }
        Some(packet)
    }

    /// Sends the FEC packets made at a frame's end (through the pacer with congestion
    /// control, as video).
    pub(crate) fn queue_fec(&mut self, now: Instant) {
        while let Some(packet) = self.resilience.fec_out.pop_front() {
            self.send_rtp(now, packet, PacketClass::Video);
        }
    }

    /// Takes the round trip into the protection rates.
    pub(crate) fn resilience_on_rtt(&mut self, rtt: Duration) {
        for s in &mut self.senders {
            if let Some(f) = s.protection.as_mut().and_then(|p| p.fec.as_mut()) {
                f.protection.on_rtt(rtt);
            }
        }
    }

    /// Takes a report's fraction lost about send stream `ssrc` into its protection rate.
    pub(crate) fn resilience_on_report(&mut self, ssrc: u32, fraction_lost: u8) {
        if let Some(f) = self
            .senders
            .iter_mut()
            .find(|s| s.config.ssrc == ssrc)
            .and_then(|s| s.protection.as_mut())
            .and_then(|p| p.fec.as_mut())
        {
            f.protection.on_loss(fraction_lost);
        }
    }
}
