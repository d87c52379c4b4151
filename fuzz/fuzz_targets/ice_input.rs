//! Arbitrary datagrams and candidate lines into an ICE agent that is mid-check. Some inputs
//! are turned into Binding requests and responses signed with the right password, so the
//! fuzzer reaches the code behind the integrity check too.
#![no_main]

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use libfuzzer_sys::fuzz_target;
use rtcweb_ice::{Candidate, Credentials, IceAgent, IceConfig, IceRole};
use rtcweb_stun::{
    AttributeType, Class, IntegrityKey, MessageBuilder, MessageType, Method, TransactionId,
};

fuzz_target!(|data: &[u8]| {
    let now = Instant::now();
    let config = IceConfig {
        stun_servers: vec!["203.0.113.1:3478".parse().unwrap()],
        ..IceConfig::default()
    };
    let role = if data.first().is_some_and(|b| b & 1 == 1) {
        IceRole::Controlling
    } else {
        IceRole::Controlled
    };
    let mut agent = IceAgent::new(config, role, 1);
    let local: SocketAddr = "192.0.2.1:5000".parse().unwrap();
    agent.add_host_address(now, local);
    agent.start_gathering(now);
    let remote_creds = Credentials::new("rmte", "remotepasswordremotepassword").unwrap();
    agent.set_remote_credentials(now, remote_creds.clone());
    let _ = agent.add_remote_candidate(
        now,
        "candidate:1 1 udp 2122260223 198.51.100.2 6000 typ host"
            .parse()
            .unwrap(),
    );
    let ours = agent.local_credentials().clone();

    let mut t = now;
    for chunk in data.split(|b| *b == 0xff).take(64) {
        let Some((&op, rest)) = chunk.split_first() else {
            continue;
        };
        let from = SocketAddr::new(
            [198, 51, 100, 2 + (op >> 6)].into(),
            6000 + u16::from(op & 3),
        );
        match op % 4 {
            0 => {
                let _ = agent.handle_input(t, rtcweb_ice::Datagram::udp(from, local, rest));
            }
            1 => {
                if let Some(c) = std::str::from_utf8(rest)
                    .ok()
                    .and_then(|line| line.parse::<Candidate>().ok())
                {
                    let _ = agent.add_remote_candidate(t, c);
                }
            }
            _ => {
                // A signed message: request (to us) or response (from them), with the
                // fuzzer's attributes as raw TLVs.
                let request = op & 4 == 0;
                let (class, pwd) = if request {
                    (Class::Request, ours.pwd.as_str())
                } else {
                    (
                        if op & 8 == 0 {
                            Class::SuccessResponse
                        } else {
                            Class::ErrorResponse
                        },
                        remote_creds.pwd.as_str(),
                    )
                };
                let mut buf = [0u8; 2048];
                let tid = TransactionId([op; 12]);
                let Ok(mut b) =
                    MessageBuilder::new(&mut buf, MessageType::new(Method::BINDING, class), tid)
                else {
                    continue;
                };
                let mut attrs = rest;
                while attrs.len() >= 3 {
                    let typ = u16::from_be_bytes([attrs[0], attrs[1]]);
                    let len = usize::from(attrs[2]).min(attrs.len() - 3);
                    let _ = b.raw_attribute(AttributeType(typ), &attrs[3..3 + len]);
                    attrs = &attrs[3 + len..];
                }
                let _ = b.message_integrity(&IntegrityKey::short_term(pwd));
                let _ = b.fingerprint();
                let len = b.finish();
                let _ = agent.handle_input(t, rtcweb_ice::Datagram::udp(from, local, &buf[..len]));
            }
        }
        t += Duration::from_millis(u64::from(op) * 10);
        if agent.poll_timeout().is_some_and(|d| d <= t) {
            agent.handle_timeout(t);
        }
        while agent.poll_transmit().is_some() {}
        while agent.poll_event().is_some() {}
    }
    assert!(agent.remote_candidate_count() <= IceConfig::default().max_remote_candidates);
});
