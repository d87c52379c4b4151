#!/usr/bin/env bash
# rtcweb-dtls (dimpl inside) against the system OpenSSL, DTLS 1.2, both roles, in memory: the
# handshake completes, both sides export identical SRTP keys for AEAD_AES_256_GCM,
# AEAD_AES_128_GCM and AES128_CM_HMAC_SHA1_80, application data and close_notify pass both
# ways, a certificate that does not match the expected fingerprint is refused, and a
# renegotiation (an encrypted new handshake forged with the session keys) ends the session. The test
# needs libssl-dev and pkg-config, so it only builds with the crate's `openssl-interop` feature
# (docs/decisions/dtls-openssl-test-behind-a-feature.md). No network is needed; it still runs
# inside the loopback-only namespace like every suite.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here/.."

if ! pkg-config --exists openssl 2>/dev/null; then
  echo "21-dtls-openssl: libssl-dev or pkg-config is missing (interop/setup installs them)" >&2
  exit 1
fi
echo "openssl: $(pkg-config --modversion openssl)"

# Build before entering the namespace (no network in there).
cargo test --locked -p rtcweb-dtls --features openssl-interop --test openssl_interop --no-run

mkdir -p "$here/work"
log="$here/work/21-dtls-openssl.log"
"$here/isolated" -- cargo test --locked --offline -p rtcweb-dtls --features openssl-interop \
  --test openssl_interop 2>&1 | tee "$log"
grep -q '^test result: ok. 5 passed; 0 failed' "$log" || {
  echo "21-dtls-openssl: the OpenSSL interop test did not pass all 5 tests" >&2
  exit 1
}
echo "21-dtls-openssl: rtcweb-dtls and OpenSSL agree on SRTP keys in both roles"
