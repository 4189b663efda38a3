#!/usr/bin/env bash
# A local 2-host Sora cluster on this machine: three network-namespace hosts from cluster/netns.sh, `sora coordinator`
# on host 0, `sora agent` on hosts 1 and 2, Azurite (the job's store) and a Prometheus on host 0 scraping the
# coordinator's /metrics with the job's token (cluster/prometheus.yml). The hosts share nothing but the store, like
# separate machines: each has its own working directory DIR/work (its disk: DIR/hosts/host-i), and the job's
# checkpoint.store is az://sora/JOB-NAME in Azurite. The coordinator's API and dashboard, Prometheus's UI and Azurite are
# forwarded to this machine's loopback (socat), since the hosts' addresses are reachable only from inside their
# namespaces. Needs root (namespaces). cluster/down.sh stops it all.
#
#   cluster/up.sh [--config JOB.yaml] [--name NAME] [--state DIR] [--api-port PORT] [--prometheus-port PORT]
#                 [--azurite-port PORT] [--nproc-per-node N] [--parallel ddp|fsdp] [--scrape-interval 5s]
#                 [--sora "COMMAND"]
#
#   --config            the job (default configs/tiny.yaml); relative paths in it are relative to DIR/work, and a job
#                       that names no checkpoint.store gets az://sora/NAME (the copy that runs: DIR/job.yaml)
#   --name              the cluster's name: namespaces NAME-0..2 and NAME-net (default sora-up)
#   --state             pids, logs, the token, the job, the hosts' disks and Prometheus's data (default /tmp/sora-cluster)
#   --api-port          loopback port of the coordinator's API and dashboard (default 8080)
#   --prometheus-port   loopback port of Prometheus (default 9090)
#   --azurite-port      loopback port of Azurite, the store (default 10000; DIR/store.env has its connection string)
#   --sora              how to run sora (default: dotnet on the built artifacts/bin/Sora.Cli/release/sora.dll)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CLUSTER_DIR="$ROOT/cluster"
# shellcheck source=cluster/cluster-state.sh
. "$CLUSTER_DIR/cluster-state.sh"

config="$ROOT/configs/tiny.yaml"
api_port=8080 prometheus_port=9090 azurite_port=10000 nproc=1 parallel=ddp interval=5s sora=""
readonly AKKA_PORT=29400 STORE_PORT=29401 API_PORT_IN=8080 PROMETHEUS_PORT_IN=9090 AZURITE_PORT_IN=10000
readonly READY_TIMEOUT=180 SCRAPE_TIMEOUT=90 AZURITE_TIMEOUT=60
# The store of a job that names none: a prefix per job (its name) in one container.
readonly STORE_CONTAINER=az://sora
while [ $# -gt 0 ]; do
  case "$1" in
    --config) config="${2:?--config needs a file}"; shift 2 ;;
    --name) CLUSTER_NAME="${2:?--name needs a name}"; shift 2 ;;
    --state) STATE_DIR="${2:?--state needs a directory}"; shift 2 ;;
    --api-port) api_port="${2:?}"; shift 2 ;;
    --prometheus-port) prometheus_port="${2:?}"; shift 2 ;;
    --azurite-port) azurite_port="${2:?}"; shift 2 ;;
    --nproc-per-node) nproc="${2:?}"; shift 2 ;;
    --parallel) parallel="${2:?}"; shift 2 ;;
    --scrape-interval) interval="${2:?}"; shift 2 ;;
    --sora) sora="${2:?--sora needs a command}"; shift 2 ;;
    -h|--help) usage_of "${BASH_SOURCE[0]}" 0 ;;
    *) echo "up.sh: unknown argument '$1'" >&2; usage_of "${BASH_SOURCE[0]}" 2 ;;
  esac
done

require_root up.sh
for tool in ip nsenter unshare socat curl prometheus; do
  command -v "$tool" >/dev/null || die "'$tool' is not installed: run scripts/bootstrap.sh"
done
azurite="$ROOT/tools/node/node_modules/.bin/azurite-blob"
[ -x "$azurite" ] || die "Azurite is not installed ($azurite is missing): run scripts/bootstrap.sh"
[ -r "$config" ] || die "cannot read the job file '$config'"
config="$(cd "$(dirname "$config")" && pwd)/$(basename "$config")"
for port in "$api_port" "$prometheus_port" "$azurite_port"; do
  if ! [[ "$port" =~ ^[0-9]{1,5}$ ]] || ((port < 1 || port > 65535)); then die "'$port' is not a TCP port"; fi
  ! port_in_use "$port" || die "port $port on 127.0.0.1 is in use (choose another with --api-port/--prometheus-port/--azurite-port)"
done
if [ -z "$sora" ]; then
  dll="$ROOT/artifacts/bin/Sora.Cli/release/sora.dll"
  [ -f "$dll" ] || "$ROOT/scripts/bootstrap.sh"
  sora="dotnet $dll"
fi
read -r -a SORA <<<"$sora"

if cluster_is_up; then
  die "cluster '$CLUSTER_NAME' is already up (state in $STATE_DIR): run cluster/down.sh --name $CLUSTER_NAME --state $STATE_DIR first"
fi

mkdir -p "$STATE_DIR"
rm -rf "$STATE_DIR/logs" "$STATE_DIR/prometheus" "$(pid_file)"
mkdir -p "$STATE_DIR/logs" "$STATE_DIR/work" "$STATE_DIR/prometheus"
echo "$CLUSTER_NAME" >"$STATE_DIR/name"
job="$STATE_DIR/job.yaml"
job_name="$(awk '/^name:/ { gsub(/["\047]/, "", $2); print $2; exit }' "$config")"
with_store "$config" "$STORE_CONTAINER/${job_name:-job}" >"$job" || die "cannot give the job '$config' a store"
# Whatever fails from here on takes down what was started.
take_down_on_failure() {
  local status=$?
  if [ "$status" -ne 0 ]; then
    echo "up.sh: failed; taking down what was started (logs kept in $STATE_DIR/logs)" >&2
    "$CLUSTER_DIR/down.sh" --name "$CLUSTER_NAME" --state "$STATE_DIR" >/dev/null 2>&1 || true
  fi
  return "$status"
}
trap take_down_on_failure EXIT

say "making hosts $CLUSTER_NAME-0..2 with private disks (cluster/netns.sh)"
hosts_output="$("$CLUSTER_DIR/netns.sh" up "$CLUSTER_NAME" 3 --private "$STATE_DIR/work" --disks "$STATE_DIR/hosts")"
mapfile -t hosts < <(grep '^host ' <<<"$hosts_output")
[ "${#hosts[@]}" = 3 ] || die "cluster/netns.sh up $CLUSTER_NAME 3 printed: $hosts_output"
addr() { echo "${hosts[$1]}" | awk '{ print $3 }'; }
coordinator_addr="$(addr 0)"

# The job's token, made here so that every process and Prometheus read one file (0600 before anything is written); like
# a secret mounted into every pod, it is the one file the hosts share.
token_file="$STATE_DIR/token"
(umask 077 && head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$token_file")

# start NAME HOST ARGS...: runs ARGS inside host HOST from the job's working directory, in a session of its own (so
# that a Ctrl-C in this terminal later does not reach it), logging to logs/NAME.log; records its pid.
start() {
  local name="$1" host="$2"
  shift 2
  (cd "$STATE_DIR/work" && exec setsid "$CLUSTER_DIR/netns.sh" exec "$CLUSTER_NAME" "$host" -- "$@" >"$STATE_DIR/logs/$name.log" 2>&1 </dev/null) &
  record_pid "$name" "$!"
}

# forward PORT HOST TARGET_PORT: 127.0.0.1:PORT here → host HOST's address:TARGET_PORT inside its namespace.
forward() {
  local port="$1" host="$2" target="$3" address
  address="$(addr "$host")"
  setsid socat "TCP-LISTEN:$port,bind=127.0.0.1,reuseaddr,fork" \
    "EXEC:ip netns exec $CLUSTER_NAME-$host socat STDIO TCP\\:$address\\:$target" >"$STATE_DIR/logs/forward-$port.log" 2>&1 </dev/null &
  record_pid "forward-$port" "$!"
}

say "starting Azurite on host 0 ($coordinator_addr:$AZURITE_PORT_IN), its blobs on host 0's disk"
start azurite 0 "$azurite" --blobHost "$coordinator_addr" --blobPort "$AZURITE_PORT_IN" --location "$STATE_DIR/work/azurite" \
  --disableTelemetry --skipApiVersionCheck
wait_until "$AZURITE_TIMEOUT" "Azurite" azurite "grep -q 'successfully listens' '$STATE_DIR/logs/azurite.log'"
forward "$azurite_port" 0 "$AZURITE_PORT_IN"
# The emulator's development account (its key is public); every sora process reaches the store through it.
AZURE_STORAGE_CONNECTION_STRING="$(development_storage "http://$coordinator_addr:$AZURITE_PORT_IN")"
export AZURE_STORAGE_CONNECTION_STRING
(umask 077 && echo "AZURE_STORAGE_CONNECTION_STRING='$(development_storage "http://127.0.0.1:$azurite_port")'" >"$STATE_DIR/store.env")

say "starting the coordinator on host 0 ($coordinator_addr), job $config (store: $(store_of "$job"))"
start coordinator 0 "${SORA[@]}" coordinator "$job" --listen "$coordinator_addr:$AKKA_PORT" --api-listen "$coordinator_addr:$API_PORT_IN" \
  --store-port "$STORE_PORT" --nnodes 2 --parallel "$parallel" --token-file "$token_file"
forward "$api_port" 0 "$API_PORT_IN"
api="http://127.0.0.1:$api_port"
wait_until "$READY_TIMEOUT" "the coordinator's /healthz" coordinator "curl -sf -o /dev/null $api/healthz"

threads=$(( $(nproc) / 2 > 0 ? $(nproc) / 2 : 1 ))
for host in 1 2; do
  say "starting the agent of host $host ($(addr "$host")), $nproc worker(s)"
  start "agent-$host" "$host" "${SORA[@]}" agent --coordinator "$coordinator_addr:$AKKA_PORT" --nproc-per-node "$nproc" --node "host$host" \
    --threads "$threads" --token-file "$token_file"
done

say "starting Prometheus on host 0, scraping http://$coordinator_addr:$API_PORT_IN/metrics every $interval"
"$CLUSTER_DIR/prometheus-config.sh" --target "$coordinator_addr:$API_PORT_IN" --token-file "$token_file" --interval "$interval" >"$STATE_DIR/prometheus/prometheus.yml"
start prometheus 0 prometheus --config.file="$STATE_DIR/prometheus/prometheus.yml" --storage.tsdb.path="$STATE_DIR/prometheus/data" \
  --web.listen-address="$coordinator_addr:$PROMETHEUS_PORT_IN"
forward "$prometheus_port" 0 "$PROMETHEUS_PORT_IN"
prometheus_url="http://127.0.0.1:$prometheus_port"
# The first scrape lands ~5-6 s after start even at a 1 s interval.
wait_until "$SCRAPE_TIMEOUT" "Prometheus's first sample of the coordinator" prometheus \
  "curl -sf '$prometheus_url/api/v1/query?query=up%7Bjob%3D%22sora%22%7D' | grep -q '\"value\":\[[0-9.]*,\"1\"\]'"

# A one-time login link for the dashboard; a coordinator without the endpoint gets the plain URL and the token's file.
link="$(curl -sf -X POST -H "Authorization: Bearer $(cat "$token_file")" "$api/api/dashboard-link" | sed -n 's/.*"url" *: *"\([^"]*\)".*/\1/p' || true)"
trap - EXIT

echo
echo "cluster '$CLUSTER_NAME' is up: coordinator on host 0 ($coordinator_addr), agents on hosts 1 and 2 ($(addr 1), $(addr 2))"
if [ -n "$link" ]; then
  echo "dashboard:  $api$link  (one-time login link; POST $api/api/dashboard-link with the bearer token for another)"
else
  echo "dashboard:  $api/  (log in with the bearer token in $token_file)"
fi
echo "API token:  $token_file"
echo "Prometheus: $prometheus_url  (scraping $coordinator_addr:$API_PORT_IN/metrics every $interval; Grafana: cluster/grafana/)"
echo "store:      $(store_of "$job") in Azurite on host 0 ($coordinator_addr:$AZURITE_PORT_IN), forwarded to 127.0.0.1:$azurite_port; from here:"
echo "            (. $STATE_DIR/store.env && export AZURE_STORAGE_CONNECTION_STRING && ./sora checkpoints list --store $(store_of "$job") --prefix dit/checkpoints)"
echo "logs:       $STATE_DIR/logs  (each host's working directory $STATE_DIR/work: $STATE_DIR/hosts/host-<i>$STATE_DIR/work)"
echo "stop:       cluster/down.sh --name $CLUSTER_NAME --state $STATE_DIR"
