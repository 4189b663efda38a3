#!/usr/bin/env bash
# Runs the whole test suite after setting up what is missing. Ends with "N passed, N failed"
# and exits non-zero when any test fails or a test host crashes.
set -uo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
if ! "$ROOT/scripts/bootstrap.sh"; then
  echo "set-up or build failed: no test ran" >&2
  echo "0 passed, 1 failed"
  exit 1
fi

LOG="$ROOT/artifacts/test-results/console.log"
mkdir -p "$(dirname "$LOG")"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
dotnet test "$ROOT/Sora.Distributed.sln" -c Release --no-build --nologo \
  --results-directory "$ROOT/artifacts/test-results" --logger "trx" "$@" 2>&1 | tee "$LOG"
status=${PIPESTATUS[0]}

# One summary line per test assembly: "Passed!  - Failed:     0, Passed:    35, Skipped: ..."
read -r passed failed < <(grep -E '(Passed|Failed)! +- Failed: ' "$LOG" |
  sed -E 's/.*Failed: +([0-9]+), Passed: +([0-9]+).*/\2 \1/' |
  awk '{p += $1; f += $2} END {print p + 0, f + 0}')
if [ "$status" -ne 0 ] && [ "$failed" -eq 0 ]; then
  echo "dotnet test exited with $status without a failing test: a test host crashed or a project did not run" >&2
  failed=1
fi
echo "$passed passed, $failed failed"
[ "$status" -eq 0 ] && [ "$failed" -eq 0 ]
