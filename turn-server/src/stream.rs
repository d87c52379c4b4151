//! One client connection over TCP or TLS: reads are cut into STUN/ChannelData frames (RFC 8656
//! section 12.5; channel numbers up to 0x7FFF as RFC 5766 clients use them, which
//! `rtcweb_stun::framing` refuses), writes are queued (bounded) until the socket takes them.
//! TLS is rustls's sans-IO `ServerConnection` over the non-blocking stream.

use std::collections::VecDeque;
use std::io::{self, Read, Write};
use std::sync::Arc;

use mio::net::TcpStream;
use rtcweb_turn_server::FiveTuple;

/// Octets queued for a slow client before its frames are dropped.
const MAX_QUEUED: usize = 1 << 20;

pub struct Conn {
    pub stream: TcpStream,
    pub tuple: FiveTuple,
    tls: Option<rustls::ServerConnection>,
    decoder: Frames,
    out: VecDeque<u8>,
    pub dropped: u64,
}

/// What a read produced.
pub enum ReadOutcome {
    /// Still open.
    Open,
    /// Closed by the peer, or broken (bad framing, TLS error).
    Closed,
}

impl Conn {
    pub fn new(
        stream: TcpStream,
        tuple: FiveTuple,
        tls: Option<&Arc<rustls::ServerConfig>>,
    ) -> io::Result<Self> {
        let tls = match tls {
            Some(cfg) => {
                Some(rustls::ServerConnection::new(cfg.clone()).map_err(io::Error::other)?)
            }
            None => None,
        };
        Ok(Conn {
            stream,
            tuple,
            tls,
            decoder: Frames::default(),
            out: VecDeque::new(),
            dropped: 0,
        })
    }

    /// Reads what is available and hands every complete frame to `frame`.
    pub fn read(&mut self, buf: &mut [u8], mut frame: impl FnMut(&[u8])) -> ReadOutcome {
        loop {
            let n = match self.read_some(buf) {
                Ok(Some(n)) => n,
                Ok(None) => return ReadOutcome::Open,
                Err(()) => return ReadOutcome::Closed,
            };
            if !self.decoder.push(&buf[..n], &mut frame) {
                return ReadOutcome::Closed;
            }
        }
    }

    /// Some plaintext octets: `Ok(None)` when nothing more is available now, `Err` when the
    /// connection is over.
    fn read_some(&mut self, buf: &mut [u8]) -> Result<Option<usize>, ()> {
        loop {
            let Some(tls) = self.tls.as_mut() else {
                return match self.stream.read(buf) {
                    Ok(0) => Err(()),
                    Ok(n) => Ok(Some(n)),
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => Ok(None),
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                    Err(_) => Err(()),
                };
            };
            // Plaintext rustls already decrypted comes first.
            match tls.reader().read(buf) {
                Ok(0) => return Err(()),
                Ok(n) => return Ok(Some(n)),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                Err(_) => return Err(()),
            }
            match tls.read_tls(&mut self.stream) {
                Ok(0) => return Err(()),
                Ok(_) => {}
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(None),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(_) => return Err(()),
            }
            let failed = tls.process_new_packets().is_err();
            // Handshake messages (or an alert) may be waiting to go out.
            self.flush();
            if failed {
                return Err(());
            }
        }
    }

    /// Queues one frame and writes what the socket takes.
    pub fn send(&mut self, data: &[u8]) {
        match &mut self.tls {
            Some(tls) => {
                if tls.wants_write() && self.out.len() > MAX_QUEUED {
                    self.dropped += 1;
                    return;
                }
                if tls.writer().write_all(data).is_err() {
                    self.dropped += 1;
                }
            }
            None => {
                if self.out.len() + data.len() > MAX_QUEUED {
                    self.dropped += 1;
                    return;
                }
                self.out.extend(data);
            }
        }
        self.flush();
    }

    /// Writes queued octets; returns whether some remain (then wait for WRITABLE).
    pub fn flush(&mut self) -> bool {
        if let Some(tls) = &mut self.tls {
            while tls.wants_write() {
                match tls.write_tls(&mut self.stream) {
                    Ok(_) => {}
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(_) => return true,
                }
            }
            return false;
        }
        while !self.out.is_empty() {
            let (a, _) = self.out.as_slices();
            match self.stream.write(a) {
                Ok(0) => return true,
                Ok(n) => {
                    self.out.drain(..n);
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(_) => return true,
            }
        }
        false
    }
}

/// Largest frame: a STUN header plus the largest 16-bit length.
const MAX_FRAME: usize = 20 + 0xFFFF;

/// Reassembles frames; holds at most one partial frame.
#[derive(Default)]
struct Frames {
    buf: Vec<u8>,
}

/// The length of the frame at the start of `b`: `Ok(None)` until its header is there, `Err`
/// for anything that is neither STUN nor ChannelData (the stream cannot be resynchronised).
fn frame_len(b: &[u8]) -> Result<Option<usize>, ()> {
    let (b0, len) = match b {
        [b0, _, l0, l1, ..] => (*b0, usize::from(u16::from_be_bytes([*l0, *l1]))),
        _ => return Ok(None),
    };
    match b0 & 0xC0 {
        0x00 if len.is_multiple_of(4) => Ok(Some(20 + len)),
        0x40 => Ok(Some(4 + rtcweb_stun::padded(len))),
        _ => Err(()),
    }
}

impl Frames {
    /// Appends `data` and hands out every complete frame; `false` on a framing error.
    fn push(&mut self, mut data: &[u8], frame: &mut impl FnMut(&[u8])) -> bool {
        // Whole frames straight from the read buffer when nothing is pending.
        while self.buf.is_empty() {
            match frame_len(data) {
                Err(()) => return false,
                Ok(Some(n)) if n <= data.len() => {
                    frame(&data[..n]);
                    data = &data[n..];
                }
                _ => break,
            }
        }
        self.buf.extend_from_slice(data);
        let mut at = 0;
        loop {
            let rest = &self.buf[at..];
            match frame_len(rest) {
                Err(()) => return false,
                Ok(Some(n)) if n <= rest.len() => {
                    frame(&rest[..n]);
                    at += n;
                }
                _ => break,
            }
        }
        self.buf.drain(..at);
        self.buf.len() <= MAX_FRAME
    }
}
