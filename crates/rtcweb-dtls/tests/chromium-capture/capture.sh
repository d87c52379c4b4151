#!/usr/bin/env bash
# Captures Chromium's first DTLS flight (its ClientHello) into
# ../data/chromium-<major version>/client-hello-{1,2}.bin: the first transmission, which
# Chromium 156 splits over two datagrams. Every datagram received is kept in the scratch
# directory printed at the end, retransmissions included.
# Needs root, iproute2, python3 and Debian's `chromium`; everything runs inside a network
# namespace that has only loopback (/work/shared/tools/isolated or interop/isolated).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../../.." && pwd)
isolated=${ISOLATED:-$root/interop/isolated}
version=$(chromium --version 2>/dev/null | grep -o '[0-9][0-9.]*' | head -1 | cut -d. -f1)
out=${1:-$here/../data/chromium-$version}
work=$(mktemp -d)
port=47123 ufrag=capt pwd=capturecapturecapture1
"$isolated" -- bash -c "
  python3 '$here/capture.py' $port $ufrag $pwd '$work/datagrams' & cap=\$!
  chromium --headless=new --no-sandbox --disable-gpu --no-first-run \
    --user-data-dir='$work/profile' \
    --allow-loopback-in-peer-connection \
    --use-fake-ui-for-media-stream --use-fake-device-for-media-stream \
    --enable-logging=stderr --v=0 \
    'file://$here/page.html#$port,$ufrag,$pwd' >'$work/chromium.log' 2>&1 & chr=\$!
  wait \$cap; code=\$?
  kill \$chr 2>/dev/null || true; wait \$chr 2>/dev/null || true
  grep -a 'CONSOLE' '$work/chromium.log' | sed 's/^/chromium: /' | head -20 || true
  exit \$code
"
mkdir -p "$out"
cp "$work/datagrams/datagram-1.bin" "$out/client-hello-1.bin"
cp "$work/datagrams/datagram-2.bin" "$out/client-hello-2.bin"
echo "capture: first flight in $out; all datagrams in $work/datagrams"
