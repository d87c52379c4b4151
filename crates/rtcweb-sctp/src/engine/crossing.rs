//! INITs that cross our own (RFC 9260 section 5.2.1), for an association that sent INIT.
//!
//! Either end of a WebRTC association may send INIT, and some choose the initiator by their
//! ICE role rather than the DTLS role (werift does): such a peer sends its own INIT and
//! ignores ours. Section 5.2.1 has an endpoint in COOKIE-WAIT answer an INIT with an INIT
//! ACK that carries its own Initiate Tag, unchanged, so that whichever handshake completes,
//! both ends hold the same pair of tags: one association. rtc-sctp's association does answer
//! so, but its endpoint never hands it such an INIT (it looks an INIT up by the peer's
//! Initiate Tag among its own tags, and an endpoint without a server configuration refuses
//! the rest). The adapter therefore:
//!
//! 1. Routes the INIT: its Initiate Tag is rewritten to ours, so the endpoint finds our
//!    association, which answers it. The peer's INIT is kept.
//! 2. Repairs what the rewrite costs: the association now takes our own tag for the peer's.
//!    Until it learns the real one (from the peer's INIT ACK, or from step 3), packets it
//!    sends with our tag get the peer's, and INIT retransmissions get tag 0 back.
//! 3. When the peer's COOKIE ECHO (its answer to our INIT ACK) finds the association still
//!    in COOKIE-WAIT, an INIT ACK made from the peer's INIT is handed in first, with a state
//!    cookie that is never sent: the association learns the peer's tag and moves to
//!    COOKIE-ECHOED, and the COOKIE ECHO establishes it. Its own COOKIE ECHO carrying that
//!    cookie is dropped on the way out. After this, no packet needs repair.
//!
//! An INIT that arrives once our association has sent COOKIE ECHO is dropped: the peer has
//! then answered our INIT, and our COOKIE ECHO establishes it (section 5.2.4 on its side).
//! Answering would make the association take our tag for the peer's for good.

use bytes::{Bytes, BytesMut};

use super::wire::{
    self, COMMON_HEADER_LEN, CT_COOKIE_ECHO, CT_INIT, CT_INIT_ACK, INIT_FIXED_LEN,
    PARAM_STATE_COOKIE,
};

/// The state cookie of the INIT ACK of step 3. Never leaves the adapter.
const PLACEHOLDER_COOKIE: &[u8; 16] = b"rtcweb crossing ";

/// What to do with a packet from the peer.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Inbound {
    /// Hand it to the engine as it is.
    Pass,
    /// Hand this instead.
    Replace(Bytes),
    /// Hand this first, then the packet.
    Prepend(Bytes),
    /// Drop it.
    Drop,
}

/// The peer's INIT we answered.
#[derive(Debug)]
struct PeerInit {
    tag: u32,
    /// Its ports, as the engine saw them.
    ports: [u8; 4],
    /// The INIT chunk, padding excluded.
    chunk: Vec<u8>,
}

/// What the adapter knows of a handshake it started, from the packets going both ways.
#[derive(Debug, Default)]
pub(crate) struct Crossing {
    /// Our Initiate Tag, from our INIT.
    own_tag: Option<u32>,
    /// The latest INIT of the peer that was routed to the association.
    peer_init: Option<PeerInit>,
    /// The state cookie of our INIT ACK (the association keeps one for all of them).
    our_cookie: Option<Vec<u8>>,
    /// The association sent COOKIE ECHO: it left COOKIE-WAIT and knows the peer's tag.
    cookie_echoed: bool,
}

impl Crossing {
    /// A packet from the peer, ports already the engine's.
    pub(crate) fn inbound(&mut self, packet: &[u8]) -> Inbound {
        let (Some((kind, chunk)), Some(vtag)) =
            (wire::first_chunk(packet), wire::verification_tag(packet))
        else {
            return Inbound::Pass;
        };
        match kind {
            CT_INIT => self.route_init(packet, chunk, vtag),
            CT_COOKIE_ECHO if !self.cookie_echoed && Some(vtag) == self.own_tag => {
                match (&self.peer_init, &self.our_cookie, self.own_tag) {
                    (Some(init), Some(cookie), Some(own)) if chunk.get(4..) == Some(cookie) => {
                        init_ack_from(init, own).map_or(Inbound::Pass, Inbound::Prepend)
                    }
                    _ => Inbound::Pass,
                }
            }
            _ => Inbound::Pass,
        }
    }

    fn route_init(&mut self, packet: &[u8], chunk: &[u8], vtag: u32) -> Inbound {
        // A well-formed INIT: tag 0, alone in its packet (RFC 9260 sections 3.3.2 and 8.5.1),
        // its fixed fields present and a non-zero Initiate Tag.
        let alone = packet.len() - COMMON_HEADER_LEN <= (chunk.len() + 3) & !3;
        let peer_tag = chunk
            .get(4..8)
            .map(|t| u32::from_be_bytes([t[0], t[1], t[2], t[3]]));
        let (Some(own), Some(peer_tag), Some(ports)) = (self.own_tag, peer_tag, packet.get(..4))
        else {
            return Inbound::Drop;
        };
        if vtag != 0 || !alone || chunk.len() < INIT_FIXED_LEN || peer_tag == 0 {
            return Inbound::Drop;
        }
        if self.cookie_echoed {
            tracing::debug!("INIT after our COOKIE ECHO: the peer is answering ours; dropped");
            return Inbound::Drop;
        }
        let mut ports_copy = [0; 4];
        ports_copy.copy_from_slice(ports);
        self.peer_init = Some(PeerInit {
            tag: peer_tag,
            ports: ports_copy,
            chunk: chunk.to_vec(),
        });
        let mut routed = BytesMut::from(packet);
        routed[COMMON_HEADER_LEN + 4..COMMON_HEADER_LEN + 8].copy_from_slice(&own.to_be_bytes());
        wire::set_checksum(&mut routed);
        tracing::debug!(peer_tag, "INIT crossed ours; answering it with our tag");
        Inbound::Replace(routed.freeze())
    }

    /// A packet the association sends; `None` when it must not go out.
    pub(crate) fn outbound(&mut self, packet: Bytes) -> Option<Bytes> {
        let (Some((kind, chunk)), Some(vtag)) =
            (wire::first_chunk(&packet), wire::verification_tag(&packet))
        else {
            return Some(packet);
        };
        let mut tag = None;
        match kind {
            CT_INIT => {
                if self.own_tag.is_none() {
                    self.own_tag = chunk
                        .get(4..8)
                        .map(|t| u32::from_be_bytes([t[0], t[1], t[2], t[3]]));
                }
                if vtag != 0 {
                    tag = Some(0);
                }
            }
            CT_COOKIE_ECHO => {
                self.cookie_echoed = true;
                if chunk.get(4..) == Some(&PLACEHOLDER_COOKIE[..]) {
                    return None;
                }
            }
            CT_INIT_ACK if self.our_cookie.is_none() => {
                self.our_cookie = wire::init_param(chunk, PARAM_STATE_COOKIE).map(<[u8]>::to_vec);
            }
            _ => {}
        }
        if kind != CT_INIT
            && let (Some(own), Some(init)) = (self.own_tag, &self.peer_init)
            && vtag == own
        {
            tag = Some(init.tag);
        }
        match tag {
            Some(t) if t != vtag => {
                let mut b = BytesMut::from(&packet[..]);
                wire::set_verification_tag(&mut b, t);
                Some(b.freeze())
            }
            _ => Some(packet),
        }
    }
}

/// The peer's INIT turned into the INIT ACK the association would have had from the peer:
/// same fields and parameters, addressed with our tag, with the placeholder cookie.
fn init_ack_from(init: &PeerInit, own: u32) -> Option<Bytes> {
    let mut chunk = init.chunk.clone();
    chunk.resize((chunk.len() + 3) & !3, 0);
    chunk.extend_from_slice(&PARAM_STATE_COOKIE.to_be_bytes());
    chunk.extend_from_slice(
        &u16::try_from(4 + PLACEHOLDER_COOKIE.len())
            .ok()?
            .to_be_bytes(),
    );
    chunk.extend_from_slice(PLACEHOLDER_COOKIE);
    let len = u16::try_from(chunk.len()).ok()?;
    let header = chunk.get_mut(..4)?;
    header[0] = CT_INIT_ACK;
    header[1] = 0;
    header[2..4].copy_from_slice(&len.to_be_bytes());
    let mut packet = BytesMut::with_capacity(COMMON_HEADER_LEN + chunk.len());
    packet.extend_from_slice(&init.ports);
    packet.extend_from_slice(&own.to_be_bytes());
    packet.extend_from_slice(&[0; 4]);
    packet.extend_from_slice(&chunk);
    wire::set_checksum(&mut packet);
    Some(packet.freeze())
}

#[cfg(test)]
mod tests {
    use super::*;

    const OWN: u32 = 0x0a0b_0c0d;
    const PEER: u32 = 0x1122_3344;

    fn packet(vtag: u32, chunk: &[u8]) -> Bytes {
        let mut p = vec![0x13, 0x88, 0x13, 0x88];
        p.extend_from_slice(&vtag.to_be_bytes());
        p.extend_from_slice(&[0; 4]);
        p.extend_from_slice(chunk);
        wire::set_checksum(&mut p);
        Bytes::from(p)
    }

    /// INIT (or INIT ACK) with the given tag, 1 MiB window, 1024 streams, TSN 7, plus params.
    fn init_chunk(kind: u8, tag: u32, params: &[u8]) -> Vec<u8> {
        let mut c = vec![kind, 0, 0, 0];
        c.extend_from_slice(&tag.to_be_bytes());
        c.extend_from_slice(&(1u32 << 20).to_be_bytes());
        c.extend_from_slice(&[4, 0, 4, 0, 0, 0, 0, 7]);
        c.extend_from_slice(params);
        let len = c.len() as u16;
        c[2..4].copy_from_slice(&len.to_be_bytes());
        c
    }

    fn started() -> Crossing {
        let mut c = Crossing::default();
        let ours = packet(0, &init_chunk(CT_INIT, OWN, &[]));
        assert_eq!(c.outbound(ours.clone()), Some(ours));
        c
    }

    #[test]
    fn a_crossing_init_is_routed_with_our_tag_and_the_answer_gets_the_peer_tag() {
        let mut c = started();
        // A 2-byte parameter (padded on the wire) to check the padding of the INIT ACK.
        let peer_init = packet(
            0,
            &init_chunk(CT_INIT, PEER, &[0x80, 0x08, 0, 6, 0x82, 0xc0]),
        );
        let Inbound::Replace(routed) = c.inbound(&peer_init) else {
            panic!("not routed");
        };
        assert!(wire::checksum_ok(&routed));
        assert_eq!(&routed[16..20], &OWN.to_be_bytes());
        assert_eq!(wire::verification_tag(&routed), Some(0));
        // The association answers with our tag as the peer's: the answer gets the real one.
        let cookie = [0x5a; 32];
        let mut param = vec![0, 7, 0, 36];
        param.extend_from_slice(&cookie);
        let answer = c
            .outbound(packet(OWN, &init_chunk(CT_INIT_ACK, OWN, &param)))
            .unwrap();
        assert_eq!(wire::verification_tag(&answer), Some(PEER));
        assert!(wire::checksum_ok(&answer));
        // Our INIT, retransmitted with the wrong tag, goes out with tag 0.
        let again = c
            .outbound(packet(OWN, &init_chunk(CT_INIT, OWN, &[])))
            .unwrap();
        assert_eq!(wire::verification_tag(&again), Some(0));
        // The peer's COOKIE ECHO with our cookie: an INIT ACK made from its INIT goes first.
        let mut echo = vec![CT_COOKIE_ECHO, 0, 0, 36];
        echo.extend_from_slice(&cookie);
        let Inbound::Prepend(ack) = c.inbound(&packet(OWN, &echo)) else {
            panic!("no INIT ACK made");
        };
        assert!(wire::checksum_ok(&ack));
        assert_eq!(wire::verification_tag(&ack), Some(OWN));
        let (kind, chunk) = wire::first_chunk(&ack).unwrap();
        assert_eq!(kind, CT_INIT_ACK);
        assert_eq!(&chunk[4..8], &PEER.to_be_bytes());
        assert_eq!(chunk.len(), 20 + 8 + 20);
        assert_eq!(
            wire::init_param(chunk, PARAM_STATE_COOKIE),
            Some(&PLACEHOLDER_COOKIE[..])
        );
        // The association's COOKIE ECHO with that cookie never leaves.
        let mut ours = vec![CT_COOKIE_ECHO, 0, 0, 20];
        ours.extend_from_slice(PLACEHOLDER_COOKIE);
        assert_eq!(c.outbound(packet(PEER, &ours)), None);
        // Now in COOKIE-ECHOED: a retransmitted INIT is dropped.
        assert_eq!(c.inbound(&peer_init), Inbound::Drop);
    }

    #[test]
    fn a_cookie_echo_with_another_cookie_is_left_alone() {
        let mut c = started();
        let peer_init = packet(0, &init_chunk(CT_INIT, PEER, &[]));
        assert!(matches!(c.inbound(&peer_init), Inbound::Replace(_)));
        let mut param = vec![0, 7, 0, 8];
        param.extend_from_slice(&[1, 2, 3, 4]);
        c.outbound(packet(OWN, &init_chunk(CT_INIT_ACK, OWN, &param)));
        let echo = [CT_COOKIE_ECHO, 0, 0, 8, 9, 9, 9, 9];
        assert_eq!(c.inbound(&packet(OWN, &echo)), Inbound::Pass);
    }

    #[test]
    fn malformed_or_bundled_inits_are_dropped() {
        let mut c = started();
        let good = init_chunk(CT_INIT, PEER, &[]);
        assert_eq!(c.inbound(&packet(7, &good)), Inbound::Drop, "non-zero tag");
        let mut bundled = good.clone();
        bundled.extend_from_slice(&[CT_COOKIE_ECHO, 0, 0, 4]);
        assert_eq!(c.inbound(&packet(0, &bundled)), Inbound::Drop, "bundled");
        assert_eq!(
            c.inbound(&packet(0, &init_chunk(CT_INIT, 0, &[]))),
            Inbound::Drop,
            "zero Initiate Tag"
        );
        assert_eq!(
            c.inbound(&packet(0, &[CT_INIT, 0, 0, 8, 1, 2, 3, 4])),
            Inbound::Drop,
            "short"
        );
        // Before our own INIT went out there is no tag to route with.
        assert_eq!(
            Crossing::default().inbound(&packet(0, &good)),
            Inbound::Drop
        );
    }

    #[test]
    fn after_our_cookie_echo_inits_are_dropped_and_nothing_is_rewritten() {
        let mut c = started();
        let echo = packet(PEER, &[CT_COOKIE_ECHO, 0, 0, 8, 1, 2, 3, 4]);
        assert_eq!(c.outbound(echo.clone()), Some(echo));
        assert_eq!(
            c.inbound(&packet(0, &init_chunk(CT_INIT, PEER, &[]))),
            Inbound::Drop
        );
        let data = packet(
            PEER,
            &[0, 3, 0, 17, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 51, 0x41],
        );
        assert_eq!(c.outbound(data.clone()), Some(data));
    }
}
