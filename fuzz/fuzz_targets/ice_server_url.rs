//! `IceServerUrl` (RFC 7064/7065 `stun:`/`turn:` URLs) and what consumes it: host name
//! resolution in `RtcConfiguration::resolve_with` and the ICE configuration a
//! `PeerConnection` builds from its ICE servers.
//!
//! Lines of the input are URLs of one `RTCIceServer`; the first byte picks its credential.
//! Checks: no panic; a port other than the scheme's default was written in the URL; a
//! `turns:` URL is TCP; after resolution every URL that parsed still parses, to the same
//! scheme, port and transport, now with an address; and a `PeerConnection` accepts the
//! servers exactly when every URL parses, has an address, and TURN ones have credentials.
#![no_main]

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::sync::OnceLock;
use std::time::{Duration, SystemTime};

use libfuzzer_sys::fuzz_target;
use rtcweb::{
    Certificate, DtlsConfig, DtlsContext, IceCredential, IceServer, IceServerUrl, PeerConnection,
    RtcConfiguration, Scheme, UrlTransport,
};

fn context() -> &'static DtlsContext {
    static CONTEXT: OnceLock<DtlsContext> = OnceLock::new();
    CONTEXT.get_or_init(|| {
        let cert = Certificate::generate(
            &[7; 32],
            &[7; 16],
            SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000),
            Duration::from_secs(86_400),
        )
        .expect("certificate");
        DtlsContext::new(DtlsConfig::default(), cert).expect("context")
    })
}

fn check_one(url: &str) -> Option<IceServerUrl> {
    let parsed = IceServerUrl::parse(url).ok()?;
    let tls = matches!(parsed.scheme, Scheme::Turns | Scheme::Stuns);
    if tls {
        assert_eq!(parsed.transport, UrlTransport::Tcp);
    }
    assert!(!parsed.host.is_empty());
    let default = if tls { 5349 } else { 3478 };
    let hostport = url
        .split_once(':')
        .map_or("", |(_, r)| r)
        .split('?')
        .next()
        .unwrap_or("");
    // A port other than the default was written: there is a ':' after the host.
    let after_host = hostport.rsplit_once(']').map_or(hostport, |(_, p)| p);
    assert!(
        parsed.port == default || after_host.contains(':'),
        "port {} of {url:?} is neither written nor the default",
        parsed.port
    );
    if let Some(addr) = parsed.socket_addr() {
        assert_eq!(addr.port(), parsed.port);
    }
    Some(parsed)
}

fuzz_target!(|data: &[u8]| {
    let Some((&sel, rest)) = data.split_first() else {
        return;
    };
    let text = String::from_utf8_lossy(rest);
    let urls: Vec<String> = text.lines().take(8).map(str::to_owned).collect();
    let parsed: Vec<Option<IceServerUrl>> = urls.iter().map(|u| check_one(u)).collect();

    let credential = match sel & 3 {
        0 => None,
        1 => Some(IceCredential::Password {
            username: "user".into(),
            password: "pass".into(),
        }),
        2 => Some(IceCredential::RestSecret {
            secret: b"secret".to_vec(),
            user: "user".into(),
            expiry_unix: 1_700_000_000,
        }),
        _ => Some(IceCredential::OAuth {
            kid: "kid".into(),
            mac_key: vec![1; 20],
            access_token: vec![2; 60],
        }),
    };
    let mut config = RtcConfiguration::new(context().certificate().clone(), 1);
    config.dtls_context = Some(context().clone());
    config.ice_servers = vec![IceServer {
        urls: urls.clone(),
        credential: credential.clone(),
    }];
    // Names resolve unless they start with 'x'; v4 or v6 by the selector.
    let ip: IpAddr = if sel & 4 == 0 {
        Ipv4Addr::new(203, 0, 113, 5).into()
    } else {
        Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 5).into()
    };
    config.resolve_with(|host| (!host.starts_with('x')).then_some(ip));
    let resolved = config.ice_servers[0].urls.clone();
    let mut kept = resolved.iter();
    for (before, url) in parsed.iter().zip(&urls) {
        let Some(before) = before else {
            // What does not parse is left for the PeerConnection to refuse.
            assert_eq!(kept.next(), Some(url));
            continue;
        };
        if before.socket_addr().is_none() && before.host.starts_with('x') {
            continue; // dropped: the name did not resolve
        }
        let after = kept.next().expect("a resolved URL is kept");
        let after = IceServerUrl::parse(after).expect("a resolved URL parses");
        assert_eq!(
            (after.scheme, after.port, after.transport),
            (before.scheme, before.port, before.transport),
            "{url:?}"
        );
        assert!(after.socket_addr().is_some(), "{url:?} has no address");
        if before.socket_addr().is_some() {
            assert_eq!(after, *before, "an IP literal is left as it was");
        }
    }
    assert!(kept.next().is_none());

    let all_usable = resolved.iter().all(|u| {
        IceServerUrl::parse(u).is_ok_and(|p| {
            p.socket_addr().is_some()
                && (matches!(p.scheme, Scheme::Stun | Scheme::Stuns) || credential.is_some())
        })
    });
    let pc = PeerConnection::new(config);
    assert_eq!(pc.is_ok(), all_usable, "{resolved:?}: {:?}", pc.err());
});
