//! Goodbye (RFC 3550 section 6.6) and application-defined (section 6.7) packets.

use crate::error::{Error, Result, need};
use crate::rtcp::header::{self, HEADER_LEN, be32, put32};

/// Packet type of BYE.
pub const PT_BYE: u8 = 203;
/// Packet type of APP.
pub const PT_APP: u8 = 204;

/// View of a BYE packet.
#[derive(Debug, Clone, Copy)]
pub struct Bye<'a> {
    count: u8,
    body: &'a [u8],
}

impl<'a> Bye<'a> {
    pub(crate) fn new_checked(count: u8, body: &'a [u8]) -> Result<Self> {
        let n = 4 * usize::from(count);
        need(body, n)?;
        if let Some(&len) = body.get(n) {
            need(body, n + 1 + usize::from(len))?;
        }
        Ok(Self { count, body })
    }

    /// The sources leaving.
    pub fn ssrcs(&self) -> impl Iterator<Item = u32> + 'a {
        let b = self.body;
        (0..usize::from(self.count)).map(move |i| be32(b, 4 * i))
    }

    /// The reason for leaving, if given.
    pub fn reason(&self) -> Option<&'a [u8]> {
        let n = 4 * usize::from(self.count);
        let len = usize::from(*self.body.get(n)?);
        self.body.get(n + 1..n + 1 + len)
    }
}

/// A BYE packet to write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ByeRepr<'a> {
    /// The sources leaving (at most 31).
    pub ssrcs: &'a [u32],
    /// Reason for leaving (at most 255 octets).
    pub reason: Option<&'a [u8]>,
}

impl ByeRepr<'_> {
    /// Length of the packet.
    pub fn buffer_len(&self) -> usize {
        let r = self.reason.map_or(0, |r| 1 + r.len());
        HEADER_LEN + 4 * self.ssrcs.len() + r.div_ceil(4) * 4
    }

    /// Writes the packet; returns its length.
    pub fn emit(&self, buf: &mut [u8]) -> Result<usize> {
        let count = u8::try_from(self.ssrcs.len())
            .ok()
            .filter(|&c| c <= 31)
            .ok_or(Error::OutOfRange("more than 31 BYE sources"))?;
        let len = self.buffer_len();
        header::write(buf, count, PT_BYE, len)?;
        let mut at = HEADER_LEN;
        for &s in self.ssrcs {
            put32(buf, at, s);
            at += 4;
        }
        if let Some(r) = self.reason {
            buf[at] = u8::try_from(r.len()).map_err(|_| Error::OutOfRange("BYE reason"))?;
            buf[at + 1..at + 1 + r.len()].copy_from_slice(r);
            buf[at + 1 + r.len()..len].fill(0);
        }
        Ok(len)
    }
}

/// An APP packet (view and repr are the same plain data).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct App<'a> {
    /// The subtype (5 bits, in the count field).
    pub subtype: u8,
    /// SSRC of the sender.
    pub ssrc: u32,
    /// Four ASCII characters naming the application.
    pub name: [u8; 4],
    /// Application data (a multiple of 4 octets).
    pub data: &'a [u8],
}

impl<'a> App<'a> {
    pub(crate) fn new_checked(count: u8, body: &'a [u8]) -> Result<Self> {
        need(body, 8)?;
        Ok(Self {
            subtype: count,
            ssrc: be32(body, 0),
            name: [body[4], body[5], body[6], body[7]],
            data: &body[8..],
        })
    }

    /// Length of the packet.
    pub fn buffer_len(&self) -> usize {
        HEADER_LEN + 8 + self.data.len()
    }

    /// Writes the packet; returns its length.
    pub fn emit(&self, buf: &mut [u8]) -> Result<usize> {
        if !self.data.len().is_multiple_of(4) {
            return Err(Error::OutOfRange("APP data not a multiple of 4"));
        }
        let len = self.buffer_len();
        header::write(buf, self.subtype, PT_APP, len)?;
        put32(buf, 4, self.ssrc);
        buf[8..12].copy_from_slice(&self.name);
        buf[12..len].copy_from_slice(self.data);
        Ok(len)
    }
}
