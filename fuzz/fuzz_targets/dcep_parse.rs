//! Arbitrary bytes as a DCEP message (the payload of an SCTP message with PPID 50).
//! Checks: no panic; whatever parses emits to the same length and parses back equal; the
//! checked view agrees with the parsed representation.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rtcweb_sctp::dcep::{DcepMessage, DcepPacket};

fuzz_target!(|data: &[u8]| {
    let view = DcepPacket::new_checked(data);
    let Ok(message) = DcepMessage::parse(data) else {
        return;
    };
    let view = view.expect("parse succeeded, so the view is valid");
    let bytes = message.to_vec().expect("a parsed message emits");
    assert_eq!(bytes.len(), message.buffer_len());
    assert_eq!(DcepMessage::parse(&bytes).expect("round trip"), message);
    if let DcepMessage::Open(open) = &message {
        assert_eq!(view.label(), open.label.as_bytes());
        assert_eq!(view.protocol(), open.protocol.as_bytes());
        assert_eq!(view.priority(), open.priority);
        assert_eq!(view.reliability_parameter(), open.reliability_parameter);
        assert_eq!(&data[..bytes.len()], &bytes[..]);
    }
});
