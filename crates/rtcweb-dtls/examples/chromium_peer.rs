//! A live DTLS peer for Chromium: proves that a browser completes the handshake with our
//! endpoint, accepts our certificate, that we accept its certificate by the fingerprint of its
//! offer, and that its first SCTP packet (INIT) arrives through our application-data path.
//!
//! It serves a page over HTTP on 127.0.0.1:PORT (TCP). The page creates an RTCPeerConnection
//! with a data channel and POSTs its offer to /offer; the answer is ICE-lite with our
//! fingerprint and `a=setup:passive` (we are the DTLS server) or `active` (`--client`). Then it
//! answers Chromium's STUN checks on 127.0.0.1:PORT (UDP, short-term credential, hand-rolled:
//! rtcweb-stun is not a dependency of this crate) and runs a `DtlsEndpoint`. Exits 0 once an
//! SCTP INIT has been decrypted, 1 on failure or after 30 s. Every ServerHello seen on the
//! wire (ours or Chromium's) is reported with its key_share group, and whether it is a
//! HelloRetryRequest.
//!
//! Only for loopback inside an isolated namespace: interop/suites/22-dtls-chromium.sh.
//!
//! usage: chromium_peer PORT [--client] [--dtls12] [--cookie]
//!
//! As a server it skips the stateless cookie exchange, as PeerConnection does (ICE has
//! checked the address), unless `--cookie`.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test tool: failing loudly is the point

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, UdpSocket};
use std::time::{Duration, Instant, SystemTime};

use aws_lc_rs::hmac;
use rtcweb_dtls::{
    Certificate, DtlsConfig, DtlsContext, DtlsEndpoint, Event, Fingerprint, Role, State,
    VersionPolicy,
};

const UFRAG: &str = "rtcw";
const PWD: &str = "rtcwebdtlschromiumpeer1";
const MAGIC: u32 = 0x2112_A442;

const PAGE: &str = r#"<!doctype html><meta charset="utf-8"><title>rtcweb-dtls</title><script>
(async () => {
  try {
    const s = await navigator.mediaDevices.getUserMedia({audio: true});
    s.getTracks().forEach(t => t.stop());
  } catch (e) { console.log("getUserMedia: " + e); }
  const pc = new RTCPeerConnection({iceServers: []});
  const dc = pc.createDataChannel("rtcweb");
  pc.oniceconnectionstatechange = () => console.log("ice: " + pc.iceConnectionState);
  pc.onconnectionstatechange = () => console.log("pc: " + pc.connectionState);
  await pc.setLocalDescription(await pc.createOffer());
  const answer = await (await fetch("/offer", {method: "POST", body: pc.localDescription.sdp})).text();
  await pc.setRemoteDescription({type: "answer", sdp: answer});
  console.log("answer applied");
})().catch(e => console.log("error: " + e));
</script>"#;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let port: u16 = args
        .get(1)
        .and_then(|p| p.parse().ok())
        .expect("usage: chromium_peer PORT");
    let role = if args.iter().any(|a| a == "--client") {
        Role::Client
    } else {
        Role::Server
    };
    let mut config = DtlsConfig::default();
    if args.iter().any(|a| a == "--dtls12") {
        config.version = VersionPolicy::Dtls12;
    }
    config.server_cookie = args.iter().any(|a| a == "--cookie");
    let certificate = certificate();
    let context = DtlsContext::new(config, certificate.clone()).expect("context");
    let deadline = Instant::now() + Duration::from_secs(30);

    // 1. HTTP: the page, then the offer.
    let listener = TcpListener::bind(("127.0.0.1", port)).expect("bind tcp");
    let udp = UdpSocket::bind(("127.0.0.1", port)).expect("bind udp");
    println!("chromium_peer: listening on 127.0.0.1:{port} as DTLS {role:?}");
    let remote_fingerprints = loop {
        let (mut conn, _) = listener.accept().expect("accept");
        let (head, body) = read_request(&mut conn);
        if head.starts_with("GET / ") {
            respond(&mut conn, "text/html", PAGE);
        } else if head.starts_with("POST /offer ") {
            let fps: Vec<Fingerprint> = body
                .lines()
                .filter_map(|l| l.trim().strip_prefix("a=fingerprint:"))
                .filter_map(|v| v.parse().ok())
                .collect();
            let mid = body
                .lines()
                .find_map(|l| l.trim().strip_prefix("a=mid:"))
                .expect("a=mid in offer")
                .to_owned();
            let setup = if role == Role::Server {
                "passive"
            } else {
                "active"
            };
            let answer = [
                "v=0".to_owned(),
                "o=- 1 1 IN IP4 127.0.0.1".into(),
                "s=-".into(),
                "t=0 0".into(),
                format!("a=group:BUNDLE {mid}"),
                "a=ice-lite".into(),
                format!("m=application {port} UDP/DTLS/SCTP webrtc-datachannel"),
                "c=IN IP4 127.0.0.1".into(),
                format!("a=mid:{mid}"),
                format!("a=ice-ufrag:{UFRAG}"),
                format!("a=ice-pwd:{PWD}"),
                format!("a=fingerprint:{}", certificate.fingerprint()),
                format!("a=setup:{setup}"),
                "a=sctp-port:5000".into(),
                format!("a=candidate:1 1 udp 2130706431 127.0.0.1 {port} typ host"),
                "a=end-of-candidates".into(),
                String::new(),
            ]
            .join("\r\n");
            respond(&mut conn, "application/sdp", &answer);
            println!("chromium_peer: offer has fingerprints {fps:?}");
            break fps;
        } else {
            respond(&mut conn, "text/plain", "");
        }
    };

    // 2. UDP: ICE-lite STUN answers and DTLS.
    let mut endpoint: Option<DtlsEndpoint> = None;
    let mut peer: Option<SocketAddr> = None;
    let mut buf = vec![0u8; 65536];
    loop {
        let now = Instant::now();
        if now >= deadline {
            println!("chromium_peer: FAILED: no SCTP INIT within 30 s");
            std::process::exit(1);
        }
        let wake = endpoint
            .as_ref()
            .and_then(DtlsEndpoint::poll_timeout)
            .unwrap_or(deadline);
        let wait = wake
            .saturating_duration_since(now)
            .clamp(Duration::from_millis(1), Duration::from_millis(200));
        udp.set_read_timeout(Some(wait)).unwrap();
        match udp.recv_from(&mut buf) {
            Ok((n, from)) => {
                let d = &buf[..n];
                if n >= 20 && d[0] < 2 && d[0..2] == [0, 1] {
                    if let Some(reply) = binding_success(d, from) {
                        udp.send_to(&reply, from).unwrap();
                        peer = Some(from);
                    }
                } else if (20..=63).contains(&d[0]) {
                    report_server_hello("received", d);
                    if let Some(ep) = endpoint.as_mut() {
                        ep.handle_input(Instant::now(), d);
                    } else if role == Role::Server {
                        let mut ep = DtlsEndpoint::new(
                            &context,
                            Role::Server,
                            remote_fingerprints.clone(),
                            Instant::now(),
                        )
                        .expect("endpoint");
                        ep.handle_input(Instant::now(), d);
                        endpoint = Some(ep);
                    }
                }
            }
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) => {}
            Err(e) => panic!("recv: {e}"),
        }
        // As the client, start once ICE works (Chromium has checked us).
        if role == Role::Client && endpoint.is_none() && peer.is_some() {
            endpoint = Some(
                DtlsEndpoint::new(
                    &context,
                    Role::Client,
                    remote_fingerprints.clone(),
                    Instant::now(),
                )
                .expect("endpoint"),
            );
        }
        let Some(ep) = endpoint.as_mut() else {
            continue;
        };
        if ep.poll_timeout().is_some_and(|t| t <= Instant::now()) {
            ep.handle_timeout(Instant::now());
        }
        while let Some(d) = ep.poll_transmit() {
            report_server_hello("sent", &d);
            udp.send_to(&d, peer.expect("peer address known")).unwrap();
        }
        while let Some(event) = ep.poll_event() {
            match event {
                Event::Connected { version, srtp } => {
                    let profile = srtp.as_ref().map(|s| s.profile.to_string());
                    println!("chromium_peer: DTLS connected: {version:?}, SRTP {profile:?}");
                }
                Event::ApplicationData(d) => {
                    // RFC 4960: common header (ports 5000 -> 5000), then chunk type 1 (INIT).
                    let init = d.len() >= 16 && d[..4] == [0x13, 0x88, 0x13, 0x88] && d[12] == 1;
                    println!(
                        "chromium_peer: {} bytes of application data, SCTP INIT: {init}",
                        d.len()
                    );
                    if init {
                        println!("chromium_peer: OK");
                        std::process::exit(0);
                    }
                }
                other => println!("chromium_peer: {other:?}"),
            }
        }
        if let State::Failed(e) = ep.state() {
            println!("chromium_peer: FAILED: {e}");
            std::process::exit(1);
        }
    }
}

/// A fresh certificate from the OS random source, valid from yesterday.
/// Prints the key_share group of a ServerHello (first fragment, first record of `d`) and
/// whether it is a HelloRetryRequest (RFC 8446 section 4.1.3 random). Bounds-checked: the
/// datagram comes from the network.
fn report_server_hello(direction: &str, d: &[u8]) {
    const HRR_RANDOM_START: [u8; 4] = [0xCF, 0x21, 0xAD, 0x74];
    let u16_at = |b: &[u8], at: usize| Some(u16::from_be_bytes([*b.get(at)?, *b.get(at + 1)?]));
    let parse = || -> Option<(Option<u16>, bool)> {
        // Plaintext handshake record, ServerHello, fragment offset 0.
        if d.first()? != &22 || d.get(13)? != &2 || d.get(19..22)? != [0, 0, 0] {
            return None;
        }
        let body = d.get(25..)?;
        let retry = body.get(2..6)? == HRR_RANDOM_START;
        let mut pos = 2 + 32;
        pos += 1 + usize::from(*body.get(pos)?) + 3;
        let end = pos + 2 + usize::from(u16_at(body, pos)?);
        pos += 2;
        while pos + 4 <= end {
            if u16_at(body, pos)? == 51 {
                return Some((u16_at(body, pos + 4), retry));
            }
            pos += 4 + usize::from(u16_at(body, pos + 2)?);
        }
        Some((None, retry))
    };
    if let Some((group, retry)) = parse() {
        let group = group.map_or("none".to_string(), |g| format!("0x{g:04x}"));
        let kind = if retry {
            "HelloRetryRequest"
        } else {
            "ServerHello"
        };
        println!("chromium_peer: {direction} {kind}, key_share group {group}");
    }
}

fn certificate() -> Certificate {
    let mut random = [0u8; 48];
    std::fs::File::open("/dev/urandom")
        .unwrap()
        .read_exact(&mut random)
        .unwrap();
    let (secret, serial) = random.split_at(32);
    let not_before = SystemTime::now() - Duration::from_secs(86_400);
    Certificate::generate(
        secret.try_into().unwrap(),
        serial.try_into().unwrap(),
        not_before,
        Certificate::DEFAULT_LIFETIME,
    )
    .expect("certificate")
}

fn read_request(conn: &mut std::net::TcpStream) -> (String, String) {
    conn.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let mut data = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        let n = conn.read(&mut chunk).unwrap_or(0);
        data.extend_from_slice(&chunk[..n]);
        let text = String::from_utf8_lossy(&data).into_owned();
        if let Some(end) = text.find("\r\n\r\n") {
            let head = text[..end].to_owned();
            let len = head
                .lines()
                .find_map(|l| {
                    l.to_ascii_lowercase()
                        .strip_prefix("content-length:")
                        .map(|v| v.trim().to_owned())
                })
                .and_then(|v| v.parse::<usize>().ok())
                .unwrap_or(0);
            if data.len() >= end + 4 + len || n == 0 {
                let body = String::from_utf8_lossy(&data[end + 4..]).into_owned();
                return (head, body);
            }
        }
        if n == 0 {
            return (text, String::new());
        }
    }
}

fn respond(conn: &mut std::net::TcpStream, content_type: &str, body: &str) {
    let status = if body.is_empty() {
        "404 Not Found"
    } else {
        "200 OK"
    };
    let reply = format!(
        "HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let _ = conn.write_all(reply.as_bytes());
}

fn attribute(out: &mut Vec<u8>, kind: u16, value: &[u8]) {
    out.extend_from_slice(&kind.to_be_bytes());
    out.extend_from_slice(&(value.len() as u16).to_be_bytes());
    out.extend_from_slice(value);
    out.resize(out.len() + (4 - value.len() % 4) % 4, 0);
}

/// A Binding success response (RFC 8489) for an authentic request: USERNAME starts with our
/// ufrag and MESSAGE-INTEGRITY is keyed with our password (RFC 8445 section 7.2.2).
fn binding_success(req: &[u8], from: SocketAddr) -> Option<Vec<u8>> {
    let key = hmac::Key::new(hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY, PWD.as_bytes());
    let (mut pos, mut username_ok, mut integrity_ok) = (20, false, false);
    while pos + 4 <= req.len() {
        let kind = u16::from_be_bytes([req[pos], req[pos + 1]]);
        let len = usize::from(u16::from_be_bytes([req[pos + 2], req[pos + 3]]));
        let value = req.get(pos + 4..pos + 4 + len)?;
        if kind == 0x0006 {
            username_ok = value.starts_with(format!("{UFRAG}:").as_bytes());
        }
        if kind == 0x0008 {
            let mut signed = req[..pos].to_vec();
            signed[2..4].copy_from_slice(&((pos + 24 - 20) as u16).to_be_bytes());
            integrity_ok = hmac::verify(&key, &signed, value).is_ok();
            break;
        }
        pos += 4 + len + (4 - len % 4) % 4;
    }
    if !(username_ok && integrity_ok) {
        return None;
    }
    let SocketAddr::V4(v4) = from else {
        return None;
    };
    let mut attrs = Vec::new();
    let mut xor = vec![0, 1];
    xor.extend_from_slice(&(v4.port() ^ (MAGIC >> 16) as u16).to_be_bytes());
    xor.extend_from_slice(&(u32::from(*v4.ip()) ^ MAGIC).to_be_bytes());
    attribute(&mut attrs, 0x0020, &xor);
    let header = |len: usize| {
        let mut h = vec![0x01, 0x01];
        h.extend_from_slice(&(len as u16).to_be_bytes());
        h.extend_from_slice(&MAGIC.to_be_bytes());
        h.extend_from_slice(&req[8..20]);
        h
    };
    let mut msg = header(attrs.len() + 24);
    msg.extend_from_slice(&attrs);
    let tag = hmac::sign(&key, &msg);
    attribute(&mut attrs, 0x0008, tag.as_ref());
    let mut msg = header(attrs.len() + 8);
    msg.extend_from_slice(&attrs);
    let fingerprint = crc32(&msg) ^ 0x5354_554E;
    attribute(&mut attrs, 0x8028, &fingerprint.to_be_bytes());
    let mut msg = header(attrs.len());
    msg.extend_from_slice(&attrs);
    Some(msg)
}

fn crc32(data: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in data {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}
