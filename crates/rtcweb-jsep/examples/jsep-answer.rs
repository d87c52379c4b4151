//! Reads an SDP offer on stdin and prints rtcweb-jsep's answer on stdout: how the corpus
//! capture (interop/sdp-corpus) feeds our answer back to the peer that made the offer.
//!
//! `cargo run -p rtcweb-jsep --example jsep-answer < offer.sdp`
//!
//! The answer carries a fixed, made-up DTLS fingerprint: it is for checking that the peer
//! accepts the description, not for connecting.

use std::io::{Read, Write};

use rtcweb_jsep::sdp::{Direction, Fingerprint, HashFunction};
use rtcweb_jsep::{Description, Jsep, JsepConfig, SdpType};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut offer = String::new();
    std::io::stdin().read_to_string(&mut offer)?;
    let fingerprint = Fingerprint::new(HashFunction::Sha256, (0u8..32).collect())?;
    let mut jsep = Jsep::new(JsepConfig {
        fingerprints: vec![fingerprint],
        seed: 7.into(),
        ..Default::default()
    });
    jsep.set_remote_description(Description::new(SdpType::Offer, offer))?;
    // Answer every remote transceiver sendrecv, as a peer with tracks to send would.
    let ids: Vec<_> = jsep.transceivers().iter().map(|t| t.id).collect();
    for id in ids {
        jsep.set_direction(id, Direction::SendRecv)?;
    }
    let answer = jsep.create_answer()?;
    jsep.set_local_description(Description::new(SdpType::Answer, answer.clone()))?;
    std::io::stdout().write_all(answer.as_bytes())?;
    Ok(())
}
