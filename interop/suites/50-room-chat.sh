#!/usr/bin/env bash
# room-server and three `chat` peers (alice, bob, carol) in one loopback-only namespace: each
# joins the room, connects to the others over WebRTC (full mesh, perfect negotiation over the
# WebSocket room), sends one line to everyone and must receive exactly the two others' lines
# before it exits 0. Prints each peer's connection times and selected candidate pairs.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
cargo build --release --locked -q -p rtcweb-examples --bin room-server --bin chat
export R="$root/target/release/room-server" C="$root/target/release/chat"
export W="$root/interop/work/50-room-chat"
rm -rf "$W"; mkdir -p "$W"

names="alice bob carol"
code=0
NAMES=$names "$root/interop/isolated" -- bash -c '
  "$R" --listen 127.0.0.1:8090 > "$W/room-server.log" 2>&1 & srv=$!
  for _ in $(seq 100); do (echo >/dev/tcp/127.0.0.1/8090) 2>/dev/null && break; sleep 0.1; done
  pids=()
  start=$(date +%s%N)
  for n in $NAMES; do
    timeout 60 "$C" --room ws://127.0.0.1:8090/suite --name "$n" --send "hello from $n" \
      --expect 2 --timeout 45 > "$W/$n.out" 2> "$W/$n.err" & pids+=($!)
    sleep 0.2
  done
  failed=0
  for p in "${pids[@]}"; do wait "$p" || failed=$((failed + 1)); done
  echo "all peers done after $(( ($(date +%s%N) - start) / 1000000 )) ms"
  kill $srv 2>/dev/null; wait $srv 2>/dev/null || true
  exit $failed
' || code=$?

fails=0
for n in $names; do
  want=$(for o in $names; do [ "$o" = "$n" ] || echo "$o: hello from $o"; done | sort)
  got=$(sort "$W/$n.out" 2>/dev/null || true)
  sed 's/^/  /' "$W/$n.err" | grep -E 'joined|connected to|received|timeout|error|negotiation with' || true
  if [ "$got" = "$want" ]; then
    echo "PASS $n received: $(echo "$got" | tr '\n' ';')"
  else
    echo "FAIL $n received: $(echo "$got" | tr '\n' ';') wanted: $(echo "$want" | tr '\n' ';')"
    fails=$((fails + 1))
  fi
done
[ "$code" -eq 0 ] || { echo "50-room-chat: $code peer(s) exited non-zero"; fails=$((fails + 1)); }
echo "50-room-chat: $(( 3 - fails < 0 ? 0 : 3 - fails )) passed, $fails failed"
[ "$fails" -eq 0 ]
