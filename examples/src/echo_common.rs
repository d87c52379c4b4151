//! What `echo-server` and `echo-client` share: `--ice-server` URLs with their credentials,
//! and logging. Included by both binaries with `#[path]`.

use rtcweb::IceServer;

/// Parses an `--ice-server` value: `stun:HOST[:PORT]`, or
/// `turn[s]:USER:PASSWORD@HOST[:PORT][?transport=udp|tcp]` (the credentials before the last
/// `@`, since TURN URLs of RFC 7065 have no place for them).
pub fn ice_server(arg: &str) -> Result<IceServer, String> {
    let (scheme, rest) = arg
        .split_once(':')
        .ok_or_else(|| format!("bad ICE server URL {arg:?}"))?;
    let server = match rest.rsplit_once('@') {
        Some((credentials, host)) => {
            let (user, password) = credentials
                .split_once(':')
                .ok_or_else(|| format!("{arg:?}: credentials are USER:PASSWORD"))?;
            IceServer::turn(&format!("{scheme}:{host}"), user, password)
        }
        None => IceServer::stun(arg),
    };
    for url in &server.urls {
        let parsed = rtcweb::IceServerUrl::parse(url).map_err(|e| e.to_string())?;
        if matches!(parsed.scheme, rtcweb::Scheme::Turn | rtcweb::Scheme::Turns)
            && server.credential.is_none()
        {
            return Err(format!(
                "{arg:?}: a TURN URL needs USER:PASSWORD@ before the host"
            ));
        }
    }
    Ok(server)
}

/// Logs to stderr, filtered by `RUST_LOG` (warnings by default).
pub fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ice_server_urls_with_and_without_credentials() {
        let s = ice_server("stun:127.0.0.1:3478").unwrap();
        assert_eq!(s.urls, ["stun:127.0.0.1:3478"]);
        assert!(s.credential.is_none());
        let t = ice_server("turn:user:pa:ss@127.0.0.1:3478?transport=tcp").unwrap();
        assert_eq!(t.urls, ["turn:127.0.0.1:3478?transport=tcp"]);
        assert_eq!(
            t.credential,
            Some(rtcweb::IceCredential::Password {
                username: "user".into(),
                password: "pa:ss".into()
            })
        );
        assert!(ice_server("turn:127.0.0.1").is_err());
        assert!(ice_server("http://x").is_err());
    }
}
