//! Writing offers (RFC 8829 section 5.2) and answers (section 5.3).

use super::{Jsep, MLine, Owner, Transceiver};
use crate::codec::{codecs_match, negotiate, negotiate_extmaps, rtx_apt};
use crate::jsep::types::{BundlePolicy, IceCredentials};
use crate::sdp::{
    Codec, Connection, Direction, ExtMap, Group, MediaKind, MediaSection, Msid, Rid, RidDirection,
    SessionDescription, Setup, Simulcast, SimulcastStream, SsrcAttribute, SsrcGroup,
};

const RTP_PROTO: &str = "UDP/TLS/RTP/SAVPF";
const DATA_PROTO: &str = "UDP/DTLS/SCTP";
const DATA_FORMAT: &str = "webrtc-datachannel";

impl Jsep {
    /// The m= structure of the next offer: existing sections in place, new transceivers and
    /// the data section in recycled (rejected) sections or appended.
    pub(super) fn plan_offer(&self, next_mid: &mut u32) -> Vec<MLine> {
        let mut mlines = self.mlines.clone();
        let recycle = |mlines: &mut Vec<MLine>, ml: MLine| match mlines
            .iter()
            .position(|m| m.rejected && m.owner == Owner::Nobody)
        {
            Some(i) => {
                if let Some(slot) = mlines.get_mut(i) {
                    *slot = ml;
                }
            }
            None => mlines.push(ml),
        };
        for t in &self.transceivers {
            if t.mline.is_some() || t.stopped || t.stopping {
                continue;
            }
            let mid = self.new_mid(next_mid, &mlines);
            let ml = MLine {
                mid: Some(mid),
                kind: t.kind.clone(),
                proto: RTP_PROTO.into(),
                formats: Vec::new(),
                owner: Owner::Transceiver(t.id),
                rejected: false,
            };
            recycle(&mut mlines, ml);
        }
        if self.data_wanted && !mlines.iter().any(|m| m.owner == Owner::Data) {
            let mid = self.new_mid(next_mid, &mlines);
            let ml = MLine {
                mid: Some(mid),
                kind: MediaKind::Application,
                proto: DATA_PROTO.into(),
                formats: vec![DATA_FORMAT.into()],
                owner: Owner::Data,
                rejected: false,
            };
            recycle(&mut mlines, ml);
        }
        mlines
    }

    fn session(&self) -> SessionDescription {
        let mut sd = SessionDescription::new(self.session_id, self.session_version);
        sd.extmap_allow_mixed = self.config.extmap_allow_mixed;
        sd.ice.lite = self.config.ice_lite;
        sd
    }

    fn transport_attrs(&self, m: &mut MediaSection, ice: &IceCredentials, setup: Setup) {
        m.connection = Some(Connection::unspecified());
        m.ice.ufrag = Some(ice.ufrag.clone());
        m.ice.pwd = Some(ice.pwd.clone());
        m.ice.options = self.config.ice_options.clone();
        m.fingerprints = self.config.fingerprints.clone();
        m.setup = Some(setup);
    }

    pub(super) fn build_offer(&self, mlines: &[MLine], ice: &IceCredentials) -> SessionDescription {
        let mut sd = self.session();
        let ext_ids = self.session_extmap_ids(mlines);
        for (i, ml) in mlines.iter().enumerate() {
            let active = match ml.owner {
                Owner::Transceiver(id) => self
                    .transceiver(id)
                    .filter(|t| !t.stopped && !t.stopping)
                    .map(|t| self.offer_rtp_section(t, i, ml, ice, &ext_ids)),
                // Ours, or the peer's that we accepted: an answerer keeps it in its own
                // offers as browsers do.
                Owner::Data => Some(self.data_section(ml, ice, Setup::ActPass, None, None)),
                _ => None,
            };
            sd.media
                .push(active.unwrap_or_else(|| rejected_section(ml)));
        }
        let mids: Vec<String> = sd
            .media
            .iter()
            .filter(|m| !m.is_rejected())
            .filter_map(|m| m.mid.clone())
            .collect();
        if !mids.is_empty() {
            sd.groups.push(Group {
                semantics: "BUNDLE".into(),
                mids,
            });
        }
        unique_payload_types(&mut sd.media);
        self.put_candidates(&mut sd);
        sd
    }

    fn put_candidates(&self, sd: &mut SessionDescription) {
        if let Some(m) = sd.media.iter_mut().find(|m| !m.is_rejected()) {
            m.candidates = self.local_candidates.clone();
            m.end_of_candidates = self.local_end_of_candidates;
        }
    }

    fn offer_rtp_section(
        &self,
        t: &Transceiver,
        index: usize,
        ml: &MLine,
        ice: &IceCredentials,
        ext_ids: &[ExtMap],
    ) -> MediaSection {
        let negotiated = self
            .negotiated
            .as_ref()
            .and_then(|n| n.media.get(index))
            .filter(|nm| nm.transceiver == Some(t.id) && !nm.rejected);
        let codecs = match negotiated {
            Some(nm) => remap_codecs(&t.codecs, &nm.codecs),
            None => t.codecs.clone(),
        };
        let extmaps: Vec<ExtMap> = t
            .header_extensions
            .iter()
            .filter_map(|uri| ext_ids.iter().find(|e| e.uri == *uri).cloned())
            .collect();
        let mut m = MediaSection::new(t.kind.clone(), 9, RTP_PROTO);
        self.transport_attrs(&mut m, ice, Setup::ActPass);
        m.mid = ml.mid.clone();
        m.extmaps = extmaps;
        m.direction = Some(t.direction);
        m.formats = codecs.iter().map(|c| c.payload_type.to_string()).collect();
        m.codecs = codecs;
        self.sender_attrs(&mut m, t, t.direction);
        if t.direction.sends()
            && let Some(send) = t.send.as_ref().filter(|s| !s.rids.is_empty())
        {
            m.rids = send
                .rids
                .iter()
                .map(|r| Rid {
                    id: r.clone(),
                    direction: RidDirection::Send,
                    restrictions: None,
                })
                .collect();
            m.simulcast = Some(Simulcast {
                send: send
                    .rids
                    .iter()
                    .map(|r| {
                        vec![SimulcastStream {
                            rid: r.clone(),
                            paused: false,
                        }]
                    })
                    .collect(),
                recv: Vec::new(),
            });
        }
        m.rtcp_mux = true;
        m.rtcp_rsize = true;
        m
    }

    fn sender_attrs(&self, m: &mut MediaSection, t: &Transceiver, direction: Direction) {
        let Some(send) = t.send.as_ref().filter(|_| direction.sends()) else {
            return;
        };
        let streams: Vec<String> = if send.stream_ids.is_empty() {
            vec!["-".into()]
        } else {
            send.stream_ids.clone()
        };
        m.msid = streams
            .iter()
            .map(|s| Msid {
                stream_id: s.clone(),
                track_id: Some(send.track_id.clone()),
            })
            .collect();
        if !send.rids.is_empty() {
            return;
        }
        let Some(ssrc) = send.ssrc else { return };
        let mut ssrcs = vec![ssrc];
        // An RTX SSRC only where RTX was negotiated (Chromium refuses an FID group otherwise).
        let has_rtx = m.codecs.iter().any(|c| c.name.eq_ignore_ascii_case("rtx"));
        if let Some(rtx) = send.rtx_ssrc.filter(|_| has_rtx) {
            ssrcs.push(rtx);
            m.ssrc_groups.push(SsrcGroup {
                semantics: "FID".into(),
                ssrcs: ssrcs.clone(),
            });
        }
        for s in ssrcs {
            m.ssrcs.push(SsrcAttribute {
                ssrc: s,
                attribute: "cname".into(),
                value: Some(send.cname.clone()),
            });
            let first = streams.first().cloned().unwrap_or_else(|| "-".into());
            m.ssrcs.push(SsrcAttribute {
                ssrc: s,
                attribute: "msid".into(),
                value: Some(format!("{first} {}", send.track_id)),
            });
        }
    }

    fn data_section(
        &self,
        ml: &MLine,
        ice: &IceCredentials,
        setup: Setup,
        proto: Option<&str>,
        formats: Option<&[String]>,
    ) -> MediaSection {
        let mut m = MediaSection::new(MediaKind::Application, 9, proto.unwrap_or(DATA_PROTO));
        m.formats = formats
            .map(<[String]>::to_vec)
            .unwrap_or_else(|| vec![DATA_FORMAT.into()]);
        self.transport_attrs(&mut m, ice, setup);
        m.mid = ml.mid.clone();
        m.sctp_port = Some(self.config.data.sctp_port);
        m.max_message_size = Some(self.config.data.max_message_size);
        m
    }

    pub(super) fn build_answer(
        &self,
        offer: &SessionDescription,
        ice: &IceCredentials,
    ) -> SessionDescription {
        let mut sd = self.session();
        sd.extmap_allow_mixed = self.config.extmap_allow_mixed && offer.extmap_allow_mixed;
        let offer_bundles = offer.groups.iter().any(|g| g.semantics == "BUNDLE");
        let mut first_accepted: Option<usize> = None;
        // An answer to a subsequent offer keeps the DTLS role of the association in place
        // (RFC 8842 section 5.5): browsers refuse an answer that would swap it.
        let current_role = self
            .negotiated
            .as_ref()
            .and_then(|n| n.media.iter().find(|m| !m.rejected))
            .map(|m| m.dtls_role);
        for (i, om) in offer.media.iter().enumerate() {
            let ml = self.mlines.get(i);
            let only_first = self.config.bundle_policy == BundlePolicy::MaxBundle
                && !offer_bundles
                && first_accepted.is_some();
            let setup = match (offer.setup_of(i), current_role) {
                (Some(Setup::Active), _) => Setup::Passive,
                (Some(Setup::Passive), _) => Setup::Active,
                // A renegotiation keeps the role the first answer gave.
                (_, Some(role)) => role.into(),
                _ => self.config.answer_setup,
            };
            let section = match ml.map(|m| m.owner) {
                _ if om.is_rejected() || only_first => None,
                Some(Owner::Transceiver(id)) => self
                    .transceiver(id)
                    .filter(|t| !t.stopped && !t.stopping && om.rtcp_mux)
                    .and_then(|t| self.answer_rtp_section(t, offer, i, ice, setup)),
                Some(Owner::Data) => ml.map(|ml| {
                    self.data_section(ml, ice, setup, Some(&om.proto), Some(&om.formats))
                }),
                _ => None,
            };
            let section = section.unwrap_or_else(|| {
                let mut r = MediaSection::new(om.kind.clone(), 0, &om.proto);
                r.formats = om.formats.clone();
                r.mid = om.mid.clone();
                r
            });
            if !section.is_rejected() && first_accepted.is_none() {
                first_accepted = Some(i);
            }
            sd.media.push(section);
        }
        for g in offer.groups.iter().filter(|g| g.semantics == "BUNDLE") {
            let mids: Vec<String> = g
                .mids
                .iter()
                .filter(|mid| {
                    sd.media
                        .iter()
                        .any(|m| m.mid.as_ref() == Some(*mid) && !m.is_rejected())
                })
                .cloned()
                .collect();
            if !mids.is_empty() {
                sd.groups.push(Group {
                    semantics: "BUNDLE".into(),
                    mids,
                });
            }
        }
        self.put_candidates(&mut sd);
        sd
    }

    fn answer_rtp_section(
        &self,
        t: &Transceiver,
        offer: &SessionDescription,
        index: usize,
        ice: &IceCredentials,
        setup: Setup,
    ) -> Option<MediaSection> {
        let om = offer.media.get(index)?;
        let codecs = negotiate(&t.codecs, &om.codecs);
        if !codecs.iter().any(|c| !c.is_resilience()) {
            return None;
        }
        let offered_ext: Vec<ExtMap> = om
            .extmaps
            .iter()
            .chain(offer.extmaps.iter())
            .cloned()
            .collect();
        let direction = t.direction.intersect(om.direction_or_default().reverse());
        let mut m = MediaSection::new(t.kind.clone(), 9, &om.proto);
        self.transport_attrs(&mut m, ice, setup);
        m.mid = om.mid.clone();
        m.extmaps = negotiate_extmaps(&t.header_extensions, &offered_ext);
        m.extmap_allow_mixed = om.extmap_allow_mixed && self.config.extmap_allow_mixed;
        m.direction = Some(direction);
        m.formats = codecs.iter().map(|c| c.payload_type.to_string()).collect();
        m.codecs = codecs;
        self.sender_attrs(&mut m, t, direction);
        // The peer's simulcast send list is what we receive.
        if let Some(sim) = om.simulcast.as_ref().filter(|s| !s.send.is_empty())
            && direction.receives()
        {
            m.simulcast = Some(Simulcast {
                send: Vec::new(),
                recv: sim.send.clone(),
            });
            m.rids = om
                .rids
                .iter()
                .filter(|r| r.direction == RidDirection::Send)
                .map(|r| Rid {
                    id: r.id.clone(),
                    direction: RidDirection::Recv,
                    restrictions: None,
                })
                .collect();
        }
        m.rtcp_mux = true;
        m.rtcp_rsize = om.rtcp_rsize;
        Some(m)
    }
}

fn rejected_section(ml: &MLine) -> MediaSection {
    let mut m = MediaSection::new(ml.kind.clone(), 0, &ml.proto);
    m.formats = if !ml.formats.is_empty() {
        ml.formats.clone()
    } else if ml.kind == MediaKind::Application {
        vec![DATA_FORMAT.into()]
    } else {
        vec!["0".into()]
    };
    m.connection = Some(Connection::unspecified());
    m.mid = ml.mid.clone();
    if ml.kind.is_rtp() {
        m.direction = Some(Direction::Inactive);
    }
    m
}

/// Our codec list for a re-offer: negotiated payload types kept for the codecs already agreed
/// (JSEP 5.2.2), our own for the rest, dropping any that would collide.
fn remap_codecs(local: &[Codec], negotiated: &[Codec]) -> Vec<Codec> {
    let mut out: Vec<Codec> = Vec::new();
    let mut map: Vec<(u8, u8)> = Vec::new();
    for l in local.iter().filter(|c| !c.is_resilience()) {
        let pt = negotiated
            .iter()
            .find(|n| !n.is_resilience() && codecs_match(l, n))
            .map_or(l.payload_type, |n| n.payload_type);
        map.push((l.payload_type, pt));
    }
    let mapped = |pt: u8| map.iter().find(|(from, _)| *from == pt).map(|(_, to)| *to);
    for l in local {
        let mut c = l.clone();
        if l.name.eq_ignore_ascii_case("rtx") {
            let Some(apt) = rtx_apt(l).and_then(mapped) else {
                continue;
            };
            c.fmtp = Some(format!("apt={apt}"));
            c.payload_type = negotiated
                .iter()
                .find(|n| n.name.eq_ignore_ascii_case("rtx") && rtx_apt(n) == Some(apt))
                .map_or(l.payload_type, |n| n.payload_type);
        } else if l.name.eq_ignore_ascii_case("red") && l.clock_rate == 48000 {
            if let Some(f) = &l.fmtp {
                let pts: Option<Vec<String>> = f
                    .split('/')
                    .map(|p| {
                        p.trim()
                            .parse()
                            .ok()
                            .and_then(mapped)
                            .map(|p| p.to_string())
                    })
                    .collect();
                c.fmtp = pts.map(|p| p.join("/"));
            }
            c.payload_type = negotiated
                .iter()
                .find(|n| codecs_match(l, n))
                .map_or(l.payload_type, |n| n.payload_type);
        } else if l.is_resilience() {
            c.payload_type = negotiated
                .iter()
                .find(|n| codecs_match(l, n))
                .map_or(l.payload_type, |n| n.payload_type);
        } else if let Some(pt) = mapped(l.payload_type) {
            c.payload_type = pt;
        }
        if !out.iter().any(|o| o.payload_type == c.payload_type) {
            out.push(c);
        }
    }
    out
}

/// One id per header extension URI for the whole offer: a BUNDLE group shares one RTP
/// session, so an id must mean the same URI in every m= section (RFC 8843 section 9.2).
/// Negotiated ids are kept; new URIs get the lowest free id (1-14 fit the one-byte form).
fn assign_extmap_ids(negotiated: &[ExtMap], uris: &[&String]) -> Vec<ExtMap> {
    let mut out: Vec<ExtMap> = Vec::new();
    for e in negotiated {
        if !out.iter().any(|o| o.uri == e.uri || o.id == e.id) {
            out.push(ExtMap {
                id: e.id,
                direction: None,
                uri: e.uri.clone(),
                attributes: None,
            });
        }
    }
    let mut next = 1u16;
    for uri in uris {
        if out.iter().any(|o| o.uri == **uri) {
            continue;
        }
        while out.iter().any(|o| o.id == next) {
            next += 1;
        }
        out.push(ExtMap {
            id: next,
            direction: None,
            uri: (*uri).clone(),
            attributes: None,
        });
    }
    out
}

impl Jsep {
    fn session_extmap_ids(&self, mlines: &[MLine]) -> Vec<ExtMap> {
        let negotiated: Vec<ExtMap> = self
            .negotiated
            .iter()
            .flat_map(|n| n.media.iter().filter(|m| !m.rejected))
            .flat_map(|m| m.extmaps.iter().cloned())
            .collect();
        let uris: Vec<&String> = mlines
            .iter()
            .filter_map(|ml| match ml.owner {
                Owner::Transceiver(id) => self.transceiver(id),
                _ => None,
            })
            .flat_map(|t| t.header_extensions.iter())
            .collect();
        assign_extmap_ids(&negotiated, &uris)
    }
}

/// A BUNDLE group is one RTP session: a payload type must mean the same format in every m=
/// section (RFC 8843 section 9.1; Chromium refuses the offer otherwise). Later sections get
/// a free payload type for a colliding codec, with RTX apt and RED lists following.
fn unique_payload_types(media: &mut [MediaSection]) {
    type Key = (String, u32, Option<u16>, Option<String>);
    let key = |c: &Codec| {
        (
            c.name.to_ascii_lowercase(),
            c.clock_rate,
            c.channels,
            c.fmtp.clone(),
        )
    };
    let mut table: Vec<(u8, Key)> = Vec::new();
    for m in media
        .iter_mut()
        .filter(|m| !m.is_rejected() && m.kind.is_rtp())
    {
        let mut moved: Vec<(u8, u8)> = Vec::new();
        for i in 0..m.codecs.len() {
            let Some(c) = m.codecs.get(i) else { continue };
            let clash = table
                .iter()
                .any(|(pt, k)| *pt == c.payload_type && *k != key(c));
            if !clash {
                continue;
            }
            let taken = |pt: u8| {
                table.iter().any(|(p, _)| *p == pt) || m.codecs.iter().any(|c| c.payload_type == pt)
            };
            let Some(free) = (96..=127u8).chain(35..=63).find(|pt| !taken(*pt)) else {
                continue;
            };
            if let Some(c) = m.codecs.get_mut(i) {
                moved.push((c.payload_type, free));
                c.payload_type = free;
            }
        }
        let new_pt = |pt: u8| {
            moved
                .iter()
                .find(|(from, _)| *from == pt)
                .map_or(pt, |(_, to)| *to)
        };
        for c in &mut m.codecs {
            if c.name.eq_ignore_ascii_case("rtx") {
                if let Some(apt) = rtx_apt(c) {
                    c.fmtp = Some(format!("apt={}", new_pt(apt)));
                }
            } else if c.name.eq_ignore_ascii_case("red")
                && let Some(f) = c.fmtp.clone()
            {
                let parts: Option<Vec<String>> = f
                    .split('/')
                    .map(|p| p.trim().parse::<u8>().ok().map(|pt| new_pt(pt).to_string()))
                    .collect();
                if let Some(parts) = parts {
                    c.fmtp = Some(parts.join("/"));
                }
            }
        }
        m.formats = m
            .codecs
            .iter()
            .map(|c| c.payload_type.to_string())
            .collect();
        for c in &m.codecs {
            if !table.iter().any(|(pt, _)| *pt == c.payload_type) {
                table.push((c.payload_type, key(c)));
            }
        }
    }
}
