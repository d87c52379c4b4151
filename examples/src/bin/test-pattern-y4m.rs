//! `test-pattern-y4m --out FILE [--frames N]`: writes media-peer's moving test pattern
//! (640x480, 30 frames per second) as a YUV4MPEG2 file, which Chromium plays as its fake
//! camera (`--use-file-for-fake-video-capture=FILE`, looping). Suite 71-bwe-chromium gives
//! Chromium the same content that `media-peer --send-test-pattern` encodes, so both senders'
//! encoders have the same work to fill their target with.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;

/// Writes the test pattern as a Y4M file.
#[derive(Debug, Parser)]
#[command(name = "test-pattern-y4m")]
struct Args {
    /// The file to write.
    #[arg(long, value_name = "FILE")]
    out: PathBuf,
    /// How many frames (the player loops them).
    #[arg(long, default_value_t = 150)]
    frames: usize,
}

fn main() -> ExitCode {
    let args = Args::parse();
    let written = std::fs::File::create(&args.out)
        .map_err(|e| e.to_string())
        .and_then(|f| {
            rtcweb_testvideo::write_y4m(&mut std::io::BufWriter::new(f), 640, 480, 30, args.frames)
                .map_err(|e| e.to_string())
        });
    match written {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("test-pattern-y4m: {}: {e}", args.out.display());
            ExitCode::FAILURE
        }
    }
}
