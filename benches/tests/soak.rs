//! The short soak (issue 20): one pair of each kind for two five-minute cycles of virtual
//! time, with every assertion of the full hour (`cargo run --release -p rtcweb-benches --bin
//! soak`). The only test in this binary: the heap is counted for the whole process.

use std::alloc::System;

use rtcweb_benches::soak::{Disturbance, SoakConfig, run};
use stats_alloc::{INSTRUMENTED_SYSTEM, StatsAlloc};

#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

fn heap_bytes() -> i64 {
    let s = GLOBAL.stats();
    // stats_alloc counts a reallocation's growth in bytes_allocated and its shrinking in
    // bytes_deallocated (bytes_reallocated is the same net change again).
    s.bytes_allocated as i64 - s.bytes_deallocated as i64
}

#[test]
fn ten_virtual_minutes_of_five_pairs_lose_nothing_and_never_hang() {
    let report = run(&SoakConfig {
        pairs: 5,
        minutes: 10,
        seed: 7,
        heap_bytes: Some(heap_bytes),
        progress: false,
        trace_pair: None,
    });
    println!("{report}");
    assert!(report.passed(), "{report}");
    // The run did what it says: traffic of every kind, every disturbance.
    assert!(report.modes.iter().all(|m| m.delivered > 0));
    assert!(report.frames_delivered > 0);
    assert!(report.rebinds > 0 && report.outages > 0 && report.turn_restarts == 2);
    // The calm windows watched messages of every mode (none lost, or `passed` is false).
    assert!(report.calm_watched.iter().all(|n| *n > 0), "{report}");
    // Every kind of disturbance was recovered from and timed (each within its bound, or
    // `passed` would be false).
    for kind in Disturbance::ALL {
        assert!(
            !report.recoveries[kind.index()].is_empty(),
            "no {} recovery timed",
            kind.label()
        );
    }
}
