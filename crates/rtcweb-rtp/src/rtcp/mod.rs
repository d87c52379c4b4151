//! RTCP packets: RFC 3550 (SR, RR, SDES, BYE, APP), RFC 4585 (generic NACK, PLI), RFC 5104
//! (FIR), REMB, transport-wide CC feedback and RFC 3611 XR (RRTR, DLRR), in compound or
//! reduced-size (RFC 5506) datagrams.
//!
//! Reading: [`RtcpPackets`] walks a datagram and yields one typed zero-copy view per packet
//! ([`RtcpPacket`]); lists inside a packet (report blocks, NACK entries, TWCC statuses) are
//! iterators over the wire bytes. Writing: each packet type has a repr that borrows its lists
//! from the caller, and [`emit_compound`] writes several of them into one buffer.
//!
//! ```
//! use rtcweb_rtp::rtcp::{self, Pli, ReceiverReportRepr, RtcpPacket, RtcpPackets, RtcpRepr};
//!
//! let mut buf = [0u8; 64];
//! let n = rtcp::emit_compound(
//!     &[
//!         RtcpRepr::ReceiverReport(ReceiverReportRepr { ssrc: 1, reports: &[] }),
//!         RtcpRepr::Pli(Pli { sender_ssrc: 1, media_ssrc: 2 }),
//!     ],
//!     &mut buf,
//! )
//! .unwrap();
//! let kinds: Vec<_> = RtcpPackets::new(&buf[..n]).map(|p| p.unwrap()).collect();
//! assert!(matches!(kinds[1], RtcpPacket::Pli(Pli { media_ssrc: 2, .. })));
//! ```

mod bye_app;
mod feedback;
mod header;
mod report;
mod sdes;
mod twcc;
mod xr;

pub use bye_app::{App, Bye, ByeRepr, PT_APP, PT_BYE};
pub use feedback::{
    FMT_AFB, FMT_FIR, FMT_NACK, FMT_PLI, FMT_TWCC, Fir, FirEntry, FirRepr, Nack, NackPair,
    NackRepr, PT_PSFB, PT_RTPFB, Pli, Remb, RembRepr,
};
pub use report::{
    PT_RR, PT_SR, ReceiverReport, ReceiverReportRepr, ReportBlock, ReportBlocks, SenderInfo,
    SenderReport, SenderReportRepr,
};
pub use sdes::{CNAME, PT_SDES, Sdes, SdesChunk, SdesItem, SdesItems, SdesRepr};
pub use twcc::{
    DELTA_UNIT_US, REFERENCE_UNIT_US, TransportFeedback, TransportFeedbackRepr, TwccPackets,
};
pub use xr::{
    BT_DLRR, BT_RRTR, DlrrItem, DlrrItems, ExtendedReport, ExtendedReportRepr, PT_XR, XrBlock,
};

use crate::error::{Error, Result};

/// One RTCP packet of a datagram, as a typed view.
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub enum RtcpPacket<'a> {
    /// Sender report.
    SenderReport(SenderReport<'a>),
    /// Receiver report.
    ReceiverReport(ReceiverReport<'a>),
    /// Source description.
    Sdes(Sdes<'a>),
    /// Goodbye.
    Bye(Bye<'a>),
    /// Application-defined.
    App(App<'a>),
    /// Generic NACK.
    Nack(Nack<'a>),
    /// Transport-wide CC feedback.
    TransportFeedback(TransportFeedback<'a>),
    /// Picture loss indication.
    Pli(Pli),
    /// Full intra request.
    Fir(Fir<'a>),
    /// Receiver estimated maximum bitrate.
    Remb(Remb<'a>),
    /// Extended report.
    Xr(ExtendedReport<'a>),
    /// A packet type or feedback format this crate does not interpret (kept, not an error).
    Unknown {
        /// Packet type.
        packet_type: u8,
        /// The count / format field.
        count: u8,
        /// The packet after its 4-octet header, padding removed.
        body: &'a [u8],
    },
}

impl<'a> RtcpPacket<'a> {
    /// Parses the first packet in `buf`; returns it and its length on the wire.
    pub fn parse(buf: &'a [u8]) -> Result<(Self, usize)> {
        let s = header::split(buf)?;
        let (c, b) = (s.count, s.body);
        let p = match s.packet_type {
            PT_SR => Self::SenderReport(SenderReport::new_checked(c, b)?),
            PT_RR => Self::ReceiverReport(ReceiverReport::new_checked(c, b)?),
            PT_SDES => Self::Sdes(Sdes::new_checked(c, b)?),
            PT_BYE => Self::Bye(Bye::new_checked(c, b)?),
            PT_APP => Self::App(App::new_checked(c, b)?),
            PT_RTPFB if c == FMT_NACK => Self::Nack(Nack::new_checked(b)?),
            PT_RTPFB if c == FMT_TWCC => {
                Self::TransportFeedback(TransportFeedback::new_checked(b)?)
            }
            PT_PSFB if c == FMT_PLI => Self::Pli(Pli::new_checked(b)?),
            PT_PSFB if c == FMT_FIR => Self::Fir(Fir::new_checked(b)?),
            PT_PSFB if c == FMT_AFB => match Remb::new_checked(b)? {
                Some(r) => Self::Remb(r),
                None => Self::Unknown {
                    packet_type: s.packet_type,
                    count: c,
                    body: b,
                },
            },
            PT_XR => Self::Xr(ExtendedReport::new_checked(b)?),
            pt => Self::Unknown {
                packet_type: pt,
                count: c,
                body: b,
            },
        };
        Ok((p, s.packet_len))
    }
}

/// Iterator over the packets of a compound or reduced-size RTCP datagram. After an error it
/// yields nothing more (the rest of the datagram cannot be framed).
#[derive(Debug, Clone)]
pub struct RtcpPackets<'a> {
    rest: &'a [u8],
}

impl<'a> RtcpPackets<'a> {
    /// Packets of `datagram`.
    pub fn new(datagram: &'a [u8]) -> Self {
        Self { rest: datagram }
    }
}

impl<'a> Iterator for RtcpPackets<'a> {
    type Item = Result<RtcpPacket<'a>>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.rest.is_empty() {
            return None;
        }
        match RtcpPacket::parse(self.rest) {
            Ok((p, len)) => {
                self.rest = &self.rest[len..];
                Some(Ok(p))
            }
            Err(e) => {
                self.rest = &[];
                Some(Err(e))
            }
        }
    }
}

/// Checks the framing of an RTCP datagram (RFC 3550 A.2): every packet well formed, padding
/// only on the last one and, unless `reduced_size` is allowed (RFC 5506), a compound packet
/// starting with an SR or RR.
pub fn validate(datagram: &[u8], reduced_size: bool) -> Result<()> {
    let mut rest = datagram;
    let mut first = true;
    while !rest.is_empty() {
        let s = header::split(rest)?;
        if first && !reduced_size && s.packet_type != PT_SR && s.packet_type != PT_RR {
            return Err(Error::Malformed("compound RTCP must start with SR or RR"));
        }
        if s.padding && s.packet_len != rest.len() {
            return Err(Error::Malformed("RTCP padding before the last packet"));
        }
        RtcpPacket::parse(rest)?;
        rest = &rest[s.packet_len..];
        first = false;
    }
    if first {
        return Err(Error::Truncated { need: 4, have: 0 });
    }
    Ok(())
}

/// One RTCP packet to write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum RtcpRepr<'a> {
    /// Sender report.
    SenderReport(SenderReportRepr<'a>),
    /// Receiver report.
    ReceiverReport(ReceiverReportRepr<'a>),
    /// Source description.
    Sdes(SdesRepr<'a>),
    /// Goodbye.
    Bye(ByeRepr<'a>),
    /// Application-defined.
    App(App<'a>),
    /// Generic NACK.
    Nack(NackRepr<'a>),
    /// Transport-wide CC feedback.
    TransportFeedback(TransportFeedbackRepr<'a>),
    /// Picture loss indication.
    Pli(Pli),
    /// Full intra request.
    Fir(FirRepr<'a>),
    /// Receiver estimated maximum bitrate.
    Remb(RembRepr<'a>),
    /// Extended report.
    Xr(ExtendedReportRepr<'a>),
}

impl RtcpRepr<'_> {
    /// Length of the packet.
    pub fn buffer_len(&self) -> usize {
        match self {
            Self::SenderReport(r) => r.buffer_len(),
            Self::ReceiverReport(r) => r.buffer_len(),
            Self::Sdes(r) => r.buffer_len(),
            Self::Bye(r) => r.buffer_len(),
            Self::App(r) => r.buffer_len(),
            Self::Nack(r) => r.buffer_len(),
            Self::TransportFeedback(r) => r.buffer_len(),
            Self::Pli(r) => r.buffer_len(),
            Self::Fir(r) => r.buffer_len(),
            Self::Remb(r) => r.buffer_len(),
            Self::Xr(r) => r.buffer_len(),
        }
    }

    /// Writes the packet; returns its length.
    pub fn emit(&self, buf: &mut [u8]) -> Result<usize> {
        match self {
            Self::SenderReport(r) => r.emit(buf),
            Self::ReceiverReport(r) => r.emit(buf),
            Self::Sdes(r) => r.emit(buf),
            Self::Bye(r) => r.emit(buf),
            Self::App(r) => r.emit(buf),
            Self::Nack(r) => r.emit(buf),
            Self::TransportFeedback(r) => r.emit(buf),
            Self::Pli(r) => r.emit(buf),
            Self::Fir(r) => r.emit(buf),
            Self::Remb(r) => r.emit(buf),
            Self::Xr(r) => r.emit(buf),
        }
    }
}

/// Writes `packets` one after the other; returns the total length.
pub fn emit_compound(packets: &[RtcpRepr<'_>], buf: &mut [u8]) -> Result<usize> {
    let total: usize = packets.iter().map(RtcpRepr::buffer_len).sum();
    crate::error::room(buf, total)?;
    let mut at = 0;
    for p in packets {
        at += p.emit(&mut buf[at..])?;
    }
    Ok(at)
}

/// Writes `packets` into a new vector.
pub fn compound_to_vec(packets: &[RtcpRepr<'_>]) -> Result<Vec<u8>> {
    let mut v = vec![0; packets.iter().map(RtcpRepr::buffer_len).sum()];
    let n = emit_compound(packets, &mut v)?;
    v.truncate(n);
    Ok(v)
}
