//! Encoded media the examples send: VP8 frames stored one per file.

use std::path::Path;

use crate::Error;

/// The VP8 frames stored one per file in `dir`, in file-name order (e.g. what `gst-launch-1.0
/// ... ! vp8enc ! multifilesink location=DIR/frame-%05d.vp8` writes). The first must be a
/// key frame, so that a receiver can start decoding at once.
pub fn vp8_frames(dir: &Path) -> Result<Vec<Vec<u8>>, Error> {
    let bad = |what: String| Error::BadValue(format!("{}: {what}", dir.display()));
    let mut names: Vec<_> = std::fs::read_dir(dir)
        .map_err(|e| bad(e.to_string()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    names.sort();
    let frames = names
        .iter()
        .map(std::fs::read)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| bad(e.to_string()))?;
    match frames.first() {
        Some(f) if rtcweb::rtp::codec::vp8_is_keyframe(f) => Ok(frames),
        Some(_) => Err(bad("the first frame is not a VP8 key frame".into())),
        None => Err(bad("no frames".into())),
    }
}

/// The payload type an SDP maps to `codec` in its first `a=rtpmap` line for it.
pub fn payload_type(sdp: &str, codec: &str) -> Option<u8> {
    sdp.lines()
        .filter_map(|l| l.strip_prefix("a=rtpmap:"))
        .filter_map(|l| l.split_once(' '))
        .find(|(_, rest)| {
            rest.split('/')
                .next()
                .is_some_and(|name| name.eq_ignore_ascii_case(codec))
        })
        .and_then(|(pt, _)| pt.parse().ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payload_types_by_codec_name() {
        let sdp = "a=rtpmap:96 VP8/90000\r\na=rtpmap:97 rtx/90000\r\na=rtpmap:45 AV1/90000\r\n";
        assert_eq!(payload_type(sdp, "vp8"), Some(96));
        assert_eq!(payload_type(sdp, "AV1"), Some(45));
        assert_eq!(payload_type(sdp, "H264"), None);
    }

    #[test]
    fn frames_need_a_directory_that_starts_with_a_key_frame() {
        let dir = std::env::temp_dir().join(format!("vp8-frames-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        assert!(vp8_frames(&dir).is_err(), "empty");
        // An inter frame (bit 0 of the first byte set) first.
        std::fs::write(dir.join("frame-00001.vp8"), [0x01, 0, 0]).unwrap();
        assert!(vp8_frames(&dir).is_err(), "no key frame first");
        // A key frame: bit 0 clear, start code 9d 01 2a, 320x240.
        let key = [0x10, 0x02, 0x00, 0x9d, 0x01, 0x2a, 0x40, 0x01, 0xf0, 0x00];
        std::fs::write(dir.join("frame-00000.vp8"), key).unwrap();
        let frames = vp8_frames(&dir).unwrap();
        assert_eq!(frames.len(), 2);
        assert_eq!(frames[0], key);
        std::fs::remove_dir_all(&dir).unwrap();
        assert!(vp8_frames(&dir).is_err(), "missing");
    }
}
