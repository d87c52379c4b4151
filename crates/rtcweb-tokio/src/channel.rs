//! `DataChannel`: an async handle to one data channel.

use std::sync::{Arc, Mutex};
use std::time::Instant;

use rtcweb::DataChannelId;
use tokio::sync::{Notify, mpsc, watch};

use crate::error::Error;
use crate::peer::HandleGuard;

/// A received message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    /// The payload (UTF-8 for text).
    pub data: Vec<u8>,
    /// Binary (true) or text (false).
    pub binary: bool,
}

impl Message {
    /// The text of a text message.
    pub fn text(&self) -> Option<&str> {
        if self.binary {
            None
        } else {
            std::str::from_utf8(&self.data).ok()
        }
    }
}

/// Messages queued for a channel the application does not read, before new ones are
/// dropped (counted in [`DataChannel::dropped`]).
const CHANNEL_QUEUE: usize = 65_536;

/// The driver's side of a channel.
pub(crate) struct ChannelSlot {
    pub(crate) label: String,
    tx: mpsc::Sender<Message>,
    rx: Arc<tokio::sync::Mutex<mpsc::Receiver<Message>>>,
    state: watch::Sender<ChannelState>,
    pub(crate) buffered_low: Arc<Notify>,
    dropped: Arc<std::sync::atomic::AtomicU64>,
}

/// Where a channel is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChannelState {
    /// Not open yet.
    Connecting,
    /// Open.
    Open,
    /// Closed.
    Closed,
}

impl ChannelSlot {
    pub(crate) fn new(label: &str) -> Self {
        let (tx, rx) = mpsc::channel(CHANNEL_QUEUE);
        let (state, _) = watch::channel(ChannelState::Connecting);
        Self {
            label: label.to_owned(),
            tx,
            rx: Arc::new(tokio::sync::Mutex::new(rx)),
            state,
            buffered_low: Arc::new(Notify::new()),
            dropped: Arc::default(),
        }
    }

    pub(crate) fn set_open(&self) {
        self.state.send_replace(ChannelState::Open);
    }

    pub(crate) fn set_closed(&self) {
        self.state.send_replace(ChannelState::Closed);
        self.buffered_low.notify_waiters();
    }

    pub(crate) fn deliver(&self, m: Message) {
        if self.tx.try_send(m).is_err() {
            self.dropped
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        }
    }
}

/// An async data channel. Cheap to clone; every clone sees the same messages queue (so read
/// from one place).
#[derive(Clone)]
pub struct DataChannel {
    guard: Arc<HandleGuard>,
    id: DataChannelId,
    label: String,
    rx: Arc<tokio::sync::Mutex<mpsc::Receiver<Message>>>,
    state: watch::Receiver<ChannelState>,
    buffered_low: Arc<Notify>,
    dropped: Arc<std::sync::atomic::AtomicU64>,
    threshold: Arc<Mutex<usize>>,
}

impl std::fmt::Debug for DataChannel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DataChannel")
            .field("id", &self.id)
            .field("label", &self.label)
            .finish()
    }
}

impl DataChannel {
    /// A handle on `slot`. The caller may hold the connection's lock (the driver does).
    pub(crate) fn new(guard: Arc<HandleGuard>, id: DataChannelId, slot: &ChannelSlot) -> Self {
        Self {
            guard,
            id,
            label: slot.label.clone(),
            rx: slot.rx.clone(),
            state: slot.state.subscribe(),
            buffered_low: slot.buffered_low.clone(),
            dropped: slot.dropped.clone(),
            threshold: Arc::default(),
        }
    }

    /// The channel's label.
    pub fn label(&self) -> &str {
        &self.label
    }

    /// The channel's handle in its PeerConnection.
    pub fn id(&self) -> DataChannelId {
        self.id
    }

    /// The state now.
    pub fn state(&self) -> ChannelState {
        *self.state.borrow()
    }

    /// Waits until the channel is open; `Err(Closed)` if it closes first.
    pub async fn wait_open(&self) -> Result<(), Error> {
        let mut s = self.state.clone();
        match s.wait_for(|s| *s != ChannelState::Connecting).await {
            Ok(s) if *s == ChannelState::Open => Ok(()),
            _ => Err(Error::Closed),
        }
    }

    fn with<T>(&self, f: impl FnOnce(&mut rtcweb::PeerConnection, Instant) -> T) -> T {
        let shared = &self.guard.0;
        let out = {
            let mut inner = shared.lock();
            f(&mut inner.pc, Instant::now())
        };
        shared.wake.notify_one();
        out
    }

    /// Like `with`, for calls that produce nothing to send: the driver is not woken (a
    /// sender polling `bufferedAmount` per message would otherwise wake it per message).
    fn peek<T>(&self, f: impl FnOnce(&mut rtcweb::PeerConnection) -> T) -> T {
        f(&mut self.guard.0.lock().pc)
    }

    /// Sends a text message now; `Err(Rtc(Sctp(WouldBlock)))` when the send buffer is full.
    pub fn try_send_text(&self, text: &str) -> Result<(), Error> {
        Ok(self.with(|pc, now| pc.send_text(now, self.id, text))?)
    }

    /// Sends a binary message now; `Err(...WouldBlock)` when the send buffer is full.
    pub fn try_send(&self, data: &[u8]) -> Result<(), Error> {
        Ok(self.with(|pc, now| pc.send_binary(now, self.id, data))?)
    }

    /// Sends a text message, waiting while the send buffer is full.
    pub async fn send_text(&self, text: &str) -> Result<(), Error> {
        self.send_inner(text.as_bytes(), false).await
    }

    /// Sends a binary message, waiting while the send buffer is full.
    pub async fn send(&self, data: &[u8]) -> Result<(), Error> {
        self.send_inner(data, true).await
    }

    async fn send_inner(&self, data: &[u8], binary: bool) -> Result<(), Error> {
        loop {
            let notified = self.buffered_low.notified();
            let r = self.with(|pc, now| {
                if binary {
                    pc.send_binary(now, self.id, data)
                } else {
                    // The caller gave us a &str; it is UTF-8.
                    pc.send_text(now, self.id, std::str::from_utf8(data).unwrap_or_default())
                }
            });
            match r {
                Err(rtcweb::Error::Sctp(rtcweb_sctp::Error::WouldBlock { .. })) => {
                    if self.state() == ChannelState::Closed {
                        return Err(Error::Closed);
                    }
                    // Wake when the buffer drains below the threshold.
                    let threshold = self.buffered_amount() / 2;
                    self.set_buffered_amount_low_threshold(threshold);
                    notified.await;
                }
                other => return Ok(other?),
            }
        }
    }

    /// `bufferedAmount`.
    pub fn buffered_amount(&self) -> usize {
        self.peek(|pc| pc.buffered_amount(self.id))
    }

    /// `bufferedAmountLowThreshold`.
    pub fn set_buffered_amount_low_threshold(&self, threshold: usize) {
        if let Ok(mut t) = self.threshold.lock() {
            *t = threshold;
        }
        let _ = self.peek(|pc| pc.set_buffered_amount_low_threshold(self.id, threshold));
    }

    /// Waits until `bufferedAmount` is at or below `threshold`.
    pub async fn buffered_amount_low(&self, threshold: usize) {
        loop {
            let notified = self.buffered_low.notified();
            if self.buffered_amount() <= threshold || self.state() == ChannelState::Closed {
                return;
            }
            self.set_buffered_amount_low_threshold(threshold);
            notified.await;
        }
    }

    /// The next message; `None` once the channel is closed and drained.
    pub async fn recv(&self) -> Option<Message> {
        let mut rx = self.rx.lock().await;
        let mut state = self.state.clone();
        loop {
            if let Ok(m) = rx.try_recv() {
                return Some(m);
            }
            if *state.borrow() == ChannelState::Closed {
                return None;
            }
            tokio::select! {
                m = rx.recv() => return m,
                r = state.changed() => if r.is_err() { return None },
            }
        }
    }

    /// Messages dropped because nobody read them.
    pub fn dropped(&self) -> u64 {
        self.dropped.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// `close()`.
    pub fn close(&self) {
        let _ = self.with(|pc, now| pc.close_data_channel(now, self.id));
    }
}
