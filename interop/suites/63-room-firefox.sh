#!/usr/bin/env bash
# A three-way mesh on room-server's page: Firefox ESR (interop/firefox/firefox_room.mjs,
# headless, driven without WebDriver), Chromium (interop/room-chat/chromium_room.mjs,
# playwright-core with /usr/bin/chromium) and a Rust `chat` peer in one room, inside a
# namespace with a veth pair (interop/isolated --veth: Firefox gathers no candidates on
# loopback alone). chat joins first, then Chromium, then Firefox; each connects to both
# others (perfect negotiation over the room's WebSocket). Checked:
#   - every member receives the two others' chat lines over the data channels;
#   - both browsers' cameras go out (>= 100 video packets sent each) and chat decrypts
#     >= 64 RTP packets from each of them;
#   - the DTLS version chat negotiated with each browser (chat's "connected to" lines) is
#     DTLS 1.3, what both browsers offer by default.
# A browser that cannot start fails the suite like any other failure.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
name=63-room-firefox
command -v firefox-esr >/dev/null || { echo "$name: firefox-esr is missing (interop/setup installs it)"; exit 1; }
command -v chromium >/dev/null || { echo "$name: chromium is missing (interop/setup installs it)"; exit 1; }
command -v node >/dev/null || { echo "$name: node is missing"; exit 1; }
[ -d interop/node_modules/playwright-core ] || { echo "$name: playwright-core is missing (run interop/setup)"; exit 1; }
version=$(firefox-esr --version 2>/dev/null) || { echo "$name: firefox-esr does not run"; exit 1; }
echo "firefox: $version"
echo "chromium: $(chromium --version 2>/dev/null | grep -o '[0-9][0-9.]*' | head -1)"
cargo build --release --locked -q -p rtcweb-examples --bin room-server --bin chat
bin="${CARGO_TARGET_DIR:-$root/target}/release"
export R="$bin/room-server" C="$bin/chat"
export CR="$root/interop/room-chat/chromium_room.mjs" FR="$root/interop/firefox/firefox_room.mjs"
export W="$root/interop/work/$name"
rm -rf "$W"; mkdir -p "$W"

code=0
"$root/interop/isolated" --veth -- bash -c '
  "$R" --listen 127.0.0.1:8093 > "$W/room-server.log" 2>&1 & srv=$!
  for _ in $(seq 100); do (echo >/dev/tcp/127.0.0.1/8093) 2>/dev/null && break; sleep 0.1; done
  timeout 90 "$C" --room ws://127.0.0.1:8093/mesh --name rust --send "hello from rust" \
    --expect 2 --timeout 80 > "$W/chat.out" 2> "$W/chat.err" & rust=$!
  sleep 0.5
  timeout 75 node "$CR" "http://127.0.0.1:8093/mesh?name=chromium" "rust: hello from rust" \
    "hello from chromium" "firefox: hello from firefox" > "$W/chromium.log" 2>&1 & chr=$!
  sleep 3
  timeout 85 node "$FR" "http://127.0.0.1:8093/mesh?name=firefox" "$W" "hello from firefox" \
    "rust: hello from rust" "chromium: hello from chromium" > "$W/firefox.log" 2>&1 & ff=$!
  failed=0
  wait $rust || { echo "chat failed"; failed=$((failed + 1)); }
  wait $chr || { echo "chromium_room failed"; failed=$((failed + 1)); }
  wait $ff || { echo "firefox_room failed"; failed=$((failed + 1)); }
  kill $srv 2>/dev/null; wait $srv 2>/dev/null || true
  exit $failed
' || code=$?

grep -v '^page ' "$W/chromium.log" | sed 's/^/  [chromium] /' || true
sed 's/^/  [firefox] /' "$W/firefox.log"
grep -E '^chat: ' "$W/chat.err" | sed 's/^/  [chat] /' || true

fails=0; passes=0
pass() { echo "PASS $*"; passes=$((passes + 1)); }
fail() { echo "FAIL $*"; fails=$((fails + 1)); }
if [ $code -eq 0 ]; then pass "all three members exited 0"; else fail "$code member(s) failed (logs in $W)"; fi
for who in chromium firefox; do
  if grep -qx "$who: hello from $who" "$W/chat.out"; then
    pass "chat received $who's line"
  else
    fail "chat did not receive $who's line"
  fi
  # chat reports 1, 64, 128, 256... packets from each member.
  rtp=$(grep -o "media from $who: [0-9]* RTP packets" "$W/chat.err" | tail -1 | grep -o '[0-9][0-9]*' || true)
  if [ "${rtp:-0}" -ge 64 ]; then
    pass "$who's camera reached chat (>= $rtp RTP packets decrypted)"
  else
    fail "chat decrypted ${rtp:-no} RTP packets from $who (64 wanted)"
  fi
  version=$(grep -o "connected to $who in [0-9]* ms via [a-z]* -> [a-z]* (DTLS 1\.[23])" "$W/chat.err" \
    | grep -o 'DTLS 1\.[23]' | head -1 || true)
  if [ "$version" = "DTLS 1.3" ]; then
    pass "chat <-> $who: $version"
  else
    fail "chat <-> $who: ${version:-no DTLS connection}"
  fi
done
grep -q 'chromium room: PASSED' "$W/chromium.log" && pass "Chromium received rust's and firefox's lines, its camera went out" \
  || fail "Chromium's checks (see $W/chromium.log)"
grep -q 'firefox room: PASSED' "$W/firefox.log" && pass "Firefox received rust's and chromium's lines, its camera went out" \
  || fail "Firefox's checks (see $W/firefox.log)"
echo "$name: $passes passed, $fails failed"
[ "$fails" -eq 0 ]
