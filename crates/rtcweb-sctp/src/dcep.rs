//! The Data Channel Establishment Protocol codec (RFC 8832 section 5), smoltcp style: a
//! checked view over a byte buffer ([`DcepPacket`]) and an owned representation
//! ([`DcepMessage`]) with `parse` and `emit`.
//!
//! ```
//! use rtcweb_sctp::dcep::{ChannelType, DcepMessage, OpenMessage};
//!
//! let open = DcepMessage::Open(OpenMessage {
//!     channel_type: ChannelType::PartialReliableRexmit { unordered: true },
//!     priority: 256,
//!     reliability_parameter: 3,
//!     label: "chat".into(),
//!     protocol: "".into(),
//! });
//! let mut buf = vec![0; open.buffer_len()];
//! open.emit(&mut buf)?;
//! assert_eq!(DcepMessage::parse(&buf)?, open);
//! # Ok::<(), rtcweb_sctp::Error>(())
//! ```

use crate::Error;

/// Message Type of DATA_CHANNEL_ACK (RFC 8832 section 8.2.1).
pub const DATA_CHANNEL_ACK: u8 = 0x02;
/// Message Type of DATA_CHANNEL_OPEN.
pub const DATA_CHANNEL_OPEN: u8 = 0x03;

/// Fixed part of DATA_CHANNEL_OPEN before label and protocol.
const OPEN_HEADER_LEN: usize = 12;

/// The Channel Type of DATA_CHANNEL_OPEN (RFC 8832 section 5.1): reliability and ordering.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ChannelType {
    /// DATA_CHANNEL_RELIABLE (0x00) or DATA_CHANNEL_RELIABLE_UNORDERED (0x80).
    Reliable {
        /// Messages may be delivered out of order.
        unordered: bool,
    },
    /// DATA_CHANNEL_PARTIAL_RELIABLE_REXMIT (0x01 / 0x81): the reliability parameter is the
    /// number of retransmissions.
    PartialReliableRexmit {
        /// Messages may be delivered out of order.
        unordered: bool,
    },
    /// DATA_CHANNEL_PARTIAL_RELIABLE_TIMED (0x02 / 0x82): the reliability parameter is the
    /// lifetime in milliseconds.
    PartialReliableTimed {
        /// Messages may be delivered out of order.
        unordered: bool,
    },
}

impl ChannelType {
    /// The wire value.
    pub fn to_u8(self) -> u8 {
        let (base, unordered) = match self {
            ChannelType::Reliable { unordered } => (0x00, unordered),
            ChannelType::PartialReliableRexmit { unordered } => (0x01, unordered),
            ChannelType::PartialReliableTimed { unordered } => (0x02, unordered),
        };
        if unordered { base | 0x80 } else { base }
    }

    /// Parses the wire value.
    pub fn from_u8(v: u8) -> Result<Self, Error> {
        let unordered = v & 0x80 != 0;
        match v & 0x7f {
            0x00 => Ok(ChannelType::Reliable { unordered }),
            0x01 => Ok(ChannelType::PartialReliableRexmit { unordered }),
            0x02 => Ok(ChannelType::PartialReliableTimed { unordered }),
            _ => Err(Error::Dcep("unknown channel type")),
        }
    }

    /// Whether messages may be delivered out of order.
    pub fn is_unordered(self) -> bool {
        match self {
            ChannelType::Reliable { unordered }
            | ChannelType::PartialReliableRexmit { unordered }
            | ChannelType::PartialReliableTimed { unordered } => unordered,
        }
    }
}

/// A checked view of a DCEP message in a buffer. After [`new_checked`](Self::new_checked)
/// succeeds every accessor is in bounds.
#[derive(Debug, Clone, Copy)]
pub struct DcepPacket<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> DcepPacket<T> {
    /// Wraps `buffer` after checking that the message type is known and that the label and
    /// protocol lengths of an OPEN fit in it.
    pub fn new_checked(buffer: T) -> Result<Self, Error> {
        let b = buffer.as_ref();
        match b.first() {
            None => Err(Error::Dcep("empty message")),
            Some(&DATA_CHANNEL_ACK) => Ok(Self { buffer }),
            Some(&DATA_CHANNEL_OPEN) => {
                let header = b
                    .get(..OPEN_HEADER_LEN)
                    .ok_or(Error::Dcep("DATA_CHANNEL_OPEN shorter than its header"))?;
                let label = usize::from(u16::from_be_bytes([header[8], header[9]]));
                let protocol = usize::from(u16::from_be_bytes([header[10], header[11]]));
                if OPEN_HEADER_LEN + label + protocol > b.len() {
                    return Err(Error::Dcep("label or protocol runs past the message"));
                }
                Ok(Self { buffer })
            }
            Some(_) => Err(Error::Dcep("unknown message type")),
        }
    }

    /// Message Type.
    pub fn message_type(&self) -> u8 {
        self.buffer.as_ref()[0]
    }

    fn open_field(&self, at: usize) -> &[u8] {
        // Only called on OPEN messages, whose header new_checked verified.
        &self.buffer.as_ref()[at..]
    }

    /// Channel Type byte (OPEN only; 0 for an ACK).
    pub fn channel_type(&self) -> u8 {
        if self.is_open() {
            self.open_field(1)[0]
        } else {
            0
        }
    }

    /// Priority (OPEN only).
    pub fn priority(&self) -> u16 {
        if !self.is_open() {
            return 0;
        }
        let f = self.open_field(2);
        u16::from_be_bytes([f[0], f[1]])
    }

    /// Reliability Parameter (OPEN only).
    pub fn reliability_parameter(&self) -> u32 {
        if !self.is_open() {
            return 0;
        }
        let f = self.open_field(4);
        u32::from_be_bytes([f[0], f[1], f[2], f[3]])
    }

    /// Label bytes (OPEN only).
    pub fn label(&self) -> &[u8] {
        if !self.is_open() {
            return &[];
        }
        let (label, _) = self.lengths();
        &self.open_field(OPEN_HEADER_LEN)[..label]
    }

    /// Protocol bytes (OPEN only).
    pub fn protocol(&self) -> &[u8] {
        if !self.is_open() {
            return &[];
        }
        let (label, protocol) = self.lengths();
        &self.open_field(OPEN_HEADER_LEN + label)[..protocol]
    }

    fn is_open(&self) -> bool {
        self.message_type() == DATA_CHANNEL_OPEN
    }

    fn lengths(&self) -> (usize, usize) {
        let f = self.open_field(8);
        (
            usize::from(u16::from_be_bytes([f[0], f[1]])),
            usize::from(u16::from_be_bytes([f[2], f[3]])),
        )
    }
}

/// The content of DATA_CHANNEL_OPEN.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenMessage {
    /// Reliability and ordering.
    pub channel_type: ChannelType,
    /// Priority (RFC 8831 section 6.4: 128 below normal, 256 normal, 512 high, 1024 extra high).
    pub priority: u16,
    /// Retransmissions or lifetime in ms, by channel type; 0 for reliable channels.
    pub reliability_parameter: u32,
    /// The channel's label (UTF-8, at most 65535 bytes).
    pub label: String,
    /// The subprotocol (UTF-8, at most 65535 bytes; IANA WebSocket subprotocol names).
    pub protocol: String,
}

/// A DCEP message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DcepMessage {
    /// DATA_CHANNEL_OPEN.
    Open(OpenMessage),
    /// DATA_CHANNEL_ACK.
    Ack,
}

impl DcepMessage {
    /// Parses one message (the whole payload of an SCTP message with PPID 50).
    pub fn parse(buffer: &[u8]) -> Result<Self, Error> {
        let p = DcepPacket::new_checked(buffer)?;
        if p.message_type() == DATA_CHANNEL_ACK {
            return Ok(DcepMessage::Ack);
        }
        let text = |b: &[u8]| {
            std::str::from_utf8(b)
                .map(str::to_owned)
                .map_err(|_| Error::Dcep("label or protocol is not UTF-8"))
        };
        Ok(DcepMessage::Open(OpenMessage {
            channel_type: ChannelType::from_u8(p.channel_type())?,
            priority: p.priority(),
            reliability_parameter: p.reliability_parameter(),
            label: text(p.label())?,
            protocol: text(p.protocol())?,
        }))
    }

    /// Bytes [`emit`](Self::emit) writes.
    pub fn buffer_len(&self) -> usize {
        match self {
            DcepMessage::Ack => 1,
            DcepMessage::Open(o) => OPEN_HEADER_LEN + o.label.len() + o.protocol.len(),
        }
    }

    /// Writes the message to the start of `buffer`; returns the bytes written.
    pub fn emit(&self, buffer: &mut [u8]) -> Result<usize, Error> {
        let len = self.buffer_len();
        let out = buffer
            .get_mut(..len)
            .ok_or(Error::Dcep("buffer too small"))?;
        match self {
            DcepMessage::Ack => out[0] = DATA_CHANNEL_ACK,
            DcepMessage::Open(o) => {
                let label =
                    u16::try_from(o.label.len()).map_err(|_| Error::Dcep("label too long"))?;
                let protocol = u16::try_from(o.protocol.len())
                    .map_err(|_| Error::Dcep("protocol too long"))?;
                out[0] = DATA_CHANNEL_OPEN;
                out[1] = o.channel_type.to_u8();
                out[2..4].copy_from_slice(&o.priority.to_be_bytes());
                out[4..8].copy_from_slice(&o.reliability_parameter.to_be_bytes());
                out[8..10].copy_from_slice(&label.to_be_bytes());
                out[10..12].copy_from_slice(&protocol.to_be_bytes());
                let (l, p) = out[OPEN_HEADER_LEN..].split_at_mut(o.label.len());
                l.copy_from_slice(o.label.as_bytes());
                p.copy_from_slice(o.protocol.as_bytes());
            }
        }
        Ok(len)
    }

    /// The message as a new buffer.
    pub fn to_vec(&self) -> Result<Vec<u8>, Error> {
        let mut v = vec![0; self.buffer_len()];
        self.emit(&mut v)?;
        Ok(v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// DATA_CHANNEL_OPEN as Chromium sends it for `createDataChannel("chat")`: reliable,
    /// ordered, priority 256 (normal / W3C "low"), label "chat", no protocol.
    const CHROMIUM_OPEN: [u8; 16] = [
        0x03, 0x00, 0x01, 0x00, 0, 0, 0, 0, 0x00, 0x04, 0x00, 0x00, b'c', b'h', b'a', b't',
    ];

    #[test]
    fn parses_a_reliable_ordered_open() {
        let m = DcepMessage::parse(&CHROMIUM_OPEN).unwrap();
        assert_eq!(
            m,
            DcepMessage::Open(OpenMessage {
                channel_type: ChannelType::Reliable { unordered: false },
                priority: 256,
                reliability_parameter: 0,
                label: "chat".into(),
                protocol: String::new(),
            })
        );
        assert_eq!(m.to_vec().unwrap(), CHROMIUM_OPEN);
    }

    #[test]
    fn every_channel_type_round_trips() {
        for (v, t) in [
            (0x00, ChannelType::Reliable { unordered: false }),
            (0x80, ChannelType::Reliable { unordered: true }),
            (
                0x01,
                ChannelType::PartialReliableRexmit { unordered: false },
            ),
            (0x81, ChannelType::PartialReliableRexmit { unordered: true }),
            (0x02, ChannelType::PartialReliableTimed { unordered: false }),
            (0x82, ChannelType::PartialReliableTimed { unordered: true }),
        ] {
            assert_eq!(ChannelType::from_u8(v).unwrap(), t);
            assert_eq!(t.to_u8(), v);
            assert_eq!(t.is_unordered(), v & 0x80 != 0);
        }
        assert!(ChannelType::from_u8(0x03).is_err());
        assert!(ChannelType::from_u8(0x7f).is_err());
    }

    #[test]
    fn ack_is_one_byte() {
        assert_eq!(DcepMessage::parse(&[0x02]).unwrap(), DcepMessage::Ack);
        assert_eq!(DcepMessage::Ack.to_vec().unwrap(), [0x02]);
    }

    #[test]
    fn label_and_protocol_with_multibyte_utf8() {
        let open = DcepMessage::Open(OpenMessage {
            channel_type: ChannelType::PartialReliableTimed { unordered: true },
            priority: 1024,
            reliability_parameter: 1500,
            label: "données ✓".into(),
            protocol: "wamp.2.json".into(),
        });
        let bytes = open.to_vec().unwrap();
        assert_eq!(DcepMessage::parse(&bytes).unwrap(), open);
    }

    #[test]
    fn malformed_messages_are_errors() {
        assert!(DcepMessage::parse(&[]).is_err());
        assert!(DcepMessage::parse(&[0x01]).is_err());
        assert!(DcepMessage::parse(&CHROMIUM_OPEN[..11]).is_err());
        // Label length one past the end.
        let mut long = CHROMIUM_OPEN;
        long[9] = 5;
        assert!(DcepMessage::parse(&long).is_err());
        // Protocol length past the end.
        let mut p = CHROMIUM_OPEN;
        p[11] = 1;
        assert!(DcepMessage::parse(&p).is_err());
        // Invalid UTF-8 label.
        let mut bad = CHROMIUM_OPEN;
        bad[12] = 0xff;
        assert!(DcepMessage::parse(&bad).is_err());
        // Unknown channel type.
        let mut t = CHROMIUM_OPEN;
        t[1] = 0x05;
        assert!(DcepMessage::parse(&t).is_err());
    }

    #[test]
    fn trailing_bytes_after_protocol_are_ignored() {
        let mut v = CHROMIUM_OPEN.to_vec();
        v.extend_from_slice(b"xyz");
        assert!(matches!(
            DcepMessage::parse(&v).unwrap(),
            DcepMessage::Open(_)
        ));
    }

    #[test]
    fn emit_into_short_buffer_fails() {
        let mut b = [0u8; 3];
        assert!(
            DcepMessage::parse(&CHROMIUM_OPEN)
                .unwrap()
                .emit(&mut b)
                .is_err()
        );
    }
}
