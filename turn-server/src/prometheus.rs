//! The core's [`Metrics`] and the runtime's own figures in Prometheus' text exposition format
//! (version 0.0.4): `# HELP` and `# TYPE` per family, one sample per line, counters ending in
//! `_total`. Every label value comes from a fixed set, so nothing needs escaping.

use std::fmt::Write;

use rtcweb_turn_server::metrics::{COUNTED_ERROR_CODES, delete_reason_label};
use rtcweb_turn_server::{
    AuthFailure, Direction, LimitScope, Metrics, Protocol, QuotaRefusal, RequestKind,
};

/// What the runtime adds to the core's figures.
#[derive(Debug, Clone, Copy, Default)]
pub struct RuntimeFigures {
    /// Client TCP/TLS connections open.
    pub connections: usize,
    /// Reloads (SIGHUP) that replaced the credentials.
    pub reloads_ok: u64,
    /// Reloads refused (unreadable or invalid file); the old credentials stayed.
    pub reloads_failed: u64,
    /// Seconds since the server started.
    pub uptime_seconds: u64,
}

struct Out(String);

impl Out {
    fn family(&mut self, name: &str, kind: &str, help: &str) {
        let _ = writeln!(self.0, "# HELP rtcweb_turn_{name} {help}");
        let _ = writeln!(self.0, "# TYPE rtcweb_turn_{name} {kind}");
    }

    fn sample(&mut self, name: &str, labels: &[(&str, &str)], value: impl std::fmt::Display) {
        let _ = write!(self.0, "rtcweb_turn_{name}");
        if !labels.is_empty() {
            self.0.push('{');
            for (i, (k, v)) in labels.iter().enumerate() {
                if i > 0 {
                    self.0.push(',');
                }
                let _ = write!(self.0, "{k}=\"{v}\"");
            }
            self.0.push('}');
        }
        let _ = writeln!(self.0, " {value}");
    }

    fn single(&mut self, name: &str, kind: &str, help: &str, value: impl std::fmt::Display) {
        self.family(name, kind, help);
        self.sample(name, &[], value);
    }
}

fn transport_label(t: Protocol) -> &'static str {
    match t {
        Protocol::Udp => "udp",
        Protocol::Tcp => "tcp",
        Protocol::Tls => "tls",
    }
}

/// The exposition of `m` and `rt`.
pub fn render(m: &Metrics, rt: &RuntimeFigures) -> String {
    let mut o = Out(String::with_capacity(8 * 1024));
    o.family(
        "allocations",
        "gauge",
        "Live allocations, by client transport.",
    );
    for t in Metrics::TRANSPORTS {
        o.sample(
            "allocations",
            &[("transport", transport_label(t))],
            m.allocations(t),
        );
    }
    o.single(
        "allocations_pending",
        "gauge",
        "Allocate requests waiting for their relay socket.",
        m.pending_allocations,
    );
    o.single(
        "reservations",
        "gauge",
        "Relay ports held for a RESERVATION-TOKEN.",
        m.reservations,
    );
    o.single(
        "permissions",
        "gauge",
        "Permissions in force, over all allocations.",
        m.permissions,
    );
    o.single(
        "channels",
        "gauge",
        "Channel bindings in force, over all allocations.",
        m.channels,
    );
    o.single(
        "users",
        "gauge",
        "Users holding at least one allocation.",
        m.users,
    );
    o.single(
        "connections",
        "gauge",
        "Client TCP and TLS connections open.",
        rt.connections,
    );
    o.single(
        "allocations_created_total",
        "counter",
        "Allocations made.",
        m.allocations_created(),
    );
    o.family(
        "allocations_deleted_total",
        "counter",
        "Allocations ended, by reason.",
    );
    for r in Metrics::DELETE_REASONS {
        o.sample(
            "allocations_deleted_total",
            &[("reason", delete_reason_label(r))],
            m.allocations_deleted(r),
        );
    }
    o.family(
        "requests_total",
        "counter",
        "STUN/TURN requests received, by method.",
    );
    for k in RequestKind::ALL {
        o.sample("requests_total", &[("method", k.label())], m.requests(*k));
    }
    o.family(
        "error_responses_total",
        "counter",
        "Error responses sent, by code (\"other\": any code not listed).",
    );
    let mut code = String::new();
    for c in COUNTED_ERROR_CODES {
        code.clear();
        let _ = write!(code, "{c}");
        o.sample(
            "error_responses_total",
            &[("code", &code)],
            m.error_responses(*c),
        );
    }
    o.sample(
        "error_responses_total",
        &[("code", "other")],
        m.error_responses(0),
    );
    o.single(
        "auth_challenges_total",
        "counter",
        "401 challenges to requests without credentials (the normal first round).",
        m.auth_challenges(),
    );
    o.family(
        "auth_failures_total",
        "counter",
        "Requests whose credentials did not authenticate, by reason.",
    );
    for r in AuthFailure::ALL {
        o.sample(
            "auth_failures_total",
            &[("reason", r.label())],
            m.auth_failures(*r),
        );
    }
    o.family(
        "quota_refusals_total",
        "counter",
        "Requests refused for lack of room, by reason.",
    );
    for r in QuotaRefusal::ALL {
        o.sample(
            "quota_refusals_total",
            &[("reason", r.label())],
            m.quota_refusals(*r),
        );
    }
    o.family(
        "relayed_packets_total",
        "counter",
        "Datagrams relayed, by direction.",
    );
    for d in Direction::ALL {
        o.sample(
            "relayed_packets_total",
            &[("direction", d.label())],
            m.relayed_packets(*d),
        );
    }
    o.family(
        "relayed_bytes_total",
        "counter",
        "Payload octets relayed (without ChannelData or Data indication framing), by direction.",
    );
    for d in Direction::ALL {
        o.sample(
            "relayed_bytes_total",
            &[("direction", d.label())],
            m.relayed_bytes(*d),
        );
    }
    for (name, help, get) in [
        (
            "bandwidth_dropped_packets_total",
            "Datagrams dropped by a bandwidth limit, by limit and direction.",
            Metrics::bandwidth_dropped_packets as fn(&Metrics, LimitScope, Direction) -> u64,
        ),
        (
            "bandwidth_dropped_bytes_total",
            "Payload octets of datagrams dropped by a bandwidth limit, by limit and direction.",
            Metrics::bandwidth_dropped_bytes,
        ),
    ] {
        o.family(name, "counter", help);
        for s in LimitScope::ALL {
            for d in Direction::ALL {
                let labels = [("limit", s.label()), ("direction", d.label())];
                o.sample(name, &labels, get(m, *s, *d));
            }
        }
    }
    o.single(
        "dropped_input_total",
        "counter",
        "Client or peer input dropped: malformed, no allocation, no permission or channel.",
        m.dropped_input,
    );
    o.single(
        "dropped_transmits_total",
        "counter",
        "Datagrams dropped because the send queue was full.",
        m.dropped_transmits,
    );
    o.family(
        "reloads_total",
        "counter",
        "SIGHUP reloads of the credentials, by result.",
    );
    o.sample("reloads_total", &[("result", "ok")], rt.reloads_ok);
    o.sample("reloads_total", &[("result", "failed")], rt.reloads_failed);
    o.single(
        "uptime_seconds",
        "gauge",
        "Seconds since the server started.",
        rt.uptime_seconds,
    );
    o.family("build_info", "gauge", "The server's version (value 1).");
    o.sample("build_info", &[("version", env!("CARGO_PKG_VERSION"))], 1);
    o.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_sample_belongs_to_a_declared_family_and_parses() {
        let text = render(&Metrics::default(), &RuntimeFigures::default());
        let mut families = std::collections::HashSet::new();
        let mut samples = 0;
        for line in text.lines() {
            if let Some(rest) = line.strip_prefix("# TYPE ") {
                let (name, kind) = rest.split_once(' ').unwrap();
                assert!(["gauge", "counter"].contains(&kind), "{line}");
                assert_eq!(kind == "counter", name.ends_with("_total"), "{line}");
                assert!(families.insert(name.to_string()), "{name} declared twice");
                continue;
            }
            if line.starts_with("# HELP ") {
                continue;
            }
            let (series, value) = line.rsplit_once(' ').unwrap();
            value.parse::<f64>().unwrap();
            let name = series.split('{').next().unwrap();
            assert!(
                families.contains(name),
                "{line}: family not declared before"
            );
            if let Some(labels) = series.strip_prefix(name).filter(|l| !l.is_empty()) {
                assert!(labels.starts_with('{') && labels.ends_with('}'), "{line}");
            }
            samples += 1;
        }
        assert!(samples > 60, "{samples}");
        assert!(text.contains("rtcweb_turn_auth_failures_total{reason=\"wrong_password\"} 0\n"));
        assert!(text.contains("rtcweb_turn_relayed_bytes_total{direction=\"to_peer\"} 0\n"));
        assert!(text.contains(
            "rtcweb_turn_bandwidth_dropped_packets_total{limit=\"user\",direction=\"to_client\"} 0\n"
        ));
        assert!(text.contains("rtcweb_turn_error_responses_total{code=\"486\"} 0\n"));
    }
}
