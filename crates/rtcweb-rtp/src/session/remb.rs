//! REMB generation for peers that send no transport-wide CC feedback: when received media
//! carries abs-send-time and the extension map has no transport-wide CC id (so the peer
//! gets no TWCC from us to adapt on), each media packet goes into rtcweb-bwe's
//! [`RemoteEstimator`] and its estimate goes back as REMB (draft-alvestrand-rmcat-remb,
//! RTCP PSFB FMT 15) listing the media SSRCs it applies to: at once when it drops by 3 % or
//! more, otherwise once a second. A REMB leaves at once as its own feedback packet (led by
//! an empty RR and SDES unless reduced size is on), as libwebrtc sends a new REMB
//! immediately.
//!
//! RTX packets count (the path carried them, and probes are made of them) under the SSRC
//! of the stream they repair; packets of unknown SSRCs do not count. Turned off by
//! [`SessionConfig::generate_remb`](super::SessionConfig::generate_remb).

use std::time::{Duration, Instant};

use rtcweb_bwe::{
    Bitrate, ReceivedPacket, RemoteConfig, RemoteEstimator, RemoteEvent, RemoteInput, SendTime,
};

use super::Session;
use crate::rtcp::{RembRepr, RtcpRepr};
use crate::rtp::ExtensionKind;

/// The estimator of a session that generates REMB (`None` when turned off).
pub(crate) fn new_estimator(on: bool) -> Option<RemoteEstimator> {
    // The default settings are valid; should they ever not be, REMB is off.
    on.then(|| RemoteEstimator::new(RemoteConfig::default()).ok())
        .flatten()
}

impl Session {
    /// A received RTP packet of `size` octets from `ssrc`, before it is demultiplexed.
    pub(crate) fn remb_on_rtp(
        &mut self,
        now: Instant,
        ssrc: u32,
        abs_send_time: Option<u32>,
        size: usize,
    ) {
        let Some(ast) = abs_send_time else { return };
        if self.remb.is_none()
            || self
                .config
                .extensions
                .id(ExtensionKind::TransportWideCc)
                .is_some()
        {
            return;
        }
        let Some(media) = self
            .receivers
            .iter()
            .find(|r| r.config.ssrc == ssrc || r.config.rtx_ssrc == Some(ssrc))
            .map(|r| r.config.ssrc)
        else {
            return;
        };
        let Some(est) = self.remb.as_mut() else {
            return;
        };
        let p = ReceivedPacket {
            arrival: now,
            send_time: SendTime::AbsSendTime(ast),
            size,
            ssrc: media,
        };
        est.handle_input(now, RemoteInput::Packet(p));
        self.send_rembs();
    }

    /// When the REMB estimator's timers are due.
    pub(crate) fn remb_timeout(&self) -> Option<Instant> {
        self.remb.as_ref().and_then(RemoteEstimator::poll_timeout)
    }

    /// Runs the REMB estimator's timers (the regular REMB, streams that went quiet).
    pub(crate) fn remb_handle_timeout(&mut self, now: Instant) {
        let Some(est) = self.remb.as_mut() else {
            return;
        };
        if est.poll_timeout().is_some_and(|t| t <= now) {
            est.handle_timeout(now);
            self.send_rembs();
        }
    }

    /// A round-trip time measurement into the REMB estimator.
    pub(crate) fn remb_rtt(&mut self, now: Instant, rtt: Duration) {
        if let Some(est) = self.remb.as_mut() {
            est.handle_input(now, RemoteInput::Rtt(rtt));
        }
    }

    fn send_rembs(&mut self) {
        let sender_ssrc = self.feedback_ssrc();
        while let Some(RemoteEvent::Remb(r)) = self.remb.as_mut().and_then(|e| e.poll_event()) {
            self.send_feedback(&[RtcpRepr::Remb(RembRepr {
                sender_ssrc,
                bitrate: r.bitrate.bps(),
                ssrcs: &r.ssrcs,
            })]);
        }
    }

    /// The receive-side estimate sent as REMB, once one has been made.
    pub fn remote_estimate(&self) -> Option<Bitrate> {
        self.remb.as_ref().and_then(RemoteEstimator::estimate)
    }

    /// The receive-side estimator that generates REMB (`None` when turned off), to read
    /// its state.
    pub fn remote_estimator(&self) -> Option<&RemoteEstimator> {
        self.remb.as_ref()
    }
}
