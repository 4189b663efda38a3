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
export SORA_CHAOS_FAULTS="$FAULTS" SORA_CHAOS_SEED="$SEED" CI=true DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
"$ROOT/scripts/bootstrap.sh" || { echo "chaos.sh: set-up or build failed" >&2; exit 1; }
# One test project and detailed console output: the test's own lines (each fault, then the coordinator's log) are shown.
LOG="$ROOT/artifacts/test-results/chaos-$FAULTS-$SEED.log"
mkdir -p "$(dirname "$LOG")"
dotnet test "$ROOT/tests/Sora.Cluster.Tests/Sora.Cluster.Tests.csproj" -c Release --no-build --nologo \
  --filter "FullyQualifiedName~Sora.Cluster.Tests.EndToEnd.ChaosTests" --logger "console;verbosity=detailed" 2>&1 | tee "$LOG"
status=${PIPESTATUS[0]}
faults=$(grep -c ' fault [0-9]* (due at ' "$LOG" || true)
if [ "$status" -eq 0 ] && [ "$faults" -eq "$FAULTS" ]; then
  echo "chaos.sh: $faults faults injected, the job ended with an uninterrupted run's bytes (log: $LOG)"
  echo "1 passed, 0 failed"
else
  echo "chaos.sh: dotnet test exited with $status after $faults of $FAULTS faults (log: $LOG)" >&2
  echo "0 passed, 1 failed"
  exit 1
fi
