//! The few RTP/RTCP header fields SRTP needs (RFC 3550 section 5.1 and 6.4): just enough to
//! find the SSRC, the sequence number and where the encrypted portion starts. Full codecs live
//! in `rtcweb-rtp`.

use crate::Error;

/// Fixed RTP header length.
pub(crate) const RTP_FIXED_LEN: usize = 12;
/// RTCP header plus sender SSRC: the part SRTCP leaves unencrypted.
pub(crate) const RTCP_PREFIX_LEN: usize = 8;

/// What SRTP reads from an RTP header.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RtpHeader {
    pub(crate) ssrc: u32,
    pub(crate) seq: u16,
    /// Octets up to the payload: fixed header, CSRCs and header extension.
    pub(crate) len: usize,
}

/// Parses the RTP header at the start of `packet` (the first `len` octets of it are data).
pub(crate) fn parse_rtp(packet: &[u8]) -> Result<RtpHeader, Error> {
    let fixed: &[u8; RTP_FIXED_LEN] = packet
        .get(..RTP_FIXED_LEN)
        .and_then(|h| h.try_into().ok())
        .ok_or(Error::Truncated)?;
    if fixed[0] >> 6 != 2 {
        return Err(Error::BadVersion);
    }
    let mut len = RTP_FIXED_LEN + 4 * usize::from(fixed[0] & 0x0f);
    if fixed[0] & 0x10 != 0 {
        let ext = packet.get(len..len + 4).ok_or(Error::Truncated)?;
        len += 4 + 4 * usize::from(u16::from_be_bytes([ext[2], ext[3]]));
    }
    if len > packet.len() {
        return Err(Error::Truncated);
    }
    Ok(RtpHeader {
        ssrc: u32::from_be_bytes([fixed[8], fixed[9], fixed[10], fixed[11]]),
        seq: u16::from_be_bytes([fixed[2], fixed[3]]),
        len,
    })
}

/// Returns the sender SSRC of the RTCP packet at the start of `packet`. The compound packet is
/// otherwise opaque to SRTCP: its length fields are not checked (RFC 7714's own vector has an
/// inconsistent one).
pub(crate) fn parse_rtcp_ssrc(packet: &[u8]) -> Result<u32, Error> {
    let prefix: &[u8; RTCP_PREFIX_LEN] = packet
        .get(..RTCP_PREFIX_LEN)
        .and_then(|h| h.try_into().ok())
        .ok_or(Error::Truncated)?;
    if prefix[0] >> 6 != 2 {
        return Err(Error::BadVersion);
    }
    Ok(u32::from_be_bytes([
        prefix[4], prefix[5], prefix[6], prefix[7],
    ]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csrc_and_extension_lengths() {
        let mut p = vec![0x80u8, 0, 0, 1, 0, 0, 0, 0, 0xca, 0xfe, 0xba, 0xbe, 9, 9];
        assert_eq!(parse_rtp(&p).unwrap().len, 12);
        p[0] = 0x81; // one CSRC, but only two octets follow
        assert_eq!(parse_rtp(&p).unwrap_err(), Error::Truncated);
        p.extend_from_slice(&[1, 2]);
        assert_eq!(parse_rtp(&p).unwrap().len, 16);
        p[0] = 0x91; // plus an extension header: needs 4 more octets
        assert_eq!(parse_rtp(&p).unwrap_err(), Error::Truncated);
        p.extend_from_slice(&[0xbe, 0xde, 0, 1]);
        assert_eq!(parse_rtp(&p).unwrap_err(), Error::Truncated);
        p.extend_from_slice(&[1, 2, 3, 4]);
        let h = parse_rtp(&p).unwrap();
        assert_eq!((h.len, h.ssrc, h.seq), (24, 0xcafe_babe, 1));
        p[0] = 0x40;
        assert_eq!(parse_rtp(&p).unwrap_err(), Error::BadVersion);
    }
}
