#!/usr/bin/env bash
# Our turn-server run as an operator would, against coturn's clients, inside a loopback-only
# namespace: settings from a TOML file (--config) with command-line overrides, JSON logs, the
# Prometheus endpoint (--metrics) scraped around turnutils_uclient runs, a SIGHUP reload, and
# a bandwidth limit.
#
# Checked, each against what the clients report:
# - relayed packets and payload bytes, each way, equal uclient's tot_send_msgs/tot_recv_msgs
#   and tot_send_bytes/tot_recv_bytes (UDP channels, UDP Send indications, TCP channels);
# - a wrong password counts under auth_failures{reason="wrong_password"} (exactly one for our
#   turn-client, which tries once; at least one for uclient, which retries), an unknown user
#   under unknown_user, and no other reason moves;
# - SIGHUP after adding a user to the file: before it the user is refused, after it uclient
#   relays as that user with 0 lost, while an allocation made before the reload goes on
#   relaying through it (its packets after the reload are counted) and loses nothing;
# - the command line wins over the file (relay ports from --min-port/--max-port), log lines
#   are JSON with the allocation's user;
# - with --allocation-bandwidth, relayed + dropped equals what uclient sent, some were
#   dropped, and what passed is within burst + rate * time.
# Needs: coturn, curl, jq.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
for tool in turnutils_uclient turnutils_peer curl jq ss; do
  command -v "$tool" >/dev/null 2>&1 || { echo "43-turn-server-metrics: missing $tool (run interop/setup)"; exit 1; }
done
cargo build --release --locked -q -p rtcweb-turn-server-bin --bin turn-server -p rtcweb-examples --bin turn-client

work="$root/interop/work/43-turn-server-metrics"
rm -rf "$work"; mkdir -p "$work"

cat > "$work/inner.sh" <<'INNER'
set -euo pipefail
root=$1; work=$2
S="$root/target/release/turn-server"
T="$root/target/release/turn-client"
M=http://127.0.0.1:9641/metrics
cat > "$work/turn.toml" <<'TOML'
listen = "127.0.0.1:3478"
realm = "example.org"
user = ["alice:wonderland"]
rest-secret = ["northwind"]
min-port = 41000
max-port = 41999
allow-loopback-peers = true
metrics = "127.0.0.1:9641"
log-format = "json"
log-level = "info"
TOML
# The ports on the command line must win over the file's.
"$S" --config "$work/turn.toml" --min-port 40000 --max-port 40999 \
  > "$work/server.out" 2> "$work/server.log" &
server=$!
turnutils_peer -L 127.0.0.1 -p 3480 > "$work/peer.log" 2>&1 &
for port in 3478 3480 9641; do
  for _ in $(seq 50); do ss -ltnu | grep -q ":$port " && break; sleep 0.1; done
  ss -ltnu | grep -q ":$port " || { echo "port $port never opened"; cat "$work"/server.*; exit 1; }
done
echo "server: $(cat "$work/server.out")"

fails=0; passes=0
pass() { echo "PASS $*"; passes=$((passes + 1)); }
fail() { echo "FAIL $*"; fails=$((fails + 1)); }
scrape() { curl -sf "$M" > "$work/scrape.txt" || { echo "scrape failed" >&2; return 1; }; }
# The value of one series of the last scrape (exact match on name and labels); a missing
# series is an error, never a zero.
val() {
  local v
  v=$(awk -v s="$1" '$1 == s { print $2; found = 1 } END { if (!found) exit 1 }' "$work/scrape.txt") \
    || { echo "series $1 missing from /metrics" >&2; return 1; }
  echo "$v"
}
rp() { val "rtcweb_turn_relayed_packets_total{direction=\"$1\"}"; }
rb() { val "rtcweb_turn_relayed_bytes_total{direction=\"$1\"}"; }
af() { val "rtcweb_turn_auth_failures_total{reason=\"$1\"}"; }
reasons="bad_request stale_nonce wrong_realm unknown_user wrong_password expired bad_token wrong_credentials"
declare -A A0
auth_snapshot() { for r in $reasons; do A0[$r]=$(af "$r"); done; }
# Since the snapshot, has only reason $1 moved, by $2 ("+": at least one)?
only_moved() {
  local ok=0 r d
  for r in $reasons; do
    d=$(( $(af "$r") - ${A0[$r]} ))
    if [ "$r" = "$1" ]; then
      if [ "$2" = + ]; then [ "$d" -ge 1 ] || ok=1; else [ "$d" = "$2" ] || ok=1; fi
    else
      [ "$d" = 0 ] || ok=1
    fi
  done
  return $ok
}

scrape
head -c 300 "$work/scrape.txt" | grep -q '^# HELP rtcweb_turn_' && pass "/metrics answers in the text format" \
  || fail "/metrics: $(head -c 300 "$work/scrape.txt")"
[ "$(curl -s -o /dev/null -w '%{http_code}' http://127.0.0.1:9641/other)" = 404 ] && pass "other paths: 404" || fail "other paths are not 404"

# uclient's own totals: "tot_send_msgs=N, tot_recv_msgs=N" and "tot_send_bytes ~ N, ...".
totals() { # file -> "sent recv sent_bytes recv_bytes"
  local s r sb rb
  s=$(grep -oE 'tot_send_msgs=[0-9]+' "$1" | tail -1 | cut -d= -f2)
  r=$(grep -oE 'tot_recv_msgs=[0-9]+' "$1" | tail -1 | cut -d= -f2)
  sb=$(grep -oE 'tot_send_bytes ~ [0-9]+' "$1" | tail -1 | awk '{print $3}')
  rb=$(grep -oE 'tot_recv_bytes ~ [0-9]+' "$1" | tail -1 | awk '{print $3}')
  echo "${s:-x} ${r:-x} ${sb:-x} ${rb:-x}"
}

counted() { # name, expected messages, size, uclient args...
  local name=$1 n=$2 size=$3; shift 3
  scrape; local p0 c0 pb0 cb0; p0=$(rp to_peer); c0=$(rp to_client); pb0=$(rb to_peer); cb0=$(rb to_client)
  timeout 60 turnutils_uclient -e 127.0.0.1 -r 3480 -u alice -w wonderland "$@" 127.0.0.1 > "$work/$name.log" 2>&1 || true
  scrape
  local got; got="$(( $(rp to_peer) - p0 )) $(( $(rp to_client) - c0 )) $(( $(rb to_peer) - pb0 )) $(( $(rb to_client) - cb0 ))"
  local want; want=$(totals "$work/$name.log")
  local lost; lost=$(grep -E 'Total lost packets' "$work/$name.log" | tail -1 || true)
  if [ "$got" = "$want" ] && [ "$want" = "$n $n $((n * size)) $((n * size))" ] && echo "$lost" | grep -q 'lost packets 0 ('; then
    pass "$name: relayed (packets to_peer to_client, bytes to_peer to_client) = $got = uclient's totals"
  else
    fail "$name: metrics say $got, uclient says $want (expected $n $n $((n * size)) $((n * size))); $lost"
    tail -5 "$work/$name.log" | sed 's/^/    /'
  fi
}
counted "uclient udp channels" 100 120 -m 2 -n 50 -l 120 -z 5
counted "uclient udp send indications" 60 1000 -s -m 2 -n 30 -l 1000 -z 5
counted "uclient tcp channels" 100 200 -t -m 2 -n 50 -l 200 -z 5

# Wrong password: our client tries once, so exactly one; uclient retries, so at least one.
scrape; auth_snapshot; created0=$(val rtcweb_turn_allocations_created_total)
"$T" --server 127.0.0.1:3478 --user alice --password nope --realm example.org --peer 127.0.0.1:3480 \
  --count 1 --timeout-s 20 > "$work/wrong-ours.log" 2>&1 && fail "turn-client allocated with a wrong password"
scrape
only_moved wrong_password 1 && pass "turn-client wrong password: wrong_password +1, no other reason moved" \
  || fail "turn-client wrong password: $(grep auth_failures "$work/scrape.txt" | tr '\n' ' ')"
auth_snapshot
timeout 60 turnutils_uclient -e 127.0.0.1 -r 3480 -u alice -w nope -n 1 127.0.0.1 > "$work/wrong-uclient.log" 2>&1 || true
scrape
if only_moved wrong_password + && [ "$(val rtcweb_turn_allocations_created_total)" = "$created0" ]; then
  pass "uclient wrong password: wrong_password +$(( $(af wrong_password) - ${A0[wrong_password]} )), no other reason moved, no allocation"
else
  fail "uclient wrong password: $(grep auth_failures "$work/scrape.txt" | tr '\n' ' ')"
fi

# SIGHUP. First an allocation that relays for 10 s (500 messages every 20 ms), made before.
scrape; at_start=$(rp to_peer)
timeout 60 turnutils_uclient -c -e 127.0.0.1 -r 3480 -u alice -w wonderland -n 500 -l 100 -z 20 127.0.0.1 \
  > "$work/long.log" 2>&1 &
long=$!
# Wait until it relays (uclient allocates, then waits a moment before sending).
for _ in $(seq 100); do scrape; [ "$(rp to_peer)" -gt "$at_start" ] && break; sleep 0.1; done
# bob is not a user yet.
scrape; auth_snapshot
"$T" --server 127.0.0.1:3478 --user bob --password builder --realm example.org --peer 127.0.0.1:3480 \
  --count 1 --timeout-s 20 > "$work/bob-before.log" 2>&1 && fail "bob allocated before the reload"
scrape
only_moved unknown_user 1 && pass "before the reload bob is refused: unknown_user +1" \
  || fail "bob before the reload: $(grep auth_failures "$work/scrape.txt" | tr '\n' ' ')"
sed -i 's/^user = .*/user = ["alice:wonderland", "bob:builder"]/' "$work/turn.toml"
kill -HUP "$server"
for _ in $(seq 50); do scrape; [ "$(val 'rtcweb_turn_reloads_total{result="ok"}')" = 1 ] && break; sleep 0.1; done
[ "$(val 'rtcweb_turn_reloads_total{result="ok"}')" = 1 ] && pass "SIGHUP reloaded (reloads_total{result=\"ok\"} 1)" \
  || fail "no reload counted"
kill -0 "$long" 2>/dev/null && pass "the allocation made before the reload is still running" \
  || fail "the long uclient ended before the reload"
at_reload=$(rp to_peer)
timeout 60 turnutils_uclient -c -e 127.0.0.1 -r 3480 -u bob -w builder -m 1 -n 20 -l 100 -z 5 127.0.0.1 \
  > "$work/bob-after.log" 2>&1 || true
read -r bob_sent bob_recv _ _ < <(totals "$work/bob-after.log")
if grep -q 'Total lost packets 0 (' "$work/bob-after.log" && [ "$bob_sent" = 20 ] && [ "$bob_recv" = 20 ]; then
  pass "after the reload bob allocates and relays with uclient: 20 sent, 20 back"
else
  fail "bob after the reload:"; tail -5 "$work/bob-after.log" | sed 's/^/    /'
fi
wait "$long" || true
scrape
read -r long_sent long_recv _ _ < <(totals "$work/long.log")
# Its packets before the reload (nothing else relayed then) and after it (less bob's).
before_reload=$(( at_reload - at_start ))
after_reload=$(( $(rp to_peer) - at_reload - bob_sent ))
if grep -q 'Total lost packets 0 (' "$work/long.log" && [ "$long_sent" = 500 ] && [ "$long_recv" = 500 ] \
   && [ "$after_reload" -gt 0 ] && [ $((before_reload + after_reload)) = 500 ]; then
  pass "the allocation made before the reload relayed $before_reload packets before it and $after_reload after it, 0 lost"
else
  fail "the allocation made before the reload: sent $long_sent back $long_recv; relayed $before_reload before, $after_reload after"
  tail -5 "$work/long.log" | sed 's/^/    /'
fi

# Logs: every line JSON; allocations carry the user; relay ports from the command line.
if jq -e . "$work/server.log" > /dev/null 2>&1; then pass "every log line is JSON"; else fail "log lines that are not JSON"; fi
users=$(jq -r 'select(.fields.message == "allocation") | .fields.username' "$work/server.log" | sort -u | tr '\n' ' ')
[ "$users" = "alice bob " ] && pass "allocation log lines name their user ($users)" || fail "allocation users in the log: '$users'"
ports=$(jq -r 'select(.fields.message == "allocation") | .fields.relay' "$work/server.log" | sed 's/.*://' | sort -n | uniq)
bad_ports=$(echo "$ports" | awk '$1 < 40000 || $1 > 40999' | wc -l)
[ -n "$ports" ] && [ "$bad_ports" = 0 ] && pass "relay ports from the command line (40000-40999), not the file" \
  || fail "relay ports outside --min-port/--max-port: $(echo "$ports" | tr '\n' ' ')"
logged=$(jq -s 'map(select(.fields.message == "authentication failed" and .fields.reason == "wrong_password"
  and .fields.user == "alice")) | length' "$work/server.log")
scrape
[ "$logged" -gt 0 ] && [ "$logged" = "$(af wrong_password)" ] \
  && pass "every wrong password is logged with user and reason ($logged lines = the counter)" \
  || fail "$logged log lines for wrong passwords, counter $(af wrong_password)"

# A bandwidth limit on a second server: 20,000 octets/s, 20,000 burst; uclient offers 1000-octet
# messages every 5 ms (200,000 octets/s) for 1 s.
"$S" --listen 127.0.0.1:3479 --realm example.org --user alice:wonderland --allow-loopback-peers \
  --min-port 42000 --max-port 42999 --allocation-bandwidth 20000 --bandwidth-burst 20000 \
  --metrics 127.0.0.1:9642 > "$work/limited.out" 2> "$work/limited.log" &
limited=$!
for _ in $(seq 50); do ss -ltn | grep -q ":9642 " && break; sleep 0.1; done
start=$(date +%s%N)
timeout 60 turnutils_uclient -c -p 3479 -e 127.0.0.1 -r 3480 -u alice -w wonderland -n 200 -l 1000 -z 5 127.0.0.1 \
  > "$work/limited-uclient.log" 2>&1 || true
elapsed_ms=$(( ($(date +%s%N) - start) / 1000000 ))
M=http://127.0.0.1:9642/metrics; scrape
read -r sent recv _ _ < <(totals "$work/limited-uclient.log")
passed=$(rp to_peer); passed_bytes=$(rb to_peer)
dropped=$(val 'rtcweb_turn_bandwidth_dropped_packets_total{limit="allocation",direction="to_peer"}')
ceiling=$(( 20000 + 20000 * elapsed_ms / 1000 ))
# The burst passes at once, so at least 20,000 octets; at most burst + rate * the whole run.
if [ "$sent" = 200 ] && [ $((passed + dropped)) = "$sent" ] && [ "$dropped" -gt 0 ] \
   && [ "$passed_bytes" -ge 20000 ] && [ "$passed_bytes" -le "$ceiling" ] && [ "$(rp to_client)" = "$recv" ]; then
  pass "--allocation-bandwidth: $passed relayed + $dropped dropped = $sent sent; 20000 <= $passed_bytes octets <= $ceiling (burst + rate * ${elapsed_ms} ms)"
else
  fail "--allocation-bandwidth: sent $sent, relayed $passed ($passed_bytes octets, ceiling $ceiling), dropped $dropped, back $recv"
fi
kill -TERM "$limited"; wait "$limited" || true

# SIGTERM still stops cleanly.
kill -TERM "$server"
code=0; wait "$server" || code=$?
[ "$code" -eq 0 ] && pass "clean stop on SIGTERM" || fail "exit $code on SIGTERM"
kill $(jobs -p) 2>/dev/null || true
echo "43-turn-server-metrics: $passes passed, $fails failed"
[ "$fails" -eq 0 ] && [ "$passes" -eq 18 ]
INNER
"$root/interop/isolated" -- bash "$work/inner.sh" "$root" "$work"
