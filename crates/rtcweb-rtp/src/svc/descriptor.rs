//! The dependency descriptor RTP header extension (AV1 RTP payload format, Appendix A.8):
//! what one packet says about its frame, parsed and written against a template structure.

use crate::codec::bits::{BitReader, BitWriter};
use crate::error::{Error, Result};
use crate::svc::structure::{DependencyStructure, Dti};

/// Most frame diffs a descriptor's custom `frame_fdiffs()` may list. The wire form has no
/// bound; AV1 frames refer to at most seven reference frames, so more is refused.
pub const MAX_CUSTOM_FDIFFS: usize = 16;

/// One dependency descriptor, as it is on the wire: the mandatory fields, the structure or
/// active decode targets it may carry, and the custom values that override its template.
///
/// What the frame depends on is the template's values unless a custom field is present;
/// [`DependencyTracker`](super::DependencyTracker) resolves that against the structure in force.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct DependencyDescriptor {
    /// `start_of_frame`: the payload begins a frame.
    pub start_of_frame: bool,
    /// `end_of_frame`: the packet is the last of its frame.
    pub end_of_frame: bool,
    /// `frame_dependency_template_id` (0..=63).
    pub template_id: u8,
    /// `frame_number`: one more per frame in decode order, wrapping.
    pub frame_number: u16,
    /// The template dependency structure this packet carries (the first packet of a coded
    /// video sequence carries it).
    pub structure: Option<DependencyStructure>,
    /// `active_decode_targets_bitmask` when the packet carries it (bit i: decode target i).
    pub active_decode_targets: Option<u32>,
    /// `frame_dtis()`: indications that replace the template's.
    pub custom_dtis: Option<Vec<Dti>>,
    /// `frame_fdiffs()`: frame diffs (1..=4096) that replace the template's.
    pub custom_fdiffs: Option<Vec<u16>>,
    /// `frame_chains()`: chain diffs (0..=255) that replace the template's.
    pub custom_chain_fdiffs: Option<Vec<u8>>,
}

fn malformed(what: &'static str) -> Error {
    Error::Malformed(what)
}

fn truncated() -> Error {
    malformed("dependency descriptor truncated")
}

impl DependencyDescriptor {
    /// A descriptor that uses template `template_id` as it is.
    pub fn new(
        template_id: u8,
        frame_number: u16,
        start_of_frame: bool,
        end_of_frame: bool,
    ) -> Self {
        Self {
            start_of_frame,
            end_of_frame,
            template_id,
            frame_number,
            structure: None,
            active_decode_targets: None,
            custom_dtis: None,
            custom_fdiffs: None,
            custom_chain_fdiffs: None,
        }
    }

    /// Parses the extension element `data`. `active` is the structure in force on the
    /// stream; a structure the packet carries replaces it for this packet.
    ///
    /// Fails with a malformed error when the data is truncated or inconsistent, when no
    /// structure is known (the packet that carried it was lost: wait for a key frame), or
    /// when the template id is not one of the structure's.
    pub fn parse(data: &[u8], active: Option<&DependencyStructure>) -> Result<Self> {
        if data.len() < 3 {
            return Err(truncated());
        }
        let mut r = BitReader::new(data);
        let mut d = Self::new(0, 0, false, false);
        d.start_of_frame = r.bit().ok_or_else(truncated)? == 1;
        d.end_of_frame = r.bit().ok_or_else(truncated)? == 1;
        d.template_id = r.bits(6).ok_or_else(truncated)? as u8;
        d.frame_number = r.bits(16).ok_or_else(truncated)? as u16;
        let (mut custom_dtis, mut custom_fdiffs, mut custom_chains) = (false, false, false);
        let mut active_present = false;
        if data.len() > 3 {
            let structure_present = r.bit().ok_or_else(truncated)? == 1;
            active_present = r.bit().ok_or_else(truncated)? == 1;
            custom_dtis = r.bit().ok_or_else(truncated)? == 1;
            custom_fdiffs = r.bit().ok_or_else(truncated)? == 1;
            custom_chains = r.bit().ok_or_else(truncated)? == 1;
            if structure_present {
                d.structure = Some(DependencyStructure::read(&mut r)?);
            }
        }
        let s = d
            .structure
            .as_ref()
            .or(active)
            .ok_or(malformed("dependency descriptor without a known structure"))?;
        let dts = u32::from(s.decode_target_count);
        let active_mask = if active_present {
            Some(r.bits(dts).ok_or_else(truncated)?)
        } else {
            None
        };
        if s.template(d.template_id).is_none() {
            return Err(malformed(
                "dependency descriptor template id outside the structure",
            ));
        }
        let dtis = if custom_dtis {
            Some(
                (0..dts)
                    .map(|_| r.bits(2).map(Dti::from_bits))
                    .collect::<Option<Vec<_>>>()
                    .ok_or_else(truncated)?,
            )
        } else {
            None
        };
        let fdiffs = if custom_fdiffs {
            let mut v = Vec::new();
            loop {
                let size = r.bits(2).ok_or_else(truncated)?;
                if size == 0 {
                    break;
                }
                if v.len() == MAX_CUSTOM_FDIFFS {
                    return Err(malformed("dependency descriptor: too many frame diffs"));
                }
                v.push(r.bits(4 * size).ok_or_else(truncated)? as u16 + 1);
            }
            Some(v)
        } else {
            None
        };
        let chains = if custom_chains {
            Some(
                (0..s.chain_count)
                    .map(|_| r.bits(8).map(|v| v as u8))
                    .collect::<Option<Vec<_>>>()
                    .ok_or_else(truncated)?,
            )
        } else {
            None
        };
        d.active_decode_targets = active_mask;
        d.custom_dtis = dtis;
        d.custom_fdiffs = fdiffs;
        d.custom_chain_fdiffs = chains;
        // What remains is zero_padding, which receivers ignore.
        Ok(d)
    }

    /// Appends the extension element to `out`. `active` is the structure in force on the
    /// stream, used unless the descriptor carries its own.
    ///
    /// Fails (out of range) when a value does not fit its field or disagrees with the
    /// structure; nothing is appended then.
    pub fn write(&self, active: Option<&DependencyStructure>, out: &mut Vec<u8>) -> Result<()> {
        let s = self.structure.as_ref().or(active).ok_or(Error::OutOfRange(
            "dependency descriptor without a structure",
        ))?;
        if let Some(attached) = &self.structure {
            attached.validate()?;
        }
        if self.template_id >= 64 || s.template(self.template_id).is_none() {
            return Err(Error::OutOfRange("dependency descriptor template id"));
        }
        let dts = u32::from(s.decode_target_count);
        if self
            .active_decode_targets
            .is_some_and(|m| dts < 32 && m >> dts != 0)
        {
            return Err(Error::OutOfRange("active decode targets"));
        }
        if self
            .custom_dtis
            .as_ref()
            .is_some_and(|v| v.len() != dts as usize)
        {
            return Err(Error::OutOfRange("custom decode target indications"));
        }
        if self.custom_fdiffs.as_ref().is_some_and(|v| {
            v.len() > MAX_CUSTOM_FDIFFS || v.iter().any(|&d| !(1..=4096).contains(&d))
        }) {
            return Err(Error::OutOfRange("custom frame diffs"));
        }
        if self
            .custom_chain_fdiffs
            .as_ref()
            .is_some_and(|v| v.len() != usize::from(s.chain_count))
        {
            return Err(Error::OutOfRange("custom chain diffs"));
        }
        let start = out.len();
        let mut w = BitWriter::new(out);
        w.bit(self.start_of_frame);
        w.bit(self.end_of_frame);
        w.bits(6, u32::from(self.template_id));
        w.bits(16, u32::from(self.frame_number));
        let extended = self.structure.is_some()
            || self.active_decode_targets.is_some()
            || self.custom_dtis.is_some()
            || self.custom_fdiffs.is_some()
            || self.custom_chain_fdiffs.is_some();
        if extended {
            w.bit(self.structure.is_some());
            w.bit(self.active_decode_targets.is_some());
            w.bit(self.custom_dtis.is_some());
            w.bit(self.custom_fdiffs.is_some());
            w.bit(self.custom_chain_fdiffs.is_some());
            if let Some(attached) = &self.structure {
                attached.write(&mut w)?;
            }
            if let Some(mask) = self.active_decode_targets {
                w.bits(dts, mask);
            }
            for d in self.custom_dtis.iter().flatten() {
                w.bits(2, d.bits());
            }
            if let Some(fdiffs) = &self.custom_fdiffs {
                for &d in fdiffs {
                    let v = u32::from(d) - 1;
                    let size = if v < 16 {
                        1
                    } else if v < 256 {
                        2
                    } else {
                        3
                    };
                    w.bits(2, size);
                    w.bits(4 * size, v);
                }
                w.bits(2, 0);
            }
            for &c in self.custom_chain_fdiffs.iter().flatten() {
                w.bits(8, u32::from(c));
            }
        }
        debug_assert!(out.len() - start >= 3);
        Ok(())
    }

    /// The element as a new vector (see [`write`](Self::write)).
    pub fn to_vec(&self, active: Option<&DependencyStructure>) -> Result<Vec<u8>> {
        let mut out = Vec::new();
        self.write(active, &mut out)?;
        Ok(out)
    }
}
