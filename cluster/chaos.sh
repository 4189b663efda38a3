#!/usr/bin/env bash
# The long random-fault run (issue 24 §5): the CI test ChaosTests (tests/Sora.Cluster.Tests/EndToEnd/ChaosTests.cs) with
# more faults and any seed. A job launched on one namespace host with an agent on another (private disks, Azurite as the
# store) gets FAULTS faults of every kind (a worker SIGKILLed, a node's workers SIGKILLed, a worker SIGSTOPped, the launch
# process SIGKILLed and started again) at points drawn over its whole progress, and must end with the bytes of an
# uninterrupted run and no worker left behind. Needs root (network namespaces).
#
#   sudo cluster/chaos.sh [FAULTS] [SEED]    default: 20 faults, seed 1; prints the faults, then "N passed, N failed"
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
FAULTS="${1:-20}"
SEED="${2:-1}"
[[ "$FAULTS" =~ ^[1-9][0-9]*$ ]] || { echo "chaos.sh: FAULTS must be a positive integer (got '$FAULTS')" >&2; exit 2; }
[[ "$SEED" =~ ^[1-9][0-9]*$ ]] || { echo "chaos.sh: SEED must be a positive integer (got '$SEED')" >&2; exit 2; }
[ "$(id -u)" = 0 ] || { echo "chaos.sh: needs root (network namespaces): run it with sudo" >&2; exit 2; }
export SORA_CHAOS_FAULTS="$FAULTS" SORA_CHAOS_SEED="$SEED" CI=true
exec "$ROOT/test.sh" --filter "FullyQualifiedName~Sora.Cluster.Tests.EndToEnd.ChaosTests" --logger "console;verbosity=normal"
