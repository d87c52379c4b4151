#!/usr/bin/env bash
# The TURN relay benchmark: our turn-server and coturn's turnserver side by side, inside a
# loopback-only namespace (coturn is a third-party peer). Extra arguments go to
# turn-relay-bench (--seconds, --rounds, --sizes, --allocations). Needs coturn.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
command -v turnserver >/dev/null || { echo "turn-relay.sh: coturn is missing (apt-get install -y coturn)"; exit 1; }
cargo build --release --locked -q -p rtcweb-turn-server-bin --bin turn-server -p rtcweb-benches --bin turn-relay-bench
mkdir -p interop/work/turn-relay-bench
"$root/interop/isolated" -- "$root/target/release/turn-relay-bench" \
  --ours "$root/target/release/turn-server" --work "$root/interop/work/turn-relay-bench" "$@"
