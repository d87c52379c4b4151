//! RTCP in and out for the [`Session`].

use std::time::Instant;

use tracing::debug;

use super::clock::{mid32, rtt, to_1_65536};
use super::{Event, KeyframeRequest, PacketKind, Session};
use crate::error::{Error, Result};
use crate::rtcp::{
    self, ByeRepr, DlrrItem, DlrrItems, ExtendedReportRepr, FirEntry, FirRepr, NackPair, NackRepr,
    Pli, ReceiverReportRepr, ReportBlock, RtcpPacket, RtcpPackets, RtcpRepr, SdesChunk, SdesItem,
    SdesRepr, SenderInfo, SenderReportRepr, XrBlock,
};

impl Session {
    /// The SSRC our RTCP is sent from: the first send stream's, else the local one.
    pub(crate) fn feedback_ssrc(&self) -> u32 {
        self.senders
            .first()
            .map_or(self.local_ssrc, |s| s.config.ssrc)
    }

    fn is_ours(&self, ssrc: u32) -> bool {
        ssrc == self.local_ssrc || self.senders.iter().any(|s| s.config.ssrc == ssrc)
    }

    /// Feeds a received (unprotected) compound or reduced-size RTCP datagram.
    pub fn handle_rtcp(&mut self, now: Instant, datagram: &[u8]) -> Result<()> {
        self.stats.rtcp_received += 1;
        self.note_rtcp_size(datagram.len());
        let now_mid = mid32(self.clock.ntp(now));
        let mut feedback = Vec::new();
        for p in RtcpPackets::new(datagram) {
            let p = match p {
                Ok(p) => p,
                Err(e) => {
                    self.stats.malformed += 1;
                    return Err(e);
                }
            };
            match p {
                RtcpPacket::SenderReport(sr) => {
                    let ssrc = sr.ssrc();
                    let info = sr.sender_info();
                    if let Some(r) = self.receivers.iter_mut().find(|r| r.config.ssrc == ssrc) {
                        r.last_sr = Some((mid32(info.ntp_time), now));
                        self.playout_on_sr(now, ssrc, &info);
                        self.push_event(Event::SenderReport { ssrc, info });
                    }
                    for b in sr.report_blocks() {
                        self.on_report_block(now, now_mid, b);
                    }
                }
                RtcpPacket::ReceiverReport(rr) => {
                    for b in rr.report_blocks() {
                        self.on_report_block(now, now_mid, b);
                    }
                }
                RtcpPacket::Nack(n) => {
                    if let Some(i) = self
                        .senders
                        .iter()
                        .position(|s| s.config.ssrc == n.media_ssrc)
                    {
                        for seq in n.lost() {
                            self.retransmit(now, i, seq);
                        }
                    }
                }
                RtcpPacket::Pli(p) => self.on_keyframe_request(p.media_ssrc, KeyframeRequest::Pli),
                RtcpPacket::Fir(f) => {
                    for e in f.entries() {
                        let Some(s) = self.senders.iter_mut().find(|s| s.config.ssrc == e.ssrc)
                        else {
                            continue;
                        };
                        // A repeated command sequence number is a retransmitted request.
                        if s.last_fir_seq == Some(e.sequence_number) {
                            continue;
                        }
                        s.last_fir_seq = Some(e.sequence_number);
                        self.on_keyframe_request(e.ssrc, KeyframeRequest::Fir);
                    }
                }
                RtcpPacket::TransportFeedback(fb) => {
                    self.twcc_tx.on_feedback(&fb, &mut feedback);
                }
                RtcpPacket::Remb(r) => {
                    self.cc_remb(now, r.bitrate);
                    let e = Event::Remb {
                        bitrate: r.bitrate,
                        ssrcs: r.ssrcs().take(64).collect(),
                    };
                    self.push_event(e);
                }
                RtcpPacket::Bye(b) => {
                    for ssrc in b.ssrcs() {
                        if self.receivers.iter().any(|r| r.config.ssrc == ssrc) {
                            self.push_event(Event::Bye { ssrc });
                        }
                    }
                }
                RtcpPacket::Xr(xr) => {
                    if let Some(ntp) = xr.rrtr() {
                        if self.rrtrs.len() >= super::RRTRS_REMEMBERED {
                            self.rrtrs.pop_front();
                        }
                        self.rrtrs.retain(|(s, _, _)| *s != xr.ssrc);
                        self.rrtrs.push_back((xr.ssrc, mid32(ntp), now));
                    }
                    let items: Vec<DlrrItem> = xr.dlrr_items().take(32).collect();
                    for item in items {
                        if self.is_ours(item.ssrc)
                            && let Some(r) = rtt(now_mid, item.last_rr, item.delay_since_last_rr)
                        {
                            self.set_rtt(now, r);
                        }
                    }
                }
                _ => {}
            }
        }
        if !feedback.is_empty() {
            self.cc_feedback(now, &feedback);
            self.push_event(Event::TransportFeedback(feedback));
        }
        Ok(())
    }

    fn on_report_block(&mut self, now: Instant, now_mid: u32, b: ReportBlock) {
        let Some(s) = self.senders.iter_mut().find(|s| s.config.ssrc == b.ssrc) else {
            return;
        };
        s.stats.last_report = Some(b);
        let ssrc = b.ssrc;
        self.resilience_on_report(ssrc, b.fraction_lost);
        self.push_event(Event::ReceiverReport { ssrc, report: b });
        self.cc_report(now, ssrc, b.fraction_lost, b.extended_highest_sequence);
        if let Some(r) = rtt(now_mid, b.last_sr, b.delay_since_last_sr) {
            self.set_rtt(now, r);
        }
    }

    fn on_keyframe_request(&mut self, ssrc: u32, kind: KeyframeRequest) {
        if let Some(s) = self.senders.iter_mut().find(|s| s.config.ssrc == ssrc) {
            s.stats.keyframe_requests += 1;
            self.push_event(Event::KeyframeRequested { ssrc, kind });
        }
    }

    /// Sends feedback packets, led by an empty RR and SDES unless reduced size is on.
    pub(crate) fn send_feedback(&mut self, packets: &[RtcpRepr<'_>]) {
        match rtcp::compound_to_vec(packets) {
            Ok(v) => self.send_led_feedback(&v),
            Err(e) => debug!(%e, "RTCP not written"),
        }
    }

    /// Sends encoded feedback, led by an empty RR and SDES (RFC 3550 section 6.1) unless
    /// reduced size (RFC 5506) is on.
    fn send_led_feedback(&mut self, encoded: &[u8]) {
        let mut v = Vec::new();
        if !self.config.reduced_size {
            let ssrc = self.feedback_ssrc();
            let cname = self.config.cname.clone();
            let items = [SdesItem {
                kind: rtcp::CNAME,
                value: cname.as_bytes(),
            }];
            let chunks = [SdesChunk {
                ssrc,
                items: &items,
            }];
            let head = [
                RtcpRepr::ReceiverReport(ReceiverReportRepr { ssrc, reports: &[] }),
                RtcpRepr::Sdes(SdesRepr { chunks: &chunks }),
            ];
            match rtcp::compound_to_vec(&head) {
                Ok(h) => v = h,
                Err(e) => return debug!(%e, "RTCP not written"),
            }
        }
        v.extend_from_slice(encoded);
        self.note_rtcp_size(v.len());
        self.stats.rtcp_sent += 1;
        self.push_transmit(PacketKind::Rtcp, v);
    }

    fn send_rtcp(&mut self, packets: &[RtcpRepr<'_>]) {
        match rtcp::compound_to_vec(packets) {
            Ok(v) => {
                self.note_rtcp_size(v.len());
                self.stats.rtcp_sent += 1;
                self.push_transmit(PacketKind::Rtcp, v);
            }
            Err(e) => debug!(%e, "RTCP not written"),
        }
    }

    pub(crate) fn send_nack(&mut self, media_ssrc: u32, seqs: &[u64]) {
        let mut pairs = Vec::new();
        NackPair::pack(seqs.iter().map(|&s| s as u16), &mut pairs);
        let sender_ssrc = self.feedback_ssrc();
        // Keep each datagram well under the MTU: 200 entries are 800 octets.
        for chunk in pairs.chunks(200) {
            self.send_feedback(&[RtcpRepr::Nack(NackRepr {
                sender_ssrc,
                media_ssrc,
                pairs: chunk,
            })]);
        }
    }

    pub(crate) fn send_twcc_feedback(&mut self) {
        let sender = self.feedback_ssrc();
        let media = self.receivers.first().map_or(0, |r| r.config.ssrc);
        let mut msgs = Vec::new();
        self.twcc_rx.build(sender, media, &mut msgs);
        for m in msgs {
            self.send_led_feedback(&m);
        }
    }

    /// Asks the sender of receive stream `ssrc` for a key frame (rate limited per stream by
    /// `keyframe_request_interval`). Returns whether a request was sent.
    pub fn request_keyframe(
        &mut self,
        now: Instant,
        ssrc: u32,
        kind: KeyframeRequest,
    ) -> Result<bool> {
        let interval = self.config.keyframe_request_interval;
        let r = self
            .receivers
            .iter_mut()
            .find(|r| r.config.ssrc == ssrc)
            .ok_or(Error::UnknownSsrc(ssrc))?;
        if r.last_keyframe_request
            .is_some_and(|t| now.saturating_duration_since(t) < interval)
        {
            return Ok(false);
        }
        r.last_keyframe_request = Some(now);
        r.stats.keyframe_requests_sent += 1;
        let sender_ssrc = self.feedback_ssrc();
        match kind {
            KeyframeRequest::Pli => self.send_feedback(&[RtcpRepr::Pli(Pli {
                sender_ssrc,
                media_ssrc: ssrc,
            })]),
            KeyframeRequest::Fir => {
                let r = self
                    .receivers
                    .iter_mut()
                    .find(|r| r.config.ssrc == ssrc)
                    .ok_or(Error::UnknownSsrc(ssrc))?;
                r.fir_seq = r.fir_seq.wrapping_add(1);
                let entries = [FirEntry {
                    ssrc,
                    sequence_number: r.fir_seq,
                }];
                self.send_feedback(&[RtcpRepr::Fir(FirRepr {
                    sender_ssrc,
                    entries: &entries,
                })]);
            }
        }
        Ok(true)
    }

    /// Sends a BYE for all our streams.
    pub fn close(&mut self, now: Instant) {
        let mut ssrcs: Vec<u32> = self.senders.iter().map(|s| s.config.ssrc).collect();
        if ssrcs.is_empty() {
            ssrcs.push(self.local_ssrc);
        }
        ssrcs.truncate(31);
        let _ = now;
        let ssrc = self.feedback_ssrc();
        self.send_rtcp(&[
            RtcpRepr::ReceiverReport(ReceiverReportRepr { ssrc, reports: &[] }),
            RtcpRepr::Bye(ByeRepr {
                ssrcs: &ssrcs,
                reason: None,
            }),
        ]);
    }

    /// Sends the regular compound report: SR or RR with report blocks, SDES CNAME, and the
    /// XR blocks for RTT (RRTR when only receiving, DLRR answering the peer's RRTR).
    pub(crate) fn send_report(&mut self, now: Instant) {
        let ntp = self.clock.ntp(now);
        let mut blocks: Vec<ReportBlock> = self
            .receivers
            .iter_mut()
            .filter(|r| r.stats.received > 0)
            .map(|r| r.report_block(now))
            .collect();
        blocks.truncate(31);
        let cname = self.config.cname.clone();
        let items = [SdesItem {
            kind: rtcp::CNAME,
            value: cname.as_bytes(),
        }];
        let mut sdes_ssrcs: Vec<u32> = self.senders.iter().map(|s| s.config.ssrc).collect();
        if sdes_ssrcs.is_empty() {
            sdes_ssrcs.push(self.local_ssrc);
        }
        sdes_ssrcs.truncate(31);
        let chunks: Vec<SdesChunk<'_>> = sdes_ssrcs
            .iter()
            .map(|&ssrc| SdesChunk {
                ssrc,
                items: &items,
            })
            .collect();
        let infos: Vec<(u32, SenderInfo)> = self
            .senders
            .iter()
            .map(|s| {
                (
                    s.config.ssrc,
                    SenderInfo {
                        ntp_time: ntp,
                        rtp_time: s.rtp_time(now),
                        packet_count: s.stats.packets as u32,
                        octet_count: s.stats.payload_octets as u32,
                    },
                )
            })
            .collect();
        let dlrr: Vec<DlrrItem> = self
            .rrtrs
            .drain(..)
            .map(|(ssrc, lrr, at)| DlrrItem {
                ssrc,
                last_rr: lrr,
                delay_since_last_rr: to_1_65536(now.saturating_duration_since(at)),
            })
            .collect();
        let mut xr_blocks = Vec::new();
        if self.senders.is_empty() {
            xr_blocks.push(XrBlock::Rrtr { ntp_time: ntp });
        }
        if !dlrr.is_empty() {
            xr_blocks.push(XrBlock::Dlrr(DlrrItems::Items(&dlrr)));
        }
        let mut packets = Vec::new();
        if infos.is_empty() {
            packets.push(RtcpRepr::ReceiverReport(ReceiverReportRepr {
                ssrc: self.local_ssrc,
                reports: &blocks,
            }));
        }
        for (k, (ssrc, info)) in infos.iter().enumerate() {
            packets.push(RtcpRepr::SenderReport(SenderReportRepr {
                ssrc: *ssrc,
                sender_info: *info,
                reports: if k == 0 { &blocks } else { &[] },
            }));
        }
        packets.push(RtcpRepr::Sdes(SdesRepr { chunks: &chunks }));
        if !xr_blocks.is_empty() {
            packets.push(RtcpRepr::Xr(ExtendedReportRepr {
                ssrc: self.feedback_ssrc(),
                blocks: &xr_blocks,
            }));
        }
        self.send_rtcp(&packets);
    }
}
