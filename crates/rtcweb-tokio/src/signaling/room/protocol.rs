//! The room protocol's JSON messages (see the [module docs](super) for the exchange).

use rtcweb::{IceCandidateInit, SessionDescription};
use serde::{Deserialize, Serialize};

use crate::error::Error;
use crate::signaling::signaling_error;

/// The largest message either side accepts (a description with many candidates is a few
/// KiB).
pub const MAX_MESSAGE: usize = 64 * 1024;
/// The longest participant name, in bytes.
pub const MAX_NAME: usize = 64;
/// The longest room name, in bytes.
pub const MAX_ROOM: usize = 64;
/// The longest chat text relayed by the server, in bytes.
pub const MAX_CHAT: usize = 16 * 1024;
/// The longest participant id, in bytes.
pub const MAX_PID: usize = 32;

/// A room member as the others see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Participant {
    /// Id the server assigned, unique in the room.
    pub pid: String,
    /// Display name.
    #[serde(default)]
    pub name: String,
}

/// What a client sends the server.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "kebab-case")]
pub enum ClientMessage {
    /// Enter a room (named by the URL path, or by `room` when the path is `/`).
    Join {
        /// Display name.
        #[serde(default)]
        name: String,
        /// The room, when the URL does not name it.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        room: Option<String>,
    },
    /// An offer or answer for one participant.
    Sdp {
        /// Recipient.
        to: String,
        /// The description.
        sdp: SessionDescription,
    },
    /// A candidate for one participant; `null` is end-of-candidates.
    Candidate {
        /// Recipient.
        to: String,
        /// The candidate.
        candidate: Option<IceCandidateInit>,
    },
    /// A chat line for everyone in the room, relayed by the server.
    Chat {
        /// The text.
        text: String,
    },
    /// Hang up on one participant (`to`), or leave the room (no `to`).
    Bye {
        /// Recipient, or the whole room.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        to: Option<String>,
    },
}

/// What the server sends a client.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "kebab-case")]
pub enum ServerMessage {
    /// The join succeeded: our id and who was already there (they will call us).
    Joined {
        /// Our id.
        pid: String,
        /// The room.
        room: String,
        /// Everyone already in the room.
        participants: Vec<Participant>,
    },
    /// Someone joined after us: we call them (Knockplop's `participantReady`).
    ParticipantReady {
        /// Their id.
        pid: String,
        /// Their name.
        #[serde(default)]
        name: String,
    },
    /// A description from a participant.
    Sdp {
        /// Sender.
        from: String,
        /// The description.
        sdp: SessionDescription,
    },
    /// A candidate from a participant (`null`: end-of-candidates).
    Candidate {
        /// Sender.
        from: String,
        /// The candidate.
        candidate: Option<IceCandidateInit>,
    },
    /// A chat line relayed by the server.
    Chat {
        /// Sender.
        from: String,
        /// Sender's name.
        #[serde(default)]
        name: String,
        /// The text.
        text: String,
    },
    /// A participant hung up on us or left the room.
    Bye {
        /// Who.
        from: String,
    },
    /// The server refused a message.
    Error {
        /// Why.
        message: String,
    },
}

fn parse<T: for<'de> Deserialize<'de>>(text: &str) -> Result<T, Error> {
    if text.len() > MAX_MESSAGE {
        return Err(signaling_error("room message too long"));
    }
    serde_json::from_str(text).map_err(signaling_error)
}

impl ClientMessage {
    /// Parses (and bounds) a client's message.
    pub fn parse(text: &str) -> Result<Self, Error> {
        let m: Self = parse(text)?;
        let ok = match &m {
            Self::Join { name, room } => {
                name.len() <= MAX_NAME && room.as_deref().is_none_or(valid_room_name)
            }
            Self::Sdp { to, .. } | Self::Candidate { to, .. } => to.len() <= MAX_PID,
            Self::Chat { text } => text.len() <= MAX_CHAT,
            Self::Bye { to } => to.as_ref().is_none_or(|t| t.len() <= MAX_PID),
        };
        if ok {
            Ok(m)
        } else {
            Err(signaling_error("room message field too long"))
        }
    }

    /// The JSON form.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }
}

impl ServerMessage {
    /// Parses a server's message.
    pub fn parse(text: &str) -> Result<Self, Error> {
        parse(text)
    }

    /// The JSON form.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }
}

/// Room names: 1 to [`MAX_ROOM`] bytes of ASCII letters, digits, `-`, `_` and `.`, not
/// starting with a dot (so they are safe in a URL path).
pub fn valid_room_name(room: &str) -> bool {
    !room.is_empty()
        && room.len() <= MAX_ROOM
        && !room.starts_with('.')
        && room
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_format() {
        let m = ClientMessage::parse(
            r#"{"type":"sdp","to":"2","sdp":{"type":"offer","sdp":"v=0\r\n"}}"#,
        )
        .unwrap();
        assert_eq!(
            m,
            ClientMessage::Sdp {
                to: "2".into(),
                sdp: SessionDescription::offer("v=0\r\n")
            }
        );
        let m = ClientMessage::parse(r#"{"type":"candidate","to":"2","candidate":null}"#).unwrap();
        assert_eq!(
            m,
            ClientMessage::Candidate {
                to: "2".into(),
                candidate: None
            }
        );
        assert_eq!(
            ClientMessage::Bye { to: None }.to_json(),
            r#"{"type":"bye"}"#
        );
        assert_eq!(
            ServerMessage::ParticipantReady {
                pid: "4".into(),
                name: "dave".into()
            }
            .to_json(),
            r#"{"type":"participant-ready","pid":"4","name":"dave"}"#
        );
        let joined = ServerMessage::Joined {
            pid: "3".into(),
            room: "r".into(),
            participants: vec![Participant {
                pid: "1".into(),
                name: "a".into(),
            }],
        };
        assert_eq!(ServerMessage::parse(&joined.to_json()).unwrap(), joined);
        for bad in [
            "",
            "{}",
            r#"{"type":"nope"}"#,
            r#"{"type":"sdp","to":"2"}"#,
            r#"{"type":"join","room":"../x"}"#,
        ] {
            assert!(ClientMessage::parse(bad).is_err(), "{bad}");
        }
        let long = format!(r#"{{"type":"chat","text":"{}"}}"#, "x".repeat(MAX_CHAT + 1));
        assert!(ClientMessage::parse(&long).is_err());
        assert!(valid_room_name("team-1.a_b") && !valid_room_name(".x") && !valid_room_name("a/b"));
    }
}
