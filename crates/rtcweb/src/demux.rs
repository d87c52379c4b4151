//! RFC 7983 section 7: telling STUN, DTLS and SRTP apart by the first octet of a datagram.

/// What a datagram on the shared 5-tuple is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Demux {
    /// 0-3: STUN.
    Stun,
    /// 20-63: DTLS.
    Dtls,
    /// 64-79: TURN ChannelData.
    ChannelData,
    /// 128-191: RTP or RTCP (SRTP/SRTCP).
    Rtp,
    /// Anything else: dropped.
    Unknown,
}

/// Classifies a datagram.
pub fn classify(datagram: &[u8]) -> Demux {
    match datagram.first() {
        Some(0..=3) => Demux::Stun,
        Some(20..=63) => Demux::Dtls,
        Some(64..=79) => Demux::ChannelData,
        Some(128..=191) => Demux::Rtp,
        _ => Demux::Unknown,
    }
}

/// Whether an RTP-range packet is RTCP: payload types 192-223 in the second octet
/// (RFC 5761 section 4: SR 200, RR 201, SDES 202, BYE 203, APP 204, RTPFB 205, PSFB 206,
/// XR 207 all fall there, and RTP payload types 64-95 are avoided for this reason).
pub fn is_rtcp(packet: &[u8]) -> bool {
    packet.get(1).is_some_and(|pt| (192..=223).contains(pt))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_follow_rfc_7983() {
        assert_eq!(classify(&[0, 1]), Demux::Stun);
        assert_eq!(classify(&[22, 254, 253]), Demux::Dtls);
        assert_eq!(classify(&[0x40, 0]), Demux::ChannelData);
        assert_eq!(classify(&[0x80, 111]), Demux::Rtp);
        assert_eq!(classify(&[]), Demux::Unknown);
        assert_eq!(classify(&[200]), Demux::Unknown);
        assert!(is_rtcp(&[0x80, 200]));
        assert!(!is_rtcp(&[0x80, 111]));
        assert!(is_rtcp(&[0x81, 206]));
    }
}
