#!/usr/bin/env bash
# The bandwidth-estimation scenarios of rtcweb-bwe (tests/scenarios.rs) with their time series
# written as CSV, then charted for docs/bwe.md (docs/img/bwe/<scenario>.png). Prints the
# scenarios' FIGURE lines, which docs/bwe.md quotes.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
csv=$(mktemp -d)
trap 'rm -rf "$csv"' EXIT
BWE_SIM_CSV="$csv" cargo test --release --locked -q -p rtcweb-bwe --test scenarios -- --nocapture --test-threads 1 \
  | grep -E '^FIGURE' | tee "$csv/figures.txt" || { echo "bwe-plots.sh: the scenarios printed no figures"; exit 1; }
echo "commit $(git rev-parse --short HEAD)$(git diff --quiet || echo ' (uncommitted changes)')"
rm -rf docs/img/bwe
cargo run --release --locked -q -p rtcweb-benches --bin bwe-plots -- --csv "$csv" --out docs/img/bwe \
  --only startup,steady,step-down,step-up,loss-2,loss-10,two-flows,app-limited-probing
