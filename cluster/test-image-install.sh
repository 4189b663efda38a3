#!/usr/bin/env bash
# Tests the container image's install steps without a container daemon: debootstraps a Debian bookworm root,
# runs cluster/install-runtime.sh in it (the script both Dockerfiles run), puts in `sora` published
# self-contained with the shim (built against the same Debian libtorch packages), and then, as the image's
# non-root user (uid 10001), runs `sora info` and a 20-step training (VAE and DiT) with sampling.
#
# Slow (downloads ~300 MB of Debian packages on the first run) and needs root: not part of the test suite.
#   cluster/test-image-install.sh [--fresh]     # --fresh: debootstrap again instead of reusing the root
# Environment: SORA_IMAGE_TEST_DIR (default /var/tmp/sora-image-test), SORA_DEBIAN_MIRROR (default deb.debian.org).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
WORK="${SORA_IMAGE_TEST_DIR:-/var/tmp/sora-image-test}"
TARGET="$WORK/bookworm"
MIRROR="${SORA_DEBIAN_MIRROR:-http://deb.debian.org/debian}"
say() { echo "test-image-install: $*" >&2; }
die() { echo "test-image-install: FAILED: $*" >&2; exit 1; }
elapsed() { echo "$(( $(date +%s) - $1 )) s"; }

[ "$(id -u)" = "0" ] || die "needs root (debootstrap, chroot, mounts)"
[ "${1:-}" = "--fresh" ] && rm -rf "$TARGET"
mkdir -p "$WORK"

if ! command -v debootstrap >/dev/null; then
  say "installing debootstrap (apt)"
  DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 install -y -qq --no-install-recommends debootstrap >/dev/null \
    || { apt-get -o DPkg::Lock::Timeout=300 update -qq && DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 install -y -qq --no-install-recommends debootstrap >/dev/null; } \
    || die "cannot install debootstrap"
fi

MOUNTS=()
cleanup() {
  local m
  for ((i = ${#MOUNTS[@]} - 1; i >= 0; i--)); do
    m="${MOUNTS[$i]}"
    umount -l "$m" 2>/dev/null || true
  done
}
trap cleanup EXIT

if [ ! -f "$TARGET/.sora-debootstrap-done" ]; then
  rm -rf "$TARGET"
  start=$(date +%s)
  say "debootstrap --variant=minbase bookworm $TARGET $MIRROR"
  debootstrap --variant=minbase bookworm "$TARGET" "$MIRROR" >"$WORK/debootstrap.log" 2>&1 \
    || { tail -n 20 "$WORK/debootstrap.log" >&2; die "debootstrap failed (log: $WORK/debootstrap.log)"; }
  # The same suites as the debian:bookworm-slim base image.
  rm -f "$TARGET/etc/apt/sources.list"
  cat >"$TARGET/etc/apt/sources.list.d/debian.sources" <<SOURCES
Types: deb
URIs: $MIRROR
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: ${MIRROR%/debian}/debian-security
Suites: bookworm-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SOURCES
  touch "$TARGET/.sora-debootstrap-done"
  say "debootstrap took $(elapsed "$start")"
fi

for fs in proc sys dev dev/pts; do
  mkdir -p "$TARGET/$fs"
  if ! mountpoint -q "$TARGET/$fs"; then
    mount --bind "/$fs" "$TARGET/$fs"
    MOUNTS+=("$TARGET/$fs")
  fi
done
cp /etc/resolv.conf "$TARGET/etc/resolv.conf"

start=$(date +%s)
say "running cluster/install-runtime.sh --variant cpu in the bookworm root"
install -m 0755 "$ROOT/cluster/install-runtime.sh" "$TARGET/tmp/install-runtime.sh"
chroot "$TARGET" /tmp/install-runtime.sh --variant cpu || die "install-runtime.sh failed in the bookworm root"
say "install-runtime.sh took $(elapsed "$start")"

start=$(date +%s)
say "publishing sora self-contained (the image's publish stage)"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
# The shim the .NET build copies: built by CMake against the host's Debian libtorch, the image's packages.
[ -f "$ROOT/artifacts/native/build/libsora_torch.so" ] || die "no artifacts/native/build/libsora_torch.so: run scripts/bootstrap.sh first"
rm -rf "$WORK/app"
dotnet publish "$ROOT/src/Sora.Cli" -c Release -r linux-x64 --self-contained -o "$WORK/app" -nologo -clp:ErrorsOnly -v:q >"$WORK/publish.log" 2>&1 \
  || { tail -n 20 "$WORK/publish.log" >&2; die "dotnet publish failed (log: $WORK/publish.log)"; }
[ -f "$WORK/app/libsora_torch.so" ] || die "the published app has no libsora_torch.so"
rm -rf "$TARGET/opt/sora"
cp -a "$WORK/app" "$TARGET/opt/sora"
ln -sfn /opt/sora/sora "$TARGET/usr/local/bin/sora"
say "publish took $(elapsed "$start")"

# As the image runs: user 10001, working directory /work, the image's environment, nothing from the host's.
run_as_sora() {
  chroot --userspec=10001:10001 "$TARGET" /usr/bin/env -i HOME=/work PATH=/usr/local/bin:/usr/bin:/bin \
    OMP_WAIT_POLICY=PASSIVE DOTNET_CLI_TELEMETRY_OPTOUT=1 /bin/sh -c "cd /work && $1"
}

say "sora info"
run_as_sora "sora info" | tee "$WORK/info.txt" || die "sora info failed in the bookworm root"
grep -qi "openblas" "$WORK/info.txt" || die "sora info does not report OpenBLAS as the BLAS"

cat >"$TARGET/work/image-test.yaml" <<'JOB'
# 20 training steps of the VAE and of the DiT on generated clips, then a short sample: the image's smoke job.
name: image-test
seed: 0
output: runs/image-test
data:
  samples: 64
  held_out: 8
  sizes: [[32, 32]]
  lengths: [8]
vae:
  preset: patch
  train:
    steps: 20
    batch_size: 4
    warmup_steps: 2
model:
  preset: tiny
train:
  steps: 20
  batch_size: 4
  warmup_steps: 2
sampling:
  steps: 2
  frames: 8
  prompts:
    - a red circle moves right on a black background
JOB
chown 10001:10001 "$TARGET/work/image-test.yaml"
rm -rf "$TARGET/work/runs/image-test"
start=$(date +%s)
say "sora train image-test.yaml (20 VAE steps, 20 DiT steps)"
run_as_sora "sora train image-test.yaml" >"$WORK/train.log" 2>&1 || { tail -n 30 "$WORK/train.log" >&2; die "training failed in the bookworm root (log: $WORK/train.log)"; }
tail -n 5 "$WORK/train.log" >&2
for f in dit.safetensors vae.safetensors summary.json samples/final/00-red-circle-moves-right-black-background.mp4; do
  [ -s "$TARGET/work/runs/image-test/$f" ] || die "the run wrote no runs/image-test/$f"
done
grep -q "dit step 20/20" "$WORK/train.log" || die "the DiT did not reach step 20 (log: $WORK/train.log)"
say "training took $(elapsed "$start")"
say "OK: install-runtime.sh, sora info and a 20-step training pass in a debootstrapped bookworm root"
