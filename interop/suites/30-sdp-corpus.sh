#!/usr/bin/env bash
# SDP corpus, captured afresh: Chromium, Firefox ESR, aiortc, pion, werift, node-datachannel,
# GStreamer webrtcbin and Janus each make offers (audio+video+data, data only) and answers
# inside the isolated namespace; each peer then applies rtcweb-jsep's answer to its own
# offer and answers our offer, which we then apply (any rejection either way fails the
# suite), and the rtcweb-jsep corpus tests run on the fresh files. The checked-in corpus
# (crates/rtcweb-jsep/tests/corpus) is not touched.
set -euo pipefail
cd "$(dirname "$0")/../.."
cargo build --release --locked -p rtcweb-jsep --example jsep-answer --example jsep-offer
out=interop/work/sdp-corpus/fresh
rm -rf "$out"
mkdir -p "$out"
log=interop/work/sdp-corpus/capture.log
OUT="$out" OUR_ANSWER="$PWD/target/release/examples/jsep-answer" \
  OUR_OFFER="$PWD/target/release/examples/jsep-offer" interop/sdp-corpus/capture.sh | tee "$log"
files=$(ls "$out"/*.sdp | wc -l)
ours=$(grep '^check .*: accepted' "$log" | grep -vc -- '-our-offer-' || true)
theirs=$(grep -c '^check .*-our-offer-.*: accepted' "$log" || true)
echo "sdp-corpus: $files files captured; peers accepted our answer $ours/16 times," \
  "we accepted their answer to our offer $theirs/16 times"
[ "$files" -eq 32 ] && [ "$ours" -eq 16 ] && [ "$theirs" -eq 16 ] ||
  { echo "sdp-corpus: expected 32 files and 16 + 16 acceptances" >&2; exit 1; }
SDP_CORPUS_DIR="$PWD/$out" cargo test --release --locked -p rtcweb-jsep --test corpus
