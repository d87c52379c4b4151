//! The sans-IO face: the five calls of every rtcweb state machine.

use std::time::Instant;

/// The five calls every rtcweb state machine answers (the shape quinn-proto made familiar).
///
/// The owner feeds what happened ([`handle_input`](SansIo::handle_input): a datagram, bytes
/// from the layer below) and the time ([`handle_timeout`](SansIo::handle_timeout)), and takes
/// out what the machine wants done: datagrams to send ([`poll_transmit`](SansIo::poll_transmit)),
/// things to know ([`poll_event`](SansIo::poll_event)) and when to call it next
/// ([`poll_timeout`](SansIo::poll_timeout)). Nothing happens between calls, and time is only
/// ever the `now` the owner passes, so the same inputs always give the same outputs.
///
/// Each crate also has its own API calls (create a permission, open a data channel, send a
/// frame); they take `now` too and leave their results in the same queues.
///
/// The owner's loop, for any layer: after any input or timeout, drain `poll_transmit` and
/// `poll_event`, then sleep until `poll_timeout` (or the next input).
pub trait SansIo {
    /// What arrives: a [`crate::Datagram`] for the layers that own a network path (ICE, TURN,
    /// the `PeerConnection`), the bytes of one record or packet for the layers inside them
    /// (DTLS, SCTP, RTP).
    type Input<'a>;
    /// What leaves: a [`crate::Transmit`] for the layers that own a network path, the bytes of
    /// one record or packet for the layers inside them.
    type Transmit;
    /// What the owner must hear about.
    type Event;

    /// Something arrived at `now`.
    fn handle_input(&mut self, now: Instant, input: Self::Input<'_>);

    /// The instant [`poll_timeout`](SansIo::poll_timeout) asked for has come (calling early or
    /// late is harmless: the machine does what is due at `now`).
    fn handle_timeout(&mut self, now: Instant);

    /// The next thing to send, if any.
    fn poll_transmit(&mut self, now: Instant) -> Option<Self::Transmit>;

    /// The next event, if any.
    fn poll_event(&mut self) -> Option<Self::Event>;

    /// When [`handle_timeout`](SansIo::handle_timeout) must next be called; `None` when
    /// nothing is scheduled. Cheap: an idle connection answers it in O(1).
    fn poll_timeout(&self) -> Option<Instant>;
}
