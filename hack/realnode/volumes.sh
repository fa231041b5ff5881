#!/usr/bin/env bash
# Runs beside the real node: opens up each hostPath volume that the
# controller manager's hostPath provisioner makes (0750, root's), so that the
# stack's non-root users can write their data into it, as they can on a
# volume whose driver honours fsGroup. A pod cannot start on a volume before
# it is bound, and it is bound only after it is made and seen here.
#
#   hack/realnode/volumes.sh KUBECTL KUBECONFIG
set -uo pipefail
kubectl=${1:?kubectl}
kubeconfig=${2:?kubeconfig}
while :; do
  "$kubectl" --kubeconfig "$kubeconfig" get pv --watch -o jsonpath='{.spec.hostPath.path}{"\n"}' 2>/dev/null |
    while read -r path; do
      case $path in
      /tmp/hostpath_pv/*) [ -d "$path" ] && chmod 0777 "$path" ;;
      esac
    done
  sleep 1
done
