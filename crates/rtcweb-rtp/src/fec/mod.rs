//! Forward error correction for video: parity FEC in the two formats WebRTC uses, ULPFEC
//! (RFC 5109, inside RED, on the media stream's SSRC and sequence numbers) and FlexFEC-03
//! (draft-ietf-payload-flexible-fec-scheme-03, on its own SSRC), with the sender's encoder,
//! the receiver's decoder and the choice of how much to protect.
//!
//! An FEC packet is the XOR of a set of media packets: of their P, X, CC, M and PT bits,
//! timestamps, lengths, and everything after the fixed RTP header (so header extensions are
//! protected too). When all but one of the packets it protects arrived, the XOR of the FEC
//! packet with them is the missing one, byte for byte.
//!
//! - [`ulpfec`] and [`flexfec`]: the two header formats, read into one [`FecHeader`].
//! - [`FecEncoder`]: groups of media packets to FEC packets, masks from [`mask`](self).
//! - [`FecDecoder`]: received media and FEC packets to rebuilt media packets.
//! - [`Protection`]: the protection rate, from the loss the receiver reports and the round
//!   trip, traded against NACK.

mod decoder;
mod encoder;
pub mod flexfec;
mod mask;
mod protection;
pub mod ulpfec;
mod xor;

pub use decoder::{FecDecoder, FecDecoderStats};
pub use encoder::{FecEncoder, MAX_GROUP};
pub use protection::{Protection, ProtectionConfig};

/// The FEC format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FecScheme {
    /// ULPFEC (RFC 5109), carried in RED (`a=rtpmap:<pt> ulpfec/90000`).
    Ulpfec,
    /// FlexFEC-03 (`a=rtpmap:<pt> flexfec-03/90000`), on its own SSRC (`a=ssrc-group:FEC-FR`).
    Flexfec03,
}

/// What an FEC packet's header says, whatever its format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct FecHeader {
    /// P, X and CC recovery (the low six bits of the first RTP header octet).
    pub bits0: u8,
    /// M and PT recovery (the second RTP header octet).
    pub bits1: u8,
    /// Length recovery: the XOR of the protected packets' lengths after the fixed header.
    pub length_recovery: u16,
    /// Timestamp recovery.
    pub timestamp_recovery: u32,
    /// The first sequence number the mask names.
    pub sequence_base: u16,
    /// Bit `i` (least significant first) set: protects `sequence_base + i`.
    pub mask: u128,
    /// The protected SSRC (FlexFEC names it; ULPFEC protects its own SSRC).
    pub protected_ssrc: Option<u32>,
}
