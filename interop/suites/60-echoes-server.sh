#!/usr/bin/env bash
# webrtc-echoes, our server: `echo-server` answers clients written with aiortc, werift,
# node-datachannel, pion v3 and Chromium (playwright-core, /usr/bin/chromium), each pairing in
# its own loopback-only namespace. Test 0: DTLS connects; test 1: a random string comes back
# on a data channel. Chromium also sends its fake camera and microphone, which echo-server
# sends back: its inbound-rtp stats must show decoded video frames and audio samples.
set -euo pipefail
cd "$(dirname "$0")/../.."
source interop/echoes/lib.sh
cargo build --release --locked -p rtcweb-examples --bin echo-server
server="$PWD/target/release/echo-server --listen 127.0.0.1:8080"
url=http://127.0.0.1:8080/offer
work=interop/work/60-echoes-server
mkdir -p "$work"

failed=()
for peer in aiortc werift node-datachannel pion chromium; do
  echo "--- echo-server <- $peer"
  if ! need_peer "$peer"; then failed+=("$peer (missing)"); continue; fi
  if [ "$peer" = chromium ]; then
    clients=("$(peer_cmd chromium client "$url")")
  else
    clients=("$(peer_cmd "$peer" client "$url" 0)" "$(peer_cmd "$peer" client "$url" 1)")
  fi
  if RUST_LOG=${RUST_LOG:-info} in_namespace "$work/$peer-server.log" "$server" "${clients[@]}"; then
    echo "echo-server <- $peer: passed"
  else
    echo "echo-server <- $peer: FAILED (server log: $work/$peer-server.log)"
    failed+=("$peer")
  fi
done
if [ ${#failed[@]} -gt 0 ]; then
  echo "60-echoes-server: FAILED: ${failed[*]}" >&2
  exit 1
fi
echo "60-echoes-server: aiortc, werift, node-datachannel and pion pass tests 0 and 1;" \
  "Chromium passes DTLS, data channel echo and decodes its echoed camera and microphone"
