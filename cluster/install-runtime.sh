#!/bin/sh
# The one install script of the container images: cluster/Dockerfile (CPU) and cluster/Dockerfile.cuda run it,
# and cluster/test-image-install.sh runs it in a debootstrapped Debian bookworm root, so the images' install
# steps are tested without a container daemon.
#
#   install-runtime.sh [--variant cpu|cuda] [--build-tools]
#
#   --variant cpu    Debian's libtorch 1.13 (+ Gloo), OpenBLAS (made libblas.so.3), ffmpeg.   (default)
#   --variant cuda   PyTorch's libtorch with CUDA and NCCL from its pip wheel, in a venv at $SORA_TORCH_VENV
#                    (default /opt/torch; libtorch itself at $SORA_TORCH_VENV/libtorch), as docs/native-boundary.md
#                    describes; ffmpeg from apt.
#   --build-tools    also what building the native shim needs (headers, CMake, g++): the build stages.
#
# Both variants add the libraries a self-contained .NET app needs (OpenSSL, zlib; no ICU: the app runs with
# invariant globalization), CA certificates for blob storage, and the non-root user `sora` (uid/gid 10001,
# home /work) that the Helm chart runs as. Runs as root; idempotent. POSIX sh: the target may lack bash.
set -eu

VARIANT=cpu
BUILD_TOOLS=0
while [ $# -gt 0 ]; do
  case "$1" in
    --variant) VARIANT="${2:?--variant needs cpu or cuda}"; shift 2 ;;
    --variant=*) VARIANT="${1#--variant=}"; shift ;;
    --build-tools) BUILD_TOOLS=1; shift ;;
    *) echo "install-runtime: unknown argument '$1' (expected --variant cpu|cuda, --build-tools)" >&2; exit 2 ;;
  esac
done

TORCH_VENV="${SORA_TORCH_VENV:-/opt/torch}"
TORCH_VERSION="${SORA_TORCH_VERSION:-2.11.0}"
TORCH_INDEX="${SORA_TORCH_INDEX_URL:-https://download.pytorch.org/whl/cu130}"
SORA_UID=10001

say() { echo "install-runtime: $*" >&2; }
die() { echo "install-runtime: ERROR: $*" >&2; exit 1; }

[ "$(id -u)" = "0" ] || die "must run as root (it installs packages and adds the sora user)"

COMMON="ca-certificates libssl3 zlib1g libstdc++6 libgcc-s1 ffmpeg"
case "$VARIANT" in
  cpu)
    PACKAGES="$COMMON libtorch1.13 libgloo0 libopenblas0-pthread"
    [ "$BUILD_TOOLS" = "1" ] && PACKAGES="$PACKAGES libtorch-dev libgloo-dev cmake g++ make"
    ;;
  cuda)
    PACKAGES="$COMMON libgomp1 python3 python3-venv"
    # The CUDA toolkit (nvcc, headers) comes from the build stage's nvidia/cuda devel base image.
    [ "$BUILD_TOOLS" = "1" ] && PACKAGES="$PACKAGES cmake g++ make"
    ;;
  *) die "--variant must be cpu or cuda (got '$VARIANT')" ;;
esac

say "installing $PACKAGES"
export DEBIAN_FRONTEND=noninteractive
attempt=1
# shellcheck disable=SC2086 # $PACKAGES is a word list (POSIX sh has no arrays): one word per package
until apt-get -o DPkg::Lock::Timeout=300 update -qq && apt-get -o DPkg::Lock::Timeout=300 install -y -qq --no-install-recommends $PACKAGES >/dev/null; do
  [ "$attempt" -ge 3 ] && die "apt-get install failed three times"
  say "apt-get failed (attempt $attempt), retrying in $((attempt * 10)) s"
  sleep $((attempt * 10)); attempt=$((attempt + 1))
done

if [ "$VARIANT" = "cpu" ]; then
  # libtorch links libblas.so.3; with the reference BLAS its matrix products are ~25x slower.
  OPENBLAS=/usr/lib/x86_64-linux-gnu/openblas-pthread/libblas.so.3
  update-alternatives --set libblas.so.3-x86_64-linux-gnu "$OPENBLAS" >/dev/null
  update-alternatives --set liblapack.so.3-x86_64-linux-gnu /usr/lib/x86_64-linux-gnu/openblas-pthread/liblapack.so.3 >/dev/null
  case "$(readlink -f /usr/lib/x86_64-linux-gnu/libblas.so.3)" in
    *openblas*) ;;
    *) die "libblas.so.3 does not resolve to OpenBLAS" ;;
  esac
else
  if [ ! -x "$TORCH_VENV/bin/python" ] || ! "$TORCH_VENV/bin/python" -c "import torch, sys; sys.exit(torch.__version__.split('+')[0] != '$TORCH_VERSION')" 2>/dev/null; then
    say "installing torch $TORCH_VERSION from $TORCH_INDEX into $TORCH_VENV"
    python3 -m venv "$TORCH_VENV"
    "$TORCH_VENV/bin/pip" install --no-cache-dir --quiet --index-url "$TORCH_INDEX" "torch==$TORCH_VERSION"
  fi
  "$TORCH_VENV/bin/python" -c "import torch; assert torch.version.cuda, 'torch has no CUDA'; print('install-runtime: torch', torch.__version__, 'CUDA', torch.version.cuda)" >&2
  # A path to libtorch (include/, lib/) that does not name the Python version: the shim is built against it and
  # finds it at run time through it, whichever Python the build and runtime stages have.
  ln -sfn "$("$TORCH_VENV/bin/python" -c 'import torch, os; print(os.path.dirname(torch.__file__))')" "$TORCH_VENV/libtorch"
fi

if ! getent group sora >/dev/null; then
  groupadd --gid "$SORA_UID" sora
fi
if ! getent passwd sora >/dev/null; then
  useradd --uid "$SORA_UID" --gid "$SORA_UID" --home-dir /work --no-create-home --shell /usr/sbin/nologin sora
fi
mkdir -p /work
chown "$SORA_UID:$SORA_UID" /work

apt-get clean
rm -rf /var/lib/apt/lists/*
say "done ($VARIANT$([ "$BUILD_TOOLS" = "1" ] && echo ', with build tools'))"
