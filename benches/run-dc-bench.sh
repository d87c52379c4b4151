#!/usr/bin/env bash
# The dc-bench protocol of issue 9, side by side: rtcweb (benches/src/bin/dc-bench.rs),
# node-datachannel (benches/peers/ndc-bench.mjs), pion v3 (benches/peers/pion) and aiortc
# (benches/peers/aiortc_bench.py), each as two PeerConnections in one process over UDP on
# 127.0.0.1, every one inside interop/isolated (loopback only). Modes run in turn for each
# implementation, `--rounds` times interleaved; the table shows the median of the rounds.
#
#   bash benches/run-dc-bench.sh [--rounds R] [--seconds S] [--pairs N] [--peers "rtcweb pion ..."]
#       [--modes "throughput smallmsg setup"] [--rtcweb-args "--dtls 1.2 ..."]
#
# Peers: rtcweb (each peer on its own one-thread runtime, DTLS 1.2 or 1.3 as negotiated: 1.3),
# rtcweb-shared (both on one two-thread runtime), rtcweb-dtls12 (DTLS 1.2 only),
# node-datachannel, pion, aiortc. Default: rtcweb node-datachannel pion aiortc.
#
# Needs interop/setup first (node-datachannel in interop/node_modules, aiortc in
# interop/.venv, golang-github-pion-webrtc.v3-dev). A missing peer is an error. Raw output
# goes to interop/work/dc-bench/raw.txt.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

rounds=1 seconds=10 pairs=20
peers="rtcweb node-datachannel pion aiortc"
modes="throughput smallmsg setup"
rtcweb_args=""
while [ $# -gt 0 ]; do
  case $1 in
    --rounds) rounds=$2; shift 2 ;;
    --seconds) seconds=$2; shift 2 ;;
    --pairs) pairs=$2; shift 2 ;;
    --peers) peers=$2; shift 2 ;;
    --modes) modes=$2; shift 2 ;;
    --rtcweb-args) rtcweb_args=$2; shift 2 ;;
    *) sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//'; exit 2 ;;
  esac
done

work=$root/interop/work/dc-bench
mkdir -p "$work"
raw=$work/raw.txt
: > "$raw"

command_for() {
  case $1 in
    rtcweb*) echo "$root/target/release/dc-bench" ;;
    node-datachannel) echo "node $root/benches/peers/ndc-bench.mjs" ;;
    pion) echo "$work/pion-bench" ;;
    aiortc) echo "$root/interop/.venv/bin/python $root/benches/peers/aiortc_bench.py" ;;
    *) echo "unknown peer $1" >&2; exit 2 ;;
  esac
}

# Build and check everything before entering the namespace (there is no network inside).
for p in $peers; do
  case $p in
    rtcweb*) cargo build --release --locked -p rtcweb-benches --bin dc-bench ;;
    node-datachannel)
      [ -d "$root/interop/node_modules/node-datachannel" ] ||
        { echo "dc-bench: node-datachannel missing (run interop/setup)" >&2; exit 1; } ;;
    pion) "$root/benches/peers/pion/build.sh" "$work/pion-bench" ;;
    aiortc)
      [ -x "$root/interop/.venv/bin/python" ] &&
        "$root/interop/.venv/bin/python" -c 'import aiortc' 2>/dev/null ||
        { echo "dc-bench: aiortc missing (run interop/setup)" >&2; exit 1; } ;;
    *) echo "dc-bench: unknown peer $p" >&2; exit 2 ;;
  esac
done

script=$work/inside.sh
{
  echo 'set -euo pipefail'
  for r in $(seq 1 "$rounds"); do
    for m in $modes; do
      for p in $peers; do
        extra=""
        case $p in
          rtcweb) extra=$rtcweb_args ;;
          rtcweb-shared) extra="--runtime shared $rtcweb_args" ;;
          rtcweb-dtls12) extra="--dtls 1.2 $rtcweb_args" ;;
        esac
        echo "echo \"== round $r $m $p\" >&2"
        echo "echo \"ROUND $r $p $m\"; $(command_for "$p") $m --seconds $seconds --pairs $pairs $extra"
      done
    done
  done
} > "$script"
"$root/interop/isolated" -- bash "$script" | tee "$raw" >/dev/null

# One row per peer: medians over the rounds.
python3 - "$raw" <<'EOF'
import re, statistics, sys
rows = {}
cur = None
for line in open(sys.argv[1]):
    line = line.strip()
    m = re.match(r"ROUND (\d+) (\S+) (\S+)", line)
    if m:
        cur = (m.group(2), m.group(3))
        continue
    if cur is None:
        continue
    peer, mode = cur
    r = rows.setdefault(peer, {})
    def add(key, value):
        r.setdefault(key, []).append(float(value))
    if m := re.match(r"THROUGHPUT \S+ ([\d.]+)", line):
        add("mbps", m.group(1))
    elif m := re.match(r"SMALLMSG \S+ ([\d.]+)", line):
        add("msgs", m.group(1))
    elif m := re.match(r"SETUP \S+ median_ms=([\d.]+) min_ms=([\d.]+)(?: max_ms=([\d.]+))?", line):
        add("setup_med", m.group(1)); add("setup_min", m.group(2))
        if m.group(3): add("setup_max", m.group(3))
    elif line.startswith("CPU "):
        kv = dict(re.findall(r"(\w+)=([\d.]+)", line))
        if mode == "throughput":
            add("tp_cores", kv.get("cores", "nan")); add("ns_byte", kv.get("ns_per_byte", "nan"))
        elif mode == "smallmsg":
            add("sm_cores", kv.get("cores", "nan")); add("ns_msg", kv.get("ns_per_message", "nan"))
def med(r, k, fmt):
    v = r.get(k)
    return fmt.format(statistics.median(v)) if v else "-"
print()
print("| peer | throughput Mbit/s | cores | CPU ns/byte | small msgs/s | cores | CPU ns/msg | setup median ms | min | max |")
print("|---|---|---|---|---|---|---|---|---|---|")
for peer, r in rows.items():
    print(f"| {peer} | {med(r,'mbps','{:.0f}')} | {med(r,'tp_cores','{:.2f}')} | {med(r,'ns_byte','{:.2f}')} "
          f"| {med(r,'msgs','{:.0f}')} | {med(r,'sm_cores','{:.2f}')} | {med(r,'ns_msg','{:.0f}')} "
          f"| {med(r,'setup_med','{:.2f}')} | {med(r,'setup_min','{:.2f}')} | {med(r,'setup_max','{:.2f}')} |")
EOF
