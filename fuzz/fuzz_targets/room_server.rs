//! The WebSocket room server's rooms (`RoomHub`, what `RoomServer` runs for every text
//! message of every connection), with small limits: 3 rooms of 3 members, queues of 8.
//! Operations: connections open on a room's URL (or `/`), send the fuzzer's text or
//! well-formed protocol messages (join, chat, sdp, candidate, bye) addressed to real
//! participant ids, read their queues, and close; a connection the hub tells to close is
//! closed, as the server does.
//!
//! Checks: no panic; every queued message is a valid server message; nobody hears its own
//! messages, nor anything from outside its room; rooms and members stay within the limits
//! and match the joined connections exactly (no empty room is left behind); when everyone
//! has gone, no room is left.
#![no_main]

use std::collections::{BTreeSet, HashMap};
use std::time::Duration;

use libfuzzer_sys::fuzz_target;
use rtcweb::{IceCandidateInit, SessionDescription};
use rtcweb_tokio::signaling::room::hub::{Flow, RoomConnection};
use rtcweb_tokio::signaling::room::{ClientMessage, RoomHub, RoomServerLimits, ServerMessage};
use tokio::sync::mpsc;

const ROOMS: [&str; 4] = ["a", "b", "c", "d"];
const MAX_ROOMS: usize = 3;
const MAX_MEMBERS: usize = 3;
const QUEUE: usize = 8;

struct Input<'a>(&'a [u8]);

impl<'a> Input<'a> {
    fn byte(&mut self) -> u8 {
        let Some((&b, rest)) = self.0.split_first() else {
            return 0;
        };
        self.0 = rest;
        b
    }
    fn text(&mut self) -> String {
        let n = usize::from(self.byte());
        let (head, rest) = self.0.split_at(n.min(self.0.len()));
        self.0 = rest;
        String::from_utf8_lossy(head).into_owned()
    }
}

struct Conn {
    conn: RoomConnection,
    rx: mpsc::Receiver<String>,
    /// Everyone this connection has heard of in its room (its own id first).
    seen: BTreeSet<String>,
}

/// Reads a connection's queue and checks every message on it.
fn read(c: &mut Conn, pids_in_room: &HashMap<String, String>) {
    let room = c.conn.joined().map(|(r, _)| r.to_owned());
    let me = c.conn.joined().map(|(_, p)| p.to_string());
    while let Ok(text) = c.rx.try_recv() {
        let m = ServerMessage::parse(&text).expect("the hub sends valid messages");
        let from = match &m {
            ServerMessage::Joined {
                pid,
                room: r,
                participants,
            } => {
                assert_eq!(Some(pid), me.as_ref(), "joined with another id");
                assert_eq!(Some(r), room.as_ref());
                assert!(participants.len() < MAX_MEMBERS);
                assert!(participants.iter().all(|p| p.pid != *pid));
                c.seen.extend(participants.iter().map(|p| p.pid.clone()));
                None
            }
            ServerMessage::ParticipantReady { pid, .. } => {
                c.seen.insert(pid.clone());
                Some(pid)
            }
            ServerMessage::Sdp { from, .. }
            | ServerMessage::Candidate { from, .. }
            | ServerMessage::Chat { from, .. }
            | ServerMessage::Bye { from } => Some(from),
            ServerMessage::Error { .. } => None,
        };
        if let Some(from) = from {
            assert_ne!(Some(from), me.as_ref(), "heard its own message");
            // Only members of its own room reach it (who may have left since).
            assert!(
                pids_in_room
                    .get(from)
                    .is_none_or(|r| Some(r) == room.as_ref()),
                "{from} of another room reached {me:?}"
            );
        }
    }
}

fn message(input: &mut Input<'_>, pids: &[String]) -> String {
    let sel = input.byte();
    let to = || -> String {
        pids.get(usize::from(sel >> 4) % pids.len().max(1))
            .cloned()
            .unwrap_or_else(|| "1".into())
    };
    let m = match sel % 8 {
        0 => return input.text(),
        1 => ClientMessage::Join {
            name: input.text(),
            room: (sel & 8 == 0).then(|| ROOMS[usize::from(sel >> 4) % ROOMS.len()].to_owned()),
        },
        2 => ClientMessage::Chat { text: input.text() },
        3 => ClientMessage::Sdp {
            to: to(),
            sdp: SessionDescription::offer(input.text()),
        },
        4 => ClientMessage::Candidate {
            to: to(),
            candidate: (sel & 8 == 0).then(|| IceCandidateInit {
                candidate: input.text(),
                sdp_mid: Some("0".into()),
                sdp_m_line_index: Some(0),
                username_fragment: None,
            }),
        },
        5 => ClientMessage::Bye { to: Some(to()) },
        6 => ClientMessage::Bye { to: None },
        _ => ClientMessage::Sdp {
            to: input.text(),
            sdp: SessionDescription::offer("v=0"),
        },
    };
    m.to_json()
}

fuzz_target!(|data: &[u8]| {
    let mut input = Input(data);
    let mut hub = RoomHub::new(RoomServerLimits {
        max_rooms: MAX_ROOMS,
        max_participants: MAX_MEMBERS,
        max_connections: 16,
        join_timeout: Duration::from_secs(1),
        member_queue: QUEUE,
    });
    let mut conns: Vec<Conn> = Vec::new();
    // pid -> room, for every member that ever joined.
    let mut pid_room: HashMap<String, String> = HashMap::new();
    while !input.0.is_empty() {
        let op = input.byte();
        let pick = usize::from(op >> 3);
        match op % 5 {
            0 if conns.len() < 8 => {
                let (tx, rx) = mpsc::channel(QUEUE);
                let room = ROOMS.get(usize::from(op >> 3) % (ROOMS.len() + 1));
                conns.push(Conn {
                    conn: RoomConnection::new(tx, room.map(|r| (*r).to_owned())),
                    rx,
                    seen: BTreeSet::new(),
                });
            }
            1 | 2 if !conns.is_empty() => {
                let i = pick % conns.len();
                let pids: Vec<String> = conns[i].seen.iter().cloned().collect();
                let text = message(&mut input, &pids);
                let flow = hub.handle_text(&mut conns[i].conn, &text);
                if let Some((room, pid)) = conns[i].conn.joined() {
                    pid_room.insert(pid.to_string(), room.to_owned());
                }
                match flow {
                    Flow::Joined => assert!(conns[i].conn.joined().is_some()),
                    Flow::Close => {
                        let mut c = conns.swap_remove(i);
                        read(&mut c, &pid_room);
                        hub.disconnect(&mut c.conn);
                    }
                    Flow::Continue => {}
                }
            }
            3 if !conns.is_empty() => {
                let i = pick % conns.len();
                read(&mut conns[i], &pid_room);
            }
            4 if !conns.is_empty() => {
                let mut c = conns.swap_remove(pick % conns.len());
                hub.disconnect(&mut c.conn);
            }
            _ => {}
        }
        // The hub's rooms are exactly those of the joined connections.
        let mut rooms: HashMap<&str, Vec<u64>> = HashMap::new();
        for c in &conns {
            if let Some((room, pid)) = c.conn.joined() {
                rooms.entry(room).or_default().push(pid);
            }
        }
        assert_eq!(hub.room_count(), rooms.len(), "rooms without members");
        assert!(rooms.len() <= MAX_ROOMS);
        for (room, mut pids) in rooms {
            pids.sort_unstable();
            assert!(pids.len() <= MAX_MEMBERS);
            assert_eq!(hub.members(room), pids, "members of {room}");
        }
    }
    for mut c in conns {
        read(&mut c, &pid_room);
        hub.disconnect(&mut c.conn);
    }
    assert_eq!(hub.room_count(), 0);
});
