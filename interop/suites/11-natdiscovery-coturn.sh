#!/usr/bin/env bash
# natdiscovery (examples) against coturn with RFC 5780 on (listening on 127.0.0.1 and
# 127.0.0.2 with --alt-listening-port), inside a loopback-only namespace: it must report EIM and
# EIF, the same verdict as coturn's own turnutils_natdiscovery -m -f. Without RFC 5780 (one
# listening address) and with no server at all it must fail with a clear message.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
for tool in turnserver turnutils_natdiscovery; do
  command -v "$tool" >/dev/null 2>&1 || { echo "11-natdiscovery-coturn: missing $tool (run interop/setup)"; exit 1; }
done
cargo build --release --locked -q -p rtcweb-examples --bin natdiscovery

work="$root/interop/work/11-natdiscovery-coturn"
rm -rf "$work"; mkdir -p "$work"
cat > "$work/inner.sh" <<'INNER'
set -euo pipefail
root=$1; work=$2
N="$root/target/release/natdiscovery"
common=(-n --no-cli --no-dtls --no-tls --log-file=stdout --simple-log --realm=example.org)
turnserver "${common[@]}" --listening-ip=127.0.0.1 --listening-ip=127.0.0.2 --listening-port=3478 \
  --alt-listening-port=3479 --pidfile="$work/5780.pid" > "$work/coturn-5780.log" 2>&1 &
turnserver "${common[@]}" --listening-ip=127.0.0.1 --listening-port=3578 --pidfile="$work/plain.pid" \
  > "$work/coturn-plain.log" 2>&1 &
for port in 3478 3479 3578; do
  for _ in $(seq 50); do ss -lnu | grep -q ":$port " && break; sleep 0.1; done
  ss -lnu | grep -q ":$port " || { echo "port $port never opened"; cat "$work"/coturn-*.log; exit 1; }
done
fails=0; passes=0
# Precondition, not a test of ours: coturn's own client must see RFC 5780 on this server and
# call loopback EIM/EIF. If it does not, the set-up is broken and nothing below means anything.
ref=$(turnutils_natdiscovery -m -f 127.0.0.1 2>&1 || true)
if echo "$ref" | grep -q '^NAT with Endpoint Independent Mapping!' && echo "$ref" | grep -q '^NAT with Endpoint Independent Filtering!'; then
  echo "set-up: turnutils_natdiscovery -m -f against this coturn says EIM/EIF"
else
  echo "FAIL set-up: turnutils_natdiscovery said:"; echo "$ref" | tail -12 | sed 's/^/    /'; exit 1
fi
out=$("$N" --server 127.0.0.1:3478 2>&1) || { echo "FAIL rfc5780: exit $?"; echo "$out"; fails=$((fails + 1)); }
echo "$out" | sed 's/^/    /'
if echo "$out" | grep -q '^mapping: *EIM' && echo "$out" | grep -q '^filtering: *EIF'; then
  echo "PASS rfc5780: EIM/EIF, as coturn's client says"; passes=$((passes + 1))
else
  echo "FAIL rfc5780: expected EIM/EIF"; fails=$((fails + 1))
fi
if out=$("$N" --server 127.0.0.1:3578 2>&1); then
  echo "FAIL no-5780: succeeded"; fails=$((fails + 1))
elif echo "$out" | grep -q "does not support RFC 5780"; then
  echo "PASS no-5780: $out"; passes=$((passes + 1))
else
  echo "FAIL no-5780: unclear: $out"; fails=$((fails + 1))
fi
if out=$("$N" --server 127.0.0.1:3999 2>&1); then
  echo "FAIL silent: succeeded"; fails=$((fails + 1))
elif echo "$out" | grep -q "no answer"; then
  echo "PASS silent server: $out"; passes=$((passes + 1))
else
  echo "FAIL silent: unclear: $out"; fails=$((fails + 1))
fi
kill $(jobs -p) 2>/dev/null || true
echo "11-natdiscovery-coturn: $passes passed, $fails failed"
[ "$fails" -eq 0 ]
INNER
"$root/interop/isolated" -- bash "$work/inner.sh" "$root" "$work"
