#!/usr/bin/env bash
# rtcweb-ice across real Linux NATs (interop/nat-testbed: full cone, port-restricted cone and
# symmetric hosts, all in network namespaces; nothing leaves the machine). coturn runs on the
# testbed's internet (203.0.113.1:3478, long-term user alice). For each pair of hosts, two
# `ice-ping` peers exchange credentials and candidates through files (trickle), connect, and
# ping 20 times over the selected pair. The pair must be direct when the NATs allow it and
# relayed exactly when they do not (symmetric against port-restricted); two peers on the same
# host must find each other's host candidate.
# Needs: coturn, iproute2, iptables, root.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
for tool in turnserver iptables ip; do
  command -v "$tool" >/dev/null 2>&1 || { echo "16-ice-nat-testbed: missing $tool (run interop/setup)"; exit 1; }
done
cargo build --release --locked -q -p rtcweb-examples --bin ice-ping
P="$root/target/release/ice-ping"
work="$root/interop/work/16-ice-nat-testbed"
rm -rf "$work"; mkdir -p "$work"
tb="$root/interop/nat-testbed"
"$tb" down >/dev/null 2>&1 || true
"$tb" up >/dev/null
trap '"$tb" down >/dev/null 2>&1 || true' EXIT
ip netns exec rt-inet turnserver -n --no-cli --no-dtls --no-tls --log-file=stdout --simple-log \
  --listening-ip=203.0.113.1 --listening-port=3478 --relay-ip=203.0.113.1 \
  --min-port=49152 --max-port=49300 --lt-cred-mech --user=alice:secret --realm=example.org \
  --fingerprint > "$work/coturn.log" 2>&1 &
for _ in $(seq 50); do ip netns exec rt-inet ss -lnu | grep -q ":3478 " && break; sleep 0.1; done
ip netns exec rt-inet ss -lnu | grep -q ":3478 " || { echo "coturn did not start"; cat "$work/coturn.log"; exit 1; }

lan() { case $1 in full) echo 198.18.3.2;; cone) echo 198.18.1.2;; sym) echo 198.18.2.2;; esac; }
fails=0; passes=0; port=5000
# host A (controlling), host B, whether the pair must be relayed. Every run uses fresh ports
# (two peers may share a host, and old conntrack entries must not help).
for case in "full cone no" "cone full no" "sym full no" "full sym no" "cone sym yes" "sym cone yes" "sym sym host"; do
  set -- $case
  a=$1 b=$2 relay=$3
  dir="$work/$a-$b"; mkdir -p "$dir"; port=$((port + 2))
  common=(--stun 203.0.113.1:3478 --turn 203.0.113.1:3478 --user alice --password secret --count 20 --timeout 30)
  ip netns exec "rt-nat-$b" "$P" --local "$(lan "$b"):$((port + 1))" --role controlled --out "$dir/b" --in "$dir/a" "${common[@]}" \
    > "$dir/b.out" 2>&1 &
  pb=$!
  if ip netns exec "rt-nat-$a" "$P" --local "$(lan "$a"):$port" --role controlling --out "$dir/a" --in "$dir/b" "${common[@]}" \
    > "$dir/a.out" 2>&1 && wait $pb; then
    selected=$(grep -m1 '^selected:' "$dir/a.out" || true)
    rtt=$(grep -m1 'pings: rtt' "$dir/a.out" || true)
    # Every case must name its selected pair and have pinged over it: a missing line is a
    # failure, whatever the expectation.
    if [ -z "$selected" ] || [ -z "$rtt" ]; then
      echo "FAIL $a x $b: no selected pair or no ping line in the output:"; sed 's/^/  a: /' "$dir/a.out"
      fails=$((fails + 1))
    elif [ "$relay" = host ] && ! echo "$selected" | grep -q '^selected: host -> host'; then
      echo "FAIL $a x $b: expected the LAN (host) pair, got: $selected"; fails=$((fails + 1))
    elif [ "$relay" = yes ] && ! echo "$selected" | grep -q relay; then
      echo "FAIL $a x $b: expected a relayed pair, got: $selected"; fails=$((fails + 1))
    elif [ "$relay" = no ] && ! echo "$selected" | grep -qE '^selected: (host|srflx|prflx) -> (srflx|prflx)'; then
      echo "FAIL $a x $b: expected a direct pair through the NATs, got: $selected"; fails=$((fails + 1))
    else
      echo "PASS $a x $b: $selected; $rtt"; passes=$((passes + 1))
    fi
  else
    wait $pb 2>/dev/null || true
    echo "FAIL $a x $b:"; sed 's/^/  a: /' "$dir/a.out"; sed 's/^/  b: /' "$dir/b.out"; fails=$((fails + 1))
  fi
done
echo "16-ice-nat-testbed: $passes passed, $fails failed"
[ "$fails" -eq 0 ]
