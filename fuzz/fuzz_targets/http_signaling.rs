//! The HTTP signaling server's request handling (`HttpRouter`, what `HttpSignalingServer`
//! runs for every request): `POST /offer`, WHIP `POST`, and `PATCH`/`DELETE` on WHIP
//! sessions, with and without a bearer token. Requests are built from the input: a method,
//! a path (the configured ones, a live session, or the fuzzer's), headers (content types,
//! tokens, `If-Match` values, or the fuzzer's bytes) and a body (raw bytes, or a JSON offer,
//! an SDP offer or an sdpfrag around the fuzzer's text). The target keeps the live WHIP
//! sessions as the server does: an accepted WHIP offer opens one, `DELETE` ends it.
//!
//! Checks: no panic; only a preflight is answered 2xx directly; a session opens only for a
//! `POST` of an offer to a configured path, of the right type, with the token when one is
//! required; trickles and deletes reach only live sessions, authorized, with a matching
//! `If-Match`; a trickle holds at most `MAX_CANDIDATES` candidates and ends with at most
//! one end-of-candidates.
#![no_main]

use std::collections::HashMap;

use libfuzzer_sys::fuzz_target;
use rtcweb::{SdpType, SessionDescription, SignalingMessage};
use rtcweb_tokio::signaling::http::SdpFrag;
use rtcweb_tokio::signaling::http::router::{
    BodyError, HttpAction, HttpRouter, HttpSessionKind, WhipSessionView,
};
use rtcweb_tokio::signaling::http::sdpfrag::MAX_CANDIDATES;

const TOKEN: &str = "s3cret";

struct Input<'a>(&'a [u8]);

impl<'a> Input<'a> {
    fn byte(&mut self) -> u8 {
        let Some((&b, rest)) = self.0.split_first() else {
            return 0;
        };
        self.0 = rest;
        b
    }
    fn chunk(&mut self) -> &'a [u8] {
        let n = usize::from(self.byte());
        let (head, rest) = self.0.split_at(n.min(self.0.len()));
        self.0 = rest;
        head
    }
    fn text(&mut self) -> String {
        String::from_utf8_lossy(self.chunk()).into_owned()
    }
}

fn method(input: &mut Input<'_>, sel: u8) -> http::Method {
    use http::Method as M;
    match sel % 8 {
        0 => M::GET,
        1 | 2 => M::POST,
        3 => M::PATCH,
        4 => M::DELETE,
        5 => M::OPTIONS,
        6 => M::PUT,
        _ => M::from_bytes(input.chunk()).unwrap_or(M::HEAD),
    }
}

fn path(input: &mut Input<'_>, sel: u8, live: &[String]) -> String {
    let session = |i: u8| {
        live.get(usize::from(i) % live.len().max(1))
            .cloned()
            .unwrap_or_else(|| "none".into())
    };
    match sel % 8 {
        0 => "/offer".into(),
        1 => "/whip".into(),
        2 | 3 => format!("/whip/{}", session(input.byte())),
        4 => "/whip/".into(),
        5 => format!("/whip/{}/x", session(input.byte())),
        6 => format!("/offer?{}", input.text()),
        _ => input.text(),
    }
}

fn header_value(input: &mut Input<'_>, name: &str, etag: Option<&str>) -> Vec<u8> {
    let sel = input.byte();
    if sel & 3 == 3 {
        return input.chunk().to_vec();
    }
    let v = match name {
        "content-type" => [
            "application/sdp",
            "application/trickle-ice-sdpfrag",
            "APPLICATION/SDP ; charset=utf-8",
        ][usize::from(sel & 3)]
        .to_owned(),
        "authorization" => [
            format!("Bearer {TOKEN}"),
            format!("Bearer  {TOKEN} "),
            "Bearer wrong".into(),
        ][usize::from(sel & 3)]
        .clone(),
        _ => match sel & 3 {
            0 => "*".into(),
            1 => etag.unwrap_or("\"x\"").to_owned(),
            _ => "\"stale\"".into(),
        },
    };
    v.into_bytes()
}

fn body(input: &mut Input<'_>, sel: u8, ufrag: Option<&str>) -> Result<String, BodyError> {
    let text = input.text();
    Ok(match sel % 6 {
        0 => return String::from_utf8(input.chunk().to_vec()).map_err(|_| BodyError::NotUtf8),
        1 => return Err(BodyError::TooLarge),
        2 => SessionDescription::offer(text).to_json(),
        3 => SessionDescription {
            sdp_type: SdpType::Answer,
            sdp: text,
        }
        .to_json(),
        4 => format!(
            "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\n\
             a=mid:0\r\na=ice-ufrag:{text}\r\na=ice-pwd:0123456789abcdefghijkl\r\n"
        ),
        _ => {
            let mut frag = String::new();
            if input.byte() & 1 == 0 {
                frag.push_str(&format!("a=ice-ufrag:{}\r\n", ufrag.unwrap_or("u")));
            }
            frag.push_str("m=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=mid:0\r\n");
            for line in text.lines() {
                frag.push_str(&format!("a=candidate:{line}\r\n"));
            }
            if input.byte() & 1 == 0 {
                frag.push_str("a=end-of-candidates\r\n");
            }
            frag
        }
    })
}

fuzz_target!(|data: &[u8]| {
    let mut input = Input(data);
    let setup = input.byte();
    let router = HttpRouter {
        offer_path: Some("/offer".into()),
        whip_path: Some("/whip".into()),
        token: (setup & 1 == 1).then(|| TOKEN.to_owned()),
    };
    let mut live: HashMap<String, WhipSessionView> = HashMap::new();
    let mut order: Vec<String> = Vec::new();
    let mut next = 0u32;
    while !input.0.is_empty() {
        let sel = input.byte();
        let method = method(&mut input, sel);
        let path = path(&mut input, sel >> 3, &order);
        let Ok(uri) = path.parse::<http::Uri>() else {
            continue;
        };
        let target = uri.path().strip_prefix("/whip/").map(str::to_owned);
        let etag = target
            .as_deref()
            .and_then(|id| live.get(id))
            .map(|v| v.etag.clone());
        let ufrag = target
            .as_deref()
            .and_then(|id| live.get(id))
            .and_then(|v| v.ufrag.clone());
        let mut builder = http::Request::builder().method(method.clone()).uri(uri);
        for _ in 0..input.byte() % 4 {
            let name = ["content-type", "authorization", "if-match"][usize::from(input.byte() % 3)];
            let value = header_value(&mut input, name, etag.as_deref());
            if let Ok(v) = http::HeaderValue::from_bytes(&value) {
                builder = builder.header(name, v);
            }
        }
        let Ok(request) = builder.body(()) else {
            continue;
        };
        let (head, ()) = request.into_parts();
        let kind = sel >> 6 | input.byte() << 2;
        let body = body(&mut input, kind, ufrag.as_deref());
        let authorized = router.token.as_ref().is_none_or(|t| {
            head.headers
                .get(http::header::AUTHORIZATION)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.strip_prefix("Bearer "))
                .is_some_and(|v| v.trim() == t)
        });
        let content_type = head
            .headers
            .get(http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(|v| {
                v.split(';')
                    .next()
                    .unwrap_or("")
                    .trim()
                    .to_ascii_lowercase()
            });
        let action = router.route(&head, body.as_deref().map_err(|e| *e), &|id| {
            live.get(id).cloned()
        });
        match action {
            HttpAction::Reply(r) => {
                assert!((200..600).contains(&r.status.as_u16()));
                assert_eq!(
                    r.status.is_success(),
                    method == http::Method::OPTIONS,
                    "{r:?}"
                );
            }
            HttpAction::Open { kind, offer, ufrag } => {
                assert_eq!(method, http::Method::POST);
                assert_eq!(offer.sdp_type, SdpType::Offer);
                match kind {
                    HttpSessionKind::Offer => {
                        assert_eq!(head.uri.path(), "/offer");
                        assert_eq!(ufrag, None);
                    }
                    HttpSessionKind::Whip => {
                        assert_eq!(head.uri.path(), "/whip");
                        assert!(authorized, "a WHIP session opened without the token");
                        assert_eq!(content_type.as_deref(), Some("application/sdp"));
                        assert_eq!(Ok(offer.sdp.as_str()), body.as_deref().map_err(|_| ()));
                        next += 1;
                        let id = format!("s{next}");
                        live.insert(
                            id.clone(),
                            WhipSessionView {
                                etag: format!("\"e{next}\""),
                                ufrag,
                            },
                        );
                        order.push(id);
                    }
                }
            }
            HttpAction::Delete { id } => {
                assert_eq!(method, http::Method::DELETE);
                assert!(authorized, "a WHIP session deleted without the token");
                assert_eq!(target.as_deref(), Some(id.as_str()));
                assert!(
                    live.remove(&id).is_some(),
                    "deleted a session that is not live"
                );
                order.retain(|s| *s != id);
            }
            HttpAction::Trickle { id, messages } => {
                assert_eq!(method, http::Method::PATCH);
                assert!(authorized, "a trickle without the token");
                assert_eq!(target.as_deref(), Some(id.as_str()));
                let view = live.get(&id).expect("a trickle to a live session");
                assert_eq!(
                    content_type.as_deref(),
                    Some("application/trickle-ice-sdpfrag")
                );
                if let Some(m) = head
                    .headers
                    .get(http::header::IF_MATCH)
                    .and_then(|v| v.to_str().ok())
                {
                    assert!(m == "*" || m == view.etag, "If-Match {m:?} passed");
                }
                let frag = SdpFrag::parse(body.as_deref().expect("a trickle had a body"))
                    .expect("a trickle's body parses");
                assert!(frag.ufrag.is_none() || frag.ufrag == view.ufrag);
                let candidates = messages
                    .iter()
                    .filter(|m| matches!(m, SignalingMessage::Candidate(_)))
                    .count();
                assert!(candidates <= MAX_CANDIDATES);
                let ends = messages.len() - candidates;
                assert!(ends <= 1);
                if ends == 1 {
                    assert_eq!(messages.last(), Some(&SignalingMessage::EndOfCandidates));
                }
            }
        }
    }
});
