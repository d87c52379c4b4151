//! The receiving side: messages taken from the engine up to the receive window, DCEP
//! handled, user messages turned into events.

use std::time::Instant;

use bytes::Bytes;

use super::{Channel, SctpTransport};
use crate::dcep::DcepMessage;
use crate::engine::Read;
use crate::ppid;
use crate::{ChannelId, ChannelInfo, ChannelState, Event, Message, MessageKind, TransportState};

impl SctpTransport {
    /// Takes complete messages from the engine into the event queue, up to the window.
    pub(super) fn pump_reads(&mut self, now: Instant) {
        // DATA can arrive before we count as connected: the peer bundles it with (or sends
        // it after) a COOKIE ACK that was lost. It waits until the association is up: a
        // DATA_CHANNEL_OPEN read now could not be acknowledged and would be lost.
        if self.state != TransportState::Connected || self.reads_paused {
            return;
        }
        while self.queued_bytes < self.config.receive_window {
            match self.engine.read(self.config.max_message_size) {
                Read::Message { stream, ppid, data } => self.on_message(now, stream, ppid, data),
                Read::TooLarge { stream, len } => {
                    tracing::debug!(stream, len, "dropped a message above max-message-size");
                    self.stats.messages_dropped += 1;
                }
                Read::Empty => return,
            }
        }
        // The queue is full: the rest waits in the engine, against its receive window.
    }

    fn on_message(&mut self, now: Instant, id: u16, ppid: u32, data: Bytes) {
        let kind = match ppid {
            ppid::DCEP => {
                self.on_dcep(now, id, &data);
                return;
            }
            ppid::STRING | ppid::STRING_PARTIAL | ppid::STRING_EMPTY => MessageKind::Text,
            _ => MessageKind::Binary,
        };
        let data = match ppid {
            ppid::STRING_EMPTY | ppid::BINARY_EMPTY => Bytes::new(),
            _ if kind == MessageKind::Text && std::str::from_utf8(&data).is_err() => {
                Bytes::from(String::from_utf8_lossy(&data).into_owned())
            }
            _ => data,
        };
        let Some(c) = self.channel_mut(id) else {
            self.stats.messages_dropped += 1;
            return;
        };
        if c.info.state != ChannelState::Open {
            self.stats.messages_dropped += 1;
            return;
        }
        c.stats.messages_received += 1;
        c.stats.bytes_received += data.len() as u64;
        self.stats.messages_received += 1;
        self.queued_bytes += queued_cost(data.len());
        self.events.push_back(Event::Message {
            id: ChannelId(id),
            message: Message { kind, data },
        });
    }

    fn on_dcep(&mut self, now: Instant, id: u16, data: &[u8]) {
        match DcepMessage::parse(data) {
            Ok(DcepMessage::Open(open)) => {
                if self.channel_slot(id).is_some() {
                    tracing::debug!(id, "DATA_CHANNEL_OPEN for a stream in use, ignored");
                    self.stats.messages_dropped += 1;
                    return;
                }
                let c = Channel::new(ChannelInfo::from_open(ChannelId(id), open));
                let policy = c.policy();
                let ack = DcepMessage::Ack.to_vec().map(Bytes::from);
                let sent = match self.engine.set_policy(id, policy) {
                    Ok(()) => ack.and_then(|ack| {
                        let len = ack.len();
                        self.engine.send(now, id, ppid::DCEP, ack).map(|()| len)
                    }),
                    Err(e) => Err(e),
                };
                let Ok(len) = sent else {
                    self.stats.messages_dropped += 1;
                    return;
                };
                self.insert(c);
                self.count_control(id, len);
                self.stats.channels_opened += 1;
                self.events.push_back(Event::ChannelOpen {
                    id: ChannelId(id),
                    remote: true,
                });
            }
            Ok(DcepMessage::Ack) => {
                let Some(c) = self.channel_mut(id) else {
                    return;
                };
                if c.awaiting_ack {
                    c.awaiting_ack = false;
                    let policy = c.policy();
                    let held = std::mem::take(&mut c.held);
                    if policy.unordered {
                        let _ = self.engine.set_policy(id, policy);
                    }
                    // Sent with their original time, so lifetimes count from `send`.
                    for (at, ppid, data) in held {
                        let len = data.len();
                        if self.engine.send(at, id, ppid, data).is_err() {
                            self.release(id, len);
                        }
                    }
                }
            }
            Err(e) => {
                tracing::debug!(id, %e, "malformed DCEP message dropped");
                self.stats.messages_dropped += 1;
            }
        }
    }
}

/// What a received message waiting in the event queue counts against the receive window:
/// its bytes and a share for the event itself, so that a peer sending empty messages (one
/// byte on the wire, none in the event) cannot queue them without bound.
pub(super) fn queued_cost(len: usize) -> usize {
    len + 64
}
