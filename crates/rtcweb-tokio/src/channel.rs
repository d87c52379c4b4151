//! `DataChannel`: an async handle to one data channel.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
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

/// Unread bytes over a connection's channels at which the driver stops taking messages
/// from SCTP, so that the peer's window closes instead of our memory growing (the default
/// of [`PeerConfig::max_unread`](crate::PeerConfig::max_unread)). Reads resume at half.
pub(crate) const PAUSE_READS_AT: usize = 16 << 20;

/// What a message costs beyond its payload, so a flood of empty messages counts too.
const PER_MESSAGE: usize = 64;

fn cost(m: &Message) -> usize {
    m.data.len() + PER_MESSAGE
}

/// Received bytes the application has not read yet, over every channel of one connection.
/// At `pause_at` the driver pauses reads; a reader that brings the count down to half of
/// it wakes the driver to resume them.
pub(crate) struct Unread {
    bytes: AtomicUsize,
    paused: AtomicBool,
    wake: Arc<Notify>,
    pause_at: usize,
}

impl Unread {
    pub(crate) fn new(wake: Arc<Notify>, pause_at: usize) -> Self {
        Self {
            bytes: AtomicUsize::new(0),
            paused: AtomicBool::new(false),
            wake,
            pause_at: pause_at.max(1),
        }
    }

    fn resume_at(&self) -> usize {
        self.pause_at / 2
    }

    fn release(&self, n: usize) {
        let before = self.bytes.fetch_sub(n, Ordering::SeqCst);
        // Pairs with the re-check in `regulate`: either we see the pause and wake the
        // driver, or the driver sees our release and does not pause.
        if self.paused.load(Ordering::SeqCst) && before.saturating_sub(n) <= self.resume_at() {
            self.wake.notify_one();
        }
    }

    /// The driver's decision: `Some(true)` to pause reads now, `Some(false)` to resume
    /// them, `None` to leave them as they are.
    pub(crate) fn regulate(&self) -> Option<bool> {
        let paused = self.paused.load(Ordering::SeqCst);
        let bytes = self.bytes.load(Ordering::SeqCst);
        if !paused && bytes >= self.pause_at {
            self.paused.store(true, Ordering::SeqCst);
            if self.bytes.load(Ordering::SeqCst) > self.resume_at() {
                return Some(true);
            }
            // A reader caught up meanwhile (and saw no pause to wake us from).
            self.paused.store(false, Ordering::SeqCst);
        } else if paused && bytes <= self.resume_at() {
            self.paused.store(false, Ordering::SeqCst);
            return Some(false);
        }
        None
    }
}

/// A channel's received messages on their way to the application, counted in the
/// connection's [`Unread`] until read (or until the last holder goes away).
pub(crate) struct Inbox {
    rx: tokio::sync::Mutex<mpsc::UnboundedReceiver<Message>>,
    bytes: AtomicUsize,
    unread: Arc<Unread>,
}

impl Inbox {
    fn took(&self, m: &Message) {
        self.bytes.fetch_sub(cost(m), Ordering::SeqCst);
        self.unread.release(cost(m));
    }
}

impl Drop for Inbox {
    fn drop(&mut self) {
        self.unread.release(*self.bytes.get_mut());
    }
}

/// The driver's side of a channel.
pub(crate) struct ChannelSlot {
    pub(crate) label: String,
    tx: mpsc::UnboundedSender<Message>,
    inbox: Arc<Inbox>,
    state: watch::Sender<ChannelState>,
    pub(crate) buffered_low: Arc<Notify>,
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
    pub(crate) fn new(label: &str, unread: Arc<Unread>) -> Self {
        let (tx, rx) = mpsc::unbounded_channel();
        let (state, _) = watch::channel(ChannelState::Connecting);
        Self {
            label: label.to_owned(),
            tx,
            inbox: Arc::new(Inbox {
                rx: tokio::sync::Mutex::new(rx),
                bytes: AtomicUsize::new(0),
                unread,
            }),
            state,
            buffered_low: Arc::new(Notify::new()),
        }
    }

    pub(crate) fn set_open(&self) {
        self.state.send_replace(ChannelState::Open);
    }

    pub(crate) fn set_closed(&self) {
        self.state.send_replace(ChannelState::Closed);
        self.buffered_low.notify_waiters();
    }

    /// Queues a received message for the channel's readers. Unbounded here: the driver
    /// pauses reads when the connection's unread total is too high. A channel whose every
    /// handle is gone has no reader, so its messages are discarded.
    pub(crate) fn deliver(&self, m: Message) {
        // Only the driver makes new handles, so nobody can start reading behind our back.
        if Arc::strong_count(&self.inbox) == 1 {
            if let Ok(mut rx) = self.inbox.rx.try_lock() {
                while let Ok(old) = rx.try_recv() {
                    self.inbox.took(&old);
                }
            }
            return;
        }
        let c = cost(&m);
        self.inbox.bytes.fetch_add(c, Ordering::SeqCst);
        self.inbox.unread.bytes.fetch_add(c, Ordering::SeqCst);
        if let Err(e) = self.tx.send(m) {
            // Unreachable while we hold the inbox (and with it the receiver).
            self.inbox.took(&e.0);
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
    inbox: Arc<Inbox>,
    state: watch::Receiver<ChannelState>,
    buffered_low: Arc<Notify>,
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
            inbox: slot.inbox.clone(),
            state: slot.state.subscribe(),
            buffered_low: slot.buffered_low.clone(),
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
                    // The refusal is remembered: the driver wakes us when there is room
                    // (`Writable`), or when the channel closes.
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
    ///
    /// Messages wait here until read. When a connection's unread messages pass a few MiB,
    /// the connection stops taking more from the peer (its SCTP window closes) until the
    /// readers catch up: a slow reader slows the sender down and loses nothing.
    pub async fn recv(&self) -> Option<Message> {
        // Uncontended, take the lock without awaiting: an await spends the task's
        // cooperative budget, which would let a reader take only ~128 messages per turn
        // while the driver delivers a whole receive batch per turn, and fall behind.
        let mut rx = match self.inbox.rx.try_lock() {
            Ok(rx) => rx,
            Err(_) => self.inbox.rx.lock().await,
        };
        let mut state = self.state.clone();
        let m = loop {
            if let Ok(m) = rx.try_recv() {
                break m;
            }
            if *state.borrow() == ChannelState::Closed {
                return None;
            }
            tokio::select! {
                m = rx.recv() => break m?,
                r = state.changed() => if r.is_err() { return None },
            }
        };
        self.inbox.took(&m);
        Some(m)
    }

    /// `close()`.
    pub fn close(&self) {
        let _ = self.with(|pc, now| pc.close_data_channel(now, self.id));
    }
}
