//! Arbitrary text as the values layers share (rtcweb-core): a candidate (the W3C string and
//! the SDP attribute value), an `a=fingerprint` value and an `a=setup` value. Checks: no
//! panic; whatever parses formats back to text that parses to the same value.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rtcweb_core::{Candidate, Fingerprint, Setup};

fuzz_target!(|data: &[u8]| {
    let Some((&which, rest)) = data.split_first() else {
        return;
    };
    let Ok(text) = std::str::from_utf8(rest) else {
        return;
    };
    match which % 4 {
        0 => {
            if let Ok(c) = text.parse::<Candidate>() {
                let again: Candidate = c.to_string().parse().expect("our candidate string parses");
                assert_eq!(again, c);
            }
        }
        1 => {
            if let Ok(c) = Candidate::parse_value(text) {
                let value = c.attribute_value().to_string();
                assert_eq!(Candidate::parse_value(&value).expect("our value parses"), c);
            }
        }
        2 => {
            if let Ok(f) = text.parse::<Fingerprint>() {
                assert_eq!(f.value().len(), f.hash_function().output_len());
                assert_eq!(f.to_string().parse::<Fingerprint>(), Ok(f));
            }
        }
        _ => {
            if let Ok(s) = text.parse::<Setup>() {
                assert_eq!(s.to_string().parse::<Setup>(), Ok(s));
            }
        }
    }
});
