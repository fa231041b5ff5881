#!/usr/bin/env bash
# Builds what the real node runs, once: the host's packages (containerd,
# runc, the CNI plugins, iptables, ipset, conntrack) with apt-get if they are
# missing; kubelet and kube-proxy from the control plane's module; CoreDNS,
# kube-router and pause from hack/realnode; the image packer; the sample app;
# and the images (hack/realnode/images.sh). What is built is not built again.
#
#   hack/realnode/build.sh BIN_DIR
set -euo pipefail

BIN_DIR=$(mkdir -p "${1:?usage: $0 BIN_DIR}" && cd "$1" && pwd)
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
OUT=$BIN_DIR/realnode
mkdir -p "$OUT"

say() { printf '==> %s\n' "$*" >&2; }

packages=(containerd runc containernetworking-plugins iptables ipset conntrack)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f '${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  say "Installing the real node's host packages: ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

bash "$ROOT/hack/controlplane.sh" "$BIN_DIR" node

# gobuild OUT MODULE_DIR PKG: builds PKG of the module in MODULE_DIR into OUT
# unless OUT exists (OUT names the version of what it holds).
gobuild() {
  local out=$1 dir=$2 pkg=$3
  [ -x "$out" ] && return 0
  say "Building $(basename "$out") from $pkg (cold: minutes; warm: seconds)"
  local start=$SECONDS
  (cd "$dir" && CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o "$out.tmp" "$pkg")
  mv "$out.tmp" "$out"
  say "Built $(basename "$out") in $((SECONDS - start))s"
}

version() { (cd "$1" && go list -m -f '{{.Version}}' "$2"); }
node_mod=$ROOT/hack/realnode
K8S_VERSION=$(cd "$ROOT/hack/controlplane" && go list -m -f '{{.Version}}' k8s.io/kubernetes)
gobuild "$OUT/coredns-$(version "$node_mod" github.com/coredns/coredns)" "$node_mod" ./cmd/coredns
gobuild "$OUT/kube-router-$(version "$node_mod" github.com/cloudnativelabs/kube-router/v2)" "$node_mod" \
  github.com/cloudnativelabs/kube-router/v2/cmd/kube-router
gobuild "$OUT/pause" "$node_mod" ./cmd/pause
gobuild "$OUT/ociimage-$(version "$ROOT/hack/tools/ociimage" github.com/google/go-containerregistry)" \
  "$ROOT/hack/tools/ociimage" .

# The names the node and the images use, pointing at the versions built.
ln -sf "coredns-$(version "$node_mod" github.com/coredns/coredns)" "$OUT/coredns"
ln -sf "../kube-router-$(version "$node_mod" github.com/cloudnativelabs/kube-router/v2)" "$OUT/$K8S_VERSION/kube-router"
ln -sf "ociimage-$(version "$ROOT/hack/tools/ociimage" github.com/google/go-containerregistry)" "$OUT/ociimage"

# The sample app is the project's own: built every time (seconds), and its
# image packed again only when the binary changed.
(cd "$ROOT" && CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o "$OUT/sample-app" ./cmd/sample-app)

bash "$ROOT/hack/realnode/images.sh" "$OUT" "$OUT/images"
