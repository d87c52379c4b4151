//! The RTP session behind a connection in [`MediaMode::Session`](crate::MediaMode): one
//! `rtcweb_rtp::session::Session` for the (bundled) transport, configured from each
//! negotiation, and the bookkeeping that maps its SSRCs to transceivers.
//!
//! What the negotiation gives the session: the header extension ids (`a=extmap`, every RTP
//! section of the bundle shares them), reduced-size RTCP (`a=rtcp-rsize`), per section the
//! codecs with their payload types, RTX payload types (`apt`) and whether NACK was
//! negotiated (`a=rtcp-fb:<pt> nack`), our SSRCs and RTX SSRCs (the transceiver's sender),
//! and the peer's from `a=ssrc` and `a=ssrc-group:FID`. Streams the peer did not signal
//! (Firefox signals none) are learnt from the first packet: its mid header extension, or
//! else a payload type only one section uses, names the transceiver.

use std::time::{Duration, Instant};

use rtcweb_jsep::sdp::{Codec as SdpCodec, MediaKind};
use rtcweb_jsep::{Negotiated, NegotiatedMedia, Transceiver, TransceiverId};
use rtcweb_rtp::codec::Codec;
use rtcweb_rtp::rtp::{ExtensionKind, ExtensionMap, RtpPacket};
use rtcweb_rtp::session::{
    CodecConfig, Event as RtpEvent, KeyframeRequest, ReceiveResilience, ReceiveStreamConfig,
    SendResilience, SendStreamConfig, Session, SessionConfig,
};
use tracing::{debug, trace};

use super::media_resilience::{self, SectionResilience};
use crate::config::MediaConfig;
use crate::event::Event;

/// Seconds from the NTP epoch (1900) to the Unix epoch (1970).
const NTP_UNIX_OFFSET: u64 = 2_208_988_800;
/// Streams learnt from unsignalled SSRCs, at most (a peer cannot make us grow without bound).
const MAX_LEARNT_STREAMS: usize = 32;

/// One of our send streams.
#[derive(Debug, Clone)]
pub(crate) struct Sender {
    pub(crate) transceiver: TransceiverId,
    pub(crate) kind: MediaKind,
    pub(crate) mid: Option<String>,
    pub(crate) config: SendStreamConfig,
    /// RED or FEC it sends with.
    pub(crate) resilience: SendResilience,
    pub(crate) frames: u64,
    pub(crate) keyframes: u64,
    pub(crate) pli_received: u64,
    pub(crate) fir_received: u64,
}

/// One of the peer's streams.
#[derive(Debug, Clone)]
pub(crate) struct Receiver {
    pub(crate) transceiver: TransceiverId,
    pub(crate) kind: MediaKind,
    pub(crate) mid: Option<String>,
    pub(crate) config: ReceiveStreamConfig,
    /// RED and FEC it may arrive with.
    pub(crate) resilience: Option<ReceiveResilience>,
    /// The streams of one remote source play in sync (with playout on).
    pub(crate) sync_group: Option<u64>,
    /// Signalled in SDP (kept across renegotiations only while still signalled) or learnt
    /// from a packet (kept while its section receives).
    pub(crate) signalled: bool,
    pub(crate) bytes: u64,
    pub(crate) header_bytes: u64,
    pub(crate) fir_sent: u64,
    /// The peer's last sender report: when, packets and octets it counts.
    pub(crate) last_sr: Option<(Instant, u32, u32)>,
}

/// A negotiated RTP section that receives, for unsignalled streams.
#[derive(Debug, Clone)]
struct Section {
    transceiver: TransceiverId,
    kind: MediaKind,
    mid: Option<String>,
    codecs: Vec<CodecConfig>,
    rtx_payload_types: Vec<u8>,
    nack: bool,
    resilience: SectionResilience,
    sync_group: Option<u64>,
}

/// The session and its streams.
#[derive(Debug)]
pub(crate) struct MediaSession {
    pub(crate) session: Session,
    pub(crate) senders: Vec<Sender>,
    pub(crate) receivers: Vec<Receiver>,
    sections: Vec<Section>,
    scratch: Vec<RtpEvent>,
    /// Playout settings, for streams learnt from packets.
    playout: Option<rtcweb_rtp::playout::PlayoutConfig>,
}

/// The codecs the session packetizes, with RTX, as the offer/answer defaults in session
/// mode: what a browser negotiates minus G.711, which it cannot carry, with RED and ULPFEC
/// as [`MediaConfig::resilience`] says.
pub(crate) fn session_codecs(config: &MediaConfig) -> (Vec<SdpCodec>, Vec<SdpCodec>) {
    let mut audio: Vec<SdpCodec> = rtcweb_jsep::default_audio_codecs()
        .into_iter()
        .filter(|c| c.name.eq_ignore_ascii_case("opus"))
        .collect();
    let fb = ["transport-cc", "ccm fir", "nack", "nack pli"];
    let mut video: Vec<SdpCodec> = rtcweb_jsep::default_video_codecs()
        .into_iter()
        .filter(|c| {
            let resilience = ["red", "ulpfec"]
                .iter()
                .any(|n| c.name.eq_ignore_ascii_case(n));
            // RTX of RED goes with RED.
            let red_rtx =
                c.name.eq_ignore_ascii_case("rtx") && c.fmtp.as_deref() == Some("apt=114");
            !resilience && !red_rtx
        })
        .collect();
    video.push(SdpCodec::new(45, "AV1", 90000, None).with_rtcp_fb(&fb));
    video.push(SdpCodec::new(46, "rtx", 90000, None).with_fmtp("apt=45"));
    media_resilience::add_codecs(&config.resilience, &mut audio, &mut video);
    (audio, video)
}

/// The session's view of a section's codecs: those it packetizes, with their RTX payload
/// types; whether NACK was negotiated for them.
fn codec_configs(codecs: &[SdpCodec]) -> (Vec<CodecConfig>, Vec<u8>, bool) {
    let is_rtx = |c: &SdpCodec| c.name.eq_ignore_ascii_case("rtx");
    let mut out = Vec::new();
    let mut rtx_pts = Vec::new();
    for c in codecs {
        if is_rtx(c) {
            continue;
        }
        let Some(codec) = Codec::from_name(&c.name) else {
            continue;
        };
        // H.264 packetization mode 0 cannot take the FU-A fragments we write.
        if codec == Codec::H264 && c.fmtp_param("packetization-mode") != Some("1") {
            continue;
        }
        let rtx = codecs
            .iter()
            .find(|r| is_rtx(r) && rtcweb_jsep::codec::rtx_apt(r) == Some(c.payload_type))
            .map(|r| r.payload_type);
        rtx_pts.extend(rtx);
        out.push(CodecConfig {
            payload_type: c.payload_type,
            codec,
            rtx_payload_type: rtx,
        });
    }
    let nack = codecs
        .iter()
        .any(|c| !is_rtx(c) && c.rtcp_fb.iter().any(|f| f == "nack"));
    (out, rtx_pts, nack)
}

/// The negotiated header extensions of every RTP section, by id (bundled sections share
/// ids, RFC 8843 section 9.2).
fn extension_map(n: &Negotiated, config: &MediaConfig) -> ExtensionMap {
    let mut map = ExtensionMap::new();
    for m in rtp_sections(n) {
        for e in &m.extmaps {
            let Ok(id) = u8::try_from(e.id) else { continue };
            let twcc = ExtensionKind::TransportWideCc.uri() == e.uri;
            if twcc && !config.transport_cc {
                continue;
            }
            if let Err(err) = map.insert_uri(id, &e.uri) {
                debug!(%err, id, uri = e.uri, "header extension not mapped");
            }
        }
    }
    map
}

fn rtp_sections(n: &Negotiated) -> impl Iterator<Item = &NegotiatedMedia> {
    n.media.iter().filter(|m| {
        !m.rejected
            && m.transceiver.is_some()
            && matches!(m.kind, MediaKind::Audio | MediaKind::Video)
    })
}

/// Whether the negotiation has any RTP section (a connection with data channels only
/// never makes a session).
pub(crate) fn has_rtp(n: &Negotiated) -> bool {
    rtp_sections(n).next().is_some()
}

/// The NTP time (32.32) of `now`, from the driver's wall clock reading.
fn ntp_at(now: Instant, config: &MediaConfig) -> u64 {
    let Some((at, since_epoch)) = config.wall_clock else {
        return 0;
    };
    let unix = if now >= at {
        since_epoch + (now - at)
    } else {
        since_epoch.saturating_sub(at - now)
    };
    let secs = unix.as_secs() + NTP_UNIX_OFFSET;
    let frac = (u64::from(unix.subsec_nanos()) << 32) / 1_000_000_000;
    (secs << 32) | frac
}

/// Whether `frame` is a key frame of `codec`.
fn is_keyframe(codec: Codec, frame: &[u8]) -> bool {
    use rtcweb_rtp::codec as c;
    match codec {
        Codec::Vp8 => c::vp8_is_keyframe(frame),
        Codec::Vp9 => c::vp9_keyframe_info(frame).is_some_and(|(key, _)| key),
        Codec::H264 => c::h264_is_keyframe(frame),
        Codec::Av1 => c::av1_is_keyframe(frame),
        _ => false,
    }
}

impl MediaSession {
    /// A session for the first negotiation with RTP sections.
    pub(crate) fn new(
        now: Instant,
        n: &Negotiated,
        config: &MediaConfig,
        cname: &str,
        seed: rtcweb_core::Seed,
    ) -> Self {
        let reduced_size = rtp_sections(n).all(|m| m.rtcp_rsize);
        let session = Session::new(
            SessionConfig {
                extensions: extension_map(n, config),
                cname: cname.to_owned(),
                reduced_size,
                ntp_base: ntp_at(now, config),
                congestion_control: config.congestion_control.clone(),
                // REMB for a peer that negotiated it; the session sends it only when
                // transport-wide CC is not mapped (that feedback is better).
                generate_remb: config.remb
                    && rtp_sections(n).any(|m| {
                        m.codecs
                            .iter()
                            .any(|c| c.rtcp_fb.iter().any(|f| f == "goog-remb"))
                    }),
                ..SessionConfig::default()
            },
            now,
            seed,
        );
        Self {
            session,
            senders: Vec::new(),
            receivers: Vec::new(),
            sections: Vec::new(),
            scratch: Vec::new(),
            playout: config.playout,
        }
    }

    /// Applies a negotiation: extension ids, and the streams each section sends and
    /// receives (unchanged streams keep their state).
    pub(crate) fn configure(
        &mut self,
        now: Instant,
        n: &Negotiated,
        transceivers: &[Transceiver],
        config: &MediaConfig,
    ) {
        *self.session.extensions_mut() = extension_map(n, config);
        let mut senders = Vec::new();
        let mut receivers = Vec::new();
        let mut sections = Vec::new();
        for m in rtp_sections(n) {
            let Some(t) = m.transceiver else { continue };
            let (codecs, rtx_payload_types, nack) = codec_configs(&m.codecs);
            if codecs.is_empty() {
                continue;
            }
            let resilience = SectionResilience::of(&m.codecs);
            let send = transceivers
                .iter()
                .find(|x| x.id == t)
                .and_then(|x| x.send.as_ref());
            if m.direction.sends()
                && let Some(ssrc) = send.and_then(|s| s.ssrc)
            {
                let has_rtx = codecs.iter().any(|c| c.rtx_payload_type.is_some());
                senders.push(Sender {
                    transceiver: t,
                    kind: m.kind.clone(),
                    mid: m.mid.clone(),
                    config: SendStreamConfig {
                        ssrc,
                        rtx_ssrc: send.and_then(|s| s.rtx_ssrc).filter(|_| has_rtx),
                        codecs: codecs.clone(),
                        mid: m.mid.clone(),
                        rid: None,
                    },
                    resilience: resilience.send(&m.kind, nack, config),
                    frames: 0,
                    keyframes: 0,
                    pli_received: 0,
                    fir_received: 0,
                });
            }
            if !m.direction.receives() {
                continue;
            }
            // The peer's streams: every SSRC that is not the second of an FID (RTX) or
            // FEC-FR group.
            let repair: Vec<u32> = m
                .remote_ssrc_groups
                .iter()
                .filter(|g| g.semantics == "FID" || g.semantics == "FEC-FR")
                .filter_map(|g| g.ssrcs.get(1).copied())
                .collect();
            let mut primaries: Vec<u32> = m
                .remote_ssrcs
                .iter()
                .map(|s| s.ssrc)
                .filter(|s| !repair.contains(s))
                .collect();
            primaries.dedup();
            for ssrc in primaries {
                if receivers.iter().any(|r: &Receiver| r.config.ssrc == ssrc) {
                    continue;
                }
                let rtx_ssrc = m
                    .remote_ssrc_groups
                    .iter()
                    .filter(|g| g.semantics == "FID")
                    .find(|g| g.ssrcs.first() == Some(&ssrc))
                    .and_then(|g| g.ssrcs.get(1).copied());
                let mut r = Receiver::new(
                    t,
                    m,
                    ReceiveStreamConfig {
                        ssrc,
                        rtx_ssrc,
                        codecs: codecs.clone(),
                        nack,
                        assemble_frames: true,
                    },
                    true,
                );
                r.resilience = resilience.receive();
                r.sync_group = media_resilience::sync_group(m, Some(ssrc));
                receivers.push(r);
            }
            sections.push(Section {
                transceiver: t,
                kind: m.kind.clone(),
                mid: m.mid.clone(),
                codecs,
                rtx_payload_types,
                nack,
                resilience,
                sync_group: media_resilience::sync_group(m, None),
            });
        }
        // Learnt streams stay while their section still receives with the same codecs.
        for r in self.receivers.iter().filter(|r| !r.signalled) {
            let still = sections
                .iter()
                .any(|s| s.transceiver == r.transceiver && s.codecs == r.config.codecs);
            if still && !receivers.iter().any(|x| x.config.ssrc == r.config.ssrc) {
                receivers.push(r.clone());
            }
        }
        self.sync_senders(senders);
        self.sync_receivers(now, receivers, config);
        self.sections = sections;
    }

    fn sync_senders(&mut self, wanted: Vec<Sender>) {
        let mut kept = Vec::with_capacity(wanted.len());
        for mut w in wanted {
            match self
                .senders
                .iter()
                .position(|s| s.config == w.config && s.transceiver == w.transceiver)
            {
                Some(i) => {
                    let mut s = self.senders.swap_remove(i);
                    if s.resilience != w.resilience {
                        s.resilience = w.resilience;
                        self.apply_send_resilience(&s);
                    }
                    kept.push(s);
                }
                None => {
                    if let Some(old) = self
                        .senders
                        .iter()
                        .position(|s| s.config.ssrc == w.config.ssrc)
                    {
                        let old = self.senders.swap_remove(old);
                        self.session.remove_send_stream(old.config.ssrc);
                        // Counters belong to the SSRC and survive a codec change.
                        w.frames = old.frames;
                        w.keyframes = old.keyframes;
                    }
                    match self.session.add_send_stream(w.config.clone()) {
                        Ok(()) => {
                            self.apply_send_resilience(&w);
                            kept.push(w);
                        }
                        Err(e) => debug!(%e, ssrc = w.config.ssrc, "send stream not added"),
                    }
                }
            }
        }
        for gone in self.senders.drain(..) {
            self.session.remove_send_stream(gone.config.ssrc);
        }
        self.senders = kept;
    }

    fn sync_receivers(&mut self, now: Instant, wanted: Vec<Receiver>, config: &MediaConfig) {
        let mut kept = Vec::with_capacity(wanted.len());
        for w in wanted {
            match self
                .receivers
                .iter()
                .position(|r| r.config == w.config && r.transceiver == w.transceiver)
            {
                Some(i) => {
                    let mut r = self.receivers.swap_remove(i);
                    if r.resilience != w.resilience || r.sync_group != w.sync_group {
                        r.resilience = w.resilience;
                        r.sync_group = w.sync_group;
                        self.apply_receive_settings(now, &r, config);
                    }
                    kept.push(r);
                }
                None => {
                    if let Some(old) = self
                        .receivers
                        .iter()
                        .position(|r| r.config.ssrc == w.config.ssrc)
                    {
                        let old = self.receivers.swap_remove(old);
                        self.session.remove_receive_stream(old.config.ssrc);
                    }
                    match self.session.add_receive_stream(w.config.clone()) {
                        Ok(()) => {
                            self.apply_receive_settings(now, &w, config);
                            kept.push(w);
                        }
                        Err(e) => debug!(%e, ssrc = w.config.ssrc, "receive stream not added"),
                    }
                }
            }
        }
        for gone in self.receivers.drain(..) {
            self.session.remove_receive_stream(gone.config.ssrc);
        }
        self.receivers = kept;
    }

    fn apply_send_resilience(&mut self, s: &Sender) {
        if let Err(e) = self
            .session
            .set_send_resilience(s.config.ssrc, s.resilience)
        {
            debug!(%e, ssrc = s.config.ssrc, "RED/FEC not set");
        }
    }

    /// RED/FEC and playout of a receive stream.
    fn apply_receive_settings(&mut self, now: Instant, r: &Receiver, config: &MediaConfig) {
        let ssrc = r.config.ssrc;
        if let Err(e) = self.session.set_receive_resilience(ssrc, r.resilience) {
            debug!(%e, ssrc, "RED/FEC not set");
        }
        let playout = config.playout.map(|p| rtcweb_rtp::playout::PlayoutConfig {
            sync_group: r.sync_group,
            ..p
        });
        if let Err(e) = self.session.set_playout(now, ssrc, playout) {
            debug!(%e, ssrc, "playout not set");
        }
    }

    /// The send stream of a transceiver.
    pub(crate) fn sender_mut(&mut self, t: TransceiverId) -> Option<&mut Sender> {
        self.senders.iter_mut().find(|s| s.transceiver == t)
    }

    /// Counts a frame written on `sender` (the session already took it).
    pub(crate) fn count_frame(&mut self, t: TransceiverId, payload_type: u8, frame: &[u8]) {
        if let Some(s) = self.sender_mut(t) {
            s.frames += 1;
            let codec = s
                .config
                .codecs
                .iter()
                .find(|c| c.payload_type == payload_type)
                .map(|c| c.codec);
            if codec.is_some_and(|c| is_keyframe(c, frame)) {
                s.keyframes += 1;
            }
        }
    }

    /// Feeds an unprotected RTP or RTCP datagram; what the application must know goes to
    /// `out`.
    pub(crate) fn handle_datagram(&mut self, now: Instant, packet: &[u8], out: &mut Vec<Event>) {
        let rtcp = packet.get(1).is_some_and(|b| (192..=223).contains(b));
        if !rtcp && let Ok(p) = RtpPacket::new_checked(packet) {
            let ssrc = p.ssrc();
            let payload = p.payload().len() as u64;
            let header = (packet.len() as u64).saturating_sub(payload);
            let r = self
                .receivers
                .iter_mut()
                .find(|r| r.config.ssrc == ssrc || r.config.rtx_ssrc == Some(ssrc));
            if let Some(r) = r {
                // An RTX payload starts with the original sequence number.
                let rtx = r.config.ssrc != ssrc;
                r.bytes += if rtx {
                    payload.saturating_sub(2)
                } else {
                    payload
                };
                r.header_bytes += header;
            }
        }
        if let Err(e) = self.session.handle_input(now, packet) {
            trace!(%e, "RTP/RTCP input not used");
        }
        self.drain_events(now, Some(packet), out);
    }

    /// Moves the session's events to `out`, learning unsignalled streams on the way (then
    /// `packet`, which announced one, is fed again).
    pub(crate) fn drain_events(
        &mut self,
        now: Instant,
        packet: Option<&[u8]>,
        out: &mut Vec<Event>,
    ) {
        let mut events = std::mem::take(&mut self.scratch);
        events.clear();
        while let Some(e) = self.session.poll_event() {
            events.push(e);
        }
        let mut refeed = false;
        for e in events.drain(..) {
            match e {
                RtpEvent::Frame(frame) => {
                    if let Some(r) = self.receivers.iter().find(|r| r.config.ssrc == frame.ssrc) {
                        out.push(Event::Frame {
                            transceiver: r.transceiver,
                            frame,
                        });
                    }
                }
                RtpEvent::KeyframeRequested { ssrc, kind } => {
                    if let Some(s) = self.senders.iter_mut().find(|s| s.config.ssrc == ssrc) {
                        match kind {
                            KeyframeRequest::Pli => s.pli_received += 1,
                            KeyframeRequest::Fir => s.fir_received += 1,
                        }
                        out.push(Event::KeyframeRequest {
                            transceiver: s.transceiver,
                            kind,
                        });
                    }
                }
                RtpEvent::TransportFeedback(packets) => out.push(Event::TransportFeedback(packets)),
                RtpEvent::Remb { bitrate, .. } => out.push(Event::Remb { bitrate }),
                RtpEvent::TargetBitrate(rate) => out.push(Event::TargetBitrate(rate)),
                RtpEvent::SenderReport { ssrc, info } => {
                    if let Some(r) = self.receivers.iter_mut().find(|r| r.config.ssrc == ssrc) {
                        r.last_sr = Some((now, info.packet_count, info.octet_count));
                    }
                }
                RtpEvent::UnknownSsrc {
                    ssrc,
                    payload_type,
                    mid,
                    ..
                } => refeed |= self.learn(now, ssrc, payload_type, mid.as_deref()),
                _ => {}
            }
        }
        self.scratch = events;
        if refeed && let Some(p) = packet {
            if let Err(e) = self.session.handle_input(now, p) {
                trace!(%e, "RTP input not used");
            }
            self.drain_events(now, None, out);
        }
    }

    /// Adds a receive stream for an SSRC the peer did not signal, if its mid (or its
    /// payload type, when only one receiving section has it) names a section. RTX streams
    /// cannot be paired with their media stream this way and stay unknown.
    fn learn(&mut self, now: Instant, ssrc: u32, payload_type: u8, mid: Option<&str>) -> bool {
        if self.receivers.iter().filter(|r| !r.signalled).count() >= MAX_LEARNT_STREAMS {
            return false;
        }
        let by_mid =
            mid.and_then(|mid| self.sections.iter().find(|s| s.mid.as_deref() == Some(mid)));
        let section = by_mid.or_else(|| {
            let mut with_pt = self
                .sections
                .iter()
                .filter(|s| s.codecs.iter().any(|c| c.payload_type == payload_type));
            let first = with_pt.next();
            first.filter(|_| with_pt.next().is_none())
        });
        let Some(s) = section else {
            debug!(
                ssrc,
                payload_type,
                ?mid,
                "RTP from an SSRC no section claims"
            );
            return false;
        };
        if s.rtx_payload_types.contains(&payload_type)
            || !s.codecs.iter().any(|c| c.payload_type == payload_type)
        {
            return false;
        }
        // The codec it uses first: the frame assembler depacketizes with the first.
        let mut codecs = s.codecs.clone();
        if let Some(i) = codecs.iter().position(|c| c.payload_type == payload_type) {
            codecs.swap(0, i);
        }
        let config = ReceiveStreamConfig {
            ssrc,
            rtx_ssrc: None,
            codecs,
            nack: s.nack,
            assemble_frames: true,
        };
        if self.session.add_receive_stream(config.clone()).is_err() {
            return false;
        }
        debug!(ssrc, mid = ?s.mid, "unsignalled stream learnt");
        let playout = self.playout;
        let receiver = Receiver {
            transceiver: s.transceiver,
            kind: s.kind.clone(),
            mid: s.mid.clone(),
            config,
            resilience: s.resilience.receive(),
            sync_group: s.sync_group,
            signalled: false,
            bytes: 0,
            header_bytes: 0,
            fir_sent: 0,
            last_sr: None,
        };
        let ssrc = receiver.config.ssrc;
        if let Err(e) = self
            .session
            .set_receive_resilience(ssrc, receiver.resilience)
        {
            debug!(%e, ssrc, "RED/FEC not set");
        }
        let playout = playout.map(|p| rtcweb_rtp::playout::PlayoutConfig {
            sync_group: receiver.sync_group,
            ..p
        });
        if let Err(e) = self.session.set_playout(now, ssrc, playout) {
            debug!(%e, ssrc, "playout not set");
        }
        self.receivers.push(receiver);
        true
    }

    /// Asks the senders of a transceiver's remote streams for a key frame.
    pub(crate) fn request_keyframe(
        &mut self,
        now: Instant,
        t: TransceiverId,
        kind: KeyframeRequest,
    ) -> bool {
        let mut sent = false;
        for r in self.receivers.iter_mut().filter(|r| r.transceiver == t) {
            if let Ok(true) = self.session.request_keyframe(now, r.config.ssrc, kind) {
                sent = true;
                if kind == KeyframeRequest::Fir {
                    r.fir_sent += 1;
                }
            }
        }
        sent
    }

    /// The latest round-trip time.
    pub(crate) fn rtt(&self) -> Option<Duration> {
        self.session.rtt()
    }
}

impl Receiver {
    fn new(
        transceiver: TransceiverId,
        m: &NegotiatedMedia,
        config: ReceiveStreamConfig,
        signalled: bool,
    ) -> Self {
        Self {
            transceiver,
            kind: m.kind.clone(),
            mid: m.mid.clone(),
            config,
            resilience: None,
            sync_group: None,
            signalled,
            bytes: 0,
            header_bytes: 0,
            fir_sent: 0,
            last_sr: None,
        }
    }

    /// The clock rate of its first codec.
    pub(crate) fn clock_rate(&self) -> u32 {
        self.config
            .codecs
            .first()
            .map_or(90_000, |c| c.codec.clock_rate())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ntp_time_from_the_wall_clock() {
        let at = Instant::now();
        let config = MediaConfig {
            wall_clock: Some((at, Duration::from_millis(1_700_000_000_500))),
            ..MediaConfig::default()
        };
        let ntp = ntp_at(at + Duration::from_secs(2), &config);
        assert_eq!(ntp >> 32, 1_700_000_002 + NTP_UNIX_OFFSET);
        let frac = (ntp & 0xffff_ffff) as f64 / 4_294_967_296.0;
        assert!((frac - 0.5).abs() < 1e-6, "{frac}");
        assert_eq!(ntp_at(at, &MediaConfig::default()), 0);
    }

    #[test]
    fn session_codecs_are_the_ones_it_packetizes() {
        let (audio, video) = session_codecs(&MediaConfig::default());
        let (a, _, _) = codec_configs(&audio);
        // RED first (browsers send RED when it leads), then Opus.
        assert_eq!(audio[0].name, "red");
        assert_eq!(a.len(), audio.len() - 1, "{audio:?}");
        let (v, rtx, nack) = codec_configs(&video);
        assert!(nack);
        assert_eq!(v.len(), 4);
        // RTX of the four codecs and of RED; RED and ULPFEC with Chromium's numbers.
        assert_eq!(rtx.len(), 4);
        let names: Vec<_> = video[video.len() - 3..]
            .iter()
            .map(|c| (c.payload_type, c.name.as_str()))
            .collect();
        assert_eq!(names, [(118, "red"), (119, "rtx"), (120, "ulpfec")]);
        assert!(v.iter().all(|c| c.rtx_payload_type.is_some()));
        assert!(v.iter().any(|c| c.codec == Codec::Av1));
    }
}
