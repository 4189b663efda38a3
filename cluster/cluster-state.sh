# shellcheck shell=bash
# What cluster/up.sh and cluster/down.sh share: the defaults, the state directory's pid file, and small helpers.
# Sourced, not run.

CLUSTER_NAME="${SORA_CLUSTER_NAME:-sora-up}"
STATE_DIR="${SORA_CLUSTER_STATE:-/tmp/sora-cluster}"
PID_FILE_NAME=pids

die() { echo "${0##*/}: ERROR: $*" >&2; exit 1; }
say() { echo "${0##*/}: $*" >&2; }

# Prints a script's header comment (from line 2 to the first line that is not a comment) and exits with $2.
usage_of() {
  awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$1" >&2
  exit "$2"
}

require_root() {
  [ "$(id -u)" = 0 ] || die "$1 needs root: network namespaces can only be made and removed by root (run: sudo cluster/$1 ...)"
}

# The pid file of the state directory in use (STATE_DIR may change after this file is sourced: always ask).
pid_file() { echo "$STATE_DIR/$PID_FILE_NAME"; }

# record_pid NAME PID: one "NAME PID START" line; START (the process's start time) tells a reused pid from ours.
record_pid() {
  echo "$1 $2 $(start_time "$2")" >>"$(pid_file)"
}

# A process's start time (field 22 of /proc/PID/stat), or 0 when it is gone or a zombie (dead, not yet reaped).
start_time() { awk '$3 != "Z" { print $22; next } { print 0 }' "/proc/$1/stat" 2>/dev/null || echo 0; }

# recorded_pid NAME: the pid recorded under NAME if that very process still runs, else nothing.
recorded_pid() {
  local file name pid start
  file="$(pid_file)"
  [ -f "$file" ] || return 0
  while read -r name pid start; do
    if [ "$name" = "$1" ] && [ "$start" != 0 ] && [ "$(start_time "$pid")" = "$start" ]; then
      echo "$pid"
      return 0
    fi
  done <"$file"
}

recorded_names() {
  local file
  file="$(pid_file)"
  [ ! -f "$file" ] || awk '{ print $1 }' "$file"
}

# Whether a cluster of this name has namespaces, or any recorded process of this state directory still runs.
cluster_is_up() {
  local name
  ip netns list 2>/dev/null | awk '{ print $1 }' | grep -qxE "$CLUSTER_NAME-([0-9]+|net)" && return 0
  for name in $(recorded_names); do
    [ -z "$(recorded_pid "$name")" ] || return 0
  done
  return 1
}

port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# wait_until SECONDS WHAT PROCESS CONDITION: polls CONDITION (a shell command) until it holds; fails, with the tail
# of the log of PROCESS (a recorded name), when PROCESS ends first or time runs out.
wait_until() {
  local seconds="$1" what="$2" process="$3" condition="$4" deadline
  deadline=$((SECONDS + seconds))
  until eval "$condition"; do
    if [ -z "$(recorded_pid "$process")" ]; then
      tail -n 30 "$STATE_DIR/logs/$process.log" >&2 || true
      die "$process ended before $what answered (log: $STATE_DIR/logs/$process.log)"
    fi
    if ((SECONDS > deadline)); then
      tail -n 30 "$STATE_DIR/logs/$process.log" >&2 || true
      die "no answer from $what within $seconds s (log: $STATE_DIR/logs/$process.log)"
    fi
    sleep 0.5
  done
}

# wait_for_exit SECONDS NAME...: waits until none of the named recorded processes runs; prints those still running after SECONDS.
wait_for_exit() {
  local seconds="$1" name alive deadline
  shift
  deadline=$((SECONDS + seconds))
  while true; do
    alive=""
    for name in "$@"; do
      [ -z "$(recorded_pid "$name")" ] || alive="$alive $name"
    done
    if [ -z "$alive" ] || ((SECONDS >= deadline)); then
      echo "${alive# }"
      return 0
    fi
    sleep 0.2
  done
}

# with_store JOB STORE: prints the job file JOB with checkpoint.store set to STORE when it names none (a block `checkpoint:`
# gets the key as its first entry; a job without the section gets one). A store the job names is kept, whatever it is.
with_store() {
  awk -v store="$2" '
    function flush(   i, indent) {
      if (!has_store) {
        indent = "  "
        for (i = 1; i <= n; i++) if (match(block[i], /^[ \t]+[^ \t#]/)) { indent = substr(block[i], 1, RLENGTH - 1); break }
        print indent "store: " store
      }
      for (i = 1; i <= n; i++) print block[i]
      n = 0; inside = 0
    }
    inside && /^[^ \t#]/ { flush() }
    inside { block[++n] = $0; if ($0 ~ /^[ \t]+store:/) has_store = 1; next }
    /^checkpoint:[ \t]*[^ \t#]/ { print "up.sh: write the job'\''s checkpoint: section as a block (one key per line) or name checkpoint.store in it" > "/dev/stderr"; bad = 1; exit 3 }
    /^checkpoint:/ { print; seen = 1; inside = 1; has_store = 0; next }
    { print }
    END { if (bad) exit 3; if (inside) flush(); if (!seen) { print ""; print "checkpoint:"; print "  store: " store } }
  ' "$1"
}

# store_of JOB: the checkpoint.store a job file names (after with_store, it names one).
store_of() {
  awk '/^[^ \t#]/ { inside = ($0 ~ /^checkpoint:/) } inside && /^[ \t]+store:/ { sub(/^[ \t]+store:[ \t]*/, ""); sub(/[ \t]+#.*$/, ""); gsub(/["\047]/, ""); print; exit }' "$1"
}

# development_storage ENDPOINT: the connection string of Azurite's development account at ENDPOINT (http://HOST:PORT). Its key
# is public, documented by Microsoft for the emulators and useless elsewhere.
development_storage() {
  local account=devstoreaccount1
  local key="Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
  echo "DefaultEndpointsProtocol=http;AccountName=$account;AccountKey=$key;BlobEndpoint=$1/$account;"
}
