#!/usr/bin/env bash
# `chat` peers behind real Linux NATs (interop/nat-testbed; nothing leaves the machine), with
# room-server and coturn on the testbed's "internet" (203.0.113.1):
#   1. port-restricted cone (rt-nat-cone) <-> symmetric (rt-nat-sym), STUN only: no direct
#      path exists between these two NATs, so both peers must time out (proves TURN is needed);
#   2. the same pair with the TURN server: must connect, through the relay;
#   3. the same pair with --relay-only: must connect, relay on both ends;
#   4. full cone (rt-nat-full) <-> symmetric, STUN only: must connect directly (srflx/prflx).
# Each peer sends one line and must receive the other's. Prints the selected candidate pairs
# and connection times. Needs: coturn, iproute2, iptables, root.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
for tool in turnserver iptables ip; do
  command -v "$tool" >/dev/null 2>&1 || { echo "51-room-chat-nat: missing $tool (run interop/setup)"; exit 1; }
done
cargo build --release --locked -q -p rtcweb-examples --bin room-server --bin chat
R="$root/target/release/room-server"
C="$root/target/release/chat"
W="$root/interop/work/51-room-chat-nat"
rm -rf "$W"; mkdir -p "$W"
tb="$root/interop/nat-testbed"
"$tb" down >/dev/null 2>&1 || true
"$tb" up >/dev/null
trap '"$tb" down >/dev/null 2>&1 || true' EXIT
inet() { ip netns exec rt-inet "$@"; }

inet turnserver -n --no-cli --no-tls --no-dtls --fingerprint --simple-log --log-file=stdout \
  --listening-ip=203.0.113.1 --listening-port=3478 --relay-ip=203.0.113.1 \
  --min-port=49152 --max-port=49300 --lt-cred-mech --user=alice:secret --realm=example.org \
  --pidfile="$W/coturn.pid" > "$W/coturn.log" 2>&1 &
inet "$R" --listen 203.0.113.1:8090 > "$W/room-server.log" 2>&1 &
for port in 3478/u 8090/t; do
  for _ in $(seq 50); do inet ss -ln${port#*/} | grep -q ":${port%/*} " && break; sleep 0.1; done
  inet ss -ln${port#*/} | grep -q ":${port%/*} " || { echo "port $port never opened"; cat "$W"/*.log; exit 1; }
done

STUN=stun:203.0.113.1:3478
TURN='turn:alice:secret@203.0.113.1:3478?transport=udp'
fails=0; passes=0

# pair CASE HOST_A HOST_B EXPECT(connect|fail) TIMEOUT CHAT_ARGS...: runs one chat on each host
# in room CASE and checks the outcome.
pair() {
  local case=$1 ha=$2 hb=$3 expect=$4 limit=$5; shift 5
  local a=$W/$case-a b=$W/$case-b ca=0 cb=0
  local start=$(date +%s%N)
  timeout $((limit + 15)) ip netns exec "$ha" "$C" --room "ws://203.0.113.1:8090/$case" --name "$ha" \
    --send "hello from $ha" --expect 1 --timeout "$limit" "$@" > "$a.out" 2> "$a.err" & local pa=$!
  sleep 0.3
  timeout $((limit + 15)) ip netns exec "$hb" "$C" --room "ws://203.0.113.1:8090/$case" --name "$hb" \
    --send "hello from $hb" --expect 1 --timeout "$limit" "$@" > "$b.out" 2> "$b.err" & local pb=$!
  wait $pa || ca=$?
  wait $pb || cb=$?
  local took=$(( ($(date +%s%N) - start) / 1000000 ))
  grep -h 'connected to' "$a.err" "$b.err" | sed 's/^/  /' || true
  grep -h 'pair with' "$a.err" | sed 's/^/  /' || true
  if [ "$expect" = connect ]; then
    if [ $ca -eq 0 ] && [ $cb -eq 0 ] && grep -qx "$hb: hello from $hb" "$a.out" \
        && grep -qx "$ha: hello from $ha" "$b.out"; then
      echo "PASS $case: $ha <-> $hb exchanged lines in $took ms ($*)"; passes=$((passes + 1))
      return 0
    fi
    echo "FAIL $case: $ha <-> $hb (exit $ca/$cb) ($*)"
    tail -5 "$a.err" "$b.err" | sed 's/^/    /'
  else
    if [ $ca -eq 1 ] && [ $cb -eq 1 ] && [ ! -s "$a.out" ] && [ ! -s "$b.out" ]; then
      echo "PASS $case: $ha <-> $hb cannot connect without a relay (both timed out after ${limit} s)"
      passes=$((passes + 1))
      return 0
    fi
    echo "FAIL $case: $ha <-> $hb connected or failed otherwise (exit $ca/$cb) ($*)"
    tail -5 "$a.err" "$b.err" | sed 's/^/    /'
  fi
  fails=$((fails + 1))
}

# Each relayed case must really use the relay: check the candidate types chat reported.
relayed() {
  local case=$1 want=$2
  if grep -hE 'connected to' "$W/$case-a.err" "$W/$case-b.err" | grep -qE "$want"; then
    echo "PASS $case: selected pair matches '$want'"; passes=$((passes + 1))
  else
    echo "FAIL $case: no selected pair matching '$want'"; fails=$((fails + 1))
  fi
}

pair cone-sym-stun rt-nat-cone rt-nat-sym fail 12 --ice-server "$STUN"
pair cone-sym-turn rt-nat-cone rt-nat-sym connect 30 --ice-server "$STUN" --ice-server "$TURN"
relayed cone-sym-turn 'relay'
pair cone-sym-relay rt-nat-cone rt-nat-sym connect 30 --ice-server "$TURN" --relay-only
relayed cone-sym-relay 'via relay -> relay'
pair full-sym-stun rt-nat-full rt-nat-sym connect 30 --ice-server "$STUN"
relayed full-sym-stun 'via (host|srflx|prflx) -> (srflx|prflx)'

echo "51-room-chat-nat: $passes passed, $fails failed"
[ "$fails" -eq 0 ]
