//! An SRTP session: both directions of one DTLS-SRTP association, every SSRC in it.

use crate::header::{parse_rtcp_ssrc, parse_rtp};
use crate::replay::{MAX_REPLAY_WINDOW, MIN_REPLAY_WINDOW, ReplayWindow, estimate_index};
use crate::streams::StreamTable;
use crate::transform::{SRTCP_E_FLAG, Transform};
use crate::{DirectionKeys, Error, MasterKey, ProtectionProfile, Stats};

/// Session settings.
///
/// ```
/// let mut config = rtcweb_srtp::Config::default();
/// config.replay_window = 1024; // video: NACK retransmissions can arrive late
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Config {
    /// Replay window in packets, per SSRC, for SRTP and SRTCP: 64 (the default, RFC 3711's
    /// minimum) to 1024.
    pub replay_window: usize,
    /// Most SSRCs tracked per direction and per protocol (default 256). A packet with a new
    /// SSRC beyond it is refused with [`Error::StreamLimit`]; an inbound stream is only created
    /// once a packet of it authenticates, so forged packets cannot fill the table.
    pub max_streams: usize,
    /// Allow protecting an RTP packet whose index was already protected (default false).
    /// Only safe when the repeated packet is byte-for-byte identical: with GCM a different
    /// payload under the same index reuses the nonce.
    pub allow_repeat_tx: bool,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            replay_window: 64,
            max_streams: 256,
            allow_repeat_tx: false,
        }
    }
}

impl Config {
    /// Sets [`replay_window`](Self::replay_window).
    pub fn with_replay_window(mut self, packets: usize) -> Self {
        self.replay_window = packets;
        self
    }

    /// Sets [`max_streams`](Self::max_streams).
    pub fn with_max_streams(mut self, streams: usize) -> Self {
        self.max_streams = streams;
        self
    }

    /// Sets [`allow_repeat_tx`](Self::allow_repeat_tx).
    pub fn with_allow_repeat_tx(mut self, allow: bool) -> Self {
        self.allow_repeat_tx = allow;
        self
    }

    fn validate(&self) -> Result<(), Error> {
        if !(MIN_REPLAY_WINDOW..=MAX_REPLAY_WINDOW).contains(&self.replay_window) {
            return Err(Error::InvalidConfig(
                "replay_window must be within 64..=1024",
            ));
        }
        if self.max_streams == 0 {
            return Err(Error::InvalidConfig("max_streams must be at least 1"));
        }
        Ok(())
    }
}

/// Our sending side: local keys.
struct Outbound {
    rtp: Transform,
    rtcp: Transform,
    /// Highest index sent per SSRC (and which recent ones, to refuse repeats).
    rtp_streams: StreamTable<ReplayWindow>,
    /// Next SRTCP index per SSRC.
    rtcp_streams: StreamTable<u32>,
}

/// Our receiving side: remote keys.
struct Inbound {
    rtp: Transform,
    rtcp: Transform,
    rtp_streams: StreamTable<ReplayWindow>,
    rtcp_streams: StreamTable<ReplayWindow>,
}

/// Both directions of an SRTP session: protects what we send with the local keys, verifies
/// and decrypts what we receive with the remote keys. Streams (SSRCs) are created on demand.
///
/// All four packet methods work in place and never allocate (except the first packet of a new
/// SSRC, which adds a table entry). A failed call leaves the stream state as it was and counts
/// the error in [`Session::stats`].
///
/// ```
/// use rtcweb_srtp::{Config, MasterKey, ProtectionProfile, Session};
///
/// let p = ProtectionProfile::AeadAes128Gcm;
/// let a = MasterKey::new(p, &[1; 16], &[2; 12]).unwrap();
/// let b = MasterKey::new(p, &[3; 16], &[4; 12]).unwrap();
/// let mut alice = Session::new(p, &a, &b, Config::default()).unwrap();
/// let mut bob = Session::new(p, &b, &a, Config::default()).unwrap();
///
/// // An RTP packet (12-octet header, 4-octet payload) with tail room for the tag.
/// let mut buf = [0u8; 64];
/// let rtp = [0x80, 96, 0, 1, 0, 0, 0, 0, 0xca, 0xfe, 0xba, 0xbe, 1, 2, 3, 4];
/// buf[..16].copy_from_slice(&rtp);
/// let n = alice.protect_rtp(&mut buf, 16).unwrap();
/// assert_eq!(n, 16 + p.rtp_overhead());
/// let wire = buf; // keep a copy of the SRTP packet
/// let m = bob.unprotect_rtp(&mut buf, n).unwrap();
/// assert_eq!(&buf[..m], &rtp);
/// // The same SRTP packet again is a replay, refused and counted.
/// let mut again = wire;
/// let err = bob.unprotect_rtp(&mut again, n).unwrap_err();
/// assert!(matches!(err, rtcweb_srtp::Error::Replayed { .. }));
/// assert_eq!(bob.stats().replayed, 1);
/// ```
pub struct Session {
    profile: ProtectionProfile,
    config: Config,
    outbound: Outbound,
    inbound: Inbound,
    stats: Stats,
}

impl core::fmt::Debug for Session {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Session")
            .field("profile", &self.profile)
            .field("config", &self.config)
            .field("stats", &self.stats)
            .finish_non_exhaustive()
    }
}

impl Session {
    /// A session from the master keys DTLS-SRTP exported: `local` protects what we send,
    /// `remote` what the peer sends. Session keys are derived and scheduled once, here.
    pub fn new(
        profile: ProtectionProfile,
        local: &MasterKey,
        remote: &MasterKey,
        config: Config,
    ) -> Result<Self, Error> {
        let local = DirectionKeys::derive(profile, local)?;
        let remote = DirectionKeys::derive(profile, remote)?;
        Self::with_session_keys(profile, &local, &remote, config)
    }

    /// A session from already derived session keys (bypasses the KDF; test vectors use it).
    pub fn with_session_keys(
        profile: ProtectionProfile,
        local: &DirectionKeys,
        remote: &DirectionKeys,
        config: Config,
    ) -> Result<Self, Error> {
        config.validate()?;
        let (rtp_tag, rtcp_tag) = (profile.rtp_tag_len(), profile.rtcp_tag_len());
        let limit = config.max_streams;
        Ok(Self {
            profile,
            outbound: Outbound {
                rtp: Transform::new(profile, &local.srtp, rtp_tag)?,
                rtcp: Transform::new(profile, &local.srtcp, rtcp_tag)?,
                rtp_streams: StreamTable::new(limit),
                rtcp_streams: StreamTable::new(limit),
            },
            inbound: Inbound {
                rtp: Transform::new(profile, &remote.srtp, rtp_tag)?,
                rtcp: Transform::new(profile, &remote.srtcp, rtcp_tag)?,
                rtp_streams: StreamTable::new(limit),
                rtcp_streams: StreamTable::new(limit),
            },
            config,
            stats: Stats::default(),
        })
    }

    /// The negotiated protection profile.
    pub fn profile(&self) -> ProtectionProfile {
        self.profile
    }

    /// The settings the session was built with.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Packet and error counters.
    pub fn stats(&self) -> &Stats {
        &self.stats
    }

    /// Protects the RTP packet in `buf[..len]` in place and returns the SRTP packet length.
    /// `buf` needs [`ProtectionProfile::rtp_overhead`] octets of tail room past `len`.
    #[inline]
    pub fn protect_rtp(&mut self, buf: &mut [u8], len: usize) -> Result<usize, Error> {
        let result = self.protect_rtp_inner(buf, len);
        self.tally(&result, |s| &mut s.rtp_protected);
        result
    }

    /// Verifies and decrypts the SRTP packet in `buf[..len]` in place and returns the RTP
    /// packet length. On error the contents of `buf[..len]` are unspecified.
    #[inline]
    pub fn unprotect_rtp(&mut self, buf: &mut [u8], len: usize) -> Result<usize, Error> {
        let result = self.unprotect_rtp_inner(buf, len);
        self.tally(&result, |s| &mut s.rtp_unprotected);
        result
    }

    /// Protects the (compound) RTCP packet in `buf[..len]` in place, encrypted (E flag set),
    /// and returns the SRTCP packet length. `buf` needs [`ProtectionProfile::rtcp_overhead`]
    /// octets of tail room. The SRTCP index of each SSRC starts at 0 (RFC 3711 section 3.4).
    pub fn protect_rtcp(&mut self, buf: &mut [u8], len: usize) -> Result<usize, Error> {
        let result = self.protect_rtcp_inner(buf, len);
        self.tally(&result, |s| &mut s.rtcp_protected);
        result
    }

    /// Verifies and, if its E flag is set, decrypts the SRTCP packet in `buf[..len]` in place,
    /// and returns the RTCP packet length. On error the contents of `buf[..len]` are
    /// unspecified.
    pub fn unprotect_rtcp(&mut self, buf: &mut [u8], len: usize) -> Result<usize, Error> {
        let result = self.unprotect_rtcp_inner(buf, len);
        self.tally(&result, |s| &mut s.rtcp_unprotected);
        result
    }

    /// [`protect_rtp`](Self::protect_rtp) on a `Vec`, growing it by the tag (allocates only
    /// when its capacity is short).
    pub fn protect_rtp_vec(&mut self, packet: &mut Vec<u8>) -> Result<(), Error> {
        let len = packet.len();
        packet.resize(len + self.profile.rtp_overhead(), 0);
        let result = self.protect_rtp(packet, len);
        packet.truncate(*result.as_ref().unwrap_or(&len));
        result.map(|_| ())
    }

    /// [`unprotect_rtp`](Self::unprotect_rtp) on a `Vec`, shortening it to the RTP packet.
    pub fn unprotect_rtp_vec(&mut self, packet: &mut Vec<u8>) -> Result<(), Error> {
        let len = packet.len();
        let n = self.unprotect_rtp(packet, len)?;
        packet.truncate(n);
        Ok(())
    }

    /// [`protect_rtcp`](Self::protect_rtcp) on a `Vec`, growing it by tag and index.
    pub fn protect_rtcp_vec(&mut self, packet: &mut Vec<u8>) -> Result<(), Error> {
        let len = packet.len();
        packet.resize(len + self.profile.rtcp_overhead(), 0);
        let result = self.protect_rtcp(packet, len);
        packet.truncate(*result.as_ref().unwrap_or(&len));
        result.map(|_| ())
    }

    /// [`unprotect_rtcp`](Self::unprotect_rtcp) on a `Vec`, shortening it to the RTCP packet.
    pub fn unprotect_rtcp_vec(&mut self, packet: &mut Vec<u8>) -> Result<(), Error> {
        let len = packet.len();
        let n = self.unprotect_rtcp(packet, len)?;
        packet.truncate(n);
        Ok(())
    }

    /// The rollover counter of an SSRC we send (`outbound`) or receive, if the stream exists.
    pub fn rtp_roc(&self, ssrc: u32, outbound: bool) -> Option<u32> {
        let table = if outbound {
            &self.outbound.rtp_streams
        } else {
            &self.inbound.rtp_streams
        };
        table
            .find(ssrc)
            .and_then(|slot| table.get(slot))
            .map(|w| (w.top() >> 16) as u32)
    }

    /// SSRCs with state in each table: (sent RTP, sent RTCP, received RTP, received RTCP).
    pub fn stream_counts(&self) -> (usize, usize, usize, usize) {
        (
            self.outbound.rtp_streams.len(),
            self.outbound.rtcp_streams.len(),
            self.inbound.rtp_streams.len(),
            self.inbound.rtcp_streams.len(),
        )
    }

    /// Every SSRC we received authenticated RTP from.
    pub fn inbound_rtp_ssrcs(&self) -> &[u32] {
        self.inbound.rtp_streams.ssrcs()
    }

    /// Forgets all state of `ssrc` in both directions (e.g. after an RTCP BYE), freeing its slot.
    /// Returns whether anything was removed.
    pub fn remove_ssrc(&mut self, ssrc: u32) -> bool {
        let a = self.outbound.rtp_streams.remove(ssrc);
        let b = self.outbound.rtcp_streams.remove(ssrc);
        let c = self.inbound.rtp_streams.remove(ssrc);
        let d = self.inbound.rtcp_streams.remove(ssrc);
        a | b | c | d
    }

    #[inline]
    fn tally(&mut self, result: &Result<usize, Error>, ok: impl FnOnce(&mut Stats) -> &mut u64) {
        match result {
            Ok(_) => *ok(&mut self.stats) += 1,
            Err(e) => {
                tracing::trace!(error = %e, "srtp packet refused");
                self.stats.count(e);
            }
        }
    }

    #[inline]
    fn protect_rtp_inner(&mut self, buf: &mut [u8], len: usize) -> Result<usize, Error> {
        let header = parse_rtp(buf.get(..len).ok_or(Error::Truncated)?)?;
        let needed = len + self.profile.rtp_overhead();
        if buf.len() < needed {
            return Err(Error::BufferTooSmall {
                needed,
                available: buf.len(),
            });
        }
        let out = &mut self.outbound;
        let slot = match out.rtp_streams.find(header.ssrc) {
            Some(slot) => slot,
            None if out.rtp_streams.has_room() => out
                .rtp_streams
                .insert(header.ssrc, ReplayWindow::new(self.config.replay_window)),
            None => {
                return Err(Error::StreamLimit {
                    limit: self.config.max_streams,
                });
            }
        };
        let window = out.rtp_streams.get_mut(slot).ok_or(Error::Crypto)?;
        let index = if window.started() {
            estimate_index(window.top(), header.seq)?
        } else {
            u64::from(header.seq)
        };
        if !self.config.allow_repeat_tx {
            window.check(index)?;
        }
        let n = out
            .rtp
            .protect_rtp(buf, len, header.len, header.ssrc, index)?;
        window.accept(index);
        Ok(n)
    }

    #[inline]
    fn unprotect_rtp_inner(&mut self, buf: &mut [u8], len: usize) -> Result<usize, Error> {
        let buf = buf.get_mut(..len).ok_or(Error::Truncated)?;
        let header = parse_rtp(buf)?;
        let inb = &mut self.inbound;
        let slot = inb.rtp_streams.find(header.ssrc);
        let index = match slot.and_then(|s| inb.rtp_streams.get(s)) {
            Some(window) => {
                let index = estimate_index(window.top(), header.seq)?;
                window.check(index)?;
                index
            }
            None if inb.rtp_streams.has_room() => u64::from(header.seq),
            None => {
                return Err(Error::StreamLimit {
                    limit: self.config.max_streams,
                });
            }
        };
        let n = inb.rtp.unprotect_rtp(buf, header.len, header.ssrc, index)?;
        match slot.and_then(|s| inb.rtp_streams.get_mut(s)) {
            Some(window) => window.accept(index),
            None => {
                let mut window = ReplayWindow::new(self.config.replay_window);
                window.accept(index);
                inb.rtp_streams.insert(header.ssrc, window);
            }
        }
        Ok(n)
    }

    fn protect_rtcp_inner(&mut self, buf: &mut [u8], len: usize) -> Result<usize, Error> {
        let ssrc = parse_rtcp_ssrc(buf.get(..len).ok_or(Error::Truncated)?)?;
        let needed = len + self.profile.rtcp_overhead();
        if buf.len() < needed {
            return Err(Error::BufferTooSmall {
                needed,
                available: buf.len(),
            });
        }
        let out = &mut self.outbound;
        let slot = match out.rtcp_streams.find(ssrc) {
            Some(slot) => slot,
            None if out.rtcp_streams.has_room() => out.rtcp_streams.insert(ssrc, 0),
            None => {
                return Err(Error::StreamLimit {
                    limit: self.config.max_streams,
                });
            }
        };
        let next = out.rtcp_streams.get_mut(slot).ok_or(Error::Crypto)?;
        if *next & SRTCP_E_FLAG != 0 {
            return Err(Error::IndexExhausted);
        }
        let n = out.rtcp.protect_rtcp(buf, len, ssrc, *next, true)?;
        *next += 1;
        Ok(n)
    }

    fn unprotect_rtcp_inner(&mut self, buf: &mut [u8], len: usize) -> Result<usize, Error> {
        let buf = buf.get_mut(..len).ok_or(Error::Truncated)?;
        let ssrc = parse_rtcp_ssrc(buf)?;
        let inb = &mut self.inbound;
        let (encrypted, index) = inb.rtcp.rtcp_index(buf)?;
        let slot = inb.rtcp_streams.find(ssrc);
        match slot.and_then(|s| inb.rtcp_streams.get(s)) {
            Some(window) => window.check(u64::from(index))?,
            None if inb.rtcp_streams.has_room() => {}
            None => {
                return Err(Error::StreamLimit {
                    limit: self.config.max_streams,
                });
            }
        }
        let n = inb.rtcp.unprotect_rtcp(buf, ssrc, index, encrypted)?;
        match slot.and_then(|s| inb.rtcp_streams.get_mut(s)) {
            Some(window) => window.accept(u64::from(index)),
            None => {
                let mut window = ReplayWindow::new(self.config.replay_window);
                window.accept(u64::from(index));
                inb.rtcp_streams.insert(ssrc, window);
            }
        }
        Ok(n)
    }
}
