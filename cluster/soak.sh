#!/usr/bin/env bash
# Soak test of recovery (not in CI): one `sora launch` run of a tiny FSDP job on this machine in which a random
# worker is SIGKILLed KILLS times, each after a new checkpoint, then the final DiT weights compared byte for byte
# with an uninterrupted run of the same job. Exits 0 only when every kill was recovered and the weights match.
#
#   cluster/soak.sh [KILLS (20)] [WORKERS (2)]
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
KILLS="${1:-20}"
WORKERS="${2:-2}"
STEPS=$((KILLS * 10 + 40))
SORA=(dotnet "$ROOT/artifacts/bin/Sora.Cli/release/sora.dll")
SORA_BOOTSTRAP_QUIET=1 "$ROOT/scripts/bootstrap.sh"
WORK="$(mktemp -d /tmp/sora-soak-XXXXXX)"
trap 'pkill -9 -f -- "$WORK" 2>/dev/null || true; rm -rf "$WORK"' EXIT

job() { # job NAME MAX_RESTARTS
  cat >"$WORK/$1.yaml" <<YAML
name: soak
seed: 7
output: $WORK/$1
data: {source: synthetic, samples: 48, held_out: 4, sizes: [[32, 32]], lengths: [8]}
vae:
  preset: patch
  train: {steps: 6, batch_size: 4, lr: 2.0e-3, warmup_steps: 2}
model: {preset: tiny}
train: {steps: $STEPS, batch_size: 8, lr: 1.0e-3, warmup_steps: 2, ema_decay: 0.99}
sampling: {prompts: []}
checkpoint: {every: 5, keep_last: 2}
fault: {max_restarts: $2, hang_timeout: 60}
YAML
}

latest() { sed -n 's/.*"step":\([0-9]*\).*"manifest":"[^"]*".*/\1/p' "$WORK/$1/checkpoints/dit/checkpoints/latest" 2>/dev/null || echo 0; }

echo "soak: reference run ($STEPS DiT steps, $WORKERS workers)"
job reference 0
(cd "$WORK" && "${SORA[@]}" launch reference.yaml --nproc-per-node "$WORKERS" --parallel fsdp >"$WORK/reference.log" 2>&1) || { tail -20 "$WORK/reference.log"; exit 1; }

echo "soak: faulted run, $KILLS kills"
job soak $((KILLS + 1))
(cd "$WORK" && "${SORA[@]}" launch soak.yaml --nproc-per-node "$WORKERS" --parallel fsdp >"$WORK/soak.log" 2>&1; echo $? >"$WORK/soak.rc") &
killed=0
last=0
while [ "$killed" -lt "$KILLS" ]; do
  [ -f "$WORK/soak.rc" ] && { echo "soak: the job ended after $killed kills"; break; }
  step="$(latest soak)"
  if [ "${step:-0}" -gt "$last" ]; then
    sleep "0.$((RANDOM % 10))"
    rank=$((RANDOM % WORKERS))
    pid="$(pgrep -f -- "train .*$WORK/.*--rank $rank " | head -n 1 || true)"
    [ -z "$pid" ] && pid="$(pgrep -f -- "--rank $rank .*$WORK" | head -n 1 || true)"
    if [ -n "$pid" ]; then
      kill -9 "$pid" && killed=$((killed + 1)) && last="$step"
      echo "soak: kill $killed: rank $rank (pid $pid) after checkpoint step $step"
    fi
  fi
  sleep 0.5
done
while [ ! -f "$WORK/soak.rc" ]; do sleep 1; done
rc="$(cat "$WORK/soak.rc")"
restarts="$(grep -c 'restart [0-9]* of' "$WORK/soak.log" || true)"
echo "soak: job exit code $rc, $restarts restarts for $killed kills"
[ "$rc" = 0 ] || { tail -30 "$WORK/soak.log"; exit 1; }
if cmp -s "$WORK/reference/dit.safetensors" "$WORK/soak/dit.safetensors"; then
  echo "soak: PASS: $killed kills recovered; final weights byte-identical to the uninterrupted run"
else
  echo "soak: FAIL: final weights differ from the uninterrupted run"; exit 1
fi
