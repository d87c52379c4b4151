//! An endpoint that answers every datagram with itself: the far peer of relay, NAT and
//! keepalive tests.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::time::Instant;

use rtcweb_core::{Datagram, SansIo, Transmit};

/// Sends every datagram back to where it came from, from where it arrived, and remembers the
/// sources it saw (the address a NAT or a TURN relay gave the sender).
#[derive(Debug, Default)]
pub struct Echo {
    received: usize,
    sources: Vec<SocketAddr>,
    out: VecDeque<Transmit>,
}

impl Echo {
    /// Datagrams received.
    pub fn received(&self) -> usize {
        self.received
    }

    /// The source of each datagram received, in order.
    pub fn sources(&self) -> &[SocketAddr] {
        &self.sources
    }
}

impl SansIo for Echo {
    type Input<'a> = Datagram<'a>;
    type Transmit = Transmit;
    type Event = ();

    fn handle_input(&mut self, _: Instant, d: Datagram<'_>) {
        self.received += 1;
        self.sources.push(d.source);
        self.out
            .push_back(Transmit::udp(d.destination, d.source, d.payload.to_vec()));
    }

    fn handle_timeout(&mut self, _: Instant) {}

    fn poll_transmit(&mut self, _: Instant) -> Option<Transmit> {
        self.out.pop_front()
    }

    fn poll_event(&mut self) -> Option<()> {
        None
    }

    fn poll_timeout(&self) -> Option<Instant> {
        None
    }
}
