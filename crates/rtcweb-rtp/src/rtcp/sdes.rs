//! Source description (RFC 3550 section 6.5).

use crate::error::{Error, Result, room};
use crate::rtcp::header::{self, HEADER_LEN, be32, put32};

/// Packet type of SDES.
pub const PT_SDES: u8 = 202;

/// SDES item type CNAME.
pub const CNAME: u8 = 1;

/// One SDES item: its type (1 = CNAME, 2 = NAME, ...) and value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SdesItem<'a> {
    /// Item type.
    pub kind: u8,
    /// Item value (UTF-8 by the RFC, not checked here).
    pub value: &'a [u8],
}

/// One chunk: an SSRC or CSRC and its items.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SdesChunk<'a> {
    /// The source described.
    pub ssrc: u32,
    /// Its items.
    pub items: &'a [SdesItem<'a>],
}

/// Walks one chunk starting at `at`; returns (items range, offset after the chunk).
fn walk_chunk(body: &[u8], at: usize) -> Result<(usize, usize, usize)> {
    let items_start = at + 4;
    if body.len() < items_start {
        return Err(Error::Malformed("SDES chunk"));
    }
    let mut i = items_start;
    loop {
        let Some(&kind) = body.get(i) else {
            return Err(Error::Malformed("SDES chunk without end"));
        };
        if kind == 0 {
            let items_end = i;
            // The null item, then pad to the next 32-bit boundary.
            let next = (i + 1).div_ceil(4) * 4;
            if next > body.len() {
                return Err(Error::Malformed("SDES padding"));
            }
            return Ok((items_start, items_end, next));
        }
        let Some(&len) = body.get(i + 1) else {
            return Err(Error::Malformed("SDES item"));
        };
        i += 2 + usize::from(len);
        if i > body.len() {
            return Err(Error::Malformed("SDES item"));
        }
    }
}

/// View of an SDES packet.
#[derive(Debug, Clone, Copy)]
pub struct Sdes<'a> {
    count: u8,
    body: &'a [u8],
}

impl<'a> Sdes<'a> {
    pub(crate) fn new_checked(count: u8, body: &'a [u8]) -> Result<Self> {
        let mut at = 0;
        for _ in 0..count {
            at = walk_chunk(body, at)?.2;
        }
        Ok(Self { count, body })
    }

    /// The chunks, each as `(ssrc, items)`.
    pub fn chunks(&self) -> impl Iterator<Item = (u32, SdesItems<'a>)> + 'a {
        let body = self.body;
        let mut at = 0;
        (0..self.count).filter_map(move |_| {
            // Validated in new_checked, so this never fails.
            let (s, e, next) = walk_chunk(body, at).ok()?;
            let ssrc = be32(body, at);
            at = next;
            Some((ssrc, SdesItems(&body[s..e])))
        })
    }

    /// The CNAME of the first chunk, if any.
    pub fn cname(&self) -> Option<(u32, &'a [u8])> {
        self.chunks().find_map(|(ssrc, mut items)| {
            items
                .find(|i| i.kind == CNAME)
                .map(|item| (ssrc, item.value))
        })
    }
}

/// Items of one chunk.
#[derive(Debug, Clone)]
pub struct SdesItems<'a>(&'a [u8]);

impl<'a> Iterator for SdesItems<'a> {
    type Item = SdesItem<'a>;
    fn next(&mut self) -> Option<SdesItem<'a>> {
        let (&kind, rest) = self.0.split_first()?;
        let (&len, rest) = rest.split_first()?;
        let value = rest.get(..usize::from(len))?;
        self.0 = &rest[usize::from(len)..];
        Some(SdesItem { kind, value })
    }
}

/// An SDES packet to write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SdesRepr<'a> {
    /// Chunks (at most 31).
    pub chunks: &'a [SdesChunk<'a>],
}

impl SdesRepr<'_> {
    fn chunk_len(c: &SdesChunk<'_>) -> usize {
        let items: usize = c.items.iter().map(|i| 2 + i.value.len()).sum();
        (4 + items + 1).div_ceil(4) * 4
    }

    /// Length of the packet.
    pub fn buffer_len(&self) -> usize {
        HEADER_LEN + self.chunks.iter().map(Self::chunk_len).sum::<usize>()
    }

    /// Writes the packet; returns its length.
    pub fn emit(&self, buf: &mut [u8]) -> Result<usize> {
        let count = u8::try_from(self.chunks.len())
            .ok()
            .filter(|&c| c <= 31)
            .ok_or(Error::OutOfRange("more than 31 SDES chunks"))?;
        let len = self.buffer_len();
        room(buf, len)?;
        header::write(buf, count, PT_SDES, len)?;
        let mut at = HEADER_LEN;
        for c in self.chunks {
            let end = at + Self::chunk_len(c);
            put32(buf, at, c.ssrc);
            let mut i = at + 4;
            for item in c.items {
                if item.kind == 0 {
                    return Err(Error::OutOfRange("SDES item type 0"));
                }
                let l = u8::try_from(item.value.len())
                    .map_err(|_| Error::OutOfRange("SDES item length"))?;
                buf[i] = item.kind;
                buf[i + 1] = l;
                buf[i + 2..i + 2 + item.value.len()].copy_from_slice(item.value);
                i += 2 + item.value.len();
            }
            buf[i..end].fill(0);
            at = end;
        }
        Ok(len)
    }
}
