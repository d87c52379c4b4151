//! NAT boxes with the behaviours RFC 4787 names.

use std::collections::HashMap;
use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

use crate::link::DropReason;
use rtcweb_core::Rng;

/// RFC 4787 section 4.1: what decides whether two outbound flows share an external mapping.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Mapping {
    /// Endpoint-independent mapping (EIM): one external port per internal address and port.
    EndpointIndependent,
    /// Address-dependent mapping (ADM): a new external port per remote IP address.
    AddressDependent,
    /// Address- and port-dependent mapping (APDM, "symmetric"): a new external port per
    /// remote address and port.
    AddressAndPortDependent,
}

/// RFC 4787 section 5: which inbound packets an existing mapping lets through.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Filtering {
    /// Endpoint-independent filtering (EIF): anyone may send to the mapping.
    EndpointIndependent,
    /// Address-dependent filtering (ADF): only IP addresses the inside endpoint has sent to.
    AddressDependent,
    /// Address- and port-dependent filtering (APDF): only exact addresses and ports the
    /// inside endpoint has sent to.
    AddressAndPortDependent,
}

impl fmt::Display for Mapping {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::EndpointIndependent => "EIM",
            Self::AddressDependent => "ADM",
            Self::AddressAndPortDependent => "APDM",
        })
    }
}

impl fmt::Display for Filtering {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::EndpointIndependent => "EIF",
            Self::AddressDependent => "ADF",
            Self::AddressAndPortDependent => "APDF",
        })
    }
}

/// How a NAT box behaves.
///
/// ```
/// use rtcweb_netsim::{Filtering, Mapping, NatConfig};
///
/// // Linux MASQUERADE: a port-restricted cone.
/// let cone = NatConfig::new(Mapping::EndpointIndependent, Filtering::AddressAndPortDependent);
/// assert!(cone.port_preservation);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NatConfig {
    /// Mapping behaviour.
    pub mapping: Mapping,
    /// Filtering behaviour.
    pub filtering: Filtering,
    /// Try to keep the internal port as the external port (RFC 4787 section 4.2.1).
    pub port_preservation: bool,
    /// Let inside hosts reach each other through the external address (RFC 4787 section 6).
    pub hairpinning: bool,
    /// A mapping (and each filter entry) lives this long after the last packet that
    /// refreshed it (RFC 4787 section 4.3 asks for at least 2 minutes).
    pub mapping_timeout: Duration,
    /// Whether inbound packets also refresh the mapping (outbound always do, REQ-6).
    pub inbound_refresh: bool,
    /// External ports handed out, inclusive.
    pub port_range: (u16, u16),
}

impl NatConfig {
    /// A NAT with the given behaviours, port preservation and hairpinning on, a 120 s mapping
    /// timeout, outbound-only refresh and ports 1024-65535.
    pub fn new(mapping: Mapping, filtering: Filtering) -> Self {
        Self {
            mapping,
            filtering,
            port_preservation: true,
            hairpinning: true,
            mapping_timeout: Duration::from_secs(120),
            inbound_refresh: false,
            port_range: (1024, 65535),
        }
    }

    /// The classic name of this behaviour, where one exists (RFC 3489 terms, which RFC 4787
    /// section 3 explains are imprecise).
    pub fn classic_name(&self) -> &'static str {
        match (self.mapping, self.filtering) {
            (Mapping::EndpointIndependent, Filtering::EndpointIndependent) => "full cone",
            (Mapping::EndpointIndependent, Filtering::AddressDependent) => "restricted cone",
            (Mapping::EndpointIndependent, Filtering::AddressAndPortDependent) => {
                "port restricted cone"
            }
            (Mapping::AddressAndPortDependent, Filtering::AddressAndPortDependent) => "symmetric",
            _ => "unnamed",
        }
    }
}

/// What a mapping is keyed by, per the mapping behaviour.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct MappingKey {
    internal: SocketAddr,
    remote_ip: Option<IpAddr>,
    remote_port: Option<u16>,
}

#[derive(Debug)]
struct MappingEntry {
    key: MappingKey,
    /// Refreshed by outbound packets (and inbound ones with `inbound_refresh`).
    expires: Instant,
    /// Remote endpoints this mapping has sent to, with when that permission lapses.
    permitted: HashMap<SocketAddr, Instant>,
}

/// The translation state of one NAT box.
#[derive(Debug)]
pub(crate) struct NatTable {
    pub(crate) config: NatConfig,
    pub(crate) external_ip: IpAddr,
    by_key: HashMap<MappingKey, u16>,
    by_port: HashMap<u16, MappingEntry>,
    /// When expired mappings and permissions are next swept out (see `sweep`).
    next_sweep: Option<Instant>,
}

impl NatTable {
    pub(crate) fn new(config: NatConfig, external_ip: IpAddr) -> Self {
        Self {
            config,
            external_ip,
            by_key: HashMap::new(),
            by_port: HashMap::new(),
            next_sweep: None,
        }
    }

    /// Forgets expired mappings and filter entries, once per mapping timeout. Without it a
    /// long simulation keeps every mapping it ever made (an expired one was only dropped
    /// when its port happened to be handed out again) and every address a mapping ever
    /// sent to: the soak (benches/src/soak) saw the heap grow with them.
    fn sweep(&mut self, now: Instant) {
        if self.next_sweep.is_some_and(|t| now < t) {
            return;
        }
        self.next_sweep = Some(now + self.config.mapping_timeout);
        self.by_port.retain(|_, m| m.expires > now);
        for m in self.by_port.values_mut() {
            m.permitted.retain(|_, until| *until > now);
        }
        let by_port = &self.by_port;
        self.by_key.retain(|_, port| by_port.contains_key(port));
    }

    /// Mappings and filter entries held, live or not yet swept.
    pub(crate) fn held(&self) -> (usize, usize) {
        let permitted = self.by_port.values().map(|m| m.permitted.len()).sum();
        (self.by_port.len(), permitted)
    }

    /// Translates the source of an outbound packet, creating or refreshing its mapping.
    pub(crate) fn outbound(
        &mut self,
        now: Instant,
        from: SocketAddr,
        to: SocketAddr,
        rng: &mut Rng,
    ) -> Result<SocketAddr, DropReason> {
        self.sweep(now);
        let key = MappingKey {
            internal: from,
            remote_ip: (self.config.mapping != Mapping::EndpointIndependent).then_some(to.ip()),
            remote_port: (self.config.mapping == Mapping::AddressAndPortDependent)
                .then_some(to.port()),
        };
        let live_port = self
            .by_key
            .get(&key)
            .copied()
            .filter(|port| self.by_port.get(port).is_some_and(|m| m.expires > now));
        let port = match live_port {
            Some(port) => port,
            None => {
                self.by_key.remove(&key);
                let port = self.allocate_port(now, from.port(), rng)?;
                self.by_key.insert(key, port);
                self.by_port.insert(
                    port,
                    MappingEntry {
                        key,
                        expires: now,
                        permitted: HashMap::new(),
                    },
                );
                port
            }
        };
        let timeout = self.config.mapping_timeout;
        if let Some(entry) = self.by_port.get_mut(&port) {
            entry.expires = now + timeout;
            entry.permitted.insert(to, now + timeout);
        }
        Ok(SocketAddr::new(self.external_ip, port))
    }

    /// Finds the inside destination of a packet that arrived at external port `port` from
    /// `from`, or why the NAT drops it.
    pub(crate) fn inbound(
        &mut self,
        now: Instant,
        from: SocketAddr,
        port: u16,
    ) -> Result<SocketAddr, DropReason> {
        let filtering = self.config.filtering;
        let entry = self
            .by_port
            .get_mut(&port)
            .filter(|m| m.expires > now)
            .ok_or(DropReason::NoMapping)?;
        let allowed = match filtering {
            Filtering::EndpointIndependent => true,
            Filtering::AddressDependent => entry
                .permitted
                .iter()
                .any(|(peer, until)| peer.ip() == from.ip() && *until > now),
            Filtering::AddressAndPortDependent => {
                entry.permitted.get(&from).is_some_and(|until| *until > now)
            }
        };
        if !allowed {
            return Err(DropReason::Filtered);
        }
        if self.config.inbound_refresh {
            entry.expires = now + self.config.mapping_timeout;
        }
        Ok(entry.key.internal)
    }

    /// Forgets every mapping, as a NAT reboot or a carrier's idle sweep would.
    pub(crate) fn flush(&mut self) {
        self.by_key.clear();
        self.by_port.clear();
    }

    /// Live mappings as (internal, external port), sorted for stable output.
    pub(crate) fn mappings(&self, now: Instant) -> Vec<(SocketAddr, u16)> {
        let mut v: Vec<_> = self
            .by_port
            .iter()
            .filter(|(_, m)| m.expires > now)
            .map(|(port, m)| (m.key.internal, *port))
            .collect();
        v.sort();
        v
    }

    fn allocate_port(
        &mut self,
        now: Instant,
        wanted: u16,
        rng: &mut Rng,
    ) -> Result<u16, DropReason> {
        let (lo, hi) = self.config.port_range;
        let in_range = |p: u16| (lo..=hi).contains(&p);
        if self.config.port_preservation && in_range(wanted) && self.reclaim(now, wanted) {
            return Ok(wanted);
        }
        let span = u32::from(hi.saturating_sub(lo)) + 1;
        let start = rng.below(u64::from(span)) as u32;
        for i in 0..span {
            let port = lo + ((start + i) % span) as u16;
            if self.reclaim(now, port) {
                return Ok(port);
            }
        }
        Err(DropReason::PortsExhausted)
    }

    /// Whether `port` is free, after dropping an expired mapping that held it.
    fn reclaim(&mut self, now: Instant, port: u16) -> bool {
        match self.by_port.get(&port) {
            None => true,
            Some(m) if m.expires <= now => {
                let key = m.key;
                self.by_port.remove(&port);
                if self.by_key.get(&key) == Some(&port) {
                    self.by_key.remove(&key);
                }
                true
            }
            Some(_) => false,
        }
    }
}
