//! Two connected [`Signaling`] ends in one process: tests, and two peers in one program.

use tokio::sync::mpsc;

use super::{Signaling, SignalingMessage};
use crate::error::Error;

/// Messages in flight per direction before `send` waits for the reader.
const QUEUE: usize = 1024;

/// One end of an in-memory pair (see [`pair`]).
#[derive(Debug)]
pub struct MemorySignaling {
    tx: mpsc::Sender<SignalingMessage>,
    rx: mpsc::Receiver<SignalingMessage>,
}

/// Two ends: what one sends, the other receives. Dropping one end makes the other's `recv`
/// return `Ok(None)` and its `send` fail.
pub fn pair() -> (MemorySignaling, MemorySignaling) {
    let (tx_a, rx_b) = mpsc::channel(QUEUE);
    let (tx_b, rx_a) = mpsc::channel(QUEUE);
    (
        MemorySignaling { tx: tx_a, rx: rx_a },
        MemorySignaling { tx: tx_b, rx: rx_b },
    )
}

impl Signaling for MemorySignaling {
    async fn send(&mut self, message: SignalingMessage) -> Result<(), Error> {
        self.tx.send(message).await.map_err(|_| Error::Closed)
    }

    async fn recv(&mut self) -> Result<Option<SignalingMessage>, Error> {
        Ok(self.rx.recv().await)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn messages_cross_and_drop_closes() {
        let (mut a, mut b) = pair();
        a.send(SignalingMessage::EndOfCandidates).await.unwrap();
        b.send(SignalingMessage::Bye).await.unwrap();
        assert_eq!(
            b.recv().await.unwrap(),
            Some(SignalingMessage::EndOfCandidates)
        );
        assert_eq!(a.recv().await.unwrap(), Some(SignalingMessage::Bye));
        drop(a);
        assert_eq!(b.recv().await.unwrap(), None);
        assert!(b.send(SignalingMessage::Bye).await.is_err());
    }
}
