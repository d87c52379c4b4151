#!/usr/bin/env bash
# rtcweb-srtp against Debian's libsrtp2 (libsrtp2-dev): for every profile, RTP and RTCP, what
# one side protects the other unprotects (byte-identical output), across a ROC rollover
# (sequence 65535 -> 0) and with late packets; both refuse replays. Also proves that protect
# and unprotect make no allocation per packet (every malloc in the process counted). It is its own
# cargo workspace (interop/libsrtp: hand-written FFI, so it stays out of the main workspace).
# No network is needed; it still runs inside the loopback-only namespace like every suite.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
proj="$here/libsrtp"

if [ ! -e /usr/include/srtp2/srtp.h ]; then
  echo "20-srtp-libsrtp: libsrtp2-dev is missing (interop/setup installs it)" >&2
  exit 1
fi
echo "libsrtp2: $(dpkg-query -W -f='${Version}' libsrtp2-dev 2>/dev/null || echo unknown)"

# Build everything before entering the namespace (no network in there).
cargo test --release --locked --manifest-path "$proj/Cargo.toml" -p rtcweb-libsrtp --no-run

mkdir -p "$here/work"
log="$here/work/20-srtp-libsrtp.log"
"$here/isolated" -- cargo test --release --locked --offline \
  --manifest-path "$proj/Cargo.toml" -p rtcweb-libsrtp -- --test-threads=1 2>&1 | tee "$log"
grep -q '^test result: ok. 4 passed; 0 failed' "$log" || {
  echo "20-srtp-libsrtp: cross-check did not pass all 4 tests" >&2
  exit 1
}
grep -q '^no_alloc: 0 allocations' "$log" || {
  echo "20-srtp-libsrtp: allocation check did not pass" >&2
  exit 1
}
echo "20-srtp-libsrtp: rtcweb-srtp and libsrtp2 interoperate on all four profiles"
