//! STUN message codec for rtcweb (RFC 8489), with the attributes of TURN (RFC 8656), NAT
//! behaviour discovery (RFC 5780), third-party authorization (RFC 7635) and ICE (RFC 8445).
//!
//! - [`Message`]: a zero-copy view, validated once by [`Message::new_checked`].
//! - [`MessageBuilder`]: writes a message into a caller buffer, including
//!   MESSAGE-INTEGRITY(-SHA256) and FINGERPRINT.
//! - [`Attribute`]: every known attribute decoded and encoded; unknown ones round-trip.
//! - [`IntegrityKey`]: short-term and long-term (MD5 / SHA-256) keys with cached HMAC state,
//!   compared in constant time.
//! - [`channel_data`], [`framing`]: ChannelData and STUN over TCP/TLS framing.
//! - [`transaction`]: client transactions with RFC 8489 retransmission timing.
//!
//! The crate is sans-IO: no sockets, clocks or threads. Every parser returns a `Result`.
//!
//! ```
//! use rtcweb_stun::{Attribute, AttributeType, Message};
//! # let bytes = [0x01u8, 0x01, 0x00, 0x0c, 0x21, 0x12, 0xa4, 0x42, 1,2,3,4,5,6,7,8,9,10,11,12,
//! #   0x00, 0x20, 0x00, 0x08, 0x00, 0x01, 0xa1, 0x47, 0xe1, 0x12, 0xa6, 0x43];
//! let msg = Message::new_checked(&bytes[..])?;
//! if let Some(Ok(Attribute::XorMappedAddress(addr))) = msg.attribute(AttributeType::XOR_MAPPED_ADDRESS) {
//!     assert_eq!(addr.to_string(), "192.0.2.1:32853");
//! }
//! # Ok::<(), rtcweb_stun::Error>(())
//! ```

pub mod attributes;
mod builder;
pub mod channel_data;
mod error;
mod fingerprint;
pub mod framing;
mod header;
mod integrity;
mod message;
pub mod transaction;

pub use attributes::{Attribute, AttributeType, ErrorCode};
pub use builder::MessageBuilder;
pub use channel_data::ChannelData;
pub use error::{Error, Result};
pub use fingerprint::FINGERPRINT_XOR;
pub use header::{Class, HEADER_LEN, MAGIC_COOKIE, MessageType, Method, TransactionId, padded};
pub use integrity::{IntegrityKey, PasswordAlgorithm, saslprep, userhash};
pub use message::{Message, RawAttribute, RawAttributes, is_stun};
pub use transaction::{ClientTransaction, TransactionConfig, TransactionState};
