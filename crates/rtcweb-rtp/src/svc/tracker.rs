//! Per-stream state of the dependency descriptor: the structure in force, the active decode
//! targets and the frame number extension, which turn each packet's descriptor into the
//! frame's layers, indications and references.

use std::sync::Arc;

use crate::error::{Error, Result};
use crate::seq::SeqUnwrapper;
use crate::svc::descriptor::DependencyDescriptor;
use crate::svc::structure::{DependencyStructure, Dti};

/// What one packet's descriptor says about its frame, resolved against the structure.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FrameDependencies {
    /// The frame number extended to 64 bits (monotonic across wraps), the same for every
    /// packet of the frame.
    pub frame_id: u64,
    /// The packet begins the frame.
    pub start_of_frame: bool,
    /// The packet ends the frame.
    pub end_of_frame: bool,
    /// Spatial layer of the frame.
    pub spatial_id: u8,
    /// Temporal layer of the frame.
    pub temporal_id: u8,
    /// One indication per decode target.
    pub dtis: Vec<Dti>,
    /// The frame ids of the frames this one refers to.
    pub references: Vec<u64>,
    /// Per chain, the frame number difference to the previous frame of that chain.
    pub chain_fdiffs: Vec<u8>,
    /// The packet carried a new structure: it starts a coded video sequence (a key frame).
    pub new_structure: bool,
    /// The decode targets the sender currently produces (bit i: decode target i).
    pub active_decode_targets: u32,
    /// Maximum render size of the frame's spatial layer, when the structure gives it.
    pub resolution: Option<(u32, u32)>,
    /// The structure in force (shared: a new allocation only when the structure changes).
    pub structure: Arc<DependencyStructure>,
}

/// The receive side of the dependency descriptor for one RTP stream: keeps the latest
/// structure and active decode targets from packet to packet, as most packets carry only a
/// template id.
///
/// ```
/// use rtcweb_rtp::svc::{DependencyDescriptor, DependencyStructure, DependencyTracker, Dti, FrameTemplate};
///
/// // L1T2: decode target 0 is T0 only, decode target 1 is T0 + T1.
/// let t = |temporal_id, dtis: [Dti; 2], fdiffs: Vec<u8>| FrameTemplate {
///     spatial_id: 0, temporal_id, dtis: dtis.to_vec(), fdiffs, chain_fdiffs: vec![],
/// };
/// let structure = DependencyStructure {
///     template_id_offset: 0,
///     decode_target_count: 2,
///     templates: vec![
///         t(0, [Dti::Switch, Dti::Switch], vec![]),
///         t(0, [Dti::Switch, Dti::Switch], vec![2]),
///         t(1, [Dti::NotPresent, Dti::Discardable], vec![1]),
///     ],
///     decode_target_protected_by: vec![],
///     chain_count: 0,
///     resolutions: None,
/// };
/// let mut key = DependencyDescriptor::new(0, 100, true, true);
/// key.structure = Some(structure.clone());
/// let mut rx = DependencyTracker::new();
/// let f = rx.read(&key.to_vec(None).unwrap()).unwrap();
/// assert!(f.new_structure && f.references.is_empty());
/// // The next frame names template 2 only: 3 octets.
/// let bytes = DependencyDescriptor::new(2, 101, true, true).to_vec(Some(&structure)).unwrap();
/// assert_eq!(bytes.len(), 3);
/// let f = rx.read(&bytes).unwrap();
/// assert_eq!((f.temporal_id, f.references.len()), (1, 1));
/// assert_eq!(f.references[0] + 1, f.frame_id);
/// ```
#[derive(Debug, Clone, Default)]
pub struct DependencyTracker {
    structure: Option<Arc<DependencyStructure>>,
    active: u32,
    frames: SeqUnwrapper,
}

impl DependencyTracker {
    /// A tracker that has seen no structure yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// The structure in force: the last one a packet carried.
    pub fn structure(&self) -> Option<&Arc<DependencyStructure>> {
        self.structure.as_ref()
    }

    /// The active decode targets (bit i: decode target i), from the last update.
    pub fn active_decode_targets(&self) -> u32 {
        self.active
    }

    /// Parses one packet's descriptor element and resolves it.
    ///
    /// Fails (malformed) on a descriptor that does not parse, and when no structure is known
    /// yet or the template id is not one of the structure's: the packet that carried the
    /// structure was lost, and the stream cannot be interpreted until the next key frame.
    pub fn read(&mut self, data: &[u8]) -> Result<FrameDependencies> {
        let d = DependencyDescriptor::parse(data, self.structure.as_deref())?;
        self.resolve(&d)
    }

    /// Resolves a parsed descriptor, taking in the structure and active decode targets it
    /// carries.
    pub fn resolve(&mut self, d: &DependencyDescriptor) -> Result<FrameDependencies> {
        let new_structure = d.structure.is_some();
        let structure = match (&d.structure, &self.structure) {
            // The same structure again keeps its allocation (and so the identity a layer
            // filter compares).
            (Some(s), Some(cur)) if **cur == *s => cur.clone(),
            (Some(s), _) => Arc::new(s.clone()),
            (None, Some(cur)) => cur.clone(),
            (None, None) => {
                return Err(Error::Malformed(
                    "dependency descriptor without a known structure",
                ));
            }
        };
        let template = structure.template(d.template_id).ok_or(Error::Malformed(
            "dependency descriptor template id outside the structure",
        ))?;
        let dt_count = usize::from(structure.decode_target_count);
        if d.custom_dtis.as_ref().is_some_and(|v| v.len() != dt_count)
            || d.custom_chain_fdiffs
                .as_ref()
                .is_some_and(|v| v.len() != usize::from(structure.chain_count))
        {
            return Err(Error::Malformed(
                "dependency descriptor disagrees with its structure",
            ));
        }
        let all = if dt_count >= 32 {
            u32::MAX
        } else {
            (1u32 << dt_count) - 1
        };
        if new_structure {
            self.active = all;
        }
        if let Some(mask) = d.active_decode_targets {
            self.active = mask & all;
        }
        self.structure = Some(structure.clone());
        let frame_id = self.frames.unwrap(d.frame_number);
        let references = match &d.custom_fdiffs {
            Some(v) => v
                .iter()
                .map(|&f| frame_id.saturating_sub(u64::from(f)))
                .collect(),
            None => template
                .fdiffs
                .iter()
                .map(|&f| frame_id.saturating_sub(u64::from(f)))
                .collect(),
        };
        let resolution = structure
            .resolutions
            .as_ref()
            .and_then(|r| r.get(usize::from(template.spatial_id)).copied());
        Ok(FrameDependencies {
            frame_id,
            start_of_frame: d.start_of_frame,
            end_of_frame: d.end_of_frame,
            spatial_id: template.spatial_id,
            temporal_id: template.temporal_id,
            dtis: d
                .custom_dtis
                .clone()
                .unwrap_or_else(|| template.dtis.clone()),
            references,
            chain_fdiffs: d
                .custom_chain_fdiffs
                .clone()
                .unwrap_or_else(|| template.chain_fdiffs.clone()),
            new_structure,
            active_decode_targets: self.active,
            resolution,
            structure,
        })
    }
}
