#!/usr/bin/env bash
# Builds a corpus per fuzz target in fuzz/corpus/<target> (kept out of git): seeds made from
# the repository's captures and vectors, then SECONDS of fuzzing on one core, which adds
# every input that reaches new code. Runs again grow the same corpora.
#
#   bash fuzz/corpus.sh [SECONDS] [TARGET...]     default: 180 s, every target
#
# Seeds: the SDP corpus captured from browsers and stacks (crates/rtcweb-jsep/tests/corpus)
# for the SDP, JSEP and signaling targets; the RFC 5769 STUN messages
# (../shared/vectors, when present) for the STUN, ICE and TURN targets; Chromium's
# ClientHello for the DTLS targets; ICE server URLs of every form.
set -euo pipefail
cd "$(dirname "$0")"
export RUSTC_BOOTSTRAP=1
secs=${1:-180}
shift || true
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  mapfile -t targets < <(cargo fuzz list)
fi
vectors=../../shared/vectors
[ -d "$vectors" ] || vectors=/work/shared/vectors

# Seeds are written by a small Python helper: binary framing per target.
seed() {
  python3 - "$1" "$vectors" <<'EOF'
import glob, os, sys
target, vectors = sys.argv[1], sys.argv[2]
out = f"corpus/{target}"
os.makedirs(out, exist_ok=True)
sdps = sorted(glob.glob("../crates/rtcweb-jsep/tests/corpus/**/*.sdp", recursive=True))
def put(name, data):
    with open(os.path.join(out, "seed-" + name), "wb") as f:
        f.write(data)
def stun():
    msgs = []
    for path in glob.glob(os.path.join(vectors, "rfc5769-stun.txt")):
        for line in open(path):
            if line.startswith("hex: "):
                msgs.append(bytes.fromhex(line[5:].strip()))
    return msgs
hello = [open(f"../crates/rtcweb-dtls/tests/data/chromium-156/client-hello-{i}.bin", "rb").read()
         for i in (1, 2)]
if target == "sdp_parse":
    for p in sdps:
        put(os.path.basename(p), open(p, "rb").read())
elif target == "jsep_set_remote":
    for p in sdps:
        sdp = open(p, "rb").read()
        mode = 2 if "answers-to-ours" in p else (1 if "-av-" in p else 0)
        put(f"{mode}-" + os.path.basename(p), bytes([mode]) + sdp)
elif target == "signaling_messages":
    for p in sdps[:8]:
        sdp = open(p).read()
        import json
        put("json-" + os.path.basename(p), json.dumps({"type": "offer", "sdp": sdp}).encode())
        put("room-" + os.path.basename(p),
            json.dumps({"type": "sdp", "to": "2", "sdp": {"type": "offer", "sdp": sdp}}).encode())
    put("frag", b"a=ice-ufrag:abcd\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=mid:0\r\n"
        b"a=candidate:1 1 udp 2122260223 198.51.100.1 5000 typ host\r\na=end-of-candidates\r\n")
elif target in ("stun_message", "turn_server_input", "ice_input"):
    for i, m in enumerate(stun()):
        if target == "stun_message":
            put(f"rfc5769-{i}", m)
        elif target == "turn_server_input":
            # op 0 (client datagram), selector, length, the message.
            put(f"rfc5769-{i}", bytes([0, 0, 0, len(m) & 0xff]) + m)
        else:
            put(f"rfc5769-{i}", bytes([0, 0]) + m)
elif target == "turn_client_input":
    for i, m in enumerate(stun()):
        put(f"rfc5769-{i}", bytes([2, min(len(m), 255)]) + m)
elif target == "dtls_input":
    # A server that got Chromium's hello first, then each fragment again.
    data = bytes([0x10])
    for h in hello:
        data += len(h).to_bytes(2, "big") + bytes([1]) + h
    put("chromium-hello", data)
elif target == "ice_server_url":
    urls = ["stun:203.0.113.1", "stun:[2001:db8::1]:3479", "turn:198.51.100.1:3478?transport=tcp",
            "turns:turn.example.org", "turn:xunresolved.example:80?transport=udp",
            "stuns:stun.example.org:443", "TURN:Turn.Example.Org?Transport=TCP"]
    for i in range(4):
        put(f"urls-{i}", bytes([i]) + "\n".join(urls).encode())
EOF
}

cargo fuzz build
mkdir -p corpus logs
for t in "${targets[@]}"; do
  seed "$t"
  echo "fuzzing $t for $secs s" >&2
  # -len_control=0: libFuzzer otherwise grows inputs slowly with the number of runs, and the
  # targets that connect two endpoints first (tens of runs a second) stay at a dozen bytes.
  cargo fuzz run "$t" "corpus/$t" -- -max_total_time="$secs" -rss_limit_mb=2048 \
    -len_control=0 -print_final_stats=1 >"logs/$t.log" 2>&1 \
    || { tail -40 "logs/$t.log" >&2; exit 1; }
  grep -E "^stat::number_of_executed_units|^Done" "logs/$t.log" >&2 || true
done
