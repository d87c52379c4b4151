//! Both peers behind each of {no NAT, EIM/EIF, EIM/ADF, EIM/APDF, APDM/APDF}, with a STUN
//! and TURN server (rtcweb-turn-server) on the public side: every combination connects, over
//! the expected candidate types, for 100 seeds each; relay only when no direct path exists.
//! The table in docs/ice.md is printed by `nat_matrix` (`RTCWEB_BLESS=1` rewrites it).

#![allow(clippy::unwrap_used)] // test helpers unwrap what the test itself set up

mod common;

use std::time::Duration;

use common::*;
use rtcweb_ice::CandidateKind;
use rtcweb_netsim::{Filtering, Mapping};

const SITES: [Site; 5] = [
    Site::Public,
    Site::Nat(Mapping::EndpointIndependent, Filtering::EndpointIndependent),
    Site::Nat(Mapping::EndpointIndependent, Filtering::AddressDependent),
    Site::Nat(
        Mapping::EndpointIndependent,
        Filtering::AddressAndPortDependent,
    ),
    Site::Nat(
        Mapping::AddressAndPortDependent,
        Filtering::AddressAndPortDependent,
    ),
];

const RTT: Duration = Duration::from_millis(50);
const SEEDS: u64 = 100;

/// Whether a direct path can exist (no relay): a side that maps per destination gives the
/// other side a port it never sent to, so the other side's NAT must not filter by port, and
/// two such sides never agree on a symmetric pair.
fn direct_possible(a: Site, b: Site) -> bool {
    let apdm = |s| matches!(s, Site::Nat(Mapping::AddressAndPortDependent, _));
    let port_filter = |s| matches!(s, Site::Nat(_, Filtering::AddressAndPortDependent));
    !(apdm(a) && (apdm(b) || port_filter(b)) || apdm(b) && port_filter(a))
}

fn kind(k: CandidateKind) -> &'static str {
    k.as_sdp()
}

#[test]
fn nat_matrix() {
    let mut table = String::new();
    table.push_str("| A \\ B | ");
    table.push_str(
        &SITES
            .iter()
            .map(|s| s.label())
            .collect::<Vec<_>>()
            .join(" | "),
    );
    table.push_str(" |\n|---|");
    table.push_str(&"---|".repeat(SITES.len()));
    table.push('\n');
    for a in SITES {
        table.push_str(&format!("| **{}** |", a.label()));
        for b in SITES {
            let direct = direct_possible(a, b);
            let mut times = Vec::new();
            let mut pair = None;
            for seed in 0..SEEDS {
                let mut w = world(seed, a, b, RTT, turn_config);
                let ok = run_until_connected(&mut w.sim, w.a, w.b, Duration::from_secs(45));
                let cell = format!("{} x {} seed {seed}", a.label(), b.label());
                assert!(ok, "{cell} did not connect");
                times.push(w.sim.now() - w.start);
                let (l, r) = w.sim.endpoint::<Peer>(w.a).selected_kinds().unwrap();
                let relayed = l == CandidateKind::Relayed || r == CandidateKind::Relayed;
                assert_eq!(relayed, !direct, "{cell}: {l:?} -> {r:?}");
                match pair {
                    None => pair = Some((l, r)),
                    Some(p) => assert_eq!(p, (l, r), "{cell}: another pair type"),
                }
            }
            times.sort();
            let median = times[times.len() / 2];
            let (l, r) = pair.unwrap();
            let cell = format!(" {} → {}, {} ms |", kind(l), kind(r), median.as_millis());
            table.push_str(&cell);
        }
        table.push('\n');
    }
    let doc = format!("{HEADER}\n{table}\n{FOOTER}");
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/ice.md");
    if std::env::var_os("RTCWEB_BLESS").is_some() {
        std::fs::write(path, &doc).unwrap();
    } else {
        let on_disk = std::fs::read_to_string(path).unwrap_or_default();
        assert_eq!(
            on_disk, doc,
            "docs/ice.md is stale: run with RTCWEB_BLESS=1"
        );
    }
}

const HEADER: &str = "# ICE on simulated NATs\n\n\
Printed by `cargo test -p rtcweb-ice --test nat_matrix` (it fails when this file is stale;\n\
`RTCWEB_BLESS=1` rewrites it). Peer A (controlling, rows) and peer B (columns) each sit behind\n\
the NAT named (RFC 4787 mapping/filtering) or on a public address; rtcweb-turn-server (STUN\n\
and TURN over UDP, long-term credentials) is on the public side and both agents gather host,\n\
server-reflexive and relayed candidates; every access link has 12.5 ms one-way delay (50 ms\n\
round trip peer to peer) and both sides trickle. Each cell ran with 100 seeds, all connected\n\
with the same outcome: the candidate types of the pair A selected (local → remote) and the\n\
median virtual time from the start of gathering until both sides were connected.\n";

const FOOTER: &str = "A side that maps per destination (APDM) shows the other side a port it never\n\
sent to, so that side must not filter by port, and two APDM sides never agree on a\n\
symmetric pair: those combinations go through the relay, and only those (the test asserts\n\
both). `tests/scenarios.rs` adds relay-only policy, loss, restarts and ICE-lite.\n";
