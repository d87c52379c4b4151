//! Typed header extensions, mapped by the ids negotiated with `a=extmap` (RFC 8285).

use crate::error::{Error, Result};
use crate::rtp::extension::{ExtensionBlock, ExtensionWriter, ONE_BYTE_PROFILE};
use crate::rtp::packet::RtpPacket;

/// The header extensions this crate understands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ExtensionKind {
    /// `urn:ietf:params:rtp-hdrext:sdes:mid` (RFC 9143): the media id of BUNDLE.
    Mid,
    /// `urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id` (RFC 8852): the simulcast rid.
    Rid,
    /// `urn:ietf:params:rtp-hdrext:sdes:repaired-rtp-stream-id` (RFC 8852): the rid an RTX
    /// stream repairs.
    RepairedRid,
    /// `http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time`: 24-bit 6.18 fixed-point
    /// seconds of the send time.
    AbsSendTime,
    /// `http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01`: the
    /// transport-wide sequence number.
    TransportWideCc,
    /// `urn:ietf:params:rtp-hdrext:ssrc-audio-level` (RFC 6464).
    AudioLevel,
    /// `urn:3gpp:video-orientation` (3GPP TS 26.114 section 7.4.5).
    VideoOrientation,
    /// `http://www.webrtc.org/experiments/rtp-hdrext/playout-delay`.
    PlayoutDelay,
}

impl ExtensionKind {
    /// Every kind, in declaration order.
    pub const ALL: [ExtensionKind; 8] = [
        Self::Mid,
        Self::Rid,
        Self::RepairedRid,
        Self::AbsSendTime,
        Self::TransportWideCc,
        Self::AudioLevel,
        Self::VideoOrientation,
        Self::PlayoutDelay,
    ];

    /// The URI that names this extension in `a=extmap`.
    pub fn uri(self) -> &'static str {
        match self {
            Self::Mid => "urn:ietf:params:rtp-hdrext:sdes:mid",
            Self::Rid => "urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id",
            Self::RepairedRid => "urn:ietf:params:rtp-hdrext:sdes:repaired-rtp-stream-id",
            Self::AbsSendTime => "http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time",
            Self::TransportWideCc => {
                "http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01"
            }
            Self::AudioLevel => "urn:ietf:params:rtp-hdrext:ssrc-audio-level",
            Self::VideoOrientation => "urn:3gpp:video-orientation",
            Self::PlayoutDelay => "http://www.webrtc.org/experiments/rtp-hdrext/playout-delay",
        }
    }

    /// The kind named by `uri`, if this crate knows it.
    pub fn from_uri(uri: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.uri() == uri)
    }

    fn index(self) -> usize {
        self as usize
    }
}

/// RFC 6464 audio level.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AudioLevel {
    /// The V bit: the encoder believes the packet holds voice.
    pub voice: bool,
    /// Level in -dBov, 0 (loudest) to 127 (silence).
    pub level: u8,
}

/// Coordination of video orientation (3GPP TS 26.114): `0 0 0 0 C F R1 R0`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VideoOrientation {
    /// C: the back-facing camera.
    pub back_camera: bool,
    /// F: horizontally flipped.
    pub flip: bool,
    /// Clockwise rotation in units of 90 degrees (0..=3).
    pub rotation: u8,
}

/// Playout delay limits, in units of 10 ms (12 bits each).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PlayoutDelay {
    /// Minimum delay.
    pub min: u16,
    /// Maximum delay.
    pub max: u16,
}

/// The typed values of a packet's known header extensions. Absent or malformed elements
/// are `None`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct HeaderExtensions<'a> {
    /// BUNDLE media id.
    pub mid: Option<&'a str>,
    /// RTP stream id.
    pub rid: Option<&'a str>,
    /// Repaired RTP stream id (on RTX packets).
    pub repaired_rid: Option<&'a str>,
    /// abs-send-time, 24-bit 6.18 fixed-point seconds.
    pub abs_send_time: Option<u32>,
    /// Transport-wide sequence number.
    pub transport_cc: Option<u16>,
    /// Audio level.
    pub audio_level: Option<AudioLevel>,
    /// Video orientation.
    pub video_orientation: Option<VideoOrientation>,
    /// Playout delay.
    pub playout_delay: Option<PlayoutDelay>,
}

/// Which id carries which extension, as negotiated in SDP.
///
/// ```
/// use rtcweb_rtp::rtp::{ExtensionKind, ExtensionMap, HeaderExtensions, RtpPacket, RtpRepr};
///
/// let mut map = ExtensionMap::new();
/// map.insert(4, ExtensionKind::Mid).unwrap();
/// map.insert(3, ExtensionKind::TransportWideCc).unwrap();
/// let values = HeaderExtensions { mid: Some("0"), transport_cc: Some(513), ..Default::default() };
/// let mut scratch = [0u8; 64];
/// let block = map.write(&values, &mut scratch).unwrap();
/// let bytes = RtpRepr { payload_type: 96, extension: block, ..Default::default() }
///     .to_vec(&[]).unwrap();
/// let packet = RtpPacket::new_checked(&bytes[..]).unwrap();
/// let got = map.read(&packet);
/// assert_eq!(got.mid, Some("0"));
/// assert_eq!(got.transport_cc, Some(513));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExtensionMap {
    by_id: [Option<ExtensionKind>; 256],
    by_kind: [u8; ExtensionKind::ALL.len()],
}

impl Default for ExtensionMap {
    fn default() -> Self {
        Self::new()
    }
}

impl ExtensionMap {
    /// An empty map.
    pub fn new() -> Self {
        Self {
            by_id: [None; 256],
            by_kind: [0; ExtensionKind::ALL.len()],
        }
    }

    /// The ids Chromium offers by default for its audio and video sections.
    pub fn chromium_defaults() -> Self {
        let mut m = Self::new();
        for (id, kind) in [
            (1, ExtensionKind::AudioLevel),
            (2, ExtensionKind::AbsSendTime),
            (3, ExtensionKind::TransportWideCc),
            (4, ExtensionKind::Mid),
            (10, ExtensionKind::Rid),
            (11, ExtensionKind::RepairedRid),
            (12, ExtensionKind::PlayoutDelay),
            (13, ExtensionKind::VideoOrientation),
        ] {
            // Ids are distinct and non-zero by construction.
            let _ = m.insert(id, kind);
        }
        m
    }

    /// Maps `id` (1..=255) to `kind`, replacing what either was mapped to before.
    pub fn insert(&mut self, id: u8, kind: ExtensionKind) -> Result<()> {
        if id == 0 {
            return Err(Error::OutOfRange("extension id 0"));
        }
        self.remove(kind);
        if let Some(old) = self.by_id[usize::from(id)] {
            self.by_kind[old.index()] = 0;
        }
        self.by_id[usize::from(id)] = Some(kind);
        self.by_kind[kind.index()] = id;
        Ok(())
    }

    /// Maps `id` to the extension named by `uri`; unknown URIs are ignored (returns `false`).
    pub fn insert_uri(&mut self, id: u8, uri: &str) -> Result<bool> {
        match ExtensionKind::from_uri(uri) {
            Some(kind) => self.insert(id, kind).map(|()| true),
            None => Ok(false),
        }
    }

    /// Unmaps `kind`.
    pub fn remove(&mut self, kind: ExtensionKind) {
        let id = self.by_kind[kind.index()];
        if id != 0 {
            self.by_id[usize::from(id)] = None;
            self.by_kind[kind.index()] = 0;
        }
    }

    /// The id of `kind`, if mapped.
    #[inline]
    pub fn id(&self, kind: ExtensionKind) -> Option<u8> {
        let id = self.by_kind[kind.index()];
        (id != 0).then_some(id)
    }

    /// The kind mapped to `id`.
    pub fn kind(&self, id: u8) -> Option<ExtensionKind> {
        self.by_id[usize::from(id)]
    }

    /// The typed extension values of `packet`.
    #[inline]
    pub fn read<'a, T: AsRef<[u8]>>(&self, packet: &'a RtpPacket<T>) -> HeaderExtensions<'a> {
        let mut out = HeaderExtensions::default();
        let Some(block) = packet.extension() else {
            return out;
        };
        if block.profile == ONE_BYTE_PROFILE {
            // The common case (every browser), walked without the generic iterator.
            let d = block.data;
            let mut i = 0;
            while let Some(&b) = d.get(i) {
                if b == 0 {
                    i += 1;
                    continue;
                }
                let id = b >> 4;
                if id == 15 {
                    break;
                }
                let len = usize::from(b & 0x0f) + 1;
                let Some(v) = d.get(i + 1..i + 1 + len) else {
                    break;
                };
                self.apply(id, v, &mut out);
                i += 1 + len;
            }
        } else {
            for (id, v) in block.iter() {
                self.apply(id, v, &mut out);
            }
        }
        out
    }

    #[inline]
    fn apply<'a>(&self, id: u8, d: &'a [u8], out: &mut HeaderExtensions<'a>) {
        let Some(kind) = self.by_id[usize::from(id)] else {
            return;
        };
        match kind {
            ExtensionKind::Mid => out.mid = ascii(d),
            ExtensionKind::Rid => out.rid = ascii(d),
            ExtensionKind::RepairedRid => out.repaired_rid = ascii(d),
            ExtensionKind::AbsSendTime => {
                if let [a, b, c] = *d {
                    out.abs_send_time = Some(u32::from_be_bytes([0, a, b, c]));
                }
            }
            ExtensionKind::TransportWideCc => {
                if let [a, b] = *d {
                    out.transport_cc = Some(u16::from_be_bytes([a, b]));
                }
            }
            ExtensionKind::AudioLevel => {
                if let Some(&b) = d.first() {
                    out.audio_level = Some(AudioLevel {
                        voice: b & 0x80 != 0,
                        level: b & 0x7f,
                    });
                }
            }
            ExtensionKind::VideoOrientation => {
                if let Some(&b) = d.first() {
                    out.video_orientation = Some(VideoOrientation {
                        back_camera: b & 0x08 != 0,
                        flip: b & 0x04 != 0,
                        rotation: b & 0x03,
                    });
                }
            }
            ExtensionKind::PlayoutDelay => {
                if let [a, b, c] = *d {
                    out.playout_delay = Some(PlayoutDelay {
                        min: (u16::from(a) << 4) | u16::from(b >> 4),
                        max: (u16::from(b & 0x0f) << 8) | u16::from(c),
                    });
                }
            }
        }
    }

    /// Writes the mapped values of `values` into `scratch` as one extension block (one-byte
    /// form when every element fits it, two-byte form otherwise). Values whose kind is not
    /// mapped are skipped. Returns `None` when nothing was written.
    pub fn write<'b>(
        &self,
        values: &HeaderExtensions<'_>,
        scratch: &'b mut [u8],
    ) -> Result<Option<ExtensionBlock<'b>>> {
        self.write_inner(values, scratch)
    }

    fn write_inner<'b>(
        &self,
        values: &HeaderExtensions<'_>,
        scratch: &'b mut [u8],
    ) -> Result<Option<ExtensionBlock<'b>>> {
        // Encoded elements: (id, bytes). Fixed-size values are encoded into `small`.
        let mut small = [[0u8; 3]; 5];
        let mut small_len = [0usize; 5];
        let mut k = 0;
        let mut fixed = |v: &[u8]| -> usize {
            small[k][..v.len()].copy_from_slice(v);
            small_len[k] = v.len();
            k += 1;
            k - 1
        };
        let ast = values.abs_send_time.map(|t| {
            let b = (t & 0x00ff_ffff).to_be_bytes();
            fixed(&b[1..])
        });
        let tcc = values.transport_cc.map(|s| fixed(&s.to_be_bytes()));
        let al = values
            .audio_level
            .map(|a| fixed(&[(u8::from(a.voice) << 7) | (a.level & 0x7f)]));
        let vo = values.video_orientation.map(|o| {
            fixed(&[(u8::from(o.back_camera) << 3) | (u8::from(o.flip) << 2) | (o.rotation & 3)])
        });
        let pd = values.playout_delay.map(|p| {
            let (min, max) = (p.min.min(0xfff), p.max.min(0xfff));
            fixed(&[
                (min >> 4) as u8,
                (((min & 0x0f) << 4) as u8) | ((max >> 8) as u8),
                (max & 0xff) as u8,
            ])
        });
        let slot = |i: Option<usize>| i.map(|i| &small[i][..small_len[i]]);
        let candidates: [(ExtensionKind, Option<&[u8]>); 8] = [
            (ExtensionKind::Mid, values.mid.map(str::as_bytes)),
            (ExtensionKind::Rid, values.rid.map(str::as_bytes)),
            (
                ExtensionKind::RepairedRid,
                values.repaired_rid.map(str::as_bytes),
            ),
            (ExtensionKind::AbsSendTime, slot(ast)),
            (ExtensionKind::TransportWideCc, slot(tcc)),
            (ExtensionKind::AudioLevel, slot(al)),
            (ExtensionKind::VideoOrientation, slot(vo)),
            (ExtensionKind::PlayoutDelay, slot(pd)),
        ];
        let mut elems: [(u8, &[u8]); 8] = [(0, &[]); 8];
        let mut n = 0;
        for (kind, data) in candidates {
            if let (Some(id), Some(d)) = (self.id(kind), data) {
                elems[n] = (id, d);
                n += 1;
            }
        }
        if n == 0 {
            return Ok(None);
        }
        let elems = &elems[..n];
        let two_byte = elems
            .iter()
            .any(|(id, d)| !ExtensionWriter::fits_one_byte(*id, d.len()));
        let mut w = ExtensionWriter::new(scratch, two_byte);
        for (id, d) in elems {
            w.push(*id, d)?;
        }
        Ok(Some(w.finish()))
    }
}

/// mid and rid are text; invalid UTF-8 reads as absent.
#[inline]
fn ascii(d: &[u8]) -> Option<&str> {
    std::str::from_utf8(d).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rtp::RtpRepr;

    fn round_trip(map: &ExtensionMap, values: &HeaderExtensions<'_>) -> (u16, Vec<u8>) {
        let mut scratch = [0u8; 600];
        let block = map.write(values, &mut scratch).unwrap();
        let profile = block.map(|b| b.profile).unwrap_or(0);
        let bytes = RtpRepr {
            extension: block,
            ..Default::default()
        }
        .to_vec(&[1])
        .unwrap();
        (profile, bytes)
    }

    #[test]
    fn every_kind_round_trips() {
        let map = ExtensionMap::chromium_defaults();
        let values = HeaderExtensions {
            mid: Some("audio0"),
            rid: Some("hi"),
            repaired_rid: Some("lo"),
            abs_send_time: Some(0x123456),
            transport_cc: Some(0xfffe),
            audio_level: Some(AudioLevel {
                voice: true,
                level: 42,
            }),
            video_orientation: Some(VideoOrientation {
                back_camera: true,
                flip: false,
                rotation: 3,
            }),
            playout_delay: Some(PlayoutDelay { min: 10, max: 4095 }),
        };
        let (profile, bytes) = round_trip(&map, &values);
        assert_eq!(profile, 0xbede);
        let p = RtpPacket::new_checked(&bytes[..]).unwrap();
        assert_eq!(map.read(&p), values);
        assert_eq!(p.payload(), &[1]);
    }

    #[test]
    fn long_values_or_high_ids_switch_to_two_byte_form() {
        let mut map = ExtensionMap::new();
        map.insert(1, ExtensionKind::Mid).unwrap();
        map.insert(100, ExtensionKind::TransportWideCc).unwrap();
        let values = HeaderExtensions {
            mid: Some("a-mid-longer-than-sixteen"),
            transport_cc: Some(7),
            ..Default::default()
        };
        let (profile, bytes) = round_trip(&map, &values);
        assert_eq!(profile, 0x1000);
        let p = RtpPacket::new_checked(&bytes[..]).unwrap();
        assert_eq!(map.read(&p), values);
    }

    #[test]
    fn remapping_and_unknown_ids() {
        let mut map = ExtensionMap::new();
        map.insert(5, ExtensionKind::Mid).unwrap();
        map.insert(6, ExtensionKind::Mid).unwrap();
        assert_eq!(map.kind(5), None);
        assert_eq!(map.id(ExtensionKind::Mid), Some(6));
        map.insert(6, ExtensionKind::Rid).unwrap();
        assert_eq!(map.id(ExtensionKind::Mid), None);
        assert!(map.insert(0, ExtensionKind::Mid).is_err());
        assert!(!map.insert_uri(7, "urn:example:unknown").unwrap());
        assert!(
            map.insert_uri(7, "urn:ietf:params:rtp-hdrext:sdes:mid")
                .unwrap()
        );
        // Values of unmapped kinds are skipped; wrong sizes read as None.
        let (_, bytes) = round_trip(
            &map,
            &HeaderExtensions {
                transport_cc: Some(1),
                ..Default::default()
            },
        );
        assert!(!RtpPacket::new_checked(&bytes[..]).unwrap().has_extension());
    }
}
