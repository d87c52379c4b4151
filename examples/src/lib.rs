//! Example programs of rtcweb; each binary in `src/bin` is one example. They do real I/O
//! (sockets, clocks) around the sans-IO protocol crates.
