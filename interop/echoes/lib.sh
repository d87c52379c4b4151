# Shared by suites 60-echoes-server and 61-echoes-client (sourced): checks that the third-party
# peers exist (a missing peer is a failure), builds pion-echo, and runs one peer pairing inside
# its own loopback-only namespace.
ECHOES=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
INTEROP=$(cd "$ECHOES/.." && pwd)

need_peer() {
  case $1 in
    aiortc) [ -x "$INTEROP/.venv/bin/python" ] && "$INTEROP/.venv/bin/python" -c 'import aiortc' ;;
    werift) [ -d "$INTEROP/node_modules/werift" ] ;;
    node-datachannel) [ -d "$INTEROP/node_modules/node-datachannel" ] ;;
    chromium) command -v chromium >/dev/null && [ -d "$INTEROP/node_modules/playwright-core" ] ;;
    pion) "$ECHOES/pion/build.sh" "$INTEROP/work/pion-echo" ;;
  esac || { echo "echoes: peer $1 is missing (run interop/setup)" >&2; return 1; }
}

# The command that runs a third-party peer: peer_cmd PEER client URL TEST | PEER server PORT
peer_cmd() {
  local peer=$1; shift
  case $peer in
    aiortc) echo "$INTEROP/.venv/bin/python $ECHOES/aiortc_echo.py $*" ;;
    werift) echo "node $ECHOES/werift_client.mjs ${*:2}" ;;
    node-datachannel) echo "node $ECHOES/ndc_echo.mjs $*" ;;
    chromium) echo "node $ECHOES/chromium_client.mjs $2" ;;
    pion) echo "$INTEROP/work/pion-echo $*" ;;
  esac
}

# in_namespace LOG SERVER_CMD CLIENT_CMD...: starts SERVER_CMD (listening on 127.0.0.1:8080)
# in a fresh namespace, waits for its port, runs each CLIENT_CMD in turn against it and exits
# with the number of client commands that failed. Server output goes to LOG.
in_namespace() {
  local log=$1 server=$2; shift 2
  "$INTEROP/isolated" -- bash -c '
    log=$1 server=$2; shift 2
    $server >"$log" 2>&1 & srv=$!
    for _ in $(seq 100); do (echo >/dev/tcp/127.0.0.1/8080) 2>/dev/null && break; sleep 0.1; done
    failed=0
    for c in "$@"; do timeout 45 $c || failed=$((failed + 1)); done
    kill $srv 2>/dev/null; wait $srv 2>/dev/null
    exit $failed' in_namespace "$log" "$server" "$@"
}
