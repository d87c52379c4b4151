//! `soak [--pairs N] [--minutes M] [--seed S]`: the virtual-hour soak of issue 20.
//!
//! `--pairs` pairs of PeerConnections (default 50, so 100 connections) with a data channel
//! of every reliability mode and video both ways, on rtcweb-netsim through NATs that rebind,
//! bursty loss, outages and a TURN server that restarts, for `--minutes` of virtual time
//! (default 60, in five-minute cycles): see `rtcweb_benches::soak` for the schedule and what
//! is asserted. Prints a summary table and the wall-clock time; exits 1 on any violation.

use std::alloc::System;
use std::process::ExitCode;
use std::time::Instant;

use clap::Parser;
use rtcweb_benches::soak::{SoakConfig, run};
use stats_alloc::{INSTRUMENTED_SYSTEM, StatsAlloc};

#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

/// Live heap bytes: everything allocated and not yet freed.
fn heap_bytes() -> i64 {
    let s = GLOBAL.stats();
    // stats_alloc counts a reallocation's growth in bytes_allocated and its shrinking in
    // bytes_deallocated (bytes_reallocated is the same net change again).
    s.bytes_allocated as i64 - s.bytes_deallocated as i64
}

#[derive(Parser)]
#[command(about = "PeerConnection pairs soaked on virtual time (issue 20)")]
struct Args {
    /// Pairs of PeerConnections.
    #[arg(long, default_value_t = 50)]
    pairs: usize,
    /// Virtual minutes (whole five-minute cycles).
    #[arg(long, default_value_t = 60)]
    minutes: u64,
    /// Seed of the network and the schedule.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Print what one pair's connections do (state changes, ICE restarts, selected pairs).
    #[arg(long)]
    trace_pair: Option<usize>,
}

fn main() -> ExitCode {
    let args = Args::parse();
    let config = SoakConfig {
        pairs: args.pairs.max(1),
        minutes: args.minutes,
        seed: args.seed,
        heap_bytes: Some(heap_bytes),
        progress: true,
        trace_pair: args.trace_pair,
    };
    eprintln!(
        "minute connected failed other missing  heap/PC (B) PC mean (B)  PC max (B) idle wk/s max wk/s turn alloc"
    );
    let wall = Instant::now();
    let report = run(&config);
    let elapsed = wall.elapsed();
    print!("{report}");
    println!(
        "wall clock: {:.1} s for {} virtual minutes ({:.0}x real time)",
        elapsed.as_secs_f64(),
        report.virtual_time.as_secs() / 60,
        report.virtual_time.as_secs_f64() / elapsed.as_secs_f64().max(1e-9)
    );
    if report.passed() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
