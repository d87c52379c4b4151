//! Sender and receiver reports (RFC 3550 sections 6.4.1 and 6.4.2).

use crate::error::{Error, Result, need};
use crate::rtcp::header::{self, HEADER_LEN, be24, be32, be64, put32, put64};

/// Packet type of a sender report.
pub const PT_SR: u8 = 200;
/// Packet type of a receiver report.
pub const PT_RR: u8 = 201;
const BLOCK_LEN: usize = 24;
const SENDER_INFO_LEN: usize = 20;

/// The sender information of an SR.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SenderInfo {
    /// NTP timestamp of the report (32.32 fixed point seconds since 1900).
    pub ntp_time: u64,
    /// The same instant on the RTP clock.
    pub rtp_time: u32,
    /// Packets sent since the stream started.
    pub packet_count: u32,
    /// Payload octets sent since the stream started.
    pub octet_count: u32,
}

/// One reception report block.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ReportBlock {
    /// The source this block reports on.
    pub ssrc: u32,
    /// Fraction lost since the last report, in 1/256.
    pub fraction_lost: u8,
    /// Cumulative number of packets lost (24-bit signed; duplicates can make it negative).
    pub cumulative_lost: i32,
    /// Extended highest sequence number received.
    pub extended_highest_sequence: u32,
    /// Interarrival jitter in timestamp units.
    pub jitter: u32,
    /// Middle 32 bits of the NTP time of the last SR received from this source (LSR).
    pub last_sr: u32,
    /// Delay since that SR, in 1/65536 s (DLSR).
    pub delay_since_last_sr: u32,
}

impl ReportBlock {
    fn parse(b: &[u8]) -> Self {
        let raw = be24(b, 5);
        // Sign-extend the 24-bit cumulative loss.
        let cumulative_lost = ((raw << 8) as i32) >> 8;
        Self {
            ssrc: be32(b, 0),
            fraction_lost: b[4],
            cumulative_lost,
            extended_highest_sequence: be32(b, 8),
            jitter: be32(b, 12),
            last_sr: be32(b, 16),
            delay_since_last_sr: be32(b, 20),
        }
    }

    fn emit(&self, b: &mut [u8]) {
        put32(b, 0, self.ssrc);
        let lost = self.cumulative_lost.clamp(-0x80_0000, 0x7f_ffff) as u32 & 0x00ff_ffff;
        put32(b, 4, (u32::from(self.fraction_lost) << 24) | lost);
        put32(b, 8, self.extended_highest_sequence);
        put32(b, 12, self.jitter);
        put32(b, 16, self.last_sr);
        put32(b, 20, self.delay_since_last_sr);
    }
}

/// Iterator over report blocks.
#[derive(Debug, Clone)]
pub struct ReportBlocks<'a>(std::slice::ChunksExact<'a, u8>);

impl Iterator for ReportBlocks<'_> {
    type Item = ReportBlock;
    fn next(&mut self) -> Option<ReportBlock> {
        self.0.next().map(ReportBlock::parse)
    }
}

/// View of a sender report.
#[derive(Debug, Clone, Copy)]
pub struct SenderReport<'a> {
    count: u8,
    body: &'a [u8],
}

impl<'a> SenderReport<'a> {
    pub(crate) fn new_checked(count: u8, body: &'a [u8]) -> Result<Self> {
        need(body, 4 + SENDER_INFO_LEN + BLOCK_LEN * usize::from(count))?;
        Ok(Self { count, body })
    }

    /// SSRC of the sender.
    pub fn ssrc(&self) -> u32 {
        be32(self.body, 0)
    }

    /// The sender information.
    pub fn sender_info(&self) -> SenderInfo {
        let b = self.body;
        SenderInfo {
            ntp_time: be64(b, 4),
            rtp_time: be32(b, 12),
            packet_count: be32(b, 16),
            octet_count: be32(b, 20),
        }
    }

    /// The report blocks.
    pub fn report_blocks(&self) -> ReportBlocks<'a> {
        let s = 4 + SENDER_INFO_LEN;
        ReportBlocks(self.body[s..s + BLOCK_LEN * usize::from(self.count)].chunks_exact(BLOCK_LEN))
    }
}

/// View of a receiver report.
#[derive(Debug, Clone, Copy)]
pub struct ReceiverReport<'a> {
    count: u8,
    body: &'a [u8],
}

impl<'a> ReceiverReport<'a> {
    pub(crate) fn new_checked(count: u8, body: &'a [u8]) -> Result<Self> {
        need(body, 4 + BLOCK_LEN * usize::from(count))?;
        Ok(Self { count, body })
    }

    /// SSRC of the packet sender.
    pub fn ssrc(&self) -> u32 {
        be32(self.body, 0)
    }

    /// The report blocks.
    pub fn report_blocks(&self) -> ReportBlocks<'a> {
        ReportBlocks(self.body[4..4 + BLOCK_LEN * usize::from(self.count)].chunks_exact(BLOCK_LEN))
    }
}

fn check_blocks(n: usize) -> Result<u8> {
    u8::try_from(n)
        .ok()
        .filter(|&c| c <= 31)
        .ok_or(Error::OutOfRange("more than 31 report blocks"))
}

/// A sender report to write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SenderReportRepr<'a> {
    /// SSRC of the sender.
    pub ssrc: u32,
    /// Sender information.
    pub sender_info: SenderInfo,
    /// Report blocks (at most 31).
    pub reports: &'a [ReportBlock],
}

impl SenderReportRepr<'_> {
    /// Length of the packet.
    pub fn buffer_len(&self) -> usize {
        HEADER_LEN + 4 + SENDER_INFO_LEN + BLOCK_LEN * self.reports.len()
    }

    /// Writes the packet; returns its length.
    pub fn emit(&self, buf: &mut [u8]) -> Result<usize> {
        let count = check_blocks(self.reports.len())?;
        let len = self.buffer_len();
        header::write(buf, count, PT_SR, len)?;
        put32(buf, 4, self.ssrc);
        let i = &self.sender_info;
        put64(buf, 8, i.ntp_time);
        put32(buf, 16, i.rtp_time);
        put32(buf, 20, i.packet_count);
        put32(buf, 24, i.octet_count);
        for (k, r) in self.reports.iter().enumerate() {
            let at = 28 + k * BLOCK_LEN;
            r.emit(&mut buf[at..at + BLOCK_LEN]);
        }
        Ok(len)
    }
}

/// A receiver report to write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReceiverReportRepr<'a> {
    /// SSRC of the packet sender.
    pub ssrc: u32,
    /// Report blocks (at most 31).
    pub reports: &'a [ReportBlock],
}

impl ReceiverReportRepr<'_> {
    /// Length of the packet.
    pub fn buffer_len(&self) -> usize {
        HEADER_LEN + 4 + BLOCK_LEN * self.reports.len()
    }

    /// Writes the packet; returns its length.
    pub fn emit(&self, buf: &mut [u8]) -> Result<usize> {
        let count = check_blocks(self.reports.len())?;
        let len = self.buffer_len();
        header::write(buf, count, PT_RR, len)?;
        put32(buf, 4, self.ssrc);
        for (k, r) in self.reports.iter().enumerate() {
            let at = 8 + k * BLOCK_LEN;
            r.emit(&mut buf[at..at + BLOCK_LEN]);
        }
        Ok(len)
    }
}
