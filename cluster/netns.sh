#!/usr/bin/env bash
# Several hosts on one machine: each host is a Linux network namespace NAME-i with its own loopback and
# one veth (eth0) whose peer (h<i>) is enslaved to a bridge (br0) in the cluster's own namespace NAME-net.
# Nothing in the root namespace is touched: every link is created directly inside a cluster namespace.
# Needs root and iproute2 (ip, tc). Used by the multi-process tests (tests/Sora.Cluster.Tests).
#
#   netns.sh up NAME N [SUBNET_INDEX]      make hosts NAME-0..NAME-(N-1); prints "host i ADDRESS NAMESPACE"
#   netns.sh down NAME                     kill every process in the cluster, remove its namespaces and links
#   netns.sh cut NAME I [--loss|--link]    cut host I off (default --loss: every packet is dropped both
#                                          ways by tc (netem loss 100%, or a pfifo of length 0 where the
#                                          kernel has no netem), the link stays up; --link: its bridge
#                                          port goes down)
#   netns.sh heal NAME I                   undo either kind of cut
#   netns.sh exec NAME I -- CMD [ARG...]   run CMD inside host I
#   netns.sh addr NAME I                   print host I's address
#
# SUBNET_INDEX (0..65535, default: derived from NAME) picks the /24: host i gets 10.(S/256).(S%256).(i+1).
# Each cluster has its own bridge namespace, so clusters never share a wire; distinct subnets keep the
# addresses of parallel clusters distinct in logs as well.
set -euo pipefail

readonly BRIDGE=br0
readonly HOST_LINK=eth0
readonly MAX_HOSTS=254

die() { echo "netns.sh: ERROR: $*" >&2; exit 1; }

usage() {
  sed -n '6,15p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
  exit "${1:-2}"
}

check_name() {
  local name="$1"
  [[ "$name" =~ ^[A-Za-z0-9][A-Za-z0-9_.-]{0,39}$ ]] \
    || die "cluster name '$name' must be 1-40 characters of letters, digits, '_', '.', '-' (starting with a letter or digit)"
}

# A 16-bit hash of a cluster name, for its default subnet index.
name_hash() {
  local name="$1" hash=0 i code
  for ((i = 0; i < ${#name}; i++)); do
    printf -v code '%d' "'${name:i:1}"
    hash=$(((hash * 31 + code) % 65536))
  done
  echo "$hash"
}

check_index() {
  local what="$1" value="$2" max="$3"
  if ! [[ "$value" =~ ^(0|[1-9][0-9]{0,4})$ ]] || ((value > max)); then
    die "$what '$value' must be an integer in 0..$max"
  fi
}

host_ns() { echo "$1-$2"; }
net_ns() { echo "$1-net"; }
peer_link() { echo "h$1"; }

# The namespaces that belong to cluster NAME: NAME-net and NAME-<digits>, nothing else (NAME-x-0 belongs
# to cluster NAME-x).
cluster_namespaces() {
  local name="$1" ns rest
  while read -r ns _; do
    [[ "$ns" == "$name"-* ]] || continue
    rest="${ns#"$name"-}"
    [[ "$rest" =~ ^([0-9]+|net)$ ]] && echo "$ns"
  done < <(ip netns list 2>/dev/null)
  return 0
}

require_host() {
  local name="$1" host="$2" ns
  check_name "$name"
  check_index "host index" "$host" $((MAX_HOSTS - 1))
  ns="$(host_ns "$name" "$host")"
  [ -e "/run/netns/$ns" ] || die "host $host of cluster '$name' does not exist (no namespace $ns; run 'netns.sh up $name N' first)"
}

# The pids of every process inside the given namespaces: one stat over /proc instead of an 'ip netns pids'
# per namespace (each process start counts on a loaded machine).
namespace_pids() {
  local inode path netns_dir=/run/netns/
  local -A wanted=()
  while read -r inode _; do
    wanted[$inode]=1
  done < <(stat -L -c '%i %n' -- "${@/#/$netns_dir}" 2>/dev/null || true)
  [ "${#wanted[@]}" -gt 0 ] || return 0
  while read -r inode path; do
    if [ -n "${wanted[$inode]:-}" ]; then
      path="${path#/proc/}"
      echo "${path%/ns/net}"
    fi
  done < <(stat -L -c '%i %n' /proc/[0-9]*/ns/net 2>/dev/null || true)
}

kill_namespace_processes() {
  local attempt
  local -a pids=()
  for ((attempt = 1; attempt <= 50; attempt++)); do
    mapfile -t pids < <(namespace_pids "$@")
    [ "${#pids[@]}" -gt 0 ] || return 0
    kill -KILL "${pids[@]}" 2>/dev/null || true
    sleep 0.1
  done
  echo "netns.sh: WARNING: processes still alive in $* after SIGKILL: ${pids[*]}" >&2
}

cmd_down() {
  [ $# -eq 1 ] || usage
  local name="$1"
  local -a namespaces
  check_name "$name"
  mapfile -t namespaces < <(cluster_namespaces "$name")
  [ "${#namespaces[@]}" -gt 0 ] || return 0
  # Kill first: a namespace with a live process outlives 'ip netns del', and so would its links.
  kill_namespace_processes "${namespaces[@]}"
  # Removing a namespace removes the links inside it; a veth goes with either end. -force: go on past errors.
  printf 'netns del %s\n' "${namespaces[@]}" | ip -force -batch - >/dev/null 2>&1 || true
  return 0
}

UP_NAME=""
remove_half_made_cluster() {
  local status=$?
  if [ "$status" -ne 0 ] && [ -n "$UP_NAME" ]; then
    echo "netns.sh: 'up $UP_NAME' failed; removing what was made" >&2
    cmd_down "$UP_NAME" || true
  fi
  return "$status"
}

cmd_up() {
  [ $# -eq 2 ] || [ $# -eq 3 ] || usage
  local name="$1" hosts="$2" subnet net ns peer i prefix
  check_name "$name"
  if ! [[ "$hosts" =~ ^[0-9]{1,3}$ ]] || ((10#$hosts < 1 || 10#$hosts > MAX_HOSTS)); then
    die "host count '$hosts' must be an integer in 1..$MAX_HOSTS"
  fi
  hosts=$((10#$hosts))
  if [ $# -eq 3 ]; then
    subnet="$3"
    check_index "subnet index" "$subnet" 65535
  else
    subnet="$(name_hash "$name")"
  fi
  prefix="10.$((subnet / 256)).$((subnet % 256))"

  # A leftover of the same name (a crashed earlier run) goes first.
  cmd_down "$name"

  UP_NAME="$name"
  trap remove_half_made_cluster EXIT

  # Three kinds of ip batch (the namespaces, the bridge side, each host) rather than one ip per step.
  net="$(net_ns "$name")"
  {
    echo "netns add $net"
    for ((i = 0; i < hosts; i++)); do
      echo "netns add $(host_ns "$name" "$i")"
    done
  } | ip -batch -
  {
    echo "link set lo up"
    echo "link add $BRIDGE type bridge"
    echo "link set $BRIDGE up"
    for ((i = 0; i < hosts; i++)); do
      peer="$(peer_link "$i")"
      # Both ends are born inside cluster namespaces: the root namespace never sees them.
      echo "link add $peer type veth peer name $HOST_LINK netns $(host_ns "$name" "$i")"
      echo "link set $peer master $BRIDGE up"
    done
  } | ip -n "$net" -batch -
  for ((i = 0; i < hosts; i++)); do
    printf '%s\n' "link set lo up" "addr add $prefix.$((i + 1))/24 dev $HOST_LINK" "link set $HOST_LINK up" \
      | ip -n "$(host_ns "$name" "$i")" -batch -
  done

  trap - EXIT
  for ((i = 0; i < hosts; i++)); do
    echo "host $i $prefix.$((i + 1)) $(host_ns "$name" "$i")"
  done
}

# Makes every packet leaving LINK in namespace NS vanish while the link stays up, with the qdisc given
# (drop_qdisc picks it).
drop_all_packets() {
  local ns="$1" link="$2"
  shift 2
  tc -n "$ns" qdisc replace dev "$link" root "$@"
}

# netem's 100% loss where the kernel has sch_netem; else a pfifo queue of length 0, which drops every
# packet on enqueue. Installs it on LINK in NS and prints its words.
drop_qdisc() {
  local ns="$1" link="$2"
  if drop_all_packets "$ns" "$link" netem loss 100% 2>/dev/null; then
    echo "netem loss 100%"
  else
    drop_all_packets "$ns" "$link" pfifo limit 0
    echo "pfifo limit 0"
  fi
}

# Removes what drop_all_packets installed. Deleting the default root qdisc fails with "handle of zero":
# then there was nothing to remove.
restore_packets() {
  local ns="$1" link="$2" error
  if ! error="$(tc -n "$ns" qdisc del dev "$link" root 2>&1)"; then
    [[ "$error" == *"handle of zero"* ]] || die "tc qdisc del dev $link root in $ns: $error"
  fi
}

cmd_cut() {
  [ $# -eq 2 ] || [ $# -eq 3 ] || usage
  local name="$1" host="$2" mode="${3:---loss}" ns net how
  require_host "$name" "$host"
  ns="$(host_ns "$name" "$host")"
  net="$(net_ns "$name")"
  case "$mode" in
    --loss)
      # Both ends of the host's veth: its own packets vanish, and so do the packets sent to it,
      # while the link stays up (a real partition, not an interface event the host could notice).
      how="$(drop_qdisc "$ns" "$HOST_LINK")"
      # shellcheck disable=SC2086 # the qdisc's words
      drop_all_packets "$net" "$(peer_link "$host")" $how
      echo "cut host $host of $name: $how on both ends of its link"
      ;;
    --link)
      ip -n "$net" link set "$(peer_link "$host")" down
      echo "cut host $host of $name: its bridge port is down"
      ;;
    *) die "unknown cut mode '$mode' (use --loss or --link)" ;;
  esac
}

cmd_heal() {
  [ $# -eq 2 ] || usage
  local name="$1" host="$2" ns net
  require_host "$name" "$host"
  ns="$(host_ns "$name" "$host")"
  net="$(net_ns "$name")"
  restore_packets "$ns" "$HOST_LINK"
  restore_packets "$net" "$(peer_link "$host")"
  ip -n "$net" link set "$(peer_link "$host")" up
}

cmd_exec() {
  if [ $# -lt 4 ] || [ "$3" != "--" ]; then usage; fi
  local name="$1" host="$2"
  require_host "$name" "$host"
  shift 3
  exec ip netns exec "$(host_ns "$name" "$host")" "$@"
}

cmd_addr() {
  [ $# -eq 2 ] || usage
  local name="$1" host="$2" address
  require_host "$name" "$host"
  address="$(ip -n "$(host_ns "$name" "$host")" -4 -o addr show dev "$HOST_LINK" | awk '{ split($4, a, "/"); print a[1]; exit }')"
  [ -n "$address" ] || die "host $host of cluster '$name' has no IPv4 address on $HOST_LINK"
  echo "$address"
}

[ $# -ge 1 ] || usage
command -v ip >/dev/null || die "'ip' (iproute2) is not installed; run scripts/bootstrap.sh"
verb="$1"
shift
case "$verb" in
  up) cmd_up "$@" ;;
  down) cmd_down "$@" ;;
  cut) cmd_cut "$@" ;;
  heal) cmd_heal "$@" ;;
  exec) cmd_exec "$@" ;;
  addr) cmd_addr "$@" ;;
  -h|--help|help) usage 0 ;;
  *) echo "netns.sh: unknown command '$verb'" >&2; usage ;;
esac
