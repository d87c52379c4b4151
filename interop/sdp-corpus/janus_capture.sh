#!/usr/bin/env bash
# Runs Janus with janus/*.jcfg and captures its SDP with janus_client.py. Call inside the
# isolated namespace: bash janus_capture.sh OUTDIR WORKDIR [OUR_ANSWER_CMD...]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
work=$2
# Janus gathers nothing on the loopback interface, so give it a veth pair that exists only
# in this namespace. Its address is in 127.0.0.0/8: nothing can route anywhere from here.
ip link add janus0 type veth peer name janus1
ip link set janus1 up
ip addr add 127.0.0.2/32 dev janus0
ip link set janus0 up
conf=$(mktemp -d)
cp "$here"/janus/*.jcfg "$conf/"
sed -i "s#@CONF@#$conf#" "$conf/janus.jcfg"
janus -C "$conf/janus.jcfg" -F "$conf" -o > "$work/janus.log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null || true; wait $pid 2>/dev/null || true; rm -rf "$conf"' EXIT
for _ in $(seq 50); do
  (echo > /dev/tcp/127.0.0.1/8088) 2>/dev/null && break
  sleep 0.2
done
/usr/bin/python3 "$here/janus_client.py" "$@"
