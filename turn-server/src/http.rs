//! The metrics endpoint's HTTP: just enough HTTP/1.1 for a Prometheus scrape. One request per
//! connection (answered with `Connection: close`), `GET /metrics` only, request heads up to
//! [`MAX_HEAD`] octets. It runs in the event loop, so a scrape reads the core's counters at
//! that instant, with no lock and no thread; nothing of it touches the relay path.

use std::io::{self, Read, Write};

use mio::net::TcpStream;

/// Largest request head read (a scrape sends a few hundred octets).
pub const MAX_HEAD: usize = 8 * 1024;
/// Most scrape connections at once; a new one beyond that closes the oldest.
pub const MAX_CONNECTIONS: usize = 16;

/// What a request asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Request {
    /// `GET /metrics` (any query string).
    Metrics,
    /// Another path: 404.
    NotFound,
    /// Another method: 405.
    BadMethod,
    /// Not HTTP, or a head over [`MAX_HEAD`]: 400.
    Malformed,
}

/// The request head in `head` (up to the blank line), if complete.
pub fn parse_head(head: &[u8]) -> Option<Request> {
    let end = head.windows(4).position(|w| w == b"\r\n\r\n");
    if end.is_none() {
        return (head.len() >= MAX_HEAD).then_some(Request::Malformed);
    }
    let line = head.split(|b| *b == b'\r').next().unwrap_or_default();
    let mut parts = line.split(|b| *b == b' ');
    let (Some(method), Some(target), Some(version)) = (parts.next(), parts.next(), parts.next())
    else {
        return Some(Request::Malformed);
    };
    if !version.starts_with(b"HTTP/1.") {
        return Some(Request::Malformed);
    }
    if method != b"GET" {
        return Some(Request::BadMethod);
    }
    let path = target.split(|b| *b == b'?').next().unwrap_or_default();
    Some(if path == b"/metrics" {
        Request::Metrics
    } else {
        Request::NotFound
    })
}

/// The whole response.
pub fn response(status: &str, content_type: &str, body: &str) -> Vec<u8> {
    let mut out = format!(
        "HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    )
    .into_bytes();
    out.extend_from_slice(body.as_bytes());
    out
}

/// One scrape connection.
pub struct Conn {
    pub stream: TcpStream,
    /// Accept order, to close the oldest when full.
    pub serial: u64,
    head: Vec<u8>,
    out: Vec<u8>,
    sent: usize,
}

/// Where a connection stands after an event.
#[derive(Debug, PartialEq, Eq)]
pub enum Progress {
    /// Waiting for more of the request.
    Reading,
    /// The request is complete: answer it with [`Conn::respond`].
    Request(Request),
    /// The answer is partly sent: wait for WRITABLE.
    Writing,
    /// Done or broken: close it.
    Done,
}

impl Conn {
    pub fn new(stream: TcpStream, serial: u64) -> Self {
        Conn {
            stream,
            serial,
            head: Vec::new(),
            out: Vec::new(),
            sent: 0,
        }
    }

    /// Reads what arrived.
    pub fn read(&mut self) -> Progress {
        if !self.out.is_empty() {
            return self.write();
        }
        let mut buf = [0u8; 1024];
        loop {
            match self.stream.read(&mut buf) {
                Ok(0) => return Progress::Done,
                Ok(n) => {
                    let room = MAX_HEAD.saturating_sub(self.head.len());
                    self.head.extend_from_slice(&buf[..n.min(room)]);
                    if let Some(r) = parse_head(&self.head) {
                        return Progress::Request(r);
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Progress::Reading,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(_) => return Progress::Done,
            }
        }
    }

    /// Sends `response`.
    pub fn respond(&mut self, response: Vec<u8>) -> Progress {
        self.out = response;
        self.sent = 0;
        self.write()
    }

    /// Writes what is left of the answer.
    pub fn write(&mut self) -> Progress {
        while self.sent < self.out.len() {
            match self.stream.write(&self.out[self.sent..]) {
                Ok(0) => return Progress::Done,
                Ok(n) => self.sent += n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Progress::Writing,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(_) => return Progress::Done,
            }
        }
        Progress::Done
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn heads() {
        let get = b"GET /metrics HTTP/1.1\r\nHost: x\r\nAccept: */*\r\n\r\n";
        assert_eq!(parse_head(get), Some(Request::Metrics));
        assert_eq!(parse_head(&get[..20]), None, "incomplete");
        assert_eq!(
            parse_head(b"GET /metrics?x=1 HTTP/1.0\r\n\r\n"),
            Some(Request::Metrics)
        );
        assert_eq!(
            parse_head(b"GET / HTTP/1.1\r\n\r\n"),
            Some(Request::NotFound)
        );
        assert_eq!(
            parse_head(b"POST /metrics HTTP/1.1\r\n\r\n"),
            Some(Request::BadMethod)
        );
        assert_eq!(parse_head(b"hello\r\n\r\n"), Some(Request::Malformed));
        assert_eq!(
            parse_head(&vec![b'a'; MAX_HEAD]),
            Some(Request::Malformed),
            "a head that never ends"
        );
        let r = response("200 OK", "text/plain", "abc");
        assert!(r.starts_with(b"HTTP/1.1 200 OK\r\n"));
        assert!(r.ends_with(b"Content-Length: 3\r\nConnection: close\r\n\r\nabc"));
    }
}
