//! Server side: `POST /offer` and WHIP endpoints handing each new session to the
//! application as an [`HttpSession`].

use std::collections::HashMap;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::header::{self, HeaderValue};
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use rtcweb::{SdpType, SessionDescription};
use tokio::net::TcpListener;
use tokio::sync::{mpsc, oneshot};
use tracing::{debug, warn};

use super::MAX_BODY;
use super::router::{
    BodyError, HttpAction, HttpReply, HttpRouter, HttpSessionKind, WhipSessionView,
};
use crate::error::Error;
use crate::signaling::{Signaling, SignalingMessage, signaling_error};

/// How long a request waits for the application's answer.
const ANSWER_TIMEOUT: Duration = Duration::from_secs(30);
/// Sessions handed over but not yet taken by the application.
const SESSION_QUEUE: usize = 64;
/// Messages (trickled candidates) queued per session.
const SESSION_INBOX: usize = 256;
/// TCP connections at once.
const MAX_CONNECTIONS: usize = 4096;
/// WHIP sessions at once.
const MAX_WHIP_SESSIONS: usize = 4096;

/// One offer/answer exchange over HTTP, server side (see the [module docs](super)).
#[derive(Debug)]
pub struct HttpSession {
    kind: HttpSessionKind,
    id: String,
    inbox: mpsc::Receiver<SignalingMessage>,
    respond: Option<oneshot::Sender<SessionDescription>>,
    registry: Arc<Mutex<HashMap<String, WhipEntry>>>,
}

impl HttpSession {
    /// `POST /offer` or WHIP.
    pub fn kind(&self) -> HttpSessionKind {
        self.kind
    }

    /// The session id (the last segment of a WHIP `Location`).
    pub fn id(&self) -> &str {
        &self.id
    }
}

impl Drop for HttpSession {
    fn drop(&mut self) {
        lock(&self.registry).remove(&self.id);
    }
}

impl Signaling for HttpSession {
    async fn send(&mut self, message: SignalingMessage) -> Result<(), Error> {
        match message {
            SignalingMessage::Description(d) if d.sdp_type == SdpType::Answer => {
                let respond = self
                    .respond
                    .take()
                    .ok_or_else(|| signaling_error("this HTTP session was already answered"))?;
                respond
                    .send(d)
                    .map_err(|_| signaling_error("the client went away"))
            }
            SignalingMessage::Bye => {
                lock(&self.registry).remove(&self.id);
                Ok(())
            }
            _ => Err(signaling_error(
                "an HTTP session answers once, with the candidates in the SDP",
            )),
        }
    }

    async fn recv(&mut self) -> Result<Option<SignalingMessage>, Error> {
        match self.inbox.recv().await {
            Some(m) => Ok(Some(m)),
            // `POST /offer` sessions have nothing after the offer; WHIP ones end with a
            // DELETE, which arrives as `Bye`.
            None => std::future::pending().await,
        }
    }

    fn trickle(&self) -> bool {
        false
    }
}

#[derive(Debug)]
struct WhipEntry {
    tx: mpsc::Sender<SignalingMessage>,
    etag: String,
    ufrag: Option<String>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// An HTTP server for `POST /offer` and WHIP sessions.
///
/// ```no_run
/// # async fn demo() -> Result<(), rtcweb_tokio::Error> {
/// use rtcweb_tokio::signaling::http::HttpSignalingServer;
///
/// let server = HttpSignalingServer::bind("127.0.0.1:8080".parse().unwrap()).await?
///     .with_offer_path("/offer")
///     .with_whip_path("/whip");
/// let (_handle, mut sessions) = server.spawn()?;
/// while let Some(session) = sessions.recv().await {
///     // recv() the offer, answer with send(): e.g. PerfectNegotiation::spawn(pc, events, session, ...)
/// #   drop(session);
/// }
/// # Ok(()) }
/// ```
pub struct HttpSignalingServer {
    listener: TcpListener,
    router: HttpRouter,
}

impl std::fmt::Debug for HttpSignalingServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpSignalingServer")
            .field("local", &self.listener.local_addr().ok())
            .field("offer_path", &self.router.offer_path)
            .field("whip_path", &self.router.whip_path)
            .finish_non_exhaustive()
    }
}

/// A running [`HttpSignalingServer`]; dropping it stops the server.
#[derive(Debug)]
pub struct HttpServerHandle {
    local: SocketAddr,
    task: tokio::task::JoinHandle<()>,
}

impl HttpServerHandle {
    /// The address it listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.local
    }
}

impl Drop for HttpServerHandle {
    fn drop(&mut self) {
        self.task.abort();
    }
}

struct Shared {
    router: HttpRouter,
    sessions: mpsc::Sender<HttpSession>,
    registry: Arc<Mutex<HashMap<String, WhipEntry>>>,
    connections: AtomicUsize,
}

impl HttpSignalingServer {
    /// Listens on `addr`; add endpoints with the `with_*_path` methods.
    pub async fn bind(addr: SocketAddr) -> Result<Self, Error> {
        Ok(Self::from_listener(TcpListener::bind(addr).await?))
    }

    /// Serves on a bound listener.
    pub fn from_listener(listener: TcpListener) -> Self {
        Self {
            listener,
            router: HttpRouter::default(),
        }
    }

    /// Accepts the webrtc-echoes `POST` at `path` (usually `/offer`).
    pub fn with_offer_path(mut self, path: &str) -> Self {
        self.router.offer_path = Some(path.to_owned());
        self
    }

    /// Accepts WHIP at `path` (sessions live at `path/<id>`).
    pub fn with_whip_path(mut self, path: &str) -> Self {
        self.router.whip_path = Some(path.trim_end_matches('/').to_owned());
        self
    }

    /// Requires `Authorization: Bearer <token>` on WHIP requests.
    pub fn with_bearer_token(mut self, token: &str) -> Self {
        self.router.token = Some(token.to_owned());
        self
    }

    /// The address it listens on.
    pub fn local_addr(&self) -> Result<SocketAddr, Error> {
        Ok(self.listener.local_addr()?)
    }

    /// Serves in a task. New sessions arrive on the receiver; a request whose session the
    /// application does not take within 30 s fails with `504`.
    pub fn spawn(self) -> Result<(HttpServerHandle, mpsc::Receiver<HttpSession>), Error> {
        let local = self.local_addr()?;
        let (tx, rx) = mpsc::channel(SESSION_QUEUE);
        let shared = Arc::new(Shared {
            router: self.router,
            sessions: tx,
            registry: Arc::default(),
            connections: AtomicUsize::new(0),
        });
        let task = tokio::spawn(accept(self.listener, shared));
        Ok((HttpServerHandle { local, task }, rx))
    }
}

async fn accept(listener: TcpListener, shared: Arc<Shared>) {
    loop {
        let (tcp, remote) = match listener.accept().await {
            Ok(c) => c,
            Err(e) => {
                warn!(error = %e, "accept");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        if shared.connections.fetch_add(1, Ordering::SeqCst) >= MAX_CONNECTIONS {
            shared.connections.fetch_sub(1, Ordering::SeqCst);
            continue;
        }
        let shared = shared.clone();
        tokio::spawn(async move {
            let service = hyper::service::service_fn({
                let shared = shared.clone();
                move |req| handle(req, remote, shared.clone())
            });
            let conn = hyper::server::conn::http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(Duration::from_secs(10))
                .serve_connection(TokioIo::new(tcp), service);
            if let Err(e) = conn.await {
                debug!(%remote, error = %e, "http connection");
            }
            shared.connections.fetch_sub(1, Ordering::SeqCst);
        });
    }
}

type Reply = Response<Full<Bytes>>;

fn reply(status: StatusCode, content_type: &'static str, body: impl Into<Bytes>) -> Reply {
    let mut r = Response::new(Full::new(body.into()));
    *r.status_mut() = status;
    let h = r.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    // Browsers post offers from pages of other origins (the webrtc-echoes clients do).
    h.insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static("*"),
    );
    h.insert(
        header::ACCESS_CONTROL_EXPOSE_HEADERS,
        HeaderValue::from_static("Location, ETag, Link"),
    );
    r
}

fn text(status: StatusCode, body: &'static str) -> Reply {
    reply(status, "text/plain; charset=utf-8", body)
}

impl From<HttpReply> for Reply {
    fn from(r: HttpReply) -> Self {
        let mut out = reply(r.status, r.content_type, r.body);
        for (name, value) in r.headers {
            out.headers_mut().insert(name, value);
        }
        out
    }
}

/// Reads the body whatever the request (bounded by `MAX_BODY`): the router decides from
/// head and body together, and refuses what it must before it looks at the body.
async fn read_body(body: Incoming) -> Result<String, BodyError> {
    let body = Limited::new(body, MAX_BODY)
        .collect()
        .await
        .map_err(|_| BodyError::TooLarge)?
        .to_bytes();
    String::from_utf8(body.to_vec()).map_err(|_| BodyError::NotUtf8)
}

/// A unique, unguessable id: a process-wide counter (unique even if the OS had no
/// randomness to give) and 12 random bytes.
fn new_id() -> String {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    let mut b = [0u8; 12];
    let _ = getrandom::fill(&mut b);
    let random: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!("{n:x}{random}")
}

async fn handle(
    req: Request<Incoming>,
    remote: SocketAddr,
    shared: Arc<Shared>,
) -> Result<Reply, Infallible> {
    let (head, body) = req.into_parts();
    debug!(%remote, method = %head.method, path = head.uri.path(), "http signaling request");
    let body = read_body(body).await;
    let action = shared
        .router
        .route(&head, body.as_deref().map_err(|e| *e), &|id| {
            lock(&shared.registry).get(id).map(|e| WhipSessionView {
                etag: e.etag.clone(),
                ufrag: e.ufrag.clone(),
            })
        });
    Ok(match action {
        HttpAction::Reply(r) => r.into(),
        HttpAction::Open { kind, offer, ufrag } => open(&shared, kind, offer, ufrag).await,
        HttpAction::Delete { id } => {
            if let Some(e) = lock(&shared.registry).remove(&id) {
                let _ = e.tx.try_send(SignalingMessage::Bye);
            }
            text(StatusCode::OK, "")
        }
        HttpAction::Trickle { id, messages } => {
            let tx = lock(&shared.registry).get(&id).map(|e| e.tx.clone());
            let Some(tx) = tx else {
                return Ok(text(StatusCode::NOT_FOUND, "no such session\n"));
            };
            for m in messages {
                if tx.try_send(m).is_err() {
                    return Ok(text(StatusCode::SERVICE_UNAVAILABLE, "session busy\n"));
                }
            }
            text(StatusCode::NO_CONTENT, "")
        }
    })
}

/// Opens a session and answers with the application's answer.
async fn open(
    shared: &Shared,
    kind: HttpSessionKind,
    offer: SessionDescription,
    ufrag: Option<String>,
) -> Reply {
    match kind {
        HttpSessionKind::Offer => match open_session(shared, kind, offer, None).await {
            Ok((_, answer)) => reply(StatusCode::OK, "application/json", answer.to_json()),
            Err(r) => r,
        },
        HttpSessionKind::Whip => {
            let whip_path = shared.router.whip_path.clone().unwrap_or_default();
            let etag = format!("\"{}\"", new_id());
            match open_session(shared, kind, offer, Some((etag.clone(), ufrag))).await {
                Ok((id, answer)) => {
                    let mut r = reply(StatusCode::CREATED, "application/sdp", answer.sdp);
                    let h = r.headers_mut();
                    if let Ok(v) = HeaderValue::from_str(&format!("{whip_path}/{id}")) {
                        h.insert(header::LOCATION, v);
                    }
                    if let Ok(v) = HeaderValue::from_str(&etag) {
                        h.insert(header::ETAG, v);
                    }
                    r
                }
                Err(r) => r,
            }
        }
    }
}

/// Hands a new session to the application and waits for its answer. A WHIP session is
/// registered with its ETag and ufrag first, so that its trickles find it.
async fn open_session(
    shared: &Shared,
    kind: HttpSessionKind,
    offer: SessionDescription,
    whip: Option<(String, Option<String>)>,
) -> Result<(String, SessionDescription), Reply> {
    let id = new_id();
    let (tx, rx) = mpsc::channel(SESSION_INBOX);
    let (respond, answer) = oneshot::channel();
    if let Some((etag, ufrag)) = whip {
        let mut registry = lock(&shared.registry);
        if registry.len() >= MAX_WHIP_SESSIONS {
            return Err(text(StatusCode::SERVICE_UNAVAILABLE, "too many sessions\n"));
        }
        registry.insert(
            id.clone(),
            WhipEntry {
                tx: tx.clone(),
                etag,
                ufrag,
            },
        );
    }
    let _ = tx.try_send(SignalingMessage::Description(offer));
    let session = HttpSession {
        kind,
        id: id.clone(),
        inbox: rx,
        respond: Some(respond),
        registry: shared.registry.clone(),
    };
    if shared.sessions.try_send(session).is_err() {
        return Err(text(StatusCode::SERVICE_UNAVAILABLE, "busy\n"));
    }
    match tokio::time::timeout(ANSWER_TIMEOUT, answer).await {
        Ok(Ok(answer)) => Ok((id, answer)),
        Ok(Err(_)) => Err(text(StatusCode::INTERNAL_SERVER_ERROR, "no answer\n")),
        Err(_) => Err(text(StatusCode::GATEWAY_TIMEOUT, "no answer in time\n")),
    }
}
