//! Data channels on the PeerConnection: the SCTP association over DTLS, channels created
//! before the association exists, and their events.

use std::collections::HashMap;
use std::time::Instant;

use rtcweb_core::{Rng, Seed};
use rtcweb_sctp::{
    ChannelId, ChannelOptions, Event as SctpEvent, MessageKind, SctpConfig, SctpTransport,
};
use tracing::{debug, warn};

use crate::error::Error;
use crate::event::Event;
use crate::pc::{PeerConnection, SCTP_EVENTS_QUEUED};

pub use rtcweb_sctp::{ChannelState as DataChannelState, Priority, Reliability};

/// SCTP packets encrypted per drain. A window of data (hundreds of packets once the
/// congestion window has grown) goes out in batches, each sent before the next is encrypted,
/// so the peer starts on the first while we work on the next and acknowledgements that
/// arrive meanwhile are seen early, instead of one long burst each way.
const FLUSH_BATCH: usize = 64;

/// A data channel handle, stable from `createDataChannel` on (the SCTP stream id is only
/// known once the DTLS role is).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DataChannelId(pub u32);

/// `RTCDataChannelInit`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DataChannelInit {
    /// `ordered` (default true).
    pub ordered: Option<bool>,
    /// `maxPacketLifeTime` in milliseconds.
    pub max_packet_life_time: Option<u32>,
    /// `maxRetransmits`.
    pub max_retransmits: Option<u32>,
    /// `protocol`.
    pub protocol: String,
    /// `negotiated` with this `id` (both sides create it; no DCEP).
    pub negotiated_id: Option<u16>,
    /// `priority`.
    pub priority: Option<Priority>,
}

impl DataChannelInit {
    fn options(&self, label: &str) -> ChannelOptions {
        let mut o = ChannelOptions::new(label).protocol(self.protocol.clone());
        if let Some(ordered) = self.ordered {
            o = o.ordered(ordered);
        }
        if let Some(ms) = self.max_packet_life_time {
            o = o.max_packet_life_time(ms);
        }
        if let Some(n) = self.max_retransmits {
            o = o.max_retransmits(n);
        }
        if let Some(id) = self.negotiated_id {
            o = o.negotiated(id);
        }
        if let Some(p) = self.priority {
            o = o.priority(p);
        }
        o
    }
}

/// Data channel events, inside [`Event::DataChannel`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum DataChannelEvent {
    /// The peer opened a channel (the W3C `datachannel` event); it is open.
    Incoming {
        /// Our handle for it.
        id: DataChannelId,
        /// Its label.
        label: String,
        /// Its protocol.
        protocol: String,
    },
    /// A channel we created is open.
    Open {
        /// The channel.
        id: DataChannelId,
    },
    /// A message arrived.
    Message {
        /// The channel.
        id: DataChannelId,
        /// The payload (UTF-8 for text).
        data: Vec<u8>,
        /// Binary (true) or text (false).
        binary: bool,
    },
    /// The buffered amount fell to the low threshold.
    BufferedAmountLow {
        /// The channel.
        id: DataChannelId,
    },
    /// A send on the channel failed with `WouldBlock` (the association's send buffer of
    /// unacknowledged bytes was full) and there is room again.
    Writable {
        /// The channel.
        id: DataChannelId,
    },
    /// The channel closed.
    Closed {
        /// The channel.
        id: DataChannelId,
    },
}

/// The association and the handle ↔ stream id maps.
#[derive(Debug, Default)]
pub(crate) struct DataState {
    pub(crate) sctp: Option<SctpTransport>,
    next_handle: u32,
    /// Channels created before the association existed, in creation order.
    pending: Vec<(DataChannelId, ChannelOptions)>,
    by_handle: HashMap<DataChannelId, ChannelId>,
    by_stream: HashMap<ChannelId, DataChannelId>,
    /// `a=max-message-size` and ports from the negotiation.
    pub(crate) sctp_params: Option<rtcweb_jsep::NegotiatedSctp>,
    /// Set by a send: SCTP holds new data that is packetized (and encrypted) when the owner
    /// next polls, so that messages sent in a burst share packets and records.
    pub(crate) flush_at: Option<Instant>,
    /// The owner's reader is behind: received messages stay in the association.
    reads_paused: bool,
    /// Seeds of the associations' random values (verification tags, initial TSNs,
    /// heartbeat nonces), from the connection's seed: a seeded connection's SCTP is as
    /// reproducible as its ICE and DTLS.
    seeds: Option<Rng>,
}

impl DataState {
    /// Empty, with the associations' randomness drawn from `seed`.
    pub(crate) fn new(seed: Seed) -> Self {
        Self {
            seeds: Some(Rng::new(seed)),
            ..Self::default()
        }
    }

    /// The engine's configuration for an association negotiated with `params`.
    fn sctp_config(&mut self, params: &rtcweb_jsep::NegotiatedSctp) -> SctpConfig {
        let mut config = SctpConfig::default();
        config.local_port = params.local_port;
        config.remote_port = params.remote_port;
        config.remote_max_message_size = match params.remote_max_message_size {
            0 => Some(0),
            n => usize::try_from(n).ok(),
        };
        config.rng_seed = self.seeds.as_mut().map(Rng::next_u64);
        config
    }

    fn new_handle(&mut self) -> DataChannelId {
        self.next_handle += 1;
        DataChannelId(self.next_handle)
    }

    fn bind(&mut self, handle: DataChannelId, stream: ChannelId) {
        self.by_handle.insert(handle, stream);
        self.by_stream.insert(stream, handle);
    }

    fn stream(&self, id: DataChannelId) -> Result<ChannelId, Error> {
        if let Some(stream) = self.by_handle.get(&id) {
            return Ok(*stream);
        }
        if self.pending.iter().any(|(pending, _)| *pending == id) {
            // Created before the association existed: it has no stream yet.
            return Err(Error::InvalidState("the data channel is not open yet"));
        }
        Err(Error::Unknown("data channel"))
    }
}

impl PeerConnection {
    /// `createDataChannel(label, init)`. The first one asks for an `m=application` section
    /// in the next offer ([`Event::NegotiationNeeded`]).
    pub fn create_data_channel(
        &mut self,
        now: Instant,
        label: &str,
        init: &DataChannelInit,
    ) -> Result<DataChannelId, Error> {
        if self.closed {
            return Err(Error::InvalidState("closed"));
        }
        let options = init.options(label);
        options.reliability().map_err(Error::Sctp)?;
        self.jsep.add_data_channel();
        self.drain_jsep_events();
        let handle = self.data.new_handle();
        match self.data.sctp.as_mut() {
            Some(sctp) => {
                let stream = sctp.create_channel(now, options)?;
                self.data.bind(handle, stream);
                self.drain_sctp(now);
            }
            None => self.data.pending.push((handle, options)),
        }
        Ok(handle)
    }

    /// Sends a text message.
    pub fn send_text(&mut self, now: Instant, id: DataChannelId, text: &str) -> Result<(), Error> {
        self.send_message(now, id, MessageKind::Text, text.as_bytes())
    }

    /// Sends a binary message.
    pub fn send_binary(
        &mut self,
        now: Instant,
        id: DataChannelId,
        data: &[u8],
    ) -> Result<(), Error> {
        self.send_message(now, id, MessageKind::Binary, data)
    }

    fn send_message(
        &mut self,
        now: Instant,
        id: DataChannelId,
        kind: MessageKind,
        data: &[u8],
    ) -> Result<(), Error> {
        let stream = self.data.stream(id)?;
        let sctp = self
            .data
            .sctp
            .as_mut()
            .ok_or(Error::InvalidState("data channel not open"))?;
        sctp.send(now, stream, kind, data)?;
        // Packetized on the next poll (see `flush_data`), not per message.
        self.data.flush_at.get_or_insert(now);
        Ok(())
    }

    /// Packetizes what sends left in SCTP. Called when the owner polls with nothing else
    /// queued; `poll_timeout` says "now" while such data waits.
    pub(crate) fn flush_data(&mut self) {
        if let Some(now) = self.data.flush_at {
            self.drain_sctp(now);
            self.update_state();
        }
    }

    /// Stops (`true`) or resumes (`false`) delivering received data-channel messages.
    ///
    /// For an owner whose reader has fallen behind: instead of queueing messages without
    /// bound, or dropping them on a reliable channel, they stay in the SCTP association,
    /// whose receive window closes so that the peer stops sending. Resuming delivers what
    /// waited, in order, as [`DataChannelEvent::Message`] events.
    pub fn pause_data_channel_reads(&mut self, now: Instant, paused: bool) {
        if self.data.reads_paused == paused {
            return;
        }
        self.data.reads_paused = paused;
        if let Some(sctp) = self.data.sctp.as_mut() {
            sctp.pause_reads(now, paused);
            // Resuming turns what waited into events, and the SACKs that follow carry the
            // reopened window.
            self.drain_sctp(now);
        }
    }

    /// `bufferedAmount`.
    pub fn buffered_amount(&self, id: DataChannelId) -> usize {
        let Ok(stream) = self.data.stream(id) else {
            return 0;
        };
        self.data
            .sctp
            .as_ref()
            .and_then(|s| s.buffered_amount(stream))
            .unwrap_or(0)
    }

    /// `bufferedAmountLowThreshold`.
    pub fn set_buffered_amount_low_threshold(
        &mut self,
        id: DataChannelId,
        threshold: usize,
    ) -> Result<(), Error> {
        let stream = self.data.stream(id)?;
        let sctp = self
            .data
            .sctp
            .as_mut()
            .ok_or(Error::Unknown("data channel"))?;
        sctp.set_buffered_amount_low_threshold(stream, threshold)?;
        Ok(())
    }

    /// `readyState`, label and the rest, once the channel has a stream.
    pub fn data_channel_info(&self, id: DataChannelId) -> Option<&rtcweb_sctp::ChannelInfo> {
        self.data.sctp.as_ref()?.channel(self.data.stream(id).ok()?)
    }

    /// `close()` on a channel: its stream is reset; [`DataChannelEvent::Closed`] follows.
    pub fn close_data_channel(&mut self, now: Instant, id: DataChannelId) -> Result<(), Error> {
        if let Some(pos) = self.data.pending.iter().position(|(h, _)| *h == id) {
            self.data.pending.remove(pos);
            self.push_event(Event::DataChannel(DataChannelEvent::Closed { id }));
            return Ok(());
        }
        let stream = self.data.stream(id)?;
        if let Some(sctp) = self.data.sctp.as_mut() {
            sctp.close_channel(now, stream)?;
        }
        self.drain_sctp(now);
        Ok(())
    }

    /// Starts the association once DTLS is up and an m=application was negotiated.
    pub(crate) fn start_sctp(&mut self, now: Instant) {
        let (Some(params), Some((role, _))) = (self.data.sctp_params, self.dtls_params.as_ref())
        else {
            return;
        };
        if self.data.sctp.is_some() {
            return;
        }
        let config = self.data.sctp_config(&params);
        let mut sctp = match SctpTransport::new(config, *role) {
            Ok(s) => s,
            Err(e) => {
                warn!(error = %e, "SCTP transport could not be created");
                return;
            }
        };
        for (handle, options) in std::mem::take(&mut self.data.pending) {
            match sctp.create_channel(now, options) {
                Ok(stream) => self.data.bind(handle, stream),
                Err(e) => {
                    warn!(error = %e, "data channel could not be created");
                    self.push_event(Event::DataChannel(DataChannelEvent::Closed { id: handle }));
                }
            }
        }
        sctp.pause_reads(now, self.data.reads_paused);
        if let Err(e) = sctp.start(now) {
            warn!(error = %e, "SCTP did not start");
        }
        self.data.sctp = Some(sctp);
        self.drain_sctp(now);
    }

    /// SCTP packets arrived in DTLS application data.
    pub(crate) fn sctp_input(&mut self, now: Instant, packet: &[u8]) {
        if let Some(sctp) = self.data.sctp.as_mut() {
            sctp.handle_input(now, packet);
        }
    }

    /// Moves SCTP events to the owner and up to [`FLUSH_BATCH`] SCTP packets into DTLS; when
    /// SCTP may hold more, the rest follows on the next poll (`flush_at` stays set).
    pub(crate) fn drain_sctp(&mut self, now: Instant) {
        self.data.flush_at = None;
        // Each packet's record leaves DTLS before the next goes in: a window of packets at
        // once would overflow the endpoint's bounded transmit queue.
        let mut packets = 0;
        while let Some(p) = self.data.sctp.as_mut().and_then(|s| s.poll_transmit(now)) {
            packets += 1;
            if packets == FLUSH_BATCH {
                self.data.flush_at = Some(now);
            }
            let Some(dtls) = self.dtls.as_mut() else {
                continue;
            };
            if let Err(e) = dtls.send(&p) {
                debug!(error = %e, "SCTP packet not sent over DTLS");
            }
            while let Some(d) = self.dtls.as_mut().and_then(|d| d.poll_transmit()) {
                self.send_app(now, d);
            }
            if packets == FLUSH_BATCH {
                break;
            }
        }
        self.pull_sctp_events();
        self.drain_dtls(now);
    }

    /// Moves SCTP events to the owner's queue while it has room for them. What does not fit
    /// waits in SCTP, whose receive window closes until the owner polls, rather than being
    /// dropped as the oldest of a full queue (a burst of small messages in one receive
    /// batch is thousands of events).
    pub(crate) fn pull_sctp_events(&mut self) {
        while self.queued_events() < SCTP_EVENTS_QUEUED
            && let Some(e) = self.data.sctp.as_mut().and_then(|s| s.poll_event())
        {
            self.on_sctp_event(e);
        }
    }

    fn on_sctp_event(&mut self, event: SctpEvent) {
        let handle_of =
            |data: &mut DataState, stream: ChannelId| data.by_stream.get(&stream).copied();
        match event {
            SctpEvent::ChannelOpen { id: stream, remote } => {
                if remote {
                    let handle = self.data.new_handle();
                    self.data.bind(handle, stream);
                    let (label, protocol) = self
                        .data
                        .sctp
                        .as_ref()
                        .and_then(|s| s.channel(stream))
                        .map(|i| (i.label.clone(), i.protocol.clone()))
                        .unwrap_or_default();
                    self.push_event(Event::DataChannel(DataChannelEvent::Incoming {
                        id: handle,
                        label,
                        protocol,
                    }));
                } else if let Some(id) = handle_of(&mut self.data, stream) {
                    self.push_event(Event::DataChannel(DataChannelEvent::Open { id }));
                }
            }
            SctpEvent::Message {
                id: stream,
                message,
            } => {
                if let Some(id) = handle_of(&mut self.data, stream) {
                    let binary = message.kind == MessageKind::Binary;
                    // Without a copy when the engine handed over the only reference.
                    let data = Vec::from(message.data);
                    self.push_event(Event::DataChannel(DataChannelEvent::Message {
                        id,
                        data,
                        binary,
                    }));
                }
            }
            SctpEvent::BufferedAmountLow { id: stream } => {
                if let Some(id) = handle_of(&mut self.data, stream) {
                    self.push_event(Event::DataChannel(DataChannelEvent::BufferedAmountLow {
                        id,
                    }));
                }
            }
            SctpEvent::Writable { id: stream } => {
                if let Some(id) = handle_of(&mut self.data, stream) {
                    self.push_event(Event::DataChannel(DataChannelEvent::Writable { id }));
                }
            }
            SctpEvent::ChannelClosed { id: stream } => {
                if let Some(id) = self.data.by_stream.remove(&stream) {
                    self.data.by_handle.remove(&id);
                    self.push_event(Event::DataChannel(DataChannelEvent::Closed { id }));
                }
            }
            SctpEvent::Closed { reason } => debug!(?reason, "SCTP association closed"),
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params() -> rtcweb_jsep::NegotiatedSctp {
        rtcweb_jsep::NegotiatedSctp {
            local_port: 5000,
            remote_port: 5000,
            remote_max_message_size: 0,
        }
    }

    #[test]
    fn the_association_is_seeded_from_the_connections_seed() {
        let seed = |n| {
            let mut data = DataState::new(Seed::from_u64(n));
            data.sctp_config(&params()).rng_seed
        };
        // Same connection seed, same association randomness; another seed, another.
        assert!(seed(7).is_some());
        assert_eq!(seed(7), seed(7));
        assert_ne!(seed(7), seed(8));
        // A second association of one connection gets a seed of its own.
        let mut data = DataState::new(Seed::from_u64(7));
        let first = data.sctp_config(&params()).rng_seed;
        assert_ne!(first, data.sctp_config(&params()).rng_seed);
        // The negotiated values carry over.
        let config = data.sctp_config(&params());
        assert_eq!((config.local_port, config.remote_port), (5000, 5000));
        assert_eq!(config.remote_max_message_size, Some(0));
    }
}
