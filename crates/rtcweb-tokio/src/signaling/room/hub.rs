//! The rooms of a [`RoomServer`](super::RoomServer) without sockets: members, their queues,
//! and what each text message of a connection does. The server owns one [`RoomHub`] and
//! calls it for every WebSocket text message; the fuzz target `room_server` drives it
//! directly.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{Notify, mpsc};

use super::protocol::{ClientMessage, Participant, ServerMessage};

/// Bounds that keep a public room server's memory in check.
#[derive(Debug, Clone, Copy)]
pub struct RoomServerLimits {
    /// Rooms at once.
    pub max_rooms: usize,
    /// Members per room.
    pub max_participants: usize,
    /// TCP connections at once (HTTP and WebSocket).
    pub max_connections: usize,
    /// Time a new WebSocket has to send `join`.
    pub join_timeout: Duration,
    /// Messages queued for a member before it is disconnected as too slow.
    pub member_queue: usize,
}

impl Default for RoomServerLimits {
    fn default() -> Self {
        Self {
            max_rooms: 1024,
            max_participants: 32,
            max_connections: 4096,
            join_timeout: Duration::from_secs(10),
            member_queue: 512,
        }
    }
}

struct Member {
    name: String,
    tx: mpsc::Sender<String>,
    kick: Arc<Notify>,
}

impl Member {
    /// Queues a message; a member that does not read is disconnected rather than
    /// buffered without bound.
    fn send(&self, m: &ServerMessage) {
        if self.tx.try_send(m.to_json()).is_err() {
            self.kick.notify_one();
        }
    }
}

/// One WebSocket connection as the hub sees it: its outgoing queue (the server writes what
/// arrives there to the socket), the room its URL named, and whether it joined.
#[derive(Debug)]
pub struct RoomConnection {
    tx: mpsc::Sender<String>,
    kick: Arc<Notify>,
    url_room: Option<String>,
    joined: Option<(String, u64, String)>,
}

impl RoomConnection {
    /// A connection whose messages go to `tx`; `url_room` is the room of its URL path
    /// (`None` for `/`, where `join` names the room).
    pub fn new(tx: mpsc::Sender<String>, url_room: Option<String>) -> Self {
        Self {
            tx,
            kick: Arc::new(Notify::new()),
            url_room,
            joined: None,
        }
    }

    /// The room and participant id, once joined.
    pub fn joined(&self) -> Option<(&str, u64)> {
        self.joined
            .as_ref()
            .map(|(room, pid, _)| (room.as_str(), *pid))
    }

    /// Completes when the hub disconnects this member for not reading its queue.
    pub async fn kicked(&self) {
        self.kick.notified().await;
    }

    fn reply(&self, message: String) {
        let _ = self.tx.try_send(ServerMessage::Error { message }.to_json());
    }
}

/// What the connection does after a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flow {
    /// Read the next message.
    Continue,
    /// The message joined a room.
    Joined,
    /// Close the connection (it left, or could not join).
    Close,
}

/// Every room and its members.
pub struct RoomHub {
    limits: RoomServerLimits,
    next_pid: u64,
    rooms: HashMap<String, BTreeMap<u64, Member>>,
}

impl std::fmt::Debug for RoomHub {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RoomHub")
            .field("rooms", &self.rooms.len())
            .finish_non_exhaustive()
    }
}

impl RoomHub {
    /// No rooms yet.
    pub fn new(limits: RoomServerLimits) -> Self {
        Self {
            limits,
            next_pid: 0,
            rooms: HashMap::new(),
        }
    }

    /// How many rooms exist.
    pub fn room_count(&self) -> usize {
        self.rooms.len()
    }

    /// The members of `room`, by participant id.
    pub fn members(&self, room: &str) -> Vec<u64> {
        self.rooms
            .get(room)
            .map(|m| m.keys().copied().collect())
            .unwrap_or_default()
    }

    /// One text message from `conn`: before `join`, only `join` is accepted; after it,
    /// messages are relayed and `bye` without `to` leaves. Errors are answered on the
    /// connection's queue.
    pub fn handle_text(&mut self, conn: &mut RoomConnection, text: &str) -> Flow {
        let message = match ClientMessage::parse(text) {
            Ok(m) => m,
            Err(e) => {
                conn.reply(e.to_string());
                return Flow::Continue;
            }
        };
        let Some((room, pid, name)) = &conn.joined else {
            let ClientMessage::Join { name, room } = message else {
                conn.reply("join first".into());
                return Flow::Continue;
            };
            let Some(room) = conn.url_room.clone().or(room) else {
                conn.reply("no room: use ws://HOST:PORT/ROOM".into());
                return Flow::Close;
            };
            return match self.enter(&room, &name, conn) {
                Ok(pid) => {
                    conn.joined = Some((room, pid, name));
                    Flow::Joined
                }
                Err(message) => {
                    conn.reply(message);
                    Flow::Close
                }
            };
        };
        if message == (ClientMessage::Bye { to: None }) {
            return Flow::Close;
        }
        if let Err(message) = self.relay(room, *pid, name, message) {
            conn.reply(message);
        }
        Flow::Continue
    }

    /// The connection closed: a joined member leaves its room and the others hear `bye`.
    pub fn disconnect(&mut self, conn: &mut RoomConnection) {
        if let Some((room, pid, _)) = conn.joined.take() {
            self.leave(&room, pid);
        }
    }

    /// Adds a member, answers `joined` and tells the others.
    fn enter(&mut self, room: &str, name: &str, conn: &RoomConnection) -> Result<u64, String> {
        if !self.rooms.contains_key(room) && self.rooms.len() >= self.limits.max_rooms {
            return Err("too many rooms".into());
        }
        let members = self.rooms.entry(room.to_owned()).or_default();
        if members.len() >= self.limits.max_participants {
            if members.is_empty() {
                self.rooms.remove(room);
            }
            return Err("the room is full".into());
        }
        self.next_pid += 1;
        let pid = self.next_pid;
        let participants = members
            .iter()
            .map(|(id, m)| Participant {
                pid: id.to_string(),
                name: m.name.clone(),
            })
            .collect();
        let joined = ServerMessage::Joined {
            pid: pid.to_string(),
            room: room.to_owned(),
            participants,
        };
        // The newcomer hears `joined` before anyone can call it.
        let _ = conn.tx.try_send(joined.to_json());
        let ready = ServerMessage::ParticipantReady {
            pid: pid.to_string(),
            name: name.to_owned(),
        };
        for m in members.values() {
            m.send(&ready);
        }
        members.insert(
            pid,
            Member {
                name: name.to_owned(),
                tx: conn.tx.clone(),
                kick: conn.kick.clone(),
            },
        );
        Ok(pid)
    }

    fn relay(&self, room: &str, pid: u64, name: &str, m: ClientMessage) -> Result<(), String> {
        let Some(members) = self.rooms.get(room) else {
            return Err("not in a room".into());
        };
        let from = pid.to_string();
        let (to, out) = match m {
            ClientMessage::Join { .. } => return Err("already joined".into()),
            ClientMessage::Chat { text } => {
                let chat = ServerMessage::Chat {
                    from,
                    name: name.to_owned(),
                    text,
                };
                for (_, m) in members.iter().filter(|(id, _)| **id != pid) {
                    m.send(&chat);
                }
                return Ok(());
            }
            ClientMessage::Sdp { to, sdp } => (to, ServerMessage::Sdp { from, sdp }),
            ClientMessage::Candidate { to, candidate } => {
                (to, ServerMessage::Candidate { from, candidate })
            }
            ClientMessage::Bye { to: Some(to) } => (to, ServerMessage::Bye { from }),
            ClientMessage::Bye { to: None } => return Ok(()),
        };
        // Only another member: a client addressing itself would take its own offer for a
        // peer's.
        let target = to
            .parse::<u64>()
            .ok()
            .filter(|id| *id != pid)
            .and_then(|id| members.get(&id));
        match target {
            Some(m) => {
                m.send(&out);
                Ok(())
            }
            None => Err(format!("no participant {to} in this room")),
        }
    }

    fn leave(&mut self, room: &str, pid: u64) {
        let Some(members) = self.rooms.get_mut(room) else {
            return;
        };
        members.remove(&pid);
        let bye = ServerMessage::Bye {
            from: pid.to_string(),
        };
        for m in members.values() {
            m.send(&bye);
        }
        if members.is_empty() {
            self.rooms.remove(room);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn conn(room: Option<&str>) -> (RoomConnection, mpsc::Receiver<String>) {
        let (tx, rx) = mpsc::channel(4);
        (RoomConnection::new(tx, room.map(str::to_owned)), rx)
    }

    fn next(rx: &mut mpsc::Receiver<String>) -> ServerMessage {
        ServerMessage::parse(&rx.try_recv().expect("a message")).expect("valid")
    }

    #[test]
    fn join_relay_leave() {
        let mut hub = RoomHub::new(RoomServerLimits::default());
        let (mut a, mut ra) = conn(Some("r"));
        let (mut b, mut rb) = conn(None);
        assert_eq!(
            hub.handle_text(&mut a, r#"{"type":"chat","text":"x"}"#),
            Flow::Continue
        );
        assert!(matches!(next(&mut ra), ServerMessage::Error { .. }));
        assert_eq!(
            hub.handle_text(&mut a, r#"{"type":"join","name":"a"}"#),
            Flow::Joined
        );
        assert!(
            matches!(next(&mut ra), ServerMessage::Joined { participants, .. } if participants.is_empty())
        );
        // Without a room in URL or message, a join closes the connection.
        let (mut c, _rc) = conn(None);
        assert_eq!(hub.handle_text(&mut c, r#"{"type":"join"}"#), Flow::Close);
        let join_b = r#"{"type":"join","name":"b","room":"r"}"#;
        assert_eq!(hub.handle_text(&mut b, join_b), Flow::Joined);
        assert!(
            matches!(next(&mut rb), ServerMessage::Joined { participants, .. } if participants.len() == 1)
        );
        assert!(
            matches!(next(&mut ra), ServerMessage::ParticipantReady { name, .. } if name == "b")
        );
        let (pa, pb) = (a.joined().unwrap().1, b.joined().unwrap().1);
        // Nobody is sent its own messages (found by the room_server fuzz target).
        let to_self = format!(r#"{{"type":"candidate","to":"{pa}","candidate":null}}"#);
        assert_eq!(hub.handle_text(&mut a, &to_self), Flow::Continue);
        assert!(
            matches!(next(&mut ra), ServerMessage::Error { message } if message.contains("no participant"))
        );
        let bye = format!(r#"{{"type":"bye","to":"{pb}"}}"#);
        assert_eq!(hub.handle_text(&mut a, &bye), Flow::Continue);
        assert_eq!(
            next(&mut rb),
            ServerMessage::Bye {
                from: pa.to_string()
            }
        );
        assert_eq!(hub.handle_text(&mut b, r#"{"type":"bye"}"#), Flow::Close);
        hub.disconnect(&mut b);
        assert_eq!(
            next(&mut ra),
            ServerMessage::Bye {
                from: pb.to_string()
            }
        );
        hub.disconnect(&mut a);
        assert_eq!(hub.room_count(), 0);
    }

    #[test]
    fn a_member_that_does_not_read_is_kicked() {
        let mut hub = RoomHub::new(RoomServerLimits::default());
        let (mut a, _ra) = conn(Some("r"));
        let (mut b, _rb) = conn(Some("r"));
        assert_eq!(hub.handle_text(&mut b, r#"{"type":"join"}"#), Flow::Joined);
        assert_eq!(hub.handle_text(&mut a, r#"{"type":"join"}"#), Flow::Joined);
        // b's queue (4) holds `joined` and `participant-ready`: two chats fit, the third not.
        for _ in 0..3 {
            hub.handle_text(&mut a, r#"{"type":"chat","text":"x"}"#);
        }
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .unwrap();
        let kicked =
            rt.block_on(async { tokio::time::timeout(Duration::from_secs(5), b.kicked()).await });
        assert!(kicked.is_ok(), "b was not kicked");
    }

    #[test]
    fn limits() {
        let limits = RoomServerLimits {
            max_rooms: 1,
            max_participants: 1,
            ..RoomServerLimits::default()
        };
        let mut hub = RoomHub::new(limits);
        let (mut a, _ra) = conn(Some("r"));
        assert_eq!(hub.handle_text(&mut a, r#"{"type":"join"}"#), Flow::Joined);
        let (mut b, mut rb) = conn(Some("r"));
        assert_eq!(hub.handle_text(&mut b, r#"{"type":"join"}"#), Flow::Close);
        assert!(
            matches!(next(&mut rb), ServerMessage::Error { message } if message.contains("full"))
        );
        let (mut c, mut rc) = conn(Some("other"));
        assert_eq!(hub.handle_text(&mut c, r#"{"type":"join"}"#), Flow::Close);
        assert!(
            matches!(next(&mut rc), ServerMessage::Error { message } if message.contains("rooms"))
        );
        assert_eq!(hub.room_count(), 1);
    }
}
