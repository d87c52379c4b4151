#!/usr/bin/env bash
# Every headline figure of README.md and docs/performance.md from ONE run of the current
# build, each beside its anchor measured in the same run (issue 20: figures from one build).
#
#   bash benches/headline.sh [--quick]
#
# Runs, in order: the STUN codec bench (webrtc-rs `stun` as anchor), the SRTP bench (webrtc-rs
# `webrtc-srtp`; libsrtp2 in interop/libsrtp/bench), the SCTP bench (rtc-sctp alone as
# anchor), the bandwidth estimator bench, dc-bench against node-datachannel, the TURN relay
# against coturn, and pc-scale. Everything runs in release builds of this checkout; the
# third-party peers inside interop/isolated. Needs root and `bash interop/setup`.
# Writes the raw output and a summary to interop/work/headline/ and prints the summary,
# headed by the commit, the date and the load average before and after: quote it as one run.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
quick=""
[ "${1:-}" = "--quick" ] && quick=1
out="$root/interop/work/headline"
rm -rf "$out"; mkdir -p "$out"
commit=$(git rev-parse --short HEAD)
dirty=$(git diff --quiet && echo "" || echo " (with uncommitted changes)")
{
  echo "commit $commit$dirty, $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores"
  echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"
} > "$out/summary.txt"

# Criterion benches print "name time: [low median high]"; keep the medians.
criterion() {
  local bench=$1; shift
  echo "=== cargo bench --bench $bench $*" | tee -a "$out/raw.txt"
  # No plots: they are not quoted, and criterion's plotters backend can panic on a sample.
  # A bench that fails stops the run (its figures would silently be missing otherwise).
  if ! cargo bench --locked -q -p rtcweb-benches --bench "$bench" -- --noplot "$@" \
      > "$out/$bench.txt" 2>&1; then
    cat "$out/$bench.txt"; echo "headline: cargo bench --bench $bench failed"; exit 1
  fi
  grep -E "time:|thrpt:|^[a-z0-9_/ -]+$" "$out/$bench.txt" >> "$out/raw.txt" || true
  summarize "$out/$bench.txt" >> "$out/summary.txt"
}

# "name: median unit" for each result of a criterion output. The name is the whole line
# before "time:" (names have spaces), or the start of the "time:" line when it fits there;
# criterion's progress lines ("Benchmarking ...", "Found ... outliers") are not names.
summarize() {
  awk '/^Benchmarking |^Found |^Gnuplot |^Warning/ { next }
       /^ *time: +\[/ { v = $0; sub(/.*time: +\[/, "", v); split(v, a, " ");
                        print "  " name ": " a[3] " " a[4]; next }
       /time: +\[/ { n = $0; sub(/ +time: +\[.*/, "", n); v = $0; sub(/.*time: +\[/, "", v);
                      split(v, a, " "); print "  " n ": " a[3] " " a[4]; next }
       /^[^ ]/ { name = $0 }' "$1"
}

mt=5; [ -n "$quick" ] && mt=2
echo "STUN (ns per message; anchor: webrtc-rs stun):" >> "$out/summary.txt"
criterion stun --measurement-time "$mt"
echo "SRTP (ns per packet; anchor: webrtc-srtp):" >> "$out/summary.txt"
criterion srtp --measurement-time "$mt"
echo "SCTP (anchor: rtc-sctp on its own):" >> "$out/summary.txt"
criterion sctp --measurement-time "$mt"
echo "Bandwidth estimation (CPU per sent packet):" >> "$out/summary.txt"
criterion bwe --measurement-time "$mt"

rounds=3 seconds=10; [ -n "$quick" ] && rounds=1 seconds=4
echo "=== dc-bench" | tee -a "$out/raw.txt"
bash benches/run-dc-bench.sh --rounds "$rounds" --seconds "$seconds" \
  --peers "rtcweb node-datachannel" 2>&1 | tee "$out/dc-bench.txt" >> "$out/raw.txt"
{ echo "Data channels (dc-bench, median of $rounds rounds; anchor: node-datachannel):"
  grep -E '^\|' "$out/dc-bench.txt" | sed 's/^/  /'; } >> "$out/summary.txt"

echo "=== turn relay" | tee -a "$out/raw.txt"
bash benches/turn-relay.sh --seconds "$seconds" --rounds "$rounds" --rate 0 2>&1 \
  | tee "$out/turn-relay.txt" >> "$out/raw.txt"
{ echo "TURN relay, flooded (packets relayed per CPU-second; anchor: coturn):"
  sed -n '/^median packets relayed/,$p' "$out/turn-relay.txt" | sed 's/^/  /'; } >> "$out/summary.txt"

pcs=10000 idle=60; [ -n "$quick" ] && pcs=2000 idle=10
echo "=== pc-scale" | tee -a "$out/raw.txt"
cargo build --release --locked -q -p rtcweb-benches --bin pc-scale
"$root/interop/isolated" -- sh -c "ulimit -n 65536; '$root/target/release/pc-scale' --pcs $pcs --idle-seconds $idle" 2>&1 \
  | tee "$out/pc-scale.txt" >> "$out/raw.txt"
{ echo "Scale (pc-scale --pcs $pcs --idle-seconds $idle):"
  grep -E "^(CONNECTED|MEMORY|IDLE|POLL|OK)" "$out/pc-scale.txt" | sed 's/^/  /'; } >> "$out/summary.txt"

echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)" >> "$out/summary.txt"
echo
cat "$out/summary.txt"
