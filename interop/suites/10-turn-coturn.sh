#!/usr/bin/env bash
# turn-client (examples) against coturn's turnserver on 127.0.0.1, inside a loopback-only
# namespace: long-term credentials over UDP, TCP and TLS; TURN REST (--use-auth-secret) over
# UDP, TCP and TLS; RFC 7635 OAuth (self-contained token, key in coturn's SQLite DB) over UDP;
# a wrong password and a wrong REST secret must fail with a clear error. The peer is
# turnutils_peer (echo). Needs: coturn, openssl, python3 (interop/setup).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
for tool in turnserver turnutils_peer openssl python3; do
  command -v "$tool" >/dev/null 2>&1 || { echo "10-turn-coturn: missing $tool (run interop/setup)"; exit 1; }
done
cargo build --release --locked -q -p rtcweb-examples --bin turn-client

work="$root/interop/work/10-turn-coturn"
rm -rf "$work"; mkdir -p "$work"
# A throwaway CA and a server certificate for 127.0.0.1 (TLS to coturn).
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
  -subj /CN=rtcweb-interop-ca -keyout "$work/ca.key" -out "$work/ca.pem" 2>/dev/null
openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj /CN=127.0.0.1 \
  -keyout "$work/key.pem" -out "$work/leaf.csr" 2>/dev/null
printf 'subjectAltName=IP:127.0.0.1\nbasicConstraints=critical,CA:FALSE\nextendedKeyUsage=serverAuth\n' > "$work/ext.cnf"
openssl x509 -req -in "$work/leaf.csr" -CA "$work/ca.pem" -CAkey "$work/ca.key" -CAcreateserial \
  -days 2 -extfile "$work/ext.cnf" -out "$work/cert.pem" 2>/dev/null
# coturn's SQLite DB with one OAuth key: kid "kid1", AES-128-GCM AS-RS key 00..0f.
python3 - "$work/turndb" <<'PY'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
db.executescript(open('/usr/share/coturn/schema.sql').read())
db.execute("insert into oauth_key (kid, ikm_key, timestamp, lifetime, as_rs_alg, realm) "
           "values ('kid1', 'AAECAwQFBgcICQoLDA0ODw==', 0, 0, 'A128GCM', 'example.org')")
db.commit()
PY

cat > "$work/inner.sh" <<'INNER'
set -euo pipefail
root=$1; work=$2
T="$root/target/release/turn-client"
common=(-n --no-cli --no-dtls --log-file=stdout --simple-log --allow-loopback-peers --realm=example.org
        --listening-ip=127.0.0.1 --relay-ip=127.0.0.1 --cert="$work/cert.pem" --pkey="$work/key.pem")
turnserver "${common[@]}" --listening-port=3478 --tls-listening-port=5349 --min-port=40000 --max-port=40999 \
  --pidfile="$work/lt.pid" --lt-cred-mech --user=alice:wonderland > "$work/coturn-lt.log" 2>&1 &
turnserver "${common[@]}" --listening-port=3578 --tls-listening-port=5449 --min-port=41000 --max-port=41999 \
  --pidfile="$work/rest.pid" --use-auth-secret --static-auth-secret=northwind > "$work/coturn-rest.log" 2>&1 &
turnserver "${common[@]}" --listening-port=3678 --tls-listening-port=5549 --min-port=42000 --max-port=42999 \
  --pidfile="$work/oauth.pid" --lt-cred-mech --oauth --db="$work/turndb" > "$work/coturn-oauth.log" 2>&1 &
turnutils_peer -L 127.0.0.1 -p 3480 > "$work/peer.log" 2>&1 &
for port in 3478 3578 3678 5349 5449 3480; do
  for _ in $(seq 50); do ss -ltnu | grep -q ":$port " && break; sleep 0.1; done
  ss -ltnu | grep -q ":$port " || { echo "port $port never opened"; cat "$work"/coturn-*.log; exit 1; }
done

fails=0
expect_ok() { # name, args...
  local name=$1; shift
  if out=$("$T" "$@" --peer 127.0.0.1:3480 --count 50 --interval-ms 5 --timeout-s 20 2>&1); then
    echo "PASS $name: $(echo "$out" | grep -E '^(relayed address|sent|rtt)' | tr '\n' ' ')"
  else
    echo "FAIL $name:"; echo "$out" | sed 's/^/    /'; fails=$((fails + 1))
  fi
}
expect_auth_failure() { # name, args...
  local name=$1; shift
  if out=$("$T" "$@" --peer 127.0.0.1:3480 --count 5 --timeout-s 20 2>&1); then
    echo "FAIL $name: succeeded with wrong credentials"; fails=$((fails + 1))
  elif echo "$out" | grep -q "authentication failed"; then
    echo "PASS $name: $(echo "$out" | tail -1)"
  else
    echo "FAIL $name: no clear error:"; echo "$out" | sed 's/^/    /'; fails=$((fails + 1))
  fi
}
lt=(--user alice --password wonderland --realm example.org)
rest=(--rest-secret northwind --rest-user carol)
expect_ok "long-term udp" --server 127.0.0.1:3478 --transport udp "${lt[@]}"
expect_ok "long-term tcp" --server 127.0.0.1:3478 --transport tcp "${lt[@]}"
expect_ok "long-term tls" --server 127.0.0.1:5349 --transport tls --tls-ca "$work/ca.pem" "${lt[@]}"
expect_ok "rest udp" --server 127.0.0.1:3578 --transport udp "${rest[@]}"
expect_ok "rest tcp" --server 127.0.0.1:3578 --transport tcp "${rest[@]}"
expect_ok "rest tls" --server 127.0.0.1:5449 --transport tls --tls-ca "$work/ca.pem" "${rest[@]}"
expect_ok "oauth udp" --server 127.0.0.1:3678 --oauth-kid kid1 --oauth-key AAECAwQFBgcICQoLDA0ODw==
expect_auth_failure "wrong password udp" --server 127.0.0.1:3478 --user alice --password nope
expect_auth_failure "wrong password tcp" --server 127.0.0.1:3478 --transport tcp --user alice --password nope
expect_auth_failure "wrong rest secret" --server 127.0.0.1:3578 --rest-secret southwind --rest-user carol
expect_auth_failure "wrong oauth key" --server 127.0.0.1:3678 --oauth-kid kid1 --oauth-key AAECAwQFBgcICQoLDA0ODg==
kill $(jobs -p) 2>/dev/null || true
echo "10-turn-coturn: $((11 - fails)) passed, $fails failed"
[ "$fails" -eq 0 ]
INNER
"$root/interop/isolated" -- bash "$work/inner.sh" "$root" "$work"
