#!/usr/bin/env bash
# rtcweb-dtls against Chromium, live, inside a loopback-only namespace: Chromium loads a page
# from crates/rtcweb-dtls/examples/chromium_peer.rs, offers a data channel, and gets an ICE-lite
# answer carrying our fingerprint. Chromium's DTLS (1.3 with an X25519MLKEM768 share, fragmented
# ClientHello) must complete with our endpoint in both roles and with DTLS 1.2 forced, each side
# must accept the other's certificate by its SDP fingerprint, and Chromium's first SCTP packet
# (INIT) must arrive decrypted through our application-data path. In DTLS 1.3 the ServerHello
# (ours as server, Chromium's as server) must be on X25519MLKEM768 (0x11ec) with no
# HelloRetryRequest; with `--cookie` (our server's optional stateless cookie) the one
# HelloRetryRequest asks for no other group.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here/.."

command -v chromium >/dev/null || { echo "22-dtls-chromium: chromium is missing (interop/setup installs it)" >&2; exit 1; }
echo "chromium: $(chromium --version 2>/dev/null | grep -o '[0-9][0-9.]*' | head -1)"

# Build before entering the namespace (no network in there).
cargo build --release --locked -p rtcweb-dtls --example chromium_peer
bin="$here/../target/release/examples/chromium_peer"

mkdir -p "$here/work"
failed=0
port=47200
for mode in "" "--client" "--dtls12" "--client --dtls12" "--cookie"; do
  port=$((port + 1))
  profile=$(mktemp -d)
  log="$here/work/22-dtls-chromium-$port.log"
  echo "--- chromium_peer ${mode:-(server, auto)}"
  if "$here/isolated" -- bash -c "
      '$bin' $port $mode & peer=\$!
      sleep 0.3
      chromium --headless=new --no-sandbox --disable-gpu --no-first-run \
        --user-data-dir='$profile' --allow-loopback-in-peer-connection \
        --use-fake-ui-for-media-stream --use-fake-device-for-media-stream \
        --enable-logging=stderr --v=0 'http://127.0.0.1:$port/' >'$log.chromium' 2>&1 & chr=\$!
      wait \$peer; code=\$?
      kill \$chr 2>/dev/null || true; wait \$chr 2>/dev/null || true
      exit \$code" 2>&1 | tee "$log"; then
    grep -a 'CONSOLE' "$log.chromium" | grep -o '"[^"]*"' | sed 's/^/chromium: /' || true
    case "$mode" in
      *--dtls12*) ;;
      --cookie)
        if ! grep -q 'HelloRetryRequest, key_share group none' "$log" ||
           ! grep -q 'ServerHello, key_share group 0x11ec' "$log"; then
          echo "22-dtls-chromium: FAILED with '${mode}': want a cookie-only HelloRetryRequest, then X25519MLKEM768" >&2
          failed=1
        fi ;;
      *)
        if grep -q 'HelloRetryRequest' "$log" || ! grep -q 'ServerHello, key_share group 0x11ec' "$log"; then
          echo "22-dtls-chromium: FAILED with '${mode}': want X25519MLKEM768 without HelloRetryRequest" >&2
          failed=1
        fi ;;
    esac
  else
    grep -a 'CONSOLE' "$log.chromium" | grep -o '"[^"]*"' | sed 's/^/chromium: /' || true
    echo "22-dtls-chromium: FAILED with '${mode}'" >&2
    failed=1
  fi
  rm -rf "$profile"
done
[ $failed -eq 0 ] || exit 1
echo "22-dtls-chromium: Chromium completed DTLS with rtcweb-dtls in both roles, 1.3 (X25519MLKEM768, no HelloRetryRequest) and 1.2"
