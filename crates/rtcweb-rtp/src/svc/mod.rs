//! Scalable video coding (SVC) for forwarders: the AV1 dependency descriptor header extension
//! and a layer filter that drops the layers a subscriber should not receive while keeping
//! what it receives decodable.
//!
//! - [`DependencyDescriptor`]: one packet's descriptor, parsed and written against a
//!   [`DependencyStructure`] (AV1 RTP payload format, Appendix A.8).
//! - [`DependencyTracker`]: per stream, keeps the structure across packets and resolves each
//!   descriptor to [`FrameDependencies`] (layers, decode target indications, references).
//! - [`LayerFilter`]: per subscriber, forward or drop each packet for a [`LayerTarget`], from
//!   the dependency descriptor (AV1) or the VP9 payload descriptor
//!   ([`Vp9Layers`](crate::codec::Vp9Layers)).

mod descriptor;
mod filter;
mod structure;
mod tracker;

#[cfg(test)]
mod filter_tests;
#[cfg(test)]
mod tests;

pub use descriptor::{DependencyDescriptor, MAX_CUSTOM_FDIFFS};
pub use filter::{Decision, LayerFilter, LayerTarget, SvcPacket};
pub use structure::{
    DependencyStructure, Dti, FrameTemplate, MAX_DECODE_TARGETS, MAX_SPATIAL_LAYERS, MAX_TEMPLATES,
    MAX_TEMPORAL_LAYERS,
};
pub use tracker::{DependencyTracker, FrameDependencies};

/// The `a=extmap` URI of the dependency descriptor header extension.
pub const DEPENDENCY_DESCRIPTOR_URI: &str =
    "https://aomediacodec.github.io/av1-rtp-spec/#dependency-descriptor-rtp-header-extension";
