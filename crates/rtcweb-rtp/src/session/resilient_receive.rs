//! The receiving half of [loss resilience](super::resilience): RED taken apart, FEC packets
//! to the decoder, rebuilt packets through the normal receive path.

use std::time::{Duration, Instant};

use super::Session;
use super::nack::Arrival;
use super::receive::ReceiveStream;
use crate::error::Result;
use crate::red::RedPayload;
use crate::rtp::RtpPacket;

/// Where a media packet came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Origin {
    /// It arrived as itself.
    Network,
    /// An FEC packet in the media stream's sequence numbers (ULPFEC): it counts as a
    /// received packet but carries no media.
    FecPacket,
    /// Unwrapped from an RTX packet.
    Rtx,
    /// Rebuilt from FEC.
    Fec,
    /// Taken from a redundant RED block.
    Red,
}

/// With no FEC for this long, NACKs go out at once again.
const FEC_QUIET: Duration = Duration::from_secs(2);

impl ReceiveStream {
    /// The RED payload type whose RTX payload type is `rtx_pt`.
    pub(crate) fn red_of_rtx(&self, rtx_pt: u8) -> Option<u8> {
        let c = &self.protection.as_ref()?.config;
        (c.red_rtx_payload_type == Some(rtx_pt))
            .then_some(c.red_payload_type)
            .flatten()
    }

    /// Whether `pt` is the stream's RED payload type.
    pub(crate) fn is_red(&self, pt: u8) -> bool {
        self.protection
            .as_ref()
            .is_some_and(|p| p.config.red_payload_type == Some(pt))
    }

    /// Whether FEC is the stream's only repair (no NACK): a gap is given up once FEC had
    /// its chance ([`ReceiveResilience::nack_hold`](super::ReceiveResilience::nack_hold)).
    pub(crate) fn fec_only(&self) -> bool {
        !self.config.nack
            && self
                .protection
                .as_ref()
                .is_some_and(|p| p.decoder.is_some())
    }

    /// The SSRC of the stream's FlexFEC packets.
    pub(crate) fn flexfec_ssrc(&self) -> Option<u32> {
        self.protection.as_ref()?.config.flexfec.map(|(_, s)| s)
    }
}

impl Session {
    /// RTP of receive stream `i`, which has resilience set. `rtx` is the original sequence
    /// number, payload type and payload when the packet came on the RTX stream.
    pub(crate) fn resilient_rtp(
        &mut self,
        now: Instant,
        i: usize,
        p: &RtpPacket<&[u8]>,
        rtx: Option<(u16, u8, &[u8])>,
    ) -> Result<()> {
        let (seq, pt, payload, origin) = match rtx {
            Some((osn, apt, payload)) => (osn, apt, payload, super::inbound::Origin::Rtx),
            None => (
                p.sequence_number(),
                p.payload_type(),
                p.payload(),
                Origin::Network,
            ),
        };
        let ts = p.timestamp();
        let header = p.as_bytes().get(..p.header_len()).unwrap_or_default();
        if origin == Origin::Network {
            self.note_overtaken(i, seq);
        }
        let nack = self.receivers[i].config.nack;
        let Some(prot) = self.receivers[i].protection.as_mut() else {
            return Ok(());
        };
        let config = prot.config;
        if nack
            && prot
                .last_fec
                .is_some_and(|t| now.saturating_duration_since(t) > FEC_QUIET)
        {
            prot.last_fec = None;
            self.receivers[i].nack.set_hold(Duration::ZERO);
        }
        if config.red_payload_type != Some(pt) {
            // Plain media (FlexFEC protects it as it is).
            if origin == Origin::Network {
                let ext = self.receivers[i].unwrapper.peek(seq);
                if let Some(d) = self.receivers[i]
                    .protection
                    .as_mut()
                    .and_then(|x| x.decoder.as_mut())
                {
                    d.on_media(ext, p.as_bytes());
                }
            }
            let res = self.on_media(now, i, seq, pt, ts, p.marker(), payload, origin);
            self.drain_recovered(now, i);
            return res;
        }
        let red = match RedPayload::new_checked(payload) {
            Ok(r) => r,
            Err(e) => {
                self.stats.malformed += 1;
                return Err(e);
            }
        };
        let primary = red.primary();
        if config.ulpfec_payload_type == Some(primary.payload_type) {
            return self.on_ulpfec(now, i, seq, pt, ts, primary.data, origin);
        }
        if let Some(prot) = self.receivers[i].protection.as_mut() {
            prot.stats.red_packets += 1;
        }
        // Redundant blocks (audio) are the packets right before this one, oldest first.
        let n = red.redundant_count();
        for (k, b) in red.redundant().enumerate() {
            let s = seq.wrapping_sub((n - k) as u16);
            let r = &mut self.receivers[i];
            let ext = r.unwrapper.peek(s);
            let Some(prot) = r.protection.as_mut() else {
                break;
            };
            if r.nack.status(ext) == Arrival::Duplicate {
                prot.stats.red_duplicates += 1;
                continue;
            }
            prot.stats.red_recovered += 1;
            let block_ts = ts.wrapping_sub(b.timestamp_offset);
            // One bad block does not spoil the rest of the packet.
            let _ = self.on_media(
                now,
                i,
                s,
                b.payload_type,
                block_ts,
                false,
                b.data,
                Origin::Red,
            );
        }
        if origin == Origin::Network {
            let ext = self.receivers[i].unwrapper.peek(seq);
            if let Some(d) = self.receivers[i]
                .protection
                .as_mut()
                .and_then(|x| x.decoder.as_mut())
            {
                d.on_media_parts(ext, header, Some(primary.payload_type), primary.data);
            }
        }
        let res = self.on_media(
            now,
            i,
            seq,
            primary.payload_type,
            ts,
            p.marker(),
            primary.data,
            origin,
        );
        // Audio without NACK: what the redundancy did not fill before this packet is lost
        // for good; later audio must not wait behind it.
        let r = &mut self.receivers[i];
        if n > 0 && !r.config.nack && r.playout.is_none() {
            if let Some(a) = r.assembler.as_mut().filter(|a| !a.codec().is_video()) {
                a.skip_missing(now);
            }
            self.drain_assembler(now, i);
        }
        self.drain_recovered(now, i);
        res
    }

    /// A packet that arrived after FEC rebuilt it: it was late, not lost.
    fn note_overtaken(&mut self, i: usize, seq: u16) {
        let r = &mut self.receivers[i];
        let ext = r.unwrapper.peek(seq);
        if let Some(p) = r.protection.as_mut()
            && let Some(k) = p.rebuilt.iter().position(|&s| s == ext)
        {
            p.rebuilt.remove(k);
            p.stats.fec_rebuilt_in_flight += 1;
        }
    }

    /// An ULPFEC packet (inside RED) of receive stream `i`: its sequence number is counted
    /// and skipped by the assembler, its payload goes to the decoder.
    #[allow(clippy::too_many_arguments)]
    fn on_ulpfec(
        &mut self,
        now: Instant,
        i: usize,
        seq: u16,
        red_pt: u8,
        ts: u32,
        data: &[u8],
        origin: Origin,
    ) -> Result<()> {
        let origin = if origin == Origin::Rtx {
            Origin::Rtx
        } else {
            Origin::FecPacket
        };
        let Some(ext) = self.arrive(now, i, seq, red_pt, ts, origin) else {
            return Ok(());
        };
        if let Some(a) = self.receivers[i].assembler.as_mut() {
            a.insert_filler(now, ext, ts);
        }
        self.drain_assembler(now, i);
        self.fec_arrived(now, i, data)
    }

    /// A FlexFEC packet for receive stream `i`.
    pub(crate) fn on_flexfec(
        &mut self,
        now: Instant,
        i: usize,
        p: &RtpPacket<&[u8]>,
    ) -> Result<()> {
        let expected = self.receivers[i]
            .protection
            .as_ref()
            .and_then(|x| x.config.flexfec)
            .map(|(pt, _)| pt);
        if expected != Some(p.payload_type()) {
            self.stats.malformed += 1;
            return Err(crate::error::Error::UnknownPayloadType(p.payload_type()));
        }
        self.fec_arrived(now, i, p.payload())
    }

    /// An FEC payload for receive stream `i`'s decoder; what it rebuilds goes on.
    fn fec_arrived(&mut self, now: Instant, i: usize, data: &[u8]) -> Result<()> {
        let r = &mut self.receivers[i];
        let Some(prot) = r.protection.as_mut() else {
            return Ok(());
        };
        if prot.last_fec.is_none() {
            r.nack.set_hold(prot.config.nack_hold);
        }
        prot.last_fec = Some(now);
        let unwrapper = r.unwrapper;
        let Some(d) = prot.decoder.as_mut() else {
            return Ok(());
        };
        let res = d.on_fec(data, |s| unwrapper.peek(s));
        self.drain_recovered(now, i);
        res
    }

    /// Feeds what the decoder of receive stream `i` rebuilt through the receive path.
    fn drain_recovered(&mut self, now: Instant, i: usize) {
        loop {
            let Some(buf) = self.receivers[i]
                .protection
                .as_mut()
                .and_then(|x| x.decoder.as_mut())
                .and_then(|d| d.poll_recovered())
            else {
                return;
            };
            if let Ok(p) = RtpPacket::new_checked(&buf[..]) {
                let seq = p.sequence_number();
                let r = &mut self.receivers[i];
                let ext = r.unwrapper.peek(seq);
                if r.nack.status(ext) == Arrival::Duplicate {
                    if let Some(x) = r.protection.as_mut() {
                        x.stats.fec_recovered_duplicates += 1;
                    }
                } else {
                    let nacked = r.nack.nacked(ext);
                    if let Some(x) = r.protection.as_mut() {
                        x.stats.fec_recovered_after_nack += u64::from(nacked);
                        if x.rebuilt.len() >= super::resilience::REBUILT_REMEMBERED {
                            x.rebuilt.pop_front();
                        }
                        x.rebuilt.push_back(ext);
                    }
                    let _ = self.on_media(
                        now,
                        i,
                        seq,
                        p.payload_type(),
                        p.timestamp(),
                        p.marker(),
                        p.payload(),
                        Origin::Fec,
                    );
                }
            }
            if let Some(d) = self.receivers[i]
                .protection
                .as_mut()
                .and_then(|x| x.decoder.as_mut())
            {
                d.recycle(buf);
            }
        }
    }
}
