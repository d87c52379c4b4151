//! What the soak sends and how the receiver checks it: numbered data-channel messages whose
//! bytes follow from their header, per-mode checkers, and video frames whose bytes follow
//! from their RTP timestamp.

/// The data-channel reliability modes the soak opens, one channel each per pair.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Mode {
    /// Reliable and ordered (the default channel).
    ReliableOrdered,
    /// Reliable, unordered.
    ReliableUnordered,
    /// Ordered with `maxRetransmits: 3`.
    RetransmitsOrdered,
    /// Unordered with `maxRetransmits: 0`.
    RetransmitsUnordered,
    /// Ordered with `maxPacketLifeTime: 500` ms.
    LifetimeOrdered,
    /// Unordered with `maxPacketLifeTime: 200` ms.
    LifetimeUnordered,
}

impl Mode {
    /// Every mode, in channel order.
    pub const ALL: [Mode; 6] = [
        Mode::ReliableOrdered,
        Mode::ReliableUnordered,
        Mode::RetransmitsOrdered,
        Mode::RetransmitsUnordered,
        Mode::LifetimeOrdered,
        Mode::LifetimeUnordered,
    ];

    /// The channel label (also the name in the summary).
    pub fn label(self) -> &'static str {
        match self {
            Mode::ReliableOrdered => "reliable-ordered",
            Mode::ReliableUnordered => "reliable-unordered",
            Mode::RetransmitsOrdered => "rexmit3-ordered",
            Mode::RetransmitsUnordered => "rexmit0-unordered",
            Mode::LifetimeOrdered => "life500ms-ordered",
            Mode::LifetimeUnordered => "life200ms-unordered",
        }
    }

    /// The mode a label names.
    pub fn from_label(label: &str) -> Option<Mode> {
        Mode::ALL.into_iter().find(|m| m.label() == label)
    }

    /// Its `RTCDataChannelInit`.
    pub fn init(self) -> rtcweb::DataChannelInit {
        let mut init = rtcweb::DataChannelInit::default();
        match self {
            Mode::ReliableOrdered => {}
            Mode::ReliableUnordered => init.ordered = Some(false),
            Mode::RetransmitsOrdered => init.max_retransmits = Some(3),
            Mode::RetransmitsUnordered => {
                init.ordered = Some(false);
                init.max_retransmits = Some(0);
            }
            Mode::LifetimeOrdered => init.max_packet_life_time = Some(500),
            Mode::LifetimeUnordered => {
                init.ordered = Some(false);
                init.max_packet_life_time = Some(200);
            }
        }
        init
    }

    /// Every message must arrive.
    pub fn reliable(self) -> bool {
        matches!(self, Mode::ReliableOrdered | Mode::ReliableUnordered)
    }

    /// Messages arrive in the order sent.
    pub fn ordered(self) -> bool {
        matches!(
            self,
            Mode::ReliableOrdered | Mode::RetransmitsOrdered | Mode::LifetimeOrdered
        )
    }

    /// The share of the messages sent in calm weather (a path that loses nothing) that may
    /// be lost, or `None` if losses are only reported.
    ///
    /// - Reliable modes and `maxRetransmits` modes: none. Nothing is lost on the path, so
    ///   nothing needs retransmitting.
    /// - `maxPacketLifeTime: 500`, ordered: at most 5 % per calm window. The lifetime counts
    ///   from `send()`, and W3C lets the sender abandon a message that has not gone out
    ///   within it: every 64th message of every channel is 12 KB, all six channels' on the
    ///   same tick, so after a disturbance one may wait behind the others on a window that is
    ///   still small and expire. What may not happen is a stall (the engine bug this guards
    ///   against delivered 37 % and lost every message in 31 of 37 calm windows).
    /// - `maxPacketLifeTime: 200`, unordered: reported, not asserted. The lifetime is as short
    ///   as a relayed path's round trip (up to ~160 ms in the soak) plus that queueing.
    pub fn calm_loss_bound(self) -> Option<f64> {
        match self {
            Mode::LifetimeOrdered => Some(0.05),
            Mode::LifetimeUnordered => None,
            _ => Some(0.0),
        }
    }

    /// Index in [`Mode::ALL`].
    pub fn index(self) -> usize {
        Mode::ALL.iter().position(|m| *m == self).unwrap_or(0)
    }
}

/// Header: pair (4), sender side (1), mode (1), sequence number (8), length (4).
const HEADER: usize = 18;

/// The message number `seq` of `side` of `pair` on the `mode` channel: the header, then
/// bytes that depend on all of it, so a corrupted, truncated or misrouted message is caught.
/// Mostly small, every 64th 12 KB (several SCTP chunks).
pub fn message(pair: u32, side: u8, mode: Mode, seq: u64) -> Vec<u8> {
    let len = if seq % 64 == 63 {
        12_000
    } else {
        HEADER + 8 + (seq as usize * 37) % 1000
    };
    let mut m = Vec::with_capacity(len);
    m.extend_from_slice(&pair.to_be_bytes());
    m.push(side);
    m.push(mode.index() as u8);
    m.extend_from_slice(&seq.to_be_bytes());
    m.extend_from_slice(&(len as u32).to_be_bytes());
    let mut x = seq ^ (u64::from(pair) << 40) ^ (u64::from(side) << 32);
    while m.len() < len {
        x = x
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        m.push((x >> 56) as u8);
    }
    m
}

/// The sequence number of a message that is exactly what [`message`] makes for this
/// pair, sender and mode, or `None` if any byte is off.
pub fn parse(data: &[u8], pair: u32, side: u8, mode: Mode) -> Option<u64> {
    let seq = u64::from_be_bytes(data.get(6..14)?.try_into().ok()?);
    (data == message(pair, side, mode, seq).as_slice()).then_some(seq)
}

/// What went wrong on a channel, as the receiver saw it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Faults {
    /// Bytes that are not what was sent (or for another channel).
    pub corrupt: u64,
    /// A message that had already arrived.
    pub duplicate: u64,
    /// Out of order on an ordered channel.
    pub reordered: u64,
    /// A gap on a reliable ordered channel (a message skipped).
    pub skipped: u64,
}

impl Faults {
    /// Any fault at all.
    pub fn any(&self) -> bool {
        *self != Faults::default()
    }
}

/// The receiving end of one channel: what arrived, checked as it arrives. Its memory is
/// fixed (a bitmap of [`WINDOW`] numbers above the first gap), so that the soak's own
/// bookkeeping does not show up as growth in the heap it measures.
#[derive(Debug, Clone)]
pub struct Receiver {
    mode: Mode,
    /// Every number below this has arrived (unordered) or was passed (ordered).
    floor: u64,
    /// Unordered: bit `i` says `floor + i` arrived.
    above: Vec<u64>,
    /// Messages taken.
    pub delivered: u64,
    /// What was wrong.
    pub faults: Faults,
    /// Numbers watched (see [`Receiver::watch`]) and how many of them arrived.
    watched: std::ops::Range<u64>,
    /// Arrivals of watched numbers.
    pub watched_arrived: u64,
}

/// How many numbers above the first gap an unordered channel remembers. A reliable channel
/// never has more in flight than its send buffer holds (256 KB of messages of at least 26
/// bytes is about 10,000); a partially reliable one gives up older gaps (those messages
/// expired or ran out of retransmits, and can never be filled).
pub const WINDOW: u64 = 16_384;

impl Receiver {
    /// A receiver for a channel of `mode`.
    pub fn new(mode: Mode) -> Self {
        Self {
            mode,
            floor: 0,
            above: vec![0; (WINDOW / 64) as usize],
            delivered: 0,
            faults: Faults::default(),
            watched: 0..0,
            watched_arrived: 0,
        }
    }

    /// Counts the arrivals of the numbers in `range` from now on (from zero).
    pub fn watch(&mut self, range: std::ops::Range<u64>) {
        self.watched = range;
        self.watched_arrived = 0;
    }

    /// Ends an open watched range at `end` (the sender's count when the window closed).
    pub fn watch_until(&mut self, end: u64) {
        if self.watched.end == u64::MAX {
            self.watched.end = end;
        }
    }

    /// A watched number arrived for the first time (duplicates are faults of their own).
    fn count_watched(&mut self, seq: u64) {
        if self.watched.contains(&seq) {
            self.watched_arrived += 1;
        }
    }

    /// How many of the watched numbers have not arrived.
    pub fn watched_missing(&self) -> u64 {
        let n = self.watched.end.saturating_sub(self.watched.start);
        n.saturating_sub(self.watched_arrived)
    }

    fn bit(&self, seq: u64) -> bool {
        let i = seq - self.floor;
        self.above[(i / 64) as usize] & (1 << (i % 64)) != 0
    }

    /// Moves the window so that `floor` becomes `to`.
    fn advance(&mut self, to: u64) {
        while self.floor < to {
            let shift = (to - self.floor).min(64);
            // Shift the whole bitmap down by `shift` bits.
            let words = self.above.len();
            for w in 0..words {
                let hi = if w + 1 < words { self.above[w + 1] } else { 0 };
                self.above[w] = if shift == 64 {
                    hi
                } else {
                    (self.above[w] >> shift) | (hi << (64 - shift))
                };
            }
            self.floor += shift;
        }
    }

    /// Checks one arrived message.
    pub fn take(&mut self, data: &[u8], pair: u32, side: u8) {
        let Some(seq) = parse(data, pair, side, self.mode) else {
            self.faults.corrupt += 1;
            return;
        };
        self.delivered += 1;
        if self.mode.ordered() {
            if seq < self.floor {
                // Equal to an earlier one or behind it: both break the order.
                self.faults.reordered += 1;
            } else {
                if seq > self.floor && self.mode.reliable() {
                    self.faults.skipped += seq - self.floor;
                }
                self.floor = seq + 1;
                self.count_watched(seq);
            }
            return;
        }
        if seq < self.floor {
            self.faults.duplicate += 1;
            return;
        }
        if seq >= self.floor + WINDOW {
            if self.mode.reliable() {
                // More in flight than a reliable channel can have: count it as skipped so
                // that it shows, and move on.
                self.faults.skipped += 1;
            }
            self.advance(seq + 1 - WINDOW);
        }
        if self.bit(seq) {
            self.faults.duplicate += 1;
            return;
        }
        let i = seq - self.floor;
        self.above[(i / 64) as usize] |= 1 << (i % 64);
        self.count_watched(seq);
        // Past every number that has arrived from the floor up.
        let mut run = 0;
        while run < WINDOW && self.bit(self.floor + run) {
            run += 1;
        }
        self.advance(self.floor + run);
    }

    /// Reliable channels: how many of the first `sent` messages have not arrived.
    pub fn missing(&self, sent: u64) -> u64 {
        if self.mode.ordered() || sent <= self.floor {
            return sent.saturating_sub(self.floor);
        }
        let above = (self.floor..sent.min(self.floor + WINDOW))
            .filter(|s| self.bit(*s))
            .count() as u64;
        sent - self.floor - above
    }
}

/// The video frame at RTP timestamp `ts` of `side` of `pair`, `len` bytes: a VP8 key frame
/// header when `key`, then bytes that depend on the timestamp.
pub fn frame(pair: u32, side: u8, ts: u32, len: usize, key: bool) -> Vec<u8> {
    let mut f = Vec::with_capacity(len);
    if key {
        // A VP8 key frame of 640x480.
        f.extend_from_slice(&[0x50, 0x2d, 0x00, 0x9d, 0x01, 0x2a, 0x80, 0x02, 0xe0, 0x01]);
    } else {
        f.push(0x51);
    }
    let mut x = u64::from(ts) ^ (u64::from(pair) << 40) ^ (u64::from(side) << 32);
    while f.len() < len {
        x = x
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        f.push((x >> 56) as u8);
    }
    f
}

/// Checks received frames: each exactly what was sent at its timestamp, in decode order.
#[derive(Debug, Clone, Default)]
pub struct FrameReceiver {
    last_ts: Option<u32>,
    /// Frames taken.
    pub delivered: u64,
    /// Frames whose bytes differ from what was sent.
    pub corrupt: u64,
    /// Frames at or before a timestamp already taken.
    pub out_of_order: u64,
}

impl FrameReceiver {
    /// Checks one frame (timestamps only grow in the soak: no wrap in an hour at 90 kHz
    /// from 0 takes 13 hours).
    pub fn take(&mut self, pair: u32, side: u8, f: &rtcweb::Frame) {
        self.delivered += 1;
        let expected = frame(pair, side, f.timestamp, f.data.len(), f.keyframe);
        if f.data != expected || f.data.is_empty() {
            self.corrupt += 1;
        }
        if self.last_ts.is_some_and(|t| f.timestamp <= t) {
            self.out_of_order += 1;
        }
        self.last_ts = Some(f.timestamp);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_round_trip_and_any_change_is_caught() {
        let m = message(7, 1, Mode::ReliableUnordered, 63);
        assert_eq!(m.len(), 12_000);
        assert_eq!(parse(&m, 7, 1, Mode::ReliableUnordered), Some(63));
        assert_eq!(parse(&m, 7, 0, Mode::ReliableUnordered), None);
        assert_eq!(parse(&m, 7, 1, Mode::ReliableOrdered), None);
        let mut bad = m.clone();
        bad[5000] ^= 1;
        assert_eq!(parse(&bad, 7, 1, Mode::ReliableUnordered), None);
        assert_eq!(parse(&m[..100], 7, 1, Mode::ReliableUnordered), None);
    }

    #[test]
    fn ordered_reliable_counts_gaps_and_reorders() {
        let mut r = Receiver::new(Mode::ReliableOrdered);
        for seq in [0, 1, 3, 2] {
            r.take(&message(1, 0, Mode::ReliableOrdered, seq), 1, 0);
        }
        assert_eq!((r.faults.skipped, r.faults.reordered), (1, 1));
        assert_eq!(r.missing(4), 0);
    }

    #[test]
    fn unordered_reliable_finds_duplicates_and_what_is_missing() {
        let mut r = Receiver::new(Mode::ReliableUnordered);
        for seq in [2, 0, 2, 4] {
            r.take(&message(1, 0, Mode::ReliableUnordered, seq), 1, 0);
        }
        assert_eq!(r.faults.duplicate, 1);
        assert_eq!(r.missing(5), 2);
        assert!(!r.faults.any() || r.faults.duplicate == 1);
    }

    #[test]
    fn unordered_partial_forgets_old_gaps() {
        let mode = Mode::RetransmitsUnordered;
        let mut r = Receiver::new(mode);
        for seq in (1..3 * WINDOW).filter(|s| s % 10 != 0) {
            r.take(&message(1, 0, mode, seq), 1, 0);
        }
        assert!(!r.faults.any());
        r.take(&message(1, 0, mode, 3 * WINDOW - 1), 1, 0);
        assert_eq!(r.faults.duplicate, 1);
    }
}
