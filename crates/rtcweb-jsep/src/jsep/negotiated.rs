//! The per-m= section outcome of an offer/answer exchange, for the transports to act on.

use super::validate::transport_index;
use super::{Jsep, Owner};
use crate::codec::make_consistent;
use crate::jsep::types::{BundlePolicy, Negotiated, NegotiatedMedia, NegotiatedSctp};
use crate::sdp::{Role, SessionDescription, Setup};

/// RFC 8841: a peer that writes no max-message-size accepts 64 KiB.
const DEFAULT_MAX_MESSAGE_SIZE: u64 = 65_536;

impl Jsep {
    pub(super) fn compute_negotiated(
        &self,
        local: &SessionDescription,
        remote: &SessionDescription,
        we_offered: bool,
        ice_restart: bool,
    ) -> Negotiated {
        let answer = if we_offered { remote } else { local };
        let bundle_groups: Vec<_> = answer
            .groups
            .iter()
            .filter(|g| g.semantics == "BUNDLE")
            .cloned()
            .collect();
        let only_first =
            bundle_groups.is_empty() && self.config.bundle_policy == BundlePolicy::MaxBundle;
        let mut first_accepted: Option<usize> = None;
        let mut media = Vec::new();
        for (index, (l, r)) in local.media.iter().zip(remote.media.iter()).enumerate() {
            let mut rejected = l.is_rejected() || r.is_rejected();
            if !rejected {
                match first_accepted {
                    None => first_accepted = Some(index),
                    Some(_) if only_first => rejected = true,
                    Some(_) => {}
                }
            }
            let a = if we_offered { r } else { l };
            let codecs = if we_offered {
                make_consistent(
                    a.codecs
                        .iter()
                        .filter(|c| l.codec(c.payload_type).is_some())
                        .cloned()
                        .collect(),
                )
            } else {
                a.codecs.clone()
            };
            let mut extmaps = a.extmaps.clone();
            extmaps.extend(answer.extmaps.iter().cloned());
            let lt = transport_index(local, index);
            let rt = transport_index(remote, index);
            let local_setup = local.setup_of(lt);
            let remote_setup = remote.setup_of(rt);
            let dtls_role = match (local_setup, remote_setup) {
                (Some(Setup::Active), _) => Role::Client,
                (Some(Setup::Passive), _) => Role::Server,
                (_, Some(Setup::Active)) => Role::Server,
                (_, Some(Setup::Passive)) => Role::Client,
                _ => Role::Server,
            };
            let transport_mid = l
                .mid
                .as_deref()
                .and_then(|mid| answer.group_of("BUNDLE", mid));
            let transport_mid = match transport_mid {
                Some(g) => g.mids.first().cloned(),
                None => l.mid.clone(),
            };
            let creds = remote.ice_credentials(rt);
            let transceiver = match self.mlines.get(index).map(|m| m.owner) {
                Some(Owner::Transceiver(id)) => Some(id),
                _ => None,
            };
            let sctp = (l.is_data() && !rejected).then(|| NegotiatedSctp {
                local_port: l.sctp_port.unwrap_or(5000),
                remote_port: r.sctp_port.unwrap_or(5000),
                remote_max_message_size: r.max_message_size.unwrap_or(DEFAULT_MAX_MESSAGE_SIZE),
            });
            media.push(NegotiatedMedia {
                index,
                mid: l.mid.clone().or_else(|| r.mid.clone()),
                kind: l.kind.clone(),
                rejected,
                transceiver,
                direction: l
                    .direction_or_default()
                    .intersect(r.direction_or_default().reverse()),
                codecs,
                extmaps,
                transport_mid,
                remote_ufrag: creds.map(|(u, _)| u.to_owned()),
                remote_pwd: creds.map(|(_, p)| p.to_owned()),
                remote_candidates: r.candidates.clone(),
                remote_end_of_candidates: r.end_of_candidates,
                remote_fingerprints: remote.fingerprints_of(rt).to_vec(),
                remote_setup,
                dtls_role,
                remote_msid: r.msid.clone(),
                remote_ssrcs: r.ssrcs.clone(),
                remote_ssrc_groups: r.ssrc_groups.clone(),
                remote_rids: r.rids.clone(),
                remote_simulcast: r.simulcast.clone(),
                rtcp_mux: l.rtcp_mux && r.rtcp_mux,
                rtcp_rsize: l.rtcp_rsize && r.rtcp_rsize,
                sctp,
            });
        }
        Negotiated {
            media,
            bundle_groups,
            remote_ice_lite: remote.ice.lite,
            ice_restart,
            local_ice: self
                .restart_ice
                .clone()
                .filter(|_| ice_restart || !we_offered)
                .unwrap_or_else(|| self.local_ice.clone()),
        }
    }
}
