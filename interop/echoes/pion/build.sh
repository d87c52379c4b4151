#!/usr/bin/env bash
# Builds pion-echo offline (GOPATH mode, GO111MODULE=off) against Debian's
# golang-github-pion-webrtc.v3-dev. Debian installs some pion modules without their /vN
# directory; a scratch GOPATH under interop/work links those import paths to the installed
# sources.
#   pion/build.sh OUTPUT
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out=$1
[ -d /usr/share/gocode/src/github.com/pion/webrtc ] ||
  { echo "pion-echo: golang-github-pion-webrtc.v3-dev is not installed" >&2; exit 1; }
command -v go >/dev/null || { echo "pion-echo: go is not installed (golang-go)" >&2; exit 1; }
gp=$(cd "$here/../.." && pwd)/work/gopath
sys=/usr/share/gocode/src/github.com/pion
mkdir -p "$gp/src/pionecho" "$gp/src/github.com/pion"
for p in sdp/v3 transport/v2 udp/v2 webrtc/v3; do
  mkdir -p "$gp/src/github.com/pion/${p%/*}"
  ln -sfn "$sys/${p%/*}" "$gp/src/github.com/pion/$p"
done
cp "$here/main.go" "$gp/src/pionecho/main.go"
cd "$gp/src/pionecho"
GO111MODULE=off GOPATH="$gp:/usr/share/gocode" GOCACHE="$gp/../go-cache" GOFLAGS= GOPROXY=off \
  go build -o "$out" .
