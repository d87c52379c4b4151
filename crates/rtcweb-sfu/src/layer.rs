//! Where a finer layer choice plugs in: a filter over the packets of the forwarded encoding.

use std::fmt::Debug;

use crate::packet::PublisherPacket;

/// Drops packets of the forwarded simulcast encoding that the subscriber should not get, for
/// scalable streams: the temporal layers of VP8, the spatial and temporal layers of VP9 SVC
/// or of AV1 with a dependency descriptor. A filter that reads those layer ids implements it
/// and is given to [`crate::Forwarder::set_layer_filter`].
///
/// A dropped packet is taken out of the subscriber's sequence numbers (the next one forwarded
/// gets the number it would have had), so the subscriber sees no loss where there was none.
/// The renumbering is exact for packets that arrive in order; a packet dropped after a later
/// one was forwarded shifts nothing (its number stays a gap the subscriber may NACK).
pub trait LayerFilter: Debug {
    /// Whether to forward `packet` (of the forwarded encoding) to a subscriber whose chosen
    /// simulcast layer is `target`. The filter keeps the stream decodable: it drops only
    /// what no forwarded frame depends on, and switches up only at a switching point.
    fn keep(&mut self, packet: &PublisherPacket<'_>, target: u8) -> bool;
}
