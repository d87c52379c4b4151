#!/usr/bin/env bash
# Captures real offers and answers from third-party WebRTC peers into the rtcweb-jsep corpus.
# Every peer runs inside interop/isolated (a namespace with loopback only): nothing leaves
# the machine. See README.md for what each file is.
#
#   interop/sdp-corpus/capture.sh [PEER...]        PEER: chromium firefox aiortc pion werift
#                                                    node-datachannel gstreamer janus (default: all)
# Environment:
#   OUT=DIR           where captured SDP goes (default crates/rtcweb-jsep/tests/corpus)
#   OUR_ANSWER=CMD    if set, each peer's offer is also answered by CMD (stdin: offer, stdout:
#                     answer; normally our `jsep-answer` example) and the peer applies that
#                     answer to its own offer; a rejection fails the run.
#   OUR_OFFER=PATH    if set (our `jsep-offer` example), each peer also answers our offers
#                     (av-data and data) and our side applies that answer; a failure fails
#                     the run. The peers' answers go to interop/work/sdp-corpus.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
OUT=${OUT:-$root/crates/rtcweb-jsep/tests/corpus}
WORK=$root/interop/work/sdp-corpus
ISOLATED=$root/interop/isolated
mkdir -p "$OUT" "$WORK"
OUT=$(cd "$OUT" && pwd)
read -r -a ANS <<< "${OUR_ANSWER:-}"

peers=("$@")
[ ${#peers[@]} -gt 0 ] || peers=(chromium firefox aiortc pion werift node-datachannel gstreamer janus)

need() { command -v "$1" >/dev/null 2>&1 || { echo "capture: $1 not installed ($2)" >&2; exit 1; }; }

# Browsers load page.html from capture-server.mjs and POST their SDP back to it.
browser() {
  local name=$1 port=$2; shift 2
  "$ISOLATED" -- bash -c '
    node "$0/capture-server.mjs" "$1" "$2" "$3" "${@:6}" & srv=$!
    sleep 0.5
    eval "$4" >"$3/$5.log" 2>&1 & br=$!
    rc=0; wait $srv || rc=$?
    kill $br 2>/dev/null || true; wait $br 2>/dev/null || true
    exit $rc' "$here" "$port" "$OUT" "$WORK" "$*" "$name" "${ANS[@]}"
}

capture_chromium() {
  need chromium "apt-get install chromium"
  local prof; prof=$(mktemp -d)
  export OUR_OFFER=${OUR_OFFER:-}
  browser chromium 8731 chromium --headless=new --no-sandbox --user-data-dir="$prof" \
    --allow-loopback-in-peer-connection --use-fake-ui-for-media-stream \
    --use-fake-device-for-media-stream "'http://127.0.0.1:8731/?peer=chromium'"
  rm -rf "$prof" 2>/dev/null || true
}

capture_firefox() {
  need firefox-esr "apt-get install firefox-esr"
  local prof; prof=$(mktemp -d)
  cat > "$prof/user.js" <<'PREFS'
user_pref("media.navigator.streams.fake", true);
user_pref("media.navigator.permission.disabled", true);
user_pref("media.peerconnection.ice.loopback", true);
user_pref("network.manage-offline-status", false);
user_pref("network.offline-mirrors-connectivity", false);
user_pref("network.connectivity-service.enabled", false);
user_pref("network.captive-portal-service.enabled", false);
user_pref("media.peerconnection.ice.obfuscate_host_addresses", false);
user_pref("browser.shell.checkDefaultBrowser", false);
user_pref("datareporting.policy.dataSubmissionEnabled", false);
user_pref("app.update.enabled", false);
PREFS
  browser firefox 8732 firefox-esr --headless --no-remote --profile "$prof" \
    "'http://127.0.0.1:8732/?peer=firefox'"
  rm -rf "$prof" 2>/dev/null || true
}

capture_aiortc() {
  [ -x "$root/interop/.venv/bin/python" ] || { echo "capture: interop/.venv missing (interop/setup)" >&2; exit 1; }
  "$ISOLATED" -- "$root/interop/.venv/bin/python" "$here/aiortc_capture.py" "$OUT" "$WORK" "${ANS[@]}"
}

capture_pion() {
  need go "apt-get install golang-go golang-github-pion-webrtc.v3-dev"
  "$here/pion/build.sh" "$WORK/pion-capture"
  "$ISOLATED" -- "$WORK/pion-capture" "$OUT" "$WORK" "${ANS[@]}"
}

capture_werift() {
  [ -d "$root/interop/node_modules/werift" ] || { echo "capture: werift missing (interop/setup)" >&2; exit 1; }
  "$ISOLATED" -- node "$here/werift_capture.mjs" "$OUT" "$WORK" "${ANS[@]}"
}

capture_node-datachannel() {
  [ -d "$root/interop/node_modules/node-datachannel" ] || { echo "capture: node-datachannel missing (interop/setup)" >&2; exit 1; }
  "$ISOLATED" -- node "$here/ndc_capture.mjs" "$OUT" "$WORK" "${ANS[@]}"
}

capture_gstreamer() {
  /usr/bin/python3 -c 'import gi; gi.require_version("GstWebRTC", "1.0")' ||
    { echo "capture: GStreamer webrtcbin missing (gstreamer1.0-plugins-bad gir1.2-gst-plugins-bad-1.0 python3-gi)" >&2; exit 1; }
  "$ISOLATED" -- /usr/bin/python3 "$here/gst_capture.py" "$OUT" "$WORK" "${ANS[@]}"
}

capture_janus() {
  need janus "apt-get install janus"
  "$ISOLATED" -- bash "$here/janus_capture.sh" "$OUT" "$WORK" "${ANS[@]}"
}

for p in "${peers[@]}"; do
  echo "--- capture: $p"
  "capture_$p"
done

# The peers' answers to our offers, next to the offers they answer.
if [ -n "${OUR_OFFER:-}" ]; then
  mkdir -p "$OUT/answers-to-ours"
  for kind in av-data data; do
    "$OUR_OFFER" offer "$kind" > "$OUT/answers-to-ours/ours-offer-$kind.sdp"
    for p in "${peers[@]}"; do
      cp "$WORK/$p-$kind.our-offer-answer.sdp" "$OUT/answers-to-ours/$p-answer-$kind.sdp"
    done
  done
fi
echo "capture: done ($(ls "$OUT"/*.sdp | wc -l) files in $OUT)"
