//! RTP in and out per transceiver, through SRTP. In [`MediaMode::Raw`] this layer only
//! protects, routes and tells packets apart; in [`MediaMode::Session`] the RTP session of
//! `rtcweb-rtp` ([`super::rtp_session`]) sits between SRTP and the application, which then
//! writes and receives whole frames.

use rtcweb_core::{Rng, Seed};
use std::collections::{HashMap, HashSet, VecDeque};
use std::time::Instant;

use rtcweb_jsep::sdp::MediaKind;
use rtcweb_jsep::{Negotiated, SendParams, Transceiver, TransceiverId};
use rtcweb_rtp::session::{KeyframeRequest, PacketKind};
use tracing::trace;

use super::PeerConnection;
use super::rtp_session::{self, MediaSession};
use crate::config::{MediaConfig, MediaMode};
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
    /// SSRCs, track ids and the session's seed; seeded so tests are reproducible.
    rng: Option<Rng>,
    /// The RTP session's own seed.
    session_seed: Option<Seed>,
    cname: String,
    pub(crate) config: MediaConfig,
    /// The RTP session ([`MediaMode::Session`]), made by the first negotiation with media.
    pub(crate) session: Option<Box<MediaSession>>,
    /// Scratch for the session's events.
    scratch: Vec<Event>,
}

impl MediaState {
    pub(crate) fn new(seed: Seed, config: MediaConfig) -> Self {
        let mut rng = Rng::new(seed);
        Self {
            cname: format!("rtcweb-{:08x}", rng.next_u32()),
            session_seed: Some(seed.derive(1)),
            rng: Some(rng),
            config,
            ..Self::default()
        }
    }

    /// The bandwidth estimator's latest target, when the RTP session runs one.
    pub(crate) fn target_bitrate(&self) -> Option<rtcweb_bwe::TargetRate> {
        self.session.as_ref()?.session.target_bitrate()
    }

    fn session_mode(&self) -> bool {
        self.config.mode == MediaMode::Session
    }

    fn random_u32(&mut self) -> u32 {
        self.rng.get_or_insert_with(|| Rng::new(0)).next_u32()
    }

    pub(crate) fn new_send_params(&mut self, kind: &MediaKind) -> SendParams {
        let ssrc = self.random_u32();
        let track = self.random_u32();
        // The session answers NACKs with RTX on its own SSRC (a=ssrc-group:FID).
        let rtx_ssrc =
            (self.session_mode() && *kind == MediaKind::Video).then(|| self.random_u32());
        SendParams {
            stream_ids: vec![format!("stream-{:08x}", self.cname.len() as u32 ^ track)],
            track_id: format!("track-{track:08x}"),
            ssrc: Some(ssrc),
            rtx_ssrc,
            cname: self.cname.clone(),
            rids: Vec::new(),
        }
    }

    /// Learns the peer's SSRCs and payload types, announces receiving transceivers, and
    /// (session mode) makes or reconfigures the RTP session.
    pub(crate) fn on_negotiated(
        &mut self,
        now: Instant,
        n: &Negotiated,
        transceivers: &[Transceiver],
        events: &mut VecDeque<Event>,
    ) {
        if self.session_mode() && (self.session.is_some() || rtp_session::has_rtp(n)) {
            let seed = self.session_seed.unwrap_or(Seed::from_u64(0));
            let session = self.session.get_or_insert_with(|| {
                Box::new(MediaSession::new(now, n, &self.config, &self.cname, seed))
            });
            session.configure(now, n, transceivers, &self.config);
        }
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
    ///
    /// In [`MediaMode::Session`] the packet's payload type, timestamp, marker and payload
    /// go through the RTP session instead: it numbers the packet in its stream, writes the
    /// negotiated header extensions and keeps it for retransmission.
    pub fn write_rtp(
        &mut self,
        now: Instant,
        transceiver: TransceiverId,
        packet: &[u8],
    ) -> Result<(), Error> {
        if self.media.session_mode() {
            let p = rtcweb_rtp::rtp::RtpPacket::new_checked(packet)?;
            let ssrc = self.session_sender(transceiver)?;
            if let Some(m) = self.media.session.as_mut() {
                m.session.write_rtp(
                    now,
                    ssrc,
                    p.payload_type(),
                    p.timestamp(),
                    p.marker(),
                    p.payload(),
                )?;
            }
            self.flush_media(now);
            return Ok(());
        }
        let ssrc = *self
            .media
            .sending
            .get(&transceiver)
            .ok_or(Error::Unknown("sending transceiver"))?;
        let srtp = self
            .srtp_session()
            .ok_or(Error::InvalidState("SRTP keys are not ready"))?;
        if packet.len() < 12 {
            return Err(Error::InvalidState("an RTP packet has at least 12 octets"));
        }
        let overhead = srtp.profile().rtp_overhead();
        let mut buf = self.take_buffer(packet.len() + overhead);
        buf.extend_from_slice(packet);
        buf[8..12].copy_from_slice(&ssrc.to_be_bytes());
        let srtp = self
            .srtp_session()
            .ok_or(Error::InvalidState("SRTP keys are not ready"))?;
        srtp.protect_rtp_vec(&mut buf)?;
        self.send_app(now, buf);
        Ok(())
    }

    /// Sends a plain RTCP compound packet, protected with SRTCP.
    pub fn write_rtcp(&mut self, now: Instant, packet: &[u8]) -> Result<(), Error> {
        let srtp = self
            .srtp_session()
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

    pub(crate) fn receive_srtp(&mut self, now: Instant, data: &[u8]) {
        if self.media.session_mode() {
            // Before a negotiation with media there is no session, and nothing to feed.
            if self.media.session.is_some() {
                self.receive_session(now, data);
            }
            return;
        }
        if self.srtp_session().is_none() {
            return;
        }
        let mut buf = self.take_buffer(data.len());
        buf.extend_from_slice(data);
        let Some(srtp) = self.srtp_session() else {
            return;
        };
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

/// The frame-level API of [`MediaMode::Session`].
impl PeerConnection {
    /// Sends one encoded frame on a transceiver ([`MediaMode::Session`]): packetized for the
    /// codec of `payload_type` (one of the transceiver's negotiated payload types), stamped
    /// with `rtp_timestamp` (in the codec's clock rate: 90 kHz for video, 48 kHz for Opus),
    /// kept for retransmission, protected and sent. H.264 frames are Annex B byte streams,
    /// AV1 frames low-overhead OBUs. Fails before DTLS has produced keys.
    pub fn write_frame(
        &mut self,
        now: Instant,
        transceiver: TransceiverId,
        payload_type: u8,
        rtp_timestamp: u32,
        frame: &[u8],
    ) -> Result<(), Error> {
        let ssrc = self.session_sender(transceiver)?;
        if let Some(m) = self.media.session.as_mut() {
            m.session
                .write_frame(now, ssrc, payload_type, rtp_timestamp, frame)?;
            m.count_frame(transceiver, payload_type, frame);
        }
        self.flush_media(now);
        Ok(())
    }

    /// Asks the peer for a key frame of the media a transceiver receives: a PLI, or a FIR
    /// ([`MediaMode::Session`]). Requests are rate limited per stream; returns whether one
    /// was sent. The session asks by itself when a loss cannot be repaired.
    pub fn request_keyframe(
        &mut self,
        now: Instant,
        transceiver: TransceiverId,
        kind: KeyframeRequest,
    ) -> Result<bool, Error> {
        let m = self.media.session.as_mut().ok_or(Error::InvalidState(
            "no RTP session (MediaMode::Session, negotiated media)",
        ))?;
        let sent = m.request_keyframe(now, transceiver, kind);
        self.flush_media(now);
        Ok(sent)
    }

    /// The SSRC a transceiver sends with in the session, once SRTP can protect it.
    fn session_sender(&mut self, transceiver: TransceiverId) -> Result<u32, Error> {
        let m = self.media.session.as_mut().ok_or(Error::InvalidState(
            "no RTP session (MediaMode::Session, negotiated media)",
        ))?;
        let ssrc = m
            .sender_mut(transceiver)
            .map(|s| s.config.ssrc)
            .ok_or(Error::Unknown("sending transceiver"))?;
        if self.srtp_session().is_none() {
            return Err(Error::InvalidState("SRTP keys are not ready"));
        }
        Ok(ssrc)
    }

    /// A datagram for the session: unprotected, fed, and what it produced moved on.
    fn receive_session(&mut self, now: Instant, data: &[u8]) {
        let Some(srtp) = self.srtp_session() else {
            return;
        };
        let mut buf = data.to_vec();
        let unprotected = if is_rtcp(data) {
            srtp.unprotect_rtcp_vec(&mut buf)
        } else {
            srtp.unprotect_rtp_vec(&mut buf)
        };
        if let Err(e) = unprotected {
            trace!(error = %e, "SRTP packet dropped");
            return;
        }
        let mut events = std::mem::take(&mut self.media.scratch);
        if let Some(m) = self.media.session.as_mut() {
            m.handle_datagram(now, &buf, &mut events);
        }
        for e in events.drain(..) {
            self.push_event(e);
        }
        self.media.scratch = events;
        self.flush_media(now);
    }

    /// Protects and sends what the session wrote; moves its events out. Before DTLS has
    /// produced keys its RTCP is dropped (reports are periodic; there is no media yet).
    pub(crate) fn flush_media(&mut self, now: Instant) {
        while let Some(t) = self
            .media
            .session
            .as_mut()
            .and_then(|m| m.session.poll_transmit())
        {
            let Some(srtp) = self.srtp_session() else {
                continue;
            };
            let mut buf = t.payload;
            let protected = match t.kind {
                PacketKind::Rtp => {
                    buf.reserve(srtp.profile().rtp_overhead());
                    srtp.protect_rtp_vec(&mut buf)
                }
                PacketKind::Rtcp => {
                    buf.reserve(srtp.profile().rtcp_overhead());
                    srtp.protect_rtcp_vec(&mut buf)
                }
            };
            match protected {
                Ok(()) => self.send_app(now, buf),
                Err(e) => trace!(error = %e, "RTP/RTCP not protected"),
            }
        }
        let mut events = std::mem::take(&mut self.media.scratch);
        if let Some(m) = self.media.session.as_mut() {
            m.drain_events(now, None, &mut events);
        }
        for e in events.drain(..) {
            self.push_event(e);
        }
        self.media.scratch = events;
    }

    /// When the session next needs [`PeerConnection::handle_timeout`].
    pub(crate) fn media_timeout(&self) -> Option<Instant> {
        if self.closed {
            return None;
        }
        self.media.session.as_ref()?.session.poll_timeout()
    }

    /// Runs the session's timers (reports, NACK retries, transport feedback) when due.
    pub(crate) fn handle_media_timeout(&mut self, now: Instant) {
        if self.media_timeout().is_none_or(|t| t > now) {
            return;
        }
        if let Some(m) = self.media.session.as_mut() {
            m.session.handle_timeout(now);
        }
        self.flush_media(now);
    }
}
