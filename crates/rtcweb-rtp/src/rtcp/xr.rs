//! Extended reports (RFC 3611): receiver reference time (RRTR) and DLRR blocks, which let a
//! receive-only endpoint measure the round-trip time.

use crate::error::{Error, Result, need};
use crate::rtcp::header::{self, HEADER_LEN, be16, be32, be64, put16, put32, put64};

/// Packet type of XR.
pub const PT_XR: u8 = 207;
/// Block type of a receiver reference time report.
pub const BT_RRTR: u8 = 4;
/// Block type of a DLRR report.
pub const BT_DLRR: u8 = 5;

/// One DLRR sub-block (RFC 3611 section 4.5).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DlrrItem {
    /// The receiver this sub-block answers.
    pub ssrc: u32,
    /// Middle 32 bits of the NTP time in its last RRTR (LRR).
    pub last_rr: u32,
    /// Delay since that RRTR in 1/65536 s (DLRR).
    pub delay_since_last_rr: u32,
}

/// One report block of an XR packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum XrBlock<'a> {
    /// Receiver reference time: the NTP time the report was sent.
    Rrtr {
        /// NTP timestamp (32.32).
        ntp_time: u64,
    },
    /// DLRR sub-blocks. On parse this holds the raw sub-blocks; use
    /// [`ExtendedReport::dlrr_items`] to read them.
    Dlrr(DlrrItems<'a>),
    /// A block type this crate does not interpret.
    Other {
        /// Block type.
        block_type: u8,
        /// The type-specific octet.
        type_specific: u8,
        /// Block contents (a multiple of 4 octets).
        data: &'a [u8],
    },
}

/// DLRR sub-blocks: raw octets (parsed) or items (to write).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DlrrItems<'a> {
    /// Raw sub-blocks of a parsed packet, 12 octets each.
    Raw(&'a [u8]),
    /// Items to write.
    Items(&'a [DlrrItem]),
}

impl<'a> DlrrItems<'a> {
    /// The sub-blocks.
    pub fn iter(self) -> impl Iterator<Item = DlrrItem> + 'a {
        let (raw, items): (&'a [u8], &'a [DlrrItem]) = match self {
            DlrrItems::Raw(r) => (r, &[]),
            DlrrItems::Items(i) => (&[], i),
        };
        raw.chunks_exact(12)
            .map(|c| DlrrItem {
                ssrc: be32(c, 0),
                last_rr: be32(c, 4),
                delay_since_last_rr: be32(c, 8),
            })
            .chain(items.iter().copied())
    }

    fn len(&self) -> usize {
        match self {
            DlrrItems::Raw(r) => r.len() / 12,
            DlrrItems::Items(i) => i.len(),
        }
    }
}

impl XrBlock<'_> {
    fn body_len(&self) -> usize {
        match self {
            XrBlock::Rrtr { .. } => 8,
            XrBlock::Dlrr(items) => 12 * items.len(),
            XrBlock::Other { data, .. } => data.len(),
        }
    }
}

/// View of an XR packet.
#[derive(Debug, Clone, Copy)]
pub struct ExtendedReport<'a> {
    /// SSRC of the packet sender.
    pub ssrc: u32,
    blocks: &'a [u8],
}

impl<'a> ExtendedReport<'a> {
    pub(crate) fn new_checked(body: &'a [u8]) -> Result<Self> {
        need(body, 4)?;
        let blocks = &body[4..];
        let mut at = 0;
        while at < blocks.len() {
            need(blocks, at + 4)?;
            let len = 4 + 4 * usize::from(be16(blocks, at + 2));
            need(blocks, at + len)?;
            let bt = blocks[at];
            if (bt == BT_RRTR && len != 12) || (bt == BT_DLRR && (len - 4) % 12 != 0) {
                return Err(Error::Malformed("XR block length"));
            }
            at += len;
        }
        Ok(Self {
            ssrc: be32(body, 0),
            blocks,
        })
    }

    /// The report blocks.
    pub fn blocks(&self) -> impl Iterator<Item = XrBlock<'a>> + 'a {
        let b = self.blocks;
        let mut at = 0;
        std::iter::from_fn(move || {
            let hdr = b.get(at..at + 4)?;
            let len = 4 * usize::from(be16(hdr, 2));
            let data = b.get(at + 4..at + 4 + len)?;
            at += 4 + len;
            Some(match hdr[0] {
                BT_RRTR => XrBlock::Rrtr {
                    ntp_time: be64(data, 0),
                },
                BT_DLRR => XrBlock::Dlrr(DlrrItems::Raw(data)),
                bt => XrBlock::Other {
                    block_type: bt,
                    type_specific: hdr[1],
                    data,
                },
            })
        })
    }

    /// Every DLRR sub-block in the packet.
    pub fn dlrr_items(&self) -> impl Iterator<Item = DlrrItem> + 'a {
        self.blocks()
            .flat_map(|b| match b {
                XrBlock::Dlrr(items) => Some(items.iter()),
                _ => None,
            })
            .flatten()
    }

    /// The NTP time of the first RRTR block, if any.
    pub fn rrtr(&self) -> Option<u64> {
        self.blocks().find_map(|b| match b {
            XrBlock::Rrtr { ntp_time } => Some(ntp_time),
            _ => None,
        })
    }
}

/// An XR packet to write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExtendedReportRepr<'a> {
    /// SSRC of the packet sender.
    pub ssrc: u32,
    /// The blocks.
    pub blocks: &'a [XrBlock<'a>],
}

impl ExtendedReportRepr<'_> {
    /// Length of the packet.
    pub fn buffer_len(&self) -> usize {
        HEADER_LEN + 4 + self.blocks.iter().map(|b| 4 + b.body_len()).sum::<usize>()
    }

    /// Writes the packet; returns its length.
    pub fn emit(&self, buf: &mut [u8]) -> Result<usize> {
        let len = self.buffer_len();
        header::write(buf, 0, PT_XR, len)?;
        put32(buf, 4, self.ssrc);
        let mut at = 8;
        for b in self.blocks {
            let body = b.body_len();
            if body % 4 != 0 {
                return Err(Error::OutOfRange("XR block not a multiple of 4"));
            }
            let words = u16::try_from(body / 4).map_err(|_| Error::OutOfRange("XR block"))?;
            let (bt, ts) = match b {
                XrBlock::Rrtr { .. } => (BT_RRTR, 0),
                XrBlock::Dlrr(_) => (BT_DLRR, 0),
                XrBlock::Other {
                    block_type,
                    type_specific,
                    ..
                } => (*block_type, *type_specific),
            };
            buf[at] = bt;
            buf[at + 1] = ts;
            put16(buf, at + 2, words);
            at += 4;
            match b {
                XrBlock::Rrtr { ntp_time } => put64(buf, at, *ntp_time),
                XrBlock::Dlrr(items) => {
                    for (i, it) in items.iter().enumerate() {
                        put32(buf, at + 12 * i, it.ssrc);
                        put32(buf, at + 12 * i + 4, it.last_rr);
                        put32(buf, at + 12 * i + 8, it.delay_since_last_rr);
                    }
                }
                XrBlock::Other { data, .. } => buf[at..at + data.len()].copy_from_slice(data),
            }
            at += body;
        }
        Ok(len)
    }
}
