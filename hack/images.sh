#!/usr/bin/env bash
# Builds the operator's and the sample app's images without a Docker engine:
# each is the static binary and the CA certificates, nothing else, running as
# the non-root user 65532, packed by hack/tools/ociimage (go-containerregistry)
# into an OCI image layout archive that `ctr images import`, `skopeo copy
# oci-archive:...` and `make images-push` read. The Dockerfile builds the same
# two images for those who have Docker.
#
#   hack/images.sh OUT_DIR PLATFORM VERSION OPERATOR_REF SAMPLE_APP_REF
#
# The same sources, Go version and CA bundle give the same image digests.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
OUT=$(mkdir -p "${1:?usage: $0 OUT_DIR PLATFORM VERSION OPERATOR_REF SAMPLE_APP_REF}" && cd "$1" && pwd)
PLATFORM=${2:?platform, e.g. linux/amd64}
VERSION=${3:?version}
OPERATOR_REF=${4:?operator image reference}
SAMPLE_APP_REF=${5:?sample app image reference}
CA=/etc/ssl/certs/ca-certificates.crt

say() { printf '==> %s\n' "$*" >&2; }

if [ ! -s "$CA" ]; then
  say "Installing the CA certificates (apt-get install ca-certificates)"
  apt-get install -y -qq ca-certificates >/dev/null
fi

# The packer, built from hack/tools/ociimage once for each version of its sources.
tool=$ROOT/hack/tools/ociimage
sum=$(cat "$tool"/*.go "$tool"/go.mod "$tool"/go.sum | sha256sum | cut -c1-12)
OCIIMAGE=$ROOT/bin/ociimage-$sum
if [ ! -x "$OCIIMAGE" ]; then
  say "Building ociimage from hack/tools/ociimage"
  (cd "$tool" && CGO_ENABLED=0 go build -trimpath -o "$OCIIMAGE.tmp" .)
  mv "$OCIIMAGE.tmp" "$OCIIMAGE"
fi

goos=${PLATFORM%/*}
goarch=${PLATFORM#*/}
mkdir -p "$OUT/.build"

# image NAME PACKAGE BINARY REF LDFLAGS: builds PACKAGE into BINARY and packs
# it as NAME.tar, named REF.
image() {
  local name=$1 pkg=$2 binary=$3 ref=$4 ldflags=$5
  (cd "$ROOT" && CGO_ENABLED=0 GOOS=$goos GOARCH=$goarch go build -trimpath -ldflags "$ldflags" \
    -o "$OUT/.build/$binary" "$pkg")
  "$OCIIMAGE" -format oci -platform "$PLATFORM" -tag "$ref" -o "$OUT/$name.tar" \
    -file "$OUT/.build/$binary=/$binary=0755" -file "$CA=$CA" \
    -user 65532:65532 -entrypoint "/$binary"
  say "Built $OUT/$name.tar: $ref ($PLATFORM)"
}

image operator ./cmd manager "$OPERATOR_REF" "-s -w -X main.version=$VERSION"
image sample-app ./cmd/sample-app sample-app "$SAMPLE_APP_REF" "-s -w"
rm -rf "$OUT/.build"
