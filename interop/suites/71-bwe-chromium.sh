#!/usr/bin/env bash
# Bandwidth estimation side by side with Chromium on a shaped path (issue 14's real-link
# proof). interop/shaped-path joins namespaces spA (Chromium) and spB (media-peer) through
# our delay line (rtcweb-netsim's link model on real frames: fixed delay, rate limit with a
# 150 ms drop-tail queue, each direction its own bottleneck). In one run, on one connection:
#   (a) Chromium sends its fake camera to media-peer, which answers with TWCC feedback;
#   (b) media-peer --send-test-pattern sends to Chromium, its encoder following our estimate.
# Chromium's camera plays the same test pattern (a Y4M file from test-pattern-y4m), in the
# same codec, so both encoders have the same work. The delay line measures, per direction,
# what crossed the bottleneck and how long frames waited in its queue; Chromium reports its
# availableOutgoingBitrate and what it decoded of ours (framesDecoded, freezeCount,
# jitterBufferDelay); media-peer reports our estimate. interop/media/bwe_table.py prints a row
# per link with issue 14's goal (met or not: our utilisation at least Chromium's, our queueing
# delay no worse) and fails the row when our utilisation is more than 5 points below
# Chromium's, our mean queueing delay is more than 30 ms above Chromium's (looser than the
# goal, which we miss at 400 kbit/s), or Chromium decodes too little of our video or freezes
# on it (after a capacity step, from 5 s after it on) (margins and figures: docs/bwe.md).
#
# Links: 400 kbit/s, 1 Mbit/s, 1 Mbit/s with 1 % random loss, and 2 -> 0.6 Mbit/s (step
# during the run), without and with 50 ms base RTT, a 150 ms drop-tail queue. CI runs four of
# the seven (400k/0 ms VP8, 1M/50 ms H.264, 1M/50 ms/1 % VP8, step/50 ms VP8); BWE_LONG=1 runs
# all seven, longer. BWE_ONLY=NAME runs only the cells whose name starts with NAME (for
# experiments; the suite then says how many it left out).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
name=71-bwe-chromium
command -v chromium >/dev/null || { echo "$name: chromium is missing (interop/setup installs it)"; exit 1; }
command -v node >/dev/null || { echo "$name: node is missing"; exit 1; }
command -v ethtool >/dev/null || { echo "$name: ethtool is missing (interop/setup installs it)"; exit 1; }
command -v ping >/dev/null || { echo "$name: ping is missing (iputils-ping, interop/setup installs it)"; exit 1; }
[ -d interop/node_modules/playwright-core ] || { echo "$name: playwright-core is missing (run interop/setup)"; exit 1; }
pkg-config --exists vpx || { echo "$name: libvpx-dev is missing (interop/setup installs it)"; exit 1; }
echo "chromium: $(chromium --version 2>/dev/null | grep -o '[0-9][0-9.]*' | head -1)"
cargo build --release --locked -q -p rtcweb-examples --features test-pattern \
  --bin media-peer --bin delay-line --bin test-pattern-y4m
bin="${CARGO_TARGET_DIR:-$root/target}/release"
export DELAY_LINE="$bin/delay-line"
W="$root/interop/work/$name"
rm -rf "$W"; mkdir -p "$W"
"$bin/test-pattern-y4m" --out "$W/pattern.y4m" --frames 150
SP="$root/interop/shaped-path"
trap '"$SP" down >/dev/null 2>&1 || true' EXIT

# cell NAME KBIT ONE_WAY_MS CODEC SECONDS WINDOW_FROM LOSS_PERCENT [STEP_AT STEP_KBIT]
cell() {
  local cell=$1 kbit=$2 owd=$3 codec=$4 secs=$5 from=$6 loss=$7 step_at=${8:-} step_kbit=${9:-} code=0
  local d="$W/$cell" at=()
  mkdir -p "$d"
  echo "--- $cell: ${kbit} kbit/s each way$([ -n "$step_at" ] && echo " -> $step_kbit at ${step_at} s"), $((2 * owd)) ms base RTT, ${loss} % random loss, $codec, $secs s"
  "$SP" up --delay-ms "$owd" --rate-kbit "$kbit" --queue-ms 150 --loss "$loss" --log "$d/delay-line.jsonl"
  "$SP" exec A ping -c 5 -i 0.2 -q 198.18.71.2 | tail -1 | sed "s/^/  [$cell] base /"
  "$SP" exec B "$bin/media-peer" --listen 198.18.71.2:8080 --send-test-pattern \
    --listen-address-only --codec "$codec" --max-bitrate 2500000 --report "$d/media-peer.json" > "$d/media-peer.log" 2>&1 &
  local peer=$!
  for _ in $(seq 100); do "$SP" exec A bash -c 'echo >/dev/tcp/198.18.71.2/8080' 2>/dev/null && break; sleep 0.1; done
  [ -n "$step_at" ] && at=(--at "$step_at" "$SP set --rate-kbit $step_kbit")
  "$SP" exec A timeout $((secs + 90)) node interop/media/chromium_bwe.mjs http://198.18.71.2:8080/offer \
    "$codec" "$d/chromium.json" "$secs" --camera "$W/pattern.y4m" "${at[@]}" > "$d/chromium.log" 2>&1 || code=$?
  kill "$peer" 2>/dev/null || true; wait "$peer" 2>/dev/null || true
  "$SP" down > "$d/delay-line.log" 2>&1 || true
  grep '^delay-line .*forwarded' "$d/delay-line.log" | sed "s/^/  [$cell] /" || true
  if [ $code -ne 0 ]; then
    grep -v '^chromium console' "$d/chromium.log" | sed "s/^/  [$cell] /" || true
    echo "FAIL $cell: the Chromium run did not complete (exit $code; logs in $d)"
    return 1
  fi
  local capacity=$kbit; [ -n "$step_kbit" ] && capacity=$step_kbit
  python3 interop/media/bwe_table.py row "$cell" "$capacity" $((2 * owd)) "$d/chromium.json" \
    "$d/media-peer.json" "$d/delay-line.jsonl" --from "$from" >> "$W/table.txt" || return 1
}

if [ -n "${BWE_LONG:-}" ]; then
  cells=(
    "400k-0ms 400 0 vp8 40 10 0"
    "400k-50ms 400 25 h264 40 10 0"
    "1m-0ms 1000 0 h264 40 10 0"
    "1m-50ms 1000 25 vp8 40 10 0"
    "1m-50ms-loss1 1000 25 vp8 40 10 1"
    "step-0ms 2000 0 h264 45 step 0 20 600"
    "step-50ms 2000 25 vp8 45 step 0 20 600"
  )
else
  cells=(
    "400k-0ms 400 0 vp8 25 8 0"
    "1m-50ms 1000 25 h264 25 8 0"
    "1m-50ms-loss1 1000 25 vp8 25 8 1"
    "step-50ms 2000 25 vp8 30 step 0 12 600"
  )
fi
python3 interop/media/bwe_table.py header > "$W/table.txt"
fails=0; passes=0; skipped=0
for c in "${cells[@]}"; do
  if [ -n "${BWE_ONLY:-}" ] && [[ "$c" != "$BWE_ONLY"* ]]; then skipped=$((skipped + 1)); continue; fi
  # shellcheck disable=SC2086
  if cell $c; then passes=$((passes + 1)); else fails=$((fails + 1)); fi
done
echo "--- utilisation (bytes that crossed the bottleneck / capacity) and queueing delay (mean/max ms"
echo "    frames waited in the bottleneck's queue) over each window; C: Chromium sending, us: media-peer"
echo "    sending; est: mean availableOutgoingBitrate / our target (kbit/s); fps, frz, jb: what Chromium"
echo "    decoded of ours (frames/s, freezes, mean jitter buffer delay)"
cat "$W/table.txt"
echo "$name: $passes passed, $fails failed$([ "$skipped" -gt 0 ] && echo ", $skipped left out (BWE_ONLY=$BWE_ONLY)")"
[ "$fails" -eq 0 ] && [ "$passes" -gt 0 ]
