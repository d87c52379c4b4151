//! The template dependency structure of the dependency descriptor (AV1 RTP payload format,
//! Appendix A.8: `template_dependency_structure()`), kept by the receiver across packets.

use crate::codec::bits::{BitReader, BitWriter};
use crate::error::{Error, Result};

/// Most templates one structure holds: the template id is 6 bits.
pub const MAX_TEMPLATES: usize = 64;
/// Most decode targets: `dt_cnt_minus_one` is 5 bits.
pub const MAX_DECODE_TARGETS: usize = 32;
/// Most spatial layers (AV1 `spatial_id` is 2 bits).
pub const MAX_SPATIAL_LAYERS: usize = 4;
/// Most temporal layers (AV1 `temporal_id` is 3 bits).
pub const MAX_TEMPORAL_LAYERS: usize = 8;

/// A decode target indication (Appendix A, table A.1): how a frame relates to a decode target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Dti {
    /// `-`: the frame is not part of the decode target.
    NotPresent,
    /// `D`: part of it, and no later frame of it depends on this one.
    Discardable,
    /// `S`: part of it, and a receiver may start decoding the target at this frame.
    Switch,
    /// `R`: part of it, neither discardable nor a switch point.
    Required,
}

impl Dti {
    /// The indication of a 2-bit wire value.
    pub fn from_bits(v: u32) -> Self {
        match v & 3 {
            0 => Dti::NotPresent,
            1 => Dti::Discardable,
            2 => Dti::Switch,
            _ => Dti::Required,
        }
    }

    /// The 2-bit wire value.
    pub fn bits(self) -> u32 {
        match self {
            Dti::NotPresent => 0,
            Dti::Discardable => 1,
            Dti::Switch => 2,
            Dti::Required => 3,
        }
    }

    /// Whether the frame belongs to the decode target (anything but [`Dti::NotPresent`]).
    pub fn is_present(self) -> bool {
        self != Dti::NotPresent
    }
}

/// One frame dependency template.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct FrameTemplate {
    /// Spatial layer of frames using this template.
    pub spatial_id: u8,
    /// Temporal layer of frames using this template.
    pub temporal_id: u8,
    /// One indication per decode target.
    pub dtis: Vec<Dti>,
    /// Frame number differences to the referred frames, each 1..=16.
    pub fdiffs: Vec<u8>,
    /// Per chain, the frame number difference to the previous frame of the chain, 0..=15
    /// (0: this frame starts the chain, or none precedes it).
    pub chain_fdiffs: Vec<u8>,
}

/// The template dependency structure: templates, decode targets, chains and resolutions.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct DependencyStructure {
    /// The template id of template 0 (`template_id_offset`, 0..=63); ids wrap modulo 64.
    pub template_id_offset: u8,
    /// Number of decode targets, 1..=32.
    pub decode_target_count: u8,
    /// The templates, 1..=64, in the order the wire gives them: spatial id never decreases,
    /// and within a spatial layer the temporal id never decreases.
    pub templates: Vec<FrameTemplate>,
    /// Per decode target, the chain that protects it; empty when the structure has no chains.
    /// The number of chains is one more than the largest value here.
    pub decode_target_protected_by: Vec<u8>,
    /// Chain count (0..=decode targets); every template carries this many chain fdiffs.
    pub chain_count: u8,
    /// Maximum render width and height per spatial layer (1..=65536 each), when the structure
    /// gives them.
    pub resolutions: Option<Vec<(u32, u32)>>,
}

fn malformed(what: &'static str) -> Error {
    Error::Malformed(what)
}

impl DependencyStructure {
    /// The template with wire id `template_id`, if the structure has it.
    pub fn template(&self, template_id: u8) -> Option<&FrameTemplate> {
        let index = (usize::from(template_id) + 64 - usize::from(self.template_id_offset)) % 64;
        self.templates.get(index)
    }

    /// Highest spatial id of any template.
    pub fn max_spatial_id(&self) -> u8 {
        self.templates.last().map_or(0, |t| t.spatial_id)
    }

    /// The (spatial id, highest temporal id) of each decode target, derived from the templates
    /// that belong to it (`decode_target_layers()`).
    pub fn decode_target_layers(&self) -> Vec<(u8, u8)> {
        (0..usize::from(self.decode_target_count))
            .map(|dt| {
                self.templates
                    .iter()
                    .filter(|t| t.dtis.get(dt).is_some_and(|d| d.is_present()))
                    .fold((0, 0), |(s, tid), t| {
                        (s.max(t.spatial_id), tid.max(t.temporal_id))
                    })
            })
            .collect()
    }

    /// Checks what the wire form cannot express or the specification forbids.
    pub fn validate(&self) -> Result<()> {
        let dts = usize::from(self.decode_target_count);
        if !(1..=MAX_DECODE_TARGETS).contains(&dts) {
            return Err(Error::OutOfRange("decode target count"));
        }
        if self.template_id_offset >= 64 {
            return Err(Error::OutOfRange("template id offset"));
        }
        if self.templates.is_empty() || self.templates.len() > MAX_TEMPLATES {
            return Err(Error::OutOfRange("template count"));
        }
        let chains = usize::from(self.chain_count);
        if chains > dts {
            return Err(Error::OutOfRange("chain count"));
        }
        if chains == 0 && !self.decode_target_protected_by.is_empty()
            || chains > 0
                && (self.decode_target_protected_by.len() != dts
                    || self
                        .decode_target_protected_by
                        .iter()
                        .any(|&c| usize::from(c) >= chains))
        {
            return Err(Error::OutOfRange("decode target protected by"));
        }
        let mut prev: Option<&FrameTemplate> = None;
        for t in &self.templates {
            let layer_ok = match prev {
                None => t.spatial_id == 0 && t.temporal_id == 0,
                Some(p) => {
                    (t.spatial_id == p.spatial_id
                        && (t.temporal_id == p.temporal_id || t.temporal_id == p.temporal_id + 1))
                        || (t.spatial_id == p.spatial_id + 1 && t.temporal_id == 0)
                }
            };
            if !layer_ok
                || usize::from(t.spatial_id) >= MAX_SPATIAL_LAYERS
                || usize::from(t.temporal_id) >= MAX_TEMPORAL_LAYERS
            {
                return Err(Error::OutOfRange("template layers"));
            }
            if t.dtis.len() != dts {
                return Err(Error::OutOfRange("template decode target indications"));
            }
            if t.fdiffs.iter().any(|&d| !(1..=16).contains(&d)) {
                return Err(Error::OutOfRange("template frame diff"));
            }
            if t.chain_fdiffs.len() != chains || t.chain_fdiffs.iter().any(|&d| d > 15) {
                return Err(Error::OutOfRange("template chain diffs"));
            }
            prev = Some(t);
        }
        let size_ok = |&(w, h): &(u32, u32)| (1..=65536).contains(&w) && (1..=65536).contains(&h);
        if let Some(r) = &self.resolutions
            && (r.len() != usize::from(self.max_spatial_id()) + 1 || !r.iter().all(size_ok))
        {
            return Err(Error::OutOfRange("render resolutions"));
        }
        Ok(())
    }

    /// Reads `template_dependency_structure()`.
    pub(crate) fn read(r: &mut BitReader<'_>) -> Result<Self> {
        let short = || malformed("dependency descriptor structure truncated");
        let template_id_offset = r.bits(6).ok_or_else(short)? as u8;
        let decode_target_count = r.bits(5).ok_or_else(short)? as u8 + 1;
        let dts = usize::from(decode_target_count);
        // template_layers()
        let mut templates: Vec<FrameTemplate> = Vec::new();
        let (mut spatial_id, mut temporal_id) = (0u8, 0u8);
        loop {
            if templates.len() == MAX_TEMPLATES {
                return Err(malformed("dependency descriptor: more than 64 templates"));
            }
            if usize::from(spatial_id) >= MAX_SPATIAL_LAYERS
                || usize::from(temporal_id) >= MAX_TEMPORAL_LAYERS
            {
                return Err(malformed("dependency descriptor template layer"));
            }
            templates.push(FrameTemplate {
                spatial_id,
                temporal_id,
                dtis: Vec::new(),
                fdiffs: Vec::new(),
                chain_fdiffs: Vec::new(),
            });
            match r.bits(2).ok_or_else(short)? {
                0 => {}
                1 => temporal_id += 1,
                2 => {
                    temporal_id = 0;
                    spatial_id += 1;
                }
                _ => break,
            }
        }
        // template_dtis()
        for t in &mut templates {
            t.dtis = (0..dts)
                .map(|_| r.bits(2).map(Dti::from_bits))
                .collect::<Option<_>>()
                .ok_or_else(short)?;
        }
        // template_fdiffs()
        for t in &mut templates {
            while r.bit().ok_or_else(short)? == 1 {
                if t.fdiffs.len() == 16 {
                    // Far more references than AV1's seven reference slots allow: refused so
                    // that a structure stays small.
                    return Err(malformed("dependency descriptor: too many frame diffs"));
                }
                t.fdiffs.push(r.bits(4).ok_or_else(short)? as u8 + 1);
            }
        }
        // template_chains()
        let chain_count = r.ns(decode_target_count as u32 + 1).ok_or_else(short)? as u8;
        let mut decode_target_protected_by = Vec::new();
        if chain_count > 0 {
            for _ in 0..dts {
                decode_target_protected_by
                    .push(r.ns(u32::from(chain_count)).ok_or_else(short)? as u8);
            }
            for t in &mut templates {
                t.chain_fdiffs = (0..chain_count)
                    .map(|_| r.bits(4).map(|v| v as u8))
                    .collect::<Option<_>>()
                    .ok_or_else(short)?;
            }
        }
        let max_spatial_id = spatial_id;
        let resolutions = if r.bit().ok_or_else(short)? == 1 {
            let mut v = Vec::new();
            for _ in 0..=max_spatial_id {
                let w = r.bits(16).ok_or_else(short)? + 1;
                let h = r.bits(16).ok_or_else(short)? + 1;
                v.push((w, h));
            }
            Some(v)
        } else {
            None
        };
        Ok(Self {
            template_id_offset,
            decode_target_count,
            templates,
            decode_target_protected_by,
            chain_count,
            resolutions,
        })
    }

    /// Writes `template_dependency_structure()`; the structure must [`validate`](Self::validate).
    pub(crate) fn write(&self, w: &mut BitWriter<'_>) -> Result<()> {
        self.validate()?;
        w.bits(6, u32::from(self.template_id_offset));
        w.bits(5, u32::from(self.decode_target_count) - 1);
        for pair in self.templates.windows(2) {
            let (p, n) = (&pair[0], &pair[1]);
            let idc = if n.spatial_id > p.spatial_id {
                2
            } else if n.temporal_id > p.temporal_id {
                1
            } else {
                0
            };
            w.bits(2, idc);
        }
        w.bits(2, 3);
        for t in &self.templates {
            for d in &t.dtis {
                w.bits(2, d.bits());
            }
        }
        for t in &self.templates {
            for &d in &t.fdiffs {
                w.bit(true);
                w.bits(4, u32::from(d) - 1);
            }
            w.bit(false);
        }
        w.ns(
            u32::from(self.decode_target_count) + 1,
            u32::from(self.chain_count),
        );
        if self.chain_count > 0 {
            for &c in &self.decode_target_protected_by {
                w.ns(u32::from(self.chain_count), u32::from(c));
            }
            for t in &self.templates {
                for &c in &t.chain_fdiffs {
                    w.bits(4, u32::from(c));
                }
            }
        }
        w.bit(self.resolutions.is_some());
        for &(wd, ht) in self.resolutions.iter().flatten() {
            w.bits(16, wd - 1);
            w.bits(16, ht - 1);
        }
        Ok(())
    }
}
