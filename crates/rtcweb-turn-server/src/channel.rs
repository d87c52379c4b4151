//! ChannelData as the server reads and writes it. RFC 8656 narrowed channel numbers to
//! 0x4000-0x4FFF, but RFC 5766 clients (coturn's `turnutils_uclient` among them) still pick
//! numbers up to 0x7FFF, so the server accepts the wider range unless told to be strict
//! ([`crate::ServerConfig::rfc5766_channel_numbers`]). `rtcweb_stun::channel_data` keeps the
//! strict range for our own client.

use rtcweb_stun::padded;

/// Whether `n` may be bound: 0x4000-0x4FFF, or 0x4000-0x7FFF with the RFC 5766 range.
pub(crate) fn valid(n: u16, rfc5766: bool) -> bool {
    let max = if rfc5766 { 0x7FFF } else { 0x4FFF };
    (0x4000..=max).contains(&n)
}

/// The channel number and data of a ChannelData message; up to three octets of padding may
/// follow (mandatory on streams, optional on UDP).
pub(crate) fn parse(b: &[u8]) -> Option<(u16, &[u8])> {
    let (n, len, rest) = match b {
        [n0, n1, l0, l1, rest @ ..] => (
            u16::from_be_bytes([*n0, *n1]),
            usize::from(u16::from_be_bytes([*l0, *l1])),
            rest,
        ),
        _ => return None,
    };
    if rest.len() < len || rest.len() > padded(len) {
        return None;
    }
    Some((n, rest.get(..len)?))
}

/// A ChannelData message for `data` on channel `n`, padded when `pad`.
pub(crate) fn encode(n: u16, data: &[u8], pad: bool) -> Option<Vec<u8>> {
    let len = u16::try_from(data.len()).ok()?;
    let total = if pad {
        4 + padded(data.len())
    } else {
        4 + data.len()
    };
    let mut out = Vec::with_capacity(total);
    out.extend_from_slice(&n.to_be_bytes());
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(data);
    out.resize(total, 0);
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_encode() {
        let m = encode(0x7001, b"abcde", true).unwrap();
        assert_eq!(m.len(), 12);
        assert_eq!(parse(&m), Some((0x7001, &b"abcde"[..])));
        assert_eq!(parse(&m[..9]), Some((0x7001, &b"abcde"[..])));
        assert_eq!(parse(&m[..8]), None);
        assert_eq!(
            parse(&[0x40, 0, 0, 1, 1, 0, 0, 0, 0]),
            None,
            "too much padding"
        );
        assert!(valid(0x7FFF, true) && !valid(0x7FFF, false) && valid(0x4FFF, false));
        assert!(!valid(0x3FFF, true) && !valid(0x8000, true));
    }
}
