//! Copy-paste signaling over stdin/stdout, as pion's examples do: each message is one line
//! of base64-encoded JSON. A description is the browser's `RTCSessionDescriptionInit`
//! (`{"type":"offer","sdp":"..."}`), so a line pasted from a pion example or from
//! `btoa(JSON.stringify(pc.localDescription))` in a browser console is understood, and ours
//! is understood there. Candidates travel in the SDP ([`Signaling::trickle`] is `false`);
//! other messages use the tagged [`SignalingMessage`] JSON.

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE};
use rtcweb::{IceCandidateInit, SessionDescription};
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::sync::mpsc;
use tracing::warn;

use super::{Signaling, SignalingMessage, signaling_error};
use crate::error::Error;

/// The longest line accepted (a description with many candidates is a few KiB; base64
/// adds a third).
pub const MAX_LINE: usize = 256 * 1024;

/// Encodes a message as one line (without the newline).
///
/// ```
/// use rtcweb::{SessionDescription, SignalingMessage};
/// use rtcweb_tokio::signaling::stdio;
///
/// let line = stdio::encode(&SignalingMessage::Description(SessionDescription::offer("v=0\r\n")));
/// assert_eq!(line, "eyJ0eXBlIjoib2ZmZXIiLCJzZHAiOiJ2PTBcclxuIn0=");
/// assert!(matches!(stdio::decode(&line), Ok(SignalingMessage::Description(_))));
/// ```
pub fn encode(message: &SignalingMessage) -> String {
    let json = match message {
        SignalingMessage::Description(d) => d.to_json(),
        other => other.to_json(),
    };
    STANDARD.encode(json)
}

/// Decodes one pasted line: base64 (standard or URL-safe, whitespace and line wrapping
/// ignored) of a description, a candidate, or a tagged [`SignalingMessage`].
pub fn decode(line: &str) -> Result<SignalingMessage, Error> {
    if line.len() > MAX_LINE {
        return Err(signaling_error("line too long"));
    }
    let compact: String = line.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    let bytes = STANDARD
        .decode(&compact)
        .or_else(|_| URL_SAFE.decode(&compact))
        .or_else(|_| {
            base64::engine::general_purpose::STANDARD_NO_PAD.decode(compact.trim_end_matches('='))
        })
        .map_err(|e| signaling_error(format!("not base64: {e}")))?;
    let json = std::str::from_utf8(&bytes).map_err(|_| signaling_error("not UTF-8"))?;
    decode_json(json)
}

/// Decodes the JSON inside a line.
pub fn decode_json(json: &str) -> Result<SignalingMessage, Error> {
    let value: serde_json::Value =
        serde_json::from_str(json).map_err(|e| signaling_error(format!("not JSON: {e}")))?;
    let from = |v: serde_json::Value| serde_json::from_value::<SignalingMessage>(v);
    if value.get("kind").is_some() {
        return from(value).map_err(signaling_error);
    }
    if value.get("type").is_some() {
        let d: SessionDescription = serde_json::from_value(value).map_err(signaling_error)?;
        return Ok(SignalingMessage::Description(d));
    }
    if value.get("candidate").is_some() {
        let c: IceCandidateInit = serde_json::from_value(value).map_err(signaling_error)?;
        return Ok(if c.candidate.is_empty() {
            SignalingMessage::EndOfCandidates
        } else {
            SignalingMessage::Candidate(c)
        });
    }
    Err(signaling_error("neither a description nor a candidate"))
}

/// Line-based copy-paste signaling over any reader and writer; [`StdioSignaling::new`]
/// uses the process's stdin and stdout.
pub struct StdioSignaling {
    out: Box<dyn AsyncWrite + Send + Unpin>,
    rx: mpsc::Receiver<SignalingMessage>,
    reader: tokio::task::JoinHandle<()>,
}

impl std::fmt::Debug for StdioSignaling {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StdioSignaling").finish_non_exhaustive()
    }
}

impl Drop for StdioSignaling {
    fn drop(&mut self) {
        self.reader.abort();
    }
}

impl StdioSignaling {
    /// Reads pasted lines from stdin, prints ours to stdout.
    pub fn new() -> Self {
        Self::with_io(tokio::io::stdin(), tokio::io::stdout())
    }

    /// Reads lines from `input` (in a background task, so `recv` is cancel-safe) and writes
    /// ours to `output`. Lines that do not decode are skipped with a warning.
    pub fn with_io(
        input: impl AsyncRead + Send + Unpin + 'static,
        output: impl AsyncWrite + Send + Unpin + 'static,
    ) -> Self {
        let (tx, rx) = mpsc::channel(64);
        let reader = tokio::spawn(read_lines(BufReader::new(input), tx));
        Self {
            out: Box::new(output),
            rx,
            reader,
        }
    }
}

impl Default for StdioSignaling {
    fn default() -> Self {
        Self::new()
    }
}

async fn read_lines(
    mut input: BufReader<impl AsyncRead + Unpin>,
    tx: mpsc::Sender<SignalingMessage>,
) {
    let mut line = Vec::new();
    loop {
        line.clear();
        match read_bounded_line(&mut input, &mut line).await {
            Ok(false) => return,
            Ok(true) => {}
            Err(e) => {
                warn!(error = %e, "signaling input");
                return;
            }
        }
        let text = String::from_utf8_lossy(&line);
        if text.trim().is_empty() {
            continue;
        }
        match decode(&text) {
            Ok(m) => {
                if tx.send(m).await.is_err() {
                    return;
                }
            }
            Err(e) => warn!(error = %e, "pasted line ignored"),
        }
    }
}

/// Reads up to a newline into `line`, keeping at most [`MAX_LINE`] + 1 bytes (so a longer
/// line fails to decode instead of growing memory). `Ok(false)` at end of input.
async fn read_bounded_line(
    input: &mut BufReader<impl AsyncRead + Unpin>,
    line: &mut Vec<u8>,
) -> std::io::Result<bool> {
    let mut any = false;
    loop {
        let buf = input.fill_buf().await?;
        if buf.is_empty() {
            return Ok(any);
        }
        any = true;
        let (chunk, done) = match buf.iter().position(|&b| b == b'\n') {
            Some(i) => (&buf[..i], Some(i + 1)),
            None => (buf, None),
        };
        let room = (MAX_LINE + 1).saturating_sub(line.len());
        line.extend_from_slice(&chunk[..chunk.len().min(room)]);
        let used = done.unwrap_or(buf.len());
        input.consume(used);
        if done.is_some() {
            return Ok(true);
        }
    }
}

impl Signaling for StdioSignaling {
    async fn send(&mut self, message: SignalingMessage) -> Result<(), Error> {
        let mut line = encode(&message);
        line.push('\n');
        self.out.write_all(line.as_bytes()).await?;
        self.out.flush().await?;
        Ok(())
    }

    async fn recv(&mut self) -> Result<Option<SignalingMessage>, Error> {
        Ok(self.rx.recv().await)
    }

    fn trickle(&self) -> bool {
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_what_pion_and_browsers_print() {
        // base64 of {"type":"answer","sdp":"v=0\r\n"} as pion's signal.Encode prints it,
        // wrapped by a terminal.
        let json = r#"{"type":"answer","sdp":"v=0\r\n"}"#;
        let mut line = STANDARD.encode(json);
        line.insert(10, '\n');
        match decode(&line).unwrap() {
            SignalingMessage::Description(d) => {
                assert_eq!(d, SessionDescription::answer("v=0\r\n"))
            }
            other => panic!("{other:?}"),
        }
        let c = STANDARD
            .encode(r#"{"candidate":"candidate:1 1 udp 1 192.0.2.1 9 typ host","sdpMid":"0"}"#);
        assert!(matches!(
            decode(&c).unwrap(),
            SignalingMessage::Candidate(_)
        ));
        let end = STANDARD.encode(r#"{"candidate":""}"#);
        assert_eq!(decode(&end).unwrap(), SignalingMessage::EndOfCandidates);
        for m in [SignalingMessage::Bye, SignalingMessage::EndOfCandidates] {
            assert_eq!(decode(&encode(&m)).unwrap(), m);
        }
        for bad in [
            "",
            "!!!",
            "e30=",
            "bnVsbA==",
            &STANDARD.encode(r#"{"type":"nope"}"#),
        ] {
            assert!(decode(bad).is_err(), "{bad}");
        }
        assert!(decode(&"A".repeat(MAX_LINE + 1)).is_err());
    }

    #[tokio::test]
    async fn lines_in_messages_out() {
        let (sig_in, mut theirs) = tokio::io::duplex(1 << 16);
        let (sig_out, their_in) = tokio::io::duplex(1 << 16);
        let mut sig = StdioSignaling::with_io(sig_in, sig_out);
        let offer = SignalingMessage::Description(SessionDescription::offer("v=0\r\n"));
        sig.send(offer.clone()).await.unwrap();
        let mut reader = BufReader::new(their_in);
        let mut printed = String::new();
        reader.read_line(&mut printed).await.unwrap();
        assert_eq!(decode(&printed).unwrap(), offer);
        // A garbage line, an overlong line and a blank line are skipped; the answer arrives.
        let answer = SignalingMessage::Description(SessionDescription::answer("v=0\r\n"));
        let mut input = b"garbage\n".to_vec();
        input.extend(std::iter::repeat_n(b'Q', MAX_LINE * 2));
        input.extend_from_slice(b"\n\n");
        input.extend_from_slice(encode(&answer).as_bytes());
        input.push(b'\n');
        theirs.write_all(&input).await.unwrap();
        assert_eq!(sig.recv().await.unwrap(), Some(answer));
        drop(theirs);
        assert_eq!(sig.recv().await.unwrap(), None);
        assert!(!sig.trickle());
    }
}
