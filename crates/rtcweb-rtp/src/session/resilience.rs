//! Loss resilience of the session's streams, set per stream after it is added: redundant
//! audio (RED, RFC 2198) and video FEC (ULPFEC in RED, RFC 5109, or FlexFEC-03).
//!
//! - **send**: an audio stream with [`RedConfig`] sends every payload of the carried type
//!   as RED with the last `distance` payloads before it; a video stream with
//!   [`FecSendConfig`] protects its packets as they are written and sends FEC packets right
//!   after each frame, as many as [`Protection`] says from the peer's reported loss and the
//!   round trip. With ULPFEC every video packet travels in a RED envelope and the FEC
//!   packets take the media stream's next sequence numbers (so they sit between frames, and
//!   are kept for NACK like media); with FlexFEC they go on their own SSRC.
//! - **receive**: a stream with [`ReceiveResilience`] takes RED apart (a redundant block is
//!   the packet `k` sequence numbers before the primary; one that already arrived is
//!   dropped, so no payload reaches the application twice), keeps received packets for the
//!   FEC decoder and feeds what it rebuilds through the normal receive path (the NACK list
//!   forgets it, reports do not count it as received). While FEC arrives, NACKs for a new
//!   gap wait [`ReceiveResilience::nack_hold`], time for the FEC packet after the frame.
//!
//! The sending half lives in `resilient_send`, the receiving half in `resilient_receive`.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use super::Session;
use crate::codec::Payloads;
use crate::error::{Error, Result};
use crate::fec::{FecDecoder, FecEncoder, FecScheme, Protection, ProtectionConfig};
use crate::red::RedEncoder;

/// Redundant audio on a send stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RedConfig {
    /// The RED payload type (`a=rtpmap:63 red/48000/2`).
    pub payload_type: u8,
    /// The payload type it carries (`a=fmtp:63 111/111`: Opus's).
    pub carried: u8,
    /// Earlier payloads repeated in each packet: 1 as browsers send, 2 to survive two
    /// losses in a row.
    pub distance: usize,
}

/// How video FEC travels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FecKind {
    /// ULPFEC inside RED on the media stream's SSRC (how Chromium negotiates it).
    Ulpfec {
        /// The RED payload type (`red/90000`).
        red_payload_type: u8,
        /// The ULPFEC payload type (`ulpfec/90000`).
        ulpfec_payload_type: u8,
        /// The RTX payload type whose `apt` is RED, if negotiated.
        red_rtx_payload_type: Option<u8>,
    },
    /// FlexFEC-03 on its own SSRC (`a=ssrc-group:FEC-FR <media> <fec>`).
    Flexfec {
        /// The FlexFEC payload type (`flexfec-03/90000`).
        payload_type: u8,
        /// Its SSRC.
        ssrc: u32,
    },
}

impl FecKind {
    fn scheme(self) -> FecScheme {
        match self {
            Self::Ulpfec { .. } => FecScheme::Ulpfec,
            Self::Flexfec { .. } => FecScheme::Flexfec03,
        }
    }
}

/// Video FEC on a send stream.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FecSendConfig {
    /// The format and its payload types.
    pub kind: FecKind,
    /// How the rate follows loss and round trip.
    pub protection: ProtectionConfig,
    /// Whether the receiver repairs with NACK too (FEC then backs off on short paths).
    pub nack: bool,
}

/// Loss resilience of a send stream.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct SendResilience {
    /// Redundant audio.
    pub red: Option<RedConfig>,
    /// Video FEC.
    pub fec: Option<FecSendConfig>,
}

/// Loss resilience of a receive stream: the payload types (and SSRC) that carry redundancy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReceiveResilience {
    /// The RED payload type.
    pub red_payload_type: Option<u8>,
    /// The RTX payload type whose `apt` is RED.
    pub red_rtx_payload_type: Option<u8>,
    /// The ULPFEC payload type (inside RED).
    pub ulpfec_payload_type: Option<u8>,
    /// FlexFEC-03: its payload type and SSRC.
    pub flexfec: Option<(u8, u32)>,
    /// While FEC arrives, how long a new gap waits for it before it is NACKed (without
    /// NACK: before it is given up as lost).
    pub nack_hold: Duration,
}

impl Default for ReceiveResilience {
    fn default() -> Self {
        Self {
            red_payload_type: None,
            red_rtx_payload_type: None,
            ulpfec_payload_type: None,
            flexfec: None,
            nack_hold: Duration::from_millis(30),
        }
    }
}

/// Loss resilience counters of a receive stream.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ResilienceStats {
    /// RED packets received.
    pub red_packets: u64,
    /// Payloads recovered from redundant blocks.
    pub red_recovered: u64,
    /// Redundant blocks dropped because their packet had arrived.
    pub red_duplicates: u64,
    /// FEC packets received (W3C `fecPacketsReceived`).
    pub fec_packets_received: u64,
    /// Their payload octets (W3C `fecBytesReceived`).
    pub fec_bytes_received: u64,
    /// FEC packets that repaired nothing (W3C `fecPacketsDiscarded`).
    pub fec_packets_discarded: u64,
    /// Media packets rebuilt from FEC that never arrived otherwise: the repairs.
    pub fec_recovered: u64,
    /// Media packets the decoder rebuilt, repairs or not.
    pub fec_rebuilt: u64,
    /// Rebuilt packets that were of no use (already received through RTX meanwhile).
    pub fec_recovered_duplicates: u64,
    /// Rebuilt packets that arrived afterwards all the same (they were late, not lost: FEC
    /// overtook them).
    pub fec_rebuilt_in_flight: u64,
    /// Rebuilt packets that had been NACKed before FEC repaired them (the FEC came after
    /// the NACK hold).
    pub fec_recovered_after_nack: u64,
}

/// Loss resilience counters of a send stream.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct SendResilienceStats {
    /// RED packets sent.
    pub red_packets: u64,
    /// Media packets protected by FEC.
    pub fec_protected: u64,
    /// FEC packets sent.
    pub fec_packets: u64,
    /// The protection rate now (FEC packets per media packet).
    pub fec_rate: f64,
    /// The loss it is based on.
    pub fec_loss: f64,
}

/// Sender state: the RED encoder or the FEC encoder and its rate.
#[derive(Debug)]
pub(crate) struct SendProtection {
    pub red: Option<(RedConfig, RedEncoder)>,
    pub fec: Option<SendFec>,
    pub stats: SendResilienceStats,
    /// Scratch for RED payloads.
    pub scratch: Vec<u8>,
}

#[derive(Debug)]
pub(crate) struct SendFec {
    pub config: FecSendConfig,
    pub encoder: FecEncoder,
    pub protection: Protection,
    /// FlexFEC's own sequence numbers.
    pub next_seq: u16,
    /// FEC payloads of groups closed before the frame's end, sent after it.
    pub pending: Payloads,
}

impl SendProtection {
    /// The RTX payload type of RED (ULPFEC's envelope).
    pub fn red_rtx(&self, payload_type: u8) -> Option<u8> {
        match self.fec.as_ref()?.config.kind {
            FecKind::Ulpfec {
                red_payload_type,
                red_rtx_payload_type,
                ..
            } if red_payload_type == payload_type => red_rtx_payload_type,
            _ => None,
        }
    }
}

/// Receiver state: the FEC decoder and the counters.
#[derive(Debug)]
pub(crate) struct ReceiveProtection {
    pub config: ReceiveResilience,
    pub decoder: Option<FecDecoder>,
    pub stats: ResilienceStats,
    /// When an FEC packet last arrived (NACKs wait while FEC flows).
    pub last_fec: Option<Instant>,
    /// Sequence numbers rebuilt lately, to tell repairs from packets FEC overtook.
    pub rebuilt: VecDeque<u64>,
}

/// Rebuilt sequence numbers remembered.
pub(crate) const REBUILT_REMEMBERED: usize = 128;

/// Session-wide state: FEC packets made at a frame's end, waiting to be sent.
#[derive(Debug, Default)]
pub(crate) struct ResilienceState {
    pub fec_out: VecDeque<Vec<u8>>,
    /// Whether any send stream makes FEC (the hook after the pacer is free otherwise).
    pub fec_senders: usize,
}

/// FEC packets made at one frame's end, at most (more would be a bug in the rate).
pub(crate) const MAX_FEC_OUT: usize = 64;

impl Session {
    /// Sets (or with the default, clears) the loss resilience of send stream `ssrc`. The
    /// payload types must be the negotiated ones; RED applies to payloads of
    /// `red.carried`, FEC to every packet of the stream.
    pub fn set_send_resilience(&mut self, ssrc: u32, config: SendResilience) -> Result<()> {
        let rtt = self.rtt;
        let s = self
            .senders
            .iter_mut()
            .find(|s| s.config.ssrc == ssrc)
            .ok_or(Error::UnknownSsrc(ssrc))?;
        let had_fec = s.protection.as_ref().is_some_and(|p| p.fec.is_some());
        if config.red.is_none() && config.fec.is_none() {
            s.protection = None;
        } else {
            let fec = config.fec.map(|f| {
                let mut protection = Protection::new(f.protection, f.nack);
                if let Some(rtt) = rtt {
                    protection.on_rtt(rtt);
                }
                SendFec {
                    config: f,
                    encoder: FecEncoder::new(f.kind.scheme(), ssrc),
                    protection,
                    next_seq: s.next_rtx_seq.wrapping_add(0x4000),
                    pending: Payloads::new(),
                }
            });
            s.protection = Some(Box::new(SendProtection {
                red: config.red.map(|r| (r, RedEncoder::new(r.distance))),
                fec,
                stats: SendResilienceStats::default(),
                scratch: Vec::new(),
            }));
        }
        let has_fec = s.protection.as_ref().is_some_and(|p| p.fec.is_some());
        match (had_fec, has_fec) {
            (false, true) => self.resilience.fec_senders += 1,
            (true, false) => {
                self.resilience.fec_senders = self.resilience.fec_senders.saturating_sub(1);
            }
            _ => {}
        }
        Ok(())
    }

    /// Sets (or with `None`, clears) the loss resilience of receive stream `ssrc`.
    pub fn set_receive_resilience(
        &mut self,
        ssrc: u32,
        config: Option<ReceiveResilience>,
    ) -> Result<()> {
        let r = self
            .receivers
            .iter_mut()
            .find(|r| r.config.ssrc == ssrc)
            .ok_or(Error::UnknownSsrc(ssrc))?;
        let fec = config.is_some_and(|c| c.flexfec.is_some() || c.ulpfec_payload_type.is_some());
        // Without NACK a gap waits for FEC from the start (it is given up after the hold).
        let hold = match config {
            Some(c) if fec && !r.config.nack => c.nack_hold,
            _ => Duration::ZERO,
        };
        r.nack.set_hold(hold);
        r.protection = config.map(|c| {
            let scheme = match (c.flexfec, c.ulpfec_payload_type) {
                (Some(_), _) => Some(FecScheme::Flexfec03),
                (None, Some(_)) => Some(FecScheme::Ulpfec),
                (None, None) => None,
            };
            Box::new(ReceiveProtection {
                config: c,
                decoder: scheme.map(|s| FecDecoder::new(s, ssrc)),
                stats: ResilienceStats::default(),
                last_fec: None,
                rebuilt: VecDeque::new(),
            })
        });
        Ok(())
    }

    /// Loss resilience counters of receive stream `ssrc` (if it has resilience set).
    pub fn resilience_stats(&self, ssrc: u32) -> Option<ResilienceStats> {
        let r = self.receivers.iter().find(|r| r.config.ssrc == ssrc)?;
        let p = r.protection.as_ref()?;
        let mut s = p.stats;
        if let Some(d) = &p.decoder {
            let d = d.stats();
            s.fec_packets_received = d.fec_packets;
            s.fec_bytes_received = d.fec_bytes;
            s.fec_packets_discarded = d.fec_discarded;
            s.fec_rebuilt = d.recovered;
            s.fec_recovered = d
                .recovered
                .saturating_sub(s.fec_recovered_duplicates + s.fec_rebuilt_in_flight);
        }
        Some(s)
    }

    /// Loss resilience counters of send stream `ssrc` (if it has resilience set).
    pub fn send_resilience_stats(&self, ssrc: u32) -> Option<SendResilienceStats> {
        let s = self.senders.iter().find(|s| s.config.ssrc == ssrc)?;
        let p = s.protection.as_ref()?;
        let mut out = p.stats;
        if let Some(f) = &p.fec {
            let (protected, made) = f.encoder.counts();
            out.fec_protected = protected;
            out.fec_packets = made;
            out.fec_rate = f.protection.rate();
            out.fec_loss = f.protection.loss();
        }
        Some(out)
    }
}
