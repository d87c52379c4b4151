//! ICE server URLs with their credentials, as the examples take them on the command line:
//! `stun:HOST[:PORT]`, or `turn[s]:USER:PASSWORD@HOST[:PORT][?transport=udp|tcp]`. TURN URLs
//! (RFC 7065) have no place for credentials, so they come before the last `@`, or (for
//! `chat`) from separate options.

use rtcweb::{IceServer, IceServerUrl, Scheme};

use crate::Error;

/// Parses one ICE server: `stun:HOST[:PORT]` or
/// `turn[s]:USER:PASSWORD@HOST[:PORT][?transport=udp|tcp]` (the password may hold `:`, the
/// user may not). A TURN URL without credentials is an error.
pub fn parse(arg: &str) -> Result<IceServer, Error> {
    parse_with_credentials(arg, None)
}

/// Like [`parse`], but a TURN URL without `USER:PASSWORD@` takes `credentials` (user,
/// password) when they are given.
pub fn parse_with_credentials(
    arg: &str,
    credentials: Option<(&str, &str)>,
) -> Result<IceServer, Error> {
    let bad = |why: &str| Error::BadValue(format!("ICE server {arg:?}: {why}"));
    let (scheme, rest) = arg.split_once(':').ok_or_else(|| bad("not a URL"))?;
    let server = match (rest.rsplit_once('@'), credentials) {
        (Some((inline, host)), _) => {
            let (user, password) = inline
                .split_once(':')
                .ok_or_else(|| bad("credentials are USER:PASSWORD"))?;
            IceServer::turn(&format!("{scheme}:{host}"), user, password)
        }
        (None, Some((user, password))) if matches!(scheme, "turn" | "turns") => {
            IceServer::turn(arg, user, password)
        }
        (None, _) => IceServer::stun(arg),
    };
    for url in &server.urls {
        let parsed = IceServerUrl::parse(url).map_err(|e| bad(&e.to_string()))?;
        if matches!(parsed.scheme, Scheme::Turn | Scheme::Turns) && server.credential.is_none() {
            return Err(bad("a TURN URL needs USER:PASSWORD@ before the host"));
        }
    }
    Ok(server)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn password(user: &str, password: &str) -> Option<rtcweb::IceCredential> {
        Some(rtcweb::IceCredential::Password {
            username: user.into(),
            password: password.into(),
        })
    }

    #[test]
    fn ice_server_urls_with_and_without_credentials() {
        let s = parse("stun:127.0.0.1:3478").unwrap();
        assert_eq!(s.urls, ["stun:127.0.0.1:3478"]);
        assert!(s.credential.is_none());
        let t = parse("turn:user:pa:ss@127.0.0.1:3478?transport=tcp").unwrap();
        assert_eq!(t.urls, ["turn:127.0.0.1:3478?transport=tcp"]);
        assert_eq!(t.credential, password("user", "pa:ss"));
        assert!(parse("turn:127.0.0.1").is_err());
        assert!(parse("http://x").is_err());
    }

    #[test]
    fn separate_credentials_serve_bare_turn_urls_only() {
        let creds = Some(("alice", "secret"));
        let t = parse_with_credentials("turn:127.0.0.1:3478", creds).unwrap();
        assert_eq!(t.urls, ["turn:127.0.0.1:3478"]);
        assert_eq!(t.credential, password("alice", "secret"));
        // Inline credentials win; a STUN URL stays without any.
        let inline = parse_with_credentials("turn:bob:pw@127.0.0.1:3478", creds).unwrap();
        assert_eq!(inline.credential, password("bob", "pw"));
        let stun = parse_with_credentials("stun:127.0.0.1:3478", creds).unwrap();
        assert!(stun.credential.is_none());
        assert!(parse_with_credentials("turn:127.0.0.1", None).is_err());
    }
}
