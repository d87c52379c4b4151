#!/usr/bin/env bash
# Starts coturn (turnserver) on 127.0.0.1:3478, UDP and TCP, user alice:wonderland, relaying
# to loopback peers, then runs CMD in the foreground. Inside the namespace only.
#   with-coturn.sh WORKDIR CMD...
set -euo pipefail
work=$1; shift
turnserver -n --no-cli --no-dtls --no-tls --log-file=stdout --simple-log --allow-loopback-peers \
  --realm=example.org --listening-ip=127.0.0.1 --relay-ip=127.0.0.1 --listening-port=3478 \
  --min-port=40000 --max-port=40999 --pidfile="$work/coturn.pid" --lt-cred-mech \
  --user=alice:wonderland >"$work/coturn.log" 2>&1 &
for _ in $(seq 50); do ss -ltn | grep -q ':3478 ' && break; sleep 0.1; done
exec "$@"
