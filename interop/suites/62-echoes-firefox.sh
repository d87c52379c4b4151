#!/usr/bin/env bash
# Firefox ESR (Debian firefox-esr, headless, driven without WebDriver by interop/firefox:
# a page that reports back to a local harness) in both webrtc-echoes roles, each run in its
# own namespace with a veth pair (interop/isolated --veth: Firefox gathers no candidates on
# loopback alone). Our peers listen on 127.0.0.1 and must answer with candidates Firefox
# reaches from its interface address.
#   client, DTLS 1.2 and default: Firefox offers its fake camera, microphone and a data channel
#       to `echo-server`: DTLS connects, a random string comes back, the echoed video decodes
#       (framesDecoded > 10) and the echoed audio arrives (> 50 packets); echo-server's log
#       must name the DTLS version (1.2 with media.peerconnection.dtls.version.max=771, 1.3 by
#       default);
#   client, media-peer: Firefox's camera to `media-peer` (RTP session: > 30 whole VP8 frames,
#       one a key frame) and media-peer's VP8 fixture back, which Firefox decodes; DTLS 1.3
#       (media-peer's report);
#   server, DTLS 1.2 and default: `echo-client --test 0` (DTLS, prints the version) and
#       `--test 1` (data channel echo) against Firefox answering, and `echo-client --video`:
#       our VP8 fixture to Firefox, which decodes it and sends it back re-encoded; echo-client
#       must get whole VP8 frames back.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
name=62-echoes-firefox
command -v firefox-esr >/dev/null || { echo "$name: firefox-esr is missing (interop/setup installs it)"; exit 1; }
command -v node >/dev/null || { echo "$name: node is missing"; exit 1; }
command -v gst-launch-1.0 >/dev/null || { echo "$name: gst-launch-1.0 is missing (gstreamer1.0-tools)"; exit 1; }
version=$(firefox-esr --version 2>/dev/null) || { echo "$name: firefox-esr does not run"; exit 1; }
echo "firefox: $version"
cargo build --release --locked -q -p rtcweb-examples --bin echo-server --bin echo-client --bin media-peer
W="$root/interop/work/$name"
rm -rf "$W"; mkdir -p "$W/vp8"
# The VP8 fixture (as suite 70): 10 s of 320x240 at 30 fps, one key frame, one file a frame.
gst-launch-1.0 -q videotestsrc num-buffers=300 pattern=ball \
  ! video/x-raw,width=320,height=240,framerate=30/1 \
  ! vp8enc deadline=1 lag-in-frames=0 keyframe-max-dist=300 target-bitrate=400000 \
  ! multifilesink location="$W/vp8/frame-%05d.vp8"
export F="$root/interop/firefox/firefox_echo.mjs" BIN="${CARGO_TARGET_DIR:-$root/target}/release" W
fails=0; passes=0
pass() { echo "PASS $*"; passes=$((passes + 1)); }
fail() { echo "FAIL $*"; fails=$((fails + 1)); }
# dtls_prefs VERSION: the Firefox pref that limits it to VERSION (none for the default).
dtls_prefs() { [ "$1" = 1.2 ] && echo media.peerconnection.dtls.version.max=771 || true; }
expected() { [ "$1" = 1.2 ] && echo "DTLS 1.2" || echo "DTLS 1.3"; }
# What our DTLS engine saw of Firefox's ClientHello (dimpl's debug log), when we were server.
groups() { grep -ho 'ClientHello processed: .*\|HelloRetryRequest[^"]*\|Selected cipher suite: [A-Z0-9_]*' "$@" 2>/dev/null | sed 's/\x1b\[[0-9;]*m//g' | sort -u | tr '\n' ';' || true; }

for dtls in 1.2 default; do
  run=client-$dtls
  echo "--- Firefox (client, DTLS $dtls) -> echo-server: data channel, camera and microphone echoed"
  code=0
  RUN=$run PREFS=$(dtls_prefs $dtls) "$root/interop/isolated" --veth -- bash -c '
    mkdir -p "$W/$RUN"
    RUST_LOG=info,dimpl=debug "$BIN/echo-server" --listen 127.0.0.1:8080 > "$W/$RUN/echo-server.log" 2>&1 & srv=$!
    for _ in $(seq 100); do (echo >/dev/tcp/127.0.0.1/8080) 2>/dev/null && break; sleep 0.1; done
    code=0
    timeout 75 node "$F" client http://127.0.0.1:8080/offer dtls,echo,video,audio "$W/$RUN" $PREFS > "$W/$RUN/firefox.log" 2>&1 || code=$?
    kill $srv 2>/dev/null; wait $srv 2>/dev/null || true
    exit $code' || code=$?
  sed "s/^/  [$run] /" "$W/$run/firefox.log"
  version=$(grep -oE 'DTLS connected version="?DTLS 1\.[23]' <(sed 's/\x1b\[[0-9;]*m//g' "$W/$run/echo-server.log") | head -1 | grep -o 'DTLS 1\.[23]' || true)
  echo "  [$run] echo-server: ${version:-no DTLS connection}"
  if [ $code -eq 0 ] && [ "$version" = "$(expected $dtls)" ]; then
    pass "$run: $version, data channel echo, echoed video decoded and audio received by Firefox"
  else
    fail "$run (exit $code, ${version:-no DTLS}; logs in $W/$run)"
  fi
done

run=client-media-peer
echo "--- Firefox (client) -> media-peer: camera as whole VP8 frames, the fixture back"
code=0
RUN=$run "$root/interop/isolated" --veth -- bash -c '
  mkdir -p "$W/$RUN"
  RUST_LOG=info "$BIN/media-peer" --listen 127.0.0.1:8080 --send "$W/vp8" --report "$W/$RUN/report.json" > "$W/$RUN/media-peer.log" 2>&1 & srv=$!
  for _ in $(seq 100); do (echo >/dev/tcp/127.0.0.1/8080) 2>/dev/null && break; sleep 0.1; done
  code=0
  timeout 75 node "$F" client http://127.0.0.1:8080/offer dtls,video,hold=4 "$W/$RUN" > "$W/$RUN/firefox.log" 2>&1 || code=$?
  sleep 1
  kill $srv 2>/dev/null; wait $srv 2>/dev/null || true
  exit $code' || code=$?
sed "s/^/  [$run] /" "$W/$run/firefox.log"
frames=$(jq -r '.received.VP8.frames // 0' "$W/$run/report.json" 2>/dev/null || echo 0)
keys=$(jq -r '.received.VP8.keyFrames // 0' "$W/$run/report.json" 2>/dev/null || echo 0)
version=$(jq -r '.stats.transport.tlsVersion // empty' "$W/$run/report.json" 2>/dev/null || true)
echo "  [$run] media-peer: ${version:-no DTLS}, $frames VP8 frames ($keys key frames) from Firefox," \
  "$(jq -r '.framesSent // 0' "$W/$run/report.json" 2>/dev/null || echo 0) fixture frames sent"
if [ $code -eq 0 ] && [ "$frames" -gt 30 ] && [ "$keys" -ge 1 ] && [ "$version" = "DTLS 1.3" ]; then
  pass "$run: $version, Firefox's camera reached media-peer as $frames whole VP8 frames, Firefox decoded the fixture"
else
  fail "$run (exit $code, $frames frames; logs in $W/$run)"
fi

for dtls in 1.2 default; do
  run=server-$dtls
  echo "--- echo-client -> Firefox (server, DTLS $dtls): DTLS, data channel echo, VP8 there and back"
  code=0
  RUN=$run PREFS=$(dtls_prefs $dtls) "$root/interop/isolated" --veth -- bash -c '
    mkdir -p "$W/$RUN"
    node "$F" server 8080 "$W/$RUN" $PREFS > "$W/$RUN/firefox.log" 2>&1 & srv=$!
    for _ in $(seq 100); do (echo >/dev/tcp/127.0.0.1/8080) 2>/dev/null && break; sleep 0.1; done
    failed=0
    for t in "--test 0" "--test 1" "--test 1 --video $W/vp8"; do
      RUST_LOG=warn,dimpl=debug timeout 45 "$BIN/echo-client" --url http://127.0.0.1:8080/offer $t \
        >> "$W/$RUN/echo-client.out" 2>> "$W/$RUN/echo-client.err" || failed=$((failed + 1))
    done
    kill $srv 2>/dev/null; wait $srv 2>/dev/null || true
    exit $failed' || code=$?
  sed "s/^/  [$run] /" "$W/$run/echo-client.out" || true
  grep -v 'inbound' "$W/$run/firefox.log" | sed "s/^/  [$run] /" || true
  grep 'inbound' "$W/$run/firefox.log" | tail -1 | sed "s/^/  [$run] /" || true
  echo "  [$run] our DTLS server saw: $(groups "$W/$run/echo-client.err")"
  version=$(grep -o 'test 0 passed .*: DTLS 1\.[23]' "$W/$run/echo-client.out" | grep -o 'DTLS 1\.[23]' || true)
  decoded=$(grep -o '"framesDecoded":[0-9]*' "$W/$run/firefox.log" | tail -1 | cut -d: -f2 || true)
  if [ $code -eq 0 ] && [ "$version" = "$(expected $dtls)" ] && [ "${decoded:-0}" -gt 10 ]; then
    pass "$run: $version, data channel echo, our VP8 decoded by Firefox ($decoded frames) and its echo back as whole frames"
  else
    fail "$run (exit $code, ${version:-no DTLS}, ${decoded:-0} frames decoded by Firefox; logs in $W/$run)"
  fi
done
echo "$name: $passes passed, $fails failed"
[ "$fails" -eq 0 ]
