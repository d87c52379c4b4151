//! Raw RTP in and out per transceiver, through SRTP. Packetization and RTP sessions
//! (NACK, RTCP reports) belong to rtcweb-rtp; this layer only protects, routes and tells
//! packets apart.

use std::collections::{HashMap, HashSet, VecDeque};
use std::time::Instant;

use rtcweb_jsep::{Negotiated, SendParams, TransceiverId};
use tracing::trace;

use super::PeerConnection;
use crate::demux::is_rtcp;
use crate::error::Error;
use crate::event::Event;

/// Where RTP goes and comes from.
#[derive(Debug, Default)]
pub(crate) struct MediaState {
    /// Our sending SSRC per transceiver.
    pub(crate) sending: HashMap<TransceiverId, u32>,
    /// The peer's signalled SSRCs.
    by_ssrc: HashMap<u32, TransceiverId>,
    /// Negotiated payload types, for packets from unsignalled SSRCs.
    by_payload_type: HashMap<u8, TransceiverId>,
    /// Transceivers a `Track` event was raised for.
    announced: HashSet<TransceiverId>,
    /// Counter for SSRCs and CNAMEs; seeded so tests are reproducible.
    next: u64,
    cname: String,
}

impl MediaState {
    pub(crate) fn new(seed: u64) -> Self {
        Self {
            next: seed ^ 0x55aa_1234,
            cname: format!("rtcweb-{:08x}", seed as u32),
            ..Self::default()
        }
    }

    fn random_u32(&mut self) -> u32 {
        // SplitMix64 step; SSRCs only need to differ, not to be secret.
        self.next = self.next.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.next;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        (z ^ (z >> 31)) as u32
    }

    pub(crate) fn new_send_params(&mut self) -> SendParams {
        let ssrc = self.random_u32();
        let track = self.random_u32();
        SendParams {
            stream_ids: vec![format!("stream-{:08x}", self.cname.len() as u32 ^ track)],
            track_id: format!("track-{track:08x}"),
            ssrc: Some(ssrc),
            rtx_ssrc: None,
            cname: self.cname.clone(),
            rids: Vec::new(),
        }
    }

    /// Learns the peer's SSRCs and payload types, and announces receiving transceivers.
    pub(crate) fn on_negotiated(&mut self, n: &Negotiated, events: &mut VecDeque<Event>) {
        self.by_ssrc.clear();
        self.by_payload_type.clear();
        for m in n.media.iter().filter(|m| !m.rejected) {
            let Some(t) = m.transceiver else { continue };
            for s in &m.remote_ssrcs {
                self.by_ssrc.insert(s.ssrc, t);
            }
            for c in &m.codecs {
                self.by_payload_type.insert(c.payload_type, t);
            }
            let receives = matches!(
                m.direction,
                rtcweb_jsep::sdp::Direction::SendRecv | rtcweb_jsep::sdp::Direction::RecvOnly
            );
            if receives
                && let Some(mid) = m.mid.clone()
                && self.announced.insert(t)
            {
                events.push_back(Event::Track {
                    transceiver: t,
                    mid,
                });
            }
        }
    }

    fn transceiver_for(&self, packet: &[u8]) -> Option<TransceiverId> {
        let ssrc = u32::from_be_bytes(packet.get(8..12)?.try_into().ok()?);
        let pt = packet.get(1)? & 0x7f;
        self.by_ssrc
            .get(&ssrc)
            .or_else(|| self.by_payload_type.get(&pt))
            .copied()
    }
}

impl PeerConnection {
    /// Sends a plain RTP packet on a transceiver: its SSRC is set to the transceiver's
    /// (as signalled in `a=ssrc`), then it is protected with SRTP and sent on the selected
    /// pair. Fails before DTLS has produced keys.
    pub fn write_rtp(
        &mut self,
        now: Instant,
        transceiver: TransceiverId,
        packet: &[u8],
    ) -> Result<(), Error> {
        let ssrc = *self
            .media
            .sending
            .get(&transceiver)
            .ok_or(Error::Unknown("sending transceiver"))?;
        let srtp = self
            .srtp
            .as_mut()
            .ok_or(Error::InvalidState("SRTP keys are not ready"))?;
        if packet.len() < 12 {
            return Err(Error::InvalidState("an RTP packet has at least 12 octets"));
        }
        let mut buf = Vec::with_capacity(packet.len() + srtp.profile().rtp_overhead());
        buf.extend_from_slice(packet);
        buf[8..12].copy_from_slice(&ssrc.to_be_bytes());
        srtp.protect_rtp_vec(&mut buf)?;
        self.send_app(now, buf);
        Ok(())
    }

    /// Sends a plain RTCP compound packet, protected with SRTCP.
    pub fn write_rtcp(&mut self, now: Instant, packet: &[u8]) -> Result<(), Error> {
        let srtp = self
            .srtp
            .as_mut()
            .ok_or(Error::InvalidState("SRTP keys are not ready"))?;
        let mut buf = Vec::with_capacity(packet.len() + srtp.profile().rtcp_overhead());
        buf.extend_from_slice(packet);
        srtp.protect_rtcp_vec(&mut buf)?;
        self.send_app(now, buf);
        Ok(())
    }

    /// The sending SSRC of a transceiver.
    pub fn sending_ssrc(&self, transceiver: TransceiverId) -> Option<u32> {
        self.media.sending.get(&transceiver).copied()
    }

    pub(crate) fn receive_srtp(&mut self, _now: Instant, data: &[u8]) {
        let Some(srtp) = self.srtp.as_mut() else {
            return;
        };
        let mut buf = data.to_vec();
        if is_rtcp(data) {
            match srtp.unprotect_rtcp_vec(&mut buf) {
                Ok(()) => self.push_event(Event::Rtcp { packet: buf }),
                Err(e) => trace!(error = %e, "SRTCP packet dropped"),
            }
        } else {
            match srtp.unprotect_rtp_vec(&mut buf) {
                Ok(()) => {
                    let transceiver = self.media.transceiver_for(&buf);
                    self.push_event(Event::Rtp {
                        transceiver,
                        packet: buf,
                    });
                }
                Err(e) => trace!(error = %e, "SRTP packet dropped"),
            }
        }
    }
}
