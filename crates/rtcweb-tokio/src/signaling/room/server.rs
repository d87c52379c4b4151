//! The room server: WebSocket rooms on `ws://HOST:PORT/ROOM`, and static pages on the same
//! port (a browser opens `http://HOST:PORT/ROOM`, its script connects back to the same URL
//! as a WebSocket).

use std::collections::HashMap;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use bytes::Bytes;
use futures_util::{SinkExt, StreamExt};
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::header::{self, HeaderValue};
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;
use tokio::sync::mpsc;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::handshake::derive_accept_key;
use tokio_tungstenite::tungstenite::protocol::{Role, WebSocketConfig};
use tracing::{debug, info, warn};

use super::hub::{Flow, RoomConnection, RoomHub, RoomServerLimits};
use super::protocol::{MAX_MESSAGE, valid_room_name};

#[derive(Clone)]
struct Page {
    content_type: &'static str,
    body: Bytes,
}

/// A room server (see the [module docs](super)).
///
/// ```no_run
/// # async fn demo() -> std::io::Result<()> {
/// use rtcweb_tokio::signaling::room::RoomServer;
///
/// let server = RoomServer::bind("127.0.0.1:8080".parse().unwrap()).await?
///     .with_room_page("text/html; charset=utf-8", "<html>...</html>");
/// server.run().await
/// # }
/// ```
pub struct RoomServer {
    listener: TcpListener,
    pages: HashMap<String, Page>,
    room_page: Option<Page>,
    limits: RoomServerLimits,
}

impl std::fmt::Debug for RoomServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RoomServer")
            .field("local", &self.listener.local_addr().ok())
            .finish_non_exhaustive()
    }
}

impl RoomServer {
    /// Listens on `addr`.
    pub async fn bind(addr: SocketAddr) -> std::io::Result<Self> {
        Ok(Self::from_listener(TcpListener::bind(addr).await?))
    }

    /// Serves on a bound listener.
    pub fn from_listener(listener: TcpListener) -> Self {
        Self {
            listener,
            pages: HashMap::new(),
            room_page: None,
            limits: RoomServerLimits::default(),
        }
    }

    /// The address it listens on.
    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// Serves `body` at exactly `path` (e.g. `/room.js`).
    pub fn with_page(
        mut self,
        path: &str,
        content_type: &'static str,
        body: impl Into<Bytes>,
    ) -> Self {
        let page = Page {
            content_type,
            body: body.into(),
        };
        self.pages.insert(path.to_owned(), page);
        self
    }

    /// Serves `body` at `/` and at every `/ROOM` that is a valid room name (a plain GET;
    /// the same URL with a WebSocket upgrade joins the room).
    pub fn with_room_page(mut self, content_type: &'static str, body: impl Into<Bytes>) -> Self {
        self.room_page = Some(Page {
            content_type,
            body: body.into(),
        });
        self
    }

    /// Replaces the limits.
    pub fn with_limits(mut self, limits: RoomServerLimits) -> Self {
        self.limits = limits;
        self
    }

    /// Serves until the task is dropped.
    pub async fn run(self) -> std::io::Result<()> {
        let shared = Arc::new(Shared {
            pages: self.pages,
            room_page: self.room_page,
            limits: self.limits,
            hub: Mutex::new(RoomHub::new(self.limits)),
            connections: AtomicUsize::new(0),
        });
        loop {
            let (tcp, remote) = match self.listener.accept().await {
                Ok(c) => c,
                Err(e) => {
                    // Out of file descriptors and the like: back off instead of spinning.
                    warn!(error = %e, "accept");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            };
            if shared.connections.fetch_add(1, Ordering::SeqCst) >= shared.limits.max_connections {
                shared.connections.fetch_sub(1, Ordering::SeqCst);
                debug!(%remote, "connection refused: too many");
                continue;
            }
            let _ = tcp.set_nodelay(true);
            let shared = shared.clone();
            tokio::spawn(async move {
                let service = hyper::service::service_fn({
                    let shared = shared.clone();
                    move |req| handle(req, shared.clone())
                });
                let conn = hyper::server::conn::http1::Builder::new()
                    .timer(TokioTimer::new())
                    .header_read_timeout(Duration::from_secs(10))
                    .serve_connection(TokioIo::new(tcp), service)
                    .with_upgrades();
                if let Err(e) = conn.await {
                    debug!(%remote, error = %e, "http connection");
                }
                shared.connections.fetch_sub(1, Ordering::SeqCst);
            });
        }
    }

    /// Runs the server in a task; dropping the handle stops it (joined members stay
    /// connected until they leave).
    pub fn spawn(self) -> std::io::Result<RoomServerHandle> {
        let local = self.local_addr()?;
        let task = tokio::spawn(async move {
            if let Err(e) = self.run().await {
                warn!(error = %e, "room server stopped");
            }
        });
        Ok(RoomServerHandle { local, task })
    }
}

/// A running [`RoomServer`]; dropping it stops accepting connections.
#[derive(Debug)]
pub struct RoomServerHandle {
    local: SocketAddr,
    task: tokio::task::JoinHandle<()>,
}

impl RoomServerHandle {
    /// The address it listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.local
    }
}

impl Drop for RoomServerHandle {
    fn drop(&mut self) {
        self.task.abort();
    }
}

struct Shared {
    pages: HashMap<String, Page>,
    room_page: Option<Page>,
    limits: RoomServerLimits,
    hub: Mutex<RoomHub>,
    connections: AtomicUsize,
}

impl Shared {
    fn hub(&self) -> MutexGuard<'_, RoomHub> {
        self.hub.lock().unwrap_or_else(|p| p.into_inner())
    }
}

fn response(status: StatusCode, content_type: &'static str, body: Bytes) -> Response<Full<Bytes>> {
    let mut r = Response::new(Full::new(body));
    *r.status_mut() = status;
    r.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    r.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

fn plain(status: StatusCode, text: &'static str) -> Response<Full<Bytes>> {
    response(
        status,
        "text/plain; charset=utf-8",
        Bytes::from_static(text.as_bytes()),
    )
}

fn is_websocket(req: &Request<Incoming>) -> bool {
    let has = |name: header::HeaderName, token: &str| {
        req.headers().get_all(name).iter().any(|v| {
            v.to_str()
                .is_ok_and(|s| s.split(',').any(|t| t.trim().eq_ignore_ascii_case(token)))
        })
    };
    has(header::CONNECTION, "upgrade") && has(header::UPGRADE, "websocket")
}

async fn handle(
    mut req: Request<Incoming>,
    shared: Arc<Shared>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let path = req.uri().path().to_owned();
    let room = path.trim_start_matches('/').to_owned();
    if is_websocket(&req) {
        if !room.is_empty() && !valid_room_name(&room) {
            return Ok(plain(StatusCode::NOT_FOUND, "no such room name\n"));
        }
        let key = req.headers().get(header::SEC_WEBSOCKET_KEY).cloned();
        let version_ok = req
            .headers()
            .get(header::SEC_WEBSOCKET_VERSION)
            .is_some_and(|v| v == "13");
        let (Some(key), true) = (key, version_ok) else {
            return Ok(plain(StatusCode::BAD_REQUEST, "bad WebSocket handshake\n"));
        };
        let accept = derive_accept_key(key.as_bytes());
        let upgrade = hyper::upgrade::on(&mut req);
        tokio::spawn(async move {
            match upgrade.await {
                Ok(upgraded) => {
                    let config = WebSocketConfig::default()
                        .max_message_size(Some(MAX_MESSAGE))
                        .max_frame_size(Some(MAX_MESSAGE));
                    let ws = WebSocketStream::from_raw_socket(
                        TokioIo::new(upgraded),
                        Role::Server,
                        Some(config),
                    )
                    .await;
                    member(ws, (!room.is_empty()).then_some(room), shared).await;
                }
                Err(e) => debug!(error = %e, "upgrade failed"),
            }
        });
        let mut r = Response::new(Full::new(Bytes::new()));
        *r.status_mut() = StatusCode::SWITCHING_PROTOCOLS;
        let h = r.headers_mut();
        h.insert(header::CONNECTION, HeaderValue::from_static("Upgrade"));
        h.insert(header::UPGRADE, HeaderValue::from_static("websocket"));
        if let Ok(v) = HeaderValue::from_str(&accept) {
            h.insert(header::SEC_WEBSOCKET_ACCEPT, v);
        }
        return Ok(r);
    }
    if req.method() != Method::GET && req.method() != Method::HEAD {
        return Ok(plain(StatusCode::METHOD_NOT_ALLOWED, "GET only\n"));
    }
    if let Some(page) = shared.pages.get(&path) {
        return Ok(response(
            StatusCode::OK,
            page.content_type,
            page.body.clone(),
        ));
    }
    if let Some(page) = &shared.room_page
        && (room.is_empty() || valid_room_name(&room))
    {
        return Ok(response(
            StatusCode::OK,
            page.content_type,
            page.body.clone(),
        ));
    }
    Ok(plain(StatusCode::NOT_FOUND, "not found\n"))
}

/// One WebSocket: wait for `join`, then relay until it leaves or closes. What each message
/// does is the hub's business ([`RoomHub::handle_text`]).
async fn member<S>(ws: WebSocketStream<S>, url_room: Option<String>, shared: Arc<Shared>)
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let (mut sink, mut stream) = ws.split();
    let (tx, mut rx) = mpsc::channel::<String>(shared.limits.member_queue);
    let writer = tokio::spawn(async move {
        while let Some(text) = rx.recv().await {
            if sink.send(Message::text(text)).await.is_err() {
                break;
            }
        }
        let _ = sink.send(Message::Close(None)).await;
    });
    let mut conn = RoomConnection::new(tx, url_room);
    let join = tokio::time::timeout(shared.limits.join_timeout, async {
        while let Some(Ok(m)) = stream.next().await {
            let Message::Text(text) = m else { continue };
            match shared.hub().handle_text(&mut conn, &text) {
                Flow::Continue => {}
                Flow::Joined => return true,
                Flow::Close => return false,
            }
        }
        false
    })
    .await;
    let Some((room, pid)) = join
        .unwrap_or(false)
        .then(|| conn.joined().map(|(r, p)| (r.to_owned(), p)))
        .flatten()
    else {
        // Not joined: the writer sends what was queued (an error, say) and closes.
        drop(conn);
        let _ = writer.await;
        return;
    };
    info!(room, pid, "joined");
    loop {
        tokio::select! {
            m = stream.next() => {
                let text = match m {
                    Some(Ok(Message::Text(t))) => t,
                    Some(Ok(Message::Close(_))) | None | Some(Err(_)) => break,
                    Some(Ok(_)) => continue,
                };
                if shared.hub().handle_text(&mut conn, &text) == Flow::Close {
                    break;
                }
            }
            () = conn.kicked() => {
                debug!(room, pid, "too slow; disconnected");
                break;
            }
        }
    }
    shared.hub().disconnect(&mut conn);
    info!(room, pid, "left");
    drop(conn);
    writer.abort();
}
