//! Cross-checks with an independent implementation: the webrtc-rs `rtp` and `rtcp` crates
//! parse what we write, and we parse what they write.

#![allow(clippy::unwrap_used)] // test helpers unwrap what the test itself set up

use bytes::Bytes;
use rtcweb_rtp::rtcp::{
    self, ByeRepr, DlrrItem, DlrrItems, ExtendedReportRepr, FirEntry, FirRepr, NackPair, NackRepr,
    Pli, ReportBlock, RtcpPacket, RtcpPackets, RtcpRepr, SdesChunk, SdesItem, SdesRepr, SenderInfo,
    SenderReportRepr, TransportFeedbackRepr, XrBlock,
};
use rtcweb_rtp::rtp::{ExtensionWriter, RtpPacket, RtpRepr};
use webrtc_util::marshal::{Marshal, Unmarshal};

#[test]
fn rtp_crate_parses_our_packets() {
    for two_byte in [false, true] {
        let mut scratch = [0u8; 64];
        let mut w = ExtensionWriter::new(&mut scratch, two_byte);
        w.push(1, &[0xaa]).unwrap();
        w.push(3, &[0x01, 0x02]).unwrap();
        w.push(5, b"mid-0").unwrap();
        let csrcs = [0u8, 0, 0, 9, 0, 0, 0, 10];
        let repr = RtpRepr {
            marker: true,
            payload_type: 111,
            sequence_number: 4321,
            timestamp: 0x0102_0304,
            ssrc: 0xdead_beef,
            csrcs: &csrcs,
            extension: Some(w.finish()),
            padding: 0,
        };
        let bytes = repr.to_vec(b"opus payload").unwrap();
        let theirs = rtp::packet::Packet::unmarshal(&mut &bytes[..]).unwrap();
        let h = &theirs.header;
        assert!(h.marker);
        assert_eq!(h.payload_type, 111);
        assert_eq!(h.sequence_number, 4321);
        assert_eq!(h.timestamp, 0x0102_0304);
        assert_eq!(h.ssrc, 0xdead_beef);
        assert_eq!(h.csrc, [9, 10]);
        assert_eq!(h.extension_profile, if two_byte { 0x1000 } else { 0xbede });
        assert_eq!(h.get_extension(1).unwrap(), Bytes::from_static(&[0xaa]));
        assert_eq!(h.get_extension(3).unwrap(), Bytes::from_static(&[1, 2]));
        assert_eq!(h.get_extension(5).unwrap(), Bytes::from_static(b"mid-0"));
        assert_eq!(&theirs.payload[..], b"opus payload");
    }
}

#[test]
fn we_parse_the_rtp_crates_packets() {
    let mut header = rtp::header::Header {
        version: 2,
        marker: true,
        payload_type: 96,
        sequence_number: 65535,
        timestamp: 90_000,
        ssrc: 0x1234_5678,
        csrc: vec![7],
        ..Default::default()
    };
    header
        .set_extension(1, Bytes::from_static(&[0x11, 0x22, 0x33]))
        .unwrap();
    header
        .set_extension(2, Bytes::from_static(&[0x44, 0x55]))
        .unwrap();
    let packet = rtp::packet::Packet {
        header,
        payload: Bytes::from_static(&[1, 2, 3, 4, 5]),
    };
    let bytes = packet.marshal().unwrap();
    let ours = RtpPacket::new_checked(&bytes[..]).unwrap();
    assert!(ours.marker());
    assert_eq!(ours.payload_type(), 96);
    assert_eq!(ours.sequence_number(), 65535);
    assert_eq!(ours.timestamp(), 90_000);
    assert_eq!(ours.ssrc(), 0x1234_5678);
    assert_eq!(ours.csrcs().iter().collect::<Vec<_>>(), [7]);
    let ext: Vec<_> = ours.extensions().collect();
    assert_eq!(ext, [(1, &[0x11, 0x22, 0x33][..]), (2, &[0x44, 0x55][..])]);
    assert_eq!(ours.payload(), &[1, 2, 3, 4, 5]);
}

fn block(ssrc: u32) -> ReportBlock {
    ReportBlock {
        ssrc,
        fraction_lost: 25,
        cumulative_lost: 1234,
        extended_highest_sequence: 0x0001_0203,
        jitter: 77,
        last_sr: 0xaabb_ccdd,
        delay_since_last_sr: 6553,
    }
}

#[test]
fn rtcp_crate_parses_our_compound_packet() {
    let blocks = [block(11), block(12)];
    let items = [SdesItem {
        kind: rtcp::CNAME,
        value: b"user@example",
    }];
    let chunks = [SdesChunk {
        ssrc: 1,
        items: &items,
    }];
    let mut pairs = Vec::new();
    NackPair::pack([100u16, 101, 105, 200], &mut pairs);
    let firs = [FirEntry {
        ssrc: 11,
        sequence_number: 3,
    }];
    let dlrr = [DlrrItem {
        ssrc: 12,
        last_rr: 0x1111_2222,
        delay_since_last_rr: 0x3333,
    }];
    let xr_blocks = [
        XrBlock::Rrtr {
            ntp_time: 0x0102_0304_0506_0708,
        },
        XrBlock::Dlrr(DlrrItems::Items(&dlrr)),
    ];
    let deltas = [Some(4), None, Some(300), Some(-8), None, None, Some(1)];
    let packets = [
        RtcpRepr::SenderReport(SenderReportRepr {
            ssrc: 1,
            sender_info: SenderInfo {
                ntp_time: 0xe000_0000_8000_0000,
                rtp_time: 123_456,
                packet_count: 10,
                octet_count: 9000,
            },
            reports: &blocks,
        }),
        RtcpRepr::Sdes(SdesRepr { chunks: &chunks }),
        RtcpRepr::Nack(NackRepr {
            sender_ssrc: 1,
            media_ssrc: 11,
            pairs: &pairs,
        }),
        RtcpRepr::Pli(Pli {
            sender_ssrc: 1,
            media_ssrc: 11,
        }),
        RtcpRepr::Fir(FirRepr {
            sender_ssrc: 1,
            entries: &firs,
        }),
        RtcpRepr::Remb(rtcp::RembRepr {
            sender_ssrc: 1,
            bitrate: 2_500_000,
            ssrcs: &[11, 12],
        }),
        RtcpRepr::TransportFeedback(TransportFeedbackRepr {
            sender_ssrc: 1,
            media_ssrc: 11,
            base_sequence_number: 500,
            reference_time: 4321,
            feedback_packet_count: 2,
            packets: &deltas,
        }),
        RtcpRepr::Xr(ExtendedReportRepr {
            ssrc: 1,
            blocks: &xr_blocks,
        }),
        RtcpRepr::Bye(ByeRepr {
            ssrcs: &[1],
            reason: Some(b"bye"),
        }),
    ];
    let bytes = rtcp::compound_to_vec(&packets).unwrap();
    rtcp::validate(&bytes, false).unwrap();
    let theirs = ::rtcp::packet::unmarshal(&mut &bytes[..]).unwrap();
    assert_eq!(theirs.len(), packets.len());

    let sr = theirs[0]
        .as_any()
        .downcast_ref::<::rtcp::sender_report::SenderReport>()
        .unwrap();
    assert_eq!(sr.ntp_time, 0xe000_0000_8000_0000);
    assert_eq!(
        (sr.rtp_time, sr.packet_count, sr.octet_count),
        (123_456, 10, 9000)
    );
    assert_eq!(sr.reports.len(), 2);
    let r = &sr.reports[1];
    assert_eq!(
        (
            r.ssrc,
            r.fraction_lost,
            r.total_lost,
            r.last_sequence_number
        ),
        (12, 25, 1234, 0x0001_0203)
    );
    assert_eq!(
        (r.jitter, r.last_sender_report, r.delay),
        (77, 0xaabb_ccdd, 6553)
    );

    let sdes = theirs[1]
        .as_any()
        .downcast_ref::<::rtcp::source_description::SourceDescription>()
        .unwrap();
    assert_eq!(&sdes.chunks[0].items[0].text[..], b"user@example");

    let nack = theirs[2]
        .as_any()
        .downcast_ref::<::rtcp::transport_feedbacks::transport_layer_nack::TransportLayerNack>()
        .unwrap();
    let lost: Vec<u16> = nack.nacks.iter().flat_map(|p| p.packet_list()).collect();
    assert_eq!(lost, [100, 101, 105, 200]);

    let pli = theirs[3]
        .as_any()
        .downcast_ref::<::rtcp::payload_feedbacks::picture_loss_indication::PictureLossIndication>()
        .unwrap();
    assert_eq!(pli.media_ssrc, 11);

    let fir = theirs[4]
        .as_any()
        .downcast_ref::<::rtcp::payload_feedbacks::full_intra_request::FullIntraRequest>()
        .unwrap();
    assert_eq!((fir.fir[0].ssrc, fir.fir[0].sequence_number), (11, 3));

    let remb = theirs[5]
        .as_any()
        .downcast_ref::<::rtcp::payload_feedbacks::receiver_estimated_maximum_bitrate::ReceiverEstimatedMaximumBitrate>()
        .unwrap();
    assert!((remb.bitrate - 2_500_000.0).abs() < 8.0, "{}", remb.bitrate);
    assert_eq!(remb.ssrcs, [11, 12]);

    let cc = theirs[6]
        .as_any()
        .downcast_ref::<::rtcp::transport_feedbacks::transport_layer_cc::TransportLayerCc>()
        .unwrap();
    assert_eq!(cc.base_sequence_number, 500);
    assert_eq!(cc.packet_status_count, 7);
    assert_eq!(cc.reference_time, 4321);
    assert_eq!(cc.fb_pkt_count, 2);
    // Their deltas are in microseconds.
    let got: Vec<i64> = cc.recv_deltas.iter().map(|d| d.delta / 250).collect();
    assert_eq!(got, [4, 300, -8, 1]);

    let xr = theirs[7]
        .as_any()
        .downcast_ref::<::rtcp::extended_report::ExtendedReport>()
        .unwrap();
    assert_eq!(xr.reports.len(), 2);
    let rrtr = xr.reports[0]
        .as_any()
        .downcast_ref::<::rtcp::extended_report::ReceiverReferenceTimeReportBlock>()
        .unwrap();
    assert_eq!(rrtr.ntp_timestamp, 0x0102_0304_0506_0708);
    let d = xr.reports[1]
        .as_any()
        .downcast_ref::<::rtcp::extended_report::DLRRReportBlock>()
        .unwrap();
    assert_eq!(
        (d.reports[0].ssrc, d.reports[0].last_rr, d.reports[0].dlrr),
        (12, 0x1111_2222, 0x3333)
    );

    let bye = theirs[8]
        .as_any()
        .downcast_ref::<::rtcp::goodbye::Goodbye>()
        .unwrap();
    assert_eq!(bye.sources, [1]);
    assert_eq!(&bye.reason[..], b"bye");
}

#[test]
fn we_parse_the_rtcp_crates_packets() {
    use webrtc_util::marshal::MarshalSize;
    let rr = ::rtcp::receiver_report::ReceiverReport {
        ssrc: 5,
        reports: vec![::rtcp::reception_report::ReceptionReport {
            ssrc: 6,
            fraction_lost: 1,
            total_lost: 2,
            last_sequence_number: 3,
            jitter: 4,
            last_sender_report: 5,
            delay: 6,
        }],
        ..Default::default()
    };
    let nack = ::rtcp::transport_feedbacks::transport_layer_nack::TransportLayerNack {
        sender_ssrc: 5,
        media_ssrc: 6,
        nacks: ::rtcp::transport_feedbacks::transport_layer_nack::nack_pairs_from_sequence_numbers(
            &[10, 12, 40],
        ),
    };
    let mut tcc_src = Vec::new();
    {
        // A TWCC message written by libwebrtc-compatible code in the rtcp crate's own tests:
        // run-length chunk of 5 small deltas.
        use ::rtcp::transport_feedbacks::transport_layer_cc::*;
        let tcc = TransportLayerCc {
            sender_ssrc: 5,
            media_ssrc: 6,
            base_sequence_number: 65534,
            packet_status_count: 5,
            reference_time: 100,
            fb_pkt_count: 9,
            packet_chunks: vec![PacketStatusChunk::RunLengthChunk(RunLengthChunk {
                type_tcc: StatusChunkTypeTcc::RunLengthChunk,
                packet_status_symbol: SymbolTypeTcc::PacketReceivedSmallDelta,
                run_length: 5,
            })],
            recv_deltas: (1..=5)
                .map(|i| RecvDelta {
                    type_tcc_packet: SymbolTypeTcc::PacketReceivedSmallDelta,
                    delta: i * 250,
                })
                .collect(),
        };
        tcc_src.extend_from_slice(&tcc.marshal().unwrap());
    }
    let mut bytes = rr.marshal().unwrap().to_vec();
    bytes.extend_from_slice(&nack.marshal().unwrap());
    bytes.extend_from_slice(&tcc_src);
    assert_eq!(
        rr.marshal_size() + nack.marshal_size() + tcc_src.len(),
        bytes.len()
    );
    let ours: Vec<_> = RtcpPackets::new(&bytes).map(|p| p.unwrap()).collect();
    assert_eq!(ours.len(), 3);
    let RtcpPacket::ReceiverReport(r) = ours[0] else {
        panic!()
    };
    let b = r.report_blocks().next().unwrap();
    assert_eq!(
        (
            b.ssrc,
            b.fraction_lost,
            b.cumulative_lost,
            b.extended_highest_sequence
        ),
        (6, 1, 2, 3)
    );
    let RtcpPacket::Nack(n) = ours[1] else {
        panic!()
    };
    assert_eq!(n.lost().collect::<Vec<_>>(), [10, 12, 40]);
    let RtcpPacket::TransportFeedback(t) = ours[2] else {
        panic!()
    };
    let got: Vec<_> = t.packets().collect();
    assert_eq!(
        got,
        [
            (65534, Some(1)),
            (65535, Some(2)),
            (0, Some(3)),
            (1, Some(4)),
            (2, Some(5))
        ]
    );
}
