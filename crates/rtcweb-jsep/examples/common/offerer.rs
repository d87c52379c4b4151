// The offerer of `examples/jsep-offer.rs`, shared (by `include!`) with `tests/corpus.rs`,
// which re-creates the offer that the corpus's answers-to-ours/ files answer.

/// A seeded session with audio and video senders and a data channel (`av-data`), or only a
/// data channel (`data`). Same seed, same calls: the same offer every time.
fn offerer(kind: &str) -> Result<rtcweb_jsep::Jsep, String> {
    use rtcweb_jsep::sdp::{Direction, Fingerprint, HashFunction, MediaKind};
    use rtcweb_jsep::{IceCredentials, Jsep, JsepConfig, SendParams, TransceiverInit};
    let fingerprint = Fingerprint::new(HashFunction::Sha256, (0u8..32).collect())
        .map_err(|e| e.to_string())?;
    // The credentials and session id the captured answers were made for (the answers of
    // GStreamer and Janus repeat the session id), fixed so the offer stays byte for byte.
    let ice = IceCredentials { ufrag: "dhtwEOkq".into(), pwd: "2qgdLDB42UNG4d2l+WWa1u2G".into() };
    let mut jsep = Jsep::new(JsepConfig {
        fingerprints: vec![fingerprint],
        ice_credentials: Some(ice),
        session_id: Some(5219334335566430543),
        seed: 11.into(),
        ..Default::default()
    });
    match kind {
        "av-data" => {
            for (media, track, ssrc) in
                [(MediaKind::Audio, "audio", 1000), (MediaKind::Video, "video", 2000)]
            {
                let mut t = TransceiverInit::new(media, Direction::SendRecv);
                t.send = Some(SendParams {
                    stream_ids: vec!["rtcweb".into()],
                    track_id: track.into(),
                    ssrc: Some(ssrc),
                    rtx_ssrc: Some(ssrc + 1),
                    cname: "rtcweb".into(),
                    rids: Vec::new(),
                });
                jsep.add_transceiver(t);
            }
        }
        "data" => {}
        other => return Err(format!("unknown kind {other:?} (av-data or data)")),
    }
    jsep.add_data_channel();
    Ok(jsep)
}

