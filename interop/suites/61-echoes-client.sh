#!/usr/bin/env bash
# webrtc-echoes, our client: `echo-client --test 0` (DTLS connects) and `--test 1` (a random
# string comes back on a data channel) against servers written with aiortc, node-datachannel
# and pion v3, each pairing in its own loopback-only namespace; then with --relay-only and
# --ice-server through coturn (TURN over UDP and TCP) against the pion server.
set -euo pipefail
cd "$(dirname "$0")/../.."
source interop/echoes/lib.sh
cargo build --release --locked -p rtcweb-examples --bin echo-client
client="$PWD/target/release/echo-client --url http://127.0.0.1:8080/offer"
work=interop/work/61-echoes-client
mkdir -p "$work"

failed=()
for peer in aiortc node-datachannel pion; do
  echo "--- echo-client -> $peer"
  if ! need_peer "$peer"; then failed+=("$peer (missing)"); continue; fi
  if in_namespace "$work/$peer-server.log" "$(peer_cmd "$peer" server 8080)" \
      "$client --test 0" "$client --test 1"; then
    echo "echo-client -> $peer: passed"
  else
    echo "echo-client -> $peer: FAILED (server log: $work/$peer-server.log)"
    failed+=("$peer")
  fi
done
# --ice-server and --relay-only: the same tests through coturn (TURN over UDP and over TCP),
# relayed candidates only, against the pion server.
echo "--- echo-client --relay-only through coturn -> pion"
turn=turn:alice:wonderland@127.0.0.1:3478
if ! command -v turnserver >/dev/null; then
  echo "echoes: coturn (turnserver) is missing (run interop/setup)" >&2; failed+=("coturn (missing)")
elif ! need_peer pion; then
  failed+=("pion (missing)")
elif in_namespace "$work/relay-pion-server.log" \
    "$PWD/interop/echoes/with-coturn.sh $PWD/$work $(peer_cmd pion server 8080)" \
    "$client --test 0 --relay-only --ice-server $turn" \
    "$client --test 1 --relay-only --ice-server $turn" \
    "$client --test 1 --relay-only --ice-server $turn?transport=tcp"; then
  echo "echo-client --relay-only through coturn -> pion: passed"
else
  echo "echo-client --relay-only through coturn -> pion: FAILED (coturn log: $work/coturn.log)"
  failed+=("relay via coturn")
fi

if [ ${#failed[@]} -gt 0 ]; then
  echo "61-echoes-client: FAILED: ${failed[*]}" >&2
  exit 1
fi
echo "61-echoes-client: echo-client passes tests 0 and 1 against aiortc, node-datachannel and" \
  "pion, and relayed through coturn (UDP, TCP) with --relay-only"
