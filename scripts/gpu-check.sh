#!/usr/bin/env bash
# The GPU check (issue 25): everything the CPU machines cannot prove, in one run on one GPU, in under 8 minutes on an H100.
#
#   scripts/gpu-check.sh prepare [BUNDLE]   on a machine with the .NET SDK: builds what travels to the GPU machine
#   scripts/gpu-check.sh run [BUNDLE]       on the GPU machine (CUDA, PyTorch with its libtorch, NCCL, CMake; no .NET)
#   scripts/gpu-check.sh rehearse [BUNDLE]  here, on the CPU: the same steps with device cpu, small sizes and this
#                                           machine's shim, to check the script itself (the CUDA tests report skipped)
#
# BUNDLE defaults to artifacts/gpu-check. `prepare` leaves there, and packed in BUNDLE.tar.xz (carry either):
#   dotnet/   the .NET host and shared runtimes (Microsoft.NETCore.App, Microsoft.AspNetCore.App) of this SDK
#   sora/     `sora`, published for that runtime (run through its apphost with DOTNET_ROOT=BUNDLE/dotnet)
#   tests/    the test assemblies that hold the [CudaFact] classes, as built
#   xunit/    xunit's console runner 2.4.1 (it runs these xunit 2.9 assemblies; restored from NuGet)
# `run` (from the repository root, whose src/Sora.Torch.Native it builds):
#   1. builds the shim against PyTorch's libtorch (docs/native-boundary.md, "Building against a CUDA libtorch");
#   2. runs the CUDA test classes;
#   3. trains a small moving-shapes job with device: cuda (a few hundred VAE and DiT steps, checkpoints every 100);
#   4. runs `sora eval` on it on the GPU;
#   5. runs `sora bench step --device cuda --config dit-b` in fp32 and in bf16;
#   6. resumes the job's DiT checkpoint on the CPU (`--device cpu --resume 200`) and compares the final held-out loss;
# and prints one summary table. Logs go to BUNDLE/out/logs. Exit status: 0 when every step passed.
#
# Settings (environment): SORA_PYTHON (the Python whose torch to build against; default python3), SORA_GPU_CHECK_OUT
# (where runs and logs go; default BUNDLE/out), SORA_GPU_CHECK_SECONDS (the whole check's budget, default 470: steps
# that would start after it are skipped, so the table always prints in time).
set -uo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
MODE="${1:-}"
BUNDLE="$(realpath -m "${2:-$ROOT/artifacts/gpu-check}")"
TEST_CLASSES=(
  "Sora.Torch.Tests:Sora.Torch.Tests.Cuda.CudaTensorTests"
  "Sora.Torch.Tests:Sora.Torch.Tests.Cuda.NcclProcessGroupTests"
  "Sora.Model.Tests:Sora.Model.Tests.Dit.CudaVideoDiTTests"
  "Sora.Distributed.Tests:Sora.Distributed.Tests.Parallel.CudaDataParallelTests"
  "Sora.Distributed.Tests:Sora.Distributed.Tests.Training.CudaTrainerTests"
  "Sora.Distributed.Tests:Sora.Distributed.Tests.Pipelines.CudaTrainingJobTests"
  "Sora.Distributed.Tests:Sora.Distributed.Tests.Devices.DevicePlacementTests"
)

say() { echo "gpu-check: $*" >&2; }
die() { echo "gpu-check: ERROR: $*" >&2; exit 1; }

usage() {
  sed -n '2,9p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
  exit 2
}

# ---------------------------------------------------------------------------------------------------------------------
# prepare: what travels (no GPU needed)
# ---------------------------------------------------------------------------------------------------------------------
prepare() {
  command -v dotnet >/dev/null || die "prepare needs the .NET SDK (run it where ./scripts/bootstrap.sh has run)"
  local dotnet_home runner packages projects=() project
  dotnet_home="$(dirname "$(readlink -f "$(command -v dotnet)")")"
  [ -d "$dotnet_home/shared/Microsoft.NETCore.App" ] || die "no shared runtime next to $(command -v dotnet)"
  rm -rf "$BUNDLE" "$BUNDLE.tar.xz"
  mkdir -p "$BUNDLE/dotnet/shared" "$BUNDLE/tests" "$BUNDLE/xunit"

  say "building the CLI and the test assemblies (Release)"
  for project in $(printf '%s\n' "${TEST_CLASSES[@]}" | cut -d: -f1 | sort -u); do
    projects+=("$ROOT/tests/$project/$project.csproj")
  done
  for project in "$ROOT/src/Sora.Cli/Sora.Cli.csproj" "${projects[@]}"; do
    dotnet build "$project" -c Release -nologo -clp:ErrorsOnly -v:q || die "building $project failed"
  done
  dotnet publish "$ROOT/src/Sora.Cli/Sora.Cli.csproj" -c Release --no-build --no-self-contained -o "$BUNDLE/sora" -nologo -v:q \
    || die "publishing sora failed"
  for project in "${projects[@]}"; do
    local name
    name="$(basename "$project" .csproj)"
    cp -a "$ROOT/artifacts/bin/$name/release" "$BUNDLE/tests/$name"
  done

  say "copying the .NET runtime ($dotnet_home)"
  cp -a "$dotnet_home/dotnet" "$dotnet_home/host" "$BUNDLE/dotnet/"
  cp -a "$dotnet_home/shared/Microsoft.NETCore.App" "$dotnet_home/shared/Microsoft.AspNetCore.App" "$BUNDLE/dotnet/shared/"

  say "restoring xunit's console runner 2.4.1"
  runner="$(mktemp -d)"
  cat >"$runner/runner.csproj" <<'EOF'
<Project Sdk="Microsoft.NET.Sdk">
  <PropertyGroup><TargetFramework>net10.0</TargetFramework></PropertyGroup>
  <ItemGroup><PackageDownload Include="xunit.runner.console" Version="[2.4.1]" /></ItemGroup>
</Project>
EOF
  (cd "$runner" && dotnet restore -v q) || die "restoring xunit.runner.console 2.4.1 failed"
  rm -rf "$runner"
  packages="${NUGET_PACKAGES:-$HOME/.nuget/packages}"
  cp -a "$packages/xunit.runner.console/2.4.1/tools/netcoreapp2.0/." "$BUNDLE/xunit/"

  tar -C "$(dirname "$BUNDLE")" -cJf "$BUNDLE.tar.xz" "$(basename "$BUNDLE")"
  say "bundle: $BUNDLE ($(du -sh "$BUNDLE" | cut -f1)), packed: $BUNDLE.tar.xz ($(du -h "$BUNDLE.tar.xz" | cut -f1))"
  say "on the GPU machine, from the repository root: scripts/gpu-check.sh run $BUNDLE"
}

# ---------------------------------------------------------------------------------------------------------------------
# run / rehearse: the checks and the summary table
# ---------------------------------------------------------------------------------------------------------------------
NAMES=()
STATUSES=()
SECONDS_TAKEN=()
DETAILS=()
STEP_DETAIL=""

# record NAME STATUS SECONDS DETAIL
record() {
  NAMES+=("$1")
  STATUSES+=("$2")
  SECONDS_TAKEN+=("$3")
  DETAILS+=("$4")
  say "$2 $1 (${3} s): $4"
}

# step NAME TIMEOUT_SECONDS FUNCTION: runs FUNCTION with a deadline (its own, and what is left of the whole check's
# budget), its output in LOGS/NAME.log; FUNCTION writes its one-line detail to the file named by its argument and returns
# non-zero on failure. A step that does not run at all (a prerequisite failed, or no time is left) is SKIP.
step() {
  local name="$1" limit="$2" fn="$3" log status start left
  log="$LOGS/$(echo "$name" | tr -c 'A-Za-z0-9.\n-' '_').log"
  STEP_DETAIL=""
  start=$(date +%s)
  # A rehearsal runs the GPU's work on a CPU: four times the time.
  [ "$REHEARSAL" = 1 ] && limit=$((limit * 4))
  left=$((DEADLINE - start))
  if [ "$left" -lt 20 ]; then
    skip "$name" "no time left of the ${BUDGET} s budget (SORA_GPU_CHECK_SECONDS)"
    return 1
  fi
  [ "$left" -lt "$limit" ] && limit="$left"
  say "$name (at most $limit s) ..."
  # The function runs in a subshell under timeout; it hands its detail back through a file.
  rm -f "$LOGS/$fn.detail"
  if timeout --kill-after=10 "$limit" bash -c "set -uo pipefail; $(declare -f); $(declare -p ROOT BUNDLE OUT LOGS DEVICE REHEARSAL SORA DOTNET XUNIT JOB RUN PYTHON EVERY TEST_CLASSES); \"$fn\" \"$LOGS/$fn.detail\"" >"$log" 2>&1; then
    status=PASS
  else
    case $? in
      124 | 137) STEP_DETAIL="timed out after ${limit} s; " ;;
    esac
    status=FAIL
  fi
  STEP_DETAIL+="$(cat "$LOGS/$fn.detail" 2>/dev/null)"
  [ "$status" = FAIL ] && [ -z "$STEP_DETAIL" ] && STEP_DETAIL="see $log"
  record "$name" "$status" "$(($(date +%s) - start))" "$STEP_DETAIL"
  [ "$status" = PASS ]
}

skip() { record "$1" SKIP 0 "$2"; }

# json FILE EXPRESSION: a value from a JSON file, EXPRESSION in Python over `d` (the parsed file).
json() {
  "$PYTHON" -c 'import json, sys; d = json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$1" "$2"
}

# --- the steps (each writes its one-line detail to the file named by $1) ---

build_shim() {
  local detail="$1" torch_root
  torch_root="$("$PYTHON" -c 'import torch, os; print(os.path.dirname(torch.__file__))')" || { echo "no torch in $PYTHON" >"$detail"; return 1; }
  "$PYTHON" -c 'import torch; assert torch.cuda.is_available(), "torch sees no GPU"; print("torch", torch.__version__, "CUDA", torch.version.cuda)'
  rm -rf "$OUT/native"
  cmake -S "$ROOT/src/Sora.Torch.Native" -B "$OUT/native" -DCMAKE_BUILD_TYPE=Release -DSORA_TORCH_ROOT="$torch_root" || { echo "cmake configure failed" >"$detail"; return 1; }
  cmake --build "$OUT/native" --parallel "$(nproc)" || { echo "compile failed" >"$detail"; return 1; }
  grep -E 'SORA_WITH_(CUDA|NCCL)' "$OUT/native/CMakeCache.txt" || true
  SORA_TORCH_NATIVE="$OUT/native/libsora_torch.so" "$SORA" info | tee "$OUT/info.txt"
  grep -E 'CUDA compiled in.*yes' "$OUT/info.txt" >/dev/null || { echo "sora info does not say CUDA compiled in: yes" >"$detail"; return 1; }
  echo "torch $("$PYTHON" -c 'import torch; print(torch.__version__)'), $(grep -oE 'CUDA devices[^0-9]*[0-9]+' "$OUT/info.txt" | grep -oE '[0-9]+$') device(s) visible" >"$detail"
}

cuda_tests() {
  local detail="$1" assembly class passed=0 failed=0 skipped=0 args status=0 xml
  for assembly in $(printf '%s\n' "${TEST_CLASSES[@]}" | cut -d: -f1 | sort -u); do
    args=()
    for class in $(printf '%s\n' "${TEST_CLASSES[@]}" | grep "^$assembly:" | cut -d: -f2); do
      args+=(-class "$class")
    done
    xml="$OUT/tests-$assembly.xml"
    rm -f "$xml"
    (cd "$BUNDLE/tests/$assembly" && "$DOTNET" "$XUNIT" "$assembly.dll" "${args[@]}" -xml "$xml" -parallel none -noshadow) || status=1
    [ -f "$xml" ] || { echo "$assembly: the runner wrote no results" >"$detail"; return 1; }
    read -r p f s < <("$PYTHON" -c '
import sys, xml.etree.ElementTree as E
a = E.parse(sys.argv[1]).getroot().find("assembly")
print(a.get("passed"), a.get("failed"), a.get("skipped"))' "$xml")
    passed=$((passed + p)); failed=$((failed + f)); skipped=$((skipped + s))
  done
  echo "passed $passed, failed $failed, skipped $skipped (${#TEST_CLASSES[@]} classes)" >"$detail"
  [ "$status" -eq 0 ] && [ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
}

train_job() {
  local detail="$1"
  rm -rf "$RUN"
  # One process on cuda:0 whatever the machine has (the CPU resume below compares with it).
  "$SORA" train "$JOB" --output "$RUN" --nproc-per-node 1 --checkpoint-every "$EVERY" --keep-last 0 || { echo "sora train failed" >"$detail"; return 1; }
  json "$RUN/summary.json" '"VAE %d + DiT %d steps on %s in %s; DiT held-out %.4f -> %.4f" % (d["VaeSteps"], d["DiTSteps"], "'"$DEVICE"'", d["Elapsed"].split(".")[0], d["DiTHeldOutLoss"][0], d["DiTHeldOutLoss"][-1])' >"$detail"
}

evaluate() {
  local detail="$1"
  "$SORA" eval --run "$RUN" --device "$DEVICE" --prompts 24 || { echo "sora eval failed" >"$detail"; return 1; }
  json "$RUN/eval.json" '"24 prompts: background %.0f%%, colour %.0f%%, direction %.0f%%, one object %.0f%%, shape %.0f%%" % tuple(100 * d[k] for k in ("BackgroundAccuracy", "ColorAccuracy", "DirectionAccuracy", "OneObjectAccuracy", "ShapeAccuracy"))' >"$detail"
}

bench() {
  local detail="$1" precision="$2" report="$OUT/bench-$2.json" config=dit-b batch=32 steps=5
  [ "$REHEARSAL" = 1 ] && { config=bench; batch=4; steps=1; }
  "$SORA" bench step --device "$DEVICE" --config "$config" --batch "$batch" --steps "$steps" --mixed-precision "$precision" --json "$report" \
    || { echo "sora bench step failed" >"$detail"; return 1; }
  json "$report" '"%s batch %d: %.0f ms/step, %.1f samples/s, MFU %.1f%% of the %s GEMM peak %.1f TFLOP/s" % ("'"$config"'", d["Batch"], 1000 * d["StepSeconds"], d["Batch"] / d["StepSeconds"], 100 * d["AchievedGflops"] / d["PeakGflops"], "'"$precision"'".replace("none", "fp32"), d["PeakGflops"] / 1000)' >"$detail"
}
bench_fp32() { bench "$1" none; }
bench_bf16() { bench "$1" bf16; }

cuda_to_cpu() {
  local detail="$1" resumed="$OUT/run-resumed-on-cpu" gpu cpu at=$((2 * EVERY))
  rm -rf "$resumed"
  cp -a "$RUN" "$resumed"
  rm -f "$resumed/summary.json"
  # The copy keeps the VAE and the checkpoints: the DiT resumes from step $at of the device's run, on the CPU.
  "$SORA" train "$JOB" --device cpu --output "$resumed" --nproc-per-node 1 --resume "$at" || { echo "resuming on the CPU failed" >"$detail"; return 1; }
  gpu="$(json "$RUN/summary.json" 'd["DiTHeldOutLoss"][-1]')"
  cpu="$(json "$resumed/summary.json" 'd["DiTHeldOutLoss"][-1]')"
  "$PYTHON" -c '
import sys
gpu, cpu = float(sys.argv[1]), float(sys.argv[2])
rel = abs(cpu - gpu) / gpu
at, end = int(sys.argv[4]), int(sys.argv[5])
print("step %d written on %s, steps %d-%d on the CPU: held-out %.4f (%s all the way: %.4f, %.2f%% apart)" % (at, sys.argv[3], at + 1, end, cpu, sys.argv[3], gpu, 100 * rel))
sys.exit(0 if rel <= 0.02 else 1)' "$gpu" "$cpu" "$DEVICE" "$at" "$((3 * EVERY))" >"$detail"
}

write_job() {
  local steps="$1" samples="$2" prompts="[]"
  # Samples are written with ffmpeg; without it the job samples nothing (sora eval needs none).
  if command -v ffmpeg >/dev/null; then
    prompts=$'\n    - a red circle moves right on a black background'
  fi
  cat >"$JOB" <<EOF
# Written by scripts/gpu-check.sh: the tiny CPU demo's models on generated clips, a few hundred steps.
name: gpu-check
seed: 0
device: $DEVICE
output: $RUN
data:
  source: synthetic
  samples: $samples
  held_out: 32
  sizes: [[32, 32]]
  lengths: [8]
vae:
  preset: patch
  temporal_downsample: 8
  latent_channels: 32
  train:
    steps: $steps
    batch_size: 8
    lr: 2.0e-3
    warmup_steps: 30
model:
  preset: tiny
  patch: [1, 1, 1]
  train_text_encoder: false
train:
  steps: $steps
  batch_size: 16
  lr: 1.0e-3
  warmup_steps: 30
  ema_decay: 0.99
  eval_every: $EVERY
sampling:
  steps: 10
  prompts: $prompts
EOF
}

print_summary() {
  local gpu="$1" i width=0 total_seconds=0 failures=0
  for i in "${!NAMES[@]}"; do
    [ "${#NAMES[$i]}" -gt "$width" ] && width=${#NAMES[$i]}
    total_seconds=$((total_seconds + SECONDS_TAKEN[i]))
    # A rehearsal skips the shim's build by design; anywhere else a skipped step is a check that did not pass.
    case "${STATUSES[$i]}" in
      PASS) ;;
      SKIP) [ "$REHEARSAL" = 1 ] || failures=$((failures + 1)) ;;
      *) failures=$((failures + 1)) ;;
    esac
  done
  echo
  echo "== gpu-check summary: $gpu =="
  printf "%-${width}s  %-6s  %7s  %s\n" "step" "status" "seconds" "detail"
  for i in "${!NAMES[@]}"; do
    printf "%-${width}s  %-6s  %7s  %s\n" "${NAMES[$i]}" "${STATUSES[$i]}" "${SECONDS_TAKEN[$i]}" "${DETAILS[$i]}"
  done
  printf "%-${width}s  %-6s  %7s  %s\n" "total" "$([ "$failures" -eq 0 ] && echo PASS || echo FAIL)" "$total_seconds" "logs in $LOGS"
  return "$failures"
}

run_checks() {
  REHEARSAL="$1"
  BUDGET="${SORA_GPU_CHECK_SECONDS:-470}"
  DEADLINE=$(($(date +%s) + BUDGET))
  PYTHON="${SORA_PYTHON:-python3}"
  if [ ! -d "$BUNDLE" ] && [ -f "$BUNDLE.tar.xz" ]; then
    say "unpacking $BUNDLE.tar.xz"
    tar -C "$(dirname "$BUNDLE")" -xJf "$BUNDLE.tar.xz" || die "cannot unpack $BUNDLE.tar.xz"
  fi
  if [ ! -x "$BUNDLE/dotnet/dotnet" ] || [ ! -x "$BUNDLE/sora/sora" ] || [ ! -f "$BUNDLE/xunit/xunit.console.dll" ]; then
    die "no bundle at $BUNDLE: run 'scripts/gpu-check.sh prepare' on a machine with the .NET SDK first"
  fi
  OUT="$(realpath -m "${SORA_GPU_CHECK_OUT:-$BUNDLE/out}")"
  LOGS="$OUT/logs"
  rm -rf "$LOGS"
  mkdir -p "$LOGS"
  export DOTNET_ROOT="$BUNDLE/dotnet" DOTNET_ROLL_FORWARD=Major DOTNET_SYSTEM_GLOBALIZATION_INVARIANT=1 DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
  export NO_COLOR=1 TERM=dumb
  DOTNET="$BUNDLE/dotnet/dotnet"
  XUNIT="$BUNDLE/xunit/xunit.console.dll"
  SORA="$BUNDLE/sora/sora"
  JOB="$OUT/gpu-check.yaml"
  RUN="$OUT/run"

  # Checkpoints (and held-out losses) every EVERY steps; the CPU resumes from step 2 x EVERY.
  local gpu steps=300 samples=512
  EVERY=100
  if [ "$REHEARSAL" = 1 ]; then
    DEVICE=cpu
    steps=60
    EVERY=20
    samples=64
    gpu="rehearsal on the CPU ($(nproc) cores), $(uname -n)"
    export SORA_TORCH_NATIVE="$ROOT/artifacts/native/build/libsora_torch.so"
    [ -f "$SORA_TORCH_NATIVE" ] || die "rehearse needs this machine's shim ($SORA_TORCH_NATIVE): run ./scripts/bootstrap.sh"
    skip "build CUDA shim" "rehearsal: this machine's CPU shim"
  else
    DEVICE=cuda
    gpu="$(nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader 2>/dev/null | head -1 || echo "no nvidia-smi")"
    export SORA_TORCH_NATIVE="$OUT/native/libsora_torch.so"
    if ! step "build CUDA shim" 240 build_shim; then
      print_summary "$gpu"
      return 1
    fi
  fi
  write_job "$steps" "$samples"
  say "device $DEVICE; job $JOB; bundle $BUNDLE"

  step "CUDA test classes" 180 cuda_tests
  if step "train (device: $DEVICE, $steps+$steps steps)" 150 train_job; then
    step "sora eval --device $DEVICE" 60 evaluate
    step "$DEVICE checkpoint -> cpu resume" 90 cuda_to_cpu
  else
    skip "sora eval --device $DEVICE" "no trained run"
    skip "$DEVICE checkpoint -> cpu resume" "no trained run"
  fi
  step "bench step fp32" 60 bench_fp32
  step "bench step bf16" 60 bench_bf16
  print_summary "$gpu"
}

case "$MODE" in
  prepare) prepare "$@" ;;
  run) run_checks 0 ;;
  rehearse) run_checks 1 ;;
  *) usage ;;
esac
