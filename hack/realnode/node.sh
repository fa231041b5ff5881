#!/usr/bin/env bash
# One real worker node beside the local cluster's KWOK nodes, on this machine:
# containerd and runc (Debian), the CNI bridge, kubelet and kube-proxy
# (k8s.io/kubernetes), kube-router as the NetworkPolicy enforcer and CoreDNS as
# the cluster's DNS. Pods scheduled to it really run. It is a test-cluster
# component only: nothing of it ships with the operator.
#
#   hack/realnode/node.sh prepare DIR            the pod bridge, before the control plane starts
#   hack/realnode/node.sh up   DIR KUBECONFIG PKI start the node (or keep it) and join the cluster
#   hack/realnode/node.sh down DIR KUBECONFIG    stop it and remove all it made
#   hack/realnode/node.sh leftovers              print what a node left on this machine
#   hack/realnode/node.sh operator-flags         the operator's flags for the local images
#   hack/realnode/node.sh import DIR ARCHIVE...  import image archives (docker or OCI) into the running node
#
# DIR/node holds its state; PKI is the cluster's pki directory (ca.crt,
# admin.crt, admin.key). Needs root. Facts it is built on: ../shared/real-node/NOTES.md.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BIN=${LOCALBIN:-$ROOT/bin}
K8S_VERSION=$(cd "$ROOT/hack/controlplane" && go list -m -f '{{.Version}}' k8s.io/kubernetes)
NODE_BIN=$BIN/realnode/$K8S_VERSION
KUBECTL=$BIN/k8s/${K8S_VERSION#v}-$(go env GOOS)-$(go env GOARCH)/kubectl

# The node's network: pods on the bridge cni0 in POD_CIDR, whose gateway is the
# node's own address; Services in the range the API server is given.
NODE_NAME=real-node
BRIDGE=cni0
NODE_IP=10.88.0.1
POD_CIDR=10.88.0.0/24
CLUSTER_DNS=10.96.0.10
# The fake nodes are tainted so that only what tolerates them runs there
# (make bench's pods); everything else comes to the real node.
FAKE_TAINT=kwok.x-k8s.io/node=fake:NoSchedule

say() { printf '==> %s\n' "$*" >&2; }

cmd=${1:?usage: $0 prepare|up|down|leftovers|operator-flags|import ...}

# wait_for SECONDS WHAT COMMAND...: runs COMMAND until it succeeds.
wait_for() {
  local limit=$1 what=$2; shift 2
  local deadline=$((SECONDS + limit))
  until "$@" >/dev/null 2>&1; do
    if [ $SECONDS -ge $deadline ]; then
      say "Timed out after ${limit}s waiting for $what"
      return 1
    fi
    sleep 0.5
  done
}

# start NAME COMMAND...: runs COMMAND in the background, in a session of its
# own, logging to $STATE/NAME.log, unless it already runs. The pid file is
# written by the process itself (setsid may fork), and names its session.
start() {
  local name=$1; shift
  local pidfile=$STATE/$name.pid
  if [ -s "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; then
    return 0
  fi
  rm -f "$pidfile"
  # shellcheck disable=SC2016 # expanded by the inner shell
  setsid bash -c 'echo $$ >"$0"; exec "$@"' "$pidfile" "$@" >"$STATE/$name.log" 2>&1 </dev/null &
  wait_for 10 "$name to start" test -s "$pidfile"
}

# stop NAME: stops what start NAME started, and what that started (its
# process group: volumes.sh's kubectl, for one).
stop() {
  local pidfile=$STATE/$1.pid pid
  [ -s "$pidfile" ] || { rm -f "$pidfile"; return 0; }
  pid=$(cat "$pidfile")
  if kill -0 "$pid" 2>/dev/null; then
    kill -- "-$pid" 2>/dev/null || kill "$pid" 2>/dev/null || true
    for _ in $(seq 40); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
    kill -9 -- "-$pid" 2>/dev/null || true
  fi
  rm -f "$pidfile"
}

# A machine has room for one real node (one bridge, one node address, the
# control plane's fixed ports): OWNER names the state directory of the cluster
# that has it.
OWNER=/run/learning-sandbox-real-node

claim() {
  local owner
  owner=$(cat "$OWNER" 2>/dev/null || true)
  if [ -n "$owner" ] && [ "$owner" != "$STATE" ] && [ -d "$owner" ]; then
    say "This machine's real node belongs to the cluster in ${owner%/node}: stop that one first (make demo-down, or hack/local-cluster.sh down)"
    exit 1
  fi
  echo "$STATE" >"$OWNER"
}

# The pod bridge exists before the API server starts, so that the node's
# address is there to advertise, to serve the kubelet on, and to put in the
# API server's certificate (NOTES.md: 10.88.0.1 appears only with the first pod).
prepare() {
  claim
  if ! ip link show "$BRIDGE" >/dev/null 2>&1; then
    ip link add "$BRIDGE" type bridge
  fi
  ip addr replace "$NODE_IP/24" dev "$BRIDGE"
  ip link set "$BRIDGE" up
  # kube-proxy's and kube-router's rules see bridged traffic only with these.
  modprobe br_netfilter 2>/dev/null || true
  sysctl -qw net.bridge.bridge-nf-call-iptables=1 net.ipv4.ip_forward=1
}

configure() {
  local pki=$1
  mkdir -p "$STATE/containerd" "$STATE/cni/net.d" "$STATE/kubelet" "$STATE/images"
  sed -e "s|@STATE@|$STATE|g" "$ROOT/hack/realnode/containerd.toml" >"$STATE/containerd/config.toml"
  sed -e "s|@STATE@|$STATE|g" -e "s|@BRIDGE@|$BRIDGE|g" -e "s|@POD_CIDR@|$POD_CIDR|g" -e "s|@NODE_IP@|$NODE_IP|g" \
    "$ROOT/hack/realnode/10-bridge.conflist" >"$STATE/cni/net.d/10-bridge.conflist"
  # Pods resolve cluster names only: this machine has no upstream DNS.
  printf 'nameserver %s\n' "$CLUSTER_DNS" >"$STATE/kubelet/resolv.conf"
  sed -e "s|@STATE@|$STATE|g" -e "s|@NODE_IP@|$NODE_IP|g" -e "s|@CLUSTER_DNS@|$CLUSTER_DNS|g" -e "s|@CA@|$pki/ca.crt|g" \
    "$ROOT/hack/realnode/kubelet-config.yaml" >"$STATE/kubelet/config.yaml"
}

containerd_up() {
  local sock=$STATE/containerd/containerd.sock
  start containerd containerd --config "$STATE/containerd/config.toml"
  wait_for 30 containerd ctr --address "$sock" version
  local image name
  for image in "$BIN/realnode/images"/*.tar; do
    name=$(basename "$image" .tar)
    # Imported again only when the image was rebuilt.
    if [ "$(cat "$STATE/images/$name" 2>/dev/null)" != "$(cat "${image%.tar}.stamp")" ]; then
      ctr --address "$sock" -n k8s.io images import --no-unpack=false "$image" >/dev/null
      cp "${image%.tar}.stamp" "$STATE/images/$name"
    fi
  done
}

# up joins the node to the cluster and installs the cluster's DNS.
up() {
  local kubeconfig=$1 pki=$2
  prepare
  configure "$pki"
  containerd_up
  start kubelet "$NODE_BIN/kubelet" --config "$STATE/kubelet/config.yaml" --kubeconfig "$kubeconfig" \
    --root-dir "$STATE/kubelet/root" --cert-dir "$STATE/kubelet/pki" \
    --hostname-override "$NODE_NAME" --node-ip "$NODE_IP" \
    --node-labels "node.learning-sandbox.dev/real=true" -v 1
  start kube-proxy "$NODE_BIN/kube-proxy" --kubeconfig "$kubeconfig" --hostname-override "$NODE_NAME" \
    --proxy-mode iptables --cluster-cidr "$POD_CIDR" --conntrack-max-per-core 0 \
    --metrics-bind-address 127.0.0.1:10249 --healthz-bind-address 127.0.0.1:10256
  # The data directories of the hostPath provisioner are made 0750 root; the
  # stack's users are not root. Opened up as each volume is made, before any
  # pod can mount it (a pod waits for its claim to be bound to the volume).
  start volumes bash "$ROOT/hack/realnode/volumes.sh" "$KUBECTL" "$kubeconfig"

  local k=("$KUBECTL" --kubeconfig "$kubeconfig")
  wait_for 60 "node $NODE_NAME to be Ready" \
    "${k[@]}" wait --for condition=Ready "node/$NODE_NAME" --timeout 2s
  # kube-router finds its node by name, so it starts once the node is there;
  # its chains exist once it enforces the cluster's NetworkPolicies.
  start kube-router "$NODE_BIN/kube-router" --kubeconfig "$kubeconfig" --hostname-override "$NODE_NAME" \
    --run-firewall=true --run-router=false --run-service-proxy=false --run-loadbalancer=false \
    --metrics-port 0 --health-port 0
  wait_for 60 "kube-router to enforce NetworkPolicies" iptables -S KUBE-ROUTER-FORWARD
  local fake
  for fake in $("${k[@]}" get nodes -l type=kwok -o name); do
    "${k[@]}" taint nodes "${fake#node/}" "$FAKE_TAINT" --overwrite >/dev/null
  done
  "${k[@]}" apply --server-side --force-conflicts -f "$ROOT/hack/realnode/coredns.yaml" >/dev/null
  "${k[@]}" -n kube-system rollout status deployment/coredns --timeout 120s >/dev/null
  say "Real node $NODE_NAME is Ready, with CoreDNS at $CLUSTER_DNS"
}

# down stops the node: first every pod, through the kubelet, so that the CNI
# plugins remove their addresses, rules and network namespaces; then the
# daemons; then what is left of their state.
down() {
  local kubeconfig=$1
  local k=("$KUBECTL" --kubeconfig "$kubeconfig" --request-timeout 10s)
  if [ -f "$STATE/kubelet.pid" ] && "${k[@]}" get node "$NODE_NAME" >/dev/null 2>&1; then
    "${k[@]}" cordon "$NODE_NAME" >/dev/null 2>&1 || true
    "${k[@]}" delete pods -A --field-selector "spec.nodeName=$NODE_NAME" --grace-period 1 --wait=false >/dev/null 2>&1 || true
    wait_for 90 "the node's pods to stop" no_pod_sandboxes || true
  fi
  stop volumes
  stop kube-router
  stop kube-proxy
  stop kubelet
  [ -x "$NODE_BIN/kube-proxy" ] && "$NODE_BIN/kube-proxy" --cleanup >/dev/null 2>&1 || true
  kill_containers
  stop containerd
  cleanup_host
  rm -rf "$STATE"
  [ "$(cat "$OWNER" 2>/dev/null)" != "$STATE" ] || rm -f "$OWNER"
}

# no_pod_sandboxes: true when the kubelet has stopped every pod.
no_pod_sandboxes() { [ -z "$(tasks)" ]; }

kill_containers() {
  local sock=$STATE/containerd/containerd.sock
  [ -S "$sock" ] || return 0
  local t
  for t in $(tasks); do ctrk tasks kill -s KILL "$t" >/dev/null 2>&1 || true; done
  wait_for 20 "the containers to exit" no_running_task || true
  for t in $(tasks); do ctrk tasks rm -f "$t" >/dev/null 2>&1 || true; done
  for t in $(ctrk containers ls -q 2>/dev/null); do ctrk containers rm "$t" >/dev/null 2>&1 || true; done
}

ctrk() { ctr --address "$STATE/containerd/containerd.sock" -n k8s.io "$@"; }
tasks() { ctrk tasks ls -q 2>/dev/null; }
no_running_task() { ! ctrk tasks ls 2>/dev/null | grep -q RUNNING; }

# cleanup_host removes what the node's processes leave when they are stopped
# without their pods: mounts, network namespaces, CNI rules, the bridge,
# kubelet cgroups.
cleanup_host() {
  local m
  # Deepest first: overlay roots, tmpfs of Secrets and ConfigMaps, shm.
  for m in $(findmnt -rn -o TARGET | grep -F "$STATE/" | sort -r); do
    umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || true
  done
  for m in /run/netns/cni-*; do
    [ -e "$m" ] || continue
    umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || true
    rm -f "$m"
  done
  # The chains and sets of kube-proxy, kube-router, the kubelet and the CNI
  # plugins: the jumps to them first, then their rules, then them. A machine
  # has one real node, so every KUBE- and CNI- chain is this node's.
  # (kube-router's own --cleanup-config crashes where the kernel lacks IPVS.)
  local table chain
  for table in filter nat mangle raw; do
    { iptables -t "$table" -S 2>/dev/null | grep -E '^-A (INPUT|OUTPUT|FORWARD|PREROUTING|POSTROUTING) .*-j (KUBE-|CNI-)' || true; } |
      sed 's/^-A/-D/' | while read -r rule; do
        eval iptables -t "$table" $rule 2>/dev/null || true
      done
    for chain in $(own_chains "$table"); do iptables -t "$table" -F "$chain" 2>/dev/null || true; done
    for chain in $(own_chains "$table"); do iptables -t "$table" -X "$chain" 2>/dev/null || true; done
  done
  local set
  for set in $(ipset list -n 2>/dev/null | grep -E '^(KUBE-|kube-router)'); do
    ipset destroy "$set" 2>/dev/null || true
  done
  ip link del "$BRIDGE" 2>/dev/null || true
  local veth
  for veth in $(ip -o link show type veth 2>/dev/null | awk -F': ' '{print $2}' | cut -d@ -f1 | grep '^veth'); do
    ip link del "$veth" 2>/dev/null || true
  done
  # What the kubelet, containerd and the CNI plugins keep in fixed places:
  # links to the containers' logs, the device-plugin socket, the shims'
  # sockets, the CNI result cache. Directories go only when they are empty.
  local link
  for link in /var/log/containers/*.log; do
    [ -L "$link" ] && case $(readlink "$link") in "$STATE"/*) rm -f "$link" ;; esac
  done
  rm -f /var/lib/kubelet/device-plugins/kubelet.sock
  rm -f /var/lib/cni/results/real-node-* /var/lib/cni/results/cni-loopback-*
  rmdir /var/log/containers /var/lib/kubelet/device-plugins /var/lib/kubelet \
    /var/lib/cni/results /var/lib/cni /run/containerd/s /run/containerd 2>/dev/null || true
  # kubelet's cgroups, in each v1 hierarchy and in the unified one.
  local cg
  for cg in /sys/fs/cgroup/*/kubepods /sys/fs/cgroup/unified/kubepods /sys/fs/cgroup/kubepods; do
    [ -d "$cg" ] || continue
    find "$cg" -depth -type d -exec rmdir {} + 2>/dev/null || true
  done
}

# own_chains TABLE: the node's chains in TABLE.
own_chains() { iptables -t "$1" -S 2>/dev/null | awk '/^-N (KUBE-|CNI-)/ {print $2}'; }

# leftovers prints, one per line, what a stopped node left on this machine.
leftovers() {
  local name
  for name in containerd kubelet kube-proxy kube-router; do pgrep -a -x "$name" || true; done
  pgrep -a -f '^/usr/bin/containerd-shim-runc-v2 ' || true
  ip link show "$BRIDGE" >/dev/null 2>&1 && echo "bridge $BRIDGE"
  ls /run/netns/ 2>/dev/null | grep '^cni-' | sed 's/^/netns /' || true
  findmnt -rn -o TARGET | grep -E '/node/(containerd|kubelet)/' | sed 's/^/mount /' || true
  iptables-save 2>/dev/null | grep -E '^:(KUBE-|KUBE-ROUTER|CNI-)' | sed 's/^/iptables chain /' || true
  ipset list -n 2>/dev/null | grep -E '^(KUBE-|kube-router)' | sed 's/^/ipset /' || true
  local path
  for path in "$OWNER" /var/log/containers /var/log/pods /var/lib/kubelet /var/lib/cni /run/containerd /opt/containerd; do
    [ -e "$path" ] && echo "path $path"
  done
  return 0
}

case $cmd in
operator-flags)
  # The operator's image flags for the local images.
  # shellcheck source=images.env
  . "$ROOT/hack/realnode/images.env"
  printf '%s\n' "--postgres-image=$POSTGRES_IMAGE" "--redis-image=$REDIS_IMAGE" \
    "--nginx-image=$NGINX_IMAGE" "--app-image=$APP_IMAGE" \
    "--workspace-image=go=$WORKSPACE_GO_IMAGE" "--workspace-image=node=$WORKSPACE_NODE_IMAGE" \
    "--workspace-image=python=$WORKSPACE_PYTHON_IMAGE" "--workspace-image=java=$WORKSPACE_JAVA_IMAGE"
  ;;
prepare)
  STATE=$(mkdir -p "${2:?DIR}/node" && cd "$2/node" && pwd)
  prepare
  ;;
up)
  STATE=$(mkdir -p "${2:?DIR}/node" && cd "$2/node" && pwd)
  up "${3:?KUBECONFIG}" "${4:?PKI}"
  ;;
down)
  # Only a cluster that has a real node has its state: a KWOK-only
  # cluster's down leaves another cluster's node alone.
  if [ -d "${2:?DIR}/node" ]; then
    STATE=$(cd "$2/node" && pwd)
    down "${3:?KUBECONFIG}"
  fi
  ;;
import)
  STATE=$(cd "${2:?DIR}/node" && pwd)
  shift 2
  for image in "$@"; do
    ctrk images import --no-unpack=false "$image" >/dev/null
  done
  ;;
leftovers)
  leftovers
  ;;
*)
  echo "usage: $0 prepare|up|down|leftovers|operator-flags|import ..." >&2
  exit 2
  ;;
esac
