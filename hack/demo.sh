#!/usr/bin/env bash
# `make demo`: the operator end to end on the local cluster: control-plane
# binaries, KWOK's fake nodes for scale and one real worker node
# (hack/realnode) on which the sample sandboxes really run.
#
#   hack/demo.sh up     start (or reuse) the cluster, install, run the operator,
#                       apply the samples, wait until they are Ready, summarise
#   hack/demo.sh down   stop the operator and the cluster, remove what up made
#
# Everything it makes lives in $DEMO_DIR (default .demo/ in the repository).
# DEMO_SHOW_SECRETS=1 prints passwords in clear. DEMO_REAL_NODE=0 leaves the
# real node out: everything then runs on KWOK's fake nodes (no root needed,
# but no database really starts).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
BIN=${LOCALBIN:-$ROOT/bin}
DEMO_DIR=${DEMO_DIR:-$ROOT/.demo}
CLUSTER=${DEMO_CLUSTER:-learning-sandbox-demo}
NODES=${DEMO_NODES:-3}
K8S_VERSION=$(cd hack/controlplane && go list -m -f '{{.Version}}' k8s.io/kubernetes)
KUBECTL=$BIN/k8s/${K8S_VERSION#v}-$(go env GOOS)-$(go env GOARCH)/kubectl
export KUBECONFIG=$DEMO_DIR/kubeconfig
export REAL_NODE=${DEMO_REAL_NODE:-1}
[ "$REAL_NODE" = 1 ] || REAL_NODE=
PIDFILE=$DEMO_DIR/manager.pid
LOG=$DEMO_DIR/manager.log

say() { printf '\n==> %s\n' "$*"; }
k() { "$KUBECTL" "$@"; }

stop_operator() {
  if [ -f "$PIDFILE" ]; then
    pid=$(cat "$PIDFILE")
    if kill -0 "$pid" 2>/dev/null; then
      say "Stopping the operator (pid $pid)"
      kill "$pid"
      for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
      kill -9 "$pid" 2>/dev/null || true
    fi
    rm -f "$PIDFILE"
  fi
}

# mask hides passwords unless DEMO_SHOW_SECRETS=1: the values of *PASSWORD* and
# *SECRET* keys, and the password part of URLs.
mask() {
  if [ "${DEMO_SHOW_SECRETS:-}" = 1 ]; then cat; return; fi
  sed -E -e 's#^([A-Z_]*(PASSWORD|SECRET)[A-Z_]*=).*#\1********#' \
         -e 's#(://[^:/@]*:)[^@]*@#\1********@#'
}

up() {
  mkdir -p "$DEMO_DIR"
  bash hack/local-cluster.sh up "$CLUSTER" "$DEMO_DIR" "$NODES"

  say "Installing the CRDs, the learner ClusterRole and the built-in stage catalog"
  k apply --server-side --force-conflicts -f config/crd/bases
  k apply --server-side --force-conflicts -k config/learner
  k wait --for condition=Established crd/learningsandboxes.sandbox.learning.dev crd/roadmapstages.sandbox.learning.dev crd/learningcohorts.sandbox.learning.dev --timeout 60s
  k apply --server-side --force-conflicts -k config/stages

  stop_operator
  say "Starting the operator out of cluster (log: $LOG)"
  # On the real node the stacks run from the images built from Debian's
  # packages (hack/realnode/images.sh), which are there without a registry.
  flags=() samples=config/samples
  if [ -n "$REAL_NODE" ]; then
    mapfile -t flags < <(bash hack/realnode/node.sh operator-flags)
    samples=hack/realnode/samples
  fi
  setsid "$BIN/manager" --health-probe-bind-address=0 --metrics-bind-address=0 "${flags[@]}" >"$LOG" 2>&1 </dev/null &
  echo $! >"$PIDFILE"

  say "Applying the sample sandboxes ($samples)"
  k apply -k "$samples"

  say "Waiting until the sample class and every sample sandbox are Ready"
  if ! k wait --for condition=Ready learningcohorts --all --timeout 300s ||
     ! k wait --for condition=Ready learningsandboxes --all --timeout 300s; then
    k get learningcohorts,learningsandboxes
    echo "Not everything became Ready; the operator's log is $LOG" >&2
    exit 1
  fi

  say "Classes and sandboxes"
  k get learningcohorts
  echo
  k get learningsandboxes
  say "Every sandbox's workspace (kubectl exec -it sts/workspace -n NAMESPACE -- bash)"
  k get pods -A -l sandbox.learning.dev/component=workspace \
    -o custom-columns='NAMESPACE:.metadata.namespace,POD:.metadata.name,STATUS:.status.phase,IMAGE:.spec.containers[0].image,NODE:.spec.nodeName'
  sb=fall26-ada
  ns=$(k get learningsandbox "$sb" -o jsonpath='{.status.namespace}')
  secret=$(k get learningsandbox "$sb" -o jsonpath='{.status.connectionSecret}')
  say "What runs in $ns"
  k get pods,services,pvc -n "$ns" -o wide
  say "Connection details of $sb (Secret $secret in namespace $ns; DEMO_SHOW_SECRETS=1 shows passwords)"
  k get secret "$secret" -n "$ns" -o go-template='{{range $k, $v := .data}}{{$k}}={{$v | base64decode}}{{"\n"}}{{end}}' | mask | sed 's/^/  /'

  cat <<MSG

The cluster and the operator keep running. To use them:
  export KUBECONFIG=$KUBECONFIG
  alias kubectl=$KUBECTL   # the kubectl ${K8S_VERSION} that the toolchain built
  kubectl get learningcohorts,learningsandboxes,roadmapstages
  export PATH=$PWD/bin:\$PATH; kubectl sandbox status -c fall26   # the kubectl plugin, bin/kubectl-sandbox
  kubectl get secret fall26-roster -n default -o jsonpath='{.data.roster\.csv}' | base64 -d
  kubectl describe learningsandbox fall26-ada
  # Ada's session (README, "A learner's session"):
  kubectl sandbox kubeconfigs -c fall26 -d kubeconfigs
  kubectl sandbox status --kubeconfig kubeconfigs/ada.kubeconfig   # a plugin's flags come after its name
  kubectl --kubeconfig kubeconfigs/ada.kubeconfig exec -it sts/workspace -- bash   # her workspace: Python, psql, redis-cli
  tail -f $LOG   # the operator's log
To stop everything and remove what the demo made:
  make demo-down
MSG
}

down() {
  stop_operator
  bash hack/local-cluster.sh down "$CLUSTER" "$DEMO_DIR"
  say "Demo stopped; $DEMO_DIR removed"
}

case ${1:-up} in
up) up ;;
down) down ;;
*) echo "usage: $0 up|down" >&2; exit 2 ;;
esac
