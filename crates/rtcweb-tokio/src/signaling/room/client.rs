//! The room client: one WebSocket to the server, one [`PeerSignaling`] per participant.

use std::collections::HashMap;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tracing::{debug, warn};

use super::protocol::{ClientMessage, MAX_MESSAGE, Participant, ServerMessage};
use crate::error::Error;
use crate::signaling::tls::Target;
use crate::signaling::{Signaling, SignalingMessage, signaling_error};

/// How long `join` waits for the server's `joined`.
const JOIN_TIMEOUT: Duration = Duration::from_secs(10);
/// Messages queued per peer before new ones are dropped (a reader that stopped).
const PEER_QUEUE: usize = 1024;
/// Outgoing messages queued before senders wait.
const OUT_QUEUE: usize = 1024;
/// Room events queued before new ones are dropped.
const EVENT_QUEUE: usize = 1024;

/// A joined room. Dropping it (and every [`PeerSignaling`]) closes the WebSocket.
#[derive(Debug)]
pub struct Room {
    out: mpsc::Sender<ClientMessage>,
    pid: String,
    room: String,
    participants: Vec<Participant>,
}

/// Something that happened in the room.
#[derive(Debug)]
#[non_exhaustive]
pub enum RoomEvent {
    /// A peer to connect to: a participant that was there when we joined (it calls us), or
    /// one that joined after us (we call it).
    Peer(RoomPeer),
    /// A chat line relayed by the server.
    Chat {
        /// Sender.
        from: Participant,
        /// The text.
        text: String,
    },
    /// A participant left (or hung up on us).
    Left(Participant),
}

/// A participant to connect to.
#[derive(Debug)]
pub struct RoomPeer {
    /// Who.
    pub participant: Participant,
    /// We call (create the data channel, offer): the participant joined after us. Use
    /// [`NegotiationOptions::impolite`](crate::signaling::NegotiationOptions::impolite) then,
    /// polite otherwise.
    pub initiator: bool,
    /// Signaling with this participant.
    pub signaling: PeerSignaling,
}

/// The room's events; ends when the WebSocket closes.
#[derive(Debug)]
pub struct RoomEvents {
    rx: mpsc::Receiver<RoomEvent>,
}

impl RoomEvents {
    /// The next event.
    pub async fn recv(&mut self) -> Option<RoomEvent> {
        self.rx.recv().await
    }
}

/// [`Signaling`] with one participant of a room.
#[derive(Debug)]
pub struct PeerSignaling {
    to: String,
    out: mpsc::Sender<ClientMessage>,
    rx: mpsc::Receiver<SignalingMessage>,
}

impl Signaling for PeerSignaling {
    async fn send(&mut self, message: SignalingMessage) -> Result<(), Error> {
        let to = self.to.clone();
        let m = match message {
            SignalingMessage::Description(sdp) => ClientMessage::Sdp { to, sdp },
            SignalingMessage::Candidate(c) => ClientMessage::Candidate {
                to,
                candidate: Some(c),
            },
            SignalingMessage::EndOfCandidates => ClientMessage::Candidate {
                to,
                candidate: None,
            },
            SignalingMessage::Bye => ClientMessage::Bye { to: Some(to) },
        };
        self.out.send(m).await.map_err(|_| Error::Closed)
    }

    async fn recv(&mut self) -> Result<Option<SignalingMessage>, Error> {
        Ok(self.rx.recv().await)
    }
}

impl Room {
    /// Connects to `url` (`ws://HOST:PORT/ROOM` or `wss://...`) and joins as `name`.
    pub async fn join(url: &str, name: &str) -> Result<(Room, RoomEvents), Error> {
        Self::join_with_roots(url, name, &[]).await
    }

    /// [`Room::join`], trusting these extra TLS roots (DER) for `wss:`.
    pub async fn join_with_roots(
        url: &str,
        name: &str,
        extra_roots: &[Vec<u8>],
    ) -> Result<(Room, RoomEvents), Error> {
        let target = Target::parse(url)?;
        let stream = target.connect(extra_roots).await?;
        let config = WebSocketConfig::default()
            .max_message_size(Some(MAX_MESSAGE))
            .max_frame_size(Some(MAX_MESSAGE));
        let (mut ws, _) = tokio_tungstenite::client_async_with_config(url, stream, Some(config))
            .await
            .map_err(signaling_error)?;
        let join = ClientMessage::Join {
            name: name.to_owned(),
            room: None,
        };
        ws.send(Message::text(join.to_json()))
            .await
            .map_err(signaling_error)?;
        let joined = tokio::time::timeout(JOIN_TIMEOUT, async {
            while let Some(m) = ws.next().await {
                let Message::Text(text) = m.map_err(signaling_error)? else {
                    continue;
                };
                match ServerMessage::parse(&text)? {
                    ServerMessage::Joined {
                        pid,
                        room,
                        participants,
                    } => return Ok((pid, room, participants)),
                    ServerMessage::Error { message } => return Err(signaling_error(message)),
                    other => debug!(?other, "before joined"),
                }
            }
            Err(Error::Closed)
        })
        .await
        .map_err(|_| Error::Timeout)??;
        let (pid, room, participants) = joined;
        let (out_tx, out_rx) = mpsc::channel(OUT_QUEUE);
        let (ev_tx, ev_rx) = mpsc::channel(EVENT_QUEUE);
        let mut router = Router {
            peers: HashMap::new(),
            out: out_tx.downgrade(),
            events: ev_tx,
        };
        for p in &participants {
            router.add_peer(p.clone(), false);
        }
        tokio::spawn(run(ws, out_rx, router));
        let room = Room {
            out: out_tx,
            pid,
            room,
            participants,
        };
        Ok((room, RoomEvents { rx: ev_rx }))
    }

    /// Our id in the room.
    pub fn pid(&self) -> &str {
        &self.pid
    }

    /// The room's name.
    pub fn name(&self) -> &str {
        &self.room
    }

    /// Who was in the room when we joined.
    pub fn participants(&self) -> &[Participant] {
        &self.participants
    }

    /// Sends a chat line to everyone, through the server.
    pub async fn chat(&self, text: &str) -> Result<(), Error> {
        let m = ClientMessage::Chat {
            text: text.to_owned(),
        };
        self.out.send(m).await.map_err(|_| Error::Closed)
    }

    /// Leaves the room (everyone is told `bye`).
    pub async fn leave(self) -> Result<(), Error> {
        self.out
            .send(ClientMessage::Bye { to: None })
            .await
            .map_err(|_| Error::Closed)
    }
}

/// Routes the server's messages to the participants' signaling.
struct Router {
    peers: HashMap<String, (Participant, mpsc::Sender<SignalingMessage>)>,
    /// Weak, so that the socket closes once the application dropped every sender.
    out: mpsc::WeakSender<ClientMessage>,
    events: mpsc::Sender<RoomEvent>,
}

impl Router {
    fn add_peer(&mut self, participant: Participant, initiator: bool) {
        let Some(out) = self.out.upgrade() else {
            return;
        };
        let (tx, rx) = mpsc::channel(PEER_QUEUE);
        self.peers
            .insert(participant.pid.clone(), (participant.clone(), tx));
        let signaling = PeerSignaling {
            to: participant.pid.clone(),
            out,
            rx,
        };
        let peer = RoomPeer {
            participant,
            initiator,
            signaling,
        };
        if self.events.try_send(RoomEvent::Peer(peer)).is_err() {
            warn!("room events not read; peer dropped");
        }
    }

    fn deliver(&mut self, from: &str, m: SignalingMessage) {
        match self.peers.get(from) {
            Some((_, tx)) => {
                if tx.try_send(m).is_err() {
                    warn!(from, "peer signaling not read; message dropped");
                }
            }
            None => debug!(from, "message from an unknown participant"),
        }
    }

    fn handle(&mut self, m: ServerMessage) {
        match m {
            ServerMessage::ParticipantReady { pid, name } => {
                self.add_peer(Participant { pid, name }, true);
            }
            ServerMessage::Sdp { from, sdp } => {
                self.deliver(&from, SignalingMessage::Description(sdp));
            }
            ServerMessage::Candidate { from, candidate } => {
                let m = match candidate {
                    Some(c) if !c.candidate.is_empty() => SignalingMessage::Candidate(c),
                    _ => SignalingMessage::EndOfCandidates,
                };
                self.deliver(&from, m);
            }
            ServerMessage::Bye { from } => {
                if let Some((p, tx)) = self.peers.remove(&from) {
                    let _ = tx.try_send(SignalingMessage::Bye);
                    let _ = self.events.try_send(RoomEvent::Left(p));
                }
            }
            ServerMessage::Chat { from, name, text } => {
                let _ = self.events.try_send(RoomEvent::Chat {
                    from: Participant { pid: from, name },
                    text,
                });
            }
            ServerMessage::Error { message } => warn!(%message, "room server error"),
            ServerMessage::Joined { .. } => debug!("second joined ignored"),
        }
    }
}

async fn run<S>(
    ws: tokio_tungstenite::WebSocketStream<S>,
    mut out: mpsc::Receiver<ClientMessage>,
    mut router: Router,
) where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    let (mut sink, mut stream) = ws.split();
    loop {
        tokio::select! {
            m = stream.next() => {
                let text = match m {
                    Some(Ok(Message::Text(t))) => t,
                    Some(Ok(Message::Close(_))) | None => break,
                    Some(Ok(_)) => continue,
                    Some(Err(e)) => {
                        debug!(error = %e, "room socket");
                        break;
                    }
                };
                match ServerMessage::parse(&text) {
                    Ok(m) => router.handle(m),
                    Err(e) => warn!(error = %e, "room message ignored"),
                }
            }
            m = out.recv() => {
                let Some(m) = m else {
                    // The application dropped the room and every peer.
                    let _ = sink.send(Message::Close(None)).await;
                    break;
                };
                let leaving = matches!(m, ClientMessage::Bye { to: None });
                if sink.send(Message::text(m.to_json())).await.is_err() {
                    break;
                }
                if leaving {
                    let _ = sink.send(Message::Close(None)).await;
                    break;
                }
            }
        }
    }
    // Dropping the router ends every peer's signaling (`recv` gives `None`).
}
