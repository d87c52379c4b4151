//! What the HTTP signaling server does with a request, decided without sockets: the request
//! head and its (already bounded) body in, an [`HttpAction`] out. The server
//! ([`HttpSignalingServer`](super::HttpSignalingServer)) carries the action out; the fuzz
//! target `http_signaling` drives this directly.

use http::header::{self, HeaderName, HeaderValue};
use http::request::Parts;
use http::{Method, StatusCode};
use rtcweb::{SdpType, SessionDescription, SignalingMessage};

use super::sdpfrag::{OfferIce, SdpFrag};

/// Why a body could not be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyError {
    /// Longer than [`MAX_BODY`](super::MAX_BODY).
    TooLarge,
    /// Not UTF-8.
    NotUtf8,
}

/// A complete answer the server sends as it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpReply {
    /// The status.
    pub status: StatusCode,
    /// `Content-Type`.
    pub content_type: &'static str,
    /// Headers beyond `Content-Type` and the CORS ones every answer carries.
    pub headers: Vec<(HeaderName, HeaderValue)>,
    /// The body.
    pub body: String,
}

impl HttpReply {
    fn text(status: StatusCode, body: &str) -> Self {
        Self {
            status,
            content_type: "text/plain; charset=utf-8",
            headers: Vec::new(),
            body: body.to_owned(),
        }
    }
}

/// Which convention a session came in by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HttpSessionKind {
    /// `POST /offer` with JSON.
    Offer,
    /// WHIP.
    Whip,
}

/// What the server must do for a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HttpAction {
    /// Answer with this.
    Reply(HttpReply),
    /// Hand a new session with `offer` to the application and answer with its answer.
    Open {
        /// `POST /offer` or WHIP.
        kind: HttpSessionKind,
        /// The offer.
        offer: SessionDescription,
        /// The offer's ICE ufrag (WHIP: a trickle must name the same one).
        ufrag: Option<String>,
    },
    /// End WHIP session `id` (answer `200`).
    Delete {
        /// The session.
        id: String,
    },
    /// Trickle `messages` to WHIP session `id` (answer `204`, or `503` when its queue is
    /// full).
    Trickle {
        /// The session.
        id: String,
        /// Candidates, then end-of-candidates when the fragment said so.
        messages: Vec<SignalingMessage>,
    },
}

/// What the router needs to know of a live WHIP session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WhipSessionView {
    /// Its `ETag`.
    pub etag: String,
    /// The ICE ufrag of its offer.
    pub ufrag: Option<String>,
}

/// The request handling of the HTTP signaling server: the paths it serves and the token it
/// requires.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HttpRouter {
    /// `POST` path of the webrtc-echoes convention.
    pub offer_path: Option<String>,
    /// WHIP endpoint path (sessions live at `path/<id>`), without a trailing `/`.
    pub whip_path: Option<String>,
    /// `Authorization: Bearer <token>` required on WHIP requests.
    pub token: Option<String>,
}

fn text(status: StatusCode, body: &str) -> HttpAction {
    HttpAction::Reply(HttpReply::text(status, body))
}

fn content_type_is(head: &Parts, wanted: &str) -> bool {
    head.headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case(wanted))
}

fn body_reply(e: BodyError) -> HttpAction {
    match e {
        BodyError::TooLarge => text(StatusCode::PAYLOAD_TOO_LARGE, "body too large\n"),
        BodyError::NotUtf8 => text(StatusCode::BAD_REQUEST, "not UTF-8\n"),
    }
}

impl HttpRouter {
    /// Decides what to do with a request. `body` is the body as read (bounded);
    /// `session` looks up a live WHIP session by id.
    pub fn route(
        &self,
        head: &Parts,
        body: Result<&str, BodyError>,
        session: &dyn Fn(&str) -> Option<WhipSessionView>,
    ) -> HttpAction {
        let path = head.uri.path();
        if head.method == Method::OPTIONS {
            let mut r = HttpReply::text(StatusCode::NO_CONTENT, "");
            r.headers = vec![
                (
                    header::ACCESS_CONTROL_ALLOW_METHODS,
                    HeaderValue::from_static("POST, PATCH, DELETE, OPTIONS"),
                ),
                (
                    header::ACCESS_CONTROL_ALLOW_HEADERS,
                    HeaderValue::from_static("Content-Type, Authorization, If-Match"),
                ),
                (
                    HeaderName::from_static("accept-post"),
                    HeaderValue::from_static("application/sdp"),
                ),
            ];
            return HttpAction::Reply(r);
        }
        if self.offer_path.as_deref() == Some(path) {
            return Self::offer(head, body);
        }
        if let Some(whip) = self.whip_path.as_deref() {
            if path == whip {
                return self.whip_post(head, body);
            }
            if let Some(id) = path
                .strip_prefix(whip)
                .and_then(|p| p.strip_prefix('/'))
                .filter(|id| !id.is_empty() && !id.contains('/'))
            {
                return self.whip_session(head, body, id, session);
            }
        }
        text(StatusCode::NOT_FOUND, "not found\n")
    }

    fn offer(head: &Parts, body: Result<&str, BodyError>) -> HttpAction {
        if head.method != Method::POST {
            return text(StatusCode::METHOD_NOT_ALLOWED, "POST an offer\n");
        }
        let body = match body {
            Ok(b) => b,
            Err(e) => return body_reply(e),
        };
        match SessionDescription::from_json(body) {
            Ok(offer) if offer.sdp_type == SdpType::Offer => HttpAction::Open {
                kind: HttpSessionKind::Offer,
                offer,
                ufrag: None,
            },
            _ => text(StatusCode::BAD_REQUEST, "expected a JSON offer\n"),
        }
    }

    fn authorized(&self, head: &Parts) -> bool {
        let Some(token) = &self.token else {
            return true;
        };
        head.headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .is_some_and(|t| t.trim() == token)
    }

    fn whip_post(&self, head: &Parts, body: Result<&str, BodyError>) -> HttpAction {
        if head.method != Method::POST {
            return text(StatusCode::METHOD_NOT_ALLOWED, "POST an SDP offer\n");
        }
        if !self.authorized(head) {
            return text(StatusCode::UNAUTHORIZED, "bearer token required\n");
        }
        if !content_type_is(head, "application/sdp") {
            return text(StatusCode::UNSUPPORTED_MEDIA_TYPE, "application/sdp only\n");
        }
        let sdp = match body {
            Ok(b) => b,
            Err(e) => return body_reply(e),
        };
        HttpAction::Open {
            kind: HttpSessionKind::Whip,
            offer: SessionDescription::offer(sdp),
            ufrag: OfferIce::from_sdp(sdp).map(|i| i.ufrag),
        }
    }

    fn whip_session(
        &self,
        head: &Parts,
        body: Result<&str, BodyError>,
        id: &str,
        session: &dyn Fn(&str) -> Option<WhipSessionView>,
    ) -> HttpAction {
        if !self.authorized(head) {
            return text(StatusCode::UNAUTHORIZED, "bearer token required\n");
        }
        let Some(view) = session(id) else {
            return text(StatusCode::NOT_FOUND, "no such session\n");
        };
        match head.method {
            Method::DELETE => HttpAction::Delete { id: id.to_owned() },
            Method::PATCH => {
                if !content_type_is(head, "application/trickle-ice-sdpfrag") {
                    return text(
                        StatusCode::UNSUPPORTED_MEDIA_TYPE,
                        "trickle-ice-sdpfrag only\n",
                    );
                }
                let if_match = head
                    .headers
                    .get(header::IF_MATCH)
                    .and_then(|v| v.to_str().ok());
                if if_match.is_some_and(|m| m != "*" && m != view.etag) {
                    return text(StatusCode::PRECONDITION_FAILED, "stale ETag\n");
                }
                let body = match body {
                    Ok(b) => b,
                    Err(e) => return body_reply(e),
                };
                let Ok(frag) = SdpFrag::parse(body) else {
                    return text(StatusCode::BAD_REQUEST, "bad sdpfrag\n");
                };
                if frag.ufrag.is_some() && frag.ufrag != view.ufrag {
                    return text(
                        StatusCode::NOT_IMPLEMENTED,
                        "ICE restart is not supported\n",
                    );
                }
                let mut messages: Vec<SignalingMessage> = frag
                    .candidates
                    .into_iter()
                    .map(SignalingMessage::Candidate)
                    .collect();
                if frag.end_of_candidates {
                    messages.push(SignalingMessage::EndOfCandidates);
                }
                HttpAction::Trickle {
                    id: id.to_owned(),
                    messages,
                }
            }
            _ => text(StatusCode::METHOD_NOT_ALLOWED, "PATCH or DELETE\n"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn head(method: Method, path: &str, headers: &[(&str, &str)]) -> Parts {
        let mut b = http::Request::builder().method(method).uri(path);
        for (k, v) in headers {
            b = b.header(*k, *v);
        }
        b.body(()).expect("valid request").into_parts().0
    }

    fn router() -> HttpRouter {
        HttpRouter {
            offer_path: Some("/offer".into()),
            whip_path: Some("/whip".into()),
            token: Some("t0k".into()),
        }
    }

    fn status(a: &HttpAction) -> Option<StatusCode> {
        match a {
            HttpAction::Reply(r) => Some(r.status),
            _ => None,
        }
    }

    const SESSION: &dyn Fn(&str) -> Option<WhipSessionView> = &|id| {
        (id == "s1").then(|| WhipSessionView {
            etag: "\"e1\"".into(),
            ufrag: Some("uf".into()),
        })
    };

    #[test]
    fn offer_path() {
        let r = router();
        let offer = SessionDescription::offer("v=0\r\n").to_json();
        let a = r.route(&head(Method::POST, "/offer", &[]), Ok(&offer), SESSION);
        assert!(matches!(
            a,
            HttpAction::Open {
                kind: HttpSessionKind::Offer,
                ..
            }
        ));
        let answer = SessionDescription::answer("v=0\r\n").to_json();
        let a = r.route(&head(Method::POST, "/offer", &[]), Ok(&answer), SESSION);
        assert_eq!(status(&a), Some(StatusCode::BAD_REQUEST));
        let a = r.route(&head(Method::GET, "/offer", &[]), Ok(""), SESSION);
        assert_eq!(status(&a), Some(StatusCode::METHOD_NOT_ALLOWED));
        let a = r.route(
            &head(Method::POST, "/offer", &[]),
            Err(BodyError::TooLarge),
            SESSION,
        );
        assert_eq!(status(&a), Some(StatusCode::PAYLOAD_TOO_LARGE));
        let a = r.route(&head(Method::OPTIONS, "/anything", &[]), Ok(""), SESSION);
        assert_eq!(status(&a), Some(StatusCode::NO_CONTENT));
        let a = r.route(&head(Method::GET, "/nothing", &[]), Ok(""), SESSION);
        assert_eq!(status(&a), Some(StatusCode::NOT_FOUND));
    }

    #[test]
    fn whip_checks_in_order() {
        let r = router();
        let sdp = "v=0\r\na=ice-ufrag:uf\r\na=ice-pwd:pwpwpwpwpwpwpwpwpwpwpwpw\r\n\
                   m=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=mid:0\r\n";
        let auth = ("authorization", "Bearer t0k");
        let ct = ("content-type", "application/sdp");
        // The token is checked before the content type, which is checked before the body.
        let a = r.route(&head(Method::POST, "/whip", &[ct]), Ok(sdp), SESSION);
        assert_eq!(status(&a), Some(StatusCode::UNAUTHORIZED));
        let a = r.route(
            &head(Method::POST, "/whip", &[auth]),
            Err(BodyError::NotUtf8),
            SESSION,
        );
        assert_eq!(status(&a), Some(StatusCode::UNSUPPORTED_MEDIA_TYPE));
        let a = r.route(&head(Method::POST, "/whip", &[auth, ct]), Ok(sdp), SESSION);
        assert_eq!(
            a,
            HttpAction::Open {
                kind: HttpSessionKind::Whip,
                offer: SessionDescription::offer(sdp),
                ufrag: Some("uf".into()),
            }
        );
    }

    #[test]
    fn whip_session_requests() {
        let r = router();
        let auth = ("authorization", "Bearer t0k");
        let ct = ("content-type", "application/trickle-ice-sdpfrag");
        let frag = "a=ice-ufrag:uf\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=mid:0\r\n\
                    a=candidate:1 1 udp 1 198.51.100.1 9 typ host\r\na=end-of-candidates\r\n";
        let patch = |path: &str, extra: &[(&str, &str)], body: &str| {
            let mut h = vec![auth, ct];
            h.extend_from_slice(extra);
            r.route(&head(Method::PATCH, path, &h), Ok(body), SESSION)
        };
        assert_eq!(
            status(&patch("/whip/s2", &[], frag)),
            Some(StatusCode::NOT_FOUND)
        );
        assert_eq!(
            status(&patch("/whip/s1", &[("if-match", "\"old\"")], frag)),
            Some(StatusCode::PRECONDITION_FAILED)
        );
        let HttpAction::Trickle { id, messages } = patch("/whip/s1", &[("if-match", "*")], frag)
        else {
            panic!("not a trickle");
        };
        assert_eq!(id, "s1");
        assert_eq!(messages.len(), 2);
        assert_eq!(messages[1], SignalingMessage::EndOfCandidates);
        assert_eq!(
            status(&patch("/whip/s1", &[], "a=ice-ufrag:other\r\n")),
            Some(StatusCode::NOT_IMPLEMENTED)
        );
        assert_eq!(
            status(&patch("/whip/s1", &[], "garbage")),
            Some(StatusCode::BAD_REQUEST)
        );
        let a = r.route(&head(Method::DELETE, "/whip/s1", &[auth]), Ok(""), SESSION);
        assert_eq!(a, HttpAction::Delete { id: "s1".into() });
        let a = r.route(&head(Method::DELETE, "/whip/s1", &[]), Ok(""), SESSION);
        assert_eq!(status(&a), Some(StatusCode::UNAUTHORIZED));
        let a = r.route(&head(Method::GET, "/whip/s1", &[auth]), Ok(""), SESSION);
        assert_eq!(status(&a), Some(StatusCode::METHOD_NOT_ALLOWED));
    }
}
