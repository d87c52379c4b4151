//! The receiver's FEC: received media packets are kept for a while, FEC packets wait until
//! all but one of the packets they protect are here, then rebuild the missing one (RFC 5109
//! section 6.3.2; FlexFEC-03 section 6.3.2).

use std::collections::VecDeque;

use super::xor::xor_into;
use super::{FecHeader, FecScheme};
use crate::error::{Error, Result};
use crate::rtp::{HEADER_LEN, RtpPacket};

/// Media packets remembered (a power of two: the slot of a sequence number is its low bits).
const MEDIA_SLOTS: usize = 256;
/// FEC packets waiting for the packets they protect, at most (oldest dropped beyond it).
const MAX_PENDING: usize = 64;
/// Recovered packets not yet taken, at most (oldest dropped beyond it).
const MAX_RECOVERED: usize = 64;

/// Counters of a [`FecDecoder`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FecDecoderStats {
    /// FEC packets received (W3C `fecPacketsReceived`).
    pub fec_packets: u64,
    /// Their octets (W3C `fecBytesReceived`: the FEC payloads).
    pub fec_bytes: u64,
    /// FEC packets that repaired nothing: everything they protect arrived or was repaired
    /// otherwise, they came too late, or they were malformed (W3C `fecPacketsDiscarded`).
    pub fec_discarded: u64,
    /// Media packets rebuilt.
    pub recovered: u64,
    /// FEC packets that failed to parse, or rebuilt something that is not an RTP packet.
    pub malformed: u64,
}

#[derive(Debug)]
struct Stored {
    seq: u64,
    data: Vec<u8>,
}

#[derive(Debug)]
struct Pending {
    base: u64,
    /// Bit `i`: protects `base + i`.
    mask: u128,
    /// Protected packets not here yet.
    missing: u128,
    header: FecHeader,
    payload: Vec<u8>,
    /// Whether it rebuilt a packet.
    used: bool,
}

impl Pending {
    fn covers(&self, seq: u64) -> Option<u32> {
        let d = seq.checked_sub(self.base)?;
        (d < 128 && self.mask >> d & 1 == 1).then_some(d as u32)
    }
}

/// Rebuilds lost media packets of one stream from ULPFEC or FlexFEC-03 packets.
///
/// Sequence numbers are extended ones (the session's); FEC headers carry 16-bit ones, which
/// the caller extends with the closure it passes to [`FecDecoder::on_fec`]. Memory is
/// bounded: the last 256 media packets, 64 waiting FEC packets and 64 rebuilt packets.
///
/// ```
/// use rtcweb_rtp::codec::Payloads;
/// use rtcweb_rtp::fec::{FecDecoder, FecEncoder, FecScheme};
/// use rtcweb_rtp::rtp::RtpRepr;
///
/// let packets: Vec<Vec<u8>> = (0..4u16)
///     .map(|s| {
///         let repr = RtpRepr { payload_type: 96, sequence_number: s, ssrc: 7, ..RtpRepr::default() };
///         repr.to_vec(&vec![s as u8; 50 + s as usize]).unwrap()
///     })
///     .collect();
/// let mut enc = FecEncoder::new(FecScheme::Ulpfec, 7);
/// for p in &packets {
///     enc.add(p).unwrap();
/// }
/// let mut fec = Payloads::new();
/// enc.finish(0.25, &mut fec);
/// let mut dec = FecDecoder::new(FecScheme::Ulpfec, 7);
/// for (s, p) in packets.iter().enumerate().filter(|(s, _)| *s != 2) {
///     dec.on_media(s as u64, p);
/// }
/// dec.on_fec(fec.iter().next().unwrap(), |s| u64::from(s)).unwrap();
/// assert_eq!(dec.poll_recovered().unwrap(), packets[2]);
/// ```
#[derive(Debug)]
pub struct FecDecoder {
    scheme: FecScheme,
    ssrc: u32,
    media: Vec<Option<Stored>>,
    newest: Option<u64>,
    pending: VecDeque<Pending>,
    recovered: VecDeque<Vec<u8>>,
    spare: Vec<Vec<u8>>,
    work: Vec<u64>,
    stats: FecDecoderStats,
}

impl FecDecoder {
    /// A decoder for media stream `ssrc`.
    pub fn new(scheme: FecScheme, ssrc: u32) -> Self {
        let mut media = Vec::new();
        media.resize_with(MEDIA_SLOTS, || None);
        Self {
            scheme,
            ssrc,
            media,
            newest: None,
            pending: VecDeque::new(),
            recovered: VecDeque::new(),
            spare: Vec::new(),
            work: Vec::new(),
            stats: FecDecoderStats::default(),
        }
    }

    /// The scheme.
    pub fn scheme(&self) -> FecScheme {
        self.scheme
    }

    /// Counters.
    pub fn stats(&self) -> FecDecoderStats {
        self.stats
    }

    /// The newest media sequence number seen.
    pub fn newest(&self) -> Option<u64> {
        self.newest
    }

    fn has(&self, seq: u64) -> bool {
        self.media[seq as usize % MEDIA_SLOTS]
            .as_ref()
            .is_some_and(|s| s.seq == seq)
    }

    fn get(&self, seq: u64) -> Option<&[u8]> {
        self.media[seq as usize % MEDIA_SLOTS]
            .as_ref()
            .filter(|s| s.seq == seq)
            .map(|s| s.data.as_slice())
    }

    fn store(&mut self, seq: u64, header: &[u8], payload_type: Option<u8>, payload: &[u8]) {
        if self.newest.is_some_and(|n| seq + MEDIA_SLOTS as u64 <= n) {
            return;
        }
        let mut data = self.spare.pop().unwrap_or_default();
        data.clear();
        data.extend_from_slice(header);
        if let Some(pt) = payload_type
            && let Some(b) = data.get_mut(1)
        {
            *b = (*b & 0x80) | (pt & 0x7f);
        }
        data.extend_from_slice(payload);
        let slot = &mut self.media[seq as usize % MEDIA_SLOTS];
        if let Some(old) = slot.replace(Stored { seq, data }) {
            self.spare.push(old.data);
        }
        if self.newest.is_none_or(|n| seq > n) {
            self.newest = Some(seq);
            self.prune();
        }
    }

    /// Drops FEC packets whose protected packets have left the media window.
    fn prune(&mut self) {
        let Some(newest) = self.newest else { return };
        let floor = newest.saturating_sub(MEDIA_SLOTS as u64 - 1);
        while let Some(p) = self.pending.front() {
            if p.base >= floor {
                break;
            }
            if let Some(p) = self.pending.pop_front() {
                self.retire(p);
            }
        }
    }

    fn retire(&mut self, p: Pending) {
        if !p.used {
            self.stats.fec_discarded += 1;
        }
        self.spare.push(p.payload);
    }

    /// A received media packet (a whole RTP packet, in media form).
    pub fn on_media(&mut self, seq: u64, packet: &[u8]) {
        self.on_media_parts(seq, packet, None, &[]);
    }

    /// A received media packet given as its header (fixed header, CSRCs, extension) and
    /// payload, with the payload type replaced by `payload_type` when given (a media packet
    /// taken out of its RED envelope).
    pub fn on_media_parts(
        &mut self,
        seq: u64,
        header: &[u8],
        payload_type: Option<u8>,
        payload: &[u8],
    ) {
        if header.len() < HEADER_LEN || self.has(seq) {
            return;
        }
        self.store(seq, header, payload_type, payload);
        self.work.push(seq);
        self.run();
    }

    /// A received FEC payload (for ULPFEC the data of the RED block, for FlexFEC the RTP
    /// payload). `extend` turns the header's 16-bit sequence base into an extended sequence
    /// number of the media stream.
    pub fn on_fec(&mut self, data: &[u8], extend: impl FnOnce(u16) -> u64) -> Result<()> {
        self.stats.fec_packets += 1;
        self.stats.fec_bytes += data.len() as u64;
        let parsed = match self.scheme {
            FecScheme::Ulpfec => super::ulpfec::parse(data),
            FecScheme::Flexfec03 => super::flexfec::parse(data),
        };
        let (header, payload) = match parsed {
            Ok(x) => x,
            Err(e) => {
                self.stats.malformed += 1;
                self.stats.fec_discarded += 1;
                return Err(e);
            }
        };
        if header.mask == 0 || header.protected_ssrc.is_some_and(|s| s != self.ssrc) {
            self.stats.fec_discarded += 1;
            return Err(Error::Malformed(
                "FEC packet protecting nothing of this stream",
            ));
        }
        let base = extend(header.sequence_base);
        if self
            .newest
            .is_some_and(|n| base + (MEDIA_SLOTS as u64) <= n)
        {
            // Too old: what it protects has left the window.
            self.stats.fec_discarded += 1;
            return Ok(());
        }
        let mut missing = 0u128;
        for i in 0..128u32 {
            if header.mask >> i & 1 == 1 && !self.has(base + u64::from(i)) {
                missing |= 1 << i;
            }
        }
        if missing == 0 {
            self.stats.fec_discarded += 1;
            return Ok(());
        }
        if self.pending.len() >= MAX_PENDING
            && let Some(p) = self.pending.pop_front()
        {
            self.retire(p);
        }
        let mut buf = self.spare.pop().unwrap_or_default();
        buf.clear();
        buf.extend_from_slice(payload);
        self.pending.push_back(Pending {
            base,
            mask: header.mask,
            missing,
            header,
            payload: buf,
            used: false,
        });
        let i = self.pending.len() - 1;
        if self.pending[i].missing.count_ones() == 1 {
            self.recover(i);
        }
        self.run();
        Ok(())
    }

    /// Marks the arrival of the packets on the work list in every waiting FEC packet, and
    /// rebuilds what becomes rebuildable (which may go on the work list in turn).
    fn run(&mut self) {
        while let Some(seq) = self.work.pop() {
            let mut i = 0;
            while i < self.pending.len() {
                let p = &mut self.pending[i];
                if let Some(bit) = p.covers(seq) {
                    p.missing &= !(1 << bit);
                    match p.missing.count_ones() {
                        0 => {
                            if let Some(p) = self.pending.remove(i) {
                                self.retire(p);
                            }
                            continue;
                        }
                        1 => {
                            self.recover(i);
                            continue;
                        }
                        _ => {}
                    }
                }
                i += 1;
            }
        }
    }

    /// Rebuilds the one packet waiting FEC packet `i` misses, and retires it.
    fn recover(&mut self, i: usize) {
        let Some(mut p) = self.pending.remove(i) else {
            return;
        };
        let bit = p.missing.trailing_zeros();
        let seq = p.base + u64::from(bit);
        let mut h = p.header;
        let mut ok = true;
        for j in 0..128u32 {
            if j == bit || p.mask >> j & 1 == 0 {
                continue;
            }
            let Some(m) = self.get(p.base + u64::from(j)) else {
                ok = false;
                break;
            };
            h.bits0 ^= m[0] & 0x3f;
            h.bits1 ^= m[1];
            h.length_recovery ^= (m.len() - HEADER_LEN) as u16;
            h.timestamp_recovery ^= u32::from_be_bytes([m[4], m[5], m[6], m[7]]);
            let rest = &m[HEADER_LEN..];
            if p.payload.len() < rest.len() {
                // A protected packet longer than the FEC payload: not what a sender makes.
                ok = false;
                break;
            }
            xor_into(&mut p.payload, rest);
        }
        let len = usize::from(h.length_recovery);
        if !ok || len > p.payload.len() {
            self.stats.malformed += 1;
            p.used = true;
            self.stats.fec_discarded += 1;
            self.spare.push(p.payload);
            return;
        }
        let mut out = self.spare.pop().unwrap_or_default();
        out.clear();
        out.push(0x80 | (h.bits0 & 0x3f));
        out.push(h.bits1);
        out.extend_from_slice(&(seq as u16).to_be_bytes());
        out.extend_from_slice(&h.timestamp_recovery.to_be_bytes());
        out.extend_from_slice(&self.ssrc.to_be_bytes());
        out.extend_from_slice(&p.payload[..len]);
        p.used = true;
        self.retire(p);
        if RtpPacket::new_checked(&out[..]).is_err() {
            self.stats.malformed += 1;
            self.spare.push(out);
            return;
        }
        self.stats.recovered += 1;
        self.store(seq, &out, None, &[]);
        if self.recovered.len() >= MAX_RECOVERED
            && let Some(old) = self.recovered.pop_front()
        {
            self.spare.push(old);
        }
        self.recovered.push_back(out);
        self.work.push(seq);
    }

    /// A rebuilt media packet (a whole RTP packet), oldest first.
    pub fn poll_recovered(&mut self) -> Option<Vec<u8>> {
        self.recovered.pop_front()
    }

    /// Takes back the buffer of a packet [`FecDecoder::poll_recovered`] gave.
    pub fn recycle(&mut self, buf: Vec<u8>) {
        if self.spare.len() < MEDIA_SLOTS {
            self.spare.push(buf);
        }
    }
}
