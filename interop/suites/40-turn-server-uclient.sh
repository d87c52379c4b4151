#!/usr/bin/env bash
# Our turn-server (turn-server/) against coturn's clients, inside a loopback-only namespace:
# turnutils_uclient over UDP and TCP with long-term credentials (-u/-w) and a TURN REST secret
# (-W), channels and Send indications, with turnutils_peer as the echo peer: 0 packets lost.
# Then our own turn-client against turn-server over UDP, TCP and TLS with long-term, REST and
# OAuth credentials, and wrong credentials that must fail. Needs: coturn, openssl.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
for tool in turnutils_uclient turnutils_peer openssl ss; do
  command -v "$tool" >/dev/null 2>&1 || { echo "40-turn-server-uclient: missing $tool (run interop/setup)"; exit 1; }
done
cargo build --release --locked -q -p rtcweb-turn-server-bin --bin turn-server -p rtcweb-examples --bin turn-client

work="$root/interop/work/40-turn-server-uclient"
rm -rf "$work"; mkdir -p "$work"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
  -subj /CN=rtcweb-interop-ca -keyout "$work/ca.key" -out "$work/ca.pem" 2>/dev/null
openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj /CN=127.0.0.1 \
  -keyout "$work/key.pem" -out "$work/leaf.csr" 2>/dev/null
printf 'subjectAltName=IP:127.0.0.1\nbasicConstraints=critical,CA:FALSE\nextendedKeyUsage=serverAuth\n' > "$work/ext.cnf"
openssl x509 -req -in "$work/leaf.csr" -CA "$work/ca.pem" -CAkey "$work/ca.key" -CAcreateserial \
  -days 2 -extfile "$work/ext.cnf" -out "$work/cert.pem" 2>/dev/null

cat > "$work/inner.sh" <<'INNER'
set -euo pipefail
root=$1; work=$2
S="$root/target/release/turn-server"
T="$root/target/release/turn-client"
"$S" --listen 127.0.0.1:3478 --tls-listen 127.0.0.1:5349 --cert "$work/cert.pem" --key "$work/key.pem" \
  --realm example.org --user alice:wonderland --rest-secret northwind \
  --oauth-key kid1:AAECAwQFBgcICQoLDA0ODw== --min-port 40000 --max-port 40999 \
  --allow-loopback-peers > "$work/server.out" 2> "$work/server.log" &
server=$!
turnutils_peer -L 127.0.0.1 -p 3480 > "$work/peer.log" 2>&1 &
for port in 3478 5349 3480; do
  for _ in $(seq 50); do ss -ltnu | grep -q ":$port " && break; sleep 0.1; done
  ss -ltnu | grep -q ":$port " || { echo "port $port never opened"; cat "$work"/server.*; exit 1; }
done
echo "server: $(cat "$work/server.out")"

fails=0; passes=0
uclient() { # name, args...
  local name=$1; shift
  local out
  out=$(timeout 60 turnutils_uclient -e 127.0.0.1 -r 3480 "$@" 127.0.0.1 2>&1) || true
  local lost
  lost=$(echo "$out" | grep -E 'Total lost packets' | tail -1 || true)
  if echo "$lost" | grep -qE 'Total lost packets 0 \(' && echo "$out" | grep -qE 'Total transmit time'; then
    echo "PASS $name: $(echo "$out" | grep -E 'Total (transmit|lost)|Average round trip' | tr -s ' \t' ' ' | tr '\n' ' ')"
    passes=$((passes + 1))
  else
    echo "FAIL $name:"; echo "$out" | tail -25 | sed 's/^/    /'; fails=$((fails + 1))
  fi
}
# -m clients, -n messages each, -l bytes; by default each client makes an RTP and an RTCP
# allocation (EVEN-PORT with a RESERVATION-TOKEN) and binds channels.
uclient "uclient udp long-term channels" -u alice -w wonderland -m 4 -n 100 -l 120 -z 5
uclient "uclient udp long-term send indications" -s -u alice -w wonderland -m 2 -n 100 -l 1000 -z 5
uclient "uclient tcp long-term channels" -t -u alice -w wonderland -m 4 -n 100 -l 120 -z 5
uclient "uclient udp REST secret" -W northwind -u carol -m 4 -n 100 -l 120 -z 5
uclient "uclient tcp REST secret" -t -W northwind -u carol -m 4 -n 100 -l 120 -z 5
uclient "uclient udp client-to-client" -y -u alice -w wonderland -m 4 -n 100 -l 120 -z 5

ours() { # name, args...
  local name=$1; shift
  if out=$("$T" "$@" --peer 127.0.0.1:3480 --count 50 --interval-ms 5 --timeout-s 20 2>&1); then
    echo "PASS $name: $(echo "$out" | grep -E '^(relayed address|sent|rtt)' | tr '\n' ' ')"
    passes=$((passes + 1))
  else
    echo "FAIL $name:"; echo "$out" | sed 's/^/    /'; fails=$((fails + 1))
  fi
}
refused() { # name, args...
  local name=$1; shift
  if out=$("$T" "$@" --peer 127.0.0.1:3480 --count 5 --timeout-s 20 2>&1); then
    echo "FAIL $name: succeeded with wrong credentials"; fails=$((fails + 1))
  elif echo "$out" | grep -q "authentication failed"; then
    echo "PASS $name: $(echo "$out" | tail -1)"; passes=$((passes + 1))
  else
    echo "FAIL $name: no clear error:"; echo "$out" | sed 's/^/    /'; fails=$((fails + 1))
  fi
}
lt=(--user alice --password wonderland --realm example.org)
rest=(--rest-secret northwind --rest-user carol)
ours "turn-client udp long-term" --server 127.0.0.1:3478 --transport udp "${lt[@]}"
ours "turn-client tcp long-term" --server 127.0.0.1:3478 --transport tcp "${lt[@]}"
ours "turn-client tls long-term" --server 127.0.0.1:5349 --transport tls --tls-ca "$work/ca.pem" "${lt[@]}"
ours "turn-client udp REST" --server 127.0.0.1:3478 --transport udp "${rest[@]}"
ours "turn-client tls REST" --server 127.0.0.1:5349 --transport tls --tls-ca "$work/ca.pem" "${rest[@]}"
ours "turn-client udp OAuth" --server 127.0.0.1:3478 --oauth-kid kid1 --oauth-key AAECAwQFBgcICQoLDA0ODw==
ours "turn-client tcp OAuth" --server 127.0.0.1:3478 --transport tcp --oauth-kid kid1 --oauth-key AAECAwQFBgcICQoLDA0ODw==
refused "wrong password" --server 127.0.0.1:3478 --user alice --password nope
refused "wrong REST secret" --server 127.0.0.1:3478 --rest-secret southwind --rest-user carol
refused "wrong OAuth key" --server 127.0.0.1:3478 --oauth-kid kid1 --oauth-key AAECAwQFBgcICQoLDA0ODg==

# SIGTERM stops the server cleanly.
kill -TERM "$server"
code=0; wait "$server" || code=$?
if [ "$code" -eq 0 ]; then echo "PASS clean stop on SIGTERM"; passes=$((passes + 1)); else echo "FAIL exit $code on SIGTERM"; fails=$((fails + 1)); fi
kill $(jobs -p) 2>/dev/null || true
echo "40-turn-server-uclient: $passes passed, $fails failed"
[ "$fails" -eq 0 ]
INNER
"$root/interop/isolated" -- bash "$work/inner.sh" "$root" "$work"
