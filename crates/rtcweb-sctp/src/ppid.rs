//! Payload Protocol Identifiers of WebRTC (RFC 8831 section 8, IANA "SCTP Payload Protocol
//! Identifiers").

/// WebRTC DCEP: a DATA_CHANNEL_OPEN or DATA_CHANNEL_ACK.
pub const DCEP: u32 = 50;
/// WebRTC String.
pub const STRING: u32 = 51;
/// WebRTC Binary Partial (deprecated; received as binary).
pub const BINARY_PARTIAL: u32 = 52;
/// WebRTC Binary.
pub const BINARY: u32 = 53;
/// WebRTC String Partial (deprecated; received as text).
pub const STRING_PARTIAL: u32 = 54;
/// WebRTC String Empty: the one-byte stand-in for an empty string.
pub const STRING_EMPTY: u32 = 56;
/// WebRTC Binary Empty: the one-byte stand-in for an empty binary message.
pub const BINARY_EMPTY: u32 = 57;
