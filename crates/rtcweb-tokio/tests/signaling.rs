//! The signaling transports and perfect negotiation, end to end between real
//! RtcPeerConnections on 127.0.0.1: in-memory (with glare), copy-paste lines, WebSocket rooms
//! (full mesh), `POST /offer` and WHIP over HTTP on loopback.

#![allow(clippy::unwrap_used)] // test helpers unwrap what the test itself set up

use std::collections::HashMap;
use std::time::Duration;

use rtcweb::{Direction, MediaKind, SignalingState};
use rtcweb_tokio::signaling::http::{HttpSignalingServer, OfferClient, WhipClient};
use rtcweb_tokio::signaling::room::{Room, RoomEvent, RoomServer};
use rtcweb_tokio::signaling::stdio::StdioSignaling;
use rtcweb_tokio::signaling::{NegotiationOptions, PerfectNegotiation, Signaling, memory};
use rtcweb_tokio::{DataChannel, PeerConfig, PeerEvent, RtcPeerConnection};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::mpsc;

const T: Duration = Duration::from_secs(15);

fn init_tracing() {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_test_writer()
        .try_init();
}

async fn peer() -> (RtcPeerConnection, rtcweb_tokio::Events) {
    let config = PeerConfig {
        bind: vec!["127.0.0.1:0".parse().unwrap()],
        ..PeerConfig::default()
    };
    RtcPeerConnection::new(config).await.unwrap()
}

/// The next data channel the peer opened, from the application's events.
async fn incoming_channel(events: &mut mpsc::Receiver<PeerEvent>) -> DataChannel {
    tokio::time::timeout(T, async {
        loop {
            if let Some(PeerEvent::DataChannel(dc)) = events.recv().await {
                return dc;
            }
        }
    })
    .await
    .expect("no incoming data channel")
}

async fn open(dc: &DataChannel) {
    tokio::time::timeout(T, dc.wait_open())
        .await
        .expect("channel did not open in time")
        .unwrap();
}

async fn recv_text(dc: &DataChannel) -> String {
    let m = tokio::time::timeout(T, dc.recv()).await.unwrap().unwrap();
    m.text().unwrap().to_owned()
}

/// In-memory signaling where each side's first message (its offer) is held until the other
/// side wants to send its own: the two offers cross, as in real glare, on any scheduling.
struct Crossing {
    inner: memory::MemorySignaling,
    both_sent: std::sync::Arc<tokio::sync::Barrier>,
    sent: bool,
}

impl Signaling for Crossing {
    async fn send(&mut self, m: rtcweb::SignalingMessage) -> Result<(), rtcweb_tokio::Error> {
        if !self.sent {
            self.sent = true;
            self.both_sent.wait().await;
        }
        self.inner.send(m).await
    }

    async fn recv(&mut self) -> Result<Option<rtcweb::SignalingMessage>, rtcweb_tokio::Error> {
        self.inner.recv().await
    }
}

fn crossing_pair() -> (Crossing, Crossing) {
    let (a, b) = memory::pair();
    let both_sent = std::sync::Arc::new(tokio::sync::Barrier::new(2));
    let end = |inner| Crossing {
        inner,
        both_sent: both_sent.clone(),
        sent: false,
    };
    (end(a), end(b))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn glare_over_memory_is_resolved_by_the_polite_peer() {
    init_tracing();
    let (sig_a, sig_b) = crossing_pair();
    let (a, ea) = peer().await;
    let (b, eb) = peer().await;
    // Both want a channel before any negotiation: both offer at once.
    let from_a = a
        .create_data_channel("from-a", &Default::default())
        .unwrap();
    let from_b = b
        .create_data_channel("from-b", &Default::default())
        .unwrap();
    let (na, mut app_a) =
        PerfectNegotiation::spawn(a.clone(), ea, sig_a, NegotiationOptions::impolite());
    let (nb, mut app_b) =
        PerfectNegotiation::spawn(b.clone(), eb, sig_b, NegotiationOptions::polite());
    a.connected(T).await.unwrap();
    b.connected(T).await.unwrap();
    open(&from_a).await;
    open(&from_b).await;
    let (sa, sb) = (na.stats(), nb.stats());
    // Each sent an offer; the impolite one ignored the polite one's, which rolled back.
    assert_eq!((sa.offers_sent, sb.offers_sent), (1, 1), "{sa:?} {sb:?}");
    assert_eq!(sa.ignored_offers, 1, "{sa:?}");
    assert_eq!(sb.rollbacks, 1, "{sb:?}");
    assert_eq!(sb.answers_sent, 1, "{sb:?}");
    assert_eq!(sa.rollbacks + sb.ignored_offers, 0);

    let at_b = incoming_channel(&mut app_b).await;
    let at_a = incoming_channel(&mut app_a).await;
    assert_eq!((at_b.label(), at_a.label()), ("from-a", "from-b"));
    from_a.send_text("hello b").await.unwrap();
    from_b.send_text("hello a").await.unwrap();
    assert_eq!(recv_text(&at_b).await, "hello b");
    assert_eq!(recv_text(&at_a).await, "hello a");

    // Either side renegotiates later: the polite one adds audio.
    let t = b.add_transceiver(MediaKind::Audio, Direction::SendRecv);
    tokio::time::timeout(T, async {
        while b
            .transceivers()
            .iter()
            .any(|x| x.id == t && x.mid.is_none())
            || b.signaling_state() != SignalingState::Stable
            || a.signaling_state() != SignalingState::Stable
        {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await
    .unwrap();
    assert_eq!(nb.stats().offers_sent, 2);
    assert_eq!(na.stats().answers_sent, 1);
    assert!(a.transceivers().iter().any(|x| x.kind == MediaKind::Audio));

    // Closing one side says bye; the other closes too and both negotiations end.
    a.close();
    let sa = tokio::time::timeout(T, na.finished())
        .await
        .unwrap()
        .unwrap();
    let sb = tokio::time::timeout(T, nb.finished())
        .await
        .unwrap()
        .unwrap();
    assert!(sa.candidates_sent > 0 && sb.candidates_received > 0);
    assert_eq!(b.connection_state(), rtcweb::PeerConnectionState::Closed);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn copy_paste_lines_connect_without_trickle() {
    init_tracing();
    let (a_side, b_side) = copy_paste_pair();
    let (a, ea) = peer().await;
    let (b, eb) = peer().await;
    let chat = a.create_data_channel("chat", &Default::default()).unwrap();
    assert!(!a_side.trickle());
    let (na, _app_a) =
        PerfectNegotiation::spawn(a.clone(), ea, a_side, NegotiationOptions::impolite());
    let (nb, mut app_b) =
        PerfectNegotiation::spawn(b.clone(), eb, b_side, NegotiationOptions::polite());
    open(&chat).await;
    let at_b = incoming_channel(&mut app_b).await;
    chat.send_text("pasted").await.unwrap();
    assert_eq!(recv_text(&at_b).await, "pasted");
    // One line each way (offer, answer), no candidate lines: they were in the SDP.
    let (sa, sb) = (na.stats(), nb.stats());
    assert_eq!((sa.offers_sent, sb.answers_sent), (1, 1));
    assert_eq!((sa.candidates_sent, sb.candidates_sent), (0, 0));
}

/// Two copy-paste ends whose output is the other's input, as two terminals with a person
/// copying between them.
fn copy_paste_pair() -> (StdioSignaling, StdioSignaling) {
    let (a_in, to_a) = tokio::io::duplex(1 << 16);
    let (b_in, to_b) = tokio::io::duplex(1 << 16);
    (
        StdioSignaling::with_io(a_in, to_b),
        StdioSignaling::with_io(b_in, to_a),
    )
}

/// One member of a room: connects to everyone, keeps every chat channel.
struct Member {
    name: String,
    room: Room,
    channels: mpsc::UnboundedReceiver<(String, DataChannel)>,
    chats: mpsc::UnboundedReceiver<(String, String)>,
    left: mpsc::UnboundedReceiver<String>,
}

async fn member(url: &str, name: &str) -> Member {
    let (room, mut events) = Room::join(url, name).await.unwrap();
    let (ch_tx, channels) = mpsc::unbounded_channel();
    let (chat_tx, chats) = mpsc::unbounded_channel();
    let (left_tx, left) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        let mut keep = Vec::new();
        while let Some(e) = events.recv().await {
            match e {
                RoomEvent::Peer(p) => {
                    let (pc, ev) = peer().await;
                    let their_name = p.participant.name.clone();
                    let options = if p.initiator {
                        let dc = pc.create_data_channel("chat", &Default::default()).unwrap();
                        let _ = ch_tx.send((their_name.clone(), dc));
                        NegotiationOptions::impolite()
                    } else {
                        NegotiationOptions::polite()
                    };
                    let (handle, mut app) = PerfectNegotiation::spawn(pc, ev, p.signaling, options);
                    keep.push(handle);
                    let ch_tx = ch_tx.clone();
                    tokio::spawn(async move {
                        while let Some(e) = app.recv().await {
                            if let PeerEvent::DataChannel(dc) = e {
                                let _ = ch_tx.send((their_name.clone(), dc));
                            }
                        }
                    });
                }
                RoomEvent::Chat { from, text } => {
                    let _ = chat_tx.send((from.name, text));
                }
                RoomEvent::Left(p) => {
                    let _ = left_tx.send(p.name);
                }
                _ => {}
            }
        }
    });
    Member {
        name: name.to_owned(),
        room,
        channels,
        chats,
        left,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn websocket_room_full_mesh_on_loopback() {
    init_tracing();
    let server = RoomServer::bind("127.0.0.1:0".parse().unwrap())
        .await
        .unwrap()
        .with_room_page("text/html; charset=utf-8", "<title>room</title>")
        .with_page("/room.js", "text/javascript", "// js");
    let server = server.spawn().unwrap();
    let addr = server.local_addr();

    // The page is served on the room's URL; bad names are refused.
    assert!(http_get(addr, "/team-1").await.starts_with("HTTP/1.1 200"));
    assert!(
        http_get(addr, "/team-1")
            .await
            .contains("<title>room</title>")
    );
    assert!(http_get(addr, "/room.js").await.contains("// js"));
    assert!(http_get(addr, "/a%2Fb").await.starts_with("HTTP/1.1 404"));

    let url = format!("ws://{addr}/team-1");
    let mut members = Vec::new();
    for name in ["alice", "bob", "carol"] {
        members.push(member(&url, name).await);
    }
    assert_eq!(members[2].room.participants().len(), 2);
    // Everyone gets a chat channel to each of the two others, and a line over each.
    let mut mesh: Vec<HashMap<String, DataChannel>> = Vec::new();
    for m in &mut members {
        let mut by_name = HashMap::new();
        while by_name.len() < 2 {
            let (name, dc) = tokio::time::timeout(T, m.channels.recv())
                .await
                .unwrap()
                .unwrap();
            by_name.insert(name, dc);
        }
        mesh.push(by_name);
    }
    for (m, channels) in members.iter().zip(&mesh) {
        for dc in channels.values() {
            open(dc).await;
            dc.send_text(&format!("hi from {}", m.name)).await.unwrap();
        }
    }
    for (m, channels) in members.iter().zip(&mesh) {
        for (from, dc) in channels {
            assert_eq!(
                recv_text(dc).await,
                format!("hi from {from}"),
                "at {}",
                m.name
            );
        }
    }

    // Chat relayed by the server reaches the others, not the sender.
    members[0].room.chat("server says hi").await.unwrap();
    for m in &mut members[1..] {
        let (from, text) = tokio::time::timeout(T, m.chats.recv())
            .await
            .unwrap()
            .unwrap();
        assert_eq!((from.as_str(), text.as_str()), ("alice", "server says hi"));
    }
    assert!(members[0].chats.try_recv().is_err());

    // Carol leaves: the others are told, and their connections to her close.
    let carol = members.pop().unwrap();
    carol.room.leave().await.unwrap();
    for m in &mut members {
        let who = tokio::time::timeout(T, m.left.recv())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(who, "carol");
    }
    for channels in &mesh[..2] {
        let dc = &channels["carol"];
        tokio::time::timeout(T, async {
            while dc.state() != rtcweb_tokio::ChannelState::Closed {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        })
        .await
        .unwrap();
    }
}

async fn http_get(addr: std::net::SocketAddr, path: &str) -> String {
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    let req = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    s.write_all(req.as_bytes()).await.unwrap();
    let mut out = String::new();
    tokio::time::timeout(T, s.read_to_string(&mut out))
        .await
        .unwrap()
        .unwrap();
    out
}

/// An echo server: every HTTP session gets a PeerConnection that echoes each data
/// channel's messages. Returns the server-side negotiation stats as sessions end.
fn echo_sessions(
    mut sessions: mpsc::Receiver<rtcweb_tokio::signaling::http::HttpSession>,
) -> mpsc::UnboundedReceiver<(rtcweb_tokio::signaling::NegotiationStats, RtcPeerConnection)> {
    let (done_tx, done) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        while let Some(session) = sessions.recv().await {
            let done_tx = done_tx.clone();
            tokio::spawn(async move {
                let (pc, ev) = peer().await;
                let (handle, mut app) = PerfectNegotiation::spawn(
                    pc.clone(),
                    ev,
                    session,
                    NegotiationOptions::polite(),
                );
                tokio::spawn(async move {
                    while let Some(e) = app.recv().await {
                        if let PeerEvent::DataChannel(dc) = e {
                            tokio::spawn(async move {
                                while let Some(m) = dc.recv().await {
                                    let _ = dc.send_text(m.text().unwrap_or("")).await;
                                }
                            });
                        }
                    }
                });
                let stats = handle.finished().await.unwrap();
                let _ = done_tx.send((stats, pc));
            });
        }
    });
    done
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn post_offer_echo_on_loopback() {
    init_tracing();
    let server = HttpSignalingServer::bind("127.0.0.1:0".parse().unwrap())
        .await
        .unwrap()
        .with_offer_path("/offer");
    let (server, sessions) = server.spawn().unwrap();
    let _done = echo_sessions(sessions);
    let url = format!("http://{}/offer", server.local_addr());

    let (pc, ev) = peer().await;
    let dc = pc.create_data_channel("echo", &Default::default()).unwrap();
    let (n, _app) = PerfectNegotiation::spawn(
        pc.clone(),
        ev,
        OfferClient::new(&url),
        NegotiationOptions::impolite(),
    );
    open(&dc).await;
    dc.send_text("ping").await.unwrap();
    assert_eq!(recv_text(&dc).await, "ping");
    let s = n.stats();
    assert_eq!(
        (s.offers_sent, s.answers_received, s.candidates_sent),
        (1, 1, 0)
    );

    // Not an offer, not JSON, wrong path: refused.
    let bad = rtcweb_tokio::signaling::http::post_offer(
        &format!("http://{}/nope", server.local_addr()),
        &rtcweb::SessionDescription::offer("v=0\r\n"),
    )
    .await;
    assert!(bad.is_err());
    let raw = http_post(
        server.local_addr(),
        "/offer",
        "Content-Type: application/json\r\n",
        "{}",
    )
    .await;
    assert!(raw.starts_with("HTTP/1.1 400"), "{raw}");
}

async fn http_post(addr: std::net::SocketAddr, path: &str, headers: &str, body: &str) -> String {
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    let req = format!(
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\n{headers}Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    s.write_all(req.as_bytes()).await.unwrap();
    let mut out = String::new();
    tokio::time::timeout(T, s.read_to_string(&mut out))
        .await
        .unwrap()
        .unwrap();
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn whip_with_trickle_patch_and_delete_on_loopback() {
    init_tracing();
    let server = HttpSignalingServer::bind("127.0.0.1:0".parse().unwrap())
        .await
        .unwrap()
        .with_whip_path("/whip")
        .with_bearer_token("s3cret");
    let (server, sessions) = server.spawn().unwrap();
    let mut done = echo_sessions(sessions);
    let endpoint = format!("http://{}/whip", server.local_addr());

    // Without the token: 401.
    let mut anonymous = WhipClient::new(&endpoint);
    let refused = anonymous
        .send(rtcweb::SignalingMessage::Description(
            rtcweb::SessionDescription::offer("v=0\r\n"),
        ))
        .await;
    assert!(format!("{:?}", refused.unwrap_err()).contains("401"));
    // Wrong content type: 415.
    let headers = "Content-Type: application/json\r\nAuthorization: Bearer s3cret\r\n";
    let raw = http_post(server.local_addr(), "/whip", headers, "{}").await;
    assert!(raw.starts_with("HTTP/1.1 415"), "{raw}");
    // PATCH to an unknown session: 404.
    let raw = http_post(
        server.local_addr(),
        "/whip/nope",
        "Authorization: Bearer s3cret\r\n",
        "",
    )
    .await;
    assert!(
        raw.starts_with("HTTP/1.1 405") || raw.starts_with("HTTP/1.1 404"),
        "{raw}"
    );

    let (pc, ev) = peer().await;
    let dc = pc.create_data_channel("echo", &Default::default()).unwrap();
    let client = WhipClient::new(&endpoint)
        .with_bearer_token("s3cret")
        .with_trickle(true);
    assert!(client.trickle());
    let (n, _app) =
        PerfectNegotiation::spawn(pc.clone(), ev, client, NegotiationOptions::impolite());
    open(&dc).await;
    dc.send_text("whip").await.unwrap();
    assert_eq!(recv_text(&dc).await, "whip");
    // Our candidates reached the server only by PATCH: the offer was sent before gathering.
    let s = n.stats();
    assert!(s.candidates_sent > 0, "{s:?}");

    // Closing sends DELETE: the server's session ends with a bye and closes its side.
    pc.close();
    n.finished().await.unwrap();
    let (server_stats, server_pc) = tokio::time::timeout(T, done.recv()).await.unwrap().unwrap();
    assert!(server_stats.candidates_received > 0, "{server_stats:?}");
    assert_eq!(server_stats.answers_sent, 1);
    assert_eq!(
        server_pc.connection_state(),
        rtcweb::PeerConnectionState::Closed
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_data_channel_added_after_connecting_renegotiates_and_opens() {
    init_tracing();
    let (sig_a, sig_b) = memory::pair();
    let (a, ea) = peer().await;
    let (b, eb) = peer().await;
    // Media only at first: DTLS comes up without an m=application section.
    a.add_transceiver(MediaKind::Audio, Direction::SendRecv);
    let (na, mut app_a) =
        PerfectNegotiation::spawn(a.clone(), ea, sig_a, NegotiationOptions::impolite());
    let (nb, _app_b) =
        PerfectNegotiation::spawn(b.clone(), eb, sig_b, NegotiationOptions::polite());
    a.connected(T).await.unwrap();
    b.connected(T).await.unwrap();
    // The polite side adds the first data channel: a second offer/answer adds the section
    // and SCTP starts over the DTLS association that is already up.
    let late = b.create_data_channel("late", &Default::default()).unwrap();
    open(&late).await;
    late.send_text("after renegotiation").await.unwrap();
    let at_a = incoming_channel(&mut app_a).await;
    assert_eq!(recv_text(&at_a).await, "after renegotiation");
    assert_eq!((na.stats().offers_sent, nb.stats().offers_sent), (1, 1));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn candidates_never_precede_the_description() {
    init_tracing();
    let (sig_a, mut raw) = memory::pair();
    let (a, ea) = peer().await;
    // Let the driver report whatever it has (host candidates) before anything is negotiated.
    tokio::time::sleep(Duration::from_millis(100)).await;
    let _dc = a.create_data_channel("x", &Default::default()).unwrap();
    let (n, _app) = PerfectNegotiation::spawn(a, ea, sig_a, NegotiationOptions::impolite());
    let first = tokio::time::timeout(T, raw.recv())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert!(
        matches!(&first, rtcweb::SignalingMessage::Description(d) if d.sdp_type == rtcweb::SdpType::Offer),
        "{first:?}"
    );
    let second = tokio::time::timeout(T, raw.recv())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert!(
        matches!(second, rtcweb::SignalingMessage::Candidate(_)),
        "{second:?}"
    );
    // The negotiator counts a candidate once its send returned, which may be just after
    // the peer received it.
    for _ in 0..100 {
        if n.stats().candidates_sent >= 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(n.stats().candidates_sent >= 1);
}
