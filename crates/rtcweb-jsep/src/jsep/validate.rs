//! Checks on remote descriptions, and how a remote offer's m= sections find transceivers.

use super::{Jsep, MLine, Owner, Transceiver, TransceiverId};
use crate::error::Mismatch;
use crate::jsep::types::JsepEvent;
use crate::sdp::{Direction, SessionDescription, Setup};
use crate::{Error, Result};

fn invalid(msg: String) -> Error {
    Error::InvalidDescription(msg)
}

/// The m= section index whose transport `index` uses: its BUNDLE group's first accepted mid.
pub(crate) fn transport_index(sd: &SessionDescription, index: usize) -> usize {
    let Some(mid) = sd.media.get(index).and_then(|m| m.mid.as_deref()) else {
        return index;
    };
    let Some(group) = sd.group_of("BUNDLE", mid) else {
        return index;
    };
    group
        .mids
        .iter()
        .find_map(|g| {
            sd.media
                .iter()
                .position(|m| m.mid.as_deref() == Some(g.as_str()) && !m.is_rejected())
        })
        .unwrap_or(index)
}

/// RFC 8839 section 5.4: ufrag 4-256 and pwd 22-256 ice-chars (ALPHA / DIGIT / "+" / "/").
fn ice_credentials_ok(ufrag: &str, pwd: &str) -> bool {
    let chars = |s: &str| {
        s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'+' || b == b'/')
    };
    (4..=256).contains(&ufrag.len())
        && (22..=256).contains(&pwd.len())
        && chars(ufrag)
        && chars(pwd)
}

impl Jsep {
    /// JSEP 5.8 checks on a remote offer before anything changes.
    pub(super) fn validate_offer(&self, sd: &SessionDescription) -> Result<()> {
        let mut mids: Vec<&str> = Vec::new();
        for (i, m) in sd.media.iter().enumerate() {
            if let Some(mid) = m.mid.as_deref() {
                if mids.contains(&mid) {
                    return Err(invalid(format!("mid {mid:?} used twice")));
                }
                mids.push(mid);
            }
            if m.is_rejected() {
                continue;
            }
            if m.mid.is_none() {
                return Err(invalid(format!("m= section {i} has no a=mid")));
            }
            let t = transport_index(sd, i);
            match sd.ice_credentials(t) {
                None => {
                    return Err(invalid(format!(
                        "m= section {i} has no a=ice-ufrag/a=ice-pwd"
                    )));
                }
                Some((u, p)) if !ice_credentials_ok(u, p) => {
                    return Err(invalid(format!(
                        "m= section {i} has malformed ICE credentials"
                    )));
                }
                Some(_) => {}
            }
            if sd.fingerprints_of(t).is_empty() {
                return Err(invalid(format!("m= section {i} has no a=fingerprint")));
            }
            if m.bundle_only
                && sd
                    .group_of("BUNDLE", m.mid.as_deref().unwrap_or(""))
                    .is_none()
            {
                return Err(invalid(format!(
                    "m= section {i} is bundle-only outside a BUNDLE group"
                )));
            }
        }
        for g in sd.groups.iter().filter(|g| g.semantics == "BUNDLE") {
            for mid in &g.mids {
                if !mids.contains(&mid.as_str()) {
                    return Err(invalid(format!("BUNDLE names unknown mid {mid:?}")));
                }
            }
        }
        // Renegotiation: m= sections never go away and keep their mid unless recycled.
        if self.current_local.is_some() {
            if sd.media.len() < self.mlines.len() {
                return Err(invalid(format!(
                    "offer has {} m= sections, fewer than the {} negotiated",
                    sd.media.len(),
                    self.mlines.len()
                )));
            }
            for (i, (ml, m)) in self.mlines.iter().zip(sd.media.iter()).enumerate() {
                if ml.rejected {
                    continue;
                }
                if ml.kind != m.kind || (m.mid.is_some() && ml.mid != m.mid) {
                    return Err(invalid(format!("m= section {i} changed kind or mid")));
                }
            }
        }
        Ok(())
    }

    /// W3C 4.4.1.5 "set the RTCSessionDescription" for a remote offer: each m= section
    /// finds its transceiver (by mid, else an unassociated one of its kind added by the
    /// application, else a new recvonly one).
    pub(super) fn associate_remote_offer(&mut self, sd: &SessionDescription) {
        let mut mlines = Vec::with_capacity(sd.media.len());
        for (i, m) in sd.media.iter().enumerate() {
            let prev = self.mlines.get(i).cloned();
            let owner = if m.is_rejected() {
                match prev {
                    Some(MLine {
                        owner: o @ Owner::Transceiver(_),
                        mid,
                        ..
                    }) if mid == m.mid => o,
                    _ => Owner::Nobody,
                }
            } else if m.kind.is_rtp() && m.proto.contains("RTP") {
                Owner::Transceiver(self.transceiver_for(m.mid.as_deref(), &m.kind, i))
            } else if m.is_data() && self.config.accept_data {
                Owner::Data
            } else {
                Owner::Nobody
            };
            if let Owner::Transceiver(id) = owner
                && let Some(t) = self.transceivers.iter_mut().find(|t| t.id == id)
            {
                t.mid = m.mid.clone();
                t.mline = Some(i);
            }
            mlines.push(MLine {
                mid: m.mid.clone(),
                kind: m.kind.clone(),
                proto: m.proto.clone(),
                formats: m.formats.clone(),
                owner,
                rejected: m.is_rejected(),
            });
        }
        self.next_mid = self.next_mid.max(super::max_mid_number(&mlines));
        self.mlines = mlines;
    }

    fn transceiver_for(
        &mut self,
        mid: Option<&str>,
        kind: &crate::sdp::MediaKind,
        index: usize,
    ) -> TransceiverId {
        if let Some(t) = self
            .transceivers
            .iter()
            .find(|t| !t.stopped && t.mid.is_some() && t.mid.as_deref() == mid && t.kind == *kind)
        {
            return t.id;
        }
        if let Some(t) = self.transceivers.iter().find(|t| {
            t.mid.is_none() && !t.stopped && !t.stopping && !t.created_by_remote && t.kind == *kind
        }) {
            return t.id;
        }
        let id = TransceiverId(self.next_transceiver);
        self.next_transceiver += 1;
        let (codecs, exts) = self.defaults_for(kind);
        self.transceivers.push(Transceiver {
            id,
            kind: kind.clone(),
            mid: mid.map(str::to_owned),
            direction: Direction::RecvOnly,
            current_direction: None,
            codecs,
            header_extensions: exts,
            send: None,
            stopping: false,
            stopped: false,
            created_by_remote: true,
            mline: Some(index),
        });
        self.push_event(JsepEvent::TransceiverAdded(id));
        id
    }
}

/// An answer must mirror its offer m-line by m-line (RFC 3264 section 6, RFC 8829 5.10).
pub(crate) fn answer_matches_offer(
    offer: &SessionDescription,
    answer: &SessionDescription,
) -> Result<()> {
    let bad = |m: Mismatch| Err(Error::AnswerMismatch(m));
    if offer.media.len() != answer.media.len() {
        return bad(Mismatch::MlineCount {
            offer: offer.media.len(),
            answer: answer.media.len(),
        });
    }
    for (index, (o, a)) in offer.media.iter().zip(answer.media.iter()).enumerate() {
        if o.kind != a.kind {
            return bad(Mismatch::KindChanged { index });
        }
        if a.is_rejected() {
            continue;
        }
        if o.is_rejected() {
            return bad(Mismatch::AcceptsRejected { index });
        }
        let Some(mid) = a.mid.as_deref() else {
            return bad(Mismatch::MissingMid { index });
        };
        if o.mid.as_deref() != Some(mid) {
            return bad(Mismatch::MidChanged {
                index,
                offer: o.mid.clone().unwrap_or_default(),
                answer: mid.to_owned(),
            });
        }
        let t = transport_index(answer, index);
        if answer.fingerprints_of(t).is_empty() {
            return bad(Mismatch::NoFingerprint { index });
        }
        match answer.ice_credentials(t) {
            None => return bad(Mismatch::NoIceCredentials { index }),
            Some((u, p)) if !ice_credentials_ok(u, p) => {
                return bad(Mismatch::BadIceCredentials { index });
            }
            Some(_) => {}
        }
        if answer.setup_of(t) == Some(Setup::ActPass) {
            return bad(Mismatch::SetupActpass { index });
        }
    }
    for g in answer.groups.iter().filter(|g| g.semantics == "BUNDLE") {
        for mid in &g.mids {
            if offer.group_of("BUNDLE", mid).is_none() {
                return bad(Mismatch::BundleNotOffered { mid: mid.clone() });
            }
        }
    }
    Ok(())
}
