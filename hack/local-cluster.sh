#!/usr/bin/env bash
# A local Kubernetes cluster made of the toolchain's own binaries: etcd,
# kube-apiserver, kube-controller-manager and kube-scheduler, with KWOK's fake
# nodes on which pods are scheduled and become Running and Ready. No Docker,
# no download: `make controlplane` builds every binary from the Go module proxy.
# With REAL_NODE=1 it also gets one real worker node (hack/realnode/node.sh;
# `make realnode` builds it) on which pods really run; the fake nodes are then
# tainted, so that only what tolerates them goes there.
#
#   hack/local-cluster.sh up   NAME DIR [NODES]   create the cluster, or reuse it if it runs
#   hack/local-cluster.sh down NAME DIR           delete the cluster and DIR
#
# DIR holds everything the cluster writes: KWOK's work directory, the real
# node's state (DIR/node) and the kubeconfig DIR/kubeconfig.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BIN=${LOCALBIN:-$ROOT/bin}
K8S_VERSION=$(cd "$ROOT/hack/controlplane" && go list -m -f '{{.Version}}' k8s.io/kubernetes)
KWOK_VERSION=${KWOK_VERSION:-v0.8.0}
PLATFORM=$(go env GOOS)-$(go env GOARCH)
ENVTEST_DIR=$BIN/k8s/${K8S_VERSION#v}-$PLATFORM
EXTRA_DIR=$BIN/controlplane/$K8S_VERSION
KWOKCTL=$BIN/kwok-$KWOK_VERSION/kwokctl
KUBECTL=$ENVTEST_DIR/kubectl

say() { printf '==> %s\n' "$*" >&2; }

cmd=${1:?usage: $0 up|down NAME DIR [NODES]}
name=${2:?cluster name}
dir=${3:?work directory}
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
export KWOK_WORKDIR=$dir/kwok
kubeconfig=$dir/kubeconfig
pki=$KWOK_WORKDIR/clusters/$name/pki
REAL_NODE=${REAL_NODE:-}

# real_node_args prints kwokctl's arguments for a cluster with a real node: the
# API server advertised on the node's bridge, where pods reach it through the
# kubernetes Service (and with that address in its certificate), Services in
# 10.96.0.0/16 (KWOK's fake pods use 10.0.0.0/24), and the kubelet reached by
# its address with a client certificate, for logs, exec and port-forward.
real_node_args() {
  bash "$ROOT/hack/realnode/node.sh" prepare "$dir" >&2 || return 1
  # Patches go in the configuration: kwokctl's --extra-args mixes up the
  # arguments of a second component that has more than one.
  cat >"$dir/kwokctl-real-node.yaml" <<YAML
apiVersion: config.kwok.x-k8s.io/v1alpha1
kind: KwokctlConfiguration
options:
  kubeApiserverCertSANs: [10.88.0.1, 10.96.0.1, kubernetes, kubernetes.default, kubernetes.default.svc, kubernetes.default.svc.cluster.local]
componentsPatches:
- name: kube-apiserver
  extraArgs:
  - {key: advertise-address, value: 10.88.0.1}
  - {key: service-cluster-ip-range, value: 10.96.0.0/16}
  - {key: kubelet-preferred-address-types, value: InternalIP}
  - {key: kubelet-client-certificate, value: "$pki/admin.crt"}
  - {key: kubelet-client-key, value: "$pki/admin.key"}
# kwokctl's binary runtime has KWOK manage every node; the real node is the
# kubelet's, so KWOK keeps to the nodes kwokctl made (annotated as fake).
- name: kwok-controller
  extraArgs:
  - {key: manage-all-nodes, value: "false", override: true}
  - {key: manage-nodes-with-annotation-selector, value: kwok.x-k8s.io/node=fake}
YAML
  printf -- '--config\n%s\n' "$dir/kwokctl-real-node.yaml"
  # kwokctl's random ports fall in the NodePort range, which kube-router lets
  # every pod reach on the node: the control plane gets fixed ports outside it,
  # so that a sandbox's egress policy keeps its pods away from them.
  printf -- '%s\n' --kube-apiserver-port 6443 --etcd-port 2379 \
    --kube-controller-manager-port 10257 --kube-scheduler-port 10259 --controller-port 10247
}

running() {
  [ -f "$kubeconfig" ] && "$KUBECTL" --kubeconfig "$kubeconfig" get --raw /readyz >/dev/null 2>&1
}

case $cmd in
up)
  nodes=${4:-3}
  if running; then
    say "Reusing the local cluster $name (kubeconfig $kubeconfig)"
  else
    if "$KWOKCTL" get clusters 2>/dev/null | grep -qx "$name"; then
      say "Removing the stopped local cluster $name"
      "$KWOKCTL" delete cluster --name "$name" --kubeconfig "$kubeconfig" >/dev/null 2>&1 || true
    fi
    say "Starting the local cluster $name: etcd, kube-apiserver, kube-controller-manager, kube-scheduler, kwok ($K8S_VERSION)"
    real=()
    if [ -n "$REAL_NODE" ]; then
      real_node_args >"$dir/kwokctl-real-node.args"
      mapfile -t real <"$dir/kwokctl-real-node.args"
    fi
    # The host-path provisioner binds PVCs, so that Postgres gets its volume.
    "$KWOKCTL" create cluster --name "$name" --runtime binary "${real[@]}" \
      --etcd-binary "$ENVTEST_DIR/etcd" \
      --kube-apiserver-binary "$ENVTEST_DIR/kube-apiserver" \
      --kube-controller-manager-binary "$EXTRA_DIR/kube-controller-manager" \
      --kube-scheduler-binary "$EXTRA_DIR/kube-scheduler" \
      --kwok-controller-binary "$BIN/kwok-$KWOK_VERSION/kwok" \
      --extra-args kube-controller-manager=enable-hostpath-provisioner=true \
      --disable-qps-limits \
      --kubeconfig "$kubeconfig" --wait 120s >"$dir/kwokctl.log" 2>&1 \
      || { cat "$dir/kwokctl.log" >&2; exit 1; }
  fi
  have=$("$KUBECTL" --kubeconfig "$kubeconfig" get nodes --no-headers 2>/dev/null | wc -l)
  if [ "$have" -lt "$nodes" ]; then
    say "Adding fake nodes: $nodes in all"
    "$KWOKCTL" scale node --name "$name" --replicas "$nodes" >>"$dir/kwokctl.log" 2>&1
  fi
  "$KUBECTL" --kubeconfig "$kubeconfig" apply -f - >/dev/null <<'YAML'
apiVersion: storage.k8s.io/v1
kind: StorageClass
metadata:
  name: standard
  annotations:
    storageclass.kubernetes.io/is-default-class: "true"
provisioner: kubernetes.io/host-path
reclaimPolicy: Delete
volumeBindingMode: Immediate
YAML
  if [ -n "$REAL_NODE" ]; then
    bash "$ROOT/hack/realnode/node.sh" up "$dir" "$kubeconfig" "$pki"
  fi
  say "Local cluster $name is up: export KUBECONFIG=$kubeconfig"
  ;;
down)
  # A real node goes first, while the API server can still stop its pods.
  bash "$ROOT/hack/realnode/node.sh" down "$dir" "$kubeconfig"
  if [ -d "$KWOK_WORKDIR" ]; then
    say "Deleting the local cluster $name"
    "$KWOKCTL" delete cluster --name "$name" --kubeconfig "$kubeconfig" >/dev/null 2>&1 || true
  fi
  rm -rf "$dir"
  ;;
*)
  echo "usage: $0 up|down NAME DIR [NODES]" >&2
  exit 2
  ;;
esac
