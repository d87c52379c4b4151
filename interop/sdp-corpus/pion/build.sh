#!/usr/bin/env bash
# Builds pion-capture offline (GOPATH mode, GO111MODULE=off) against Debian's
# golang-github-pion-webrtc.v3-dev. Debian installs some pion modules without their /vN
# directory; a scratch GOPATH links those import paths to the installed sources.
#   pion/build.sh OUTPUT
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out=$1
gp=$(cd "$here/../.." && pwd)/work/gopath
sys=/usr/share/gocode/src/github.com/pion
mkdir -p "$gp/src/pioncapture" "$gp/src/github.com/pion"
for p in sdp/v3 transport/v2 udp/v2 webrtc/v3; do
  mkdir -p "$gp/src/github.com/pion/${p%/*}"
  ln -sfn "$sys/${p%/*}" "$gp/src/github.com/pion/$p"
done
cp "$here/main.go" "$gp/src/pioncapture/main.go"
cd "$gp/src/pioncapture"
GO111MODULE=off GOPATH="$gp:/usr/share/gocode" GOCACHE="$gp/../go-cache" GOFLAGS= \
  go build -o "$out" .
