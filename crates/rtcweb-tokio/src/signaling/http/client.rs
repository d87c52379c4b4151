//! Client side: `POST /offer` ([`OfferClient`], [`post_offer`]) and WHIP ([`WhipClient`]).

use std::collections::VecDeque;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::header::{self, HeaderMap, HeaderName};
use hyper::{Method, Request, StatusCode};
use hyper_util::rt::TokioIo;
use rtcweb::{IceCandidateInit, IceServer, SdpType, SessionDescription};
use tracing::debug;

use super::MAX_BODY;
use super::sdpfrag::{OfferIce, SdpFrag};
use crate::error::Error;
use crate::signaling::tls::Target;
use crate::signaling::{Signaling, SignalingMessage, signaling_error};

/// How long one HTTP exchange may take (the server gathers before it answers).
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

struct Reply {
    status: StatusCode,
    headers: HeaderMap,
    body: Bytes,
}

async fn request(
    url: &str,
    method: Method,
    headers: Vec<(HeaderName, String)>,
    body: Bytes,
    roots: &[Vec<u8>],
) -> Result<Reply, Error> {
    let target = Target::parse(url)?;
    let exchange = async {
        let stream = target.connect(roots).await?;
        let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
            .await
            .map_err(signaling_error)?;
        let conn = tokio::spawn(async move {
            if let Err(e) = conn.await {
                debug!(error = %e, "http client connection");
            }
        });
        let mut req = Request::builder()
            .method(method)
            .uri(target.path.as_str())
            .header(header::HOST, target.authority());
        for (name, value) in headers {
            req = req.header(name, value);
        }
        let req = req.body(Full::new(body)).map_err(signaling_error)?;
        let response = sender.send_request(req).await.map_err(signaling_error)?;
        let (parts, body) = response.into_parts();
        let body = Limited::new(body, MAX_BODY)
            .collect()
            .await
            .map_err(|e| signaling_error(format!("response body: {e}")))?
            .to_bytes();
        conn.abort();
        Ok(Reply {
            status: parts.status,
            headers: parts.headers,
            body,
        })
    };
    tokio::time::timeout(REQUEST_TIMEOUT, exchange)
        .await
        .map_err(|_| Error::Timeout)?
}

fn body_text(reply: &Reply) -> String {
    String::from_utf8_lossy(&reply.body)
        .chars()
        .take(200)
        .collect()
}

/// Posts `offer` to `url` as JSON and returns the JSON answer (the webrtc-echoes
/// convention). The offer should carry its candidates.
pub async fn post_offer(
    url: &str,
    offer: &SessionDescription,
) -> Result<SessionDescription, Error> {
    let reply = request(
        url,
        Method::POST,
        vec![(header::CONTENT_TYPE, "application/json".into())],
        Bytes::from(offer.to_json()),
        &[],
    )
    .await?;
    if !reply.status.is_success() {
        return Err(signaling_error(format!(
            "{url}: {} {}",
            reply.status,
            body_text(&reply)
        )));
    }
    let text = std::str::from_utf8(&reply.body).map_err(signaling_error)?;
    let answer = SessionDescription::from_json(text)?;
    if answer.sdp_type != SdpType::Answer {
        return Err(signaling_error("the server did not answer with an answer"));
    }
    Ok(answer)
}

/// [`Signaling`] for the `POST /offer` convention: sending the offer posts it, and the
/// answer is the next message received. Candidates travel in the SDP (no trickle); a
/// second offer posts again, which such servers treat as a new session.
#[derive(Debug)]
pub struct OfferClient {
    url: String,
    inbox: VecDeque<SignalingMessage>,
}

impl OfferClient {
    /// A client for the endpoint at `url` (e.g. `http://127.0.0.1:8080/offer`).
    pub fn new(url: &str) -> Self {
        Self {
            url: url.to_owned(),
            inbox: VecDeque::new(),
        }
    }
}

impl Signaling for OfferClient {
    async fn send(&mut self, message: SignalingMessage) -> Result<(), Error> {
        match message {
            SignalingMessage::Description(d) if d.sdp_type == SdpType::Offer => {
                let answer = post_offer(&self.url, &d).await?;
                self.inbox.push_back(SignalingMessage::Description(answer));
                Ok(())
            }
            // Nothing else can be said to such a server; closing needs no message.
            SignalingMessage::Bye => Ok(()),
            _ => Err(signaling_error(
                "POST /offer carries offers only, with their candidates",
            )),
        }
    }

    async fn recv(&mut self) -> Result<Option<SignalingMessage>, Error> {
        match self.inbox.pop_front() {
            Some(m) => Ok(Some(m)),
            // The server has nothing more to say, but the session goes on.
            None => std::future::pending().await,
        }
    }

    fn trickle(&self) -> bool {
        false
    }
}

/// A WHIP client (RFC 9725) as [`Signaling`]: sending the offer posts it, the answer is the
/// next message received, candidates are `PATCH`ed when trickle is on, and `Bye` deletes
/// the session.
#[derive(Debug)]
pub struct WhipClient {
    endpoint: String,
    token: Option<String>,
    roots: Vec<Vec<u8>>,
    trickle: bool,
    session: Option<String>,
    etag: Option<String>,
    ice: Option<OfferIce>,
    /// Candidates given before the session existed.
    pending: Vec<IceCandidateInit>,
    patch_supported: bool,
    inbox: VecDeque<SignalingMessage>,
    ice_servers: Vec<IceServer>,
}

impl WhipClient {
    /// A client for the WHIP endpoint `endpoint`. Without trickle (the default) the offer
    /// must carry its candidates (gather first): one round trip, what most servers expect.
    pub fn new(endpoint: &str) -> Self {
        Self {
            endpoint: endpoint.to_owned(),
            token: None,
            roots: Vec::new(),
            trickle: false,
            session: None,
            etag: None,
            ice: None,
            pending: Vec::new(),
            patch_supported: true,
            inbox: VecDeque::new(),
            ice_servers: Vec::new(),
        }
    }

    /// Sends `Authorization: Bearer <token>`.
    pub fn with_bearer_token(mut self, token: &str) -> Self {
        self.token = Some(token.to_owned());
        self
    }

    /// Trickles candidates with `PATCH` (the offer is then sent before gathering ends).
    pub fn with_trickle(mut self, trickle: bool) -> Self {
        self.trickle = trickle;
        self
    }

    /// Trusts these extra TLS roots (DER) for `https:`.
    pub fn with_tls_roots(mut self, roots: Vec<Vec<u8>>) -> Self {
        self.roots = roots;
        self
    }

    /// The session's URL (from `Location`), once the offer was answered.
    pub fn session_url(&self) -> Option<&str> {
        self.session.as_deref()
    }

    /// ICE servers the endpoint announced in `Link` headers (`rel="ice-server"`).
    pub fn ice_servers(&self) -> &[IceServer] {
        &self.ice_servers
    }

    fn headers(&self, content_type: Option<&str>) -> Vec<(HeaderName, String)> {
        let mut h = Vec::new();
        if let Some(t) = content_type {
            h.push((header::CONTENT_TYPE, t.to_owned()));
        }
        if let Some(token) = &self.token {
            h.push((header::AUTHORIZATION, format!("Bearer {token}")));
        }
        h
    }

    async fn post(&mut self, offer: SessionDescription) -> Result<(), Error> {
        let mut headers = self.headers(Some("application/sdp"));
        headers.push((header::ACCEPT, "application/sdp".into()));
        let reply = request(
            &self.endpoint,
            Method::POST,
            headers,
            Bytes::from(offer.sdp.clone()),
            &self.roots,
        )
        .await?;
        if reply.status != StatusCode::CREATED {
            return Err(signaling_error(format!(
                "WHIP POST: {} {}",
                reply.status,
                body_text(&reply)
            )));
        }
        let location = reply
            .headers
            .get(header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .ok_or_else(|| signaling_error("WHIP: 201 without Location"))?;
        self.session = Some(resolve(&self.endpoint, location));
        self.etag = reply
            .headers
            .get(header::ETAG)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        self.ice_servers = reply
            .headers
            .get_all(header::LINK)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(parse_link_ice_servers)
            .collect();
        self.ice = OfferIce::from_sdp(&offer.sdp);
        let sdp = String::from_utf8(reply.body.to_vec()).map_err(signaling_error)?;
        self.inbox
            .push_back(SignalingMessage::Description(SessionDescription::answer(
                sdp,
            )));
        let pending = std::mem::take(&mut self.pending);
        if !pending.is_empty() {
            self.patch(&pending, false).await?;
        }
        Ok(())
    }

    async fn patch(&mut self, candidates: &[IceCandidateInit], end: bool) -> Result<(), Error> {
        let (Some(url), Some(ice)) = (self.session.clone(), self.ice.clone()) else {
            return Ok(());
        };
        if !self.patch_supported {
            return Ok(());
        }
        let body = SdpFrag::build(&ice.ufrag, &ice.pwd, &ice.media, &ice.mid, candidates, end);
        let mut headers = self.headers(Some("application/trickle-ice-sdpfrag"));
        if let Some(etag) = &self.etag {
            headers.push((header::IF_MATCH, etag.clone()));
        }
        let reply = request(&url, Method::PATCH, headers, Bytes::from(body), &self.roots).await?;
        match reply.status {
            StatusCode::NO_CONTENT | StatusCode::OK => Ok(()),
            StatusCode::METHOD_NOT_ALLOWED | StatusCode::NOT_IMPLEMENTED => {
                debug!("WHIP server does not take trickled candidates");
                self.patch_supported = false;
                Ok(())
            }
            s => Err(signaling_error(format!(
                "WHIP PATCH: {s} {}",
                body_text(&reply)
            ))),
        }
    }

    async fn delete(&mut self) -> Result<(), Error> {
        let Some(url) = self.session.take() else {
            return Ok(());
        };
        let reply = request(
            &url,
            Method::DELETE,
            self.headers(None),
            Bytes::new(),
            &self.roots,
        )
        .await?;
        if reply.status.is_success() {
            Ok(())
        } else {
            Err(signaling_error(format!("WHIP DELETE: {}", reply.status)))
        }
    }
}

impl Signaling for WhipClient {
    async fn send(&mut self, message: SignalingMessage) -> Result<(), Error> {
        match message {
            SignalingMessage::Description(d) if d.sdp_type == SdpType::Offer => {
                if self.session.is_some() {
                    return Err(signaling_error("WHIP has no renegotiation"));
                }
                self.post(d).await
            }
            SignalingMessage::Description(_) => {
                Err(signaling_error("a WHIP client sends offers only"))
            }
            SignalingMessage::Candidate(c) => {
                if self.session.is_none() {
                    self.pending.push(c);
                    return Ok(());
                }
                self.patch(&[c], false).await
            }
            SignalingMessage::EndOfCandidates => self.patch(&[], true).await,
            SignalingMessage::Bye => self.delete().await,
        }
    }

    async fn recv(&mut self) -> Result<Option<SignalingMessage>, Error> {
        match self.inbox.pop_front() {
            Some(m) => Ok(Some(m)),
            None => std::future::pending().await,
        }
    }

    fn trickle(&self) -> bool {
        self.trickle
    }
}

/// Resolves a `Location` against the URL it answered.
fn resolve(base: &str, location: &str) -> String {
    if location.contains("://") {
        return location.to_owned();
    }
    let (scheme, rest) = base.split_once("://").unwrap_or(("http", base));
    let authority = rest.split('/').next().unwrap_or(rest);
    if location.starts_with('/') {
        return format!("{scheme}://{authority}{location}");
    }
    let path = rest.split('?').next().unwrap_or(rest);
    let dir = path.rsplit_once('/').map_or(authority, |(d, _)| d);
    format!("{scheme}://{dir}/{location}")
}

/// ICE servers from one `Link` header value (RFC 9725 section 4.6).
fn parse_link_ice_servers(value: &str) -> Vec<IceServer> {
    let mut out = Vec::new();
    for link in split_outside_quotes(value, ',') {
        let mut parts = split_outside_quotes(link, ';').into_iter();
        let Some(url) = parts
            .next()
            .map(str::trim)
            .and_then(|u| u.strip_prefix('<')?.strip_suffix('>'))
        else {
            continue;
        };
        let (mut rel, mut username, mut credential) = (false, None, None);
        for param in parts {
            let Some((k, v)) = param.split_once('=') else {
                continue;
            };
            let v = v.trim().trim_matches('"').to_owned();
            match k.trim().to_ascii_lowercase().as_str() {
                "rel" => rel = v.eq_ignore_ascii_case("ice-server"),
                "username" => username = Some(v),
                "credential" => credential = Some(v),
                _ => {}
            }
        }
        if !rel {
            continue;
        }
        out.push(match (username, credential) {
            (Some(u), Some(c)) => IceServer::turn(url, &u, &c),
            _ => IceServer::stun(url),
        });
    }
    out
}

fn split_outside_quotes(s: &str, sep: char) -> Vec<&str> {
    let mut out = Vec::new();
    let (mut start, mut quoted) = (0, false);
    for (i, c) in s.char_indices() {
        if c == '"' {
            quoted = !quoted;
        } else if c == sep && !quoted {
            out.push(&s[start..i]);
            start = i + c.len_utf8();
        }
    }
    out.push(&s[start..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locations_resolve() {
        let base = "http://127.0.0.1:8080/whip/endpoint?x";
        assert_eq!(resolve(base, "/whip/s/1"), "http://127.0.0.1:8080/whip/s/1");
        assert_eq!(resolve(base, "s/1"), "http://127.0.0.1:8080/whip/s/1");
        assert_eq!(resolve(base, "https://o/x"), "https://o/x");
    }

    #[test]
    fn link_headers_give_ice_servers() {
        let v = r#"<stun:stun.example.net>; rel="ice-server", <turn:turn.example.net?transport=udp>; rel="ice-server"; username="user"; credential="my;pass,word"; credential-type="password", <https://x>; rel="other""#;
        let servers = parse_link_ice_servers(v);
        assert_eq!(servers.len(), 2);
        assert_eq!(servers[0], IceServer::stun("stun:stun.example.net"));
        assert_eq!(
            servers[1],
            IceServer::turn(
                "turn:turn.example.net?transport=udp",
                "user",
                "my;pass,word"
            )
        );
    }
}
