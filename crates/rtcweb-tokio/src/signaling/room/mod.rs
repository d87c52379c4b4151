//! WebSocket rooms: a full-mesh meeting protocol in JSON, shaped like the Knockplop meeting
//! app's (join, participant-ready, sdp, candidate, bye, chat), with a client ([`Room`]) and a
//! server ([`RoomServer`]).
//!
//! A client opens `ws://HOST:PORT/ROOM` and sends `join`; the server answers `joined` with
//! its id and the participants already there, and tells each of them `participant-ready`.
//! The participants already there call the newcomer: each pair of peers has one
//! initiator (the older member, impolite) and one answerer (the newcomer, polite), and
//! [`PerfectNegotiation`](super::PerfectNegotiation) handles any glare after that. `sdp`
//! and `candidate` messages carry the browser's `RTCSessionDescriptionInit` and
//! `RTCIceCandidateInit` (`null` for end-of-candidates), addressed with `to` and delivered
//! with `from`. `bye` with a `to` hangs up on one peer; without, it leaves the room, and the
//! server tells everyone `bye` when a member leaves or its socket closes. `chat` is relayed
//! to everyone else with the sender's id and name.
//!
//! ```text
//! client -> server                                server -> client
//! {"type":"join","name":"alice"}                  {"type":"joined","pid":"3","room":"r","participants":[{"pid":"1","name":"bob"}]}
//!                                                 {"type":"participant-ready","pid":"4","name":"carol"}
//! {"type":"sdp","to":"4","sdp":{"type":"offer","sdp":"v=0..."}}
//!                                                 {"type":"sdp","from":"4","sdp":{"type":"answer","sdp":"v=0..."}}
//! {"type":"candidate","to":"4","candidate":{"candidate":"candidate:...","sdpMid":"0"}}
//!                                                 {"type":"candidate","from":"4","candidate":null}
//! {"type":"chat","text":"hello"}                  {"type":"chat","from":"1","name":"bob","text":"hi"}
//! {"type":"bye","to":"4"}  {"type":"bye"}         {"type":"bye","from":"1"}
//! ```

pub mod hub;
pub mod protocol;

#[cfg(feature = "ws")]
mod client;
#[cfg(feature = "ws")]
mod server;

#[cfg(feature = "ws")]
pub use client::{PeerSignaling, Room, RoomEvent, RoomEvents, RoomPeer};
pub use hub::{RoomHub, RoomServerLimits};
pub use protocol::{ClientMessage, Participant, ServerMessage};
#[cfg(feature = "ws")]
pub use server::{RoomServer, RoomServerHandle};
