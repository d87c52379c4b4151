//! Data channels on the PeerConnection: the SCTP association over DTLS, channels created
//! before the association exists, and their events. [`DataState`] is owned here.

use std::collections::HashMap;
use std::time::Instant;

use rtcweb_sctp::{
    ChannelId, ChannelOptions, Event as SctpEvent, MessageKind, SctpConfig, SctpTransport,
};
use tracing::{debug, warn};

use super::PeerConnection;
use super::outbox::SCTP_EVENTS_QUEUED;
use crate::data_channel::{DataChannelEvent, DataChannelId, DataChannelInit};
use crate::error::Error;
use crate::event::Event;

/// SCTP packets encrypted per drain. A window of data (hundreds of packets once the
/// congestion window has grown) goes out in batches, each sent before the next is encrypted,
/// so the peer starts on the first while we work on the next and acknowledgements that
/// arrive meanwhile are seen early, instead of one long burst each way.
const FLUSH_BATCH: usize = 64;

/// The association and the handle ↔ stream id maps.
#[derive(Debug, Default)]
pub(super) struct DataState {
    association: Association,
    next_handle: u32,
    by_handle: HashMap<DataChannelId, ChannelId>,
    by_stream: HashMap<ChannelId, DataChannelId>,
    /// `a=max-message-size` and ports from the negotiation.
    params: Option<rtcweb_jsep::NegotiatedSctp>,
    /// Set by a send: SCTP holds new data that is packetized (and encrypted) when the owner
    /// next polls, so that messages sent in a burst share packets and records.
    flush_at: Option<Instant>,
    /// The owner's reader is behind: received messages stay in the association.
    reads_paused: bool,
}

/// The SCTP association's life.
#[derive(Debug)]
enum Association {
    /// Not started (DTLS is not up, or no data section was negotiated): channels created
    /// meanwhile wait here, in creation order.
    NotStarted {
        pending: Vec<(DataChannelId, ChannelOptions)>,
    },
    Started(Box<SctpTransport>),
}

impl Default for Association {
    fn default() -> Self {
        Self::NotStarted {
            pending: Vec::new(),
        }
    }
}

impl DataState {
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
        if let Association::NotStarted { pending } = &self.association
            && pending.iter().any(|(p, _)| *p == id)
        {
            // Created before the association existed: it has no stream yet.
            return Err(Error::InvalidState("the data channel is not open yet"));
        }
        Err(Error::Unknown("data channel"))
    }

    /// The association, once started.
    pub(super) fn sctp(&self) -> Option<&SctpTransport> {
        match &self.association {
            Association::Started(sctp) => Some(sctp),
            Association::NotStarted { .. } => None,
        }
    }

    fn sctp_mut(&mut self) -> Option<&mut SctpTransport> {
        match &mut self.association {
            Association::Started(sctp) => Some(sctp),
            Association::NotStarted { .. } => None,
        }
    }

    /// The negotiated `m=application` section's parameters (the latest negotiation's).
    pub(super) fn set_params(&mut self, params: rtcweb_jsep::NegotiatedSctp) {
        self.params = Some(params);
    }

    /// SCTP packets arrived in DTLS application data.
    pub(super) fn handle_input(&mut self, now: Instant, packet: &[u8]) {
        if let Some(sctp) = self.sctp_mut() {
            sctp.handle_input(now, packet);
        }
    }

    pub(super) fn handle_timeout(&mut self, now: Instant) {
        if let Some(sctp) = self.sctp_mut()
            && sctp.poll_timeout().is_some_and(|t| t <= now)
        {
            sctp.handle_timeout(now);
        }
    }

    /// The association's timer, or now while data sent waits to be packetized.
    pub(super) fn poll_timeout(&self) -> Option<Instant> {
        [self.sctp().and_then(|s| s.poll_timeout()), self.flush_at]
            .into_iter()
            .flatten()
            .min()
    }

    /// Shuts the association down (`close()`).
    pub(super) fn shutdown(&mut self, now: Instant) {
        if let Some(sctp) = self.sctp_mut() {
            sctp.shutdown(now);
        }
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
        self.negotiation.add_data_channel();
        self.drain_jsep_events();
        let handle = self.data.new_handle();
        match &mut self.data.association {
            Association::Started(sctp) => {
                let stream = sctp.create_channel(now, options)?;
                self.data.bind(handle, stream);
                self.drain_sctp(now);
            }
            Association::NotStarted { pending } => pending.push((handle, options)),
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
            .sctp_mut()
            .ok_or(Error::InvalidState("data channel not open"))?;
        sctp.send(now, stream, kind, data)?;
        // Packetized on the next poll (see `flush_data`), not per message.
        self.data.flush_at.get_or_insert(now);
        Ok(())
    }

    /// Packetizes what sends left in SCTP. Called when the owner polls with nothing else
    /// queued; `poll_timeout` says "now" while such data waits.
    pub(super) fn flush_data(&mut self) {
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
        if let Some(sctp) = self.data.sctp_mut() {
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
            .sctp()
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
        let sctp = self.data.sctp_mut().ok_or(Error::Unknown("data channel"))?;
        sctp.set_buffered_amount_low_threshold(stream, threshold)?;
        Ok(())
    }

    /// `readyState`, label and the rest, once the channel has a stream.
    pub fn data_channel_info(&self, id: DataChannelId) -> Option<&rtcweb_sctp::ChannelInfo> {
        self.data.sctp()?.channel(self.data.stream(id).ok()?)
    }

    /// `close()` on a channel: its stream is reset; [`DataChannelEvent::Closed`] follows.
    pub fn close_data_channel(&mut self, now: Instant, id: DataChannelId) -> Result<(), Error> {
        if let Association::NotStarted { pending } = &mut self.data.association
            && let Some(pos) = pending.iter().position(|(h, _)| *h == id)
        {
            pending.remove(pos);
            self.push_event(Event::DataChannel(DataChannelEvent::Closed { id }));
            return Ok(());
        }
        let stream = self.data.stream(id)?;
        if let Some(sctp) = self.data.sctp_mut() {
            sctp.close_channel(now, stream)?;
        }
        self.drain_sctp(now);
        Ok(())
    }

    /// Starts the association once DTLS is up and an m=application was negotiated.
    pub(super) fn start_sctp(&mut self, now: Instant) {
        let (Some(params), Some(role)) = (self.data.params, self.transport.dtls_role()) else {
            return;
        };
        let Association::NotStarted { pending } = &mut self.data.association else {
            return;
        };
        let mut config = SctpConfig::default();
        config.local_port = params.local_port;
        config.remote_port = params.remote_port;
        config.remote_max_message_size = match params.remote_max_message_size {
            0 => Some(0),
            n => usize::try_from(n).ok(),
        };
        let mut sctp = match SctpTransport::new(config, role) {
            Ok(s) => s,
            Err(e) => {
                warn!(error = %e, "SCTP transport could not be created");
                return;
            }
        };
        for (handle, options) in std::mem::take(pending) {
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
        self.data.association = Association::Started(Box::new(sctp));
        self.drain_sctp(now);
    }

    /// Moves SCTP events to the owner and up to [`FLUSH_BATCH`] SCTP packets into DTLS; when
    /// SCTP may hold more, the rest follows on the next poll (`flush_at` stays set).
    pub(super) fn drain_sctp(&mut self, now: Instant) {
        self.data.flush_at = None;
        // Each packet's record leaves DTLS before the next goes in: a window of packets at
        // once would overflow the endpoint's bounded transmit queue.
        let mut packets = 0;
        while let Some(p) = self.data.sctp_mut().and_then(|s| s.poll_transmit(now)) {
            packets += 1;
            if packets == FLUSH_BATCH {
                self.data.flush_at = Some(now);
            }
            self.transport.dtls_send(&p);
            while let Some(d) = self.transport.poll_dtls_transmit() {
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
    pub(super) fn pull_sctp_events(&mut self) {
        while self.outbox.queued_events() < SCTP_EVENTS_QUEUED
            && let Some(e) = self.data.sctp_mut().and_then(|s| s.poll_event())
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
                        .sctp()
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
