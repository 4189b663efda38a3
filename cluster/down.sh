#!/usr/bin/env bash
# Stops what cluster/up.sh started: the coordinator, the agents and their workers, Prometheus, Azurite, the loopback
# forwarders, and the hosts' namespaces, mounts and bridge. Idempotent: stopping a cluster that is not up does nothing.
# Keeps the state directory (the logs, and the hosts' disks with each host's working directory and Azurite's blobs)
# unless --purge.
#
#   cluster/down.sh [--name NAME] [--state DIR] [--purge]
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CLUSTER_DIR="$ROOT/cluster"
# shellcheck source=cluster/cluster-state.sh
. "$CLUSTER_DIR/cluster-state.sh"

purge=0
while [ $# -gt 0 ]; do
  case "$1" in
    --name) CLUSTER_NAME="${2:?--name needs a name}"; shift 2 ;;
    --state) STATE_DIR="${2:?--state needs a directory}"; shift 2 ;;
    --purge) purge=1; shift ;;
    -h|--help) usage_of "${BASH_SOURCE[0]}" 0 ;;
    *) echo "down.sh: unknown argument '$1'" >&2; usage_of "${BASH_SOURCE[0]}" 2 ;;
  esac
done

require_root down.sh

# The coordinator first, gracefully (SIGTERM: it stops the job and its agents), then the store once the job has
# stopped writing (SIGTERM: Azurite saves its metadata), then whatever is left.
for graceful in "coordinator agent-1 agent-2 prometheus" azurite; do
  read -r -a names <<<"$graceful"
  for name in "${names[@]}"; do
    pid="$(recorded_pid "$name")"
    [ -z "$pid" ] || kill -TERM "$pid" 2>/dev/null || true
  done
  wait_for_exit 10 "${names[@]}" >/dev/null
done

# The forwarders live in this namespace, each the leader of its own process group (with one child per connection);
# anything of the list still running is killed the same way.
mapfile -t names < <(recorded_names)
for name in "${names[@]}"; do
  pid="$(recorded_pid "$name")"
  [ -z "$pid" ] || kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
done
if [ "${#names[@]}" -gt 0 ]; then
  left="$(wait_for_exit 10 "${names[@]}")"
  [ -z "$left" ] || echo "down.sh: WARNING: still running after SIGKILL: $left" >&2
fi

# Every process still inside the cluster's namespaces is SIGKILLed, then the namespaces (their links and mounts) go;
# the hosts' disks stay for a look at what each host wrote, unless --purge.
"$CLUSTER_DIR/netns.sh" down "$CLUSTER_NAME" --keep-disks
rm -f "$(pid_file)"
if [ "$purge" = 1 ]; then
  rm -rf "$STATE_DIR"
fi
echo "cluster '$CLUSTER_NAME' is down$([ "$purge" = 1 ] && echo " and $STATE_DIR removed" || [ ! -d "$STATE_DIR" ] || echo "; logs in $STATE_DIR/logs, the hosts' disks in $STATE_DIR/hosts")"
