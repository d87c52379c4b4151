//! Untrusted SDP: parsing never panics, and whatever parses re-emits and re-parses to the
//! same model.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rtcweb_jsep::sdp::SessionDescription;

fuzz_target!(|data: &[u8]| {
    if let Ok(sd) = SessionDescription::parse_bytes(data) {
        let text = sd.to_sdp();
        let again = SessionDescription::parse(&text).expect("our own output parses");
        assert_eq!(again, sd, "parse-emit-parse must be the identity");
    }
});
