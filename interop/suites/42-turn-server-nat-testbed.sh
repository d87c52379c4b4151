#!/usr/bin/env bash
# Our turn-server and coturn side by side on the "internet" of interop/nat-testbed (real Linux
# NATs in network namespaces; nothing leaves the machine): RFC 5780 on both (203.0.113.1 and
# .2, ports 3478/3479 for ours, 3578/3579 for coturn). From behind each NAT (full cone,
# port-restricted cone, symmetric), coturn's turnutils_natdiscovery -m -f must report the NAT's
# real behaviour (EIM/EIF, EIM/APDF, APDM/APDF) for both servers, and so must our natdiscovery.
# Then turnutils_uclient relays through each NAT via our server to turnutils_peer, 0 lost.
# Needs: coturn, iproute2, iptables, root.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
for tool in turnserver turnutils_natdiscovery turnutils_uclient turnutils_peer iptables ip; do
  command -v "$tool" >/dev/null 2>&1 || { echo "42-turn-server-nat-testbed: missing $tool (run interop/setup)"; exit 1; }
done
cargo build --release --locked -q -p rtcweb-turn-server-bin --bin turn-server -p rtcweb-examples --bin natdiscovery
S="$root/target/release/turn-server"
N="$root/target/release/natdiscovery"
work="$root/interop/work/42-turn-server-nat-testbed"
rm -rf "$work"; mkdir -p "$work"
tb="$root/interop/nat-testbed"
"$tb" down >/dev/null 2>&1 || true
"$tb" up >/dev/null
trap '"$tb" down >/dev/null 2>&1 || true' EXIT
inet() { ip netns exec rt-inet "$@"; }

inet "$S" --listen 203.0.113.1:3478 --alt-listen 203.0.113.2:3479 --realm example.org \
  --user alice:wonderland --min-port 40000 --max-port 40999 > "$work/ours.out" 2> "$work/ours.log" &
inet turnserver -n --no-cli --no-dtls --no-tls --log-file=stdout --simple-log --realm=example.org \
  --listening-ip=203.0.113.1 --listening-ip=203.0.113.2 --listening-port=3578 --alt-listening-port=3579 \
  --pidfile="$work/coturn.pid" > "$work/coturn.log" 2>&1 &
inet turnutils_peer -L 203.0.113.1 -p 3480 > "$work/peer.log" 2>&1 &
for port in 3478 3479 3578 3579 3480; do
  for _ in $(seq 50); do inet ss -lnu | grep -q ":$port " && break; sleep 0.1; done
  inet ss -lnu | grep -q ":$port " || { echo "port $port never opened"; cat "$work"/*.log; exit 1; }
done
echo "ours: $(cat "$work/ours.out")"

fails=0; passes=0
verdicts() { grep -E '^NAT with' || true; }
keep() { grep -E '^(mapping|filtering):' || true; }
# What each NAT of the testbed is (interop/nat-testbed): coturn's words, then ours.
coturn_says() {
  case $1 in
    full) printf 'NAT with Endpoint Independent Mapping!\nNAT with Endpoint Independent Filtering!' ;;
    cone) printf 'NAT with Endpoint Independent Mapping!\nNAT with Address and Port Dependent Filtering!' ;;
    sym)  printf 'NAT with Address and Port Dependent Mapping!\nNAT with Address and Port Dependent Filtering!' ;;
  esac
}
we_say() { case $1 in full) echo "EIM EIF" ;; cone) echo "EIM APDF" ;; sym) echo "APDM APDF" ;; esac; }
for kind in full cone sym; do
  host=rt-nat-$kind
  want=$(coturn_says $kind)
  o=$(timeout 30 ip netns exec "$host" turnutils_natdiscovery -m -f 203.0.113.1 2>&1 | verdicts)
  c=$(timeout 30 ip netns exec "$host" turnutils_natdiscovery -m -f -p 3578 203.0.113.1 2>&1 | verdicts)
  if [ "$o" = "$want" ] && [ "$c" = "$want" ]; then
    echo "PASS $kind: turnutils_natdiscovery says $(we_say $kind) for both: $(echo "$o" | tr '\n' ';')"; passes=$((passes + 1))
  else
    echo "FAIL $kind: turnutils_natdiscovery:"; echo "  want:   $want"; echo "  ours:   $o"; echo "  coturn: $c"; fails=$((fails + 1))
  fi
  o=$(timeout 60 ip netns exec "$host" "$N" --server 203.0.113.1:3478 2>&1 | keep)
  c=$(timeout 60 ip netns exec "$host" "$N" --server 203.0.113.1:3578 2>&1 | keep)
  got_o=$(echo "$o" | awk '{print $2}' | tr '\n' ' ' | sed 's/ $//')
  got_c=$(echo "$c" | awk '{print $2}' | tr '\n' ' ' | sed 's/ $//')
  if [ "$got_o" = "$(we_say $kind)" ] && [ "$got_c" = "$(we_say $kind)" ]; then
    echo "PASS $kind: natdiscovery (ours) says $(we_say $kind) for both: $(echo "$o" | tr -s ' ' | tr '\n' ';')"; passes=$((passes + 1))
  else
    echo "FAIL $kind: natdiscovery (ours), want $(we_say $kind):"; echo "  ours:   $o"; echo "  coturn: $c"; fails=$((fails + 1))
  fi
  out=$(timeout 60 ip netns exec "$host" turnutils_uclient -u alice -w wonderland -e 203.0.113.1 -r 3480 \
    -m 2 -n 50 -l 120 -z 5 203.0.113.1 2>&1 || true)
  if echo "$out" | grep -qE 'Total lost packets 0 \(' && echo "$out" | grep -q 'Total transmit time'; then
    echo "PASS $kind: turnutils_uclient through the NAT via turn-server, 0 lost"; passes=$((passes + 1))
  else
    echo "FAIL $kind: turnutils_uclient:"; echo "$out" | tail -10 | sed 's/^/    /'; fails=$((fails + 1))
  fi
done
echo "42-turn-server-nat-testbed: $passes passed, $fails failed"
[ "$fails" -eq 0 ]
