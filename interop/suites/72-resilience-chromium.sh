#!/usr/bin/env bash
# Loss resilience against Chromium: RED for Opus and ULPFEC for VP8, both ways, through 10 %
# random loss. Each run is a fresh loopback-only namespace in which iptables' `statistic`
# match drops 10 % of all UDP datagrams at random (this kernel has no netem): media, RTCP,
# STUN and DTLS alike, in both directions. interop/media/chromium_resilience.mjs drives
# Chromium (fake microphone and camera, RED and ULPFEC preferred) against media-peer, which
# sends back an Opus and a VP8 fixture made here with GStreamer.
#
# Generic NACK is not negotiated in either run (media-peer --no-nack, and the driver removes
# it from Chromium's offer): on loopback the round trip is ~0 ms, NACK would repair every
# loss at once, and Chromium (like us) sends no FEC when NACK can repair in a cheap round
# trip.
#   resilient: RED and ULPFEC negotiated. Chromium's RED audio and ULPFEC video are decoded
#              by media-peer: packets recovered from RED and from FEC are counted
#              (getStats packetsRecoveredByRed, packetsRecoveredByFec), and each must be > 0.
#              How many of Chromium's frames media-peer assembles whole is printed for both
#              runs, not checked: with Chromium's FEC it is not better than without yet
#              (docs/status.md).
#   plain:     media-peer --no-red --no-fec, same loss.
#   compare:   Chromium decodes our RED audio and FEC video with fewer concealed samples
#              (inbound-rtp concealedSamples per received sample) and more decoded frames
#              (framesDecoded) than in the plain run.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
name=72-resilience-chromium
command -v chromium >/dev/null || { echo "$name: chromium is missing (interop/setup installs it)"; exit 1; }
command -v node >/dev/null || { echo "$name: node is missing"; exit 1; }
command -v iptables >/dev/null || { echo "$name: iptables is missing"; exit 1; }
[ -d interop/node_modules/playwright-core ] || { echo "$name: playwright-core is missing (run interop/setup)"; exit 1; }
command -v gst-launch-1.0 >/dev/null || { echo "$name: gst-launch-1.0 is missing (gstreamer1.0-tools)"; exit 1; }
for e in vp8enc opusenc; do
  gst-inspect-1.0 $e >/dev/null 2>&1 || { echo "$name: GStreamer's $e is missing"; exit 1; }
done
echo "chromium: $(chromium --version 2>/dev/null | grep -o '[0-9][0-9.]*' | head -1)"
cargo build --release --locked -q -p rtcweb-examples --bin media-peer
target=${CARGO_TARGET_DIR:-$root/target}
W="$root/interop/work/$name"
rm -rf "$W"; mkdir -p "$W/vp8" "$W/opus"
# The fixtures: 10 s of 320x240 VP8 at 30 fps, one key frame at the start, one file per
# frame; 10 s of a 440 Hz tone in 20 ms Opus packets, one file per packet.
gst-launch-1.0 -q videotestsrc num-buffers=300 pattern=ball \
  ! video/x-raw,width=320,height=240,framerate=30/1 \
  ! vp8enc deadline=1 lag-in-frames=0 keyframe-max-dist=300 target-bitrate=400000 \
  ! multifilesink location="$W/vp8/frame-%05d.vp8"
gst-launch-1.0 -q audiotestsrc num-buffers=500 samplesperbuffer=960 freq=440 \
  ! audio/x-raw,rate=48000,channels=2 ! opusenc frame-size=20 bitrate=32000 \
  ! multifilesink location="$W/opus/packet-%05d.opus"
echo "fixtures: $(ls "$W/vp8" | wc -l) VP8 frames, $(ls "$W/opus" | wc -l) Opus packets"
export P="$target/release/media-peer" B="$root/interop/media/chromium_resilience.mjs" W
[ -x "$P" ] || { echo "$name: $P was not built"; exit 1; }
SECONDS_PER_RUN=${RESILIENCE_SECONDS:-20}
LOSS=${RESILIENCE_LOSS:-0.10}

# run NAME MEDIA_PEER_ARGS: one run in a fresh namespace with LOSS random UDP loss; writes
# $W/NAME.out.json, prints the Chromium log, returns the driver's exit code.
run() {
  local run=$1 peer_args=$2 code=0
  RUN=$run PEER_ARGS=$peer_args S=$SECONDS_PER_RUN LOSS=$LOSS \
  "$root/interop/isolated" -- bash -c '
    iptables -A INPUT -p udp -m statistic --mode random --probability "$LOSS" -j DROP
    RUST_LOG=info "$P" --listen 127.0.0.1:8080 --report "$W/$RUN.json" \
      --send "$W/vp8" --send-audio "$W/opus" $PEER_ARGS > "$W/$RUN-peer.log" 2>&1 & srv=$!
    for _ in $(seq 100); do (echo >/dev/tcp/127.0.0.1/8080) 2>/dev/null && break; sleep 0.1; done
    code=0
    timeout $((S + 90)) node "$B" http://127.0.0.1:8080/offer "$W/$RUN.json" "$S" "$W/$RUN.out.json" \
      > "$W/$RUN-chromium.log" 2>&1 || code=$?
    echo "iptables dropped $(iptables -L INPUT -v -n -x | awk "/DROP/ {print \$1}") UDP datagrams" >> "$W/$RUN-chromium.log"
    kill $srv 2>/dev/null; wait $srv 2>/dev/null || true
    exit $code
  ' || code=$?
  grep -v '^chromium console' "$W/$run-chromium.log" | sed "s/^/  [$run] /" || true
  return $code
}

fails=0; passes=0
check() { # check NAME CONDITION-EXIT-CODE MESSAGE
  if [ "$2" -eq 0 ]; then echo "PASS $1: $3"; passes=$((passes + 1)); else echo "FAIL $1: $3"; fails=$((fails + 1)); fi
}
echo "--- resilient: RED and ULPFEC, $LOSS random loss, no NACK"
rc=0; run resilient "--no-nack" || rc=$?
check resilient-run $rc "the run completed"
echo "--- plain: no RED, no ULPFEC, $LOSS random loss, no NACK"
rc=0; run plain "--no-nack --no-red --no-fec" || rc=$?
check plain-run $rc "the run completed"

# Figures from the runs' JSON (missing ones come out as -1 and fail the checks).
fig() { # fig RUN JS-EXPRESSION-OVER-r
  node -e '
    const fs = require("fs");
    let r; try { r = JSON.parse(fs.readFileSync(process.argv[1], "utf8")); } catch { console.log(-1); process.exit(0); }
    const ours = (k) => (r.mediaPeer.stats.inboundRtp || []).find((s) => s.kind === k) || {};
    const v = (function () { return eval(process.argv[2]); })();
    console.log(v === undefined || v === null || Number.isNaN(v) ? -1 : v);
  ' "$W/$1.out.json" "$2"
}
red=$(fig resilient 'ours("audio").packetsRecoveredByRed')
fec=$(fig resilient 'ours("video").packetsRecoveredByFec')
fec_in=$(fig resilient 'ours("video").fecPacketsReceived')
lost_v=$(fig resilient 'ours("video").packetsLost')
lost_a=$(fig resilient 'ours("audio").packetsLost')
red_answer=$(fig resilient 'r.answerCodecs.some((l) => /red\/48000/.test(l)) && r.answerCodecs.some((l) => /ulpfec\/90000/.test(l)) ? 1 : 0')
echo "media-peer from Chromium: audio $lost_a packets lost, $red rebuilt from RED; video $fec_in FEC packets received, $lost_v packets lost, $fec rebuilt from ULPFEC"
check answer "$([ "$red_answer" = 1 ]; echo $?)" "the answer has red/48000 and ulpfec/90000"
check red-recovered "$([ "$red" -gt 0 ]; echo $?)" "$red Opus packets of Chromium's rebuilt from RED"
check fec-recovered "$([ "$fec" -gt 0 ]; echo $?)" "$fec VP8 packets of Chromium's rebuilt from ULPFEC"
for run in resilient plain; do
  eval "in_$run=$(fig $run 'ours("video").framesReceived') sent_$run=$(fig $run 'r.outVideo.framesSent')"
  # NACKs either way and our retransmissions (Chromium's RTX probes are no repair).
  eval "nacks_$run=$(fig $run 'r.inVideo.nackCount + ours("video").nackCount + (r.mediaPeer.stats.outboundRtp || []).find((s) => s.kind === "video").retransmittedPacketsSent')"
done
check no-nack "$([ "$nacks_resilient" -eq 0 ] && [ "$nacks_plain" -eq 0 ]; echo $?)" \
  "NACKs sent and retransmissions: $nacks_resilient and $nacks_plain"
echo "figure: media-peer assembled $in_resilient of Chromium's $sent_resilient frames whole with its FEC, $in_plain of $sent_plain without"

for run in resilient plain; do
  c=$(fig $run 'r.inAudio.concealedSamples'); t=$(fig $run 'r.inAudio.totalSamplesReceived')
  d=$(fig $run 'r.inVideo.framesDecoded'); f=$(fig $run 'r.inVideo.freezeCount'); p=$(fig $run 'r.inVideo.pliCount')
  sent_red=$(fig $run '(r.mediaPeer.stats.outboundRtp || []).find((s) => s.kind === "audio").redPacketsSent')
  sent_fec=$(fig $run '(r.mediaPeer.stats.outboundRtp || []).find((s) => s.kind === "video").fecPacketsSent')
  echo "Chromium from media-peer ($run): $c of $t samples concealed, $d frames decoded, $f freezes, $p PLIs; media-peer sent $sent_red RED and $sent_fec FEC packets"
  eval "conc_$run=$c total_$run=$t dec_$run=$d"
done
better_audio=$(awk -v a="$conc_resilient" -v at="$total_resilient" -v b="$conc_plain" -v bt="$total_plain" \
  'BEGIN { exit !(a >= 0 && b > 0 && at > 0 && bt > 0 && a / at < b / bt) }'; echo $?)
check audio-back "$better_audio" "Chromium concealed $conc_resilient of $total_resilient samples with our RED, $conc_plain of $total_plain without"
better_video=$(awk -v a="$dec_resilient" -v b="$dec_plain" 'BEGIN { exit !(a > 0 && a > b) }'; echo $?)
check video-back "$better_video" "Chromium decoded $dec_resilient frames with our FEC, $dec_plain without"
echo "$name: $passes passed, $fails failed"
[ "$fails" -eq 0 ]
