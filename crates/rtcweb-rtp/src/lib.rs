//! RTP and RTCP for rtcweb: zero-copy codecs, a sans-IO RTP session and packetizers.
//!
//! - [`rtp`]: the RTP packet view ([`rtp::RtpPacket`]), the header repr, RFC 8285 header
//!   extensions in one- and two-byte form, and typed values (mid, rid, repaired rid,
//!   abs-send-time, transport-wide sequence number, audio level, video orientation, playout
//!   delay) mapped by the ids negotiated in SDP ([`rtp::ExtensionMap`]).
//! - [`rtcp`]: SR, RR, SDES, BYE, APP, generic NACK, PLI, FIR, REMB, transport-wide CC
//!   feedback and XR (RRTR, DLRR), in compound or reduced-size datagrams.
//! - [`codec`]: packetizers and depacketizers for Opus, VP8, VP9, H.264 and AV1.
//! - [`frame`]: frame assembly (bounded reorder buffer, key frame detection).
//! - [`playout`]: jitter buffers that release frames at their playout time, and lip sync.
//! - [`red`]: redundant audio (RFC 2198) for Opus, and the envelope of ULPFEC.
//! - [`fec`]: video FEC, ULPFEC (RFC 5109) and FlexFEC-03: encoder, decoder and the
//!   protection rate.
//! - [`svc`]: the AV1 dependency descriptor and a layer filter for SVC forwarding (AV1, VP9).
//! - [`session`]: the RTP session state machine: reports and RTT, NACK/RTX, PLI/FIR,
//!   transport-wide CC, frame-level send and receive.
//!
//! Codecs follow smoltcp's `wire` style: a view validates a caller buffer once
//! (`new_checked`) and its accessors never panic afterwards; a repr writes into a caller
//! buffer. Nothing here reads a clock, opens a socket or spawns a task: time is the `now`
//! argument of the session's methods.
//!
//! A sender and a receiver session, joined by hand:
//!
//! ```
//! use std::time::Instant;
//! use rtcweb_rtp::codec::Codec;
//! use rtcweb_rtp::session::*;
//!
//! let now = Instant::now();
//! let vp8 = vec![CodecConfig { payload_type: 96, codec: Codec::Vp8, rtx_payload_type: Some(97) }];
//! let mut tx = Session::new(SessionConfig::default(), now, 1);
//! tx.add_send_stream(SendStreamConfig {
//!     ssrc: 1, rtx_ssrc: Some(2), codecs: vp8.clone(), mid: None, rid: None,
//! }).unwrap();
//! let mut rx = Session::new(SessionConfig::default(), now, 2);
//! rx.add_receive_stream(ReceiveStreamConfig {
//!     ssrc: 1, rtx_ssrc: Some(2), codecs: vp8, nack: true, assemble_frames: true,
//! }).unwrap();
//!
//! // A VP8 key frame (640x480), 3000 octets.
//! let mut frame = vec![0u8; 3000];
//! frame[..10].copy_from_slice(&[0x50, 0x2d, 0, 0x9d, 0x01, 0x2a, 0x80, 0x02, 0xe0, 0x01]);
//! tx.write_frame(now, 1, 96, 0, &frame).unwrap();
//! while let Some(t) = tx.poll_transmit() {
//!     // Here the PeerConnection would SRTP-protect `t.payload` and send it.
//!     rx.handle_input(now, &t.payload).unwrap();
//! }
//! match rx.poll_event() {
//!     Some(Event::Frame(f)) => {
//!         assert!(f.keyframe);
//!         assert_eq!(f.resolution, Some((640, 480)));
//!         assert_eq!(f.data, frame);
//!     }
//!     other => panic!("{other:?}"),
//! }
//! ```

mod error;

pub mod codec;
pub mod fec;
pub mod frame;
pub mod playout;
pub mod red;
pub mod rtcp;
pub mod rtp;
pub mod seq;
pub mod session;
pub mod svc;

pub use error::{Error, Result};
