//! STUN codec: parse, re-encode (typed where the value decodes, raw otherwise), re-parse, and
//! require the same attributes. Also runs integrity/fingerprint checks, ChannelData and the
//! stream framer on the same bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rtcweb_stun::framing::StreamDecoder;
use rtcweb_stun::{Attribute, ChannelData, IntegrityKey, Message, MessageBuilder};

fuzz_target!(|data: &[u8]| {
    let _ = ChannelData::new_checked(data);
    let mut dec = StreamDecoder::new();
    if dec.push(data).is_ok() {
        while let Ok(Some(_)) = dec.next_frame() {}
    }
    let Ok(msg) = Message::new_checked(data) else {
        return;
    };
    let key = IntegrityKey::short_term("fuzz");
    let _ = msg.verify_integrity(&key);
    let _ = msg.verify_message_integrity(&key);
    let _ = msg.verify_fingerprint();
    let _ = msg.unknown_comprehension_required().count();
    let tid = msg.transaction_id();

    let mut buf = vec![0u8; data.len() + 64];
    let mut b = MessageBuilder::new(&mut buf, msg.message_type(), tid).expect("header fits");
    let mut typed = Vec::new();
    for a in msg.attributes() {
        match Attribute::parse(a.typ, a.value, &tid) {
            Ok(attr) => {
                b.attribute(&attr).expect("a decoded attribute re-encodes");
                typed.push(Some(attr));
            }
            Err(_) => {
                b.raw_attribute(a.typ, a.value)
                    .expect("raw attribute re-encodes");
                typed.push(None);
            }
        }
    }
    let n = b.finish();
    let again = Message::new_checked(&buf[..n]).expect("re-encoded message parses");
    assert_eq!(again.message_type(), msg.message_type());
    let mut count = 0;
    for (a, t) in again.attributes().zip(&typed) {
        count += 1;
        match t {
            Some(attr) => assert_eq!(Attribute::parse(a.typ, a.value, &tid).as_ref(), Ok(attr)),
            None => assert!(Attribute::parse(a.typ, a.value, &tid).is_err()),
        }
    }
    assert_eq!(count, typed.len());
});
