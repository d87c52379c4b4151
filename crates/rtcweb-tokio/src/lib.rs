//! rtcweb-tokio: runs rtcweb `PeerConnection`s on tokio.
//!
//! [`RtcPeerConnection`] owns a `rtcweb::PeerConnection` inside a tokio task with its UDP
//! sockets (and TCP/TLS connections to TURN servers), timers, and mDNS resolution of
//! `.local` candidates. The application gets a clonable async handle, an event stream,
//! and [`DataChannel`] handles with back-pressure. Dropping every handle closes the
//! connection and ends its task.
//!
//! ```no_run
//! # async fn demo() -> Result<(), rtcweb_tokio::Error> {
//! use rtcweb_tokio::{PeerConfig, RtcPeerConnection};
//!
//! let (pc, mut events) = RtcPeerConnection::new(PeerConfig::default()).await?;
//! let chat = pc.create_data_channel("chat", &Default::default())?;
//! let offer = pc.create_offer()?;
//! pc.set_local_description(&offer)?;
//! // ... send the offer to the peer, apply its answer with set_remote_description ...
//! chat.wait_open().await?;
//! chat.send_text("hello").await?;
//! # Ok(()) }
//! ```

mod channel;
mod error;
mod io;
pub mod net;
mod peer;
pub mod signaling;
mod udp;

pub use channel::{ChannelState, DataChannel, Message};
pub use error::Error;
pub use peer::{Events, MEDIA_EVENT_QUEUE, PeerConfig, PeerEvent, RtcPeerConnection, live_drivers};
pub use rtcweb;
