#!/usr/bin/env bash
# Several hosts on one machine: each host is a Linux network namespace NAME-i with its own loopback and
# one veth (eth0) whose peer (h<i>) is enslaved to a bridge (br0) in the cluster's own namespace NAME-net,
# and a persistent mount namespace of its own (/run/sora-mntns/NAME-i) in which each --private PATH is that
# host's own directory: the same path on every host, different files.
# Nothing in the root namespace is touched: every link is created directly inside a cluster namespace.
# Needs root, iproute2 (ip, tc) and util-linux (unshare, nsenter). Used by the multi-process tests
# (tests/Sora.Cluster.Tests) and cluster/up.sh.
#
#   netns.sh up NAME N [SUBNET_INDEX] [--private PATH]... [--disks DIR]
#                                          make hosts NAME-0..NAME-(N-1); prints "host i ADDRESS NAMESPACE",
#                                          then, with --private, "disk i DIR" (where host i's files are)
#   netns.sh down NAME [--keep-disks]      kill every process in the cluster, remove its namespaces, links
#                                          and (unless --keep-disks) its hosts' disks
#   netns.sh cut NAME I [--loss|--link]    cut host I off (default --loss: every packet is dropped both
#                                          ways by tc (netem loss 100%, or a pfifo of length 0 where the
#                                          kernel has no netem), the link stays up; --link: its bridge
#                                          port goes down)
#   netns.sh heal NAME I                   undo either kind of cut (returns once the host's link is up)
#   netns.sh exec NAME I -- CMD [ARG...]   run CMD inside host I (its network and mount namespaces), in the
#                                          host's view of the current directory
#   netns.sh addr NAME I                   print host I's address
#   netns.sh disk NAME I                   print host I's disk (empty without --private)
#
# SUBNET_INDEX (0..65535, default: derived from NAME) picks the /24: host i gets 10.(S/256).(S%256).(i+1).
# Each cluster has its own bridge namespace, so clusters never share a wire; distinct subnets keep the
# addresses of parallel clusters distinct in logs as well.
#
# --private PATH (absolute; repeatable): host i sees DISK_i/PATH at PATH, where DISK_i is DIR/host-i (DIR:
# --disks, default /var/tmp/sora-netns/NAME). up creates PATH (the mount point) if missing and starts every
# disk empty; the root namespace keeps its own PATH and sees host i's copy at DISK_i/PATH; hosts see
# neither the root's copy nor DIR. Everything else (the checkout, artifacts/, tools/, /tmp) is shared.
set -euo pipefail

readonly BRIDGE=br0
readonly HOST_LINK=eth0
readonly MAX_HOSTS=254
readonly NETNS_DIR=/run/netns
# The hosts' mount namespaces, bound to files NAME-i, and NAME.disks: the disk directory of cluster NAME.
readonly MNTNS_DIR=/run/sora-mntns
readonly DEFAULT_DISKS=/var/tmp/sora-netns

die() { echo "netns.sh: ERROR: $*" >&2; exit 1; }

usage() {
  awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "${BASH_SOURCE[0]}" >&2
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
belongs_to() {
  local name="$1" ns="$2" rest
  [[ "$ns" == "$name"-* ]] || return 1
  rest="${ns#"$name"-}"
  [[ "$rest" =~ ^([0-9]+|net)$ ]]
}

cluster_namespaces() {
  local name="$1" ns
  while read -r ns _; do
    if belongs_to "$name" "$ns"; then echo "$ns"; fi
  done < <(ip netns list 2>/dev/null)
  return 0
}

# The files of the cluster's hosts' mount namespaces (NAME-<digits> in MNTNS_DIR).
cluster_mount_namespaces() {
  local name="$1" file
  for file in "$MNTNS_DIR/$name"-*; do
    if [ -e "$file" ] && belongs_to "$name" "${file##*/}"; then echo "$file"; fi
  done
  return 0
}

require_host() {
  local name="$1" host="$2" ns
  check_name "$name"
  check_index "host index" "$host" $((MAX_HOSTS - 1))
  ns="$(host_ns "$name" "$host")"
  [ -e "$NETNS_DIR/$ns" ] || die "host $host of cluster '$name' does not exist (no namespace $ns; run 'netns.sh up $name N' first)"
}

# The pids of every process inside the given namespaces (files of network or mount namespaces): one stat
# over /proc instead of an 'ip netns pids' per namespace (each process start counts on a loaded machine).
# Namespace inodes are unique across kinds, so one table serves both.
namespace_pids() {
  local inode path
  local -A wanted=()
  while read -r inode _; do
    wanted[$inode]=1
  done < <(stat -L -c '%i %n' -- "$@" 2>/dev/null || true)
  [ "${#wanted[@]}" -gt 0 ] || return 0
  while read -r inode path; do
    if [ -n "${wanted[$inode]:-}" ]; then
      path="${path#/proc/}"
      echo "${path%%/*}"
    fi
  done < <(stat -L -c '%i %n' /proc/[0-9]*/ns/net /proc/[0-9]*/ns/mnt 2>/dev/null || true)
}

kill_namespace_processes() {
  local attempt
  local -a pids=()
  for ((attempt = 1; attempt <= 50; attempt++)); do
    mapfile -t pids < <(namespace_pids "$@" | sort -u)
    [ "${#pids[@]}" -gt 0 ] || return 0
    kill -KILL "${pids[@]}" 2>/dev/null || true
    sleep 0.1
  done
  echo "netns.sh: WARNING: processes still alive in $* after SIGKILL: ${pids[*]}" >&2
}

disks_file() { echo "$MNTNS_DIR/$1.disks"; }

# Removes the hosts' disks (DIR/host-<digits>) under the cluster's disk directory, and the directory when
# that leaves it empty; nothing else is ever deleted there.
remove_disks() {
  local disks="$1" disk
  for disk in "$disks"/host-*; do
    if [[ "${disk##*/}" =~ ^host-[0-9]+$ ]] && [ -d "$disk" ]; then rm -rf -- "$disk"; fi
  done
  rmdir -- "$disks" 2>/dev/null || true
}

cmd_down() {
  local name="" keep_disks=0 disks file
  local -a namespaces mount_namespaces
  while [ $# -gt 0 ]; do
    case "$1" in
      --keep-disks) keep_disks=1 ;;
      -*) die "down: unknown option '$1'" ;;
      *) [ -z "$name" ] || usage; name="$1" ;;
    esac
    shift
  done
  [ -n "$name" ] || usage
  check_name "$name"
  mapfile -t namespaces < <(cluster_namespaces "$name")
  mapfile -t mount_namespaces < <(cluster_mount_namespaces "$name")
  # Kill first: a namespace with a live process outlives 'ip netns del', and so would its links and mounts.
  if [ "${#namespaces[@]}" -gt 0 ] || [ "${#mount_namespaces[@]}" -gt 0 ]; then
    kill_namespace_processes "${namespaces[@]/#/$NETNS_DIR/}" "${mount_namespaces[@]}"
  fi
  # Removing a namespace removes the links inside it; a veth goes with either end. -force: go on past errors.
  if [ "${#namespaces[@]}" -gt 0 ]; then
    printf 'netns del %s\n' "${namespaces[@]}" | ip -force -batch - >/dev/null 2>&1 || true
  fi
  # A mount namespace ends, with every mount inside it, once no process and no binding holds it.
  for file in "${mount_namespaces[@]}"; do
    umount "$file" 2>/dev/null || umount -l "$file" 2>/dev/null || true
    rm -f -- "$file"
  done
  file="$(disks_file "$name")"
  if [ -f "$file" ]; then
    disks="$(cat "$file")"
    if [ "$keep_disks" = 0 ] && [ -n "$disks" ]; then remove_disks "$disks"; fi
    rm -f -- "$file"
  fi
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

# A persistent mount namespace is bound to a file; the file's mount must be private, or the binding would
# propagate into the namespace it names. MNTNS_DIR becomes such a mount once (under a lock: parallel ups).
prepare_mount_namespace_dir() {
  local lock
  mkdir -p "$MNTNS_DIR"
  exec {lock}>"$MNTNS_DIR.lock"
  flock "$lock"
  mountpoint -q "$MNTNS_DIR" || mount --bind "$MNTNS_DIR" "$MNTNS_DIR"
  mount --make-private "$MNTNS_DIR"
  exec {lock}>&-
}

# A private path: absolute, normalized, not '/', and neither inside nor around the disks directory.
check_private_path() {
  local path="$1" disks="$2"
  [[ "$path" == /* ]] || die "--private '$path' must be an absolute path"
  [[ "$path" != / && "$path" != */ && "$path" != *//* && "/$path/" != */./* && "/$path/" != */../* ]] \
    || die "--private '$path' must be a normalized path below / (no '.', '..', '//' or trailing '/')"
  [[ "$path" =~ ^[^[:space:]]+$ ]] || die "--private '$path' must not contain white space"
  case "$disks/" in "$path"/*) die "--private '$path' would hide the disks directory $disks" ;; esac
  case "$path/" in "$disks"/*) die "--private '$path' lies inside the disks directory $disks" ;; esac
  return 0
}

# Run as "netns.sh host-setup NAMESPACE DISKS DISK PATH..." by up, inside the host's new network and mount
# namespaces (DISKS and DISK are empty without private paths).
cmd_host_setup() {
  local ns="$1" disks="$2" disk="$3" target path attempt
  shift 3
  # Mounts of namespace files copied from the root namespace (/run/netns/*, other clusters' hosts) would keep
  # those namespaces alive as long as this one lives: detach them.
  for ((attempt = 1; attempt <= 10; attempt++)); do
    target="$(awk '{ for (i = 7; i < NF; i++) if ($i == "-") { if ($(i + 1) == "nsfs") print $5; break } }' /proc/self/mountinfo)"
    [ -n "$target" ] || break
    while read -r path; do
      umount -l "$(printf '%b' "$path")" 2>/dev/null || true
    done <<<"$target"
  done
  # What 'ip netns exec' does: a sysfs of this host's network namespace (/sys/class/net shows lo and eth0).
  umount -l /sys
  mount -t sysfs "$ns" /sys
  for path in "$@"; do
    mkdir -p -- "$disk$path"
    mount --bind -- "$disk$path" "$path"
  done
  # Hosts see their own copy of each private path only, never the other hosts' disks.
  if [ -n "$disks" ]; then mount -t tmpfs -o ro,size=4k,mode=0555 sora-disks-hidden "$disks"; fi
}

cmd_up() {
  local name="" hosts="" subnet="" disks="" net ns peer i prefix path disk
  local -a positional=() private=()
  while [ $# -gt 0 ]; do
    case "$1" in
      --private) [ $# -ge 2 ] || die "--private needs a path"; private+=("$2"); shift 2 ;;
      --disks) [ $# -ge 2 ] || die "--disks needs a directory"; disks="$2"; shift 2 ;;
      -*) die "up: unknown option '$1'" ;;
      *) positional+=("$1"); shift ;;
    esac
  done
  [ "${#positional[@]}" -eq 2 ] || [ "${#positional[@]}" -eq 3 ] || usage
  name="${positional[0]}" hosts="${positional[1]}"
  check_name "$name"
  if ! [[ "$hosts" =~ ^[0-9]{1,3}$ ]] || ((10#$hosts < 1 || 10#$hosts > MAX_HOSTS)); then
    die "host count '$hosts' must be an integer in 1..$MAX_HOSTS"
  fi
  hosts=$((10#$hosts))
  if [ "${#positional[@]}" -eq 3 ]; then
    subnet="${positional[2]}"
    check_index "subnet index" "$subnet" 65535
  else
    subnet="$(name_hash "$name")"
  fi
  prefix="10.$((subnet / 256)).$((subnet % 256))"
  if [ "${#private[@]}" -gt 0 ]; then
    disks="${disks:-$DEFAULT_DISKS/$name}"
    [[ "$disks" == /* && "$disks" != / ]] || die "--disks '$disks' must be an absolute path below /"
    disks="${disks%/}"
    for path in "${private[@]}"; do check_private_path "$path" "$disks"; done
  elif [ -n "$disks" ]; then
    die "--disks needs at least one --private path"
  fi

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

  # Each host's mount namespace: made from the root namespace's (unshare binds it to its file from there),
  # entered with the host's network namespace so that its sysfs is the host's.
  prepare_mount_namespace_dir
  if [ -n "$disks" ]; then
    echo "$disks" >"$(disks_file "$name")"
    mkdir -p -- "$disks"
    remove_disks "$disks"
    mkdir -p -- "$disks"
    for path in "${private[@]}"; do mkdir -p -- "$path"; done
  fi
  for ((i = 0; i < hosts; i++)); do
    ns="$(host_ns "$name" "$i")"
    disk="${disks:+$disks/host-$i}"
    if [ -n "$disk" ]; then mkdir -p -- "$disk"; fi
    : >"$MNTNS_DIR/$ns"
    nsenter --net="$NETNS_DIR/$ns" unshare --mount="$MNTNS_DIR/$ns" --propagation private -- \
      bash "${BASH_SOURCE[0]}" host-setup "$ns" "$disks" "$disk" "${private[@]}"
  done

  trap - EXIT
  for ((i = 0; i < hosts; i++)); do
    echo "host $i $prefix.$((i + 1)) $(host_ns "$name" "$i")"
  done
  if [ -n "$disks" ]; then
    for ((i = 0; i < hosts; i++)); do
      echo "disk $i $disks/host-$i"
    done
  fi
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

# Waits until LINK in NS is operationally up: the kernel attaches a link's queue when it handles the carrier
# event (linkwatch, up to a second later), and until then the link drops every packet.
wait_until_up() {
  local ns="$1" link="$2" attempt
  for ((attempt = 0; attempt < 100; attempt++)); do
    [[ "$(ip -n "$ns" -o link show dev "$link")" != *" state UP "* ]] || return 0
    sleep 0.05
  done
  die "$link in $ns is not up 5 s after heal: $(ip -n "$ns" -o link show dev "$link")"
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
  wait_until_up "$ns" "$HOST_LINK"
  wait_until_up "$net" "$(peer_link "$host")"
}

# nsenter enters both namespaces and execs env, which changes to the host's view of the current directory
# (entering a mount namespace resets it to /) and execs CMD: CMD keeps the pid this script started with.
cmd_exec() {
  if [ $# -lt 4 ] || [ "$3" != "--" ]; then usage; fi
  local name="$1" host="$2" ns
  require_host "$name" "$host"
  shift 3
  ns="$(host_ns "$name" "$host")"
  [ -e "$MNTNS_DIR/$ns" ] || die "host $host of cluster '$name' has no mount namespace ($MNTNS_DIR/$ns): make the cluster again with 'netns.sh up'"
  exec nsenter --net="$NETNS_DIR/$ns" --mount="$MNTNS_DIR/$ns" -- env -C "$PWD" -- "$@"
}

cmd_disk() {
  [ $# -eq 2 ] || usage
  local name="$1" host="$2" file
  require_host "$name" "$host"
  file="$(disks_file "$name")"
  if [ -f "$file" ]; then echo "$(cat "$file")/host-$host"; fi
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
command -v nsenter >/dev/null || die "'nsenter' (util-linux) is not installed"
verb="$1"
shift
case "$verb" in
  up) cmd_up "$@" ;;
  down) cmd_down "$@" ;;
  cut) cmd_cut "$@" ;;
  heal) cmd_heal "$@" ;;
  exec) cmd_exec "$@" ;;
  addr) cmd_addr "$@" ;;
  disk) cmd_disk "$@" ;;
  host-setup) cmd_host_setup "$@" ;;
  -h|--help|help) usage 0 ;;
  *) echo "netns.sh: unknown command '$verb'" >&2; usage ;;
esac
