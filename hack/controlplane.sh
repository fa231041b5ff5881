#!/usr/bin/env bash
# Builds the pinned Kubernetes control plane from source through the Go module
# proxy, so that envtest and the local KWOK cluster need no download from
# anywhere but the proxy (setup-envtest's index and kind's images are out of
# reach behind a module mirror). Idempotent: a binary that is already built for
# the pinned version is skipped.
#
#   hack/controlplane.sh BIN_DIR          the control plane
#   hack/controlplane.sh BIN_DIR node     the real node's kubelet and kube-proxy
#
# The node's binaries come from the same module with the same flags, so that
# they reuse the control plane's Go build cache instead of compiling
# Kubernetes again. Produces:
#   BIN_DIR/k8s/<ver>-linux-<arch>/{kube-apiserver,etcd,kubectl}   (envtest's layout)
#   BIN_DIR/controlplane/<ver>/{kube-controller-manager,kube-scheduler}
#   BIN_DIR/kwok-<kwokver>/{kwok,kwokctl}
#   BIN_DIR/realnode/<ver>/{kubelet,kube-proxy}                     (node)
set -euo pipefail

BIN_DIR=$(mkdir -p "${1:?usage: $0 BIN_DIR}" && cd "$1" && pwd)
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
MOD_DIR="$HERE/controlplane"

K8S_VERSION=$(cd "$MOD_DIR" && go list -m -f '{{.Version}}' k8s.io/kubernetes)   # v1.37.x
ENVTEST_VERSION=${K8S_VERSION#v}
KWOK_VERSION=${KWOK_VERSION:-v0.8.0}
GOOS=$(go env GOOS)
GOARCH=$(go env GOARCH)

ENVTEST_DIR="$BIN_DIR/k8s/$ENVTEST_VERSION-$GOOS-$GOARCH"
EXTRA_DIR="$BIN_DIR/controlplane/$K8S_VERSION"
KWOK_DIR="$BIN_DIR/kwok-$KWOK_VERSION"
mkdir -p "$ENVTEST_DIR" "$EXTRA_DIR" "$KWOK_DIR"

major=${ENVTEST_VERSION%%.*}
minor=${ENVTEST_VERSION#*.}; minor=${minor%%.*}
# Stamped so that kubectl and clients can parse the server's version.
LDFLAGS="-s -w \
 -X k8s.io/component-base/version.gitVersion=$K8S_VERSION \
 -X k8s.io/component-base/version.gitMajor=$major \
 -X k8s.io/component-base/version.gitMinor=$minor \
 -X k8s.io/component-base/version.gitTreeState=clean \
 -X k8s.io/client-go/pkg/version.gitVersion=$K8S_VERSION \
 -X k8s.io/client-go/pkg/version.gitMajor=$major \
 -X k8s.io/client-go/pkg/version.gitMinor=$minor"

say() { printf '==> %s\n' "$*" >&2; }

# build OUT PKG: builds PKG of the wrapper module into OUT unless OUT exists.
build() {
  local out=$1 pkg=$2
  if [ -x "$out" ]; then
    return 0
  fi
  say "Building $(basename "$out") from $pkg of Kubernetes $K8S_VERSION (cold: several minutes; warm: seconds)"
  local start=$SECONDS
  (cd "$MOD_DIR" && CGO_ENABLED=0 go build -trimpath -ldflags "$LDFLAGS" -o "$out.tmp" "$pkg")
  mv "$out.tmp" "$out"
  say "Built $(basename "$out") in $((SECONDS - start))s"
}

if [ "${2:-}" = node ]; then
  NODE_DIR="$BIN_DIR/realnode/$K8S_VERSION"
  mkdir -p "$NODE_DIR"
  build "$NODE_DIR/kubelet"    k8s.io/kubernetes/cmd/kubelet
  build "$NODE_DIR/kube-proxy" k8s.io/kubernetes/cmd/kube-proxy
  exit 0
fi

build "$ENVTEST_DIR/kube-apiserver"          k8s.io/kubernetes/cmd/kube-apiserver
build "$ENVTEST_DIR/kubectl"                 k8s.io/kubernetes/cmd/kubectl
build "$ENVTEST_DIR/etcd"                    go.etcd.io/etcd/server/v3
build "$EXTRA_DIR/kube-controller-manager"   k8s.io/kubernetes/cmd/kube-controller-manager
build "$EXTRA_DIR/kube-scheduler"            k8s.io/kubernetes/cmd/kube-scheduler

for tool in kwok kwokctl; do
  if [ ! -x "$KWOK_DIR/$tool" ]; then
    say "Building $tool $KWOK_VERSION"
    start=$SECONDS
    GOBIN="$KWOK_DIR" CGO_ENABLED=0 go install "sigs.k8s.io/kwok/cmd/$tool@$KWOK_VERSION"
    say "Built $tool in $((SECONDS - start))s"
  fi
done

say "Control plane $K8S_VERSION ready in $BIN_DIR"
