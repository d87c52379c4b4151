#!/usr/bin/env bash
# Chromium on room-server's page (interop/room-chat/chromium_room.mjs, playwright-core with
# /usr/bin/chromium, fake camera and microphone) and a Rust `chat` peer in one room, inside a
# loopback-only namespace, in both orders:
#   rust-first:     chat calls Chromium (our offer with the data channel); Chromium, the
#                   newcomer, answers and then renegotiates to add its camera (its offer,
#                   our answer keeping the DTLS roles);
#   chromium-first: Chromium calls chat (its offer carries audio, video and the data channel).
# Both must exchange one chat line over the data channel, Chromium's camera must reach chat
# (>= 100 video packets sent by Chromium and RTP decrypted by chat), and chat must exit 0.
# What the SCTP association negotiated with Chromium (RFC 9653 zero checksum, RFC 8260
# interleaving) is reported, not required: libwebrtc does not offer zero checksum (its
# DcSctpTransport leaves dcSCTP's default, none) and offers interleaving only under the field
# trial WebRTC-DataChannelMessageInterleaving.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
command -v chromium >/dev/null || { echo "52-room-chat-chromium: chromium is missing (interop/setup installs it)"; exit 1; }
command -v node >/dev/null || { echo "52-room-chat-chromium: node is missing"; exit 1; }
[ -d interop/node_modules/playwright-core ] || { echo "52-room-chat-chromium: playwright-core is missing (run interop/setup)"; exit 1; }
echo "chromium: $(chromium --version 2>/dev/null | grep -o '[0-9][0-9.]*' | head -1)"
cargo build --release --locked -q -p rtcweb-examples --bin room-server --bin chat
export R="$root/target/release/room-server" C="$root/target/release/chat"
export B="$root/interop/room-chat/chromium_room.mjs"
export W="$root/interop/work/52-room-chat-chromium"
rm -rf "$W"; mkdir -p "$W"

fails=0; passes=0
for order in rust-first chromium-first; do
  code=0
  ORDER=$order "$root/interop/isolated" -- bash -c '
    "$R" --listen 127.0.0.1:8092 > "$W/$ORDER-room-server.log" 2>&1 & srv=$!
    for _ in $(seq 100); do (echo >/dev/tcp/127.0.0.1/8092) 2>/dev/null && break; sleep 0.1; done
    rust() {
      timeout 75 "$C" --room ws://127.0.0.1:8092/$ORDER --name rust --send "hello from rust" \
        --expect 1 --timeout 60 > "$W/$ORDER-chat.out" 2> "$W/$ORDER-chat.err"
    }
    browser() {
      timeout 75 node "$B" "http://127.0.0.1:8092/$ORDER?name=chromium" "rust: hello from rust" \
        "hello from chromium" > "$W/$ORDER-chromium.log" 2>&1
    }
    failed=0
    if [ "$ORDER" = rust-first ]; then
      rust & first=$!; sleep 0.5; browser & second=$!
    else
      browser & first=$!; sleep 3; rust & second=$!
    fi
    wait $first || failed=$((failed + 1))
    wait $second || failed=$((failed + 1))
    kill $srv 2>/dev/null; wait $srv 2>/dev/null || true
    exit $failed
  ' || code=$?
  grep -v '^page ' "$W/$order-chromium.log" | sed 's/^/  /' || true
  sed 's/^/  /' "$W/$order-chat.err" | grep -E 'connected|media from|received|timeout|error|negotiation with|sctp with' || true
  if [ $code -eq 0 ] && grep -qx 'chromium: hello from chromium' "$W/$order-chat.out" \
      && grep -q 'chromium room: PASSED' "$W/$order-chromium.log"; then
    echo "PASS $order: chat and Chromium exchanged lines"; passes=$((passes + 1))
  else
    echo "FAIL $order: exit $code"; grep '^page ' "$W/$order-chromium.log" | tail -15 | sed 's/^/    /' || true
    fails=$((fails + 1))
  fi
  grep -o 'sctp with chromium: .*' "$W/$order-chat.err" | head -1 | sed "s/^/INFO $order: /" || true
  if grep -q 'media from chromium: [1-9]' "$W/$order-chat.err"; then
    echo "PASS $order: Chromium's camera reached chat ($(grep -o 'media from chromium: [0-9]* RTP packets' "$W/$order-chat.err" | tail -1))"
    passes=$((passes + 1))
  else
    echo "FAIL $order: chat received no RTP from Chromium"; fails=$((fails + 1))
  fi
done
echo "52-room-chat-chromium: $passes passed, $fails failed"
[ "$fails" -eq 0 ]
