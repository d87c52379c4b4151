//! The requests a TURN client sends, built from the allocation's settings and the current
//! authentication state.

use std::net::{IpAddr, SocketAddr};

use rtcweb_stun::attributes::AddressFamily;
use rtcweb_stun::{Attribute, Class, MessageBuilder, MessageType, Method, TransactionId};

use crate::auth::Auth;
use crate::error::Result;
use crate::types::ClientConfig;

/// What a request is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Allocate,
    Refresh { lifetime: u32 },
    CreatePermission { peer: IpAddr },
    ChannelBind { peer: SocketAddr, channel: u16 },
}

impl Kind {
    /// The STUN method of the request.
    pub(crate) fn method(self) -> Method {
        match self {
            Kind::Allocate => Method::ALLOCATE,
            Kind::Refresh { .. } => Method::REFRESH,
            Kind::CreatePermission { .. } => Method::CREATE_PERMISSION,
            Kind::ChannelBind { .. } => Method::CHANNEL_BIND,
        }
    }
}

/// Builds a request; the flag tells whether it carries credentials (MESSAGE-INTEGRITY).
pub(crate) fn build(
    config: &ClientConfig,
    auth: &Auth,
    kind: Kind,
    tid: TransactionId,
) -> Result<(Vec<u8>, bool)> {
    // USERNAME, REALM and NONCE may be up to 513 + 763 + 763 octets (RFC 8489).
    let mut buf = vec![0u8; 2560];
    let typ = MessageType::new(kind.method(), Class::Request);
    let mut b = MessageBuilder::new(&mut buf, typ, tid)?;
    match kind {
        Kind::Allocate => {
            b.attribute(&Attribute::RequestedTransport(17))?;
            if let Some(f) = config.requested_family.filter(|f| *f != AddressFamily::V4) {
                b.attribute(&Attribute::RequestedAddressFamily(f))?;
            }
            if let Some(l) = config.requested_lifetime {
                b.attribute(&Attribute::Lifetime(l))?;
            }
            if let Some(s) = &config.software {
                b.attribute(&Attribute::Software(s))?;
            }
        }
        Kind::Refresh { lifetime } => {
            let lifetime = if lifetime == 0 {
                Some(0)
            } else {
                config.requested_lifetime
            };
            if let Some(l) = lifetime {
                b.attribute(&Attribute::Lifetime(l))?;
            }
        }
        Kind::CreatePermission { peer } => {
            b.attribute(&Attribute::XorPeerAddress(SocketAddr::new(peer, 0)))?;
        }
        Kind::ChannelBind { peer, channel } => {
            b.attribute(&Attribute::ChannelNumber(channel))?;
            b.attribute(&Attribute::XorPeerAddress(peer))?;
        }
    }
    let authenticated = auth.write(&mut b)?;
    let n = b.finish();
    buf.truncate(n);
    Ok((buf, authenticated))
}
