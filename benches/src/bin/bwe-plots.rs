//! `bwe-plots --csv DIR --out DIR`: charts of the bandwidth-estimation scenarios for
//! docs/bwe.md, from the time series `rtcweb-bwe`'s scenario tests write
//! (`BWE_SIM_CSV=DIR cargo test -p rtcweb-bwe --test scenarios`; `benches/bwe-plots.sh`
//! runs both steps).
//!
//! One PNG per scenario: the bottleneck's capacity, each flow's target and received rate
//! over time above, the queueing delay the packets met below.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Parser;
use plotters::prelude::*;
use plotters::style::{FontStyle, register_font};

#[derive(Parser)]
#[command(about = "Charts of the bandwidth-estimation scenarios (CSV in, PNG out)")]
struct Args {
    /// Directory of the scenario CSV files.
    #[arg(long)]
    csv: PathBuf,
    /// Directory to write the PNG files to.
    #[arg(long)]
    out: PathBuf,
    /// A TrueType font for the labels.
    #[arg(
        long,
        default_value = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
    )]
    font: PathBuf,
    /// Only these scenarios (comma-separated names); all when empty.
    #[arg(long, value_delimiter = ',')]
    only: Vec<String>,
}

/// One row of a scenario's CSV.
struct Row {
    t: f64,
    capacity: f64,
    flow: usize,
    target: f64,
    received: f64,
    queue_ms: f64,
}

fn read(path: &Path) -> Result<Vec<Row>, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().ok_or("empty file")?.split(',').collect();
    let col = |name: &str| {
        header
            .iter()
            .position(|h| *h == name)
            .ok_or_else(|| format!("{}: no column {name}", path.display()))
    };
    let (t, cap, flow, target, received, queue) = (
        col("t_s")?,
        col("capacity_bps")?,
        col("flow")?,
        col("target_bps")?,
        col("received_bps")?,
        col("queue_ms")?,
    );
    lines
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            let num = |i: usize| -> Result<f64, String> {
                f.get(i)
                    .and_then(|v| v.parse().ok())
                    .ok_or_else(|| format!("{}: bad row {l:?}", path.display()))
            };
            Ok(Row {
                t: num(t)?,
                capacity: num(cap)?,
                flow: num(flow)? as usize,
                target: num(target)?,
                received: num(received)?,
                queue_ms: num(queue)?,
            })
        })
        .collect()
}

fn plot(rows: &[Row], name: &str, out: &Path) -> Result<(), Box<dyn std::error::Error>> {
    let t_max = rows.iter().map(|r| r.t).fold(1.0, f64::max);
    let rate_max = rows
        .iter()
        .map(|r| r.capacity.max(r.target).max(r.received))
        .fold(1.0, f64::max)
        / 1e3
        * 1.1;
    let queue_max = rows.iter().map(|r| r.queue_ms).fold(10.0, f64::max) * 1.1;
    let mut flows: BTreeMap<usize, Vec<&Row>> = BTreeMap::new();
    for r in rows {
        flows.entry(r.flow).or_default().push(r);
    }
    let root = BitMapBackend::new(out, (900, 560)).into_drawing_area();
    root.fill(&WHITE)?;
    let (top, bottom) = root.split_vertically(370);

    let mut rates = ChartBuilder::on(&top)
        .caption(format!("{name}: rates"), ("sans-serif", 22))
        .margin(10)
        .x_label_area_size(30)
        .y_label_area_size(60)
        .build_cartesian_2d(0.0..t_max, 0.0..rate_max)?;
    rates
        .configure_mesh()
        .x_desc("time (s)")
        .y_desc("kbit/s")
        .draw()?;
    let capacity: Vec<(f64, f64)> = flows
        .values()
        .next()
        .map(|f| f.iter().map(|r| (r.t, r.capacity / 1e3)).collect())
        .unwrap_or_default();
    rates
        .draw_series(LineSeries::new(capacity, BLACK.stroke_width(2)))?
        .label("capacity")
        .legend(|(x, y)| PathElement::new([(x, y), (x + 20, y)], BLACK.stroke_width(2)));
    let colours = [BLUE, RED, GREEN, MAGENTA];
    for (i, (flow, series)) in flows.iter().enumerate() {
        let c = colours[i % colours.len()];
        rates
            .draw_series(LineSeries::new(
                series.iter().map(|r| (r.t, r.target / 1e3)),
                c.stroke_width(2),
            ))?
            .label(format!("flow {flow} target"))
            .legend(move |(x, y)| PathElement::new([(x, y), (x + 20, y)], c.stroke_width(2)));
        let faded = c.mix(0.45);
        rates
            .draw_series(LineSeries::new(
                series.iter().map(|r| (r.t, r.received / 1e3)),
                faded.stroke_width(1),
            ))?
            .label(format!("flow {flow} received"))
            .legend(move |(x, y)| PathElement::new([(x, y), (x + 20, y)], faded));
    }
    rates
        .configure_series_labels()
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .position(SeriesLabelPosition::LowerRight)
        .draw()?;

    let mut queue = ChartBuilder::on(&bottom)
        .caption("queueing delay of received packets", ("sans-serif", 18))
        .margin(10)
        .x_label_area_size(30)
        .y_label_area_size(60)
        .build_cartesian_2d(0.0..t_max, 0.0..queue_max)?;
    queue
        .configure_mesh()
        .x_desc("time (s)")
        .y_desc("ms")
        .draw()?;
    for (i, series) in flows.values().enumerate() {
        let c = colours[i % colours.len()];
        queue.draw_series(LineSeries::new(
            series.iter().map(|r| (r.t, r.queue_ms)),
            c.stroke_width(1),
        ))?;
    }
    root.present()?;
    Ok(())
}

fn main() -> ExitCode {
    let args = Args::parse();
    let font = match std::fs::read(&args.font) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("bwe-plots: {}: {e}", args.font.display());
            return ExitCode::FAILURE;
        }
    };
    // The font lives for the whole program.
    if register_font(
        "sans-serif",
        FontStyle::Normal,
        Box::leak(font.into_boxed_slice()),
    )
    .is_err()
    {
        eprintln!("bwe-plots: {} is not a usable font", args.font.display());
        return ExitCode::FAILURE;
    }
    let mut files: Vec<PathBuf> = match std::fs::read_dir(&args.csv) {
        Ok(d) => d
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "csv"))
            .collect(),
        Err(e) => {
            eprintln!("bwe-plots: {}: {e}", args.csv.display());
            return ExitCode::FAILURE;
        }
    };
    files.sort();
    if files.is_empty() {
        eprintln!("bwe-plots: no CSV files in {}", args.csv.display());
        return ExitCode::FAILURE;
    }
    if let Err(e) = std::fs::create_dir_all(&args.out) {
        eprintln!("bwe-plots: {}: {e}", args.out.display());
        return ExitCode::FAILURE;
    }
    for f in files {
        let name = f
            .file_stem()
            .map_or_else(String::new, |s| s.to_string_lossy().into_owned());
        if !args.only.is_empty() && !args.only.contains(&name) {
            continue;
        }
        let rows = match read(&f) {
            Ok(r) if !r.is_empty() => r,
            Ok(_) => continue,
            Err(e) => {
                eprintln!("bwe-plots: {e}");
                return ExitCode::FAILURE;
            }
        };
        let out = args.out.join(format!("{name}.png"));
        if let Err(e) = plot(&rows, &name, &out) {
            eprintln!("bwe-plots: {name}: {e}");
            return ExitCode::FAILURE;
        }
        println!("{}", out.display());
    }
    ExitCode::SUCCESS
}
