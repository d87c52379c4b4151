#!/usr/bin/env bash
# RFC 5780 on our turn-server (--listen 127.0.0.1:3478 --alt-listen 127.0.0.2:3479) against
# coturn with RFC 5780 on (127.0.0.1 and 127.0.0.2, ports 3578/3579), inside a loopback-only
# namespace: coturn's turnutils_natdiscovery -m -f (and -H, -P) must report endpoint-independent
# mapping and filtering (and hairpinning with -H: loopback has no NAT) for both servers, and our
# natdiscovery example must give the same verdict (EIM/EIF) for both. Without --alt-listen, CHANGE-REQUEST must be refused (no RFC 5780).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
for tool in turnserver turnutils_natdiscovery ss; do
  command -v "$tool" >/dev/null 2>&1 || { echo "41-turn-server-natdiscovery: missing $tool (run interop/setup)"; exit 1; }
done
cargo build --release --locked -q -p rtcweb-turn-server-bin --bin turn-server -p rtcweb-examples --bin natdiscovery

work="$root/interop/work/41-turn-server-natdiscovery"
rm -rf "$work"; mkdir -p "$work"
cat > "$work/inner.sh" <<'INNER'
set -euo pipefail
root=$1; work=$2
S="$root/target/release/turn-server"
N="$root/target/release/natdiscovery"
"$S" --listen 127.0.0.1:3478 --alt-listen 127.0.0.2:3479 --realm example.org --user a:b --no-tcp \
  > "$work/ours.out" 2> "$work/ours.log" &
"$S" --listen 127.0.0.1:3678 --realm example.org --user a:b --no-tcp > "$work/plain.out" 2>&1 &
turnserver -n --no-cli --no-dtls --no-tls --log-file=stdout --simple-log --realm=example.org \
  --listening-ip=127.0.0.1 --listening-ip=127.0.0.2 --listening-port=3578 --alt-listening-port=3579 \
  --pidfile="$work/coturn.pid" > "$work/coturn.log" 2>&1 &
for port in 3478 3479 3578 3579 3678; do
  for _ in $(seq 50); do ss -lnu | grep -q ":$port " && break; sleep 0.1; done
  ss -lnu | grep -q ":$port " || { echo "port $port never opened"; cat "$work"/*.log; exit 1; }
done
echo "ours: $(cat "$work/ours.out")"
fails=0; passes=0
verdicts() { grep -E '^NAT with|^NAT (does|doesn)|hairpin' || true; }
# On loopback there is no NAT: both servers must be seen as EIM/EIF (and hairpinning works).
expect="NAT with Endpoint Independent Mapping!
NAT with Endpoint Independent Filtering!"
for opts in "-m -f" "-m -f -H" "-m -f -P"; do
  o=$(timeout 30 turnutils_natdiscovery $opts 127.0.0.1 2>&1 | verdicts)
  c=$(timeout 30 turnutils_natdiscovery $opts -p 3578 127.0.0.1 2>&1 | verdicts)
  want=$expect
  [ "$opts" = "-m -f -H" ] && want="Received a request (maybe a successful hairpinning)
$expect"
  if [ "$o" = "$want" ] && [ "$c" = "$want" ]; then
    echo "PASS turnutils_natdiscovery $opts: EIM/EIF from both: $(echo "$o" | tr '\n' ';')"; passes=$((passes + 1))
  else
    echo "FAIL turnutils_natdiscovery $opts:"; echo "  want:   $want"; echo "  ours:   $o"; echo "  coturn: $c"; fails=$((fails + 1))
  fi
done
keep() { grep -E '^(NAT|mapping|filtering|hairpinning|classic NAT type):' || true; }
o=$("$N" --server 127.0.0.1:3478 2>&1 | keep)
c=$("$N" --server 127.0.0.1:3578 2>&1 | keep)
if echo "$o" | grep -q '^mapping: *EIM' && echo "$o" | grep -q '^filtering: *EIF' && [ "$o" = "$c" ]; then
  echo "PASS natdiscovery (ours) agrees for both servers: $(echo "$o" | grep -E '^(mapping|filtering)' | tr -s ' ' | tr '\n' ';')"; passes=$((passes + 1))
else
  echo "FAIL natdiscovery (ours):"; echo "  against ours:   $o"; echo "  against coturn: $c"; fails=$((fails + 1))
fi
if out=$("$N" --server 127.0.0.1:3678 2>&1); then
  echo "FAIL without --alt-listen: natdiscovery succeeded"; fails=$((fails + 1))
elif echo "$out" | grep -q "does not support RFC 5780"; then
  echo "PASS without --alt-listen: $out"; passes=$((passes + 1))
else
  echo "FAIL without --alt-listen: unclear: $out"; fails=$((fails + 1))
fi
kill $(jobs -p) 2>/dev/null || true
echo "41-turn-server-natdiscovery: $passes passed, $fails failed"
[ "$fails" -eq 0 ]
INNER
"$root/interop/isolated" -- bash "$work/inner.sh" "$root" "$work"
