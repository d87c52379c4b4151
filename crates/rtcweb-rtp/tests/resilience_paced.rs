//! Loss resilience under congestion control: RED audio and ULPFEC video leave through the
//! pacer like media, and the transport-wide sequence numbers the pacer stamps stay one per
//! packet sent, in sending order, FEC and RED included.
//!
//! The sender has congestion control on (default estimator and pacer: 750 kbit/s at the
//! start), RED (distance 2) on its Opus stream and ULPFEC at a fixed 50 % protection on its
//! VP8 stream, and writes 1 s of media (a 12 kB key frame first). Every packet it sends is
//! recorded with the time it left; then a receiver gets them all but every seventh video
//! media packet, and must still rebuild frames from the FEC that went through the pacer.

#![allow(clippy::unwrap_used)]

mod media_sim;

use std::collections::HashSet;
use std::time::{Duration, Instant};

use media_sim::*;
use rtcweb_rtp::fec::ProtectionConfig;
use rtcweb_rtp::rtp::{ExtensionKind, RtpPacket};
use rtcweb_rtp::session::{
    CongestionConfig, Event, FecKind, FecSendConfig, PacketKind, ReceiveResilience, RedConfig,
    SendResilience, Session, SessionConfig,
};

struct Sent {
    at: Instant,
    packet: Vec<u8>,
}

fn paced_sender(start: Instant) -> Session {
    let media = Media {
        audio: true,
        video: true,
        duration: Duration::from_secs(1),
    };
    let config = SessionConfig {
        congestion_control: Some(CongestionConfig::default()),
        ..session_config()
    };
    let mut s = sender_with(config, start, 7, media, false);
    s.set_send_resilience(
        AUDIO_SSRC,
        SendResilience {
            red: Some(RedConfig {
                payload_type: AUDIO_RED,
                carried: OPUS,
                distance: 2,
            }),
            fec: None,
        },
    )
    .unwrap();
    s.set_send_resilience(
        VIDEO_SSRC,
        SendResilience {
            red: None,
            fec: Some(FecSendConfig {
                kind: FecKind::Ulpfec {
                    red_payload_type: VIDEO_RED,
                    ulpfec_payload_type: ULPFEC,
                    red_rtx_payload_type: None,
                },
                // 5 % assumed loss and no report to lower it: half a FEC packet per media
                // packet throughout.
                protection: ProtectionConfig {
                    initial_loss: 0.05,
                    ..ProtectionConfig::default()
                },
                nack: false,
            }),
        },
    )
    .unwrap();
    s
}

/// Runs the sender for 1 s of media plus 2 s to drain the pacer.
fn send_all(start: Instant) -> Vec<Sent> {
    let mut s = paced_sender(start);
    let mut out = Vec::new();
    let (mut audio, mut video) = (0u64, 0u64);
    let end = start + Duration::from_secs(3);
    let mut now = start;
    while now < end {
        let audio_due = start + Duration::from_millis(20 * audio);
        let video_due = start + Duration::from_micros(video * 1_000_000 / FPS);
        if audio < 50 && audio_due <= now {
            let ts = (audio * 960) as u32;
            s.write_frame(now, AUDIO_SSRC, OPUS, ts, &audio_frame(audio))
                .unwrap();
            audio += 1;
        }
        if video < FPS && video_due <= now {
            let ts = (video * 90_000 / FPS) as u32;
            s.write_frame(now, VIDEO_SSRC, VP8, ts, &video_frame(video, false))
                .unwrap();
            video += 1;
        }
        while let Some(p) = s.poll_transmit() {
            if p.kind == PacketKind::Rtp {
                out.push(Sent {
                    at: now,
                    packet: p.payload,
                });
            }
        }
        let mut next = s.poll_timeout().unwrap_or(end).min(end);
        if audio < 50 {
            next = next.min(start + Duration::from_millis(20 * audio));
        }
        if video < FPS {
            next = next.min(start + Duration::from_micros(video * 1_000_000 / FPS));
        }
        now = next.max(now + Duration::from_micros(100));
        s.handle_timeout(now);
    }
    out
}

fn is_fec(p: &RtpPacket<&[u8]>) -> bool {
    p.ssrc() == VIDEO_SSRC
        && p.payload_type() == VIDEO_RED
        && p.payload().first().is_some_and(|b| b & 0x7f == ULPFEC)
}

fn transport_seq(p: &RtpPacket<&[u8]>) -> Option<u16> {
    let id = extensions().id(ExtensionKind::TransportWideCc)?;
    let (_, d) = p.extensions().find(|(i, _)| *i == id)?;
    Some(u16::from_be_bytes(d.try_into().ok()?))
}

#[test]
fn fec_and_red_are_paced_and_stamped_once_each() {
    let start = Instant::now();
    let sent = send_all(start);
    let parsed: Vec<RtpPacket<&[u8]>> = sent
        .iter()
        .map(|s| RtpPacket::new_checked(&s.packet[..]).unwrap())
        .collect();
    let fec: Vec<usize> = (0..parsed.len()).filter(|&i| is_fec(&parsed[i])).collect();
    let red_audio = parsed
        .iter()
        .filter(|p| p.ssrc() == AUDIO_SSRC && p.payload_type() == AUDIO_RED)
        .count();
    println!(
        "{} RTP packets sent: {} ULPFEC, {} RED audio",
        parsed.len(),
        fec.len(),
        red_audio
    );
    assert_eq!(red_audio, 50, "every Opus frame in RED");
    assert!(fec.len() > 40, "{} FEC packets", fec.len());

    // One transport-wide sequence number per packet, in the order they left.
    let seqs: Vec<u16> = parsed.iter().map(|p| transport_seq(p).unwrap()).collect();
    let first = seqs[0];
    for (i, s) in seqs.iter().enumerate() {
        assert_eq!(
            *s,
            first.wrapping_add(i as u16),
            "packet {i} of {}",
            seqs.len()
        );
    }

    // The key frame (12 kB) and its FEC (6 kB) take about 190 ms at 750 kbit/s: its FEC
    // packets leave well after it was written, after all of its media packets.
    let key_ts = 0u32;
    let key_fec: Vec<&Sent> = fec
        .iter()
        .filter(|&&i| parsed[i].timestamp() == key_ts)
        .map(|&i| &sent[i])
        .collect();
    let last_key_media = parsed
        .iter()
        .zip(&sent)
        .filter(|(p, _)| p.ssrc() == VIDEO_SSRC && !is_fec(p) && p.timestamp() == key_ts)
        .map(|(_, s)| s.at)
        .max()
        .unwrap();
    let key_fec_last = key_fec.iter().map(|s| s.at).max().unwrap();
    println!(
        "key frame: {} FEC packets, last media packet left after {:?}, last FEC packet after {:?}",
        key_fec.len(),
        last_key_media - start,
        key_fec_last - start
    );
    assert!(key_fec.len() >= 4);
    assert!(key_fec.iter().all(|s| s.at >= last_key_media));
    assert!(key_fec_last - start >= Duration::from_millis(50));
    // Nothing leaves in a burst larger than the pacer allows at once (5 ms at the start
    // rate, a probe cluster or two on top): no instant sends the whole key frame.
    let mut per_instant = std::collections::BTreeMap::<Instant, usize>::new();
    for s in &sent {
        *per_instant.entry(s.at).or_default() += s.packet.len();
    }
    let largest = per_instant.values().max().copied().unwrap();
    println!("largest burst at one instant: {largest} bytes");
    assert!(largest < 12_000, "{largest} bytes at one instant");

    // A receiver missing every seventh video media packet rebuilds frames from that FEC.
    let media = Media {
        audio: true,
        video: true,
        duration: Duration::from_secs(1),
    };
    let mut rx = receiver(start, 9, media, false);
    rx.set_receive_resilience(
        VIDEO_SSRC,
        Some(ReceiveResilience {
            red_payload_type: Some(VIDEO_RED),
            ulpfec_payload_type: Some(ULPFEC),
            ..ReceiveResilience::default()
        }),
    )
    .unwrap();
    let mut video_media = 0usize;
    let mut dropped = HashSet::new();
    for (p, s) in parsed.iter().zip(&sent) {
        if p.ssrc() == VIDEO_SSRC && !is_fec(p) && p.payload_type() == VIDEO_RED {
            video_media += 1;
            if video_media.is_multiple_of(7) {
                dropped.insert(p.sequence_number());
                continue;
            }
        }
        let _ = rx.handle_input(s.at, &s.packet);
    }
    rx.handle_timeout(start + Duration::from_secs(4));
    // Frames whole and byte for byte (a rebuilt packet carries the placeholder transport
    // sequence number it was protected with, which nothing reads).
    let frames = std::iter::from_fn(|| rx.poll_event())
        .filter(|e| {
            matches!(e, Event::Frame(f) if f.ssrc == VIDEO_SSRC
                && f.data == video_frame(u64::from(f.timestamp) * FPS / 90_000, false))
        })
        .count();
    let stats = rx.resilience_stats(VIDEO_SSRC).unwrap();
    println!(
        "receiver: {} of {video_media} video media packets dropped, {} rebuilt from FEC, \
         {frames}/{FPS} frames",
        dropped.len(),
        stats.fec_recovered
    );
    assert!(stats.fec_recovered as usize * 10 >= dropped.len() * 8);
    assert!(frames as u64 >= FPS - 2, "{frames} frames");
}
