//! TURN client: arbitrary datagrams (UDP) or stream octets (TCP) from the server, interleaved
//! with timeouts and API calls. Half of the runs first reach the Allocated state through a
//! scripted, genuine challenge and success, so the fuzzer also hits the allocated paths
//! (Data indications, ChannelData, refresh answers). Must never panic; queues stay bounded.
#![no_main]

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use libfuzzer_sys::fuzz_target;
use rtcweb_stun::{
    Attribute, Class, ErrorCode, IntegrityKey, Message, MessageBuilder, MessageType,
    PasswordAlgorithm,
};
use rtcweb_turn::{Client, ClientConfig, Credentials, MAX_EVENTS, Protocol};

fn answer(
    request: &[u8],
    class: Class,
    attrs: &[Attribute<'_>],
    key: Option<&IntegrityKey>,
) -> Vec<u8> {
    let msg = Message::new_checked(request).expect("client output parses");
    let mut buf = vec![0u8; 512];
    let typ = MessageType::new(msg.method(), class);
    let mut b = MessageBuilder::new(&mut buf, typ, msg.transaction_id()).expect("fits");
    for a in attrs {
        b.attribute(a).expect("fits");
    }
    if let Some(k) = key {
        b.message_integrity(k).expect("fits");
    }
    let n = b.finish();
    buf.truncate(n);
    buf
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, mut rest)) = data.split_first() else {
        return;
    };
    let server: SocketAddr = "203.0.113.1:3478".parse().expect("literal");
    let transport = if mode & 1 == 0 {
        Protocol::Udp
    } else {
        Protocol::Tcp
    };
    let creds = Credentials::LongTerm {
        username: "u".into(),
        password: "p".into(),
    };
    let mut c = Client::new(
        ClientConfig::new(server, transport, creds),
        LOCAL,
        [mode; 32],
    );
    let start = Instant::now();
    let mut now = start;
    let _ = c.allocate(now);
    let peer: SocketAddr = "198.51.100.1:9".parse().expect("literal");
    if mode & 2 == 2 {
        let key = IntegrityKey::long_term("u", "r", "p", PasswordAlgorithm::Md5).expect("ascii");
        let first = c.poll_transmit().expect("allocate sent").payload;
        let challenge = answer(
            &first,
            Class::ErrorResponse,
            &[
                Attribute::ErrorCode(ErrorCode {
                    code: 401,
                    reason: "",
                }),
                Attribute::Realm("r"),
                Attribute::Nonce("n"),
            ],
            None,
        );
        c.handle_input(now, from_server(server, transport, &challenge));
        let second = c.poll_transmit().expect("authenticated allocate").payload;
        let ok = answer(
            &second,
            Class::SuccessResponse,
            &[
                Attribute::XorRelayedAddress("203.0.113.1:50000".parse().expect("literal")),
                Attribute::Lifetime(600),
            ],
            Some(&key),
        );
        c.handle_input(now, from_server(server, transport, &ok));
        let _ = c.bind_channel(now, peer);
    }
    while let Some((&len, tail)) = rest.split_first() {
        let len = usize::from(len).min(tail.len());
        let (chunk, next) = tail.split_at(len);
        rest = next;
        c.handle_input(now, from_server(server, transport, chunk));
        now += Duration::from_millis(len as u64 * 997);
        c.handle_timeout(now);
        let _ = c.create_permission(now, peer.ip());
        let _ = c.send_to(peer, chunk);
        while c.poll_transmit().is_some() {}
        let mut events = 0;
        while c.poll_event().is_some() {
            events += 1;
        }
        assert!(events <= MAX_EVENTS + 16);
        let _ = c.poll_timeout();
    }
});

/// The client's socket.
const LOCAL: std::net::SocketAddr = std::net::SocketAddr::new(
    std::net::IpAddr::V4(std::net::Ipv4Addr::new(192, 0, 2, 1)),
    40000,
);

/// `data` from the server on the client's socket.
fn from_server(
    server: std::net::SocketAddr,
    protocol: rtcweb_turn::Protocol,
    data: &[u8],
) -> rtcweb_turn::Datagram<'_> {
    rtcweb_turn::Datagram {
        source: server,
        destination: LOCAL,
        protocol,
        payload: data,
    }
}
