//! Keeping what an endpoint said, for a test to look at afterwards.

use std::time::Instant;

use rtcweb_core::{Datagram, SansIo, Transmit};

use crate::sim::Endpoint;

/// Any [`Endpoint`] with every event it raises kept, with the virtual time it was raised at.
/// Attach a `Recorder` where a test wants to ask "did it happen, and when" after the run.
///
/// Events are taken after every input and timeout, so the endpoint's own bounded event queue
/// never fills; the recorder keeps them all (a test's run is finite).
#[derive(Debug)]
pub struct Recorder<T: Endpoint> {
    /// The endpoint, to call its API between steps.
    pub inner: T,
    /// Every event so far, in order, with when it was taken.
    pub events: Vec<(Instant, T::Event)>,
}

impl<T: Endpoint> Recorder<T> {
    /// Records what `inner` says from now on.
    pub fn new(inner: T) -> Self {
        Recorder {
            inner,
            events: Vec::new(),
        }
    }

    /// Whether an event matching `f` was raised.
    pub fn has(&self, f: impl Fn(&T::Event) -> bool) -> bool {
        self.events.iter().any(|(_, e)| f(e))
    }

    /// How many events match `f`.
    pub fn count(&self, f: impl Fn(&T::Event) -> bool) -> usize {
        self.events.iter().filter(|(_, e)| f(e)).count()
    }

    /// When the first event matching `f` was raised.
    pub fn first(&self, f: impl Fn(&T::Event) -> bool) -> Option<Instant> {
        self.events.iter().find(|(_, e)| f(e)).map(|(at, _)| *at)
    }

    /// Takes the endpoint's pending events (also useful after calling its API directly).
    pub fn record(&mut self, now: Instant) {
        while let Some(e) = self.inner.poll_event() {
            self.events.push((now, e));
        }
    }
}

impl<T: Endpoint> SansIo for Recorder<T> {
    type Input<'a> = Datagram<'a>;
    type Transmit = Transmit;
    /// The recorder keeps the events: it raises none of its own.
    type Event = ();

    fn handle_input(&mut self, now: Instant, input: Datagram<'_>) {
        self.inner.handle_input(now, input);
        self.record(now);
    }
    fn handle_timeout(&mut self, now: Instant) {
        self.inner.handle_timeout(now);
        self.record(now);
    }
    fn poll_transmit(&mut self, now: Instant) -> Option<Transmit> {
        let t = self.inner.poll_transmit(now);
        // Sending can raise events too (e.g. a state change when a queue empties).
        self.record(now);
        t
    }
    fn poll_event(&mut self) -> Option<()> {
        None
    }
    fn poll_timeout(&self) -> Option<Instant> {
        self.inner.poll_timeout()
    }
}
