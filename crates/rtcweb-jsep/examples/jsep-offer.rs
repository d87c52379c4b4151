//! Our offer, for checking that other implementations answer it (interop/sdp-corpus).
//!
//! `jsep-offer offer KIND` prints the offer; `jsep-offer check KIND < answer` makes the same
//! offer again (the session is seeded, so it is identical), applies it, applies the answer
//! from stdin and prints what was negotiated, or fails. KIND is `av-data` (audio, video and
//! a data channel) or `data` (data channel only).
//!
//! The offer carries a fixed, made-up DTLS fingerprint: it is for checking descriptions, not
//! for connecting.

use std::io::Read;

use rtcweb_jsep::{Description, OfferOptions, SdpType};

include!("common/offerer.rs");

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (mode, kind) = match args.as_slice() {
        [m, k] => (m.as_str(), k.as_str()),
        _ => return Err("usage: jsep-offer offer|check av-data|data".into()),
    };
    let mut jsep = offerer(kind)?;
    let offer = jsep.create_offer(OfferOptions::default())?;
    match mode {
        "offer" => print!("{offer}"),
        "check" => {
            jsep.set_local_description(Description::new(SdpType::Offer, offer))?;
            let mut answer = String::new();
            std::io::stdin().read_to_string(&mut answer)?;
            jsep.set_remote_description(Description::new(SdpType::Answer, answer))?;
            let n = jsep.negotiated().ok_or("no negotiated result")?;
            let summary: Vec<String> = n
                .media
                .iter()
                .map(|m| {
                    let codecs: Vec<&str> = m.codecs.iter().map(|c| c.name.as_str()).collect();
                    match (m.rejected, m.sctp) {
                        (true, _) => format!("{}:rejected", m.kind.as_str()),
                        (false, Some(s)) => format!("data:sctp-port={}", s.remote_port),
                        (false, None) => {
                            format!("{}:{}:{}", m.kind.as_str(), m.direction, codecs.join("/"))
                        }
                    }
                })
                .collect();
            println!("negotiated {}", summary.join(" "));
        }
        other => return Err(format!("unknown mode {other:?}").into()),
    }
    Ok(())
}
