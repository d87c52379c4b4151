#!/usr/bin/env bash
# Builds pion-bench offline (GOPATH mode, GO111MODULE=off) against Debian's
# golang-github-pion-webrtc.v3-dev, like interop/sdp-corpus/pion/build.sh: Debian installs
# some pion modules without their /vN directory, so a scratch GOPATH links those paths.
#   benches/peers/pion/build.sh OUTPUT
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out=$1
root=$(cd "$here/../../.." && pwd)
gp=$root/interop/work/gopath
sys=/usr/share/gocode/src/github.com/pion
[ -d "$sys/webrtc" ] || { echo "pion: apt-get install golang-go golang-github-pion-webrtc.v3-dev" >&2; exit 1; }
mkdir -p "$gp/src/pionbench" "$gp/src/github.com/pion"
for p in sdp/v3 transport/v2 udp/v2 webrtc/v3; do
  mkdir -p "$gp/src/github.com/pion/${p%/*}"
  ln -sfn "$sys/${p%/*}" "$gp/src/github.com/pion/$p"
done
cp "$here/main.go" "$gp/src/pionbench/main.go"
cd "$gp/src/pionbench"
GO111MODULE=off GOPATH="$gp:/usr/share/gocode" GOCACHE="$gp/../go-cache" GOFLAGS= \
  go build -o "$out" .
