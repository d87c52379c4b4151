//! Sending: messages into the engine, and the two ledgers that follow them out.
//!
//! Every channel keeps what it has given the engine and the peer has not acknowledged
//! (`unacked`, which bounds the send buffer and holds back a graceful shutdown), and how much
//! of that has been on the wire at least once (`on_wire`). W3C `bufferedAmount` is the
//! difference: bytes "queued using send() but not yet transmitted to the network". Counting
//! to acknowledgement instead (as pion and webrtc-rs do) ties a sender that keeps a small
//! buffered amount to the round trip: with 4 KiB of 100-byte messages it sent 20 messages
//! per round trip between two threads.
//!
//! The engine tells which bytes went on the wire for the first time and which it no longer
//! holds (acknowledged or abandoned).

use std::time::Instant;

use bytes::Bytes;

use super::SctpTransport;
use crate::ppid;
use crate::{ChannelId, ChannelState, Error, Event, MessageKind};

impl SctpTransport {
    /// Sends a text message (PPID 51, or 56 when empty).
    pub fn send_text(&mut self, now: Instant, id: ChannelId, text: &str) -> Result<(), Error> {
        self.send(now, id, MessageKind::Text, text.as_bytes())
    }

    /// Sends a binary message (PPID 53, or 57 when empty).
    pub fn send_binary(&mut self, now: Instant, id: ChannelId, data: &[u8]) -> Result<(), Error> {
        self.send(now, id, MessageKind::Binary, data)
    }

    /// Sends a message, copying it.
    pub fn send(
        &mut self,
        now: Instant,
        id: ChannelId,
        kind: MessageKind,
        data: &[u8],
    ) -> Result<(), Error> {
        self.check_send(id, data.len())?;
        self.send_bytes(now, id, kind, Bytes::copy_from_slice(data))
    }

    /// Sends a message without copying it.
    ///
    /// Errors: [`Error::MessageTooLarge`] above the peer's max-message-size,
    /// [`Error::WouldBlock`] when the send buffer (bytes not yet acknowledged, over every
    /// channel) is full, then [`Event::Writable`] tells when to try again;
    /// [`Error::ChannelNotOpen`] before [`Event::ChannelOpen`] or after close. Nothing is
    /// queued on error.
    pub fn send_bytes(
        &mut self,
        now: Instant,
        id: ChannelId,
        kind: MessageKind,
        data: Bytes,
    ) -> Result<(), Error> {
        self.check_send(id, data.len())?;
        let len = data.len();
        let (ppid, wire) = match (kind, len) {
            // SCTP cannot carry an empty message: one byte goes with the "empty" PPID.
            (MessageKind::Text, 0) => (ppid::STRING_EMPTY, Bytes::from_static(&[0])),
            (MessageKind::Binary, 0) => (ppid::BINARY_EMPTY, Bytes::from_static(&[0])),
            (MessageKind::Text, _) => (ppid::STRING, data),
            (MessageKind::Binary, _) => (ppid::BINARY, data),
        };
        let wire_len = wire.len();
        self.last_now = Some(now);
        match self.channel_mut(id.0) {
            Some(c) if c.awaiting_ack && !c.info.ordered => c.held.push_back((now, ppid, wire)),
            _ => self.engine.send(now, id.0, ppid, wire)?,
        }
        self.buffered_total += wire_len;
        if let Some(c) = self.channel_mut(id.0) {
            c.unacked += wire_len;
            c.stats.messages_sent += 1;
            c.stats.bytes_sent += len as u64;
        }
        self.stats.messages_sent += 1;
        Ok(())
    }

    fn check_send(&mut self, id: ChannelId, len: usize) -> Result<(), Error> {
        let c = self.channel_slot(id.0).ok_or(Error::UnknownChannel(id.0))?;
        if c.info.state != ChannelState::Open {
            return Err(Error::ChannelNotOpen(id.0));
        }
        if self.shutdown_requested.is_some() {
            return Err(Error::Closed);
        }
        let max = self.config.send_limit();
        if len > max {
            return Err(Error::MessageTooLarge { size: len, max });
        }
        let limit = self.config.send_buffer_limit;
        if self.buffered_total + len.max(1) > limit {
            if !self.blocked.contains(&id.0) {
                self.blocked.push(id.0);
            }
            return Err(Error::WouldBlock {
                buffered: self.buffered_total,
                limit,
            });
        }
        Ok(())
    }

    /// DCEP bytes the engine now holds for stream `id`: acknowledged like any others, so
    /// they are in the ledger, but they are not the application's (`bufferedAmount`).
    pub(super) fn count_control(&mut self, id: u16, len: usize) {
        self.buffered_total += len;
        if let Some(c) = self.channel_mut(id) {
            c.control += len;
        }
    }

    /// `bytes` of stream `stream` went on the wire for the first time: they leave
    /// `bufferedAmount`.
    pub(super) fn transmitted(&mut self, stream: u16, bytes: usize) {
        if let Some(c) = self.channel_mut(stream) {
            let before = c.untransmitted();
            c.on_wire = (c.on_wire + bytes).min(c.unacked);
            let after = c.untransmitted();
            if before > c.low_threshold && after <= c.low_threshold {
                let id = c.info.id;
                self.events.push_back(Event::BufferedAmountLow { id });
            }
        }
    }

    /// The engine no longer holds `bytes` of stream `stream` (acknowledged, abandoned, or
    /// not accepted after all).
    ///
    /// The engine does not say whether released bytes had been transmitted (an expired
    /// partially reliable message can be abandoned before it ever was), so they come off
    /// `on_wire` first and off the untransmitted rest after: `unacked` stays exact, and once
    /// everything is released both are zero.
    pub(super) fn release(&mut self, stream: u16, bytes: usize) {
        self.buffered_total = self.buffered_total.saturating_sub(bytes);
        if let Some(c) = self.channel_mut(stream) {
            let control = bytes.min(c.control);
            c.control -= control;
            let bytes = bytes - control;
            let before = c.untransmitted();
            c.unacked = c.unacked.saturating_sub(bytes);
            c.on_wire = c.on_wire.saturating_sub(bytes).min(c.unacked);
            let after = c.untransmitted();
            if before > c.low_threshold && after <= c.low_threshold {
                let id = c.info.id;
                self.events.push_back(Event::BufferedAmountLow { id });
            }
        }
        let limit = self.config.send_buffer_limit;
        if !self.blocked.is_empty() && self.buffered_total <= limit / 2 {
            for id in std::mem::take(&mut self.blocked) {
                self.events.push_back(Event::Writable { id: ChannelId(id) });
            }
        }
    }
}
