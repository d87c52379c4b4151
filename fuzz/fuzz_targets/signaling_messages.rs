//! Untrusted signaling input: pasted copy-paste lines, room messages from a server or a
//! client, WHIP trickle fragments. Parsing never panics, and a parsed room message re-encodes
//! to JSON that parses back to the same message.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rtcweb_tokio::signaling::http::SdpFrag;
use rtcweb_tokio::signaling::room::{ClientMessage, ServerMessage};
use rtcweb_tokio::signaling::stdio;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    if let Ok(m) = stdio::decode(&text) {
        let again = stdio::decode(&stdio::encode(&m)).expect("our own line decodes");
        assert_eq!(again, m);
    }
    let _ = stdio::decode_json(&text);
    if let Ok(m) = ClientMessage::parse(&text) {
        assert_eq!(ClientMessage::parse(&m.to_json()).expect("re-parses"), m);
    }
    if let Ok(m) = ServerMessage::parse(&text) {
        assert_eq!(ServerMessage::parse(&m.to_json()).expect("re-parses"), m);
    }
    if let Ok(f) = SdpFrag::parse(&text) {
        assert!(f.candidates.len() <= rtcweb_tokio::signaling::http::sdpfrag::MAX_CANDIDATES);
    }
});
