//! Benchmarks of rtcweb (see `benches/`), each run side by side with the implementation it is
//! measured against. Results and the commands that reproduce them are in docs/performance.md.
